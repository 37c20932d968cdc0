// DatasetTableModel: a loaded text preference dataset (paired or KTO) as a read-only table.
#pragma once

#include "core/api/datasets.h"

#include <QAbstractTableModel>
#include <QStringList>

#include <memory>

namespace preflab::ui {

// Rows are the pairs (or unpaired examples) in file order. Paired columns: id, prompt, chosen,
// rejected, len chosen, len rejected, rater fraction; KTO columns: id, prompt, completion, label,
// len. Lengths are in bytes (UTF-8). Texts are elided to one line in DisplayRole and complete in
// ToolTipRole; SortRole carries numbers for numeric columns (and the file line for the id).
// GUI thread only; the data is shared read-only and never modified.
class DatasetTableModel : public QAbstractTableModel {
  Q_OBJECT

public:
  enum Role { SortRole = Qt::UserRole + 1, FullTextRole, LineRole };
  enum PairedColumn {
    Id,
    Prompt,
    Chosen,
    Rejected,
    LenChosen,
    LenRejected,
    RaterFraction,
    PairedColumnCount
  };
  enum UnpairedColumn { UId, UPrompt, UCompletion, ULabel, ULen, UnpairedColumnCount };

  explicit DatasetTableModel(QObject *parent = nullptr);

  // Replaces the data (a model reset). A null pointer empties the model.
  void setDataset(std::shared_ptr<const core::TextPreferenceData> data);
  const core::TextPreferenceData *dataset() const { return m_data.get(); }
  bool isUnpaired() const { return m_data && m_data->isUnpaired(); }

  // Lower-cased prompt/chosen/rejected (or prompt/completion) of a row, for searching.
  const QString &searchText(int row) const { return m_search.at(row); }

  int rowCount(const QModelIndex &parent = {}) const override;
  int columnCount(const QModelIndex &parent = {}) const override;
  QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  // One line of at most `maxChars` characters: line breaks shown as "⏎", an ellipsis when cut.
  static QString elide(const QString &text, int maxChars = 120);

private:
  QVariant pairedData(int row, int column, int role) const;
  QVariant unpairedData(int row, int column, int role) const;

  std::shared_ptr<const core::TextPreferenceData> m_data;
  QStringList m_search;
};

} // namespace preflab::ui
