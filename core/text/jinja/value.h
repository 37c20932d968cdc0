// The values of PrefLab's chat template interpreter (Python's objects as jinja2's sandbox sees them),
// with the interpreter's limits and its one way to fail.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace preflab::core::jinja {

// Limits that keep a hostile template from exhausting the stack, memory or time. Each ends the
// parse or render with an InputError that names it; real chat templates stay far below them.
inline constexpr int kJinjaMaxStatementNesting = 64;
inline constexpr int kJinjaMaxExpressionDepth = 128;
inline constexpr int kJinjaMaxParseRecursion = 256;
inline constexpr int kJinjaMaxValueDepth = 128;
inline constexpr int kJinjaMaxRuntimeDepth = 400;
inline constexpr int kJinjaMaxMacroDepth = 32;
inline constexpr std::size_t kJinjaMaxText = std::size_t(16) << 20;
inline constexpr std::size_t kJinjaMaxItems = 1000000;
inline constexpr std::int64_t kJinjaMaxRange = 100000; // jinja2's sandbox MAX_RANGE
inline constexpr std::uint64_t kJinjaWorkBudget = 10000000;

// Throws InputError(file {}, line, key "chat_template", message): every error of the interpreter.
[[noreturn]] void jinjaThrow(std::int64_t line, const std::string &message);

enum class JinjaKind {
  Undefined,
  None,
  Bool,
  Int,
  Float,
  String,
  List,
  Tuple,
  Dict,
  Range,    // range(): a sequence that prints as range(a, b) (refused)
  View,     // dict.items()/keys()/values(): iterable, has a length, no indexing
  Iterator, // a generator (|map, |select, |reverse, |items...): iterable once, no length
  Namespace,
  Loop,
  Macro,
  Function
};

struct JinjaSeq;
struct JinjaDict;
struct JinjaObject {
  virtual ~JinjaObject() = default;
};

struct JinjaValue {
  JinjaKind kind = JinjaKind::Undefined;
  bool markup = false;                     // String: the result of |safe (markupsafe.Markup)
  bool flag = false;                       // Bool
  std::int64_t integer = 0;                // Int (Python's unbounded ints are refused past 64 bits)
  double real = 0;                         // Float
  std::shared_ptr<const std::string> text; // String; Undefined: what was missing, for messages
  std::shared_ptr<const JinjaSeq> seq;     // List, Tuple, Range, View, Iterator
  std::shared_ptr<const JinjaDict> dict;   // Dict
  std::shared_ptr<JinjaObject> object;     // Namespace, Loop, Macro, Function

  const std::string &str() const { return *text; }
  bool is(JinjaKind k) const { return kind == k; }
  bool isNumber() const {
    return kind == JinjaKind::Bool || kind == JinjaKind::Int || kind == JinjaKind::Float;
  }
  bool isSequence() const {
    return kind == JinjaKind::List || kind == JinjaKind::Tuple || kind == JinjaKind::Range ||
           kind == JinjaKind::View || kind == JinjaKind::Iterator;
  }
};

// Containers are immutable (the sandbox forbids list.append and friends) and shared. depth bounds
// the recursion of printing, comparing and freeing them; holdsObject marks containers with a
// namespace, loop, macro or function inside, which may not be stored in a namespace (no cycles).
struct JinjaSeq {
  std::vector<JinjaValue> items;
  int depth = 1;
  bool holdsObject = false;
  mutable bool consumed = false; // Iterator: used once already
};

struct JinjaDict {
  std::vector<std::pair<JinjaValue, JinjaValue>> entries;
  int depth = 1;
  bool holdsObject = false;
};

struct JinjaScope;
struct JinjaStmt;

struct JinjaNamespace : JinjaObject {
  std::vector<std::pair<std::string, JinjaValue>> attrs;
};

struct JinjaLoop : JinjaObject {
  std::shared_ptr<const JinjaSeq> items;
  std::size_t index0 = 0;
};

struct JinjaMacro : JinjaObject {
  const JinjaStmt *node = nullptr;
  std::weak_ptr<JinjaScope> scope; // where it was defined (weak: the scope holds the macro)
};

// A global function (self undefined) or a bound method such as "str.split" or "loop.cycle".
struct JinjaFunction : JinjaObject {
  std::string name;
  JinjaValue self;
};

JinjaValue jinjaNone();
JinjaValue jinjaBool(bool b);
JinjaValue jinjaInt(std::int64_t i);
JinjaValue jinjaFloat(double d);
JinjaValue jinjaString(std::string s, bool markup = false);
JinjaValue jinjaUndefined(std::string what);
JinjaValue jinjaObjectValue(JinjaKind kind, std::shared_ptr<JinjaObject> object);
bool jinjaHoldsObject(const JinjaValue &v);
int jinjaDepth(const JinjaValue &v);
bool jinjaHashable(const JinjaValue &v);
const char *jinjaTypeName(const JinjaValue &v);
double jinjaAsDouble(const JinjaValue &v);    // a number (bool, int, float) as a double
std::int64_t jinjaAsInt(const JinjaValue &v); // a bool or an int

// Whether `name` is one of the names in `list`.
template <std::size_t N> bool jinjaListed(const char *const (&list)[N], const std::string &name) {
  return std::any_of(std::begin(list), std::end(list), [&](const char *s) { return name == s; });
}

} // namespace preflab::core::jinja
