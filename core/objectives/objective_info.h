// Torch-free description of the registered objectives, for the CLI's help and the UI's forms.
#pragma once

#include <string>
#include <vector>

namespace preflab::core {

// What data an objective trains on.
enum class ObjectiveKind {
  Sft,      // next-token NLL on the chosen response
  Pairwise, // chosen vs rejected log-probs of the policy (and reference)
  Unpaired, // desirable / undesirable completions (KTO); paired data is split into both
  Reward    // Bradley–Terry reward model on a scalar head
};

struct ObjectiveInfo {
  std::string name;         // registry key, e.g. "dpo"
  std::string title;        // human-readable, e.g. "DPO (sigmoid)"
  ObjectiveKind kind = ObjectiveKind::Pairwise;
  bool needsReference = false; // uses reference-model log-probs
  bool usesMeanLogp = false;   // token-mean (true) or sequence-sum (false) log-probs
  double defaultBeta = 0.1;    // β on this objective's own scale (0 when unused)
  double betaLow = 0.0;        // usual range of β for this objective, for diagnostics
  double betaHigh = 0.0;
  std::string betaMeaning;     // what β is for this objective ("KL strength", "τ", "λ", ...)
  std::string summary;         // one line: the loss in words
};

// Every registered objective, in a stable order. Safe to call from any thread.
const std::vector<ObjectiveInfo> &objectiveInfos();
// The info for `name`; throws InputError naming the known objectives when `name` is unknown.
const ObjectiveInfo &objectiveInfo(const std::string &name);

} // namespace preflab::core
