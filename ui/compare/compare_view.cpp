// CompareView: model pickers, sampling settings, the prompt table and the coloured detail pane.
#include "ui/compare/compare_view.h"

#include "core/api/compare.h"
#include "core/api/datasets.h"
#include "ui/compare/compare_settings_panel.h"
#include "ui/compare/compare_table_model.h"
#include "ui/compare/compare_worker.h"
#include "ui/compare/delta_legend.h"
#include "ui/compare/token_text_browser.h"
#include <QMap>

#include <QDir>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QThread>

#include <algorithm>

namespace preflab::ui {

namespace {
constexpr int kTaskPromptCount = 8;

// "sentiment-dpo/hf" for "/…/runs/sentiment-dpo/hf": enough to tell models apart.
QString shortName(const QString &dir) {
  const QStringList parts = QDir::cleanPath(dir).split('/', Qt::SkipEmptyParts);
  return parts.mid(std::max<qsizetype>(0, parts.size() - 2)).join('/');
}
} // namespace

CompareView::CompareView(QWidget *parent) : QWidget(parent), m_model(new CompareTableModel(this)) {
  qRegisterMetaType<CompareOutcome>();
  buildUi();
  updateButtons();
  updateSummary();
}

CompareView::~CompareView() {
  if (m_thread) {
    if (m_worker)
      m_worker->cancel();
    m_thread->quit();
    m_thread->wait();
    delete m_worker;
    delete m_thread;
  }
}

void CompareView::buildUi() {
  auto *layout = new QVBoxLayout(this);
  m_settings = new CompareSettingsPanel;
  layout->addWidget(m_settings);

  // Sorting through a proxy; the view maps proxy rows back to model rows.
  m_proxy = new QSortFilterProxyModel(this);
  m_proxy->setSourceModel(m_model);
  m_proxy->setSortRole(CompareTableModel::SortRole);
  m_table = new QTableView;
  m_table->setModel(m_proxy);
  m_table->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder); // keep the file's order at first
  m_table->setSortingEnabled(true);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setWordWrap(false);
  m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
  auto *header = m_table->horizontalHeader();
  header->setSectionResizeMode(QHeaderView::Interactive);
  header->setSectionResizeMode(CompareTableModel::TextA, QHeaderView::Stretch);
  header->setSectionResizeMode(CompareTableModel::TextB, QHeaderView::Stretch);
  m_table->setColumnWidth(CompareTableModel::Prompt, 150);
  m_table->setColumnWidth(CompareTableModel::Seed, 80);
  m_table->setColumnWidth(CompareTableModel::ScoreA, 70);
  m_table->setColumnWidth(CompareTableModel::ScoreB, 70);
  connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &CompareView::showDetail);
  connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &CompareView::updateButtons);
  connect(m_model, &QAbstractItemModel::dataChanged, this, [this] {
    updateSummary();
    showDetail();
  });
  connect(m_model, &QAbstractItemModel::rowsRemoved, this, &CompareView::updateSummary);
  connect(m_model, &QAbstractItemModel::modelReset, this, &CompareView::updateSummary);

  auto *top = new QWidget;
  auto *topLayout = new QVBoxLayout(top);
  topLayout->setContentsMargins(0, 0, 0, 0);
  topLayout->addWidget(buildPromptBar());
  topLayout->addWidget(m_table, 1);

  m_detailA = new TokenTextBrowser;
  m_detailB = new TokenTextBrowser;
  for (auto *detail : {m_detailA, m_detailB}) { // larger text: the colours sit on single characters
    QFont font = detail->font();
    font.setPointSizeF(font.pointSizeF() * 1.2);
    detail->setFont(font);
  }
  auto *sides = new QSplitter(Qt::Horizontal);
  sides->addWidget(m_detailA);
  sides->addWidget(m_detailB);
  m_legend = new DeltaLegend;
  auto *legendRow = new QHBoxLayout;
  legendRow->addWidget(new QLabel(tr("Token colour: log π_θ − log π_ref")));
  legendRow->addWidget(m_legend);
  legendRow->addStretch(1);
  auto *bottom = new QWidget;
  auto *bottomLayout = new QVBoxLayout(bottom);
  bottomLayout->setContentsMargins(0, 0, 0, 0);
  bottomLayout->addLayout(legendRow);
  bottomLayout->addWidget(sides, 1);

  auto *splitter = new QSplitter(Qt::Vertical);
  splitter->addWidget(top);
  splitter->addWidget(bottom);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  layout->addWidget(splitter, 1);

  m_summary = new QLabel;
  m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_status = new QLabel;
  m_status->setWordWrap(true);
  m_progress = new QProgressBar;
  m_progress->setRange(0, 1000);
  m_progress->setMaximumWidth(220);
  m_progress->setVisible(false);
  auto *statusRow = new QHBoxLayout;
  statusRow->addWidget(m_summary);
  statusRow->addWidget(m_status, 1);
  statusRow->addWidget(m_progress);
  layout->addLayout(statusRow);
  showDetail();
}

QWidget *CompareView::buildPromptBar() {
  auto *bar = new QWidget;
  auto *row = new QHBoxLayout(bar);
  row->setContentsMargins(0, 0, 0, 0);
  auto *add = new QPushButton(tr("Add prompt"));
  add->setToolTip(tr("A new prompt with the next free seed (double-click a prompt or seed to edit it)"));
  connect(add, &QPushButton::clicked, this, [this] {
    const int row = addPrompt(tr("the movie"));
    const QModelIndex index = m_proxy->mapFromSource(m_model->index(row, CompareTableModel::Prompt));
    m_table->setCurrentIndex(index);
    m_table->edit(index);
  });
  auto *taskPrompts = new QPushButton(tr("Add task prompts"));
  taskPrompts->setToolTip(tr("%1 prompts of the built-in sentiment task").arg(kTaskPromptCount));
  connect(taskPrompts, &QPushButton::clicked, this, [this] {
    for (const auto &p : core::sentimentPrompts(kTaskPromptCount, m_model->nextSeed()))
      addPrompt(QString::fromStdString(p));
  });
  m_remove = new QPushButton(tr("Remove"));
  connect(m_remove, &QPushButton::clicked, this, [this] {
    QList<int> rows;
    for (const QModelIndex &index : m_table->selectionModel()->selectedRows())
      rows << m_proxy->mapToSource(index).row();
    m_model->removeRowsAt(rows);
  });
  m_scoreSaved = new QPushButton(tr("Score run's samples"));
  m_scoreSaved->setToolTip(
      tr("Colour and score the texts the run saved (A = reference, B = policy) without sampling"));
  connect(m_scoreSaved, &QPushButton::clicked, this, &CompareView::scoreSavedSamples);
  m_generate = new QPushButton(tr("Generate"));
  m_generate->setDefault(true);
  connect(m_generate, &QPushButton::clicked, this, &CompareView::generate);
  m_cancel = new QPushButton(tr("Cancel"));
  connect(m_cancel, &QPushButton::clicked, this, &CompareView::cancel);
  for (auto *w : {add, taskPrompts, m_remove})
    row->addWidget(w);
  row->addStretch(1);
  for (auto *w : {m_scoreSaved, m_generate, m_cancel})
    row->addWidget(w);
  return bar;
}

bool CompareView::openRunFolder(const QString &runDir, QString *error) {
  const QDir dir(runDir);
  if (!dir.exists())
    return fail(tr("Run folder %1 does not exist").arg(runDir), error);
  const core::RunReader run(runDir.toStdString());
  if (run.isImageRun())
    return fail(tr("%1 is a text-to-image run: Compare generates text; its reference and tuned samples "
                   "are in the Images tab")
                    .arg(runDir),
                error);
  const QString samplesPath = dir.filePath("samples/eval_samples.jsonl");
  const bool hasSamples = QFileInfo::exists(samplesPath);
  std::optional<core::RunInfoRecord> info;
  std::vector<core::EvalSample> samples;
  try {
    info = run.runInfo();
    if (hasSamples)
      samples = core::readEvalSamples(samplesPath.toStdString());
  } catch (const std::exception &e) {
    return fail(QString::fromUtf8(e.what()), error);
  }
  if (!info && !hasSamples)
    return fail(tr("%1 has neither run_info.json nor samples/eval_samples.jsonl").arg(runDir), error);
  const bool hasPolicy = offerRunModels(run, info ? &*info : nullptr);
  QString promptSource;
  if (!hasSamples) {
    // A run on files (labels exported from the Label tab, say): its own prompts, held-out first.
    const auto config = run.configValues();
    for (const char *key : {"eval_file", "train_file"}) {
      const auto it = config.find(key);
      if (it == config.end() || it->second.empty() || !samples.empty())
        continue;
      try {
        std::vector<std::string> seen;
        for (const auto &p : core::readTextPreferences(it->second).pairs) {
          if (std::find(seen.begin(), seen.end(), p.prompt) != seen.end() || p.prompt.empty())
            continue;
          seen.push_back(p.prompt);
          core::EvalSample s;
          s.prompt = p.prompt;
          s.seed = seen.size() - 1;
          samples.push_back(std::move(s));
          if (samples.size() == kFilePrompts)
            break;
        }
        promptSource =
            tr(" (the first prompts of %1 %2)")
                .arg(QString::fromLatin1(key), QFileInfo(QString::fromStdString(it->second)).fileName());
      } catch (const std::exception &) {
        samples.clear(); // a file that no longer reads: no fixed prompts, as before
      }
    }
  }
  if (!samples.empty())
    setFixedPrompts(samples);
  loadSamplingFromConfig(run);
  QStringList notes;
  if (!info)
    notes << tr("no run_info.json: choose model A (the reference) by hand");
  if (!hasPolicy)
    notes << tr("no final policy yet: B is %1")
                 .arg(modelB().isEmpty() ? tr("not chosen") : shortName(modelB()));
  m_status->setText(tr("Opened %1: %2 fixed prompts%3").arg(runDir).arg(samples.size()).arg(promptSource) +
                    (notes.isEmpty() ? QString() : QStringLiteral("; ") + notes.join(QStringLiteral("; "))));
  updateButtons();
  return true;
}

bool CompareView::offerRunModels(const core::RunReader &run, const core::RunInfoRecord *info) {
  // B: the final policy, with every complete checkpoint of the run in B's list (newest first).
  const QString finalPolicy = QString::fromStdString(info ? info->policyFinal : run.path("hf"));
  const auto steps = run.checkpoints();
  for (auto it = steps.rbegin(); it != steps.rend(); ++it)
    m_settings->offerModelB(QDir(QString::fromStdString(it->dir)).absolutePath());
  if (QFileInfo::exists(finalPolicy))
    m_settings->setModelB(finalPolicy);
  else if (!steps.empty() && m_settings->modelB().isEmpty())
    m_settings->setModelB(QDir(QString::fromStdString(steps.back().dir)).absolutePath()); // the latest
  if (info && !info->referenceModel.empty())
    m_settings->setModelA(QString::fromStdString(info->referenceModel));
  // An MPO run's parts, in both menus: the mixture (B) beside each policy it mixes.
  if (info)
    for (const auto &part : info->components) {
      m_settings->offerModelA(QString::fromStdString(part));
      m_settings->offerModelB(QString::fromStdString(part));
    }
  return QFileInfo::exists(finalPolicy);
}

void CompareView::setFixedPrompts(const std::vector<core::EvalSample> &samples) {
  std::vector<CompareRow> rows;
  for (const auto &s : samples) {
    CompareRow row;
    row.prompt = QString::fromStdString(s.prompt);
    row.seed = s.seed;
    row.fixed = true;
    row.savedReference = QString::fromStdString(s.reference);
    row.savedPolicy = QString::fromStdString(s.policy);
    rows.push_back(std::move(row));
  }
  for (const auto &row : m_model->rows()) // prompts the user added stay, after the fixed set
    if (!row.fixed) {
      rows.push_back(row);
      rows.back().result.reset();
    }
  m_model->setRows(std::move(rows));
}

void CompareView::loadSamplingFromConfig(const core::RunReader &run) {
  QMap<QString, QString> config;
  for (const auto &[key, value] : run.configValues())
    config.insert(QString::fromStdString(key), QString::fromStdString(value));
  if (config.value("task") != QLatin1String("sentiment"))
    return;
  // The settings the run's own evaluation sampled with, so Generate reproduces its samples.
  core::SamplingOptions options = samplingOptions();
  bool ok = false;
  const double temperature = config.value("sentiment.sample_temperature").toDouble(&ok);
  if (ok)
    options.temperature = temperature;
  const qint64 maxNew = config.value("sentiment.max_new_tokens").toLongLong(&ok);
  if (ok) {
    const qint64 room =
        config.value("max_length").toLongLong() - config.value("max_prompt_length").toLongLong();
    options.maxNewTokens = room > 0 ? std::min(maxNew, room) : maxNew;
  }
  options.topK = 0;
  options.topP = 1.0;
  setSamplingOptions(options);
}

void CompareView::setModels(const QString &modelA, const QString &modelB) {
  m_settings->setModelA(modelA);
  m_settings->setModelB(modelB);
}

QString CompareView::modelA() const {
  return m_settings->modelA();
}
QString CompareView::modelB() const {
  return m_settings->modelB();
}
void CompareView::setReferenceModel(const QString &dir) {
  m_settings->setReferenceModel(dir);
}
void CompareView::setScorer(const QString &scorer) {
  m_settings->setScorer(scorer);
}
void CompareView::setDevice(const QString &device) {
  m_settings->setDevice(device);
}
void CompareView::setSamplingOptions(const core::SamplingOptions &o) {
  m_settings->setSamplingOptions(o);
}
core::SamplingOptions CompareView::samplingOptions() const {
  return m_settings->samplingOptions();
}

int CompareView::addPrompt(const QString &prompt) {
  const int row = m_model->addPrompt(prompt, m_model->nextSeed());
  updateButtons();
  return row;
}

core::CompareRequest CompareView::baseRequest(const std::vector<int> &rows) const {
  core::CompareRequest r;
  r.modelA = modelA().toStdString();
  r.modelB = modelB().toStdString();
  r.referenceDir = m_settings->referenceModel().toStdString();
  for (int row : rows) {
    r.prompts.push_back(m_model->row(row).prompt.toStdString());
    r.seeds.push_back(m_model->row(row).seed);
  }
  r.sampling = samplingOptions();
  r.scorer = m_settings->scorer().toStdString();
  r.device = m_settings->device().toStdString();
  return r;
}

bool CompareView::generate() {
  CompareJob job;
  for (int row = 0; row < m_model->rowCount(); ++row)
    job.rows.push_back(row);
  if (job.rows.empty())
    return fail(tr("Add a prompt first (or open a run folder with saved eval prompts)"));
  job.request = baseRequest(job.rows);
  return start(std::move(job));
}

bool CompareView::scoreSavedSamples() {
  CompareJob job;
  job.scoreSaved = true;
  for (int row = 0; row < m_model->rowCount(); ++row) {
    const auto &r = m_model->row(row);
    if (!r.savedReference || !r.savedPolicy)
      continue;
    job.rows.push_back(row);
    job.textsA.push_back(r.savedReference->toStdString());
    job.textsB.push_back(r.savedPolicy->toStdString());
  }
  if (job.rows.empty())
    return fail(tr("No saved samples: open a run folder that has samples/eval_samples.jsonl"));
  job.request = baseRequest(job.rows);
  return start(std::move(job));
}

bool CompareView::start(CompareJob job) {
  if (m_thread)
    return fail(tr("A comparison is already running"));
  if (job.request.modelA.empty() || job.request.modelB.empty())
    return fail(tr("Choose model A and model B first"));
  const QString reference = m_settings->referenceModel();
  m_titleA = tr("A · %1").arg(shortName(modelA()));
  if (reference.isEmpty() || QDir::cleanPath(reference) == QDir::cleanPath(modelA()))
    m_titleA += tr("  (the colour reference itself: Δ = 0)");
  m_titleB = tr("B · %1").arg(shortName(modelB()));
  const bool saved = job.scoreSaved;
  m_thread = new QThread;
  m_worker = new CompareWorker(std::move(job));
  m_worker->moveToThread(m_thread);
  connect(m_thread, &QThread::started, m_worker, &CompareWorker::run);
  connect(m_worker, &CompareWorker::progressed, this, [this](const QString &stage, double fraction) {
    m_progress->setValue(int(fraction * 1000));
    m_status->setText(tr("%1…").arg(stage));
    emit progressed(stage, fraction);
  });
  connect(m_worker, &CompareWorker::finished, this, &CompareView::onFinished);
  m_progress->setValue(0);
  m_progress->setVisible(true);
  m_status->setText(saved ? tr("Scoring saved samples…") : tr("Generating…"));
  m_thread->start();
  updateButtons();
  emit started();
  return true;
}

void CompareView::cancel() {
  if (m_worker) {
    m_worker->cancel();
    m_status->setText(tr("Cancelling after the current batch…"));
  }
}

void CompareView::onFinished(const CompareOutcome &outcome) {
  m_thread->quit();
  m_thread->wait();
  delete m_worker;
  delete m_thread;
  m_thread = nullptr;
  m_progress->setVisible(false);
  m_model->setResults(outcome.modelRows, outcome.rows);
  if (!outcome.error.isEmpty())
    fail(outcome.error);
  else
    m_status->setText(outcome.cancelled ? tr("Cancelled: %1 prompts done").arg(outcome.rows.size())
                                        : tr("Done: %1 prompts").arg(outcome.rows.size()));
  updateButtons();
  updateSummary();
  if (!m_table->currentIndex().isValid() && m_model->rowCount() > 0)
    m_table->selectRow(0);
  showDetail();
  emit finished(int(outcome.rows.size()), outcome.cancelled);
}

bool CompareView::fail(const QString &message, QString *error) {
  if (error)
    *error = message;
  m_status->setText(QStringLiteral("<span style='color:#b00020'>%1</span>").arg(message.toHtmlEscaped()));
  emit errorOccurred(message);
  return false;
}

void CompareView::showDetail() {
  const QModelIndex current = m_proxy->mapToSource(m_table->currentIndex());
  if (!current.isValid()) {
    m_detailA->showMessage(tr("Select a row to see its texts with per-token log-ratios."));
    m_detailB->clear();
    return;
  }
  const auto &row = m_model->row(current.row());
  if (!row.result) {
    m_detailA->showMessage(tr("“%1” (seed %2) has not been generated yet.").arg(row.prompt).arg(row.seed));
    m_detailB->clear();
    return;
  }
  const QString prompt = QString::fromStdString(row.result->prompt);
  m_detailA->showText(m_titleA, prompt, row.result->a);
  m_detailB->showText(m_titleB, prompt, row.result->b);
}

void CompareView::updateSummary() {
  const auto s = m_model->summary();
  if (s.compared == 0) {
    m_summary->setText(tr("%1 prompts").arg(m_model->rowCount()));
    return;
  }
  m_summary->setText(tr("%1 prompts scored · mean score A %2, B %3 · B beats A on %4% (ties count ½)")
                         .arg(s.compared)
                         .arg(s.meanA, 0, 'f', 3)
                         .arg(s.meanB, 0, 'f', 3)
                         .arg(100.0 * s.winRateB, 0, 'f', 1));
}

void CompareView::updateButtons() {
  const bool busy = m_thread != nullptr;
  bool saved = false;
  for (const auto &r : m_model->rows())
    saved = saved || (r.savedReference && r.savedPolicy);
  m_generate->setEnabled(!busy);
  m_scoreSaved->setEnabled(!busy && saved);
  m_cancel->setEnabled(busy);
  m_remove->setEnabled(!busy && m_table->selectionModel()->hasSelection());
  // Results go back to the rows they were asked for: no edits while a job runs.
  m_table->setEditTriggers(busy ? QAbstractItemView::NoEditTriggers
                                : QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
}

QString CompareView::summaryText() const {
  return m_summary->text();
}
QString CompareView::statusText() const {
  return m_status->text();
}
QString CompareView::detailHtml() const {
  return m_detailA->toHtml() + m_detailB->toHtml();
}

} // namespace preflab::ui
