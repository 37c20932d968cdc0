// JinjaParser's expressions: jinja2's precedence levels, literals, subscripts, calls, filters and tests.
#include "core/text/jinja/parser.h"

namespace preflab::core::jinja {

JinjaExprPtr JinjaParser::node(JinjaExprKind kind, std::int64_t line, std::vector<JinjaExprPtr> kids) {
  auto n = std::make_unique<JinjaExpr>();
  n->kind = kind;
  n->line = line;
  for (const auto &k : kids)
    if (k)
      n->depth = std::max(n->depth, k->depth + 1);
  if (n->depth > kJinjaMaxExpressionDepth)
    jinjaThrow(line, "expression nested too deeply (more than " + std::to_string(kJinjaMaxExpressionDepth) +
                         " levels)");
  n->kids = std::move(kids);
  return n;
}

JinjaExprPtr JinjaParser::withArgs(JinjaExprKind kind, std::int64_t line, JinjaExprPtr target,
                                   CallArgs args) {
  std::vector<JinjaExprPtr> kids;
  kids.push_back(std::move(target));
  for (auto &a : args.positional)
    kids.push_back(std::move(a));
  for (auto &a : args.keywordValues)
    kids.push_back(std::move(a));
  std::vector<std::string> stars;
  for (auto *star : {&args.starArgs, &args.starKwargs})
    if (*star) {
      stars.push_back(star == &args.starArgs ? "*" : "**");
      kids.push_back(std::move(*star));
    }
  auto n = node(kind, line, std::move(kids));
  n->keywords = std::move(args.keywords);
  n->ops = std::move(stars);
  return n;
}

JinjaExprPtr JinjaParser::parseTuple(bool withCondexpr, const char *extraEnd, bool explicitParens) {
  const auto line = cur().line;
  std::vector<JinjaExprPtr> items;
  bool tuple = false;
  for (;;) {
    if (!items.empty())
      expectOp(",");
    const auto &t = cur();
    if (t.type == JinjaTok::VarEnd || t.type == JinjaTok::BlockEnd || isOp(")") ||
        (extraEnd && isName(extraEnd)))
      break;
    items.push_back(parseExpression(withCondexpr));
    if (!isOp(","))
      break;
    tuple = true;
  }
  if (!tuple) {
    if (!items.empty())
      return std::move(items[0]);
    if (!explicitParens)
      fail("expected an expression, found " + describe(cur()));
  }
  return node(JinjaExprKind::Tuple, line, std::move(items));
}

JinjaExprPtr JinjaParser::parseExpression(bool withCondexpr) {
  const DepthGuard guard(m_recursion, kJinjaMaxParseRecursion, cur().line, "expression");
  return withCondexpr ? parseCondexpr() : parseOr();
}

JinjaExprPtr JinjaParser::parseCondexpr() {
  const DepthGuard guard(m_recursion, kJinjaMaxParseRecursion, cur().line, "expression");
  const auto line = cur().line;
  auto value = parseOr();
  while (skipName("if")) {
    std::vector<JinjaExprPtr> kids;
    kids.push_back(parseOr());
    kids.push_back(std::move(value));
    kids.push_back(skipName("else") ? parseCondexpr() : nullptr);
    value = node(JinjaExprKind::Cond, line, std::move(kids));
  }
  return value;
}

JinjaExprPtr JinjaParser::parseOr() {
  auto left = parseAnd();
  while (isName("or")) {
    const auto line = advance().line;
    std::vector<JinjaExprPtr> kids;
    kids.push_back(std::move(left));
    kids.push_back(parseAnd());
    left = node(JinjaExprKind::Or, line, std::move(kids));
  }
  return left;
}

JinjaExprPtr JinjaParser::parseAnd() {
  auto left = parseNot();
  while (isName("and")) {
    const auto line = advance().line;
    std::vector<JinjaExprPtr> kids;
    kids.push_back(std::move(left));
    kids.push_back(parseNot());
    left = node(JinjaExprKind::And, line, std::move(kids));
  }
  return left;
}

JinjaExprPtr JinjaParser::parseNot() {
  const DepthGuard guard(m_recursion, kJinjaMaxParseRecursion, cur().line, "expression");
  if (isName("not")) {
    const auto line = advance().line;
    std::vector<JinjaExprPtr> kids;
    kids.push_back(parseNot());
    return node(JinjaExprKind::Not, line, std::move(kids));
  }
  return parseCompare();
}

JinjaExprPtr JinjaParser::parseCompare() {
  const auto line = cur().line;
  auto first = parseBinary(0);
  std::vector<JinjaExprPtr> kids;
  std::vector<std::string> ops;
  for (;;) {
    std::string op;
    if (cur().type == JinjaTok::Operator && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                             cur().text == "<=" || cur().text == ">" || cur().text == ">="))
      op = advance().text;
    else if (skipName("in"))
      op = "in";
    else if (isName("not") && isName(ahead(), "in")) {
      advance();
      advance();
      op = "not in";
    } else
      break;
    if (kids.empty())
      kids.push_back(std::move(first));
    kids.push_back(parseBinary(0));
    ops.push_back(op);
  }
  if (ops.empty())
    return first;
  auto n = node(JinjaExprKind::Compare, line, std::move(kids));
  n->ops = std::move(ops);
  return n;
}

// jinja2's math1 (+ -), concat (~), math2 (* / // %) and pow (**) levels, all left-associative.
JinjaExprPtr JinjaParser::parseBinary(int level) {
  static const std::vector<std::vector<std::string>> kLevels = {
      {"+", "-"}, {"~"}, {"*", "/", "//", "%"}, {"**"}};
  auto left = level == 4 ? parseUnary(true) : parseBinary(level + 1);
  if (level == 4)
    return left;
  for (;;) {
    const auto &ops = kLevels[std::size_t(level)];
    if (cur().type != JinjaTok::Operator || std::find(ops.begin(), ops.end(), cur().text) == ops.end())
      return left;
    const auto &t = advance();
    std::vector<JinjaExprPtr> kids;
    kids.push_back(std::move(left));
    kids.push_back(parseBinary(level + 1));
    left = node(JinjaExprKind::Binary, t.line, std::move(kids));
    left->name = t.text;
  }
}

JinjaExprPtr JinjaParser::parseUnary(bool withFilter) {
  const DepthGuard guard(m_recursion, kJinjaMaxParseRecursion, cur().line, "expression");
  const auto line = cur().line;
  JinjaExprPtr n;
  if (isOp("-") || isOp("+")) {
    const bool neg = advance().text == "-";
    std::vector<JinjaExprPtr> kids;
    kids.push_back(parseUnary(false));
    n = node(neg ? JinjaExprKind::Neg : JinjaExprKind::Pos, line, std::move(kids));
  } else {
    n = parsePrimary();
  }
  n = parsePostfix(std::move(n));
  return withFilter ? parseFilterExpr(std::move(n)) : std::move(n);
}

JinjaExprPtr JinjaParser::parsePrimary() {
  const auto &t = cur();
  const auto line = t.line;
  switch (t.type) {
  case JinjaTok::Name: {
    const std::string name = advance().text;
    if (name == "true" || name == "True" || name == "false" || name == "False")
      return constant(line, jinjaBool(name[0] == 't' || name[0] == 'T'));
    if (name == "none" || name == "None")
      return constant(line, jinjaNone());
    auto n = node(JinjaExprKind::Name, line);
    n->name = name;
    return n;
  }
  case JinjaTok::String: {
    std::string s;
    while (cur().type == JinjaTok::String)
      s += advance().text;
    return constant(line, jinjaString(std::move(s)));
  }
  case JinjaTok::Integer:
    return constant(line, jinjaInt(advance().integer));
  case JinjaTok::Float:
    return constant(line, jinjaFloat(advance().real));
  default:
    break;
  }
  if (skipOp("(")) {
    auto n = parseTuple(true, nullptr, true);
    expectOp(")");
    return n;
  }
  if (isOp("[") || isOp("{"))
    return parseCollection(isOp("{"));
  fail("unexpected " + describe(t) + " in an expression");
}

JinjaExprPtr JinjaParser::parseCollection(bool dict) {
  const auto line = advance().line;
  const char *close = dict ? "}" : "]";
  std::vector<JinjaExprPtr> items;
  while (!isOp(close)) {
    if (!items.empty()) {
      expectOp(",");
      if (isOp(close))
        break;
    }
    items.push_back(parseExpression());
    if (dict) {
      expectOp(":");
      items.push_back(parseExpression());
    }
  }
  expectOp(close);
  return node(dict ? JinjaExprKind::Dict : JinjaExprKind::List, line, std::move(items));
}

JinjaExprPtr JinjaParser::parsePostfix(JinjaExprPtr n) {
  for (;;) {
    if (isOp(".") || isOp("[")) {
      n = parseSubscript(std::move(n));
    } else if (isOp("(")) {
      const auto line = cur().line;
      n = withArgs(JinjaExprKind::Call, line, std::move(n), parseCallArgs());
    } else {
      return n;
    }
  }
}

JinjaExprPtr JinjaParser::parseFilterExpr(JinjaExprPtr n) {
  for (;;) {
    if (skipOp("|")) {
      n = parseFilter(std::move(n));
    } else if (isName("is")) {
      n = parseTest(std::move(n));
    } else if (isOp("(")) {
      const auto line = cur().line;
      n = withArgs(JinjaExprKind::Call, line, std::move(n), parseCallArgs());
    } else {
      return n;
    }
  }
}

JinjaExprPtr JinjaParser::parseSubscript(JinjaExprPtr n) {
  const auto line = cur().line;
  std::vector<JinjaExprPtr> kids;
  kids.push_back(std::move(n));
  if (skipOp(".")) {
    if (cur().type == JinjaTok::Name) {
      auto attr = node(JinjaExprKind::Attr, line, std::move(kids));
      attr->name = advance().text;
      return attr;
    }
    if (cur().type != JinjaTok::Integer)
      fail("expected a name or a number after '.', found " + describe(cur()));
    kids.push_back(constant(line, jinjaInt(advance().integer)));
    return node(JinjaExprKind::Item, line, std::move(kids));
  }
  expectOp("[");
  // One subscript: an expression or a slice start:stop:step, each part optional.
  JinjaExprPtr start, stop, step;
  bool slice = false;
  if (isOp("]"))
    fail("empty subscript []");
  if (!isOp(":"))
    start = parseExpression();
  if (skipOp(":")) {
    slice = true;
    if (!isOp(":") && !isOp("]") && !isOp(","))
      stop = parseExpression();
    if (skipOp(":") && !isOp("]") && !isOp(","))
      step = parseExpression();
  }
  if (isOp(","))
    fail("subscripts with several parts (x[a, b]) are not supported");
  expectOp("]");
  kids.push_back(std::move(start));
  if (!slice)
    return node(JinjaExprKind::Item, line, std::move(kids));
  kids.push_back(std::move(stop));
  kids.push_back(std::move(step));
  return node(JinjaExprKind::Slice, line, std::move(kids));
}

// After the '|': name(.name)* and optional arguments; the name must be a filter we implement.
JinjaExprPtr JinjaParser::parseFilter(JinjaExprPtr operand) {
  const auto line = cur().line;
  std::string name = expectName("a filter name after '|'");
  while (skipOp("."))
    name += "." + expectName("a filter name");
  const auto problem = jinjaFilterProblem(name);
  if (!problem.empty())
    jinjaThrow(line, problem);
  auto n =
      withArgs(JinjaExprKind::Filter, line, std::move(operand), isOp("(") ? parseCallArgs() : CallArgs{});
  n->name = name;
  return n;
}

JinjaExprPtr JinjaParser::parseTest(JinjaExprPtr operand) {
  const auto line = advance().line; // "is"
  const bool negated = skipName("not");
  std::string name = expectName("a test name after 'is'");
  while (skipOp("."))
    name += "." + expectName("a test name");
  const auto problem = jinjaTestProblem(name);
  if (!problem.empty())
    jinjaThrow(line, problem);
  CallArgs args;
  const auto &t = cur();
  if (isOp("(")) {
    args = parseCallArgs();
  } else if ((t.type == JinjaTok::Name || t.type == JinjaTok::String || t.type == JinjaTok::Integer ||
              t.type == JinjaTok::Float || isOp("[") || isOp("{")) &&
             !isName("else") && !isName("or") && !isName("and")) {
    if (isName("is"))
      fail("tests cannot be chained (x is a is b)");
    args.positional.push_back(parsePostfix(parsePrimary()));
  }
  auto n = withArgs(JinjaExprKind::Test, line, std::move(operand), std::move(args));
  n->name = name;
  n->negated = negated;
  return n;
}

JinjaParser::CallArgs JinjaParser::parseCallArgs() {
  expectOp("(");
  CallArgs args;
  while (!isOp(")")) {
    if (!args.positional.empty() || !args.keywords.empty() || args.starArgs || args.starKwargs) {
      expectOp(",");
      if (isOp(")"))
        break;
    }
    if (isOp("*") || isOp("**")) { // jinja2: *args before **kwargs, each once
      const bool many = isOp("**");
      if (args.starKwargs || (!many && args.starArgs))
        fail("invalid syntax for function call expression");
      advance();
      (many ? args.starKwargs : args.starArgs) = parseExpression();
    } else if (cur().type == JinjaTok::Name && isOp(ahead(), "=")) {
      if (args.starKwargs)
        fail("invalid syntax for function call expression");
      const std::string key = advance().text;
      advance();
      if (std::find(args.keywords.begin(), args.keywords.end(), key) != args.keywords.end())
        fail("keyword argument '" + key + "' repeated");
      args.keywords.push_back(key);
      args.keywordValues.push_back(parseExpression());
    } else {
      if (!args.keywords.empty() || args.starArgs || args.starKwargs)
        fail("a positional argument follows a keyword argument or *args");
      args.positional.push_back(parseExpression());
    }
  }
  expectOp(")");
  return args;
}

} // namespace preflab::core::jinja
