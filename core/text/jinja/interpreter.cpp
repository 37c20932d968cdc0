// JinjaRun's interpreter: names, expressions, assignments, for loops and the statements of a body.
#include "core/text/jinja/runtime.h"

namespace preflab::core::jinja {

namespace {

// The global functions, found when no variable has the name.
const char *const kJinjaGlobals[] = {"range",        "namespace", "dict",   "raise_exception",
                                     "strftime_now", "lipsum",    "cycler", "joiner"};

} // namespace

JinjaValue JinjaRun::lookup(const std::string &name, const JinjaScopePtr &scope) {
  if (const auto *v = scope->find(name))
    return *v;
  if (jinjaListed(kJinjaGlobals, name)) {
    auto fn = std::make_shared<JinjaFunction>();
    fn->name = name;
    return jinjaObjectValue(JinjaKind::Function, std::move(fn));
  }
  return jinjaUndefined("'" + name + "' is undefined");
}

JinjaValue JinjaRun::evalFilter(const JinjaExpr &e, const JinjaValue &operand, const JinjaScopePtr &scope) {
  JinjaArgs args;
  JinjaKwargs kwargs;
  const std::size_t positionals = e.positionals();
  const std::size_t named = positionals + e.keywords.size();
  for (std::size_t i = 1; i < e.kids.size(); ++i) {
    auto v = eval(*e.kids[i], scope);
    line = e.line;
    if (i <= positionals) {
      args.push_back(std::move(v));
    } else if (i <= named) {
      kwargs.emplace_back(e.keywords[i - 1 - positionals], std::move(v));
    } else if (e.ops[i - 1 - named] == "*") {
      const auto seq = iterate(v);
      args.insert(args.end(), seq->items.begin(), seq->items.end());
    } else {
      if (!v.is(JinjaKind::Dict))
        fail(std::string("argument after ** must be a mapping, not ") + jinjaTypeName(v));
      for (const auto &entry : v.dict->entries) {
        if (!entry.first.is(JinjaKind::String))
          fail("keywords must be strings");
        for (const auto &kw : kwargs)
          if (kw.first == entry.first.str())
            fail("got multiple values for keyword argument '" + kw.first + "'");
        kwargs.emplace_back(entry.first.str(), entry.second);
      }
    }
  }
  line = e.line;
  if (e.kind == JinjaExprKind::Filter)
    return filter(e.name, operand, args, kwargs);
  if (e.kind == JinjaExprKind::Test) {
    const bool passed = test(e.name, operand, args, kwargs);
    return jinjaBool(passed != e.negated);
  }
  return call(operand, args, kwargs);
}

JinjaValue JinjaRun::eval(const JinjaExpr &e, const JinjaScopePtr &scope) {
  const Nesting nesting(*this, m_depth, kJinjaMaxRuntimeDepth, "evaluation");
  spend(1);
  const auto kid = [&](std::size_t i) { return e.kids[i] ? eval(*e.kids[i], scope) : jinjaNone(); };
  switch (e.kind) {
  case JinjaExprKind::Const:
    return e.value;
  case JinjaExprKind::Name:
    return lookup(e.name, scope);
  case JinjaExprKind::Attr: {
    const auto object = kid(0);
    line = e.line;
    return getAttr(object, e.name);
  }
  case JinjaExprKind::Item: {
    const auto object = kid(0), key = kid(1);
    line = e.line;
    return getItem(object, key);
  }
  case JinjaExprKind::Slice: {
    const auto object = kid(0), start = kid(1), stop = kid(2), step = kid(3);
    line = e.line;
    return slice(object, start, stop, step);
  }
  case JinjaExprKind::Call:
  case JinjaExprKind::Filter:
  case JinjaExprKind::Test:
    return evalFilter(e, kid(0), scope);
  case JinjaExprKind::Neg:
  case JinjaExprKind::Pos: {
    const auto v = kid(0);
    line = e.line;
    return unary(e.kind == JinjaExprKind::Neg, v);
  }
  case JinjaExprKind::Not:
    return jinjaBool(!truthy(kid(0)));
  case JinjaExprKind::And: {
    auto left = kid(0);
    return truthy(left) ? kid(1) : left;
  }
  case JinjaExprKind::Or: {
    auto left = kid(0);
    return truthy(left) ? left : kid(1);
  }
  case JinjaExprKind::Binary: {
    const auto left = kid(0), right = kid(1);
    line = e.line;
    if (e.name == "~")
      return text(str(left) + str(right));
    return binary(e.name, left, right);
  }
  case JinjaExprKind::Compare: {
    auto left = kid(0);
    for (std::size_t i = 0; i < e.ops.size(); ++i) {
      auto right = kid(i + 1);
      line = e.line;
      const auto &op = e.ops[i];
      const bool holds = op == "in"       ? contains(right, left)
                         : op == "not in" ? !contains(right, left)
                                          : compare(op, left, right);
      if (!holds)
        return jinjaBool(false);
      left = std::move(right);
    }
    return jinjaBool(true);
  }
  case JinjaExprKind::Cond:
    if (truthy(kid(0)))
      return kid(1);
    if (e.kids[2])
      return kid(2);
    return jinjaUndefined("the inline if-expression on line " + std::to_string(e.line) +
                          " evaluated to false and no else section was defined.");
  case JinjaExprKind::List:
  case JinjaExprKind::Tuple: {
    std::vector<JinjaValue> items;
    for (std::size_t i = 0; i < e.kids.size(); ++i)
      items.push_back(kid(i));
    line = e.line;
    return makeSeq(e.kind == JinjaExprKind::List ? JinjaKind::List : JinjaKind::Tuple, std::move(items));
  }
  case JinjaExprKind::Dict: {
    std::vector<std::pair<JinjaValue, JinjaValue>> entries;
    for (std::size_t i = 0; i + 1 < e.kids.size(); i += 2) {
      auto key = kid(i);
      auto value = kid(i + 1);
      line = e.line;
      if (!jinjaHashable(key))
        fail(std::string("a dict key of type ") + jinjaTypeName(key) + " is not supported (unhashable)");
      const auto same =
          std::find_if(entries.begin(), entries.end(), [&](const auto &en) { return equal(en.first, key); });
      if (same != entries.end())
        same->second = std::move(value);
      else
        entries.emplace_back(std::move(key), std::move(value));
    }
    return makeDict(std::move(entries));
  }
  }
  fail("unknown expression");
}

std::vector<JinjaValue> JinjaRun::unpack(const JinjaValue &value, std::size_t count) {
  const auto seq = iterate(value);
  if (seq->items.size() < count)
    fail("not enough values to unpack (expected " + std::to_string(count) + ", got " +
         std::to_string(seq->items.size()) + ")");
  if (seq->items.size() > count)
    fail("too many values to unpack (expected " + std::to_string(count) + ")");
  return seq->items;
}

void JinjaRun::assign(const JinjaStmt &s, const JinjaScopePtr &scope, const JinjaValue &value) {
  line = s.line;
  if (!s.text.empty()) { // {% set ns.attr = ... %}
    const auto target = lookup(s.names[0], scope);
    if (!target.is(JinjaKind::Namespace))
      fail("cannot assign attribute on non-namespace object");
    if (jinjaHoldsObject(value))
      fail("storing a namespace, loop, macro or function in a namespace is not supported");
    auto &attrs = static_cast<JinjaNamespace &>(*target.object).attrs;
    for (auto &a : attrs)
      if (a.first == s.text) {
        a.second = value;
        return;
      }
    attrs.emplace_back(s.text, value);
    return;
  }
  if (!s.unpack) {
    scope->set(s.names[0], value);
    return;
  }
  const auto items = unpack(value, s.names.size());
  for (std::size_t i = 0; i < items.size(); ++i)
    scope->set(s.names[i], items[i]);
}

// A for loop: each iteration has its own scope (a {% set %} inside does not leak out), the
// `if` filter runs before the loop (loop.length counts what passed), else runs when nothing did.
void JinjaRun::execFor(const JinjaStmt &s, const JinjaScopePtr &scope, std::string &out) {
  const auto iterable = eval(*s.expr, scope);
  line = s.line;
  auto seq = iterate(iterable);
  const auto bindTargets = [&](const JinjaScopePtr &target, const JinjaValue &item) {
    if (!s.unpack) {
      target->set(s.names[0], item);
      return;
    }
    const auto parts = unpack(item, s.names.size());
    for (std::size_t i = 0; i < parts.size(); ++i)
      target->set(s.names[i], parts[i]);
  };
  if (s.condition) {
    std::vector<JinjaValue> kept;
    for (const auto &item : seq->items) {
      const auto filterScope = jinjaChildScope(scope);
      bindTargets(filterScope, item);
      if (truthy(eval(*s.condition, filterScope)))
        kept.push_back(item);
    }
    seq = makeSeq(JinjaKind::List, std::move(kept)).seq;
  }
  if (seq->items.empty()) {
    exec(s.bodies[1], jinjaChildScope(scope), out);
    return;
  }
  auto loop = std::make_shared<JinjaLoop>();
  loop->items = seq;
  const JinjaValue loopValue = jinjaObjectValue(JinjaKind::Loop, loop);
  for (std::size_t i = 0; i < seq->items.size(); ++i) {
    spend(1);
    loop->index0 = i;
    const auto iteration = jinjaChildScope(scope);
    line = s.line;
    bindTargets(iteration, seq->items[i]);
    iteration->set("loop", loopValue);
    if (exec(s.bodies[0], iteration, out) == JinjaFlow::Break)
      break;
  }
}

JinjaFlow JinjaRun::exec(const JinjaBody &body, const JinjaScopePtr &scope, std::string &out) {
  const Nesting nesting(*this, m_depth, kJinjaMaxRuntimeDepth, "evaluation");
  const auto emit = [&](const std::string &piece) {
    out += piece;
    spendOn(piece);
    if (out.size() > kJinjaMaxText)
      fail("the output grew past " + std::to_string(kJinjaMaxText >> 20) + " MiB");
  };
  for (const auto &s : body) {
    spend(1);
    line = s->line;
    switch (s->kind) {
    case JinjaStmtKind::Output:
      emit(s->text);
      break;
    case JinjaStmtKind::Print: {
      const auto v = eval(*s->expr, scope);
      line = s->line;
      emit(str(v));
      break;
    }
    case JinjaStmtKind::If: {
      std::size_t branch = 0;
      while (branch < s->exprs.size() && !truthy(eval(*s->exprs[branch], scope)))
        ++branch;
      if (branch < s->bodies.size()) {
        const auto flow = exec(s->bodies[branch], scope, out);
        if (flow != JinjaFlow::Normal)
          return flow;
      }
      break;
    }
    case JinjaStmtKind::For:
      execFor(*s, scope, out);
      break;
    case JinjaStmtKind::Set:
      assign(*s, scope, eval(*s->expr, scope));
      break;
    case JinjaStmtKind::SetBlock: {
      std::string captured;
      exec(s->bodies[0], jinjaChildScope(scope), captured);
      JinjaValue value = text(std::move(captured));
      for (const auto &f : s->exprs)
        value = evalFilter(*f, value, scope);
      assign(*s, scope, value);
      break;
    }
    case JinjaStmtKind::Macro: {
      auto macro = std::make_shared<JinjaMacro>();
      macro->node = s.get();
      macro->scope = scope;
      scope->set(s->text, jinjaObjectValue(JinjaKind::Macro, std::move(macro)));
      break;
    }
    case JinjaStmtKind::Break:
      return JinjaFlow::Break;
    case JinjaStmtKind::Continue:
      return JinjaFlow::Continue;
    case JinjaStmtKind::Generation:
      exec(s->bodies[0], jinjaChildScope(scope), out);
      break;
    }
  }
  return JinjaFlow::Normal;
}

} // namespace preflab::core::jinja
