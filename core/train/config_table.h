// A config struct <-> YAML through one table of fields, so reading, overriding and saving agree.
// Shared by the text (TextTrainConfig) and the text-to-image (ImageTrainConfig) run configs.
#pragma once

#include "core/io/input_error.h"
#include "core/objectives/objective_info.h"
#include "core/train/config_key.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace preflab::core::config_table {

// One config key: how to set it from a scalar string, how to print it, and what it means (one
// line for `train --help` and the README: the range and the meaning of its units).
template <typename C> struct Field {
  std::string key;
  std::function<void(C &, const std::string &)> set;
  std::function<std::string(const C &)> get;
  std::string help;
};

template <typename T> T parseScalar(const std::string &key, const std::string &text) {
  if constexpr (std::is_same_v<T, std::string>) {
    return text; // strings are taken as written (an empty value stays empty)
  } else {
    T value;
    try {
      value = YAML::Load(text).as<T>();
    } catch (const YAML::Exception &) {
      throw InputError({}, 0, key, "cannot read '" + text + "' as the expected type");
    }
    if constexpr (std::is_floating_point_v<T>)
      if (!std::isfinite(value))
        throw InputError({}, 0, key, "is '" + text + "', must be a finite number");
    return value;
  }
}

template <typename T> std::string printScalar(const T &value) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[32]; // shortest text that reads back as the same double
    for (int digits = 6; digits <= 17; ++digits) {
      std::snprintf(buf, sizeof buf, "%.*g", digits, double(value));
      if (std::strtod(buf, nullptr) == double(value))
        break;
    }
    return buf;
  } else {
    YAML::Emitter e;
    e << value;
    return e.c_str();
  }
}

template <typename C, typename T> Field<C> field(std::string key, T C::*member, std::string help = {}) {
  return {key, [member, key](C &c, const std::string &v) { c.*member = parseScalar<T>(key, v); },
          [member](const C &c) { return printScalar(c.*member); }, std::move(help)};
}

template <typename C, typename S, typename T>
Field<C> nested(std::string key, S C::*section, T S::*member, std::string help = {}) {
  return {key,
          [section, member, key](C &c, const std::string &v) { c.*section.*member = parseScalar<T>(key, v); },
          [section, member](const C &c) { return printScalar(c.*section.*member); }, std::move(help)};
}

// One field per parameter the objectives of `modality` declare (beta aside), kept in the config's
// map `member`; the help line gives the meaning, the allowed range and the objectives that use it.
template <typename C>
std::vector<Field<C>> objectiveParamFields(std::map<std::string, double> C::*member, Modality modality) {
  std::vector<Field<C>> out;
  for (const ObjectiveParamKey &k : objectiveParamKeys(modality)) {
    const ObjectiveParam p = k.param;
    std::string users;
    for (const std::string &u : k.users)
      users += (users.empty() ? "" : ", ") + u;
    Field<C> f;
    f.key = p.key;
    f.set = [member, p](C &c, const std::string &v) {
      (c.*member)[p.key] =
          p.boolean ? (parseScalar<bool>(p.key, v) ? 1.0 : 0.0) : parseScalar<double>(p.key, v);
    };
    f.get = [member, p](const C &c) {
      const auto it = (c.*member).find(p.key);
      const double v = it == (c.*member).end() ? p.defaultValue : it->second;
      return p.boolean ? std::string(v != 0.0 ? "true" : "false") : printScalar(v);
    };
    f.help = p.help + ", " + allowedRange(p) + " (" + users + ")";
    out.push_back(std::move(f));
  }
  return out;
}

// The AdamW keys both kinds of run have, declared once (C names its members alike; checkAdamW in
// config_checks.h validates them).
template <typename C> std::vector<Field<C>> adamWFields() {
  return {field("learning_rate", &C::learningRate, "AdamW peak learning rate, > 0"),
          field("weight_decay", &C::weightDecay, "AdamW decoupled weight decay, >= 0"),
          field("adam_beta1", &C::adamBeta1, "AdamW first-moment decay in [0, 1)"),
          field("adam_beta2", &C::adamBeta2, "AdamW second-moment decay in [0, 1)"),
          field("adam_epsilon", &C::adamEpsilon, "AdamW denominator epsilon, > 0")};
}

// The parts of a table, one after the other.
template <typename C> std::vector<Field<C>> joined(std::initializer_list<std::vector<Field<C>>> parts) {
  std::vector<Field<C>> out;
  for (const auto &part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

// `table` with objectiveParamFields(member, modality) inserted after its "beta" key.
template <typename C>
std::vector<Field<C>> withObjectiveParams(std::map<std::string, double> C::*member, Modality modality,
                                          std::vector<Field<C>> table) {
  auto beta = table.begin();
  while (beta != table.end() && beta->key != "beta")
    ++beta;
  const std::vector<Field<C>> params = objectiveParamFields(member, modality);
  table.insert(beta == table.end() ? beta : beta + 1, params.begin(), params.end());
  return table;
}

// The names of the objectives of `modality`, comma-separated, for the loss_type help line.
inline std::string objectiveNames(Modality modality) {
  std::string out;
  for (const ObjectiveInfo &info : objectiveInfos(modality))
    out += (out.empty() ? "" : ", ") + info.name;
  return out;
}

// Every key with the default it has in `defaults` and its help line, in table order.
template <typename C>
std::vector<ConfigKeyHelp> keyHelp(const std::vector<Field<C>> &fields, const C &defaults) {
  std::vector<ConfigKeyHelp> out;
  for (const auto &f : fields)
    out.push_back({f.key, f.get(defaults), f.help});
  return out;
}

template <typename C> const Field<C> &findField(const std::vector<Field<C>> &fields, const std::string &key) {
  for (const auto &f : fields)
    if (f.key == key)
      return f;
  throw InputError({}, 0, key, "unknown config key (see 'preflab-cli train --help' for the list)");
}

// Walks a YAML mapping; nested mappings become dotted keys. A key set twice is an error naming
// both lines (YAML leaves duplicates to the reader; taking the last one silently loses the first).
template <typename C>
void applyNode(const std::vector<Field<C>> &fields, C &config, const YAML::Node &node,
               const std::string &prefix, const std::string &source, std::map<std::string, int> &seen) {
  for (const auto &item : node) {
    const std::string key = prefix + item.first.as<std::string>();
    const int line = item.first.Mark().line + 1;
    if (const auto first = seen.find(key); first != seen.end() && !item.second.IsMap())
      throw InputError(source, line, key, "set twice (first on line " + std::to_string(first->second) + ")");
    seen[key] = line;
    try {
      if (item.second.IsMap()) {
        applyNode(fields, config, item.second, key + ".", source, seen);
      } else if (item.second.IsScalar()) {
        findField(fields, key).set(config, item.second.Scalar());
      } else if (item.second.IsNull()) {
        continue; // "key:" with no value keeps the default
      } else if (item.second.IsSequence() && (key.find("target_modules") != std::string::npos ||
                                              key == "mpo.policies" || key == "mpo.weights")) {
        std::string joined; // a list of names, kept comma-separated
        for (const auto &element : item.second) {
          if (!element.IsScalar())
            throw InputError({}, 0, key, "expected a list of names");
          joined += (joined.empty() ? "" : ",") + element.Scalar();
        }
        findField(fields, key).set(config, joined);
      } else {
        throw InputError({}, 0, key, "expected a single value");
      }
    } catch (const InputError &e) {
      throw InputError(source, line, e.key(), e.message());
    }
  }
}

// Parses YAML text into `config` (which holds the defaults); `source` names it in errors.
template <typename C>
void fromYaml(const std::vector<Field<C>> &fields, C &config, const std::string &yamlText,
              const std::string &source) {
  YAML::Node root;
  try {
    root = YAML::Load(yamlText);
  } catch (const YAML::ParserException &e) {
    throw InputError(source, e.mark.line + 1, {}, "YAML syntax error: " + e.msg);
  }
  if (root.IsNull())
    return;
  if (!root.IsMap())
    throw InputError(source, 1, {}, "the config must be a mapping of keys to values");
  std::map<std::string, int> seen;
  applyNode(fields, config, root, "", source, seen);
}

// Reads a whole config file; throws InputError naming it when it cannot be opened.
inline std::string readConfigText(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw InputError(path, 0, {}, "cannot open config file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

template <typename C>
void applyOverride(const std::vector<Field<C>> &fields, C &config, const std::string &assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError({}, 0, assignment, "an override must read key=value");
  findField(fields, assignment.substr(0, eq)).set(config, assignment.substr(eq + 1));
}

// Every key with its value, dotted keys grouped under their section; `title` is the first line.
template <typename C>
std::string toYaml(const std::vector<Field<C>> &fields, const C &config, const std::string &title) {
  std::string out = "# " + title + "\n";
  std::string section;
  for (const auto &f : fields) {
    const auto dot = f.key.find('.');
    std::string name = f.key;
    if (dot != std::string::npos) {
      const std::string head = f.key.substr(0, dot);
      if (head != section)
        out += head + ":\n";
      section = head;
      name = "  " + f.key.substr(dot + 1);
    } else {
      section.clear();
    }
    out += name + ": " + f.get(config) + "\n";
  }
  return out;
}

template <typename C> std::vector<std::string> keys(const std::vector<Field<C>> &fields) {
  std::vector<std::string> out;
  for (const auto &f : fields)
    out.push_back(f.key);
  return out;
}

} // namespace preflab::core::config_table
