// The values of the chat template interpreter: constructors, Python's type names and hashability.
#include "core/text/jinja/value.h"

#include "core/io/input_error.h"

namespace preflab::core::jinja {

[[noreturn]] void jinjaThrow(std::int64_t line, const std::string &message) {
  throw InputError({}, line, "chat_template", message);
}

JinjaValue jinjaNone() {
  JinjaValue v;
  v.kind = JinjaKind::None;
  return v;
}

JinjaValue jinjaBool(bool b) {
  JinjaValue v;
  v.kind = JinjaKind::Bool;
  v.flag = b;
  return v;
}

JinjaValue jinjaInt(std::int64_t i) {
  JinjaValue v;
  v.kind = JinjaKind::Int;
  v.integer = i;
  return v;
}

JinjaValue jinjaFloat(double d) {
  JinjaValue v;
  v.kind = JinjaKind::Float;
  v.real = d;
  return v;
}

JinjaValue jinjaString(std::string s, bool markup) {
  JinjaValue v;
  v.kind = JinjaKind::String;
  v.markup = markup;
  v.text = std::make_shared<const std::string>(std::move(s));
  return v;
}

JinjaValue jinjaUndefined(std::string what) {
  JinjaValue v;
  v.text = std::make_shared<const std::string>(std::move(what));
  return v;
}

JinjaValue jinjaObjectValue(JinjaKind kind, std::shared_ptr<JinjaObject> object) {
  JinjaValue v;
  v.kind = kind;
  v.object = std::move(object);
  return v;
}

bool jinjaHoldsObject(const JinjaValue &v) {
  return v.kind == JinjaKind::Namespace || v.kind == JinjaKind::Loop || v.kind == JinjaKind::Macro ||
         v.kind == JinjaKind::Function || (v.seq && v.seq->holdsObject) || (v.dict && v.dict->holdsObject);
}

int jinjaDepth(const JinjaValue &v) {
  return v.seq ? v.seq->depth : v.dict ? v.dict->depth : 0;
}

// A hashable value can be a dict key: None, bool, numbers, strings and tuples of those.
bool jinjaHashable(const JinjaValue &v) {
  switch (v.kind) {
  case JinjaKind::None:
  case JinjaKind::Bool:
  case JinjaKind::Int:
  case JinjaKind::Float:
  case JinjaKind::String:
    return true;
  case JinjaKind::Tuple:
    return std::all_of(v.seq->items.begin(), v.seq->items.end(), jinjaHashable);
  default:
    return false;
  }
}

const char *jinjaTypeName(const JinjaValue &v) {
  switch (v.kind) {
  case JinjaKind::Undefined:
    return "Undefined";
  case JinjaKind::None:
    return "NoneType";
  case JinjaKind::Bool:
    return "bool";
  case JinjaKind::Int:
    return "int";
  case JinjaKind::Float:
    return "float";
  case JinjaKind::String:
    return v.markup ? "Markup" : "str";
  case JinjaKind::List:
    return "list";
  case JinjaKind::Tuple:
    return "tuple";
  case JinjaKind::Dict:
    return "dict";
  case JinjaKind::Range:
    return "range";
  case JinjaKind::View:
    return "dict view";
  case JinjaKind::Iterator:
    return "generator";
  case JinjaKind::Namespace:
    return "Namespace";
  case JinjaKind::Loop:
    return "LoopContext";
  case JinjaKind::Macro:
    return "Macro";
  case JinjaKind::Function:
    return "function";
  }
  return "object";
}

double jinjaAsDouble(const JinjaValue &v) {
  return v.is(JinjaKind::Float) ? v.real : v.is(JinjaKind::Bool) ? double(v.flag) : double(v.integer);
}

std::int64_t jinjaAsInt(const JinjaValue &v) {
  return v.is(JinjaKind::Bool) ? std::int64_t(v.flag) : v.integer;
}

} // namespace preflab::core::jinja
