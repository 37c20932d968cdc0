// JinjaRun's attributes (x.name, methods of str and dict), subscripts and slices, and the unary and
// binary operators with Python's rules for numbers, strings and lists.
#include "core/text/jinja/runtime.h"

#include "core/text/jinja/utf8.h"

#include <cmath>
#include <limits>

namespace preflab::core::jinja {

namespace {

// The attributes of Python's types (getattr gives a bound method for those), the methods
// implemented, and the methods that would modify their object.
const char *const kJinjaStrAttrs[] = {
    "capitalize", "casefold",     "center",       "count",   "encode",     "endswith",    "expandtabs",
    "find",       "format",       "format_map",   "index",   "isalnum",    "isalpha",     "isascii",
    "isdecimal",  "isdigit",      "isidentifier", "islower", "isnumeric",  "isprintable", "isspace",
    "istitle",    "isupper",      "join",         "ljust",   "lower",      "lstrip",      "maketrans",
    "partition",  "removeprefix", "removesuffix", "replace", "rfind",      "rindex",      "rjust",
    "rpartition", "rsplit",       "rstrip",       "split",   "splitlines", "startswith",  "strip",
    "swapcase",   "title",        "translate",    "upper",   "zfill"};
const char *const kJinjaDictAttrs[] = {"clear", "copy",    "fromkeys",   "get",    "items", "keys",
                                       "pop",   "popitem", "setdefault", "update", "values"};
const char *const kJinjaListAttrs[] = {"append", "clear", "copy",   "count",   "extend", "index",
                                       "insert", "pop",   "remove", "reverse", "sort"};
const char *const kJinjaTupleAttrs[] = {"count", "index"};
const char *const kJinjaIntAttrs[] = {"as_integer_ratio", "bit_count",  "bit_length", "conjugate",
                                      "denominator",      "from_bytes", "imag",       "is_integer",
                                      "numerator",        "real",       "to_bytes"};
const char *const kJinjaFloatAttrs[] = {"as_integer_ratio", "conjugate", "fromhex", "hex", "imag",
                                        "is_integer",       "real"};
const char *const kJinjaMethods[] = {"str.startswith", "str.endswith", "str.strip",      "str.lstrip",
                                     "str.rstrip",     "str.split",    "str.rsplit",     "str.upper",
                                     "str.lower",      "str.title",    "str.capitalize", "str.replace",
                                     "str.join",       "str.find",     "str.count",      "dict.get",
                                     "dict.items",     "dict.keys",    "dict.values"};
const char *const kJinjaMutators[] = {"dict.clear",  "dict.pop",    "dict.popitem", "dict.setdefault",
                                      "dict.update", "list.append", "list.clear",   "list.extend",
                                      "list.insert", "list.pop",    "list.remove",  "list.reverse",
                                      "list.sort"};

// self.<method> as a bound method, refused unless implemented.
JinjaValue jinjaMethod(JinjaRun &run, const JinjaValue &self, const std::string &qualified) {
  if (self.markup)
    run.fail("methods of the result of |safe are not supported");
  if (jinjaListed(kJinjaMutators, qualified))
    run.fail("'" + qualified + "' would modify the object, which jinja2's immutable sandbox forbids");
  if (!jinjaListed(kJinjaMethods, qualified))
    run.fail("'" + qualified + "' is not supported by PrefLab's chat template renderer");
  auto fn = std::make_shared<JinjaFunction>();
  fn->name = qualified;
  fn->self = self;
  return jinjaObjectValue(JinjaKind::Function, std::move(fn));
}

std::string jinjaEscapeHtml(const std::string &s) { // markupsafe.escape
  std::string out;
  for (const char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '\'':
      out += "&#39;";
      break;
    case '"':
      out += "&#34;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

// CPython's float_divmod: the floor quotient and the modulo with the sign of y (y != 0).
void jinjaFloatDivMod(double x, double y, double &floordiv, double &mod) {
  mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5)
      floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, x / y);
  }
}

// base ** exponent (exponent >= 0) by squaring; false on 64-bit overflow.
bool jinjaIntPow(std::int64_t base, std::int64_t exponent, std::int64_t &result) {
  result = 1;
  for (std::int64_t e = exponent; e > 0; e >>= 1) {
    if ((e & 1) && __builtin_mul_overflow(result, base, &result))
      return false;
    if (e > 1 && __builtin_mul_overflow(base, base, &base))
      return false;
  }
  return true;
}

} // namespace

// x.name: jinja2's sandboxed getattr (the attribute first, then the item for dicts).
JinjaValue JinjaRun::getAttr(const JinjaValue &v, const std::string &name) {
  if (v.is(JinjaKind::Undefined))
    undefinedFail(v);
  if (name.rfind("__", 0) == 0)
    fail("access to attribute '" + name + "' is not supported");
  const auto missing = [&](const char *type) {
    return jinjaUndefined(std::string("'") + type + "' has no attribute '" + name + "'");
  };
  switch (v.kind) {
  case JinjaKind::Dict: {
    if (jinjaListed(kJinjaDictAttrs, name))
      return jinjaMethod(*this, v, "dict." + name);
    if (const auto *found = dictFind(v, jinjaString(name)))
      return *found;
    return missing("dict object");
  }
  case JinjaKind::String:
    if (jinjaListed(kJinjaStrAttrs, name))
      return jinjaMethod(*this, v, "str." + name);
    return missing("str object");
  case JinjaKind::List:
    if (jinjaListed(kJinjaListAttrs, name))
      return jinjaMethod(*this, v, "list." + name);
    return missing("list object");
  case JinjaKind::Tuple:
    if (jinjaListed(kJinjaTupleAttrs, name))
      return jinjaMethod(*this, v, "tuple." + name);
    return missing("tuple object");
  case JinjaKind::Bool:
  case JinjaKind::Int:
    if (jinjaListed(kJinjaIntAttrs, name))
      return jinjaMethod(*this, v, "int." + name);
    return missing("int object");
  case JinjaKind::Float:
    if (jinjaListed(kJinjaFloatAttrs, name))
      return jinjaMethod(*this, v, "float." + name);
    return missing("float object");
  case JinjaKind::None:
    return missing("None");
  case JinjaKind::Namespace: {
    for (const auto &a : static_cast<const JinjaNamespace &>(*v.object).attrs)
      if (a.first == name)
        return a.second;
    return missing("Namespace");
  }
  case JinjaKind::Loop: {
    const auto &loop = static_cast<const JinjaLoop &>(*v.object);
    const auto n = std::int64_t(loop.items->items.size()), i = std::int64_t(loop.index0);
    if (name == "index")
      return jinjaInt(i + 1);
    if (name == "index0")
      return jinjaInt(i);
    if (name == "revindex")
      return jinjaInt(n - i);
    if (name == "revindex0")
      return jinjaInt(n - i - 1);
    if (name == "first")
      return jinjaBool(i == 0);
    if (name == "last")
      return jinjaBool(i == n - 1);
    if (name == "length")
      return jinjaInt(n);
    if (name == "depth")
      return jinjaInt(1);
    if (name == "depth0")
      return jinjaInt(0);
    if (name == "previtem")
      return i > 0 ? loop.items->items[std::size_t(i - 1)] : jinjaUndefined("there is no previous item");
    if (name == "nextitem")
      return i + 1 < n ? loop.items->items[std::size_t(i + 1)] : jinjaUndefined("there is no next item");
    if (name == "cycle") {
      auto fn = std::make_shared<JinjaFunction>();
      fn->name = "loop.cycle";
      fn->self = v;
      return jinjaObjectValue(JinjaKind::Function, std::move(fn));
    }
    if (name == "changed")
      fail("loop.changed() is not supported by PrefLab's chat template renderer");
    return missing("LoopContext");
  }
  default:
    fail("attribute '" + name + "' of a " + jinjaTypeName(v) + " is not supported");
  }
}

// x[key]: jinja2's sandboxed getitem (the item first, then the attribute for string keys);
// a missing key or an index out of range is undefined.
JinjaValue JinjaRun::getItem(const JinjaValue &v, const JinjaValue &key) {
  if (v.is(JinjaKind::Undefined))
    undefinedFail(v);
  if (v.is(JinjaKind::Macro) || v.is(JinjaKind::Function))
    fail(std::string("subscripting a ") + jinjaTypeName(v) + " is not supported");
  const bool index = key.is(JinjaKind::Int) || key.is(JinjaKind::Bool);
  if (v.is(JinjaKind::Dict) && jinjaHashable(key))
    if (const auto *found = dictFind(v, key))
      return *found;
  if (index && (v.is(JinjaKind::List) || v.is(JinjaKind::Tuple) || v.is(JinjaKind::Range) ||
                v.is(JinjaKind::String))) {
    std::int64_t i = key.is(JinjaKind::Bool) ? std::int64_t(key.flag) : key.integer;
    if (v.is(JinjaKind::String)) { // walk to the code point, from the end for negative indexes
      const std::string &s = v.str();
      std::size_t begin = i >= 0 ? 0 : s.size();
      for (std::int64_t k = 0; k < i && begin < s.size(); ++k)
        jinjaDecode(s, begin);
      for (std::int64_t k = i; k < 0 && begin != std::string::npos; ++k) {
        if (begin == 0)
          begin = std::string::npos;
        else
          while (--begin > 0 && (static_cast<unsigned char>(s[begin]) & 0xC0) == 0x80) {
          }
      }
      spend((begin == std::string::npos ? s.size() : i >= 0 ? begin : s.size() - begin) / 16);
      if (begin == std::string::npos || begin >= s.size())
        return jinjaUndefined("string index out of range");
      std::size_t end = begin;
      jinjaDecode(s, end);
      return jinjaString(s.substr(begin, end - begin));
    }
    const auto n = std::int64_t(v.seq->items.size());
    if (i < 0)
      i += n;
    if (i < 0 || i >= n)
      return jinjaUndefined(std::string(jinjaTypeName(v)) + " index out of range");
    return v.seq->items[std::size_t(i)];
  }
  if (key.is(JinjaKind::String))
    return getAttr(v, key.str());
  return jinjaUndefined(std::string("'") + jinjaTypeName(v) + " object' has no item " +
                        (index ? str(key) : "of that type"));
}

// x[start:stop:step] with Python's index adjustment; non-integer bounds are undefined, as jinja2's
// getitem turns the TypeError into an undefined value.
JinjaValue JinjaRun::slice(const JinjaValue &v, const JinjaValue &start, const JinjaValue &stop,
                           const JinjaValue &step) {
  if (v.is(JinjaKind::Undefined))
    undefinedFail(v);
  const auto bound = [](const JinjaValue &b, std::optional<std::int64_t> &out) {
    if (b.is(JinjaKind::None))
      return true;
    if (b.is(JinjaKind::Int) || b.is(JinjaKind::Bool)) {
      out = b.is(JinjaKind::Bool) ? std::int64_t(b.flag) : b.integer;
      return true;
    }
    return false;
  };
  std::optional<std::int64_t> first, last, stride;
  if (!bound(start, first) || !bound(stop, last) || !bound(step, stride))
    return jinjaUndefined("slice indices must be integers or None");
  if (v.is(JinjaKind::Range))
    fail("slicing a range is not supported");
  const bool text = v.is(JinjaKind::String);
  if (!text && !v.is(JinjaKind::List) && !v.is(JinjaKind::Tuple))
    return jinjaUndefined(std::string("a ") + jinjaTypeName(v) + " cannot be sliced");
  const std::int64_t s = stride.value_or(1);
  if (s == 0)
    fail("slice step cannot be zero");
  std::u32string cps;
  if (text) {
    spendOn(v.str());
    cps = jinjaToU32(v.str());
  }
  const std::int64_t n = text ? std::int64_t(cps.size()) : std::int64_t(v.seq->items.size());
  const std::int64_t lower = s > 0 ? 0 : -1, upper = s > 0 ? n : n - 1;
  const auto adjust = [&](std::optional<std::int64_t> b, std::int64_t absent) {
    if (!b)
      return absent;
    std::int64_t x = *b;
    if (x < 0)
      x = x < -n ? lower : std::max(x + n, lower);
    else if (x > upper)
      x = upper;
    return x;
  };
  const std::int64_t from = adjust(first, s > 0 ? lower : upper), to = adjust(last, s > 0 ? upper : lower);
  std::int64_t count = 0;
  if (s > 0 && from < to)
    count = (to - from - 1) / s + 1;
  else if (s < 0 && from > to)
    count = s == std::numeric_limits<std::int64_t>::min() ? 1 : (from - to - 1) / -s + 1;
  std::u32string outText;
  std::vector<JinjaValue> items;
  for (std::int64_t k = 0; k < count; ++k) {
    const auto i = std::size_t(from + k * s);
    if (text)
      outText += cps[i];
    else
      items.push_back(v.seq->items[i]);
  }
  return text ? this->text(jinjaFromU32(outText)) : makeSeq(v.kind, std::move(items));
}

JinjaValue JinjaRun::unary(bool negate, const JinjaValue &v) {
  if (v.is(JinjaKind::Undefined))
    undefinedFail(v);
  if (v.is(JinjaKind::Float))
    return jinjaFloat(negate ? -v.real : v.real);
  if (v.is(JinjaKind::Int) || v.is(JinjaKind::Bool)) {
    const std::int64_t i = v.is(JinjaKind::Bool) ? std::int64_t(v.flag) : v.integer;
    if (negate && i == std::numeric_limits<std::int64_t>::min())
      fail("integer overflow (PrefLab's template integers have 64 bits)");
    return jinjaInt(negate ? -i : i);
  }
  fail(std::string("bad operand type for unary ") + (negate ? "-" : "+") + ": '" + jinjaTypeName(v) + "'");
}

// str * n, list * n, tuple * n (n <= 0 gives an empty one).
JinjaValue JinjaRun::repeat(const JinjaValue &seq, std::int64_t times) {
  const bool isText = seq.is(JinjaKind::String);
  const std::size_t unit = isText ? seq.str().size() : seq.seq->items.size();
  if (times <= 0 || unit == 0)
    return isText ? jinjaString({}, seq.markup) : makeSeq(seq.kind, {});
  if (std::uint64_t(times) > (isText ? kJinjaMaxText : kJinjaMaxItems) / unit)
    fail(isText ? "a string grew past the size limit" : "a list grew past the size limit");
  if (isText) {
    std::string out;
    out.reserve(unit * std::size_t(times));
    for (std::int64_t i = 0; i < times; ++i)
      out += seq.str();
    return text(std::move(out), seq.markup);
  }
  std::vector<JinjaValue> items;
  items.reserve(unit * std::size_t(times));
  for (std::int64_t i = 0; i < times; ++i)
    items.insert(items.end(), seq.seq->items.begin(), seq.seq->items.end());
  return makeSeq(seq.kind, std::move(items));
}

JinjaValue JinjaRun::binary(const std::string &op, const JinjaValue &a, const JinjaValue &b) {
  if (a.is(JinjaKind::Undefined))
    undefinedFail(a);
  if (b.is(JinjaKind::Undefined))
    undefinedFail(b);
  const auto unsupported = [&]() {
    fail("unsupported operand type(s) for " + op + ": '" + jinjaTypeName(a) + "' and '" + jinjaTypeName(b) +
         "'");
  };
  const auto overflow = [&]() { fail("integer overflow (PrefLab's template integers have 64 bits)"); };
  const bool numbers = a.isNumber() && b.isNumber();
  const bool ints = numbers && !a.is(JinjaKind::Float) && !b.is(JinjaKind::Float);
  const std::int64_t x = ints ? jinjaAsInt(a) : 0, y = ints ? jinjaAsInt(b) : 0;
  const double fx = numbers ? jinjaAsDouble(a) : 0, fy = numbers ? jinjaAsDouble(b) : 0;
  std::int64_t r = 0;
  if ((a.markup || b.markup) && !(op == "+" && a.is(JinjaKind::String) && b.is(JinjaKind::String)) &&
      !(op == "*" && a.markup && (b.is(JinjaKind::Int) || b.is(JinjaKind::Bool))))
    fail("'" + op + "' with the result of |safe is not supported");
  if (op == "+") {
    if (ints)
      return __builtin_add_overflow(x, y, &r) ? (overflow(), a) : jinjaInt(r);
    if (numbers)
      return jinjaFloat(fx + fy);
    if (a.is(JinjaKind::String) && b.is(JinjaKind::String)) {
      if (a.markup || b.markup) // Markup + str escapes the str (markupsafe)
        return text((a.markup ? a.str() : jinjaEscapeHtml(a.str())) +
                        (b.markup ? b.str() : jinjaEscapeHtml(b.str())),
                    true);
      return text(a.str() + b.str());
    }
    if (a.kind == b.kind && (a.is(JinjaKind::List) || a.is(JinjaKind::Tuple))) {
      auto items = a.seq->items;
      items.insert(items.end(), b.seq->items.begin(), b.seq->items.end());
      return makeSeq(a.kind, std::move(items));
    }
    if (a.is(JinjaKind::String))
      fail(std::string("can only concatenate str (not \"") + jinjaTypeName(b) + "\") to str");
    unsupported();
  }
  if (op == "-") {
    if (ints)
      return __builtin_sub_overflow(x, y, &r) ? (overflow(), a) : jinjaInt(r);
    if (numbers)
      return jinjaFloat(fx - fy);
    unsupported();
  }
  if (op == "*") {
    if (ints)
      return __builtin_mul_overflow(x, y, &r) ? (overflow(), a) : jinjaInt(r);
    if (numbers)
      return jinjaFloat(fx * fy);
    const bool intRight = b.is(JinjaKind::Int) || b.is(JinjaKind::Bool),
               intLeft = a.is(JinjaKind::Int) || a.is(JinjaKind::Bool);
    const JinjaValue &seq = intRight ? a : b;
    if ((intRight || intLeft) &&
        (seq.is(JinjaKind::String) || seq.is(JinjaKind::List) || seq.is(JinjaKind::Tuple)))
      return repeat(seq, jinjaAsInt(intRight ? b : a));
    unsupported();
  }
  if (op == "/") {
    if (!numbers)
      unsupported();
    if (fy == 0)
      fail("division by zero");
    if (ints && (x > (std::int64_t(1) << 53) || x < -(std::int64_t(1) << 53) || y > (std::int64_t(1) << 53) ||
                 y < -(std::int64_t(1) << 53)))
      fail("dividing integers beyond 2**53 is not supported (Python rounds it exactly)");
    return jinjaFloat(fx / fy);
  }
  if (op == "//" || op == "%") {
    if (a.is(JinjaKind::String) && op == "%")
      fail("string formatting with '%' is not supported by PrefLab's chat template renderer");
    if (!numbers)
      unsupported();
    if (ints) {
      if (y == 0)
        fail("integer division or modulo by zero");
      if (x == std::numeric_limits<std::int64_t>::min() && y == -1)
        overflow();
      std::int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        q -= 1;
        m += y;
      }
      return jinjaInt(op == "//" ? q : m);
    }
    if (fy == 0)
      fail(op == "//" ? "float floor division by zero" : "float modulo");
    double floordiv = 0, mod = 0;
    jinjaFloatDivMod(fx, fy, floordiv, mod);
    return jinjaFloat(op == "//" ? floordiv : mod);
  }
  if (op == "**") {
    if (!numbers)
      unsupported();
    if (ints && y >= 0)
      return jinjaIntPow(x, y, r) ? jinjaInt(r) : (overflow(), a);
    if (fx == 0 && fy < 0)
      fail("0.0 cannot be raised to a negative power");
    if (fx < 0 && std::isfinite(fy) && std::floor(fy) != fy)
      fail("a negative number to a fractional power is a complex number: not supported");
    const double result = std::pow(fx, fy);
    if (std::isinf(result) && std::isfinite(fx) && std::isfinite(fy))
      fail("float ** overflowed (Python raises OverflowError)");
    return jinjaFloat(result);
  }
  fail("unknown operator " + op);
}

} // namespace preflab::core::jinja
