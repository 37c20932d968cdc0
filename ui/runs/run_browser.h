// RunBrowser: opened run folders in a table, each tailed live into a RunSeriesStore; config view and config
// diff.
#pragma once

#include <QHash>
#include <QStringList>
#include <QWidget>

class QAbstractItemModel;
class QLabel;
class QPlainTextEdit;
class QTabWidget;
class QTableView;

namespace preflab::ui {

class ConfigDiffModel;
class RunFolderWatcher;
class RunListModel;
class RunSeriesStore;

// A run folder is one with config.yaml or metrics.jsonl (written by the app or by preflab-cli,
// here or on another machine). Every opened folder gets a RunFolderWatcher that feeds `store`
// (which must outlive the browser) under the run id = the folder's absolute path. Selecting one
// run shows its resolved config.yaml; selecting two shows the keys on which their configs
// differ. Errors (not a folder, not a run folder) are emitted and shown in the browser; nothing
// throws or opens a dialog on its own. GUI thread only.
class RunBrowser : public QWidget {
  Q_OBJECT
public:
  explicit RunBrowser(RunSeriesStore *store, QWidget *parent = nullptr);

  // Opens (or, when already open, selects) the run folder. A folder that holds run folders
  // instead (a sweep's folder, runs/) opens each of them and selects them all. Returns false
  // after emitting errorOccurred() with a message naming the folder when it is neither.
  bool openRun(const QString &dir);
  // The run folders directly inside `dir`, by name.
  static QStringList runFoldersIn(const QString &dir);
  // Stops tailing the run and removes its series from the store.
  void closeRun(const QString &dir);

  QStringList runDirs() const;         // absolute paths, in the order opened
  QStringList selectedRunDirs() const; // in table order
  void selectRuns(const QStringList &dirs);
  QString currentRunDir() const;
  RunFolderWatcher *watcher(const QString &dir) const;

  QAbstractItemModel *runModel() const;
  QAbstractItemModel *diffModel() const;
  QString shownConfigText() const; // the config text panel's content

signals:
  void runOpened(const QString &runId, const QString &dir);
  void currentRunChanged(const QString &dir);
  void errorOccurred(const QString &message);
  void warningOccurred(const QString &message); // e.g. malformed metrics lines, skipped

private:
  QWidget *buildToolBar();
  QTabWidget *buildDetails(); // config text and config diff tabs
  void browseForRun();
  void closeSelectedRuns();
  void onSelectionChanged();
  void showConfig(const QString &dir);
  void showDiff(const QString &dirA, const QString &dirB);
  QString readConfig(const QString &dir);
  void reportError(const QString &message);

  RunSeriesStore *m_store;
  RunListModel *m_runs;
  ConfigDiffModel *m_diff;
  QHash<QString, RunFolderWatcher *> m_watchers;
  QHash<QString, QString> m_configTexts;
  QTableView *m_table = nullptr;
  QTabWidget *m_details = nullptr;
  QPlainTextEdit *m_configText = nullptr;
  QTableView *m_diffTable = nullptr;
  QLabel *m_diffHeader = nullptr;
  QLabel *m_errorLabel = nullptr;
  QString m_lastDir;
};

} // namespace preflab::ui
