// SweepView: a sweep folder's runs as a sortable table of final metrics and a scatter of any two,
// with the Pareto frontier drawn; hover a point for its run, click it to open the run.
#pragma once

#include <QPoint>
#include <QString>
#include <QVector>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QSortFilterProxyModel;
class QTableView;
class QTimer;
class QToolButton;

namespace preflab::ui {

class SweepTableModel;

// Reads the folder with core::readSweepFolder (sweep.json's points, or any folder of runs) and
// again every two seconds while a point is queued or running, so a sweep fills in as it goes.
// Axes: any numeric column (metrics, and values such as beta); "higher is better" per axis sets
// which corner the frontier faces (guessed from the name: loss, kl, seconds lower). Points are
// coloured by a value such as loss_type. GUI thread only.
class SweepView : public QWidget {
  Q_OBJECT
public:
  explicit SweepView(QWidget *parent = nullptr);

  // false with *error (and the message shown in the view) when the folder has no runs or its
  // sweep.json is malformed.
  bool openSweep(const QString &dir, QString *error = nullptr);
  QString sweepDir() const { return m_dir; }
  void reload(); // reads the folder again now

  void setAxes(const QString &x, const QString &y); // column names; unknown ones are ignored
  QString xColumn() const;
  QString yColumn() const;
  void setHigherIsBetter(bool x, bool y);
  void setColourBy(const QString &column); // "" for one colour
  void setLogX(bool on);

  // Model rows of the plotted points and of the frontier's (ascending x).
  QVector<int> plottedRows() const { return m_plotted; }
  QVector<int> frontierRows() const { return m_frontier; }
  // The model row of the point under a position in plot pixels (within 10 px), else -1.
  int rowAt(const QPoint &pos) const;
  QPoint pixelOf(int row) const; // where a plotted row's point is drawn

  bool exportChart(const QString &path, QString *error = nullptr); // .png .pdf .svg
  bool exportCsv(const QString &path, QString *error = nullptr);   // every row, every column

  SweepTableModel *model() const { return m_model; }
  QTableView *table() const { return m_table; }
  QCustomPlot *plot() const { return m_plot; }

signals:
  void runActivated(const QString &dir); // a point clicked or a row double-clicked
  void openRequested();                  // "Open sweep…"
  void startRequested();                 // "Run sweep file…"
  void exported(const QString &path);

private:
  QWidget *buildToolBar();
  void refillAxisChoices();
  void replot();
  void showHover(QMouseEvent *event);
  void exportInteractively(const QString &suffix);
  void selectRow(int row);

  SweepTableModel *m_model;
  QSortFilterProxyModel *m_sorted;
  QTableView *m_table;
  QCustomPlot *m_plot;
  QLabel *m_title;
  QLabel *m_message;
  QComboBox *m_xCombo, *m_yCombo, *m_colourCombo;
  QCheckBox *m_xBetter, *m_yBetter, *m_logX;
  QTimer *m_poll;
  QString m_dir;
  QVector<int> m_plotted, m_frontier;
  int m_selectedRow = -1;
  QPoint m_pressAt; // where the last press on the plot was: a release near it is a click
  bool m_filling = false;
  bool m_userChoseAxes = false;
};

} // namespace preflab::ui
