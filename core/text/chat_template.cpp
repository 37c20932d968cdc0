// ChatTemplate: parses with the Jinja lexer and parser of core/text/jinja/ and renders with its
// interpreter. jinja2 (3.1, as transformers configures it) is the reference for every rule there;
// where a rule would need tables we do not carry (Unicode case mapping, printability), the construct
// is refused.
#include "core/text/chat_template.h"

#include "core/text/jinja/lexer.h"
#include "core/text/jinja/parser.h"
#include "core/text/jinja/runtime.h"
#include "core/text/jinja/utf8.h"

#include <limits>

namespace preflab::core {

namespace jinja {
namespace {

// The render context as values: JSON's types as Python's json.loads gives them.
template <class Json> JinjaValue jinjaFromJson(JinjaRun &run, const Json &j, int depth) {
  if (depth > kJinjaMaxValueDepth)
    run.fail("the render context is nested more than " + std::to_string(kJinjaMaxValueDepth) + " deep");
  switch (j.type()) {
  case nlohmann::json::value_t::null:
    return jinjaNone();
  case nlohmann::json::value_t::boolean:
    return jinjaBool(j.template get<bool>());
  case nlohmann::json::value_t::number_integer:
    return jinjaInt(j.template get<std::int64_t>());
  case nlohmann::json::value_t::number_unsigned: {
    const auto u = j.template get<std::uint64_t>();
    if (u > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
      run.fail("the render context has an integer that does not fit in 64 bits");
    return jinjaInt(std::int64_t(u));
  }
  case nlohmann::json::value_t::number_float:
    return jinjaFloat(j.template get<double>());
  case nlohmann::json::value_t::string: {
    const auto &s = j.template get_ref<const std::string &>();
    if (!jinjaValidUtf8(s))
      run.fail("the render context has a string that is not valid UTF-8");
    return jinjaString(s);
  }
  case nlohmann::json::value_t::array: {
    std::vector<JinjaValue> items;
    for (const auto &item : j)
      items.push_back(jinjaFromJson(run, item, depth + 1));
    return run.makeSeq(JinjaKind::List, std::move(items));
  }
  case nlohmann::json::value_t::object: {
    std::vector<std::pair<JinjaValue, JinjaValue>> entries;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!jinjaValidUtf8(it.key()))
        run.fail("the render context has a key that is not valid UTF-8");
      entries.emplace_back(jinjaString(it.key()), jinjaFromJson(run, it.value(), depth + 1));
    }
    return run.makeDict(std::move(entries));
  }
  default:
    run.fail("the render context holds a value that is not JSON data");
  }
}

template <class Json> std::string jinjaRender(const JinjaBody &body, const Json &context) {
  if (!context.is_object())
    jinjaThrow(0, "the render context must be a JSON object");
  JinjaRun run;
  auto globals = std::make_shared<JinjaScope>();
  for (auto it = context.begin(); it != context.end(); ++it)
    globals->set(it.key(), jinjaFromJson(run, it.value(), 1));
  std::string out;
  run.exec(body, jinjaChildScope(globals), out);
  return out;
}

} // namespace
} // namespace jinja

struct ChatTemplate::Parsed {
  jinja::JinjaBody body;
};

ChatTemplate::ChatTemplate(std::string source) : m_source(std::move(source)) {
  if (!jinja::jinjaValidUtf8(m_source))
    jinja::jinjaThrow(0, "the template is not valid UTF-8");
  // jinja2 reads the source with its newlines normalized to \n and one trailing newline dropped.
  std::string normalized;
  normalized.reserve(m_source.size());
  for (std::size_t i = 0; i < m_source.size(); ++i) {
    if (m_source[i] == '\r') {
      normalized += '\n';
      if (i + 1 < m_source.size() && m_source[i + 1] == '\n')
        ++i;
    } else {
      normalized += m_source[i];
    }
  }
  if (!normalized.empty() && normalized.back() == '\n')
    normalized.pop_back();
  auto parsed = std::make_shared<Parsed>();
  parsed->body = jinja::JinjaParser(jinja::JinjaLexer(normalized).run()).parseTemplate();
  m_parsed = std::move(parsed);
}

std::string ChatTemplate::render(const nlohmann::ordered_json &context) const {
  return jinja::jinjaRender(m_parsed->body, context);
}

std::string ChatTemplate::render(const nlohmann::json &context) const {
  return jinja::jinjaRender(m_parsed->body, context);
}

} // namespace preflab::core
