// ConfigDiffModel: the keys on which two runs' configs differ, as a read-only table.
#pragma once

#include <QAbstractTableModel>
#include <QMap>
#include <QVector>

namespace preflab::ui {

// Columns: key, value in run A, value in run B. A key present in only one config shows
// kMissing on the other side (in grey italics). Values that are equal as numbers count as
// equal and are displayed in their shortest form (the tooltip shows the text as written).
// Rows are sorted by key. GUI thread only.
class ConfigDiffModel : public QAbstractTableModel {
  Q_OBJECT
public:
  static constexpr const char *kMissing = "(absent)";

  explicit ConfigDiffModel(QObject *parent = nullptr);

  void setConfigs(const QString &nameA, const QMap<QString, QString> &a, const QString &nameB,
                  const QMap<QString, QString> &b);
  void clear();
  QStringList differingKeys() const;

  int rowCount(const QModelIndex &parent = {}) const override;
  int columnCount(const QModelIndex &parent = {}) const override;
  QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
  struct Row {
    QString key;
    QString a, b;
    bool inA = false, inB = false;
  };
  QVector<Row> m_rows;
  QString m_nameA, m_nameB;
};

} // namespace preflab::ui
