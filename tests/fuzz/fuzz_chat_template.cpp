// A chat template as a user hands one over (tokenizer_config.json's chat_template): parsed, then
// rendered over a small conversation with a system message, a tool call, a tool result and tools,
// with and without the generation prompt.
#include "tests/fuzz/fuzz_common.h"

#include "core/text/chat_template.h"

#include <string>

namespace {

const nlohmann::ordered_json &fuzzContext() {
  static const auto context = nlohmann::ordered_json::parse(R"({
    "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": false,
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather \"now\"",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "messages": [
      {"role": "system", "content": "  Be brief.\n"},
      {"role": "user", "content": "Héllo 🙂 <think>x</think>"},
      {"role": "assistant", "content": "", "tool_calls": [{"type": "function",
        "function": {"name": "get_weather", "arguments": {"city": "Paris", "n": 1.5, "ok": [true, null]}}}]},
      {"role": "tool", "content": "{\"t\": 21}"},
      {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nSunny."},
      {"role": "user", "content": "and tomorrow?"}]})");
  return context;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  PREFLAB_FUZZ_BODY({
    const preflab::core::ChatTemplate chatTemplate(std::string(reinterpret_cast<const char *>(data), size));
    auto context = fuzzContext();
    (void)chatTemplate.render(context);
    context["add_generation_prompt"] = true;
    (void)chatTemplate.render(context);
  });
}
