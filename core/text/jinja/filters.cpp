// JinjaRun's filters of one value (text, numbers, |tojson), the dispatch of every filter, and the
// tests (x is defined, x is string...).
#include "core/text/jinja/runtime.h"

#include "core/text/jinja/syntax_tree.h"
#include "core/text/jinja/text_helpers.h"
#include "core/text/jinja/utf8.h"

#include <cmath>
#include <limits>

namespace preflab::core::jinja {

namespace {

// Python's str.islower()/isupper() on ASCII and caseless text.
bool jinjaCaseTest(JinjaRun &run, const std::string &s, bool lower) {
  bool cased = false;
  for (std::size_t i = 0; i < s.size();) {
    const char32_t c = jinjaDecode(s, i);
    if (c >= 0x80) {
      if (!jinjaIsCaseless(c))
        run.fail("the lower/upper tests on non-ASCII text (" + jinjaCodePointName(c) + ") are not supported");
      continue;
    }
    if ((lower && c >= 'A' && c <= 'Z') || (!lower && c >= 'a' && c <= 'z'))
      return false;
    cased = cased || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
  return cased;
}

} // namespace

JinjaValue JinjaRun::filter(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                            const JinjaKwargs &kwargs) {
  const auto problem = jinjaFilterProblem(name);
  if (!problem.empty())
    fail(problem);
  spend(1);
  static const char *const kMarkupSafe[] = {"length", "count",   "string", "safe",
                                            "trim",   "default", "d",      "tojson"};
  if (value.markup && !jinjaListed(kMarkupSafe, name))
    fail("the |" + name + " filter on the result of |safe is not supported");
  const std::string what = "the |" + name + " filter";
  if (name == "default" || name == "d") {
    const auto p = bind(what, {"default_value", "boolean"}, 0, args, kwargs);
    if (value.is(JinjaKind::Undefined) || (p[1] && truthy(*p[1]) && !truthy(value)))
      return p[0] ? *p[0] : jinjaString({});
    return value;
  }
  if (name == "length" || name == "count") {
    bind(what, {}, 0, args, kwargs);
    return jinjaInt(length(value));
  }
  if (name == "tojson")
    return tojsonFilter(value, args, kwargs);
  if (name == "sort" || name == "dictsort")
    return sortFilter(name, value, args, kwargs);
  if (name == "abs" || name == "int" || name == "float")
    return numberFilter(name, value, args, kwargs);
  static const char *const kText[] = {"capitalize", "lower",  "upper",     "title",  "trim",
                                      "replace",    "indent", "wordcount", "string", "safe"};
  if (jinjaListed(kText, name))
    return textFilter(name, value, args, kwargs);
  return sequenceFilter(name, value, args, kwargs);
}

JinjaValue JinjaRun::textFilter(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                                const JinjaKwargs &kwargs) {
  const std::string what = "the |" + name + " filter";
  if (name == "indent") {
    const auto p = bind(what, {"width", "first", "blank"}, 0, args, kwargs);
    if (value.is(JinjaKind::Undefined))
      undefinedFail(value);
    if (!value.is(JinjaKind::String))
      fail(std::string("the |indent filter needs a string, not ") + jinjaTypeName(value));
    std::string indention = "    ";
    if (p[0] && p[0]->is(JinjaKind::String)) {
      indention = p[0]->str();
    } else if (p[0] && (p[0]->is(JinjaKind::Int) || p[0]->is(JinjaKind::Bool))) {
      const std::int64_t width = jinjaAsInt(*p[0]);
      if (width > std::int64_t(kJinjaMaxText))
        fail("the |indent width is too large");
      indention.assign(std::size_t(std::max<std::int64_t>(width, 0)), ' ');
    } else if (p[0]) {
      fail(std::string("the |indent width must be a number or a string, not ") + jinjaTypeName(*p[0]));
    }
    const bool first = p[1] && truthy(*p[1]), blank = p[2] && truthy(*p[2]);
    const auto lines = jinjaSplitLines(value.str() + "\n");
    std::string out = lines[0];
    const auto grow = [&](const std::string &piece) {
      out += piece;
      if (out.size() > kJinjaMaxText)
        fail("a string grew past " + std::to_string(kJinjaMaxText >> 20) + " MiB");
    };
    for (std::size_t i = 1; i < lines.size(); ++i)
      grow("\n" + (blank || !lines[i].empty() ? indention : std::string()) + lines[i]);
    return text(first ? indention + out : out);
  }
  if (name == "string")
    return value.is(JinjaKind::String) ? value : text(str(value));
  if (name == "safe")
    return text(str(value), true);
  const std::string s = str(value);
  if (name == "trim") {
    const auto p = bind(what, {"chars"}, 0, args, kwargs);
    if (p[0] && !p[0]->is(JinjaKind::None) && !p[0]->is(JinjaKind::String))
      fail("the |trim chars must be a string");
    return text(jinjaStrip(s, p[0] && p[0]->is(JinjaKind::String) ? &p[0]->str() : nullptr, true, true),
                value.markup);
  }
  if (name == "replace") {
    const auto p = bind(what, {"old", "new", "count"}, 2, args, kwargs);
    std::int64_t count = -1;
    if (p[2] && !p[2]->is(JinjaKind::None)) {
      if (!p[2]->is(JinjaKind::Int) && !p[2]->is(JinjaKind::Bool))
        fail("the |replace count must be an integer");
      count = jinjaAsInt(*p[2]);
    }
    return text(jinjaReplace(*this, s, str(*p[0]), str(*p[1]), count));
  }
  bind(what, {}, 0, args, kwargs);
  if (name == "wordcount") {
    if (!jinjaIsAscii(s))
      fail("the |wordcount filter on non-ASCII text is not supported (it needs Unicode tables)");
    std::int64_t words = 0;
    bool inWord = false;
    for (const char c : s) {
      const bool w = jinjaIsNameChar(c);
      words += w && !inWord;
      inWord = w;
    }
    return jinjaInt(words);
  }
  return text(caseMap(s, name == "upper" ? 'u' : name == "lower" ? 'l' : name == "capitalize" ? 'c' : 'j'));
}

JinjaValue JinjaRun::numberFilter(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                                  const JinjaKwargs &kwargs) {
  const std::string what = "the |" + name + " filter";
  if (name == "abs") {
    bind(what, {}, 0, args, kwargs);
    if (value.is(JinjaKind::Float))
      return jinjaFloat(std::fabs(value.real));
    if (!value.is(JinjaKind::Int) && !value.is(JinjaKind::Bool))
      fail(std::string("bad operand type for abs(): '") + jinjaTypeName(value) + "'");
    const std::int64_t i = jinjaAsInt(value);
    if (i == std::numeric_limits<std::int64_t>::min())
      fail("integer overflow (PrefLab's template integers have 64 bits)");
    return jinjaInt(i < 0 ? -i : i);
  }
  if (value.is(JinjaKind::Undefined))
    undefinedFail(value);
  if (value.is(JinjaKind::String) && !jinjaIsAscii(value.str()))
    fail("the |" + name + " filter on non-ASCII text is not supported (Python accepts Unicode digits)");
  const auto fromDouble = [&](double d, const JinjaValue &fallback) {
    if (std::isnan(d))
      return fallback;
    if (std::isinf(d))
      fail("cannot convert float infinity to integer");
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
      fail("the integer does not fit in 64 bits");
    return jinjaInt(std::int64_t(d));
  };
  if (name == "int") {
    const auto p = bind(what, {"default", "base"}, 0, args, kwargs);
    const JinjaValue fallback = p[0] ? *p[0] : jinjaInt(0);
    if (value.is(JinjaKind::Int) || value.is(JinjaKind::Bool))
      return jinjaInt(jinjaAsInt(value));
    if (value.is(JinjaKind::Float))
      return fromDouble(value.real, fallback);
    if (!value.is(JinjaKind::String))
      return fallback;
    if (p[1] && !(p[1]->is(JinjaKind::Int) && p[1]->integer == 10))
      fail("the |int filter with a base other than 10 is not supported");
    bool tooBig = false;
    if (const auto i = jinjaParseInt(value.str(), tooBig))
      return jinjaInt(*i);
    if (tooBig)
      fail("the integer " + value.str() + " does not fit in 64 bits");
    const auto d = jinjaParseFloat(value.str());
    return d ? fromDouble(*d, fallback) : fallback;
  }
  const auto p = bind(what, {"default"}, 0, args, kwargs);
  const JinjaValue fallback = p[0] ? *p[0] : jinjaFloat(0.0);
  if (value.isNumber())
    return jinjaFloat(jinjaAsDouble(value));
  if (!value.is(JinjaKind::String))
    return fallback;
  const auto d = jinjaParseFloat(value.str());
  return d ? jinjaFloat(*d) : fallback;
}

// transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
JinjaValue JinjaRun::tojsonFilter(const JinjaValue &value, const JinjaArgs &args, const JinjaKwargs &kwargs) {
  const auto p =
      bind("the |tojson filter", {"ensure_ascii", "indent", "separators", "sort_keys"}, 0, args, kwargs);
  JinjaJsonStyle style;
  style.ensureAscii = p[0] && truthy(*p[0]);
  style.sortKeys = p[3] && truthy(*p[3]);
  if (p[1] && !p[1]->is(JinjaKind::None)) {
    style.indented = true;
    style.itemSeparator = ",";
    if (p[1]->is(JinjaKind::String)) {
      style.indent = p[1]->str();
    } else if (p[1]->is(JinjaKind::Int) || p[1]->is(JinjaKind::Bool)) {
      const std::int64_t n = jinjaAsInt(*p[1]);
      if (n > 1000)
        fail("tojson indent is too large");
      style.indent.assign(std::size_t(std::max<std::int64_t>(n, 0)), ' ');
    } else {
      fail(std::string("tojson indent must be an integer or a string, not ") + jinjaTypeName(*p[1]));
    }
  }
  if (p[2] && !p[2]->is(JinjaKind::None)) {
    const auto &sep = *p[2];
    if (!(sep.is(JinjaKind::Tuple) || sep.is(JinjaKind::List)) || sep.seq->items.size() != 2 ||
        !sep.seq->items[0].is(JinjaKind::String) || !sep.seq->items[1].is(JinjaKind::String))
      fail("tojson separators must be a pair of strings");
    style.itemSeparator = sep.seq->items[0].str();
    style.keySeparator = sep.seq->items[1].str();
  }
  std::string out;
  json(value, style, 0, out);
  return text(std::move(out));
}

bool JinjaRun::test(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                    const JinjaKwargs &kwargs) {
  const auto problem = jinjaTestProblem(name);
  if (!problem.empty())
    fail(problem);
  spend(1);
  const std::string what = "the '" + name + "' test";
  static const char *const kComparisons[][2] = {
      {"eq", "=="}, {"equalto", "=="},    {"==", "=="}, {"ne", "!="}, {"!=", "!="},
      {"lt", "<"},  {"lessthan", "<"},    {"<", "<"},   {"le", "<="}, {"<=", "<="},
      {"gt", ">"},  {"greaterthan", ">"}, {">", ">"},   {"ge", ">="}, {">=", ">="}};
  for (const auto &c : kComparisons)
    if (name == c[0])
      return compare(c[1], value, *bind(what, {"other"}, 1, args, kwargs)[0]);
  if (name == "divisibleby")
    return equal(binary("%", value, *bind(what, {"num"}, 1, args, kwargs)[0]), jinjaInt(0));
  if (name == "in")
    return contains(*bind(what, {"seq"}, 1, args, kwargs)[0], value);
  bind(what, {}, 0, args, kwargs);
  const JinjaKind k = value.kind;
  if (name == "defined")
    return k != JinjaKind::Undefined;
  if (name == "undefined")
    return k == JinjaKind::Undefined;
  if (name == "none")
    return k == JinjaKind::None;
  if (name == "boolean")
    return k == JinjaKind::Bool;
  if (name == "true" || name == "false")
    return k == JinjaKind::Bool && value.flag == (name == "true");
  if (name == "integer")
    return k == JinjaKind::Int;
  if (name == "float")
    return k == JinjaKind::Float;
  if (name == "number")
    return value.isNumber();
  if (name == "string")
    return k == JinjaKind::String;
  if (name == "mapping")
    return k == JinjaKind::Dict;
  if (name == "iterable")
    return k == JinjaKind::String || value.isSequence() || k == JinjaKind::Dict ||
           k == JinjaKind::Undefined || k == JinjaKind::Loop;
  if (name == "sequence")
    return k == JinjaKind::String || k == JinjaKind::List || k == JinjaKind::Tuple || k == JinjaKind::Range ||
           k == JinjaKind::Dict || k == JinjaKind::Undefined;
  if (name == "callable")
    return k == JinjaKind::Macro || k == JinjaKind::Function || k == JinjaKind::Loop ||
           k == JinjaKind::Undefined;
  if (name == "odd" || name == "even")
    return equal(binary("%", value, jinjaInt(2)), jinjaInt(name == "odd" ? 1 : 0));
  return jinjaCaseTest(*this, str(value), name == "lower");
}

} // namespace preflab::core::jinja
