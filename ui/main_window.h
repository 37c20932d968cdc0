// MainWindow: docks, tabs, menus and settings wired together; the views do the work.
#pragma once

#include "core/api/runs.h"

#include <QHash>
#include <QMainWindow>
#include <QSet>

class QLabel;
class QListWidget;
class QMenu;
class QProgressBar;
class QTabWidget;
class QTimer;
class QTreeWidget;

namespace preflab::ui {

class CompareView;
class CurvesView;
class DatasetView;
class ImageSamplesView;
class LabelView;
class ModelsPanel;
class DiagnosticsPanel;
class PairsInspector;
class RunBrowser;
class RunController;
class RunSeriesStore;
class RunsPanel;
class SweepView;
struct MetricRecord;
struct RunResult;

// Docks: Datasets, Models, Runs (runs of this window + opened run folders), Diagnostics.
// Tabs: Curves, Compare, Pairs, Dataset, Images, Label, Sweep. GUI thread only. Closing asks before stopping
// runs.
class MainWindow : public QMainWindow {
  Q_OBJECT

public:
  explicit MainWindow(QWidget *parent = nullptr);
  ~MainWindow() override;

  // Opens a dataset file or a run folder, whichever `path` is; false with a dialog when neither.
  bool openPath(const QString &path);
  bool openDataset(const QString &path);
  bool openModelFolder(const QString &dir); // a Hugging Face folder or adapter, into Models
  bool openRunFolder(const QString &dir);
  // A sweep folder (or any folder of runs) into the Sweep tab, its runs into the run browser.
  bool openSweepFolder(const QString &dir);
  // Queues every point of a sweep file that has not finished (an interrupted one resumes), each a
  // run folder under the sweep's output_dir (relative to the working folder, as for the CLI), and
  // shows the sweep. Every point is checked first: an error names the file and point and queues
  // nothing. Returns the queued runs' ids.
  QStringList startSweepFile(const QString &path, QString *error = nullptr);
  // Queues the embedded sentiment-steering DPO run (the README's one-button start).
  QString startEmbeddedRun();
  // Queues a run that continues from the last checkpoint of `dir` with its saved config.
  QString resumeRunFolder(const QString &dir);
  // Saves a PNG of the window with each main tab shown, into `dir` (for the screenshot script).
  QStringList saveScreenshots(const QString &dir);

  RunController *controller() const { return m_controller; }
  RunSeriesStore *store() const { return m_store; }
  QTabWidget *tabs() const { return m_tabs; }
  SweepView *sweepView() const { return m_sweep; }
  static core::TextTrainConfig embeddedConfig(); // the embedded task's config (from resources)

protected:
  void closeEvent(QCloseEvent *event) override;
  void dragEnterEvent(QDragEnterEvent *event) override;
  void dropEvent(QDropEvent *event) override;

private:
  void buildViews();
  void buildDocks();
  void buildMenus();
  void connectRuns();
  void restoreSettings();
  void saveSettings() const;
  void addRecent(const QString &path);
  void rebuildRecentMenu();
  void showRun(const QString &dir);
  // `model`: start from this model folder; `fields`: NewRunDialog::setField calls, in order.
  void newRunDialog(const QString &model = {}, const QList<QPair<QString, QString>> &fields = {});
  void chooseSweepFolder(); // a folder dialog, then openSweepFolder
  void chooseSweepFile();   // a file dialog, then startSweepFile (a refusal in a message box)
  void exportPlot();
  void exportPlotData();
  void onLogged(const QString &runId, const MetricRecord &record);
  void onFinished(const QString &runId, const RunResult &result);
  QString runsRoot() const;

  RunSeriesStore *m_store = nullptr;
  RunController *m_controller = nullptr;
  QTabWidget *m_tabs = nullptr;
  CurvesView *m_curves = nullptr;
  CompareView *m_compare = nullptr;
  PairsInspector *m_pairs = nullptr;
  ImageSamplesView *m_images = nullptr;
  LabelView *m_labels = nullptr;
  DatasetView *m_dataset = nullptr;
  RunsPanel *m_runsPanel = nullptr;
  SweepView *m_sweep = nullptr;
  RunBrowser *m_browser = nullptr;
  DiagnosticsPanel *m_diagnostics = nullptr;
  QListWidget *m_datasets = nullptr;
  ModelsPanel *m_models = nullptr;
  QMenu *m_recentMenu = nullptr;
  QMenu *m_viewMenu = nullptr;
  QLabel *m_statusText = nullptr;
  QProgressBar *m_statusProgress = nullptr;
  QTimer *m_diagnosticsTimer = nullptr;
  QString m_liveRunDir;              // folder of the run this window is training, for live diagnostics
  QHash<QString, QString> m_runDirs; // controller run id → absolute run folder (the store's id)
  QSet<QString> m_labelRuns;         // runs started by Train on these labels (Label tab)
  bool m_labelRunPending = false;    // the New run dialog was opened by Train on these labels
  core::TextTrainConfig m_lastConfig;
};

} // namespace preflab::ui
