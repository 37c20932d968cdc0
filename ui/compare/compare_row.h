// CompareRow: one prompt of the Compare view with its seed, saved samples and comparison result.
#pragma once

#include "core/api/compare.h"

#include <QMetaType>
#include <QString>

#include <optional>
#include <vector>

namespace preflab::ui {

struct CompareRow {
  QString prompt;
  quint64 seed = 0;
  bool fixed = false; // from the run's fixed eval set (samples/eval_samples.jsonl)
  // The run's own samples for this prompt, when it came from eval_samples.jsonl.
  std::optional<QString> savedReference, savedPolicy;
  std::optional<core::ComparedPrompt> result; // cleared when the prompt or seed changes
};

// Result of one background comparison, delivered to the GUI thread by a queued signal.
struct CompareOutcome {
  std::vector<core::ComparedPrompt> rows; // in the order of the request's prompts
  std::vector<int> modelRows;             // table row of each result
  QString error;                          // empty on success
  bool cancelled = false;
};

} // namespace preflab::ui

Q_DECLARE_METATYPE(preflab::ui::CompareOutcome)
