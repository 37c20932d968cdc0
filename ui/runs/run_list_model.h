// RunListModel: the opened run folders with their state, progress and objective, as a table.
#pragma once

#include <QAbstractTableModel>
#include <QVector>

namespace preflab::ui {

// One row per opened run folder. Columns: Name, State, Step (step/max), Objective (loss_type
// from config.yaml), Folder. Rows are identified by the folder's absolute path. GUI thread.
class RunListModel : public QAbstractTableModel {
  Q_OBJECT
public:
  enum Column { Name, State, Step, Objective, Folder, ColumnCount };
  static constexpr int kDirRole = Qt::UserRole + 1;

  struct Entry {
    QString dir;
    QString name;
    QString state;
    QString message;
    qint64 step = 0;
    qint64 maxSteps = 0;
    QString objective;
    qint64 malformedLines = 0;
  };

  explicit RunListModel(QObject *parent = nullptr);

  int addRun(const Entry &entry); // returns the row
  void removeRun(const QString &dir);
  int rowOf(const QString &dir) const; // -1 when absent
  const Entry &entry(int row) const { return m_entries[row]; }
  void setStatus(const QString &dir, const QString &state, const QString &message, qint64 step,
                 qint64 maxSteps);
  void setObjective(const QString &dir, const QString &objective);
  void setMalformedLines(const QString &dir, qint64 count);

  int rowCount(const QModelIndex &parent = {}) const override;
  int columnCount(const QModelIndex &parent = {}) const override;
  QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
  void emitRowChanged(int row);
  QVector<Entry> m_entries;
};

} // namespace preflab::ui
