// MainWindow: wiring of views, docks, menus, settings, drag-and-drop and the run controller.
#include "ui/main_window.h"

#include "core/api/run_reader.h"
#include "core/api/runs.h"
#include "core/api/sweeps.h"

#include "core/api/datasets.h"
#include "ui/compare/compare_view.h"
#include "ui/curves/curves_view.h"
#include "ui/datasets/dataset_view.h"
#include "ui/diagnostics/diagnostics_panel.h"
#include "ui/images/image_samples_view.h"
#include "ui/labels/label_view.h"
#include "ui/pairs/pairs_inspector.h"
#include "ui/runs/models_panel.h"
#include "ui/runs/run_browser.h"
#include "ui/runs/run_series_store.h"
#include "ui/sweep/sweep_table_model.h"
#include "ui/sweep/sweep_view.h"
#include "ui/training/new_run_dialog.h"
#include "ui/training/run_controller.h"
#include "ui/training/runs_panel.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QTreeWidget>

#include <filesystem>
#include <utility>

// Resources of a static library must be registered by name, outside any namespace.
static void initPreflabResources() {
  Q_INIT_RESOURCE(preflab);
}

namespace preflab::ui {

namespace {

// Optimizer steps for ten passes over a small training file (at least 10), at the base config's
// batch size and gradient accumulation.
std::int64_t labelRunSteps(const QString &file, const core::TextTrainConfig &base) {
  QFile f(file);
  std::int64_t lines = 0;
  if (f.open(QIODevice::ReadOnly))
    while (!f.atEnd())
      lines += !f.readLine().trimmed().isEmpty();
  const auto batch = std::max<std::int64_t>(1, base.perDeviceTrainBatchSize * base.gradientAccumulationSteps);
  return std::max<std::int64_t>(10, (10 * lines + batch - 1) / batch);
}

constexpr int kMaxRecent = 10;

bool isRunFolder(const QString &path) {
  return core::RunReader::isRunFolder(path.toStdString());
}

} // namespace

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent) {
  initPreflabResources();
  setWindowTitle(tr("PrefLab"));
  setAcceptDrops(true);
  m_store = new RunSeriesStore(this);
  m_controller = new RunController(this);
  m_lastConfig = embeddedConfig();
  buildViews();
  buildDocks();
  buildMenus();
  connectRuns();
  m_statusText = new QLabel(tr("Ready. Press “Train sentiment steering” to start the embedded task."));
  m_statusProgress = new QProgressBar;
  m_statusProgress->setMaximumWidth(240);
  m_statusProgress->hide();
  statusBar()->addWidget(m_statusText, 1);
  statusBar()->addPermanentWidget(m_statusProgress);
  restoreSettings();
}

MainWindow::~MainWindow() = default;

core::TextTrainConfig MainWindow::embeddedConfig() {
  initPreflabResources();
  QFile file(QStringLiteral(":/configs/sentiment_dpo.yaml"));
  if (!file.open(QIODevice::ReadOnly))
    return core::TextTrainConfig{};
  return core::textTrainConfigFromYaml(file.readAll().toStdString(), "embedded sentiment_dpo.yaml");
}

void MainWindow::buildViews() {
  m_tabs = new QTabWidget;
  m_tabs->setDocumentMode(true);
  m_curves = new CurvesView(m_store);
  m_compare = new CompareView;
  m_pairs = new PairsInspector;
  m_dataset = new DatasetView;
  m_tabs->addTab(m_curves, tr("Curves"));
  m_tabs->addTab(m_compare, tr("Compare"));
  m_tabs->addTab(m_pairs, tr("Pairs"));
  m_tabs->addTab(m_dataset, tr("Dataset"));
  m_images = new ImageSamplesView;
  m_tabs->addTab(m_images, tr("Images"));
  m_labels = new LabelView;
  m_tabs->addTab(m_labels, tr("Label"));
  connect(
      m_labels, &LabelView::trainRequested, this,
      [this](const QString &file, bool images, const QString &model) {
        // Text pairs generated from a model train that model (it is also their reference).
        // When the run ends, Compare generates reference and tuned answers to the labelled
        // prompts.
        m_labelRunPending = true;
        QList<QPair<QString, QString>> fields = {
            {QStringLiteral("task"), images ? QStringLiteral("image:manifest") : QString()},
            {QStringLiteral("train_file"), file},
            {QStringLiteral("name"), QFileInfo(file).completeBaseName()}};
        if (!images) // a few dozen labels: ten passes, not the embedded task's step count
          fields.append({QStringLiteral("max_steps"), QString::number(labelRunSteps(file, m_lastConfig))});
        newRunDialog(images ? QString() : model, fields);
      });
  m_sweep = new SweepView;
  m_tabs->addTab(m_sweep, tr("Sweep"));
  connect(m_sweep, &SweepView::runActivated, this, [this](const QString &dir) {
    if (openRunFolder(dir))
      m_tabs->setCurrentWidget(m_curves);
  });
  connect(m_sweep, &SweepView::openRequested, this, &MainWindow::chooseSweepFolder);
  connect(m_sweep, &SweepView::startRequested, this, &MainWindow::chooseSweepFile);
  connect(m_sweep, &SweepView::exported, this,
          [this](const QString &path) { statusBar()->showMessage(tr("Exported %1").arg(path), 8000); });
  setCentralWidget(m_tabs);
  connect(m_compare, &CompareView::errorOccurred, this,
          [this](const QString &m) { statusBar()->showMessage(m, 10000); });
  connect(m_dataset, &DatasetView::loaded, this, [this](const QString &path, int rows) {
    statusBar()->showMessage(tr("%1: %2 rows").arg(QFileInfo(path).fileName()).arg(rows), 8000);
  });
}

void MainWindow::buildDocks() {
  auto dock = [this](const QString &title, const QString &name, QWidget *w, Qt::DockWidgetArea area) {
    auto *d = new QDockWidget(title, this);
    d->setObjectName(name); // saveState/restoreState need names
    d->setWidget(w);
    addDockWidget(area, d);
    return d;
  };
  m_runsPanel = new RunsPanel(m_controller, tr("Train sentiment steering (DPO)"));
  m_browser = new RunBrowser(m_store);
  auto *runs = new QSplitter(Qt::Vertical);
  runs->addWidget(m_runsPanel);
  runs->addWidget(m_browser);
  runs->setStretchFactor(1, 2);
  runs->setMinimumWidth(360); // room for the run tables' name, state and step columns
  dock(tr("Runs"), QStringLiteral("RunsDock"), runs, Qt::LeftDockWidgetArea);
  m_datasets = new QListWidget;
  m_datasets->setToolTip(tr("Opened datasets; click to show one in the Dataset tab"));
  dock(tr("Datasets"), QStringLiteral("DatasetsDock"), m_datasets, Qt::LeftDockWidgetArea);
  m_models = new ModelsPanel;
  dock(tr("Models"), QStringLiteral("ModelsDock"), m_models, Qt::LeftDockWidgetArea);
  m_diagnostics = new DiagnosticsPanel;
  // Findings are one-liners: a strip under the views, like a build tool's problems panel.
  dock(tr("Diagnostics"), QStringLiteral("DiagnosticsDock"), m_diagnostics, Qt::BottomDockWidgetArea);
  setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);

  connect(m_datasets, &QListWidget::itemClicked, this, [this](QListWidgetItem *item) {
    m_dataset->openDataset(item->data(Qt::UserRole).toString());
    m_tabs->setCurrentWidget(m_dataset);
  });
  connect(m_models, &ModelsPanel::compareRequested, this,
          [this](const QString &reference, const QString &model) {
            m_compare->setModels(reference, model);
            m_tabs->setCurrentWidget(m_compare);
          });
  connect(m_models, &ModelsPanel::imageModelChosen, this, [this](const QString &model) {
    statusBar()->showMessage(tr("%1 is a text-to-image model: its samples are in the Images tab").arg(model),
                             8000);
    m_tabs->setCurrentWidget(m_images);
  });
  connect(m_models, &ModelsPanel::newRunRequested, this,
          [this](const QString &model) { newRunDialog(model); });
  connect(m_browser, &RunBrowser::currentRunChanged, this, &MainWindow::showRun);
  connect(m_browser, &RunBrowser::errorOccurred, this,
          [this](const QString &m) { QMessageBox::warning(this, tr("Run folder"), m); });
  connect(m_browser, &RunBrowser::warningOccurred, this,
          [this](const QString &m) { statusBar()->showMessage(m, 8000); });
  connect(m_runsPanel, &RunsPanel::startEmbeddedRequested, this, &MainWindow::startEmbeddedRun);
  connect(m_runsPanel, &RunsPanel::newRunRequested, this, [this] { newRunDialog(); });
}

void MainWindow::buildMenus() {
  auto *file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("Open &dataset…"), QKeySequence::Open, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open dataset"), QString(),
                                                      tr("JSON Lines (*.jsonl *.json);;All files (*)"));
    if (!path.isEmpty())
      openDataset(path);
  });
  file->addAction(tr("Open &run folder…"), QKeySequence(QStringLiteral("Ctrl+Shift+O")), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open run folder"), runsRoot());
    if (!dir.isEmpty())
      openRunFolder(dir);
  });
  file->addAction(tr("Open &model folder…"), this, [this] {
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Open a Hugging Face model folder or adapter"));
    if (!dir.isEmpty())
      openModelFolder(dir);
  });
  file->addAction(tr("Open s&weep folder…"), this, &MainWindow::chooseSweepFolder);
  m_recentMenu = file->addMenu(tr("Open &recent"));
  file->addSeparator();
  file->addAction(tr("&Export plot…"), QKeySequence(QStringLiteral("Ctrl+E")), this, &MainWindow::exportPlot);
  file->addAction(tr("Export plot &data (CSV)…"), this, &MainWindow::exportPlotData);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  auto *run = menuBar()->addMenu(tr("&Run"));
  run->addAction(tr("&New run…"), QKeySequence::New, this, [this] { newRunDialog(); });
  run->addAction(tr("&Train sentiment steering (DPO)"), QKeySequence(QStringLiteral("Ctrl+R")), this,
                 &MainWindow::startEmbeddedRun);
  run->addAction(tr("Resume run &folder…"), this, [this] {
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Resume a cancelled or interrupted run"), runsRoot());
    if (!dir.isEmpty())
      resumeRunFolder(dir);
  });
  run->addAction(tr("Run s&weep file…"), this, &MainWindow::chooseSweepFile);
  run->addSeparator();
  run->addAction(tr("&Pause"), QKeySequence(QStringLiteral("Ctrl+Shift+P")), this,
                 [this] { m_controller->pause(m_runsPanel->selectedRun()); });
  run->addAction(tr("R&esume"), QKeySequence(QStringLiteral("Ctrl+Shift+R")), this,
                 [this] { m_controller->resume(m_runsPanel->selectedRun()); });
  run->addAction(tr("&Cancel"), QKeySequence(QStringLiteral("Ctrl+Shift+C")), this,
                 [this] { m_controller->cancel(m_runsPanel->selectedRun()); });

  m_viewMenu = menuBar()->addMenu(tr("&View"));
  for (int i = 0; i < m_tabs->count(); ++i) // Ctrl+1 … Ctrl+7: the tabs, from the keyboard
    m_viewMenu->addAction(m_tabs->tabText(i), QKeySequence(QStringLiteral("Ctrl+%1").arg(i + 1)), this,
                          [this, i] {
                            m_tabs->setCurrentIndex(i);
                            m_tabs->currentWidget()->setFocus();
                          });
  m_viewMenu->addSeparator();
  for (auto *d : findChildren<QDockWidget *>())
    m_viewMenu->addAction(d->toggleViewAction());
  auto *help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About PrefLab"), this, [this] {
    QMessageBox::about(this, tr("About PrefLab"),
                       tr("<b>PrefLab %1</b><br>A workbench for preference-learning experiments: "
                          "datasets, training runs in worker threads, live curves, generations side by "
                          "side and per-pair ranking analysis.<br>GPL-3.0-or-later.")
                           .arg(QApplication::applicationVersion()));
  });
}

void MainWindow::connectRuns() {
  connect(m_controller, &RunController::runAdded, this, [this](const QString &id) {
    // The run's folder is its id in the store (as for folders opened from disk); resolved once
    // here rather than on every logged record.
    const auto request = m_controller->request(id);
    const QString dir = QDir(QString::fromStdString(request.outputDir())).absolutePath();
    m_runDirs.insert(id, dir);
    m_store->setRunLabel(dir, request.label);
  });
  connect(m_controller, &RunController::logged, this, &MainWindow::onLogged);
  connect(m_controller, &RunController::evaluated, this, &MainWindow::onLogged);
  connect(m_controller, &RunController::progress, this,
          [this](const QString &, const QString &stage, double f) {
            m_statusText->setText(tr("Preparing: %1").arg(stage));
            m_statusProgress->show();
            m_statusProgress->setValue(int(100.0 * f));
          });
  connect(m_controller, &RunController::message, this,
          [this](const QString &, const QString &text) { statusBar()->showMessage(text, 6000); });
  connect(m_controller, &RunController::phaseChanged, this, [this](const QString &id, RunPhase phase) {
    if (phase == RunPhase::Running || phase == RunPhase::Paused) {
      m_liveRunDir = m_runDirs.value(id);
      m_statusText->setText(tr("%1: %2").arg(m_store->runLabel(m_liveRunDir), runPhaseName(phase)));
      m_diagnosticsTimer->start();
    }
  });
  connect(m_controller, &RunController::finished, this, &MainWindow::onFinished);
  // D2PO with a person as the gold labeller: the run waits for the round's labels in a store.
  connect(m_controller, &RunController::labelsWanted, this,
          [this](const QString &, const QString &store, const QString &annotator, qint64 asked, qint64 open) {
            QString error;
            if (QFileInfo(m_labels->storePath()) != QFileInfo(store) && !m_labels->openStore(store, &error)) {
              m_statusText->setText(
                  tr("The run waits for gold labels in %1, which does not open: %2").arg(store, error));
              return;
            }
            if (!annotator.isEmpty()) // the run counts only this annotator's decisions
              m_labels->setAnnotator(annotator);
            m_labels->refresh();
            m_labels->setFilter(LabelView::Filter::Unlabelled);
            m_labels->setRequestText(
                tr("The run waits for your gold labels: %1 of %2 questions of this round are "
                   "open. It goes on when each has a decision.")
                    .arg(open)
                    .arg(asked));
            m_tabs->setCurrentWidget(m_labels);
            m_labels->setFocus();
          });
  // Diagnostics of the live run: metrics.jsonl is re-read every few seconds, not per step.
  m_diagnosticsTimer = new QTimer(this);
  m_diagnosticsTimer->setInterval(3000);
  connect(m_diagnosticsTimer, &QTimer::timeout, this, [this] {
    if (!m_liveRunDir.isEmpty())
      m_diagnostics->analyseRunFolder(m_liveRunDir);
  });
}

void MainWindow::onLogged(const QString &runId, const MetricRecord &record) {
  const QString dir = m_runDirs.value(runId);
  m_store->appendRecord(dir, double(record.step), record.wallTime, record.metrics);
  if (record.maxSteps > 0) {
    m_statusProgress->show();
    m_statusProgress->setValue(int(100 * record.step / record.maxSteps));
    m_statusText->setText(
        tr("%1: step %2 of %3").arg(m_store->runLabel(dir)).arg(record.step).arg(record.maxSteps));
  }
}

void MainWindow::onFinished(const QString &runId, const RunResult &result) {
  m_diagnosticsTimer->stop();
  m_statusProgress->hide();
  const QString label = m_controller->request(runId).label;
  m_statusText->setText(tr("%1 %2: %3").arg(label, runPhaseName(result.phase), result.message));
  if (result.phase == RunPhase::Failed)
    QMessageBox::warning(this, tr("Run failed"), tr("%1 failed:\n%2").arg(label, result.message));
  const QString dir = QDir(result.runDir).absolutePath();
  if (!isRunFolder(dir))
    return;
  // A point of a sweep: its summary.jsonl as the CLI writes it, and the Sweep tab's row.
  const QString sweepDir = QFileInfo(dir).path();
  if (core::isSweepFolder(sweepDir.toStdString())) {
    try {
      if (m_sweep->sweepDir() == sweepDir) { // the rows the tab has just read
        m_sweep->reload();
        core::writeSweepSummary(sweepDir.toStdString(), m_sweep->model()->rows());
      } else {
        core::writeSweepSummary(sweepDir.toStdString(), core::readSweepFolder(sweepDir.toStdString()));
      }
    } catch (const std::exception &e) {
      statusBar()->showMessage(QString::fromStdString(e.what()), 8000);
    }
  }
  // From now on the run folder is the record: reload it so curves show every logged line.
  m_store->clearRun(dir);
  m_browser->openRun(dir);
  m_browser->selectRuns({dir});
  m_liveRunDir.clear();
  // A run on labels from the Label tab: reference and tuned answers to the labelled prompts
  // (Compare), or its reference and tuned images (Images); the Pairs tab has how it ranks them.
  if (m_labelRuns.remove(runId) && result.phase == RunPhase::Finished) {
    if (core::RunReader(dir.toStdString()).isImageRun()) {
      m_tabs->setCurrentWidget(m_images);
    } else {
      QString error;
      if (!m_compare->isBusy() && m_compare->openRunFolder(dir, &error) && m_compare->generate())
        m_tabs->setCurrentWidget(m_compare);
    }
  }
}

QString MainWindow::runsRoot() const {
  return QSettings()
      .value(QStringLiteral("runsRoot"), QDir::current().filePath(QStringLiteral("runs")))
      .toString();
}

QString MainWindow::startEmbeddedRun() {
  RunRequest request;
  request.config = embeddedConfig();
  request.label = QStringLiteral("sentiment-dpo");
  request.config.outputDir =
      QDir(runsRoot())
          .filePath(request.label + QDateTime::currentDateTime().toString(QStringLiteral("-yyyyMMdd-HHmmss")))
          .toStdString();
  m_tabs->setCurrentWidget(m_curves);
  m_curves->setMetric(QStringLiteral("loss"));
  return m_controller->enqueue(request);
}

void MainWindow::newRunDialog(const QString &model, const QList<QPair<QString, QString>> &fields) {
  core::TextTrainConfig base = m_lastConfig;
  if (!model.isEmpty()) {
    base.task.clear();
    base.modelNameOrPath = model.toStdString();
    base.refModelNameOrPath.clear(); // a new model is its own reference, not the last run's
  }
  NewRunDialog dialog(base, runsRoot(), this);
  for (const auto &[key, value] : fields)
    dialog.setField(key, value);
  if (dialog.exec() != QDialog::Accepted) {
    m_labelRunPending = false;
    return;
  }
  RunRequest request;
  if (dialog.isImage()) {
    request.image = dialog.imageConfig();
  } else {
    request.config = dialog.config();
    m_lastConfig = request.config;
  }
  request.label = dialog.label();
  m_tabs->setCurrentWidget(m_curves);
  const QString id = m_controller->enqueue(request);
  if (std::exchange(m_labelRunPending, false))
    m_labelRuns.insert(id);
}

QString MainWindow::resumeRunFolder(const QString &dir) {
  RunRequest request;
  const core::RunReader run(dir.toStdString());
  const auto configPath = QDir(dir).filePath(QStringLiteral("config.yaml")).toStdString();
  try { // the folder's own resolved config, as `preflab-cli train --resume` uses it
    if (run.kind() == core::RunKind::DiffusionPretraining)
      throw std::runtime_error(dir.toStdString() +
                               " is a pretrain-diffusion run; resume it with "
                               "'preflab-cli pretrain-diffusion --out " +
                               dir.toStdString() + " --resume'");
    if (run.isImageRun()) {
      request.image = core::loadImageTrainConfig(configPath);
      request.image->outputDir = QDir(dir).absolutePath().toStdString();
    } else {
      request.config = core::loadTextTrainConfig(configPath);
    }
  } catch (const std::exception &e) {
    QMessageBox::warning(this, tr("Resume run"), QString::fromStdString(e.what()));
    return {};
  }
  if (!request.image)
    request.config.outputDir = QDir(dir).absolutePath().toStdString();
  request.label = QDir(dir).dirName();
  request.resume = true;
  m_browser->closeRun(QDir(dir).absolutePath()); // its curves now come from the worker
  m_store->removeRun(QDir(dir).absolutePath());
  m_tabs->setCurrentWidget(m_curves);
  return m_controller->enqueue(request);
}

bool MainWindow::openPath(const QString &path) {
  if (path.endsWith(QLatin1String(".preflab-labels"))) {
    QString error;
    if (!m_labels->openStore(path, &error)) {
      QMessageBox::warning(this, tr("Open label store"), error);
      return false;
    }
    addRecent(QFileInfo(path).absoluteFilePath());
    m_tabs->setCurrentWidget(m_labels);
    return true;
  }
  if (isRunFolder(path) || !RunBrowser::runFoldersIn(path).isEmpty()) // a run, or a folder of runs
    return openRunFolder(path);
  if (ModelsPanel::isModelFolder(path))
    return openModelFolder(path);
  if (QFileInfo(path).isFile())
    return openDataset(path);
  QMessageBox::warning(this, tr("Open"),
                       tr("%1 is neither a dataset file, a run folder (a folder with config.yaml or "
                          "metrics.jsonl) nor a model folder (config.json or adapter_config.json).")
                           .arg(path));
  return false;
}

bool MainWindow::openModelFolder(const QString &dir) {
  if (const QString error = m_models->addModelFolder(dir); !error.isEmpty()) {
    QMessageBox::warning(this, tr("Open model folder"), error);
    return false;
  }
  addRecent(QFileInfo(dir).absoluteFilePath());
  statusBar()->showMessage(
      tr("Added %1 to Models: double-click to compare, right-click to start a run").arg(dir), 8000);
  return true;
}

bool MainWindow::openDataset(const QString &path) {
  QString error;
  if (!m_dataset->openDataset(path, &error))
    return false; // DatasetView shows the dialog naming file, line and problem
  const QString abs = QFileInfo(path).absoluteFilePath();
  if (m_datasets->findItems(QFileInfo(abs).fileName(), Qt::MatchExactly).isEmpty()) {
    auto *item = new QListWidgetItem(QFileInfo(abs).fileName(), m_datasets);
    item->setData(Qt::UserRole, abs);
    item->setToolTip(abs);
  }
  m_tabs->setCurrentWidget(m_dataset);
  addRecent(abs);
  return true;
}

bool MainWindow::openRunFolder(const QString &dir) {
  const QString abs = QDir(dir).absolutePath();
  if (core::isSweepFolder(abs.toStdString()))
    return openSweepFolder(abs);
  if (!m_browser->openRun(abs))
    return false;
  if (isRunFolder(abs)) // a folder of runs: openRun selected them all
    m_browser->selectRuns({abs});
  else
    m_sweep->openSweep(abs); // its runs side by side in the Sweep tab too
  addRecent(abs);
  return true;
}

void MainWindow::chooseSweepFolder() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open sweep folder"), runsRoot());
  if (!dir.isEmpty())
    openSweepFolder(dir);
}

void MainWindow::chooseSweepFile() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Run sweep file"), QString(),
                                                    tr("Sweep files (*.yaml *.yml);;All files (*)"));
  QString error;
  if (!path.isEmpty() && startSweepFile(path, &error).isEmpty() && !error.isEmpty())
    QMessageBox::warning(this, tr("Run sweep file"), error);
}

bool MainWindow::openSweepFolder(const QString &dir) {
  const QString abs = QDir(dir).absolutePath();
  QString error;
  if (!m_sweep->openSweep(abs, &error)) {
    QMessageBox::warning(this, tr("Open sweep folder"), error);
    return false;
  }
  if (!RunBrowser::runFoldersIn(abs).isEmpty())
    m_browser->openRun(abs); // the points that have folders, for Curves
  m_tabs->setCurrentWidget(m_sweep);
  addRecent(abs);
  return true;
}

QStringList MainWindow::startSweepFile(const QString &path, QString *error) {
  std::vector<RunRequest> requests;
  core::SweepSpec spec;
  try {
    spec = core::readSweepSpec(path.toStdString());
    spec.outputDir = QDir(QString::fromStdString(spec.outputDir)).absolutePath().toStdString();
    const bool image = core::isImageTrainConfigFile(spec.base);
    for (const auto &point : spec.points) {
      const auto dir = spec.outputDir + "/" + point.name;
      RunRequest request;
      try {
        if (image) {
          request.image = core::sweepPointConfig(spec, point, {}, core::loadImageTrainConfig);
          request.image->outputDir = dir;
        } else {
          request.config = core::sweepPointConfig(spec, point, {}, core::loadTextTrainConfig);
          request.config.outputDir = dir;
        }
      } catch (const std::exception &e) {
        throw std::runtime_error(path.toStdString() + ": point " + point.name + ": " + e.what());
      }
      const core::RunReader before(dir);
      const auto status = core::RunReader::isRunFolder(dir) ? before.status() : std::nullopt;
      if (status && status->state == "finished")
        continue; // kept, as the CLI keeps it
      request.resume = status.has_value();
      request.label = QString::fromStdString(std::filesystem::path(spec.outputDir).filename().string() + "/" +
                                             point.name);
      requests.push_back(std::move(request));
    }
    core::writeSweepPlan(spec, {});
  } catch (const std::exception &e) {
    if (error)
      *error = QString::fromStdString(e.what());
    return {};
  }
  QStringList ids;
  for (auto &request : requests)
    ids << m_controller->enqueue(std::move(request));
  const QString dir = QString::fromStdString(spec.outputDir);
  m_sweep->openSweep(dir);
  m_tabs->setCurrentWidget(m_sweep);
  statusBar()->showMessage(tr("Sweep %1: %2 of %3 points queued")
                               .arg(QDir::toNativeSeparators(dir))
                               .arg(ids.size())
                               .arg(spec.points.size()),
                           10000);
  return ids;
}

// The selected run's folder feeds the Pairs, Compare, Models and Diagnostics views.
void MainWindow::showRun(const QString &dir) {
  if (dir.isEmpty())
    return;
  QString error;
  m_diagnostics->analyseRunFolder(dir, &error);
  if (QFileInfo::exists(QDir(dir).filePath(QStringLiteral("eval/pairs.jsonl"))))
    m_pairs->openRunFolder(dir, &error);
  if (core::RunReader(dir.toStdString())
          .isImageRun()) { // text-to-image: samples are images, Compare is for text
    m_images->openRunFolder(dir, &error);
    if (m_tabs->currentWidget() == m_compare || m_tabs->currentWidget() == m_pairs)
      m_tabs->setCurrentWidget(m_images);
  } else if (QFileInfo::exists(QDir(dir).filePath(QStringLiteral("run_info.json"))) && !m_compare->isBusy()) {
    m_compare->openRunFolder(dir, &error);
  }
  m_models->listRun(dir);
}

// The Sweep tab's chart and table when it is shown, else the curves.
void MainWindow::exportPlot() {
  const bool sweep = m_tabs->currentWidget() == m_sweep;
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export plot"), sweep ? QStringLiteral("sweep.pdf") : QStringLiteral("curves.pdf"),
      tr("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"));
  QString error;
  if (!path.isEmpty() && !(sweep ? m_sweep->exportChart(path, &error) : m_curves->exportChart(path, &error)))
    QMessageBox::warning(this, tr("Export plot"), error);
}

void MainWindow::exportPlotData() {
  const bool sweep = m_tabs->currentWidget() == m_sweep;
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export plot data"), sweep ? QStringLiteral("sweep.csv") : QStringLiteral("curves.csv"),
      tr("CSV (*.csv)"));
  QString error;
  if (!path.isEmpty() && !(sweep ? m_sweep->exportCsv(path, &error) : m_curves->exportCsv(path, &error)))
    QMessageBox::warning(this, tr("Export plot data"), error);
}

void MainWindow::addRecent(const QString &path) {
  QSettings settings;
  auto recent = settings.value(QStringLiteral("recent")).toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent)
    recent.removeLast();
  settings.setValue(QStringLiteral("recent"), recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  m_recentMenu->clear();
  const auto recent = QSettings().value(QStringLiteral("recent")).toStringList();
  for (const auto &path : recent)
    m_recentMenu->addAction(path, this, [this, path] { openPath(path); });
  m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::restoreSettings() {
  QSettings s;
  if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray()))
    resize(1440, 900);
  if (!restoreState(s.value(QStringLiteral("window/state")).toByteArray())) {
    // First start: a low diagnostics strip, so the views keep their height.
    // Sizes apply once the window is laid out, hence the deferred call.
    QTimer::singleShot(0, this, [this] {
      for (auto *d : findChildren<QDockWidget *>())
        if (dockWidgetArea(d) == Qt::BottomDockWidgetArea)
          resizeDocks({d}, {130}, Qt::Vertical);
    });
  }
  m_tabs->setCurrentIndex(s.value(QStringLiteral("window/tab"), 0).toInt());
  m_curves->setSmoothing(s.value(QStringLiteral("curves/smoothing"), 0.6).toDouble());
  m_curves->setLogY(s.value(QStringLiteral("curves/logY"), false).toBool());
  m_curves->setIgnoreOutliers(s.value(QStringLiteral("curves/ignoreOutliers"), true).toBool());
  rebuildRecentMenu();
}

void MainWindow::saveSettings() const {
  QSettings s;
  s.setValue(QStringLiteral("window/geometry"), saveGeometry());
  s.setValue(QStringLiteral("window/state"), saveState());
  s.setValue(QStringLiteral("window/tab"), m_tabs->currentIndex());
  s.setValue(QStringLiteral("curves/smoothing"), m_curves->smoothing());
  s.setValue(QStringLiteral("curves/logY"), m_curves->logY());
  s.setValue(QStringLiteral("curves/ignoreOutliers"), m_curves->ignoreOutliers());
}

void MainWindow::closeEvent(QCloseEvent *event) {
  const int active = m_controller->activeCount();
  if (active > 0) {
    const auto answer = QMessageBox::question(
        this, tr("Quit PrefLab"),
        (active == 1 ? tr("A run is still going.") : tr("%1 runs are still going.").arg(active)) +
            tr(" Stop and quit? A running run saves a checkpoint first; Run › Resume run folder… "
               "continues it later."),
        QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer != QMessageBox::Yes) {
      event->ignore();
      return;
    }
    m_statusText->setText(tr("Stopping runs…"));
    m_controller->shutdown();
  }
  saveSettings();
  event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event) {
  if (event->mimeData()->hasUrls())
    event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event) {
  for (const auto &url : event->mimeData()->urls())
    if (url.isLocalFile())
      openPath(url.toLocalFile());
  event->acceptProposedAction();
}

QStringList MainWindow::saveScreenshots(const QString &dir) {
  QDir().mkpath(dir);
  QStringList saved;
  for (int i = 0; i < m_tabs->count(); ++i) {
    m_tabs->setCurrentIndex(i);
    QApplication::processEvents();
    const QString path = QDir(dir).filePath(m_tabs->tabText(i).toLower() + QStringLiteral(".png"));
    if (grab().save(path))
      saved << path;
  }
  return saved;
}

} // namespace preflab::ui
