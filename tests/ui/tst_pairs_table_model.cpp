// Tests PairsFile, PairsTableModel and PairsFilterProxy: parsing, numeric sort, outcome filters, text join.
#include "core/data/text_preference_reader.h"
#include "core/io/input_error.h"
#include "ui/pairs/pairs_file.h"
#include "ui/pairs/pairs_filter_proxy.h"
#include "ui/pairs/pairs_table_model.h"

#include "tests/test_main.h"
#include <QAbstractItemModelTester>

#include <QtTest/QtTest>

using namespace preflab;
using preflab::ui::PairsFile;
using preflab::ui::PairsFilterProxy;
using preflab::ui::PairsTableModel;

namespace {
QString dataPath(const QString &relative) {
  return QStringLiteral(PREFLAB_TEST_DATA_DIR "/") + relative;
}
} // namespace

class TestPairsTableModel : public QObject {
  Q_OBJECT

private:
  PairsTableModel *m_model = nullptr;
  PairsFilterProxy *m_proxy = nullptr;

  QStringList shownIds() const {
    QStringList ids;
    for (int row = 0; row < m_proxy->rowCount(); ++row)
      ids << m_proxy->index(row, PairsTableModel::Id).data().toString();
    return ids;
  }

private slots:
  void init() {
    m_model = new PairsTableModel(this);
    m_proxy = new PairsFilterProxy(this);
    new QAbstractItemModelTester(m_model, QAbstractItemModelTester::FailureReportingMode::QtTest, m_model);
    m_proxy->setSourceModel(m_model);
    new QAbstractItemModelTester(m_proxy, QAbstractItemModelTester::FailureReportingMode::QtTest, m_proxy);
    m_model->setPairs(PairsFile::read(dataPath("ui_pairs/pairs.jsonl")));
  }
  void cleanup() {
    delete m_proxy;
    delete m_model;
  }

  void parsesEveryKey() {
    const PairsFile &file = m_model->pairsFile();
    QCOMPARE(file.records.size(), std::size_t(6));
    QCOMPARE(file.blankLines, 1);
    const auto &p10 = file.records[3];
    QCOMPARE(p10.id, QStringLiteral("p10"));
    QCOMPARE(p10.line, 4);
    QCOMPARE(*p10.implicitRewardMargin, -1.0);
    QCOMPARE(*p10.c, -0.5);
    QCOMPARE(*p10.refRankedCorrectly, true);
    QCOMPARE(*p10.rankedCorrectly, false);
    QCOMPARE(p10.idealizedCorrect.size(), std::size_t(2));
    QVERIFY(!p10.hasTexts);
    QCOMPARE(file.records[4].line, 6); // after the blank line
    QVERIFY(!file.records[4].raterFraction);
  }

  void readsTheSentimentRunFormat() {
    // A real line of eval/pairs.jsonl as core writes it (keys sorted, β keys as dumped doubles).
    QTemporaryDir dir;
    QFile f(dir.filePath("pairs.jsonl"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(
        R"({"c":8.49,"difficulty":0.356,"id":"p1081","idealized_correct":{"0.01":true,"0.1":true,"1.0":false,)"
        R"("10.0":false,"5.0":false},"implicit_reward_margin":0.602,"logp_margin":-2.47,"ranked_correctly":false,)"
        R"("ranked_correctly_len_norm":true,"rater_fraction":1.0,"ref_ranked_correctly":false,)"
        R"("prompt":"the movie","chosen":" was great.","rejected":" was bad."})"
        "\n");
    f.close();
    m_model->setPairs(PairsFile::read(f.fileName()));
    m_model->setBeta(0.10000000000000001);
    QCOMPARE(m_model->rowCount(), 1);
    QCOMPARE(m_model->index(0, PairsTableModel::Idealized).data(PairsTableModel::SortRole).toInt(), 1);
    QVERIFY(m_model->record(0).hasTexts);
    QCOMPARE(m_model->record(0).chosen, QStringLiteral(" was great."));
    QCOMPARE(m_model->recordsWithTexts(), 1);
  }

  void sortsNumerically_data() {
    QTest::addColumn<int>("column");
    QTest::addColumn<int>("order");
    QTest::addColumn<QStringList>("ids");
    QTest::newRow("reward margin ascending")
        << int(PairsTableModel::ImplicitRewardMargin) << int(Qt::AscendingOrder)
        << QStringList{"p10", "p2", "p4", "6", "p1", "p3"};
    QTest::newRow("logp margin ascending (10 after 2)")
        << int(PairsTableModel::LogpMargin) << int(Qt::AscendingOrder)
        << QStringList{"p2", "p10", "p3", "6", "p1", "p4"};
    QTest::newRow("difficulty descending") << int(PairsTableModel::Difficulty) << int(Qt::DescendingOrder)
                                           << QStringList{"p4", "p1", "p10", "6", "p3", "p2"};
    QTest::newRow("c ascending") << int(PairsTableModel::C) << int(Qt::AscendingOrder)
                                 << QStringList{"p4", "p1", "p10", "6", "p3", "p2"};
    QTest::newRow("id natural order") << int(PairsTableModel::Id) << int(Qt::AscendingOrder)
                                      << QStringList{"6", "p1", "p2", "p3", "p4", "p10"};
    QTest::newRow("rater fraction ascending, missing last")
        << int(PairsTableModel::RaterFraction) << int(Qt::AscendingOrder)
        << QStringList{"p10", "p2", "p1", "6", "p3", "p4"};
    QTest::newRow("rater fraction descending, missing last")
        << int(PairsTableModel::RaterFraction) << int(Qt::DescendingOrder)
        << QStringList{"p3", "6", "p1", "p2", "p10", "p4"};
  }
  void sortsNumerically() {
    QFETCH(int, column);
    QFETCH(int, order);
    QFETCH(QStringList, ids);
    m_proxy->sort(column, Qt::SortOrder(order));
    QCOMPARE(shownIds(), ids);
  }

  void outcomeFilters_data() {
    QTest::addColumn<int>("outcome");
    QTest::addColumn<QStringList>("ids");
    QTest::newRow("all") << int(PairsFilterProxy::Outcome::All)
                         << QStringList{"p1", "p2", "p3", "p10", "p4", "6"};
    QTest::newRow("flipped either way")
        << int(PairsFilterProxy::Outcome::Flipped) << QStringList{"p3", "p10", "6"};
    QTest::newRow("wrong to right") << int(PairsFilterProxy::Outcome::FlippedToCorrect)
                                    << QStringList{"p3", "6"};
    QTest::newRow("right to wrong") << int(PairsFilterProxy::Outcome::FlippedToWrong) << QStringList{"p10"};
    QTest::newRow("wrong after") << int(PairsFilterProxy::Outcome::WrongAfter) << QStringList{"p2", "p10"};
  }
  void outcomeFilters() {
    QFETCH(int, outcome);
    QFETCH(QStringList, ids);
    m_proxy->setOutcome(PairsFilterProxy::Outcome(outcome));
    QCOMPARE(shownIds(), ids);
  }

  void difficultyAndSearch() {
    m_proxy->setDifficultyRange(0.6, 0.8);
    QCOMPARE(shownIds(), (QStringList{"p1", "p10", "6"}));
    m_proxy->setSearchText("P1");
    QCOMPARE(shownIds(), (QStringList{"p1", "p10"}));
    m_proxy->clearDifficultyRange();
    m_proxy->setSearchText("");
    QCOMPARE(m_proxy->rowCount(), 6);
  }

  void idealizedColumnFollowsBeta() {
    QVERIFY(!m_model->index(0, PairsTableModel::Idealized).data(PairsTableModel::SortRole).isValid());
    m_model->setBeta(1.0);
    QCOMPARE(m_model->index(0, PairsTableModel::Idealized).data(PairsTableModel::SortRole).toInt(), 1);
    QCOMPARE(m_model->index(1, PairsTableModel::Idealized).data(PairsTableModel::SortRole).toInt(), 0);
    QVERIFY(m_model->headerData(PairsTableModel::Idealized, Qt::Horizontal).toString().contains("1"));
    m_model->setBeta(0.3); // not on the file's grid
    QVERIFY(!m_model->index(0, PairsTableModel::Idealized).data(PairsTableModel::SortRole).isValid());
  }

  void joinsTextsByIdAndLine() {
    const auto data = core::readTextPreferences(dataPath("ui_pairs/dataset.jsonl").toStdString());
    QCOMPARE(m_model->joinTexts(data), 6); // "6" matches line 6 (id "x6")
    QCOMPARE(m_model->recordsWithTexts(), 6);
    QCOMPARE(m_model->record(0).chosen, QStringLiteral(" sunny and warm."));
    QCOMPARE(m_model->record(5).rejected, QStringLiteral(" drags."));
    m_proxy->setSearchText("SUNNY");
    QCOMPARE(shownIds(), QStringList{"p1"});
    QCOMPARE(m_model->joinTexts(data), 0); // nothing left to join
  }

  void malformedLinesNameTheLine_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("mentions");
    QTest::newRow("wrong type") << "ui_pairs/malformed_line3.jsonl"
                                << QStringList{"malformed_line3.jsonl:3", "key 'c'", "expected a number"};
    QTest::newRow("truncated") << "ui_pairs/truncated_line2.jsonl"
                               << QStringList{"truncated_line2.jsonl:2", "invalid JSON"};
    QTest::newRow("missing id") << "ui_pairs/missing_id_line2.jsonl"
                                << QStringList{"missing_id_line2.jsonl:2", "key 'id'", "missing"};
    QTest::newRow("missing file") << "ui_pairs/none.jsonl" << QStringList{"none.jsonl", "cannot open"};
  }
  void malformedLinesNameTheLine() {
    QFETCH(QString, file);
    QFETCH(QStringList, mentions);
    try {
      PairsFile::read(dataPath(file));
      QFAIL("no error");
    } catch (const core::InputError &e) {
      const QString message = QString::fromStdString(e.what());
      for (const QString &m : mentions)
        QVERIFY2(message.contains(m), qPrintable(message));
    }
  }
};

PREFLAB_TEST_MAIN(TestPairsTableModel)
#include "tst_pairs_table_model.moc"
