// Agreement between annotators on a store's current decisions: per item (majority, share, count),
// per annotator pair (Cohen's κ), overall (Krippendorff's α for nominal data; Fleiss' κ when every
// labelled item has the same number of annotators). Categories: first, second, tie, both bad
// (skips are not decisions). No LibTorch.
#pragma once

#include "core/labels/label_store.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

struct ItemAgreement {
  std::int64_t item = 0;
  int annotators = 0;                  // decisions on it
  std::optional<LabelChoice> majority; // empty when the top categories are level
  double share = 0.0;                  // of the decisions, those in the most common category
  std::map<LabelChoice, int> votes;
};

struct PairAgreement {
  std::string a, b;
  int items = 0;           // both decided
  double observed = 0.0;   // share of those items where they agree
  double cohenKappa = 0.0; // NaN when chance agreement is 1 (both always said the same thing)
};

struct AgreementSummary {
  std::vector<ItemAgreement> items; // every item with at least one decision
  std::vector<PairAgreement> pairs; // every annotator pair with an item in common
  int itemsWithTwoOrMore = 0;
  double krippendorffAlpha = 0.0;    // over items with >= 2 decisions; NaN when undefined
  std::optional<double> fleissKappa; // when every item with a decision has the same count >= 2
};

// From current decisions (LabelStore::currentDecisions): one per (item, annotator).
AgreementSummary computeAgreement(const std::vector<LabelEvent> &decisions);

} // namespace preflab::core
