// Exports a store's current decisions to the files the rest of PrefLab and the ecosystem read.
// No LibTorch.
#pragma once

#include "core/labels/label_store.h"

#include <cstdint>
#include <string>

namespace preflab::core {

enum class LabelExportFormat { Trl, Kto, PickAPic };
// "trl" | "kto" | "pickapic"; throws InputError naming --format otherwise.
LabelExportFormat labelExportFormatNamed(const std::string &name);

struct LabelExportOptions {
  LabelExportFormat format = LabelExportFormat::Trl;
  // trl: a tie vote counts half for each candidate in rater_fraction (true), or is left out.
  bool tiesCountHalf = false;
};

struct LabelExportCount {
  std::int64_t written = 0;    // lines written
  std::int64_t unlabelled = 0; // items with no decision
  std::int64_t tied = 0;       // items whose votes do not prefer either candidate
  std::int64_t bothBad = 0;    // items whose majority is "both bad" (trl, pickapic: left out)
  std::int64_t otherKind = 0;  // items of the other modality (text for pickapic, images for trl/kto)
};

// Writes `out` atomically:
//   trl:      {"id","prompt","chosen","rejected","rater_fraction","rater_count"}; the chosen
//             candidate has more first/second votes; rater_fraction is its share of them (ties
//             half each with tiesCountHalf); both-bad votes are not counted. Level items: left out.
//   kto:      {"id","prompt","completion","label"} by the item's majority: first/second gives the
//             preferred completion true and the other false, both bad gives both false; tie and
//             level majorities are left out.
//   pickapic: {"caption","jpg_0","jpg_1","label_0"} for image items (paths relative to `out`'s
//             folder): label_0 1 / 0 by the majority, 0.5 for a tie majority; both bad left out.
LabelExportCount exportLabels(const LabelStore &store, const std::string &out,
                              const LabelExportOptions &options);

} // namespace preflab::core
