// An objective's whole declaration: its torch-free description and its loss function. Each
// objective's source file defines one `ObjectiveDefinition <id>Objective()`; objective_list.h
// names them all, once each, and that list is the registry.
#pragma once

#include "core/objectives/diffusion_objectives.h"
#include "core/objectives/objective.h"
#include "core/objectives/objective_info.h"

namespace preflab::core {

struct ObjectiveDefinition {
  ObjectiveInfo info;
  ObjectiveFn text;           // set for Modality::Text
  DiffusionObjectiveFn image; // set for Modality::Image
};

// Builders for the declarations, so a definition reads as one block.
inline ObjectiveParam betaParam(double defaultValue, double usualLow, double usualHigh, std::string meaning,
                                double high = 1e6, bool zeroAllowed = false) {
  ObjectiveParam p;
  p.key = "beta";
  p.defaultValue = defaultValue;
  p.low = 0.0;
  p.lowOpen = !zeroAllowed;
  p.high = high;
  p.usualLow = usualLow;
  p.usualHigh = usualHigh;
  p.help = std::move(meaning);
  return p;
}

inline ObjectiveParam realParam(std::string key, double defaultValue, double low, double high,
                                std::string help, bool highOpen = false) {
  ObjectiveParam p;
  p.key = std::move(key);
  p.defaultValue = defaultValue;
  p.low = low;
  p.high = high;
  p.highOpen = highOpen;
  p.help = std::move(help);
  return p;
}

// A switch; `allowed` false declares a key that must stay off for this objective.
inline ObjectiveParam boolParam(std::string key, bool defaultValue, std::string help, bool allowed = true) {
  ObjectiveParam p;
  p.key = std::move(key);
  p.defaultValue = defaultValue ? 1.0 : 0.0;
  p.low = 0.0;
  p.high = allowed ? 1.0 : 0.0;
  p.boolean = true;
  p.help = std::move(help);
  return p;
}

} // namespace preflab::core
