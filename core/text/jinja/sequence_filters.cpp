// JinjaRun's filters over sequences (join, map, select, reject, unique, list, items, reverse, first,
// last, sort, dictsort) and the attribute paths they take.
#include "core/text/jinja/runtime.h"

#include "core/text/jinja/text_helpers.h"
#include "core/text/jinja/utf8.h"

#include <cmath>

namespace preflab::core::jinja {

namespace {

// Whether a sort key is or holds a NaN (Python's sort order is then undefined).
bool jinjaHasNan(const JinjaValue &v) {
  if (v.is(JinjaKind::Float))
    return std::isnan(v.real);
  return v.seq && std::any_of(v.seq->items.begin(), v.seq->items.end(), jinjaHasNan);
}

} // namespace

std::vector<JinjaValue> JinjaRun::attributePath(const JinjaValue &attribute) {
  if (attribute.is(JinjaKind::None))
    return {};
  if (!attribute.is(JinjaKind::String))
    return {attribute};
  std::vector<JinjaValue> path;
  const std::string dot = ".";
  for (auto &part : jinjaSplit(attribute.str(), &dot, -1, false)) {
    if (!jinjaIsAscii(part))
      fail("attribute names with non-ASCII characters are not supported");
    bool tooBig = false;
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), jinjaIsDigit);
    const auto index = digits ? jinjaParseInt(part, tooBig) : std::nullopt;
    if (tooBig)
      fail("attribute index " + part + " does not fit in 64 bits");
    path.push_back(index ? jinjaInt(*index) : jinjaString(part));
  }
  return path;
}

// jinja2's make_attrgetter: item[part] for each part, the fallback for undefined values.
JinjaValue JinjaRun::attributeOf(JinjaValue item, const std::vector<JinjaValue> &path,
                                 const JinjaValue *fallback) {
  for (const auto &part : path) {
    item = getItem(item, part);
    if (fallback && item.is(JinjaKind::Undefined))
      item = *fallback;
  }
  return item;
}

JinjaValue JinjaRun::sequenceFilter(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                                    const JinjaKwargs &kwargs) {
  const std::string what = "the |" + name + " filter";
  if (name == "join") {
    const auto p = bind(what, {"d", "attribute"}, 0, args, kwargs);
    const std::string separator = p[0] ? str(*p[0]) : std::string();
    const auto path = p[1] ? attributePath(*p[1]) : std::vector<JinjaValue>{};
    const auto seq = iterate(value);
    std::string out;
    for (std::size_t i = 0; i < seq->items.size(); ++i) {
      if (i > 0)
        out += separator;
      out += str(path.empty() ? seq->items[i] : attributeOf(seq->items[i], path, nullptr));
      if (out.size() > kJinjaMaxText)
        fail("a string grew past " + std::to_string(kJinjaMaxText >> 20) + " MiB");
    }
    return text(std::move(out));
  }
  if (name == "map" || name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    std::vector<JinjaValue> out;
    if (!truthy(value))
      return makeSeq(JinjaKind::Iterator, {});
    if (name == "map") {
      const auto attribute =
          std::find_if(kwargs.begin(), kwargs.end(), [](const auto &kw) { return kw.first == "attribute"; });
      if (args.empty() && attribute != kwargs.end()) {
        const JinjaValue *fallback = nullptr;
        for (const auto &kw : kwargs)
          if (kw.first == "default")
            fallback = kw.second.is(JinjaKind::None) ? nullptr : &kw.second;
          else if (kw.first != "attribute")
            fail("the |map filter got an unexpected keyword argument '" + kw.first + "'");
        const auto path = attributePath(attribute->second);
        const auto source = iterate(value);
        for (const auto &item : source->items)
          out.push_back(attributeOf(item, path, fallback));
      } else {
        if (args.empty())
          fail("the |map filter needs a filter name or attribute=");
        if (!args[0].is(JinjaKind::String))
          fail("the |map filter's first argument must be a filter name");
        const JinjaArgs rest(args.begin() + 1, args.end());
        const auto source = iterate(value);
        for (const auto &item : source->items)
          out.push_back(filter(args[0].str(), item, rest, kwargs));
      }
      return makeSeq(JinjaKind::Iterator, std::move(out));
    }
    const bool byAttribute = name.size() > 6, reject = name[0] == 'r';
    std::vector<JinjaValue> path;
    std::size_t offset = 0;
    if (byAttribute) {
      if (args.empty())
        fail("Missing parameter for attribute name");
      path = attributePath(args[0]);
      offset = 1;
    }
    if (args.size() > offset && !args[offset].is(JinjaKind::String))
      fail(what + ": the test name must be a string");
    const JinjaArgs testArgs(args.begin() + std::ptrdiff_t(std::min(args.size(), offset + 1)), args.end());
    const auto source = iterate(value);
    for (const auto &item : source->items) {
      const JinjaValue subject = byAttribute ? attributeOf(item, path, nullptr) : item;
      const bool passed =
          args.size() > offset ? test(args[offset].str(), subject, testArgs, kwargs) : truthy(subject);
      if (passed != reject)
        out.push_back(item);
    }
    return makeSeq(JinjaKind::Iterator, std::move(out));
  }
  if (name == "unique") {
    const auto p = bind(what, {"case_sensitive", "attribute"}, 0, args, kwargs);
    const bool caseSensitive = p[0] && truthy(*p[0]);
    const auto path = p[1] ? attributePath(*p[1]) : std::vector<JinjaValue>{};
    std::vector<JinjaValue> seen, out;
    const auto source = iterate(value);
    for (const auto &item : source->items) {
      JinjaValue key = attributeOf(item, path, nullptr);
      if (!caseSensitive && key.is(JinjaKind::String))
        key = text(caseMap(key.str(), 'l'));
      if (!jinjaHashable(key))
        fail(std::string("the |unique filter on a ") + jinjaTypeName(key) + " is not supported");
      if (std::none_of(seen.begin(), seen.end(), [&](const JinjaValue &s) { return equal(s, key); })) {
        seen.push_back(key);
        out.push_back(item);
      }
    }
    return makeSeq(JinjaKind::Iterator, std::move(out));
  }
  bind(what, {}, 0, args, kwargs);
  if (name == "list")
    return makeSeq(JinjaKind::List, iterate(value)->items);
  if (name == "items") {
    if (value.is(JinjaKind::Undefined))
      return makeSeq(JinjaKind::Iterator, {});
    if (!value.is(JinjaKind::Dict))
      fail("Can only get item pairs from a mapping.");
    std::vector<JinjaValue> pairs;
    for (const auto &e : value.dict->entries)
      pairs.push_back(makeSeq(JinjaKind::Tuple, {e.first, e.second}));
    return makeSeq(JinjaKind::Iterator, std::move(pairs));
  }
  if (name == "reverse") {
    if (value.is(JinjaKind::String)) {
      auto cps = jinjaToU32(value.str());
      std::reverse(cps.begin(), cps.end());
      return text(jinjaFromU32(cps));
    }
    const bool generator = value.is(JinjaKind::Iterator);
    if (!generator && !value.isSequence() && !value.is(JinjaKind::Dict) && !value.is(JinjaKind::Undefined))
      fail("argument must be iterable");
    auto items = iterate(value)->items;
    std::reverse(items.begin(), items.end());
    return makeSeq(generator ? JinjaKind::List : JinjaKind::Iterator, std::move(items));
  }
  // first, last
  if (value.is(JinjaKind::Undefined))
    return jinjaUndefined(std::string("No ") + name + " item, sequence was empty.");
  if (name == "last" && value.is(JinjaKind::Iterator))
    fail("'generator' object is not reversible");
  if (value.is(JinjaKind::String)) {
    const auto cps = jinjaToU32(value.str());
    if (cps.empty())
      return jinjaUndefined(std::string("No ") + name + " item, sequence was empty.");
    return text(jinjaFromU32(cps, name == "first" ? 0 : cps.size() - 1, name == "first" ? 1 : cps.size()));
  }
  const auto seq = iterate(value);
  if (seq->items.empty())
    return jinjaUndefined(std::string("No ") + name + " item, sequence was empty.");
  return name == "first" ? seq->items.front() : seq->items.back();
}

// |sort (a list sorted by the items or by attributes) and |dictsort (a dict's (key, value) pairs
// sorted by key or value); stable, strings compared lowercased unless case_sensitive.
JinjaValue JinjaRun::sortFilter(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                                const JinjaKwargs &kwargs) {
  const auto stableSort = [&](std::vector<JinjaValue> items, const std::vector<JinjaValue> &keys,
                              bool reverse) {
    for (const auto &k : keys)
      if (jinjaHasNan(k))
        fail("sorting values that include NaN is not supported");
    std::vector<std::size_t> order(keys.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
      return reverse ? compare("<", keys[y], keys[x]) : compare("<", keys[x], keys[y]);
    });
    std::vector<JinjaValue> sorted;
    for (const auto i : order)
      sorted.push_back(items[i]);
    return makeSeq(JinjaKind::List, std::move(sorted));
  };
  const auto folded = [&](const JinjaValue &k, bool caseSensitive) {
    return !caseSensitive && k.is(JinjaKind::String) ? text(caseMap(k.str(), 'l')) : k;
  };
  if (name == "dictsort") {
    const auto p = bind("the |dictsort filter", {"case_sensitive", "by", "reverse"}, 0, args, kwargs);
    if (value.is(JinjaKind::Undefined))
      undefinedFail(value);
    if (!value.is(JinjaKind::Dict))
      fail(std::string("the |dictsort filter needs a dict, not ") + jinjaTypeName(value));
    const std::string by = p[1] && p[1]->is(JinjaKind::String) ? p[1]->str()
                           : p[1]                              ? std::string("?")
                                                               : "key";
    if (by != "key" && by != "value")
      fail("You can only sort by either \"key\" or \"value\"");
    std::vector<JinjaValue> pairs, keys;
    for (const auto &e : value.dict->entries) {
      pairs.push_back(makeSeq(JinjaKind::Tuple, {e.first, e.second}));
      keys.push_back(folded(by == "key" ? e.first : e.second, p[0] && truthy(*p[0])));
    }
    return stableSort(std::move(pairs), keys, p[2] && truthy(*p[2]));
  }
  const auto p = bind("the |sort filter", {"reverse", "case_sensitive", "attribute"}, 0, args, kwargs);
  const bool reverse = p[0] && truthy(*p[0]), caseSensitive = p[1] && truthy(*p[1]);
  std::vector<std::vector<JinjaValue>> paths;
  if (p[2] && p[2]->is(JinjaKind::String)) {
    const std::string comma = ",";
    for (const auto &part : jinjaSplit(p[2]->str(), &comma, -1, false))
      paths.push_back(attributePath(jinjaString(part)));
  } else {
    paths.push_back(p[2] ? attributePath(*p[2]) : std::vector<JinjaValue>{});
  }
  const auto seq = iterate(value);
  std::vector<JinjaValue> keys;
  for (const auto &item : seq->items) {
    std::vector<JinjaValue> key; // jinja2's make_multi_attrgetter: a list of the attributes
    for (const auto &path : paths)
      key.push_back(folded(attributeOf(item, path, nullptr), caseSensitive));
    keys.push_back(makeSeq(JinjaKind::List, std::move(key)));
  }
  return stableSort(seq->items, keys, reverse);
}

} // namespace preflab::core::jinja
