// The registry: every definition objective_list.h names, built once, looked up by name.
#include "core/io/input_error.h"
#include "core/objectives/objective_definition.h"

#include <vector>

namespace preflab::core {

#define PREFLAB_OBJECTIVE(id) ObjectiveDefinition id##Objective();
#include "core/objectives/objective_list.h"
#undef PREFLAB_OBJECTIVE

namespace {

// A definition whose function checks the declared parameters before it computes.
ObjectiveDefinition registryChecked(ObjectiveDefinition d) {
  const ObjectiveInfo info = d.info;
  if (d.text)
    d.text = [info, fn = d.text](const ObjectiveInputs &in, const ObjectiveParams &p) {
      checkObjectiveParams(info, p);
      return fn(in, p);
    };
  if (d.image)
    d.image = [info, fn = d.image](const DiffusionObjectiveInputs &in, const ObjectiveParams &p) {
      checkObjectiveParams(info, p);
      return fn(in, p);
    };
  return d;
}

// Built once, on first use (thread-safe static initialisation), never modified afterwards.
const std::vector<ObjectiveDefinition> &registryDefinitions() {
  static const std::vector<ObjectiveDefinition> table = {
#define PREFLAB_OBJECTIVE(id) registryChecked(id##Objective()),
#include "core/objectives/objective_list.h"
#undef PREFLAB_OBJECTIVE
  };
  return table;
}

const char *registryModalityWord(Modality modality) {
  return modality == Modality::Text ? "text" : "image";
}

const ObjectiveDefinition &registryDefinition(const std::string &name, Modality modality) {
  for (const ObjectiveDefinition &d : registryDefinitions())
    if (d.info.name == name && d.info.modality == modality)
      return d;
  std::string known;
  for (const ObjectiveDefinition &d : registryDefinitions())
    if (d.info.modality == modality)
      known += (known.empty() ? "" : ", ") + d.info.name;
  std::string hint;
  for (const ObjectiveDefinition &d : registryDefinitions())
    if (d.info.name == name)
      hint = std::string(" ('") + name + "' is an objective of " + registryModalityWord(d.info.modality) +
             " runs)";
  throw InputError({}, 0, "loss_type",
                   std::string("unknown ") + registryModalityWord(modality) + " objective '" + name + "'" +
                       hint + "; known: " + known);
}

} // namespace

const std::vector<ObjectiveInfo> &objectiveInfos() {
  static const std::vector<ObjectiveInfo> infos = [] {
    std::vector<ObjectiveInfo> out;
    for (const ObjectiveDefinition &d : registryDefinitions())
      out.push_back(d.info);
    return out;
  }();
  return infos;
}

const ObjectiveInfo &objectiveInfo(const std::string &name, Modality modality) {
  return registryDefinition(name, modality).info;
}

const ObjectiveFn &objectiveFunction(const std::string &name) {
  return registryDefinition(name, Modality::Text).text;
}

const DiffusionObjectiveFn &diffusionObjectiveFunction(const std::string &name) {
  return registryDefinition(name, Modality::Image).image;
}

} // namespace preflab::core
