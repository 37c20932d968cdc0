// PairsInspector: loading pairs files and run folders, filters, summary header and the detail pane.
#include "ui/pairs/pairs_inspector.h"

#include "core/api/run_reader.h"
#include "core/api/datasets.h"
#include "ui/pairs/pairs_filter_proxy.h"
#include "ui/pairs/pairs_table_model.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <cmath>

namespace preflab::ui {

namespace {
QString pairCount(int n) {
  return n == 1 ? PairsInspector::tr("1 pair") : PairsInspector::tr("%1 pairs").arg(n);
}
} // namespace

PairsInspector::PairsInspector(QWidget *parent) : QWidget(parent) {
  m_model = new PairsTableModel(this);
  m_proxy = new PairsFilterProxy(this);
  m_proxy->setSourceModel(m_model);
  buildUi();
}

QWidget *PairsInspector::buildFilterBar() {
  auto *bar = new QWidget(this);
  auto *row = new QHBoxLayout(bar);
  row->setContentsMargins(0, 0, 0, 0);
  m_search = new QLineEdit(bar);
  m_search->setPlaceholderText(tr("Search id or texts…"));
  m_search->setClearButtonEnabled(true);
  m_outcome = new QComboBox(bar);
  m_outcome->addItems({tr("All pairs"), tr("Flipped by training"), tr("Flipped: wrong → right"),
                       tr("Flipped: right → wrong"), tr("Wrong after training")});
  m_difficultyOn = new QCheckBox(tr("Difficulty"), bar);
  m_difficultyLow = new QDoubleSpinBox(bar);
  m_difficultyHigh = new QDoubleSpinBox(bar);
  for (QDoubleSpinBox *spin : {m_difficultyLow, m_difficultyHigh}) {
    spin->setRange(0.0, 1000.0);
    spin->setDecimals(3);
    spin->setSingleStep(0.05);
    spin->setEnabled(false);
  }
  m_difficultyHigh->setValue(1.0);
  auto *join = new QPushButton(tr("Join texts…"), bar);
  join->setToolTip(tr("Take prompt, chosen and rejected from a dataset file, matched by id or line"));
  m_countLabel = new QLabel(bar);
  row->addWidget(m_search, 1);
  row->addWidget(m_outcome);
  row->addWidget(m_difficultyOn);
  row->addWidget(m_difficultyLow);
  row->addWidget(new QLabel(QStringLiteral("–"), bar));
  row->addWidget(m_difficultyHigh);
  row->addWidget(join);
  row->addWidget(m_countLabel);

  connect(m_search, &QLineEdit::textChanged, this, &PairsInspector::applyFilters);
  connect(m_outcome, &QComboBox::currentIndexChanged, this, &PairsInspector::applyFilters);
  connect(m_difficultyOn, &QCheckBox::toggled, this, [this](bool on) {
    m_difficultyLow->setEnabled(on);
    m_difficultyHigh->setEnabled(on);
    applyFilters();
  });
  connect(m_difficultyLow, &QDoubleSpinBox::valueChanged, this, &PairsInspector::applyFilters);
  connect(m_difficultyHigh, &QDoubleSpinBox::valueChanged, this, &PairsInspector::applyFilters);
  connect(join, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Dataset with the pairs' texts"), QString(),
                                                      tr("JSON Lines (*.jsonl *.json);;All files (*)"));
    if (!path.isEmpty())
      joinTexts(path);
  });
  return bar;
}

void PairsInspector::buildUi() {
  auto *layout = new QVBoxLayout(this);
  m_header = new QLabel(tr("No pairs loaded. Open a run folder with an eval/pairs.jsonl."), this);
  m_header->setWordWrap(true);
  m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(m_header);
  layout->addWidget(buildFilterBar());

  m_table = new QTableView(this);
  m_table->setModel(m_proxy);
  m_table->setSortingEnabled(true);
  m_table->sortByColumn(-1, Qt::AscendingOrder);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::SingleSelection);
  m_table->verticalHeader()->hide();
  m_table->horizontalHeader()->setStretchLastSection(true);
  m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
  m_detail = new QTextBrowser(this);
  m_detail->setPlaceholderText(tr("Select a pair to see its numbers and texts."));
  auto *split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(m_table);
  split->addWidget(m_detail);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  layout->addWidget(split, 1);

  connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex &current) { showDetail(current); });
  connect(m_proxy, &QAbstractItemModel::modelReset, this, &PairsInspector::updateCount);
  connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &PairsInspector::updateCount);
  connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &PairsInspector::updateCount);
  connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &PairsInspector::updateCount);
}

bool PairsInspector::failWith(const QString &message, QString *error) {
  if (error)
    *error = message;
  emit loadFailed(message);
  if (m_showDialogs)
    QMessageBox::critical(this, tr("Pairs inspector"), message);
  return false;
}

bool PairsInspector::loadPairs(const QString &path, QString *error) {
  PairsFile file;
  try {
    file = PairsFile::read(path);
  } catch (const std::exception &e) { // InputError: "FILE:LINE: key 'K': problem"
    return failWith(QString::fromStdString(e.what()), error);
  }
  m_model->setPairs(std::move(file));
  m_detail->clear();
  m_table->resizeColumnsToContents();
  updateCount();
  emit loaded(path, m_model->rowCount());
  return true;
}

bool PairsInspector::openPairsFile(const QString &path, QString *error) {
  if (!loadPairs(path, error))
    return false;
  m_header->setText(tr("%1 — %2").arg(QDir::toNativeSeparators(path), pairCount(m_model->rowCount())));
  return true;
}

bool PairsInspector::openRunFolder(const QString &runDir, QString *error) {
  const QDir dir(runDir);
  const core::RunReader run(runDir.toStdString());
  if (run.isImageRun())
    return failWith(tr("%1 is a text-to-image run: its pairs are images, shown with their scores in the "
                       "Images tab (the Pairs inspector reads the per-pair analysis of text runs)")
                        .arg(QDir::toNativeSeparators(runDir)),
                    error);
  const QString pairsPath = QString::fromStdString(run.pairsFile());
  if (pairsPath.isEmpty())
    return failWith(tr("%1: no eval/pairs.jsonl in this run folder (the run has not been evaluated yet)")
                        .arg(QDir::toNativeSeparators(runDir)),
                    error);
  std::optional<double> beta;
  const QString objective = QString::fromStdString(run.lossType());
  if (std::isfinite(run.beta())) // else: a config from another version, no idealised column
    beta = run.beta();
  if (!loadPairs(pairsPath, error))
    return false;
  setBeta(beta);
  setSummaryHeader(dir.filePath(QStringLiteral("eval/summary.json")));
  QString header = m_header->text();
  header.prepend(
      QStringLiteral("<b>%1</b>%2 — ")
          .arg(QFileInfo(runDir).fileName().toHtmlEscaped(),
               objective.isEmpty() || !beta ? QString() : tr(" (%1, β = %2)").arg(objective).arg(*beta)));
  m_header->setText(header);
  return true;
}

void PairsInspector::setSummaryHeader(const QString &summaryPath) {
  QFile file(summaryPath);
  const QJsonObject s =
      file.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(file.readAll()).object() : QJsonObject();
  QStringList parts;
  parts << pairCount(m_model->rowCount());
  auto number = [&](const char *key) {
    return QString::number(s.value(QLatin1String(key)).toDouble(), 'f', 3);
  };
  if (s.contains(QLatin1String("ranking/accuracy"))) {
    QString acc = tr("ranking accuracy %1").arg(number("ranking/accuracy"));
    if (s.contains(QLatin1String("ranking/accuracy_ref")))
      acc = tr("ranking accuracy before %1 → after %2")
                .arg(number("ranking/accuracy_ref"), number("ranking/accuracy"));
    parts << acc;
  }
  if (s.contains(QLatin1String("ranking/idealized")))
    parts << tr("idealised %1").arg(number("ranking/idealized"));
  if (s.contains(QLatin1String("ranking/alignment_gap")))
    parts << tr("alignment gap %1").arg(number("ranking/alignment_gap"));
  if (s.contains(QLatin1String("eval/win_rate")))
    parts << tr("win rate %1").arg(number("eval/win_rate"));
  m_header->setText(parts.join(QStringLiteral(" · ")));
}

bool PairsInspector::joinTexts(const QString &datasetPath, QString *error) {
  int joined = 0;
  try {
    core::TextReadOptions options;
    options.skipInvalid = true; // join what can be joined; the dataset view reports bad lines
    joined = m_model->joinTexts(core::readTextPreferences(datasetPath.toStdString(), options));
  } catch (const std::exception &e) {
    return failWith(QString::fromStdString(e.what()), error);
  }
  emit textsJoined(joined);
  if (joined == 0 && m_model->recordsWithTexts() < m_model->rowCount())
    return failWith(tr("%1: no pair id matched an id or line of this dataset").arg(datasetPath), error);
  showDetail(m_table->currentIndex());
  return true;
}

void PairsInspector::setBeta(std::optional<double> beta) {
  m_model->setBeta(beta);
  m_table->resizeColumnToContents(PairsTableModel::Idealized);
}
QString PairsInspector::headerText() const {
  return m_header->text();
}
QString PairsInspector::detailText() const {
  return m_detail->toPlainText();
}

void PairsInspector::applyFilters() {
  m_proxy->setSearchText(m_search->text());
  m_proxy->setOutcome(PairsFilterProxy::Outcome(m_outcome->currentIndex()));
  if (m_difficultyOn->isChecked())
    m_proxy->setDifficultyRange(m_difficultyLow->value(), m_difficultyHigh->value());
  else
    m_proxy->clearDifficultyRange();
  updateCount();
}

void PairsInspector::updateCount() {
  const int total = m_model->rowCount(), shown = m_proxy->rowCount();
  m_countLabel->setText(shown == total ? pairCount(total) : tr("%1 of %2 pairs").arg(shown).arg(total));
}

void PairsInspector::showDetail(const QModelIndex &proxyIndex) {
  const QModelIndex source = m_proxy->mapToSource(proxyIndex);
  if (!source.isValid()) {
    m_detail->clear();
    return;
  }
  const PairRecord &r = m_model->record(source.row());
  QString rows;
  auto addRow = [&](int column) {
    rows += QStringLiteral("<tr><td>%1</td><td align='right'>%2</td></tr>")
                .arg(m_model->columnTitle(column).toHtmlEscaped(),
                     m_model->index(source.row(), column).data().toString().toHtmlEscaped());
  };
  for (int column = PairsTableModel::ImplicitRewardMargin; column < PairsTableModel::ColumnCount; ++column)
    addRow(column);
  QString html = tr("<b>%1</b> (line %2)").arg(r.id.toHtmlEscaped()).arg(r.line);
  html += QStringLiteral("<table cellspacing='0' cellpadding='2'>%1</table>").arg(rows);
  auto block = [](const QString &title, const QString &text, const char *colour) {
    return QStringLiteral("<h4 style='margin-bottom:2px'>%1</h4><div style='background:%2; padding:4px; "
                          "white-space:pre-wrap'>%3</div>")
        .arg(title, QLatin1String(colour), text.toHtmlEscaped());
  };
  if (r.hasTexts) {
    html += block(tr("Prompt"), r.prompt, "#f2f2f2");
    html += block(tr("Chosen"), r.chosen, "#e6f4ea");
    html += block(tr("Rejected"), r.rejected, "#fce8e6");
  } else {
    html +=
        tr("<p><i>This file has no texts. Use “Join texts…” to take them from the dataset by id.</i></p>");
  }
  m_detail->setHtml(html);
}

} // namespace preflab::ui
