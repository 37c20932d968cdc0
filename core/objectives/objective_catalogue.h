// One view of every registered objective, text or image, for the places that need either: the
// diagnostics, the New run dialog, the help (torch-free).
#pragma once

#include <optional>
#include <string>

namespace preflab::core {

struct ObjectiveSummary {
  std::string name, title, summary, betaMeaning;
  double defaultBeta = 0.0, betaLow = 0.0, betaHigh = 0.0;
  bool needsReference = false;
  bool sft = false;   // trains on the preferred responses / images only
  bool image = false; // a text-to-image (diffusion) objective
};

// The text or image objective named `name`; nullopt when neither registry has it.
std::optional<ObjectiveSummary> findObjective(const std::string &name);

} // namespace preflab::core
