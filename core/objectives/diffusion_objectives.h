// Image-side preference objectives (Diffusion-DPO, DSPO's two code paths, SFT, KTO) and their registry.
#pragma once

#include "core/objectives/objective.h"

#include <torch/types.h>

#include <functional>
#include <string>

namespace preflab::core {

// Inputs for one batch of B pairs (or N unpaired images). Winner and loser of pair b must have
// been noised with the same ε and the same timestep. Fields an objective does not need may be
// undefined. Float16/bfloat16/float32 inputs are computed in float32, float64 in float64.
struct DiffusionObjectiveInputs {
  // Per-sample denoising MSEs, (B,): mean over (C, H, W) of (ε-prediction − ε)², see
  // diffusionMse. Policy ("model") with grad; reference ones are detached here in any case.
  torch::Tensor mseModelW, mseModelL, mseRefW, mseRefL;
  // Raw ε-predictions and the shared noise, all (B, C, H, W). An undefined MSE above is computed
  // from its prediction and `noise`. The DSPO paths need predModelW, predRefW and noise; if they
  // are given together with mseModelW, that MSE must come from predModelW's graph.
  torch::Tensor predModelW, predModelL, predRefW, predRefL, noise;
  // diffusion-kto on unpaired images: per-image MSEs and labels, (N,). When mseModel is undefined
  // the pairs above are split into N = 2B rows: winners desirable, losers undesirable.
  torch::Tensor mseModel, mseRef; // float
  torch::Tensor desirable;        // bool
  // diffusion-kto: optional 0-dim mean of (mse_ref − mse_model) over the whole global batch
  // (a data-parallel caller all-reduces it); when undefined, this batch's mean is used.
  torch::Tensor ktoRewardMean;
};

using DiffusionObjectiveFn =
    std::function<ObjectiveOutput(const DiffusionObjectiveInputs &, const ObjectiveParams &)>;

// The image loss function registered under `name` ("diffusion-dpo", "dspo", ...); it checks the
// declared parameters before computing. Throws InputError (key "loss_type") for an unknown name.
const DiffusionObjectiveFn &diffusionObjectiveFunction(const std::string &name);

// Per-sample MSE as the released Diffusion-DPO / DSPO code computes it: prediction, noise
// (B, C, H, W) → (B,), mean over (C, H, W), in float32 (float64 stays float64). Keeps the graph.
torch::Tensor diffusionMse(const torch::Tensor &prediction, const torch::Tensor &noise);

// Every loss below returns a 0-dim loss with grad and detached 0-dim metrics: "implicit_acc"
// (strict > 0, so ties count as wrong), "mse/model_w", "mse/model_l", "mse/ref_w", "mse/ref_l"
// (batch means) and the extra ones named per loss. Notation: inside = −0.5·β·[(mse_θ^w − mse_θ^l)
// − (mse_ref^w − mse_ref^l)] (the Diffusion-DPO logit), g = 1 − σ(inside), pred2 = ε_θ^w − ε_ref^w.
// Pure functions, any thread. They read their declared parameters from ObjectiveParams (a missing
// one throws InputError naming it); the registry's function checks their ranges first. A missing
// or misshapen input throws c10::Error naming the field (a caller's bug).

// mean_b softplus(−inside) (algorithms.md §2.1). Extra metric: "inside_term" (mean inside).
ObjectiveOutput diffusionDpoLoss(const DiffusionObjectiveInputs &in, const ObjectiveParams &p);
// DSPO, SD1.5 code path (§1.3): mean_b mean_CHW [(ε_θ^w − ε) − β·g·pred2]². With detachTarget,
// mean_b mean_CHW [ε_θ^w − stopgrad(ε + β·g·pred2)]²: same value, gradient only through the
// residual, so the loser gets none. Extra metrics: "inside_term", "dspo/g" (mean g),
// "dspo/pred_gap" (D = mean_b mse(pred2)).
ObjectiveOutput dspoLoss(const DiffusionObjectiveInputs &in, const ObjectiveParams &p);
// DSPO, SDXL code path (§1.3): D ≥ sdxlGapThreshold ? mean_b mean_CHW (g·pred2)² : mean_b g².
// Chosen per batch without a host sync. detachTarget is rejected: this path has no regression
// target. Extra metrics as dspo plus "dspo/sdxl_branch" (1 when the weighted-gap loss is used).
ObjectiveOutput dspoSdxlPathLoss(const DiffusionObjectiveInputs &in, const ObjectiveParams &p);
// Winner-only denoising loss mean_b mse_θ^w (§2.5). Needs only the winner's policy MSE; the
// other MSEs and implicit_acc (β-free sign of inside) are reported when all are available.
ObjectiveOutput diffusionSftLoss(const DiffusionObjectiveInputs &in, const ObjectiveParams &p);
// Diffusion-KTO, "sigmoid" HALO, bce_offset "none" (§2.6): r = mse_ref − mse_θ per image,
// z = max(0, mean r) detached (or ktoRewardMean), loss = mean λ_y·(1 − σ(s·β·(r − z))), s = ±1
// for desirable/undesirable. "implicit_acc" is the share with s·β·(r − z) > 0; "mse/*_w" average
// the desirable rows and "mse/*_l" the undesirable ones (0 for an empty group). Extra: "kl" (z).
ObjectiveOutput diffusionKtoLoss(const DiffusionObjectiveInputs &in, const ObjectiveParams &p);

} // namespace preflab::core
