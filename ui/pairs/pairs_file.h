// PairsFile: the per-pair lines of eval/pairs.jsonl or `preflab-cli analyze`, read for the Pairs inspector.
#pragma once

#include <QString>

#include <map>
#include <optional>
#include <vector>

namespace preflab::ui {

// One pair's analysis. Every number is optional: analyze omits c/difficulty/idealised without a
// reference, and older files lack the texts.
struct PairRecord {
  QString id;
  int line = 0;                               // 1-based line in the file
  std::optional<double> implicitRewardMargin; // β·(policy − reference log-ratio margin)
  std::optional<double> logpMargin;           // logπ(chosen) − logπ(rejected)
  std::optional<double> c;                    // reference log-ratio logπ_ref(rejected) − logπ_ref(chosen)
  std::optional<double> difficulty;           // the run objective's loss where the policy ranks the pair level (DPO: softplus(−β·c))
  std::optional<double> raterFraction;
  std::optional<bool> rankedCorrectly; // after training
  std::optional<bool> rankedCorrectlyLenNorm;
  std::optional<bool> refRankedCorrectly;  // before training (the reference)
  std::map<double, bool> idealizedCorrect; // β → idealised ranking correct
  QString prompt, chosen, rejected;
  bool hasTexts = false;
};

// The parsed file. Thread-safe (no shared state).
struct PairsFile {
  QString path;
  std::vector<PairRecord> records;
  int blankLines = 0;

  // Reads `path`; blank lines are skipped and counted. Throws core::InputError
  // ("FILE:LINE: key 'K': problem") for a missing file, invalid JSON, a line that is not an object,
  // a missing or non-scalar "id", or a known key of the wrong type. Unknown keys are ignored.
  static PairsFile read(const QString &path);
};

} // namespace preflab::ui
