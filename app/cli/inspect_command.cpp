// preflab-cli inspect: detected format, counts and length statistics of a preference file.
#include "cli/cli_common.h"

#include "core/data/text_preference_reader.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace preflab::cli {

Action addInspectCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand("inspect", "Check a preference file (JSONL, a JSON array, either gzip-compressed): "
                                            "format, pairs, lengths, rater fields, pairs without a preference signal.");
  struct Args {
    std::string path, format = "auto";
    bool json = false, skipInvalid = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("file", a->path, "JSONL or JSON-array file, plain or gzip-compressed")->required();
  cmd->add_flag("--json", a->json, "print the summary as JSON");
  cmd->add_option("--format", a->format,
                  "auto, trl, trl-conversational, hh-rlhf, ultrafeedback, kto, trl-implicit-prompt, sharegpt, "
                  "llamafactory-v1, alpaca, openai-dpo, kto-messages");
  cmd->add_flag("--skip-invalid", a->skipInvalid, "skip bad lines and report them instead of failing");
  return [a]() -> int {
    core::TextReadOptions opts;
    opts.format = core::parseTextFormat(a->format);
    opts.skipInvalid = a->skipInvalid;
    const auto data = core::readTextPreferences(a->path, opts);
    auto summary = core::summarizeTextPreferences(data);
    summary["file"] = a->path;
    if (!data.skipped.empty()) {
      auto &list = summary["skipped_lines"] = nlohmann::json::array();
      for (const auto &s : data.skipped)
        list.push_back({{"line", s.line}, {"reason", s.reason}});
    }
    if (a->json) {
      std::cout << summary.dump(2) << std::endl;
      return kOk;
    }
    std::cout << "file:    " << a->path << "\nformat:  " << summary.value("format", "") << "\n";
    for (const char *key : {"pairs", "unpaired", "skipped", "blank_lines"})
      if (summary.contains(key))
        std::cout << key << ": " << summary[key].dump() << "\n";
    for (const char *key : {"json_array", "gzip", "length", "rater_fraction", "rater_count", "ref_logps", "labels",
                            "chosen_longer_fraction", "identical_pairs", "empty_chosen", "empty_rejected",
                            "prompt_from_common_prefix"})
      if (summary.contains(key))
        std::cout << key << ": " << summary[key].dump() << "\n";
    if (summary.contains("identical_pairs") && summary["identical_pairs"]["count"].get<int>() > 0)
      std::cout << "note: training drops the identical pairs (no preference signal); empty responses are kept\n";
    return kOk;
  };
}

} // namespace preflab::cli
