// PairsInspector: per-pair results of a run's evaluation (or of analyze) with filters and the pair's texts.
#pragma once

#include <QWidget>

#include <optional>

class QComboBox;
class QDoubleSpinBox;
class QCheckBox;
class QLabel;
class QLineEdit;
class QModelIndex;
class QTableView;
class QTextBrowser;

namespace preflab::ui {

class PairsFilterProxy;
class PairsTableModel;

// The Pairs tab: a header line with the run's ranking summary, filters (search, outcome,
// difficulty range), the sortable table of pairs and a detail pane with the selected pair's
// numbers and texts. Texts come from the pairs file when it has them, or are joined by id from a
// dataset file (joinTexts). Files are small (one line per evaluated pair) and read in the GUI
// thread. Errors: the open functions return false with *error set, emit loadFailed() and, unless
// setShowDialogs(false), show a message box; the previous contents stay. GUI thread only.
class PairsInspector : public QWidget {
  Q_OBJECT

public:
  explicit PairsInspector(QWidget *parent = nullptr);

  // A per-pair JSONL (eval/pairs.jsonl or the --out-pairs of `preflab-cli analyze`).
  bool openPairsFile(const QString &path, QString *error = nullptr);
  // A run folder: eval/pairs.jsonl, eval/summary.json for the header, config.yaml for β.
  bool openRunFolder(const QString &runDir, QString *error = nullptr);
  // Joins prompt/chosen/rejected by id (or 1-based line) from a preference dataset file.
  bool joinTexts(const QString &datasetPath, QString *error = nullptr);
  // β for the idealised column (openRunFolder takes it from config.yaml).
  void setBeta(std::optional<double> beta);
  void setShowDialogs(bool show) { m_showDialogs = show; }

  PairsTableModel *model() const { return m_model; }
  PairsFilterProxy *proxy() const { return m_proxy; }
  QTableView *table() const { return m_table; }
  QString headerText() const;
  QString detailText() const;

signals:
  void loaded(const QString &path, int pairs);
  void loadFailed(const QString &message);
  void textsJoined(int joined);

private:
  void buildUi();
  QWidget *buildFilterBar();
  bool loadPairs(const QString &path, QString *error);
  bool failWith(const QString &message, QString *error);
  void applyFilters();
  void showDetail(const QModelIndex &proxyIndex);
  void updateCount();
  void setSummaryHeader(const QString &summaryPath);

  PairsTableModel *m_model = nullptr;
  PairsFilterProxy *m_proxy = nullptr;
  QTableView *m_table = nullptr;
  QTextBrowser *m_detail = nullptr;
  QLabel *m_header = nullptr;
  QLabel *m_countLabel = nullptr;
  QLineEdit *m_search = nullptr;
  QComboBox *m_outcome = nullptr;
  QCheckBox *m_difficultyOn = nullptr;
  QDoubleSpinBox *m_difficultyLow = nullptr;
  QDoubleSpinBox *m_difficultyHigh = nullptr;
  bool m_showDialogs = true;
};

} // namespace preflab::ui
