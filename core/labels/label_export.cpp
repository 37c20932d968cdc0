// exportLabels: TRL pairs with rater fractions, KTO unpaired lines, Pick-a-Pic manifests.
#include "core/labels/label_export.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/labels/label_agreement.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace preflab::core {

LabelExportFormat labelExportFormatNamed(const std::string &name) {
  if (name == "trl")
    return LabelExportFormat::Trl;
  if (name == "kto")
    return LabelExportFormat::Kto;
  if (name == "pickapic")
    return LabelExportFormat::PickAPic;
  throw InputError({}, 0, "--format", "is '" + name + "', must be trl, kto or pickapic");
}

LabelExportCount exportLabels(const LabelStore &store, const std::string &out,
                              const LabelExportOptions &options) {
  LabelExportCount count;
  const auto agreement = computeAgreement(store.currentDecisions());
  std::map<std::int64_t, const ItemAgreement *> byItem;
  for (const auto &a : agreement.items)
    byItem[a.item] = &a;
  const auto outDir = fs::absolute(fs::path(out)).parent_path();
  const bool images = options.format == LabelExportFormat::PickAPic;
  std::string text;
  auto line = [&](const nlohmann::json &j) {
    text += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    ++count.written;
  };
  for (const auto &s : store.items()) {
    if ((s.item.kind == "image") != images) {
      ++count.otherKind;
      continue;
    }
    const auto found = byItem.find(s.key);
    if (found == byItem.end()) {
      ++count.unlabelled;
      continue;
    }
    const auto &a = *found->second;
    auto votes = [&](LabelChoice c) {
      const auto it = a.votes.find(c);
      return it == a.votes.end() ? 0 : it->second;
    };
    const auto &c = s.item.candidates;
    switch (options.format) {
    case LabelExportFormat::Trl: {
      const double tie = options.tiesCountHalf ? 0.5 * votes(LabelChoice::Tie) : 0.0;
      const double first = votes(LabelChoice::First) + tie, second = votes(LabelChoice::Second) + tie;
      if (first + second == 0) {
        ++(votes(LabelChoice::BothBad) > 0 ? count.bothBad : count.tied);
        continue;
      }
      if (first == second) {
        ++count.tied;
        continue;
      }
      const bool firstWins = first > second;
      const int raters = votes(LabelChoice::First) + votes(LabelChoice::Second) +
                         (options.tiesCountHalf ? votes(LabelChoice::Tie) : 0);
      line({{"id", s.item.id},
            {"prompt", s.item.prompt},
            {"chosen", firstWins ? c[0] : c[1]},
            {"rejected", firstWins ? c[1] : c[0]},
            {"rater_fraction", (firstWins ? first : second) / (first + second)},
            {"rater_count", raters}});
      break;
    }
    case LabelExportFormat::Kto: {
      if (!a.majority || *a.majority == LabelChoice::Tie) {
        ++count.tied;
        continue;
      }
      const bool bad = *a.majority == LabelChoice::BothBad;
      count.bothBad += bad;
      for (int slot = 0; slot < 2; ++slot) {
        const bool good = !bad && (slot == 0) == (*a.majority == LabelChoice::First);
        line({{"id", s.item.id + (slot == 0 ? "-a" : "-b")},
              {"prompt", s.item.prompt},
              {"completion", c[slot]},
              {"label", good}});
      }
      break;
    }
    case LabelExportFormat::PickAPic: {
      if (!a.majority) {
        ++count.tied;
        continue;
      }
      if (*a.majority == LabelChoice::BothBad) {
        ++count.bothBad;
        continue;
      }
      const double label = *a.majority == LabelChoice::First    ? 1.0
                           : *a.majority == LabelChoice::Second ? 0.0
                                                                : 0.5;
      line({{"caption", s.item.prompt},
            {"jpg_0", fs::path(c[0]).lexically_relative(outDir).string()},
            {"jpg_1", fs::path(c[1]).lexically_relative(outDir).string()},
            {"label_0", label}});
      break;
    }
    }
  }
  writeFileAtomic(out, text);
  return count;
}

} // namespace preflab::core
