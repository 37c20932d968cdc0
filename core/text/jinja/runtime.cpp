// JinjaRun's values: building strings, lists and dicts within the limits, and Python's truthiness,
// str(), equality, ordering, `in`, iteration and len().
#include "core/text/jinja/runtime.h"

#include "core/text/jinja/utf8.h"

#include <cmath>

namespace preflab::core::jinja {

JinjaScopePtr jinjaChildScope(const JinjaScopePtr &parent) {
  auto s = std::make_shared<JinjaScope>();
  s->parent = parent;
  return s;
}

namespace {

// -1, 0, 1, or 2 when unordered (NaN). Bool, int and float compare exactly, as in Python.
int jinjaNumberOrder(const JinjaValue &a, const JinjaValue &b) {
  const auto as = [](const JinjaValue &v) -> long double {
    return v.is(JinjaKind::Float)  ? (long double)v.real
           : v.is(JinjaKind::Bool) ? (long double)v.flag
                                   : (long double)v.integer;
  };
  if (a.is(JinjaKind::Int) && b.is(JinjaKind::Int))
    return a.integer < b.integer ? -1 : a.integer > b.integer ? 1 : 0;
  const long double x = as(a), y = as(b);
  if (std::isnan(x) || std::isnan(y))
    return 2;
  return x < y ? -1 : x > y ? 1 : 0;
}

} // namespace

JinjaValue JinjaRun::text(std::string s, bool markup) {
  if (s.size() > kJinjaMaxText)
    fail("a string grew past " + std::to_string(kJinjaMaxText >> 20) + " MiB");
  spendOn(s);
  return jinjaString(std::move(s), markup);
}

JinjaValue JinjaRun::makeSeq(JinjaKind kind, std::vector<JinjaValue> items) {
  if (items.size() > kJinjaMaxItems)
    fail("a list grew past " + std::to_string(kJinjaMaxItems) + " items");
  spend(items.size());
  auto seq = std::make_shared<JinjaSeq>();
  for (const auto &v : items) {
    seq->depth = std::max(seq->depth, jinjaDepth(v) + 1);
    seq->holdsObject = seq->holdsObject || jinjaHoldsObject(v);
  }
  if (seq->depth > kJinjaMaxValueDepth)
    fail("lists nested more than " + std::to_string(kJinjaMaxValueDepth) + " deep");
  seq->items = std::move(items);
  JinjaValue v;
  v.kind = kind;
  v.seq = std::move(seq);
  return v;
}

JinjaValue JinjaRun::makeDict(std::vector<std::pair<JinjaValue, JinjaValue>> entries) {
  if (entries.size() > kJinjaMaxItems)
    fail("a dict grew past " + std::to_string(kJinjaMaxItems) + " items");
  spend(entries.size());
  auto dict = std::make_shared<JinjaDict>();
  for (const auto &e : entries) {
    dict->depth = std::max({dict->depth, jinjaDepth(e.first) + 1, jinjaDepth(e.second) + 1});
    dict->holdsObject = dict->holdsObject || jinjaHoldsObject(e.second);
  }
  if (dict->depth > kJinjaMaxValueDepth)
    fail("dicts nested more than " + std::to_string(kJinjaMaxValueDepth) + " deep");
  dict->entries = std::move(entries);
  JinjaValue v;
  v.kind = JinjaKind::Dict;
  v.dict = std::move(dict);
  return v;
}

bool JinjaRun::truthy(const JinjaValue &v) const {
  switch (v.kind) {
  case JinjaKind::Undefined:
  case JinjaKind::None:
    return false;
  case JinjaKind::Bool:
    return v.flag;
  case JinjaKind::Int:
    return v.integer != 0;
  case JinjaKind::Float:
    return v.real != 0;
  case JinjaKind::String:
    return !v.str().empty();
  case JinjaKind::List:
  case JinjaKind::Tuple:
  case JinjaKind::Range:
  case JinjaKind::View:
    return !v.seq->items.empty();
  case JinjaKind::Dict:
    return !v.dict->entries.empty();
  default:
    return true; // generators and objects
  }
}

// str(): what {{ }}, ~ and |string show.
std::string JinjaRun::str(const JinjaValue &v) {
  switch (v.kind) {
  case JinjaKind::Undefined:
    return {};
  case JinjaKind::None:
    return "None";
  case JinjaKind::Bool:
    return v.flag ? "True" : "False";
  case JinjaKind::Int:
    return std::to_string(v.integer);
  case JinjaKind::Float:
    return jinjaFloatRepr(v.real);
  case JinjaKind::String:
    return v.str();
  case JinjaKind::List:
  case JinjaKind::Tuple:
  case JinjaKind::Dict: {
    std::string out;
    repr(v, out);
    return out;
  }
  default:
    fail(std::string("printing a ") + jinjaTypeName(v) +
         " is not supported (jinja2 would print its Python repr)");
  }
}

bool JinjaRun::equal(const JinjaValue &a, const JinjaValue &b) {
  spend(1);
  if (a.isNumber() && b.isNumber())
    return jinjaNumberOrder(a, b) == 0;
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
  case JinjaKind::Undefined:
  case JinjaKind::None:
    return true;
  case JinjaKind::String:
    spendOn(a.str());
    return a.str() == b.str();
  case JinjaKind::List:
  case JinjaKind::Tuple:
  case JinjaKind::Range: {
    const auto &x = a.seq->items, &y = b.seq->items;
    if (x.size() != y.size())
      return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!equal(x[i], y[i]))
        return false;
    return true;
  }
  case JinjaKind::Dict: {
    if (a.dict->entries.size() != b.dict->entries.size())
      return false;
    for (const auto &e : a.dict->entries) {
      const auto *other = dictFind(b, e.first);
      if (!other || !equal(e.second, *other))
        return false;
    }
    return true;
  }
  case JinjaKind::View:
    fail("comparing dict views is not supported");
  case JinjaKind::Iterator:
    return a.seq == b.seq;
  default:
    return a.object == b.object;
  }
}

bool JinjaRun::compare(const std::string &op, const JinjaValue &a, const JinjaValue &b) {
  spend(1);
  if (op == "==")
    return equal(a, b);
  if (op == "!=")
    return !equal(a, b);
  if (a.is(JinjaKind::Undefined))
    undefinedFail(a);
  if (b.is(JinjaKind::Undefined))
    undefinedFail(b);
  const auto apply = [&op](int order) {
    if (order == 2)
      return false;
    return op == "<" ? order < 0 : op == "<=" ? order <= 0 : op == ">" ? order > 0 : order >= 0;
  };
  if (a.isNumber() && b.isNumber())
    return apply(jinjaNumberOrder(a, b));
  if (a.is(JinjaKind::String) && b.is(JinjaKind::String)) {
    spendOn(a.str());
    const int c = a.str().compare(b.str()); // UTF-8 byte order is code point order
    return apply(c < 0 ? -1 : c > 0 ? 1 : 0);
  }
  if (a.kind == b.kind && (a.is(JinjaKind::List) || a.is(JinjaKind::Tuple))) {
    const auto &x = a.seq->items, &y = b.seq->items;
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!equal(x[i], y[i]))
        return compare(op, x[i], y[i]);
    return apply(x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0);
  }
  fail("'" + op + "' not supported between instances of '" + jinjaTypeName(a) + "' and '" + jinjaTypeName(b) +
       "'");
}

bool JinjaRun::contains(const JinjaValue &container, const JinjaValue &item) {
  switch (container.kind) {
  case JinjaKind::String:
    if (!item.is(JinjaKind::String))
      fail(std::string("'in <string>' requires string as left operand, not ") + jinjaTypeName(item));
    spendOn(container.str());
    return container.str().find(item.str()) != std::string::npos;
  case JinjaKind::List:
  case JinjaKind::Tuple:
  case JinjaKind::Range:
  case JinjaKind::View:
    return std::any_of(container.seq->items.begin(), container.seq->items.end(),
                       [&](const JinjaValue &v) { return equal(v, item); });
  case JinjaKind::Dict:
    if (item.is(JinjaKind::Undefined))
      return false;
    if (!jinjaHashable(item))
      fail(std::string("unhashable type: '") + jinjaTypeName(item) + "'");
    return dictFind(container, item) != nullptr;
  case JinjaKind::Undefined:
    return false;
  case JinjaKind::Iterator:
    fail("'in' on a generator (the result of |map, |select...) is not supported");
  default:
    fail(std::string("argument of type '") + jinjaTypeName(container) + "' is not iterable");
  }
}

std::shared_ptr<const JinjaSeq> JinjaRun::iterate(const JinjaValue &v) {
  switch (v.kind) {
  case JinjaKind::List:
  case JinjaKind::Tuple:
  case JinjaKind::Range:
  case JinjaKind::View:
    return v.seq;
  case JinjaKind::Iterator:
    if (v.seq->consumed)
      fail("a generator (the result of |map, |select, |reverse, |items...) is used a second time, where "
           "jinja2 would find it empty; not supported");
    v.seq->consumed = true;
    return v.seq;
  case JinjaKind::String: {
    std::vector<JinjaValue> chars;
    const std::string &s = v.str();
    for (std::size_t i = 0; i < s.size();) {
      const std::size_t begin = i;
      jinjaDecode(s, i);
      chars.push_back(jinjaString(s.substr(begin, i - begin)));
    }
    return makeSeq(JinjaKind::List, std::move(chars)).seq;
  }
  case JinjaKind::Dict: {
    std::vector<JinjaValue> keys;
    for (const auto &e : v.dict->entries)
      keys.push_back(e.first);
    return makeSeq(JinjaKind::List, std::move(keys)).seq;
  }
  case JinjaKind::Undefined:
    return makeSeq(JinjaKind::List, {}).seq;
  default:
    fail(std::string("'") + jinjaTypeName(v) + "' object is not iterable");
  }
}

std::int64_t JinjaRun::length(const JinjaValue &v) {
  switch (v.kind) {
  case JinjaKind::String:
    spendOn(v.str());
    return std::int64_t(jinjaLength(v.str()));
  case JinjaKind::List:
  case JinjaKind::Tuple:
  case JinjaKind::Range:
  case JinjaKind::View:
    return std::int64_t(v.seq->items.size());
  case JinjaKind::Dict:
    return std::int64_t(v.dict->entries.size());
  case JinjaKind::Undefined:
    return 0;
  default:
    fail(std::string("object of type '") + jinjaTypeName(v) + "' has no len()");
  }
}

const JinjaValue *JinjaRun::dictFind(const JinjaValue &dict, const JinjaValue &key) {
  for (const auto &e : dict.dict->entries)
    if (equal(e.first, key))
      return &e.second;
  return nullptr;
}

} // namespace preflab::core::jinja
