// Torch-free description of the image (diffusion) objectives, for the CLI's help and the UI's forms.
#pragma once

#include <string>
#include <vector>

namespace preflab::core {

// What data an image objective trains on.
enum class DiffusionObjectiveKind {
  Sft,      // denoising loss on the preferred image only
  Pairwise, // winner vs loser of a pair, same noise and timestep for both
  Unpaired  // desirable / undesirable images (KTO); paired data is split into both
};

// Kept apart from ObjectiveInfo on purpose: the text trainer and the New-run dialog list
// objectiveInfos(), and none of these objectives can train a language model.
struct DiffusionObjectiveInfo {
  std::string name;  // registry key, e.g. "diffusion-dpo"
  std::string title; // human-readable, e.g. "DSPO (SD1.5 code path)"
  DiffusionObjectiveKind kind = DiffusionObjectiveKind::Pairwise;
  bool needsReference = false;   // uses the reference model's ε-predictions (or their MSEs)
  bool needsPredictions = false; // needs the winner's raw ε-predictions, not only per-sample MSEs
  double defaultBeta = 0.0;      // β on this objective's own scale (0 when unused)
  double betaLow = 0.0;          // usual range of β, for diagnostics
  double betaHigh = 0.0;
  std::string betaMeaning; // what β does for this objective
  std::string summary;     // one line: the loss in words
};

// Every registered image objective, in a stable order. Safe to call from any thread.
const std::vector<DiffusionObjectiveInfo> &diffusionObjectiveInfos();
// The info for `name`; throws InputError (key "loss_type") naming the known image objectives
// when `name` is unknown.
const DiffusionObjectiveInfo &diffusionObjectiveInfo(const std::string &name);

} // namespace preflab::core
