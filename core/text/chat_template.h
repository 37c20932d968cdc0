// ChatTemplate: renders a Hugging Face chat template (Jinja2 source) the way transformers does.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace preflab::core {

// An interpreter for the subset of Jinja2 that chat templates use, giving byte for byte what jinja2's
// ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
// gives with transformers' globals (raise_exception, strftime_now), its tojson filter
// (json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...)) and its
// {% generation %} tag. Anything outside the subset (include/extends/import, call blocks, most
// str methods, printing a generator, non-ASCII case mapping...) is refused with an InputError that
// names the construct and the template line: a template is rendered as jinja2 renders it, or not at all.
// We interpret the template ourselves instead of embedding Python or a JavaScript Jinja port: core
// links neither, and no C++ Jinja library is packaged.
//
// Immutable after construction; render() may be called from several threads at once.
class ChatTemplate {
public:
  // Parses `source`. Throws InputError(file {}, line = template line, key "chat_template") on a
  // syntax error, an unknown filter or test, or a construct this interpreter does not support.
  explicit ChatTemplate(std::string source);

  // Renders with `context`, a JSON object (messages, add_generation_prompt, tools, bos_token,
  // eos_token, ...); a key that is absent is undefined to the template, a null is None. Throws
  // InputError (key "chat_template", the line of the failing expression) on runtime errors:
  // raise_exception ("the chat template raised: ..."), wrong types, attribute access on an undefined
  // value, unsupported methods, and the limits on output size, work and nesting.
  // The ordered_json overload keeps the document order of object keys, as Python's json does (it
  // shows in tojson and in printed dicts); nlohmann::json hands the keys over sorted.
  std::string render(const nlohmann::ordered_json &context) const;
  std::string render(const nlohmann::json &context) const;

  const std::string &source() const { return m_source; }

private:
  struct Parsed; // the syntax tree, defined in chat_template.cpp
  std::string m_source;
  std::shared_ptr<const Parsed> m_parsed;
};

} // namespace preflab::core
