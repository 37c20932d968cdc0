// The image-objective registry: names → loss functions and their torch-free descriptions.
#include "core/io/input_error.h"
#include "core/objectives/diffusion_objective_info.h"
#include "core/objectives/diffusion_objectives.h"
#include "core/objectives/registry_lookup.h"

#include <vector>

namespace preflab::core {

namespace {

struct ImageEntry {
  DiffusionObjectiveInfo info;
  DiffusionObjectiveFn fn;
};

DiffusionObjectiveInfo makeImageInfo(std::string name, std::string title, DiffusionObjectiveKind kind,
                                     bool needsReference, bool needsPredictions, double beta, double low,
                                     double high, std::string betaMeaning, std::string summary) {
  DiffusionObjectiveInfo i;
  i.name = std::move(name);
  i.title = std::move(title);
  i.kind = kind;
  i.needsReference = needsReference;
  i.needsPredictions = needsPredictions;
  i.defaultBeta = beta;
  i.betaLow = low;
  i.betaHigh = high;
  i.betaMeaning = std::move(betaMeaning);
  i.summary = std::move(summary);
  return i;
}

// Built once, on first use (thread-safe static initialisation), never modified afterwards.
// Defaults are the released launchers' values (algorithms.md §1.4, §2.2, §2.6).
const std::vector<ImageEntry> &imageEntries() {
  using K = DiffusionObjectiveKind;
  static const std::vector<ImageEntry> table = {
      {makeImageInfo("diffusion-dpo", "Diffusion-DPO", K::Pairwise, true, false, 5000, 2000, 5000,
                     "KL strength on per-pixel MSE gaps",
                     "Logistic loss on -beta/2 times the policy-minus-reference gap of winner-minus-"
                     "loser denoising MSEs (means over C, H, W), as the released code computes it."),
       diffusionDpoLoss},
      {makeImageInfo("dspo", "DSPO (SD1.5 code path)", K::Pairwise, true, true, 0.001, 0.001, 0.05,
                     "reward scale in g and size of the target shift",
                     "Winner denoising loss against the noise shifted by beta*g*(policy - reference "
                     "winner prediction), g = 1 - sigmoid(Diffusion-DPO logit); detach_target fixes "
                     "the shifted target."),
       dspoLoss},
      {makeImageInfo("dspo-sdxl-path", "DSPO (SDXL code path)", K::Pairwise, true, true, 5000, 1000, 5000,
                     "reward scale in g",
                     "Squared policy-minus-reference winner prediction gap weighted by g while its MSE "
                     "is at least sdxl_gap_threshold (0.1), else mean g^2; no reconstruction term."),
       dspoSdxlPathLoss},
      {makeImageInfo("diffusion-sft", "Diffusion SFT (winners only)", K::Sft, false, false, 0, 0, 0, "unused",
                     "Denoising MSE of the preferred image of each pair."),
       diffusionSftLoss},
      {makeImageInfo("diffusion-kto", "Diffusion-KTO", K::Unpaired, true, false, 1000, 500, 5000,
                     "KL strength on per-pixel MSE gaps",
                     "Sigmoid value of each image's reference-minus-policy MSE against a detached, "
                     "clamped batch mean, signed by its desirable/undesirable label, weighted per "
                     "class."),
       diffusionKtoLoss},
  };
  return table;
}

const ImageEntry &imageEntry(const std::string &name) {
  return findRegistryEntry(imageEntries(), name, "image objective");
}

} // namespace

const std::vector<DiffusionObjectiveInfo> &diffusionObjectiveInfos() {
  static const std::vector<DiffusionObjectiveInfo> infos = registryInfos(imageEntries());
  return infos;
}

const DiffusionObjectiveInfo &diffusionObjectiveInfo(const std::string &name) {
  return imageEntry(name).info;
}

const DiffusionObjectiveFn &diffusionObjectiveFunction(const std::string &name) {
  return imageEntry(name).fn;
}

} // namespace preflab::core
