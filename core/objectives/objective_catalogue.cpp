// findObjective: the text registry, then the image registry.
#include "core/objectives/objective_catalogue.h"

#include "core/objectives/diffusion_objective_info.h"
#include "core/objectives/objective_info.h"

namespace preflab::core {

std::optional<ObjectiveSummary> findObjective(const std::string &name) {
  for (const auto &i : objectiveInfos())
    if (i.name == name)
      return ObjectiveSummary{i.name,        i.title,          i.summary,
                              i.betaMeaning, i.defaultBeta,    i.betaLow,
                              i.betaHigh,    i.needsReference, i.kind == ObjectiveKind::Sft,
                              false};
  for (const auto &i : diffusionObjectiveInfos())
    if (i.name == name)
      return ObjectiveSummary{i.name,        i.title,          i.summary,
                              i.betaMeaning, i.defaultBeta,    i.betaLow,
                              i.betaHigh,    i.needsReference, i.kind == DiffusionObjectiveKind::Sft,
                              true};
  return std::nullopt;
}

} // namespace preflab::core
