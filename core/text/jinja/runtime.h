// JinjaRun: the state of one render of a chat template (work done, nesting) and the Python semantics
// of its values; JinjaScope: the variables of a scope.
#pragma once

#include "core/text/jinja/syntax_tree.h"
#include "core/text/jinja/value.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace preflab::core::jinja {

struct JinjaScope {
  std::shared_ptr<JinjaScope> parent;
  std::vector<std::pair<std::string, JinjaValue>> vars;

  const JinjaValue *find(const std::string &name) const {
    for (const JinjaScope *s = this; s; s = s->parent.get())
      for (const auto &v : s->vars)
        if (v.first == name)
          return &v.second;
    return nullptr;
  }
  void set(const std::string &name, JinjaValue value) {
    for (auto &v : vars)
      if (v.first == name) {
        v.second = std::move(value);
        return;
      }
    vars.emplace_back(name, std::move(value));
  }
};
using JinjaScopePtr = std::shared_ptr<JinjaScope>;

JinjaScopePtr jinjaChildScope(const JinjaScopePtr &parent);

enum class JinjaFlow { Normal, Break, Continue };
using JinjaArgs = std::vector<JinjaValue>;
using JinjaKwargs = std::vector<std::pair<std::string, JinjaValue>>;

struct JinjaJsonStyle {
  bool ensureAscii = false;
  bool indented = false;
  std::string indent;
  std::string itemSeparator = ", ";
  std::string keySeparator = ": ";
  bool sortKeys = false;
};

// One render. Every method throws InputError (jinjaThrow) with `line` on a runtime error. The
// members are defined by topic: runtime.cpp (values, truthiness, str, comparisons, iteration),
// repr_json.cpp, operators.cpp (attributes, subscripts, operators), calls.cpp, filters.cpp,
// sequence_filters.cpp and interpreter.cpp (evaluation and statements).
class JinjaRun {
public:
  std::int64_t line = 0; // of the construct being evaluated, for error messages

  [[noreturn]] void fail(const std::string &message) const { jinjaThrow(line, message); }
  [[noreturn]] void undefinedFail(const JinjaValue &v) const {
    fail(v.text && !v.text->empty() ? *v.text : "a value is undefined");
  }
  void spendOn(const std::string &s) { spend(s.size() / 16); } // work that reads a whole string
  void spend(std::uint64_t units) {
    m_work += units;
    if (m_work > kJinjaWorkBudget)
      fail("the template did more than " + std::to_string(kJinjaWorkBudget) +
           " steps of work (an endless recursion or a huge loop?)");
  }

  JinjaValue text(std::string s, bool markup = false);
  JinjaValue makeSeq(JinjaKind kind, std::vector<JinjaValue> items);
  JinjaValue makeDict(std::vector<std::pair<JinjaValue, JinjaValue>> entries);

  // Python's semantics of the values.
  bool truthy(const JinjaValue &v) const;
  std::string str(const JinjaValue &v);
  void repr(const JinjaValue &v, std::string &out);
  void json(const JinjaValue &v, const JinjaJsonStyle &style, int level, std::string &out);
  bool equal(const JinjaValue &a, const JinjaValue &b);
  bool compare(const std::string &op, const JinjaValue &a, const JinjaValue &b);
  bool contains(const JinjaValue &container, const JinjaValue &item);
  std::shared_ptr<const JinjaSeq> iterate(const JinjaValue &v);
  std::int64_t length(const JinjaValue &v);
  const JinjaValue *dictFind(const JinjaValue &dict, const JinjaValue &key);
  JinjaValue getAttr(const JinjaValue &v, const std::string &name);
  JinjaValue getItem(const JinjaValue &v, const JinjaValue &key);
  JinjaValue slice(const JinjaValue &v, const JinjaValue &start, const JinjaValue &stop,
                   const JinjaValue &step);
  JinjaValue unary(bool negate, const JinjaValue &v);
  JinjaValue binary(const std::string &op, const JinjaValue &a, const JinjaValue &b);
  JinjaValue repeat(const JinjaValue &seq, std::int64_t times);
  std::vector<std::optional<JinjaValue>> bind(const std::string &what, const std::vector<const char *> &names,
                                              std::size_t required, const JinjaArgs &args,
                                              const JinjaKwargs &kwargs);
  std::string caseMap(const std::string &s, char mode);

  // Calls, filters and tests.
  JinjaValue call(const JinjaValue &callee, const JinjaArgs &args, const JinjaKwargs &kwargs);
  JinjaValue callGlobal(const std::string &name, const JinjaArgs &args, const JinjaKwargs &kwargs);
  JinjaValue range(const JinjaArgs &args, const JinjaKwargs &kwargs);
  JinjaValue callStrMethod(const std::string &name, const std::string &self, const JinjaArgs &args,
                           const JinjaKwargs &kwargs);
  JinjaValue callMacro(const JinjaMacro &macro, const JinjaArgs &args, const JinjaKwargs &kwargs);
  JinjaValue filter(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                    const JinjaKwargs &kwargs);
  JinjaValue textFilter(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                        const JinjaKwargs &kwargs);
  JinjaValue sequenceFilter(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                            const JinjaKwargs &kwargs);
  JinjaValue sortFilter(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                        const JinjaKwargs &kwargs);
  JinjaValue tojsonFilter(const JinjaValue &value, const JinjaArgs &args, const JinjaKwargs &kwargs);
  JinjaValue numberFilter(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
                          const JinjaKwargs &kwargs);
  bool test(const std::string &name, const JinjaValue &value, const JinjaArgs &args,
            const JinjaKwargs &kwargs);
  std::vector<JinjaValue> attributePath(const JinjaValue &attribute);
  JinjaValue attributeOf(JinjaValue item, const std::vector<JinjaValue> &path, const JinjaValue *fallback);

  // The interpreter.
  JinjaValue lookup(const std::string &name, const JinjaScopePtr &scope);
  JinjaValue eval(const JinjaExpr &e, const JinjaScopePtr &scope);
  JinjaValue evalFilter(const JinjaExpr &e, const JinjaValue &operand, const JinjaScopePtr &scope);
  JinjaFlow exec(const JinjaBody &body, const JinjaScopePtr &scope, std::string &out);
  void execFor(const JinjaStmt &s, const JinjaScopePtr &scope, std::string &out);
  void assign(const JinjaStmt &s, const JinjaScopePtr &scope, const JinjaValue &value);
  std::vector<JinjaValue> unpack(const JinjaValue &value, std::size_t count);

private:
  struct Nesting {
    int &depth;
    Nesting(JinjaRun &run, int &d, int limit, const char *what) : depth(d) {
      if (++depth > limit) {
        --depth;
        run.fail(std::string(what) + " nested more than " + std::to_string(limit) + " deep");
      }
    }
    ~Nesting() { --depth; }
  };
  std::uint64_t m_work = 0;
  int m_depth = 0;
  int m_macroDepth = 0;
};

// str.replace(old, replacement, count), count < 0 for all; fails through `run` past the size limit.
std::string jinjaReplace(JinjaRun &run, const std::string &s, const std::string &old,
                         const std::string &replacement, std::int64_t count);

} // namespace preflab::core::jinja
