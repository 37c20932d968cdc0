// JinjaRun's printing of lists and dicts: Python's repr(), and json.dumps as transformers' tojson
// calls it.
#include "core/text/jinja/runtime.h"

#include "core/text/jinja/utf8.h"

#include <cmath>

namespace preflab::core::jinja {

namespace {

void jinjaJsonString(const std::string &s, bool ensureAscii, std::string &out) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const char32_t c = jinjaDecode(s, i);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (c < 0x20 || (ensureAscii && c >= 0x7F)) {
        if (c > 0xFFFF) {
          const std::uint32_t u = std::uint32_t(c) - 0x10000;
          out += "\\u" + jinjaHex(0xD800 + (u >> 10), 4) + "\\u" + jinjaHex(0xDC00 + (u & 0x3FF), 4);
        } else {
          out += "\\u" + jinjaHex(std::uint32_t(c), 4);
        }
      } else {
        jinjaEncode(out, c);
      }
    }
  }
  out += '"';
}

} // namespace

// repr() inside printed lists and dicts: Python's quoting and escapes.
void JinjaRun::repr(const JinjaValue &v, std::string &out) {
  spend(1);
  if (out.size() > kJinjaMaxText)
    fail("a string grew past " + std::to_string(kJinjaMaxText >> 20) + " MiB");
  switch (v.kind) {
  case JinjaKind::String: {
    if (v.markup)
      fail("printing the result of |safe inside a list or dict is not supported");
    const std::string &s = v.str();
    spendOn(s);
    const char quote = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
    out += quote;
    for (std::size_t i = 0; i < s.size();) {
      const char32_t c = jinjaDecode(s, i);
      if (c == '\\' || c == char32_t(quote)) {
        out += '\\';
        out += char(c);
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c < 0x20 || c == 0x7F) {
        out += "\\x" + jinjaHex(std::uint32_t(c), 2);
      } else if (c < 0x80) {
        out += char(c);
      } else {
        const int cls = jinjaReprClass(c);
        if (cls == 2)
          fail("printing text with " + jinjaCodePointName(c) +
               " inside a list or dict is not supported (Python's repr() would need Unicode tables)");
        if (cls == 1)
          out += "\\x" + jinjaHex(std::uint32_t(c), 2);
        else
          jinjaEncode(out, c);
      }
    }
    out += quote;
    return;
  }
  case JinjaKind::None:
  case JinjaKind::Bool:
  case JinjaKind::Int:
  case JinjaKind::Float:
    out += str(v);
    return;
  case JinjaKind::List:
  case JinjaKind::Tuple: {
    const bool list = v.kind == JinjaKind::List;
    out += list ? '[' : '(';
    for (std::size_t i = 0; i < v.seq->items.size(); ++i) {
      if (i > 0)
        out += ", ";
      repr(v.seq->items[i], out);
    }
    out += list ? "]" : v.seq->items.size() == 1 ? ",)" : ")";
    return;
  }
  case JinjaKind::Dict: {
    out += '{';
    bool first = true;
    for (const auto &e : v.dict->entries) {
      if (!first)
        out += ", ";
      first = false;
      repr(e.first, out);
      out += ": ";
      repr(e.second, out);
    }
    out += '}';
    return;
  }
  case JinjaKind::Undefined:
    out += "Undefined";
    return; // jinja2's Undefined.__repr__
  default:
    fail(std::string("printing a ") + jinjaTypeName(v) + " inside a list or dict is not supported");
  }
}

// json.dumps as transformers' tojson calls it: Python's separators, float repr and key conversion.
void JinjaRun::json(const JinjaValue &v, const JinjaJsonStyle &style, int level, std::string &out) {
  spend(1);
  if (out.size() > kJinjaMaxText)
    fail("a string grew past " + std::to_string(kJinjaMaxText >> 20) + " MiB");
  const auto newline = [&](int l) {
    if (style.indented) {
      out += '\n';
      for (int i = 0; i < l; ++i)
        out += style.indent;
    }
  };
  switch (v.kind) {
  case JinjaKind::None:
    out += "null";
    return;
  case JinjaKind::Bool:
    out += v.flag ? "true" : "false";
    return;
  case JinjaKind::Int:
    out += std::to_string(v.integer);
    return;
  case JinjaKind::Float:
    out += std::isnan(v.real)   ? "NaN"
           : std::isinf(v.real) ? (v.real < 0 ? "-Infinity" : "Infinity")
                                : jinjaFloatRepr(v.real);
    return;
  case JinjaKind::String:
    spendOn(v.str());
    jinjaJsonString(v.str(), style.ensureAscii, out);
    return;
  case JinjaKind::List:
  case JinjaKind::Tuple: {
    if (v.seq->items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (std::size_t i = 0; i < v.seq->items.size(); ++i) {
      if (i > 0)
        out += style.itemSeparator;
      newline(level + 1);
      json(v.seq->items[i], style, level + 1, out);
    }
    newline(level);
    out += ']';
    return;
  }
  case JinjaKind::Dict: {
    if (v.dict->entries.empty()) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<JinjaValue, JinjaValue> *> entries;
    for (const auto &e : v.dict->entries)
      entries.push_back(&e);
    if (style.sortKeys) {
      for (const auto *e : entries)
        if (!e->first.is(JinjaKind::String))
          fail("tojson(sort_keys=true) on a dict with keys that are not strings is not supported");
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto *a, const auto *b) { return a->first.str() < b->first.str(); });
    }
    out += '{';
    bool first = true;
    for (const auto *e : entries) {
      if (!first)
        out += style.itemSeparator;
      first = false;
      newline(level + 1);
      const JinjaValue &k = e->first;
      if (k.is(JinjaKind::String))
        jinjaJsonString(k.str(), style.ensureAscii, out);
      else if (k.is(JinjaKind::None) || k.is(JinjaKind::Bool) || k.is(JinjaKind::Int) ||
               k.is(JinjaKind::Float)) {
        std::string key;
        json(k, style, level, key);
        out += '"' + key + '"';
      } else
        fail(std::string("keys must be str, int, float, bool or None, not ") + jinjaTypeName(k));
      out += style.keySeparator;
      json(e->second, style, level + 1, out);
    }
    newline(level);
    out += '}';
    return;
  }
  default:
    fail(std::string("Object of type ") + jinjaTypeName(v) + " is not JSON serializable");
  }
}

} // namespace preflab::core::jinja
