// The filters and tests a chat template's syntax tree may name: those implemented and those refused.
#include "core/text/jinja/syntax_tree.h"

#include "core/text/jinja/value.h"

namespace preflab::core::jinja {

namespace {

// The filters and tests implemented, and those of jinja2 refused with a message of their own.
const char *const kJinjaFilters[] = {
    "abs",    "capitalize", "count",      "d",       "default", "dictsort", "first",  "float",
    "indent", "int",        "items",      "join",    "last",    "length",   "list",   "lower",
    "map",    "reject",     "rejectattr", "replace", "reverse", "safe",     "select", "selectattr",
    "sort",   "string",     "title",      "tojson",  "trim",    "unique",   "upper",  "wordcount"};
const char *const kJinjaRefusedFilters[] = {
    "attr",    "batch",    "center",    "e",      "escape",   "filesizeformat", "forceescape", "format",
    "groupby", "max",      "min",       "pprint", "random",   "round",          "slice",       "striptags",
    "sum",     "truncate", "urlencode", "urlize", "wordwrap", "xmlattr"};
const char *const kJinjaTests[] = {
    "boolean",  "callable", "defined",  "divisibleby", "eq",          "equalto", "even",
    "false",    "float",    "ge",       "gt",          "greaterthan", "in",      "integer",
    "iterable", "le",       "lessthan", "lower",       "lt",          "mapping", "ne",
    "none",     "number",   "odd",      "sequence",    "string",      "true",    "undefined",
    "upper",    "==",       "!=",       "<",           "<=",          ">",       ">="};
const char *const kJinjaRefusedTests[] = {"escaped", "filter", "sameas", "test"};

} // namespace

std::string jinjaFilterProblem(const std::string &name) {
  if (jinjaListed(kJinjaFilters, name))
    return {};
  if (jinjaListed(kJinjaRefusedFilters, name))
    return "the |" + name + " filter is not supported by PrefLab's chat template renderer";
  return "no filter named '" + name + "'";
}

std::string jinjaTestProblem(const std::string &name) {
  if (jinjaListed(kJinjaTests, name))
    return {};
  if (jinjaListed(kJinjaRefusedTests, name))
    return "the 'is " + name + "' test is not supported by PrefLab's chat template renderer";
  return "no test named '" + name + "'";
}

} // namespace preflab::core::jinja
