// JinjaParser: jinja2's grammar over the lexer's tokens, building the syntax tree of a chat template.
#pragma once

#include "core/text/jinja/lexer.h"
#include "core/text/jinja/syntax_tree.h"
#include "core/text/jinja/value.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace preflab::core::jinja {

// Throws InputError with the template line on a syntax error, an unknown or refused filter, test or
// tag, and past the nesting limits. Statements are parsed in parser_statements.cpp, expressions in
// parser_expressions.cpp.
class JinjaParser {
public:
  explicit JinjaParser(std::vector<JinjaToken> tokens) : m_tokens(std::move(tokens)) {}
  JinjaBody parseTemplate() { return parseBody({}, {}, 0); }

private:
  struct CallArgs {
    std::vector<JinjaExprPtr> positional, keywordValues;
    std::vector<std::string> keywords;
    JinjaExprPtr starArgs, starKwargs; // f(*args, **kwargs)
  };
  struct DepthGuard {
    int &depth;
    DepthGuard(int &d, int limit, std::int64_t line, const char *what) : depth(d) {
      if (++depth > limit)
        jinjaThrow(line,
                   std::string(what) + " nested too deeply (more than " + std::to_string(limit) + " levels)");
    }
    ~DepthGuard() { --depth; }
  };

  std::vector<JinjaToken> m_tokens;
  std::size_t m_at = 0;
  int m_statementDepth = 0;
  int m_recursion = 0;
  int m_loopDepth = 0;   // for loops around the statement being parsed
  std::string m_loopBan; // why break/continue may not be used here, if they may not

  const JinjaToken &cur() const { return m_tokens[m_at]; }
  const JinjaToken &ahead() const { return m_tokens[std::min(m_at + 1, m_tokens.size() - 1)]; }
  const JinjaToken &advance() {
    const auto &t = m_tokens[m_at];
    if (m_at + 1 < m_tokens.size())
      ++m_at;
    return t;
  }
  static bool isOp(const JinjaToken &t, const char *op) {
    return t.type == JinjaTok::Operator && t.text == op;
  }
  static bool isName(const JinjaToken &t, const char *name) {
    return t.type == JinjaTok::Name && t.text == name;
  }
  bool isOp(const char *op) const { return isOp(cur(), op); }
  bool isName(const char *name) const { return isName(cur(), name); }
  bool skipOp(const char *op) { return isOp(op) && (advance(), true); }
  bool skipName(const char *name) { return isName(name) && (advance(), true); }
  [[noreturn]] void fail(const std::string &message) const { jinjaThrow(cur().line, message); }
  static std::string describe(const JinjaToken &t);
  void expectOp(const char *op) {
    if (!skipOp(op))
      fail(std::string("expected '") + op + "', found " + describe(cur()));
  }
  std::string expectName(const char *what) {
    if (cur().type != JinjaTok::Name)
      fail(std::string("expected ") + what + ", found " + describe(cur()));
    return advance().text;
  }
  void expectTagEnd() {
    if (cur().type != JinjaTok::BlockEnd)
      fail("expected '%}', found " + describe(cur()));
    advance();
  }
  void expectBlockStart() { // the end of a tag that opens a block: jinja2 allows a colon there
    skipOp(":");
    expectTagEnd();
  }
  std::string closeTag() { // consumes "{%" and the name of the tag that ended a body
    advance();
    return advance().text;
  }

  JinjaBody parseBody(const std::vector<std::string> &ends, const std::string &opening,
                      std::int64_t openLine);
  JinjaStmtPtr parseStatement();
  JinjaStmtPtr statement(JinjaStmtKind kind, std::int64_t line) {
    auto s = std::make_unique<JinjaStmt>();
    s->kind = kind;
    s->line = line;
    return s;
  }
  JinjaStmtPtr parseFor(std::int64_t line);
  JinjaStmtPtr parseIf(std::int64_t line);
  JinjaStmtPtr parseSet(std::int64_t line);
  JinjaStmtPtr parseMacro(std::int64_t line);
  JinjaBody parseLoopBody(const std::vector<std::string> &ends, const std::string &opening, std::int64_t line,
                          int loopDepth, const std::string &ban);
  void parseTargets(JinjaStmt &stmt, const char *stopName);

  JinjaExprPtr node(JinjaExprKind kind, std::int64_t line, std::vector<JinjaExprPtr> kids = {});
  JinjaExprPtr constant(std::int64_t line, JinjaValue value) {
    auto n = node(JinjaExprKind::Const, line);
    n->value = std::move(value);
    return n;
  }
  JinjaExprPtr withArgs(JinjaExprKind kind, std::int64_t line, JinjaExprPtr target, CallArgs args);
  JinjaExprPtr parseTuple(bool withCondexpr, const char *extraEnd, bool explicitParens);
  JinjaExprPtr parseExpression(bool withCondexpr = true);
  JinjaExprPtr parseCondexpr();
  JinjaExprPtr parseOr();
  JinjaExprPtr parseAnd();
  JinjaExprPtr parseNot();
  JinjaExprPtr parseCompare();
  JinjaExprPtr parseBinary(int level);
  JinjaExprPtr parseUnary(bool withFilter);
  JinjaExprPtr parsePrimary();
  JinjaExprPtr parseCollection(bool dict);
  JinjaExprPtr parsePostfix(JinjaExprPtr n);
  JinjaExprPtr parseFilterExpr(JinjaExprPtr n);
  JinjaExprPtr parseSubscript(JinjaExprPtr n);
  JinjaExprPtr parseFilter(JinjaExprPtr operand);
  JinjaExprPtr parseTest(JinjaExprPtr operand);
  CallArgs parseCallArgs();
};

} // namespace preflab::core::jinja
