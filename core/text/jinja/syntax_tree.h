// The syntax tree of a chat template: expressions and statements as PrefLab's Jinja parser builds them.
#pragma once

#include "core/text/jinja/value.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace preflab::core::jinja {

enum class JinjaExprKind {
  Const,
  Name,
  Attr,
  Item,
  Slice,
  Call,
  Filter,
  Test,
  Neg,
  Pos,
  Not,
  And,
  Or,
  Binary,
  Compare,
  Cond,
  List,
  Tuple,
  Dict
};

struct JinjaExpr;
using JinjaExprPtr = std::unique_ptr<JinjaExpr>;

struct JinjaExpr {
  JinjaExprKind kind;
  std::int64_t line;
  int depth = 1;
  std::string name;     // Name; Attr: the attribute; Filter, Test: the filter or test; Binary: the operator
  JinjaValue value;     // Const
  bool negated = false; // Test: "is not"
  // Operands. Call/Filter/Test: callee or operand (null for the filters of a {% set %} block), then
  // positional arguments, then keyword arguments; Slice: object, start, stop, step (null: absent);
  // Cond: condition, value, else value (null: absent); Dict: key, value, key, value...
  std::vector<JinjaExprPtr> kids;
  std::vector<std::string> keywords; // Call/Filter/Test: the names of the trailing keyword arguments
  std::vector<std::string> ops;      // Compare: the operator before kids[i + 1]; Call/Filter/Test: "*", "**"
                                     // for *args, **kwargs, the last kids
  std::size_t positionals() const { return kids.size() - 1 - keywords.size() - ops.size(); }
};

enum class JinjaStmtKind { Output, Print, If, For, Set, SetBlock, Macro, Break, Continue, Generation };

struct JinjaStmt;
using JinjaStmtPtr = std::unique_ptr<JinjaStmt>;
using JinjaBody = std::vector<JinjaStmtPtr>;

struct JinjaStmt {
  JinjaStmtKind kind;
  std::int64_t line;
  std::string text;               // Output: the text; Macro: its name; Set, SetBlock: "attr" of ns.attr
  std::vector<std::string> names; // For, Set, SetBlock: the targets; Macro: the parameters
  bool unpack = false;            // the targets were a tuple (a, b): unpack each value
  JinjaExprPtr expr;              // Print, Set: the value; For: the iterable
  JinjaExprPtr condition;         // For: the `if` filter, may be null
  std::vector<JinjaExprPtr>
      exprs; // If: a condition per branch; Macro: a default per parameter (or null); SetBlock: filters
  std::vector<JinjaBody>
      bodies; // If: a body per branch, then the else body; For: body, else body; others: the body
};

// Empty when the filter (the test) `name` is implemented, else why it cannot be used: unknown, or
// refused. The parser and the runtime (|map, |select...) check the same lists.
std::string jinjaFilterProblem(const std::string &name);
std::string jinjaTestProblem(const std::string &name);

} // namespace preflab::core::jinja
