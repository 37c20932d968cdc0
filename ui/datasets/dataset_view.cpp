// DatasetView: background loading, filter widgets, table, detail pane and statistics.
#include "ui/datasets/dataset_view.h"

#include "core/api/datasets.h"
#include "ui/datasets/dataset_filter_proxy.h"
#include "ui/datasets/dataset_stats_panel.h"
#include "ui/datasets/dataset_table_model.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTextBrowser>
#include <QThread>
#include <QVBoxLayout>

namespace preflab::ui {

// Written by the loader thread, read by the GUI thread after QThread::finished.
struct DatasetView::LoadResult {
  std::shared_ptr<core::TextPreferenceData> data;
  nlohmann::json summary;
  QString error;
};

DatasetView::DatasetView(QWidget *parent) : QWidget(parent) {
  m_model = new DatasetTableModel(this);
  m_proxy = new DatasetFilterProxy(this);
  m_proxy->setSourceModel(m_model);
  buildUi();
}

DatasetView::~DatasetView() {
  // The loader only touches its own LoadResult; waiting keeps the thread objects' lifetime simple.
  for (QThread *thread : std::as_const(m_threads)) {
    thread->wait();
    delete thread;
  }
}

QWidget *DatasetView::buildFilterBar() {
  auto *bar = new QWidget(this);
  auto *row = new QHBoxLayout(bar);
  row->setContentsMargins(0, 0, 0, 0);
  m_search = new QLineEdit(bar);
  m_search->setPlaceholderText(tr("Search prompt, chosen, rejected…"));
  m_search->setClearButtonEnabled(true);
  m_lengthOrder = new QComboBox(bar);
  m_lengthOrder->addItems({tr("Any length"), tr("Chosen longer"), tr("Chosen shorter")});
  m_label = new QComboBox(bar);
  m_label->addItems({tr("Any label"), tr("Desirable"), tr("Undesirable")});
  m_raterBox = new QWidget(bar);
  auto *raterRow = new QHBoxLayout(m_raterBox);
  raterRow->setContentsMargins(0, 0, 0, 0);
  m_raterLow = new QDoubleSpinBox(m_raterBox);
  m_raterHigh = new QDoubleSpinBox(m_raterBox);
  for (QDoubleSpinBox *spin : {m_raterLow, m_raterHigh}) {
    spin->setRange(0.0, 1.0);
    spin->setSingleStep(0.1);
    spin->setDecimals(2);
  }
  m_raterHigh->setValue(1.0);
  raterRow->addWidget(new QLabel(tr("Rater fraction"), m_raterBox));
  raterRow->addWidget(m_raterLow);
  raterRow->addWidget(new QLabel(QStringLiteral("–"), m_raterBox));
  raterRow->addWidget(m_raterHigh);
  m_skipInvalid = new QCheckBox(tr("Skip invalid lines"), bar);
  m_skipInvalid->setToolTip(tr("Reload, skipping lines that do not parse; the statistics list them."));
  row->addWidget(m_search, 1);
  row->addWidget(m_lengthOrder);
  row->addWidget(m_label);
  row->addWidget(m_raterBox);
  row->addWidget(m_skipInvalid);

  connect(m_search, &QLineEdit::textChanged, this, &DatasetView::applyFilters);
  connect(m_lengthOrder, &QComboBox::currentIndexChanged, this, &DatasetView::applyFilters);
  connect(m_label, &QComboBox::currentIndexChanged, this, &DatasetView::applyFilters);
  connect(m_raterLow, &QDoubleSpinBox::valueChanged, this, &DatasetView::applyFilters);
  connect(m_raterHigh, &QDoubleSpinBox::valueChanged, this, &DatasetView::applyFilters);
  connect(m_skipInvalid, &QCheckBox::toggled, this, [this] { reload(); });
  return bar;
}

void DatasetView::buildUi() {
  auto *layout = new QVBoxLayout(this);
  auto *top = new QHBoxLayout;
  auto *openButton = new QPushButton(tr("Open…"), this);
  m_pathLabel = new QLabel(tr("No dataset"), this);
  m_pathLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_progress = new QProgressBar(this);
  m_progress->setRange(0, 0); // busy indicator: the reader reports no progress
  m_progress->setMaximumWidth(160);
  m_progress->hide();
  m_countLabel = new QLabel(this);
  top->addWidget(openButton);
  top->addWidget(m_pathLabel, 1);
  top->addWidget(m_progress);
  top->addWidget(m_countLabel);
  layout->addLayout(top);
  layout->addWidget(buildFilterBar());

  m_table = new QTableView(this);
  m_table->setModel(m_proxy);
  m_table->setSortingEnabled(true);
  m_table->sortByColumn(-1, Qt::AscendingOrder); // file order until the user sorts
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::SingleSelection);
  m_table->setWordWrap(false);
  m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
  m_table->verticalHeader()->hide();
  m_table->horizontalHeader()->setStretchLastSection(true);
  m_detail = new QTextBrowser(this);
  m_detail->setPlaceholderText(tr("Select a row to see its full texts."));
  m_stats = new DatasetStatsPanel(this);

  auto *left = new QSplitter(Qt::Vertical, this);
  left->addWidget(m_table);
  left->addWidget(m_detail);
  left->setStretchFactor(0, 3);
  left->setStretchFactor(1, 2);
  auto *main = new QSplitter(Qt::Horizontal, this);
  main->addWidget(left);
  main->addWidget(m_stats);
  main->setStretchFactor(0, 3);
  main->setStretchFactor(1, 2);
  layout->addWidget(main, 1);

  connect(openButton, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open dataset"), QFileInfo(m_path).path(),
                                                      tr("JSON Lines (*.jsonl *.json);;All files (*)"));
    if (!path.isEmpty())
      openDataset(path);
  });
  connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex &current) { showDetail(current); });
  connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &DatasetView::updateCount);
  connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &DatasetView::updateCount);
  connect(m_proxy, &QAbstractItemModel::modelReset, this, &DatasetView::updateCount);
  connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &DatasetView::updateCount);
  updateFilterWidgets();
}

bool DatasetView::openDataset(const QString &path, QString *error) {
  if (!QFileInfo(path).isFile()) {
    const QString message = tr("%1: no such file").arg(path);
    if (error)
      *error = message;
    fail(message);
    return false;
  }
  startLoad(path, m_skipInvalid->isChecked());
  return true;
}

void DatasetView::reload() {
  if (!m_path.isEmpty())
    startLoad(m_path, m_skipInvalid->isChecked());
}

void DatasetView::setSkipInvalid(bool skip) {
  m_skipInvalid->setChecked(skip);
}
bool DatasetView::skipInvalid() const {
  return m_skipInvalid->isChecked();
}
const core::TextPreferenceData *DatasetView::dataset() const {
  return m_model->dataset();
}
QString DatasetView::detailText() const {
  return m_detail->toPlainText();
}

void DatasetView::startLoad(const QString &path, bool skipInvalid) {
  m_path = path;
  m_loading = true;
  m_progress->show();
  m_pathLabel->setText(tr("Loading %1…").arg(QFileInfo(path).fileName()));
  const int generation = ++m_generation;
  auto result = std::make_shared<LoadResult>();
  const std::string file = path.toStdString();
  QThread *thread = QThread::create([result, file, skipInvalid] {
    try {
      core::TextReadOptions options;
      options.skipInvalid = skipInvalid;
      result->data = std::make_shared<core::TextPreferenceData>(core::readTextPreferences(file, options));
      result->summary = core::summarizeTextPreferences(*result->data);
    } catch (const std::exception &e) { // InputError names file, line and key
      result->error = QString::fromStdString(e.what());
    }
  });
  m_threads << thread;
  connect(thread, &QThread::finished, this, [this, thread, result, generation] {
    m_threads.removeOne(thread);
    thread->deleteLater();
    finishLoad(result, generation);
  });
  thread->start();
}

void DatasetView::finishLoad(const std::shared_ptr<LoadResult> &result, int generation) {
  if (generation != m_generation)
    return; // superseded by a newer load
  m_loading = false;
  m_progress->hide();
  if (!result->error.isEmpty()) {
    m_pathLabel->setText(tr("Failed: %1").arg(QFileInfo(m_path).fileName()));
    fail(result->error);
    return;
  }
  m_model->setDataset(result->data);
  m_stats->setDataset(*result->data, result->summary);
  m_pathLabel->setText(QDir::toNativeSeparators(m_path));
  m_pathLabel->setToolTip(m_path);
  m_detail->clear();
  updateFilterWidgets();
  applyFilters();
  m_table->resizeColumnsToContents();
  for (int c = 0; c + 1 < m_model->columnCount(); ++c) // the last column stretches
    m_table->setColumnWidth(c, std::min(m_table->columnWidth(c), 260));
  // The column count changes between paired and KTO files: re-apply the stretch to the new last one.
  m_table->horizontalHeader()->setStretchLastSection(false);
  m_table->horizontalHeader()->setStretchLastSection(true);
  emit loaded(m_path, m_model->rowCount());
}

void DatasetView::fail(const QString &message) {
  m_loading = false;
  m_progress->hide();
  emit loadFailed(message);
  if (m_showDialogs)
    QMessageBox::critical(this, tr("Cannot open dataset"), message);
}

void DatasetView::updateFilterWidgets() {
  const bool unpaired = m_model->isUnpaired();
  m_label->setVisible(unpaired);
  m_lengthOrder->setVisible(!unpaired);
  m_raterBox->setVisible(!unpaired);
  m_search->setPlaceholderText(unpaired ? tr("Search prompt, completion…")
                                        : tr("Search prompt, chosen, rejected…"));
}

void DatasetView::applyFilters() {
  m_proxy->setSearchText(m_search->text());
  m_proxy->setLengthOrder(DatasetFilterProxy::LengthOrder(m_lengthOrder->currentIndex()));
  m_proxy->setLabel(DatasetFilterProxy::Label(m_label->currentIndex()));
  m_proxy->setRaterFractionRange(m_raterLow->value(), m_raterHigh->value());
  updateCount();
}

void DatasetView::updateCount() {
  const int total = m_model->rowCount();
  const int shown = m_proxy->rowCount();
  m_countLabel->setText(shown == total ? (total == 1 ? tr("1 row") : tr("%1 rows").arg(total))
                                       : tr("%1 of %2 rows").arg(shown).arg(total));
}

void DatasetView::showDetail(const QModelIndex &proxyIndex) {
  const QModelIndex source = m_proxy->mapToSource(proxyIndex);
  const core::TextPreferenceData *data = m_model->dataset();
  if (!source.isValid() || !data) {
    m_detail->clear();
    return;
  }
  auto block = [](const QString &title, const std::string &text, const char *colour) {
    return QStringLiteral("<h4 style='margin-bottom:2px'>%1</h4><div style='background:%2; padding:4px; "
                          "white-space:pre-wrap'>%3</div>")
        .arg(title, QLatin1String(colour), QString::fromStdString(text).toHtmlEscaped());
  };
  QString html;
  if (data->isUnpaired()) {
    const core::UnpairedExample &u = data->unpaired[std::size_t(source.row())];
    html = tr("<b>id</b> %1 · line %2 · %3")
               .arg(QString::fromStdString(u.id).toHtmlEscaped())
               .arg(u.line)
               .arg(u.desirable ? tr("desirable") : tr("undesirable"));
    html += block(tr("Prompt"), u.prompt, "#f2f2f2");
    html += block(tr("Completion"), u.completion, u.desirable ? "#e6f4ea" : "#fce8e6");
  } else {
    const core::TextPair &p = data->pairs[std::size_t(source.row())];
    html = tr("<b>id</b> %1 · line %2").arg(QString::fromStdString(p.id).toHtmlEscaped()).arg(p.line);
    if (p.raterFraction)
      html += tr(" · rater fraction %1").arg(*p.raterFraction);
    if (p.raterCount)
      html += tr(" of %1 raters").arg(*p.raterCount);
    html += block(tr("Prompt"), p.prompt, "#f2f2f2");
    html += block(tr("Chosen"), p.chosen, "#e6f4ea");
    html += block(tr("Rejected"), p.rejected, "#fce8e6");
  }
  m_detail->setHtml(html);
}

} // namespace preflab::ui
