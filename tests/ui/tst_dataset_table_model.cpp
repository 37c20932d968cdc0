// Tests DatasetTableModel and DatasetFilterProxy: golden files, columns, search, filters, numeric sort.
#include "ui/datasets/dataset_filter_proxy.h"
#include "ui/datasets/dataset_table_model.h"

#include "tests/test_main.h"
#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <QtTest/QtTest>

using namespace preflab;
using preflab::ui::DatasetFilterProxy;
using preflab::ui::DatasetTableModel;

namespace {

QString dataPath(const QString &relative) {
  return QStringLiteral(PREFLAB_TEST_DATA_DIR "/") + relative;
}

std::shared_ptr<const core::TextPreferenceData> load(const QString &relative, bool skipInvalid = false) {
  core::TextReadOptions options;
  options.skipInvalid = skipInvalid;
  return std::make_shared<core::TextPreferenceData>(
      core::readTextPreferences(dataPath(relative).toStdString(), options));
}

QJsonObject readJson(const QString &path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly))
    return {};
  return QJsonDocument::fromJson(file.readAll()).object();
}

} // namespace

class TestDatasetTableModel : public QObject {
  Q_OBJECT

private:
  DatasetTableModel *m_model = nullptr;
  DatasetFilterProxy *m_proxy = nullptr;

private slots:
  void init() {
    m_model = new DatasetTableModel(this);
    m_proxy = new DatasetFilterProxy(this);
    new QAbstractItemModelTester(m_model, QAbstractItemModelTester::FailureReportingMode::QtTest, m_model);
    m_proxy->setSourceModel(m_model);
    new QAbstractItemModelTester(m_proxy, QAbstractItemModelTester::FailureReportingMode::QtTest, m_proxy);
  }
  void cleanup() {
    delete m_proxy;
    delete m_model;
  }

  // The model shows exactly what core parsed, for every golden case of the reader.
  void goldenFiles_data() {
    QTest::addColumn<QString>("folder");
    for (const char *folder :
         {"trl_standard", "trl_conversational", "hh_rlhf", "ultrafeedback", "rater_fields", "kto_unpaired"})
      QTest::newRow(folder) << QString::fromLatin1(folder);
  }
  void goldenFiles() {
    QFETCH(QString, folder);
    const QJsonObject expected = readJson(dataPath(folder + "/expected.json"));
    QVERIFY2(!expected.isEmpty(), "expected.json missing");
    m_model->setDataset(load(folder + "/input.jsonl"));
    const QJsonArray records = expected.value("records").toArray();
    QCOMPARE(m_model->rowCount(), expected.value("record_count").toInt());
    QCOMPARE(m_model->rowCount(), records.size());
    const bool kto = expected.value("format").toString() == "kto";
    QCOMPARE(m_model->isUnpaired(), kto);
    QCOMPARE(m_model->columnCount(),
             kto ? int(DatasetTableModel::UnpairedColumnCount) : int(DatasetTableModel::PairedColumnCount));
    for (int row = 0; row < records.size(); ++row) {
      const QJsonObject r = records[row].toObject();
      auto cell = [&](int column, int role = Qt::DisplayRole) {
        return m_model->index(row, column).data(role);
      };
      QCOMPARE(cell(DatasetTableModel::Id).toString(), r.value("id").toString());
      QCOMPARE(cell(DatasetTableModel::Id, DatasetTableModel::LineRole).toInt(), r.value("line").toInt());
      QCOMPARE(cell(DatasetTableModel::Prompt, Qt::ToolTipRole).toString(), r.value("prompt").toString());
      QVERIFY(!cell(DatasetTableModel::Prompt).toString().contains('\n'));
      if (kto) {
        QCOMPARE(cell(DatasetTableModel::UCompletion, Qt::ToolTipRole).toString(),
                 r.value("completion").toString());
        QCOMPARE(cell(DatasetTableModel::ULabel, DatasetTableModel::SortRole).toInt(),
                 r.value("label").toBool() ? 1 : 0);
      } else {
        QCOMPARE(cell(DatasetTableModel::Chosen, Qt::ToolTipRole).toString(), r.value("chosen").toString());
        QCOMPARE(cell(DatasetTableModel::Rejected, Qt::ToolTipRole).toString(),
                 r.value("rejected").toString());
        QCOMPARE(cell(DatasetTableModel::LenChosen, DatasetTableModel::SortRole).toDouble(),
                 double(r.value("chosen").toString().toUtf8().size()));
        if (r.contains("rater_fraction"))
          QCOMPARE(cell(DatasetTableModel::RaterFraction, DatasetTableModel::SortRole).toDouble(),
                   r.value("rater_fraction").toDouble());
        else
          QVERIFY(cell(DatasetTableModel::RaterFraction).toString().isEmpty());
      }
    }
  }

  void elidesToOneLine() {
    QCOMPARE(DatasetTableModel::elide("a\nb"), QStringLiteral("a⏎b"));
    const QString cut = DatasetTableModel::elide(QString(300, 'x'), 50);
    QCOMPARE(cut.size(), 50);
    QVERIFY(cut.endsWith(QStringLiteral("…")));
  }

  void search_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("rows");
    QTest::newRow("empty shows all") << "" << 7;
    QTest::newRow("prompt, case-insensitive") << "film" << 2;
    QTest::newRow("chosen text") << "warm" << 2;
    QTest::newRow("rejected text") << "rain all day" << 1;
    QTest::newRow("spans both responses") << "hello there" << 1;
    QTest::newRow("no match") << "zzz" << 0;
  }
  void search() {
    QFETCH(QString, text);
    QFETCH(int, rows);
    m_model->setDataset(load("ui_datasets/pairs_small.jsonl"));
    m_proxy->setSearchText(text);
    QCOMPARE(m_proxy->rowCount(), rows);
  }

  void filters_data() {
    QTest::addColumn<QString>("search");
    QTest::addColumn<double>("raterLow");
    QTest::addColumn<double>("raterHigh");
    QTest::addColumn<int>("lengthOrder");
    QTest::addColumn<int>("rows");
    QTest::newRow("no filter") << "" << 0.0 << 1.0 << 0 << 7;
    QTest::newRow("rater 0.5..1 drops pairs without fraction") << "" << 0.5 << 1.0 << 0 << 4;
    QTest::newRow("rater 0..0.5") << "" << 0.0 << 0.5 << 0 << 2;
    QTest::newRow("chosen longer") << "" << 0.0 << 1.0 << 1 << 3;
    QTest::newRow("chosen shorter") << "" << 0.0 << 1.0 << 2 << 3;
    QTest::newRow("search and chosen longer") << "review" << 0.0 << 1.0 << 1 << 2;
    QTest::newRow("rater 0.7..1 and chosen longer") << "" << 0.7 << 1.0 << 1 << 3;
  }
  void filters() {
    QFETCH(QString, search);
    QFETCH(double, raterLow);
    QFETCH(double, raterHigh);
    QFETCH(int, lengthOrder);
    QFETCH(int, rows);
    m_model->setDataset(load("ui_datasets/pairs_small.jsonl"));
    m_proxy->setSearchText(search);
    m_proxy->setRaterFractionRange(raterLow, raterHigh);
    m_proxy->setLengthOrder(DatasetFilterProxy::LengthOrder(lengthOrder));
    QCOMPARE(m_proxy->rowCount(), rows);
    m_proxy->clearFilters();
    QCOMPARE(m_proxy->rowCount(), 7);
  }

  void labelFilterForKto() {
    m_model->setDataset(load("kto_unpaired/input.jsonl"));
    m_proxy->setLabel(DatasetFilterProxy::Label::Desirable);
    QCOMPARE(m_proxy->rowCount(), 2);
    m_proxy->setLabel(DatasetFilterProxy::Label::Undesirable);
    QCOMPARE(m_proxy->rowCount(), 2);
    QCOMPARE(m_proxy->index(0, DatasetTableModel::ULabel).data().toString(), QStringLiteral("undesirable"));
    m_proxy->setSearchText("bye");
    QCOMPARE(m_proxy->rowCount(), 1);
  }

  void sortsLengthsNumerically_data() {
    QTest::addColumn<int>("column");
    QTest::addColumn<int>("order");
    QTest::newRow("len chosen ascending") << int(DatasetTableModel::LenChosen) << int(Qt::AscendingOrder);
    QTest::newRow("len rejected descending")
        << int(DatasetTableModel::LenRejected) << int(Qt::DescendingOrder);
    QTest::newRow("rater fraction ascending")
        << int(DatasetTableModel::RaterFraction) << int(Qt::AscendingOrder);
  }
  void sortsLengthsNumerically() {
    QFETCH(int, column);
    QFETCH(int, order);
    m_model->setDataset(load("ui_datasets/pairs_small.jsonl"));
    m_proxy->sort(column, Qt::SortOrder(order));
    QList<double> shown;
    for (int row = 0; row < m_proxy->rowCount(); ++row)
      shown << m_proxy->index(row, column).data(DatasetTableModel::SortRole).toDouble();
    QList<double> expected = shown;
    std::sort(expected.begin(), expected.end());
    if (order == Qt::DescendingOrder)
      std::reverse(expected.begin(), expected.end());
    QCOMPARE(shown, expected);
    // Lengths 8 and 13 etc.: a text sort would put "13" before "7".
    QVERIFY(shown.first() != shown.last());
  }

  void skippedLinesStayInData() {
    m_model->setDataset(load("ui_datasets/broken_line3.jsonl", true));
    QCOMPARE(m_model->rowCount(), 3);
    QCOMPARE(m_model->dataset()->skipped.size(), std::size_t(1));
    QCOMPARE(m_model->dataset()->skipped.front().line, std::int64_t(3));
    m_model->setDataset(nullptr);
    QCOMPARE(m_model->rowCount(), 0);
  }
};

PREFLAB_TEST_MAIN(TestDatasetTableModel)
#include "tst_dataset_table_model.moc"
