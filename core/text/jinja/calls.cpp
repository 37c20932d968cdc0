// JinjaRun's calls: argument binding, bound methods (str.*, dict.*, loop.cycle), the global functions
// (range, namespace, dict, raise_exception, strftime_now) and macros.
#include "core/text/jinja/runtime.h"

#include "core/text/jinja/text_helpers.h"
#include "core/text/jinja/utf8.h"

#include <cctype>
#include <cstring>
#include <ctime>

namespace preflab::core::jinja {

namespace {

// transformers' strftime_now(format): the local time, with the C locale's names as Python gives them.
std::string jinjaStrftimeNow(JinjaRun &run, const std::string &format) {
  for (std::size_t i = 0; i < format.size(); ++i)
    if (format[i] == '%' &&
        (++i >= format.size() || !std::strchr("aAbBdeHIjmMpSyYFTDRntuw%", format[i]) || !format[i]))
      run.fail("strftime_now(): only the conversions %a %A %b %B %d %e %H %I %j %m %M %p %S %y %Y %F %T %D "
               "%R %n %t %u %w %% are supported");
  if (format.size() > 1000)
    run.fail("strftime_now(): the format is too long");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  // The C locale's names, as Python's strftime gives them (Python does not adopt LC_TIME).
  static const char *const kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                      "Thursday", "Friday", "Saturday"};
  static const char *const kMonths[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
  std::string out;
  char buf[64];
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    const char c = format[++i];
    const std::string day = kDays[local.tm_wday], month = kMonths[local.tm_mon];
    switch (c) {
    case 'a':
      out += day.substr(0, 3);
      break;
    case 'A':
      out += day;
      break;
    case 'b':
      out += month.substr(0, 3);
      break;
    case 'B':
      out += month;
      break;
    case 'p':
      out += local.tm_hour < 12 ? "AM" : "PM";
      break;
    case 'n':
      out += '\n';
      break;
    case 't':
      out += '\t';
      break;
    case '%':
      out += '%';
      break;
    default: {
      const char spec[3] = {'%', c, 0};
      const auto n = std::strftime(buf, sizeof buf, spec, &local);
      out.append(buf, n);
    }
    }
  }
  return out;
}

} // namespace

std::vector<std::optional<JinjaValue>> JinjaRun::bind(const std::string &what,
                                                      const std::vector<const char *> &names,
                                                      std::size_t required, const JinjaArgs &args,
                                                      const JinjaKwargs &kwargs) {
  if (args.size() > names.size())
    fail(what + " takes at most " + std::to_string(names.size()) + " argument(s), " +
         std::to_string(args.size()) + " given");
  std::vector<std::optional<JinjaValue>> out(names.size());
  for (std::size_t i = 0; i < args.size(); ++i)
    out[i] = args[i];
  for (const auto &kw : kwargs) {
    const auto it = std::find_if(names.begin(), names.end(), [&](const char *n) { return kw.first == n; });
    if (it == names.end())
      fail(what + " got an unexpected keyword argument '" + kw.first + "'");
    auto &slot = out[std::size_t(it - names.begin())];
    if (slot)
      fail(what + " got multiple values for argument '" + kw.first + "'");
    slot = kw.second;
  }
  for (std::size_t i = 0; i < required; ++i)
    if (!out[i])
      fail(what + " is missing its argument '" + names[i] + "'");
  return out;
}

// Case mapping of ASCII text and of non-ASCII text without case; mode u(pper), l(ower),
// t(str.title), c(apitalize), j(jinja2's title filter: words split at -, whitespace, ( { [ <).
std::string JinjaRun::caseMap(const std::string &s, char mode) {
  std::string out;
  bool previousCased = false, atStart = true, afterSeparator = true;
  for (std::size_t i = 0; i < s.size();) {
    const char32_t c = jinjaDecode(s, i);
    bool separator = jinjaIsSpace(c);
    if (c >= 0x80) {
      if (!jinjaIsCaseless(c))
        fail("changing the case of non-ASCII text (" + jinjaCodePointName(c) +
             ") is not supported (it needs Unicode case tables)");
      jinjaEncode(out, c);
      previousCased = false;
    } else {
      const char ch = char(c);
      const bool letter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
      const bool up = mode == 'u'   ? true
                      : mode == 'l' ? false
                      : mode == 't' ? !previousCased
                      : mode == 'c' ? atStart
                                    : afterSeparator;
      out += letter ? char(up ? std::toupper(ch) : std::tolower(ch)) : ch;
      previousCased = letter;
      separator = separator || ch == '-' || ch == '(' || ch == '{' || ch == '[' || ch == '<';
    }
    afterSeparator = separator;
    atStart = false;
  }
  return out;
}

std::string jinjaReplace(JinjaRun &run, const std::string &s, const std::string &old,
                         const std::string &replacement, std::int64_t count) {
  std::string out;
  const auto grow = [&](const std::string &piece) {
    out += piece;
    if (out.size() > kJinjaMaxText)
      run.fail("a string grew past " + std::to_string(kJinjaMaxText >> 20) + " MiB");
  };
  std::int64_t done = 0;
  if (old.empty()) {
    for (std::size_t i = 0;;) {
      if (count < 0 || done < count) {
        grow(replacement);
        ++done;
      }
      if (i >= s.size())
        break;
      const std::size_t begin = i;
      jinjaDecode(s, i);
      grow(s.substr(begin, i - begin));
    }
    return out;
  }
  std::size_t i = 0;
  for (; count < 0 || done < count; ++done) {
    const auto pos = s.find(old, i);
    if (pos == std::string::npos)
      break;
    grow(s.substr(i, pos - i));
    grow(replacement);
    i = pos + old.size();
  }
  grow(s.substr(i));
  return out;
}

JinjaValue JinjaRun::call(const JinjaValue &callee, const JinjaArgs &args, const JinjaKwargs &kwargs) {
  spend(1);
  if (callee.is(JinjaKind::Undefined))
    undefinedFail(callee);
  if (callee.is(JinjaKind::Macro))
    return callMacro(static_cast<const JinjaMacro &>(*callee.object), args, kwargs);
  if (!callee.is(JinjaKind::Function))
    fail(std::string("'") + jinjaTypeName(callee) + "' object is not callable");
  const auto &fn = static_cast<const JinjaFunction &>(*callee.object);
  const std::string what = fn.name + "()";
  if (fn.name == "loop.cycle") {
    if (!kwargs.empty() || args.empty())
      fail("loop.cycle() needs one or more positional arguments");
    return args[static_cast<const JinjaLoop &>(*fn.self.object).index0 % args.size()];
  }
  if (fn.name.rfind("str.", 0) == 0)
    return callStrMethod(fn.name.substr(4), fn.self.str(), args, kwargs);
  if (fn.name.rfind("dict.", 0) == 0) {
    if (!kwargs.empty())
      fail(what + " takes no keyword arguments");
    if (fn.name == "dict.get") {
      if (args.empty() || args.size() > 2)
        fail("dict.get() takes 1 or 2 arguments");
      if (!jinjaHashable(args[0]))
        fail(std::string("unhashable type: '") + jinjaTypeName(args[0]) + "'");
      const auto *found = dictFind(fn.self, args[0]);
      return found ? *found : args.size() > 1 ? args[1] : jinjaNone();
    }
    if (!args.empty())
      fail(what + " takes no arguments");
    std::vector<JinjaValue> items;
    for (const auto &e : fn.self.dict->entries)
      items.push_back(fn.name == "dict.keys"     ? e.first
                      : fn.name == "dict.values" ? e.second
                                                 : makeSeq(JinjaKind::Tuple, {e.first, e.second}));
    return makeSeq(JinjaKind::View, std::move(items));
  }
  return callGlobal(fn.name, args, kwargs);
}

JinjaValue JinjaRun::callStrMethod(const std::string &name, const std::string &self, const JinjaArgs &args,
                                   const JinjaKwargs &kwargs) {
  spendOn(self);
  const std::string what = "str." + name + "()";
  if (name == "split" || name == "rsplit") {
    const auto p = bind(what, {"sep", "maxsplit"}, 0, args, kwargs);
    if (p[0] && !p[0]->is(JinjaKind::None) && !p[0]->is(JinjaKind::String))
      fail(std::string("must be str or None, not ") + jinjaTypeName(*p[0]));
    const std::string *sep = p[0] && p[0]->is(JinjaKind::String) ? &p[0]->str() : nullptr;
    if (sep && sep->empty())
      fail("empty separator");
    if (p[1] && !p[1]->is(JinjaKind::Int) && !p[1]->is(JinjaKind::Bool))
      fail(std::string("'") + jinjaTypeName(*p[1]) + "' object cannot be interpreted as an integer");
    std::vector<JinjaValue> parts;
    for (auto &part : jinjaSplit(self, sep, p[1] ? jinjaAsInt(*p[1]) : -1, name == "rsplit"))
      parts.push_back(text(std::move(part)));
    return makeSeq(JinjaKind::List, std::move(parts));
  }
  if (!kwargs.empty())
    fail(what + " takes no keyword arguments");
  const auto needString = [&](const JinjaValue &v) -> const std::string & {
    if (!v.is(JinjaKind::String))
      fail(what + ": must be str, not " + jinjaTypeName(v));
    return v.str();
  };
  if (name == "startswith" || name == "endswith") {
    if (args.size() != 1)
      fail(what +
           (args.empty() ? " takes at least 1 argument" : " with start and end arguments is not supported"));
    std::vector<std::string> affixes;
    if (args[0].is(JinjaKind::Tuple)) {
      for (const auto &a : args[0].seq->items)
        affixes.push_back(needString(a));
    } else if (args[0].is(JinjaKind::String)) {
      affixes.push_back(args[0].str());
    } else {
      fail(what + " first arg must be str or a tuple of str, not " + jinjaTypeName(args[0]));
    }
    for (const auto &a : affixes)
      if (a.size() <= self.size() &&
          self.compare(name == "startswith" ? 0 : self.size() - a.size(), a.size(), a) == 0)
        return jinjaBool(true);
    return jinjaBool(false);
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    if (args.size() > 1)
      fail(what + " takes at most 1 argument");
    if (!args.empty() && !args[0].is(JinjaKind::None) && !args[0].is(JinjaKind::String))
      fail(what + " arg must be None or str");
    const std::string *chars = !args.empty() && args[0].is(JinjaKind::String) ? &args[0].str() : nullptr;
    return text(jinjaStrip(self, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "replace") {
    if (args.size() < 2 || args.size() > 3)
      fail(what + " takes 2 or 3 arguments");
    if (args.size() == 3 && !args[2].is(JinjaKind::Int) && !args[2].is(JinjaKind::Bool))
      fail(what + ": the count must be an integer");
    return text(jinjaReplace(*this, self, needString(args[0]), needString(args[1]),
                             args.size() == 3 ? jinjaAsInt(args[2]) : -1));
  }
  if (name == "join") {
    if (args.size() != 1)
      fail(what + " takes exactly one argument");
    const auto seq = iterate(args[0]);
    std::string out;
    for (std::size_t i = 0; i < seq->items.size(); ++i) {
      if (!seq->items[i].is(JinjaKind::String))
        fail("sequence item " + std::to_string(i) + ": expected str instance, " +
             jinjaTypeName(seq->items[i]) + " found");
      if (i > 0)
        out += self;
      out += seq->items[i].str();
      if (out.size() > kJinjaMaxText)
        fail("a string grew past " + std::to_string(kJinjaMaxText >> 20) + " MiB");
    }
    return text(std::move(out));
  }
  if (name == "find" || name == "count") {
    if (args.size() != 1)
      fail(what +
           (args.empty() ? " takes at least 1 argument" : " with start and end arguments is not supported"));
    const std::string &sub = needString(args[0]);
    if (name == "find") {
      const auto pos = self.find(sub);
      return jinjaInt(pos == std::string::npos ? -1 : std::int64_t(jinjaLength(self.substr(0, pos))));
    }
    if (sub.empty())
      return jinjaInt(std::int64_t(jinjaLength(self)) + 1);
    std::int64_t n = 0;
    for (std::size_t pos = self.find(sub); pos != std::string::npos; pos = self.find(sub, pos + sub.size()))
      ++n;
    return jinjaInt(n);
  }
  if (!args.empty())
    fail(what + " takes no arguments");
  return text(caseMap(self, name == "upper" ? 'u' : name == "lower" ? 'l' : name == "title" ? 't' : 'c'));
}

// range(): jinja2's sandbox allows at most MAX_RANGE items.
JinjaValue JinjaRun::range(const JinjaArgs &args, const JinjaKwargs &kwargs) {
  if (!kwargs.empty())
    fail("range() takes no keyword arguments");
  if (args.empty() || args.size() > 3)
    fail("range() takes 1 to 3 arguments");
  std::int64_t bounds[3] = {0, 0, 1};
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (!args[i].is(JinjaKind::Int) && !args[i].is(JinjaKind::Bool))
      fail(std::string("'") + jinjaTypeName(args[i]) + "' object cannot be interpreted as an integer");
    bounds[args.size() == 1 ? 1 : i] = jinjaAsInt(args[i]);
  }
  const std::int64_t start = bounds[0], stop = bounds[1], step = bounds[2];
  if (step == 0)
    fail("range() arg 3 must not be zero");
  // The item count in unsigned arithmetic, which holds any distance between two int64 values.
  const std::uint64_t distance = step > 0 ? (stop > start ? std::uint64_t(stop) - std::uint64_t(start) : 0)
                                          : (start > stop ? std::uint64_t(start) - std::uint64_t(stop) : 0);
  const std::uint64_t stride = step > 0 ? std::uint64_t(step) : std::uint64_t(-(step + 1)) + 1;
  const std::uint64_t count = distance == 0 ? 0 : (distance - 1) / stride + 1;
  if (count > std::uint64_t(kJinjaMaxRange))
    fail("range too big: jinja2's sandbox allows " + std::to_string(kJinjaMaxRange) + " items");
  std::vector<JinjaValue> items;
  items.reserve(std::size_t(count));
  std::int64_t value = start;
  for (std::uint64_t k = 0; k < count; ++k) {
    items.push_back(jinjaInt(value));
    if (k + 1 < count) // the step past the last item could overflow
      value += step;
  }
  return makeSeq(JinjaKind::Range, std::move(items));
}

JinjaValue JinjaRun::callGlobal(const std::string &name, const JinjaArgs &args, const JinjaKwargs &kwargs) {
  const std::string what = name + "()";
  if (name == "raise_exception") {
    const auto p = bind(what, {"message"}, 1, args, kwargs);
    fail("the chat template raised: " + str(*p[0]));
  }
  if (name == "range")
    return range(args, kwargs);
  if (name == "namespace" || name == "dict") {
    if (args.size() > (name == "dict" ? 0u : 1u))
      fail(what + (name == "dict" ? " with positional arguments is not supported"
                                  : " takes at most one positional argument"));
    auto ns = std::make_shared<JinjaNamespace>();
    const auto put = [&](const std::string &key, const JinjaValue &value) {
      if (jinjaHoldsObject(value) && name == "namespace")
        fail("storing a namespace, loop, macro or function in a namespace is not supported");
      for (auto &a : ns->attrs)
        if (a.first == key) {
          a.second = value;
          return;
        }
      ns->attrs.emplace_back(key, value);
    };
    if (!args.empty()) {
      if (!args[0].is(JinjaKind::Dict))
        fail("namespace() takes a dict as its positional argument");
      for (const auto &e : args[0].dict->entries) {
        if (!e.first.is(JinjaKind::String))
          fail("namespace() with keys that are not strings is not supported");
        put(e.first.str(), e.second);
      }
    }
    for (const auto &kw : kwargs)
      put(kw.first, kw.second);
    if (name == "namespace")
      return jinjaObjectValue(JinjaKind::Namespace, ns);
    std::vector<std::pair<JinjaValue, JinjaValue>> entries;
    for (auto &a : ns->attrs)
      entries.emplace_back(jinjaString(a.first), a.second);
    return makeDict(std::move(entries));
  }
  if (name == "strftime_now") {
    const auto p = bind(what, {"format"}, 1, args, kwargs);
    if (!p[0]->is(JinjaKind::String))
      fail("strftime_now() needs a format string");
    return text(jinjaStrftimeNow(*this, p[0]->str()));
  }
  fail("the global function " + what + " is not supported by PrefLab's chat template renderer");
}

JinjaValue JinjaRun::callMacro(const JinjaMacro &macro, const JinjaArgs &args, const JinjaKwargs &kwargs) {
  const JinjaStmt &node = *macro.node;
  const auto &params = node.names;
  if (args.size() > params.size())
    fail("macro '" + node.text + "' takes not more than " + std::to_string(params.size()) + " argument(s)");
  const auto parent = macro.scope.lock();
  if (!parent)
    fail("macro '" + node.text + "' is called after its scope ended");
  const Nesting nesting(*this, m_macroDepth, kJinjaMaxMacroDepth, "macro calls");
  auto scope = jinjaChildScope(parent);
  std::vector<bool> given(params.size(), false);
  for (std::size_t i = 0; i < args.size(); ++i) {
    scope->set(params[i], args[i]);
    given[i] = true;
  }
  for (const auto &kw : kwargs) {
    const auto it = std::find(params.begin(), params.end(), kw.first);
    if (it == params.end())
      fail("macro '" + node.text + "' takes no keyword argument '" + kw.first + "'");
    const auto i = std::size_t(it - params.begin());
    if (given[i])
      fail("macro '" + node.text + "' got multiple values for argument '" + kw.first + "'");
    scope->set(params[i], kw.second);
    given[i] = true;
  }
  for (std::size_t i = 0; i < params.size(); ++i)
    if (!given[i])
      scope->set(params[i], node.exprs[i] ? eval(*node.exprs[i], scope)
                                          : jinjaUndefined("parameter '" + params[i] + "' was not provided"));
  std::string out;
  exec(node.bodies[0], scope, out);
  return text(std::move(out));
}

} // namespace preflab::core::jinja
