// DatasetView: opens a text preference JSONL off the GUI thread and shows its pairs, details and statistics.
#pragma once

#include "core/api/datasets.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QModelIndex;
class QProgressBar;
class QTableView;
class QTextBrowser;
class QThread;

namespace preflab::ui {

class DatasetFilterProxy;
class DatasetStatsPanel;
class DatasetTableModel;

// The Datasets view: search field and filters, the table of pairs (or KTO examples), a detail
// pane with the selected row's full texts, and a statistics pane. Parsing happens in core
// (readTextPreferences) on a worker thread; the widget stays responsive and shows a busy bar.
// GUI thread only. Destroying the view while a file loads waits for the load to finish.
class DatasetView : public QWidget {
  Q_OBJECT

public:
  explicit DatasetView(QWidget *parent = nullptr);
  ~DatasetView() override;

  // Starts loading `path` in the background and returns true; the outcome arrives as loaded() or
  // loadFailed(). Returns false (with *error set, loadFailed() emitted and, unless dialogs are
  // off, a critical message box) when the file does not exist. A newer call supersedes a load
  // still running: only the last one is shown.
  bool openDataset(const QString &path, QString *error = nullptr);
  // Reloads the current file (e.g. after changing "skip invalid lines").
  void reload();
  // Message boxes on errors (default on); tests turn them off.
  void setShowDialogs(bool show) { m_showDialogs = show; }
  void setSkipInvalid(bool skip);
  bool skipInvalid() const;

  bool isLoading() const { return m_loading; }
  QString currentPath() const { return m_path; }
  const core::TextPreferenceData *dataset() const;

  DatasetTableModel *model() const { return m_model; }
  DatasetFilterProxy *proxy() const { return m_proxy; }
  QTableView *table() const { return m_table; }
  QLineEdit *searchField() const { return m_search; }
  DatasetStatsPanel *statsPanel() const { return m_stats; }
  QString detailText() const;

signals:
  void loaded(const QString &path, int rows);
  void loadFailed(const QString &message);

private:
  struct LoadResult;
  void buildUi();
  QWidget *buildFilterBar();
  void startLoad(const QString &path, bool skipInvalid);
  void finishLoad(const std::shared_ptr<LoadResult> &result, int generation);
  void fail(const QString &message);
  void applyFilters();
  void showDetail(const QModelIndex &proxyIndex);
  void updateCount();
  void updateFilterWidgets();

  DatasetTableModel *m_model = nullptr;
  DatasetFilterProxy *m_proxy = nullptr;
  QTableView *m_table = nullptr;
  QTextBrowser *m_detail = nullptr;
  DatasetStatsPanel *m_stats = nullptr;
  QLineEdit *m_search = nullptr;
  QComboBox *m_lengthOrder = nullptr;
  QComboBox *m_label = nullptr;
  QDoubleSpinBox *m_raterLow = nullptr;
  QDoubleSpinBox *m_raterHigh = nullptr;
  QWidget *m_raterBox = nullptr;
  QCheckBox *m_skipInvalid = nullptr;
  QProgressBar *m_progress = nullptr;
  QLabel *m_pathLabel = nullptr;
  QLabel *m_countLabel = nullptr;

  QString m_path;
  bool m_showDialogs = true;
  bool m_loading = false;
  int m_generation = 0;
  QList<QThread *> m_threads;
};

} // namespace preflab::ui
