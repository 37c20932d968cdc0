// Preference files (JSONL, JSON arrays, gzip) in every format and with auto-detection: the first
// byte picks the forced format (or auto) and skip mode, the rest is the file.
#include "tests/fuzz/fuzz_common.h"

#include "core/data/text_preference_reader.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace preflab::core;
  if (size == 0)
    return 0;
  static const char *kFormats[] = {"auto", "trl", "trl-conversational", "hh-rlhf", "ultrafeedback", "kto",
                                   "trl-implicit-prompt", "sharegpt", "llamafactory-v1", "alpaca",
                                   "openai-dpo", "kto-messages"};
  TextReadOptions options;
  options.format = parseTextFormat(kFormats[(data[0] & 0x7f) % 12]);
  options.skipInvalid = data[0] & 0x80;
  options.maxLineBytes = 1 << 20;
  const auto path = preflab::fuzz::writeInput("prefs.jsonl", data + 1, size - 1);
  PREFLAB_FUZZ_BODY({
    const auto read = readTextPreferences(path, options);
    (void)summarizeTextPreferences(read).dump();
  });
}
