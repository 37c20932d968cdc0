// ImageSamplesView: a text-to-image run's held-out samples, reference beside tuned, with scores.
#pragma once

#include <QString>
#include <QWidget>

class QComboBox;
class QFileSystemWatcher;
class QLabel;
class QScrollArea;
class QSplitter;
class QTableWidget;

namespace preflab::ui {

// Shows the grids that an image run writes into samples/ (grid-step-N.png: reference on the left,
// tuned policy on the right, one row per class, same prompts and seeds), labelled with the class
// names and sides, a step chooser (newest first), the evaluation summary (win rate with its
// interval, oracle reward, class accuracy, appeal, implicit accuracy) and the per-sample oracle
// scores from eval/samples.jsonl. Follows a live run: new grids appear as the run writes them.
class ImageSamplesView : public QWidget {
  Q_OBJECT

public:
  explicit ImageSamplesView(QWidget *parent = nullptr);

  // Shows `runDir`. Returns false (with `error`) when it holds no image samples; the view then
  // explains that instead.
  bool openRunFolder(const QString &runDir, QString *error = nullptr);
  // True when `runDir`'s run_info.json says task "text-to-image".
  static bool isImageRun(const QString &runDir);

  QString runDir() const { return m_runDir; }
  QStringList gridSteps() const; // the step chooser's entries, newest first
  QString summaryText() const;   // the summary line as plain text
  int sampleRows() const;        // rows of the per-sample table
  QImage shownImage() const;     // the labelled grid on screen (null when none)

protected:
  void resizeEvent(QResizeEvent *event) override;
  bool eventFilter(QObject *watched, QEvent *event) override;

private:
  void buildUi();
  void reload();
  void showGrid();
  void loadSummary();
  void loadSamples();

  QString m_runDir;
  QLabel *m_summary = nullptr;
  QComboBox *m_step = nullptr;
  QComboBox *m_zoom = nullptr;
  QLabel *m_image = nullptr;
  QTableWidget *m_table = nullptr;
  QSplitter *m_split = nullptr;
  QScrollArea *m_scroll = nullptr;
  bool m_sized = false;
  QFileSystemWatcher *m_watcher = nullptr;
  QImage m_shown;
};

} // namespace preflab::ui
