// The torch-free half of the registry: parameter values, range checks and the config keys.
#include "core/objectives/objective_info.h"

#include "core/io/input_error.h"

#include <sstream>

namespace preflab::core {

const ObjectiveParam *ObjectiveInfo::param(const std::string &key) const {
  for (const ObjectiveParam &p : params)
    if (p.key == key)
      return &p;
  return nullptr;
}

double ObjectiveInfo::defaultBeta() const {
  const ObjectiveParam *b = param("beta");
  return b ? b->defaultValue : 0.0;
}

double ObjectiveInfo::betaLow() const {
  const ObjectiveParam *b = param("beta");
  return b ? b->usualLow : 0.0;
}

double ObjectiveInfo::betaHigh() const {
  const ObjectiveParam *b = param("beta");
  return b ? b->usualHigh : 0.0;
}

std::string ObjectiveInfo::betaMeaning() const {
  const ObjectiveParam *b = param("beta");
  return b ? b->help : "unused";
}

double ObjectiveParams::get(const std::string &key) const {
  const auto it = values.find(key);
  if (it == values.end())
    throw InputError({}, 0, key, "objective parameter '" + key + "' is not set");
  return it->second;
}

const ObjectiveInfo *findObjectiveInfo(const std::string &name) {
  for (const ObjectiveInfo &info : objectiveInfos())
    if (info.name == name)
      return &info;
  return nullptr;
}

std::vector<ObjectiveInfo> objectiveInfos(Modality modality) {
  std::vector<ObjectiveInfo> out;
  for (const ObjectiveInfo &info : objectiveInfos())
    if (info.modality == modality)
      out.push_back(info);
  return out;
}

ObjectiveParams defaultObjectiveParams(const ObjectiveInfo &info) {
  ObjectiveParams out;
  for (const ObjectiveParam &p : info.params)
    out.values[p.key] = p.defaultValue;
  return out;
}

ObjectiveParams objectiveParamsFrom(const ObjectiveInfo &info, double beta,
                                    const std::map<std::string, double> &values) {
  ObjectiveParams out = defaultObjectiveParams(info);
  for (auto &[key, value] : out.values) {
    if (key == "beta") {
      if (beta > 0)
        value = beta;
      continue;
    }
    const auto it = values.find(key);
    if (it != values.end())
      value = it->second;
  }
  return out;
}

std::string allowedRange(const ObjectiveParam &param) {
  if (param.boolean)
    return param.high > 0 ? "true or false" : "false";
  // 1e6 stands for "no bound" in the declarations: it prints as an inequality or "any value".
  const bool noLow = param.low <= -1e6, noHigh = param.high >= 1e6;
  std::ostringstream out;
  if (noLow && noHigh)
    out << "any value";
  else if (noHigh)
    out << (param.lowOpen ? "> " : ">= ") << param.low;
  else if (noLow)
    out << (param.highOpen ? "< " : "<= ") << param.high;
  else
    out << (param.lowOpen ? '(' : '[') << param.low << ", " << param.high << (param.highOpen ? ')' : ']');
  return out.str();
}

void checkObjectiveParams(const ObjectiveInfo &info, const ObjectiveParams &params) {
  for (const ObjectiveParam &p : info.params) {
    const double v = params.get(p.key);
    const bool lowOk = p.lowOpen ? v > p.low : v >= p.low;
    const bool highOk = p.highOpen ? v < p.high : v <= p.high;
    if (lowOk && highOk)
      continue;
    std::ostringstream msg;
    msg << "objective '" << info.name << "' needs " << p.key << " ";
    if (p.boolean)
      msg << (p.high > 0 ? "true or false" : "false (" + p.help + ")");
    else
      msg << (allowedRange(p).front() == '[' || allowedRange(p).front() == '(' ? "in " : "")
          << allowedRange(p) << " (" << p.help << "), got " << v;
    throw InputError({}, 0, p.key, msg.str());
  }
}

std::vector<ObjectiveParamKey> objectiveParamKeys(Modality modality) {
  std::vector<ObjectiveParamKey> out;
  for (const ObjectiveInfo &info : objectiveInfos()) {
    if (info.modality != modality)
      continue;
    for (const ObjectiveParam &p : info.params) {
      if (p.key == "beta")
        continue;
      auto it = out.begin();
      while (it != out.end() && it->param.key != p.key)
        ++it;
      if (it == out.end())
        out.push_back({p, {info.name}});
      else
        it->users.push_back(info.name);
    }
  }
  return out;
}

std::map<std::string, double> objectiveParamDefaults(Modality modality) {
  std::map<std::string, double> out;
  for (const ObjectiveParamKey &k : objectiveParamKeys(modality))
    out[k.param.key] = k.param.defaultValue;
  return out;
}

} // namespace preflab::core
