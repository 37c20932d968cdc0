// JinjaParser, statement by statement: text, {{ }}, for, if, set, macro, break/continue, generation.
#include "core/text/jinja/parser.h"

namespace preflab::core::jinja {

namespace {

// The names an expression or a body reads, for the checks of macro parameters.
void jinjaCollectNames(const JinjaExpr *e, std::vector<std::string> &out) {
  if (!e)
    return;
  if (e->kind == JinjaExprKind::Name)
    out.push_back(e->name);
  for (const auto &k : e->kids)
    jinjaCollectNames(k.get(), out);
}

void jinjaCollectNames(const JinjaBody &body, std::vector<std::string> &out) {
  for (const auto &s : body) {
    jinjaCollectNames(s->expr.get(), out);
    jinjaCollectNames(s->condition.get(), out);
    for (const auto &e : s->exprs)
      jinjaCollectNames(e.get(), out);
    for (const auto &b : s->bodies)
      jinjaCollectNames(b, out);
  }
}

} // namespace

std::string JinjaParser::describe(const JinjaToken &t) {
  switch (t.type) {
  case JinjaTok::Data:
    return "template text";
  case JinjaTok::VarBegin:
    return "'{{'";
  case JinjaTok::VarEnd:
    return "'}}'";
  case JinjaTok::BlockBegin:
    return "'{%'";
  case JinjaTok::BlockEnd:
    return "'%}'";
  case JinjaTok::Name:
    return "'" + t.text + "'";
  case JinjaTok::String:
    return "a string";
  case JinjaTok::Integer:
  case JinjaTok::Float:
    return "the number " + t.text;
  case JinjaTok::Operator:
    return "'" + t.text + "'";
  case JinjaTok::End:
    return "the end of the template";
  }
  return "?";
}

JinjaBody JinjaParser::parseBody(const std::vector<std::string> &ends, const std::string &opening,
                                 std::int64_t openLine) {
  JinjaBody body;
  for (;;) {
    const auto &t = cur();
    if (t.type == JinjaTok::End) {
      if (!ends.empty())
        jinjaThrow(openLine, "{% " + opening + " %} is not closed: no {% " + ends.back() +
                                 " %} before the end of the template");
      return body;
    }
    if (t.type == JinjaTok::Data) {
      auto s = statement(JinjaStmtKind::Output, t.line);
      s->text = t.text;
      body.push_back(std::move(s));
      advance();
    } else if (t.type == JinjaTok::VarBegin) {
      auto s = statement(JinjaStmtKind::Print, t.line);
      advance();
      s->expr = parseTuple(true, nullptr, false);
      if (cur().type != JinjaTok::VarEnd)
        fail("expected '}}', found " + describe(cur()));
      advance();
      body.push_back(std::move(s));
    } else if (t.type == JinjaTok::BlockBegin) {
      const auto &name = ahead();
      if (name.type == JinjaTok::Name && std::find(ends.begin(), ends.end(), name.text) != ends.end())
        return body;
      advance();
      body.push_back(parseStatement());
    } else {
      fail("unexpected " + describe(t));
    }
  }
}

JinjaStmtPtr JinjaParser::parseStatement() {
  if (cur().type != JinjaTok::Name)
    fail("expected a tag name after '{%', found " + describe(cur()));
  const auto line = cur().line;
  const DepthGuard guard(m_statementDepth, kJinjaMaxStatementNesting, line, "blocks");
  const std::string tag = advance().text;
  if (tag == "for")
    return parseFor(line);
  if (tag == "if")
    return parseIf(line);
  if (tag == "set")
    return parseSet(line);
  if (tag == "macro")
    return parseMacro(line);
  if (tag == "break" || tag == "continue") {
    if (!m_loopBan.empty())
      jinjaThrow(line, "{% " + tag + " %} inside " + m_loopBan + " is not supported");
    if (m_loopDepth == 0)
      jinjaThrow(line, "{% " + tag + " %} outside a for loop");
    expectTagEnd();
    return statement(tag == "break" ? JinjaStmtKind::Break : JinjaStmtKind::Continue, line);
  }
  if (tag == "generation") { // transformers' AssistantTracker: the body as it is (a call block: own scope)
    expectBlockStart();
    auto s = statement(JinjaStmtKind::Generation, line);
    s->bodies.push_back(parseLoopBody({"endgeneration"}, tag, line, m_loopDepth, "a {% generation %} block"));
    closeTag();
    expectTagEnd();
    return s;
  }
  for (const char *refused : {"include", "extends", "import", "from", "block", "call", "filter", "with",
                              "autoescape", "raw", "do", "trans", "print"})
    if (tag == refused)
      jinjaThrow(line, "{% " + tag + " %} is not supported by PrefLab's chat template renderer");
  if (tag.rfind("end", 0) == 0 || tag == "elif" || tag == "else")
    jinjaThrow(line, "unexpected {% " + tag + " %}: there is no open block for it");
  jinjaThrow(line, "unknown tag {% " + tag + " %}");
}

JinjaBody JinjaParser::parseLoopBody(const std::vector<std::string> &ends, const std::string &opening,
                                     std::int64_t line, int loopDepth, const std::string &ban) {
  const int savedDepth = m_loopDepth;
  const std::string savedBan = m_loopBan;
  m_loopDepth = loopDepth;
  m_loopBan = ban;
  auto body = parseBody(ends, opening, line);
  m_loopDepth = savedDepth;
  m_loopBan = savedBan;
  return body;
}

// A name or a tuple of names (a, b or (a, b)), as jinja2's parse_assign_target.
void JinjaParser::parseTargets(JinjaStmt &stmt, const char *stopName) {
  const bool parens = skipOp("(");
  for (;;) {
    const auto &t = cur();
    static const char *const kConstants[] = {"true", "false", "True", "False", "none", "None"};
    if (t.type != JinjaTok::Name || jinjaListed(kConstants, t.text) || (stopName && t.text == stopName))
      fail("expected a variable name to assign to, found " + describe(t));
    stmt.names.push_back(advance().text);
    if (!skipOp(","))
      break;
    stmt.unpack = true;
    if (parens ? isOp(")")
               : (cur().type == JinjaTok::BlockEnd || isOp("=") || (stopName && isName(stopName))))
      break;
  }
  if (parens)
    expectOp(")");
}

JinjaStmtPtr JinjaParser::parseFor(std::int64_t line) {
  auto s = statement(JinjaStmtKind::For, line);
  parseTargets(*s, "in");
  if (!skipName("in"))
    fail("expected 'in' in the for loop, found " + describe(cur()));
  s->expr = parseTuple(false, "recursive", false);
  if (skipName("if"))
    s->condition = parseExpression();
  if (isName("recursive"))
    fail("recursive for loops are not supported by PrefLab's chat template renderer");
  expectBlockStart();
  s->bodies.push_back(parseLoopBody({"else", "endfor"}, "for", line, m_loopDepth + 1, {}));
  s->bodies.emplace_back();
  if (closeTag() == "else") {
    expectBlockStart();
    s->bodies.back() = parseLoopBody({"endfor"}, "for", line, m_loopDepth, "the else block of a for loop");
    closeTag();
  }
  expectTagEnd();
  return s;
}

JinjaStmtPtr JinjaParser::parseIf(std::int64_t line) {
  auto s = statement(JinjaStmtKind::If, line);
  for (;;) {
    s->exprs.push_back(parseTuple(false, nullptr, false));
    expectBlockStart();
    s->bodies.push_back(parseBody({"elif", "else", "endif"}, "if", line));
    const auto end = closeTag();
    if (end == "elif")
      continue;
    if (end == "else") {
      expectBlockStart();
      s->bodies.push_back(parseBody({"endif"}, "if", line));
      closeTag();
    }
    expectTagEnd();
    return s;
  }
}

JinjaStmtPtr JinjaParser::parseSet(std::int64_t line) {
  auto s = statement(JinjaStmtKind::Set, line);
  if (cur().type == JinjaTok::Name && isOp(ahead(), ".")) {
    s->names.push_back(advance().text);
    advance();
    s->text = expectName("an attribute name after the '.'");
  } else {
    parseTargets(*s, nullptr);
  }
  if (skipOp("=")) {
    s->expr = parseTuple(true, nullptr, false);
    expectTagEnd();
    return s;
  }
  s->kind = JinjaStmtKind::SetBlock;
  if (s->unpack)
    fail("a {% set %} block with several targets is not supported");
  while (skipOp("|"))
    s->exprs.push_back(parseFilter(nullptr));
  expectBlockStart();
  s->bodies.push_back(parseLoopBody({"endset"}, "set", line, m_loopDepth, "a {% set %} block"));
  closeTag();
  expectTagEnd();
  return s;
}

JinjaStmtPtr JinjaParser::parseMacro(std::int64_t line) {
  auto s = statement(JinjaStmtKind::Macro, line);
  s->text = expectName("a macro name");
  expectOp("(");
  bool defaults = false;
  while (!isOp(")")) {
    if (!s->names.empty())
      expectOp(",");
    s->names.push_back(expectName("a parameter name"));
    JinjaExprPtr value;
    if (skipOp("=")) {
      value = parseExpression();
      defaults = true;
    } else if (defaults) {
      fail("macro parameter '" + s->names.back() + "' without a default follows one with a default");
    }
    s->exprs.push_back(std::move(value));
  }
  expectOp(")");
  expectBlockStart();
  s->bodies.push_back(parseLoopBody({"endmacro"}, "macro", line, 0, {}));
  closeTag();
  expectTagEnd();
  // Defaults may use earlier parameters only: jinja2 would see a later one as its internal "missing".
  for (std::size_t i = 0; i < s->exprs.size(); ++i) {
    std::vector<std::string> used;
    jinjaCollectNames(s->exprs[i].get(), used);
    for (const auto &u : used)
      if (std::find(s->names.begin() + std::ptrdiff_t(i), s->names.end(), u) != s->names.end())
        jinjaThrow(line, "the default of macro parameter '" + s->names[i] + "' uses parameter '" + u +
                             "', which is not before it");
  }
  std::vector<std::string> used;
  jinjaCollectNames(s->bodies[0], used);
  for (const char *special : {"varargs", "kwargs", "caller"})
    if (std::find(used.begin(), used.end(), special) != used.end())
      jinjaThrow(line, std::string("macros that use '") + special + "' are not supported");
  return s;
}

} // namespace preflab::core::jinja
