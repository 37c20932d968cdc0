// Image-side preference losses on per-sample denoising MSEs and ε-predictions.
#include "core/objectives/diffusion_objectives.h"

#include "core/objectives/dpo_family.h"
#include "core/objectives/objective_definition.h"

namespace preflab::core {

namespace {

// Large β (Diffusion-DPO uses thousands) times small MSE gaps: never below float32.
torch::Tensor lossPrecision(const torch::Tensor &t) {
  return t.scalar_type() == torch::kFloat64 ? t : t.to(torch::kFloat32);
}

torch::Tensor batchMse(const torch::Tensor &x) { // (B, ...) → (B,), mean over all but dim 0
  return x.pow(2).flatten(1).mean(1);
}

void checkPrediction(const torch::Tensor &t, const char *field, const std::string &objective,
                     const torch::Tensor &noise) {
  TORCH_CHECK(t.dim() == 4, "objective '", objective, "': input ", field, " must be (B, C, H, W), got ",
              t.dim(), " dimensions");
  TORCH_CHECK(noise.defined(), "objective '", objective, "' needs input noise with ", field);
  TORCH_CHECK(t.sizes() == noise.sizes(), "objective '", objective, "': input ", field, " has shape ",
              t.sizes(), " but noise has ", noise.sizes());
}

// An MSE field as given, or computed from its prediction; (B,). Reference MSEs are detached.
torch::Tensor resolveMse(const torch::Tensor &mse, const torch::Tensor &pred, const torch::Tensor &noise,
                         const char *mseField, const char *predField, const std::string &objective,
                         bool reference) {
  torch::Tensor out;
  if (mse.defined()) {
    TORCH_CHECK(mse.dim() == 1, "objective '", objective, "': input ", mseField,
                " must be one-dimensional (B,), got ", mse.dim(), " dimensions");
    out = lossPrecision(mse);
  } else {
    TORCH_CHECK(pred.defined(), "objective '", objective, "' needs input ", mseField, " or ", predField,
                " with noise");
    checkPrediction(pred, predField, objective, noise);
    out = diffusionMse(pred, noise);
  }
  return reference ? out.detach() : out;
}

bool canResolve(const torch::Tensor &mse, const torch::Tensor &pred, const torch::Tensor &noise) {
  return mse.defined() || (pred.defined() && noise.defined());
}

struct PairMse {
  torch::Tensor modelW, modelL, refW, refL; // (B,)
};

PairMse pairMse(const DiffusionObjectiveInputs &in, const std::string &objective) {
  PairMse m;
  m.modelW = resolveMse(in.mseModelW, in.predModelW, in.noise, "mseModelW", "predModelW", objective, false);
  m.modelL = resolveMse(in.mseModelL, in.predModelL, in.noise, "mseModelL", "predModelL", objective, false);
  m.refW = resolveMse(in.mseRefW, in.predRefW, in.noise, "mseRefW", "predRefW", objective, true);
  m.refL = resolveMse(in.mseRefL, in.predRefL, in.noise, "mseRefL", "predRefL", objective, true);
  const auto b = m.modelW.sizes();
  TORCH_CHECK(m.modelW.numel() > 0, "objective '", objective, "': empty batch");
  TORCH_CHECK(m.modelL.sizes() == b && m.refW.sizes() == b && m.refL.sizes() == b, "objective '", objective,
              "': per-sample MSEs differ in batch size (model_w ", b, ", model_l ", m.modelL.sizes(),
              ", ref_w ", m.refW.sizes(), ", ref_l ", m.refL.sizes(), ")");
  return m;
}

// The Diffusion-DPO logit −0.5·β·[(mse_θ^w − mse_θ^l) − (mse_ref^w − mse_ref^l)], (B,).
torch::Tensor insideTerm(const PairMse &m, double beta) {
  return -0.5 * beta * ((m.modelW - m.modelL) - (m.refW - m.refL));
}

torch::Tensor strictShare(const torch::Tensor &x) { // share of rows with x > 0; ties are wrong
  return (x > 0).to(x.scalar_type()).mean().detach();
}

void addMseMetrics(ObjectiveOutput &out, const PairMse &m) {
  out.metrics["mse/model_w"] = m.modelW.detach().mean();
  out.metrics["mse/model_l"] = m.modelL.detach().mean();
  out.metrics["mse/ref_w"] = m.refW.detach().mean();
  out.metrics["mse/ref_l"] = m.refL.detach().mean();
}

// What both DSPO paths share: the pair MSEs, g and the winners' policy-minus-reference gap.
struct DspoTerms {
  PairMse mse;
  torch::Tensor inside, g;     // (B,)
  torch::Tensor modelW, noise; // (B, C, H, W)
  torch::Tensor pred2;         // ε_θ^w − ε_ref^w, (B, C, H, W)
  torch::Tensor gap;           // D = mean_b mse(pred2), 0-dim, detached
};

DspoTerms dspoTerms(const DiffusionObjectiveInputs &in, double beta, const std::string &objective) {
  DspoTerms t;
  t.mse = pairMse(in, objective);
  TORCH_CHECK(in.predModelW.defined() && in.predRefW.defined(), "objective '", objective,
              "' needs inputs predModelW and predRefW (B, C, H, W) with noise");
  checkPrediction(in.predModelW, "predModelW", objective, in.noise);
  checkPrediction(in.predRefW, "predRefW", objective, in.noise);
  TORCH_CHECK(in.noise.size(0) == t.mse.modelW.size(0), "objective '", objective, "': predictions hold ",
              in.noise.size(0), " samples but the MSEs ", t.mse.modelW.size(0));
  t.modelW = lossPrecision(in.predModelW);
  t.noise = lossPrecision(in.noise);
  t.pred2 = t.modelW - lossPrecision(in.predRefW).detach();
  t.inside = insideTerm(t.mse, beta);
  t.g = 1.0 - torch::sigmoid(t.inside);
  t.gap = batchMse(t.pred2.detach()).mean();
  return t;
}

void addDspoMetrics(ObjectiveOutput &out, const DspoTerms &t) {
  out.metrics["implicit_acc"] = strictShare(t.inside);
  out.metrics["inside_term"] = t.inside.detach().mean();
  out.metrics["dspo/g"] = t.g.detach().mean();
  out.metrics["dspo/pred_gap"] = t.gap;
  addMseMetrics(out, t.mse);
}

torch::Tensor groupMean(const torch::Tensor &values, const torch::Tensor &mask) {
  const torch::Tensor m = mask.to(values.scalar_type());
  return (values.detach() * m).sum() / m.sum().clamp_min(1.0);
}

// KTO rows: per-image MSEs and labels, (N,); pairs are split into desirable winners and
// undesirable losers.
struct KtoRows {
  torch::Tensor model, ref, desirable;
};

KtoRows ktoRows(const DiffusionObjectiveInputs &in, const std::string &objective) {
  KtoRows r;
  if (!in.mseModel.defined()) {
    const PairMse m = pairMse(in, objective);
    r.model = torch::cat({m.modelW, m.modelL});
    r.ref = torch::cat({m.refW, m.refL});
    const auto flag = torch::TensorOptions(torch::kBool).device(r.model.device());
    const int64_t b = m.modelW.size(0);
    r.desirable = torch::cat({torch::ones({b}, flag), torch::zeros({b}, flag)});
    return r;
  }
  TORCH_CHECK(in.mseRef.defined(), "objective '", objective, "' needs input mseRef (N,) with mseModel");
  r.model = resolveMse(in.mseModel, {}, {}, "mseModel", "", objective, false);
  r.ref = resolveMse(in.mseRef, {}, {}, "mseRef", "", objective, true);
  TORCH_CHECK(in.desirable.defined(), "objective '", objective,
              "' needs input desirable (N,) bool with mseModel");
  TORCH_CHECK(r.model.numel() > 0, "objective '", objective, "': empty batch");
  TORCH_CHECK(r.ref.sizes() == r.model.sizes() && in.desirable.sizes() == r.model.sizes(), "objective '",
              objective, "': mseModel ", r.model.sizes(), ", mseRef ", r.ref.sizes(), " and desirable ",
              in.desirable.sizes(), " must have the same shape (N,)");
  r.desirable = in.desirable.to(torch::kBool);
  return r;
}

// z = max(0, mean r), detached; r = mse_ref − mse_model over this batch or the caller's global mean.
torch::Tensor ktoReferencePoint(const DiffusionObjectiveInputs &in, const torch::Tensor &reward,
                                const std::string &objective) {
  if (!in.ktoRewardMean.defined())
    return reward.mean().clamp_min(0.0).detach();
  TORCH_CHECK(in.ktoRewardMean.numel() == 1, "objective '", objective,
              "': input ktoRewardMean must hold one value, got ", in.ktoRewardMean.numel());
  return lossPrecision(in.ktoRewardMean).reshape({}).clamp_min(0.0).detach();
}

} // namespace

torch::Tensor diffusionMse(const torch::Tensor &prediction, const torch::Tensor &noise) {
  TORCH_CHECK(prediction.dim() == 4 && prediction.sizes() == noise.sizes(),
              "diffusionMse needs prediction and noise of the same shape (B, C, H, W), got ",
              prediction.sizes(), " and ", noise.sizes());
  return batchMse(lossPrecision(prediction) - lossPrecision(noise));
}

ObjectiveOutput diffusionDpoLoss(const DiffusionObjectiveInputs &in, const ObjectiveParams &p) {
  const std::string name = "diffusion-dpo";
  const PairMse m = pairMse(in, name);
  const torch::Tensor inside = insideTerm(m, p.beta());
  ObjectiveOutput out;
  out.loss = torch::softplus(-inside).mean(); // −log σ(inside), stable for large |inside|
  out.metrics["implicit_acc"] = strictShare(inside);
  out.metrics["inside_term"] = inside.detach().mean();
  addMseMetrics(out, m);
  return out;
}

ObjectiveOutput dspoLoss(const DiffusionObjectiveInputs &in, const ObjectiveParams &p) {
  const std::string name = "dspo";
  const DspoTerms t = dspoTerms(in, p.beta(), name);
  const torch::Tensor shift = p.beta() * t.g.view({-1, 1, 1, 1}) * t.pred2; // β·g·pred2
  ObjectiveOutput out;
  if (p.flag("detach_target")) // regress onto a fixed ε* = ε + β·g·pred2, as a score-matching target
    out.loss = batchMse(t.modelW - (t.noise + shift).detach()).mean();
  else // the released code: gradient through the residual, pred2 and g
    out.loss = batchMse((t.modelW - t.noise) - shift).mean();
  addDspoMetrics(out, t);
  return out;
}

ObjectiveOutput dspoSdxlPathLoss(const DiffusionObjectiveInputs &in, const ObjectiveParams &p) {
  const std::string name = "dspo-sdxl-path";
  const DspoTerms t = dspoTerms(in, p.beta(), name);
  const torch::Tensor weightedGap = batchMse(t.g.view({-1, 1, 1, 1}) * t.pred2).mean();
  const torch::Tensor weightOnly = t.g.pow(2).mean();
  // A tensor condition instead of the code's Python `if`: no host sync, same value and gradient.
  const torch::Tensor useGap = t.gap >= p.get("sdxl_gap_threshold");
  ObjectiveOutput out;
  out.loss = torch::where(useGap, weightedGap, weightOnly);
  addDspoMetrics(out, t);
  out.metrics["dspo/sdxl_branch"] = useGap.to(weightOnly.scalar_type());
  return out;
}

ObjectiveOutput diffusionSftLoss(const DiffusionObjectiveInputs &in, const ObjectiveParams &) {
  const std::string name = "diffusion-sft";
  const torch::Tensor modelW =
      resolveMse(in.mseModelW, in.predModelW, in.noise, "mseModelW", "predModelW", name, false);
  TORCH_CHECK(modelW.numel() > 0, "objective '", name, "': empty batch");
  ObjectiveOutput out;
  out.loss = modelW.mean();
  out.metrics["mse/model_w"] = modelW.detach().mean();
  if (canResolve(in.mseModelL, in.predModelL, in.noise) && canResolve(in.mseRefW, in.predRefW, in.noise) &&
      canResolve(in.mseRefL, in.predRefL, in.noise)) {
    const PairMse m = pairMse(in, name);
    out.metrics["implicit_acc"] = strictShare(insideTerm(m, 1.0));
    addMseMetrics(out, m);
  }
  return out;
}

ObjectiveOutput diffusionKtoLoss(const DiffusionObjectiveInputs &in, const ObjectiveParams &p) {
  const std::string name = "diffusion-kto";
  const KtoRows rows = ktoRows(in, name);
  const torch::Tensor reward = rows.ref - rows.model; // (N,), implicit reward per image
  const torch::Tensor z = ktoReferencePoint(in, reward, name);
  const torch::Tensor gap = p.beta() * (reward - z);
  const torch::Tensor signedGap = torch::where(rows.desirable, gap, -gap);
  const torch::Tensor weights =
      torch::where(rows.desirable, torch::full_like(reward, p.get("desirable_weight")),
                   torch::full_like(reward, p.get("undesirable_weight")));
  ObjectiveOutput out;
  out.loss = (weights * (1.0 - torch::sigmoid(signedGap))).mean();
  const torch::Tensor undesirable = rows.desirable.logical_not();
  out.metrics["implicit_acc"] = strictShare(signedGap);
  out.metrics["kl"] = z;
  out.metrics["mse/model_w"] = groupMean(rows.model, rows.desirable);
  out.metrics["mse/model_l"] = groupMean(rows.model, undesirable);
  out.metrics["mse/ref_w"] = groupMean(rows.ref, rows.desirable);
  out.metrics["mse/ref_l"] = groupMean(rows.ref, undesirable);
  return out;
}

// ---- Declarations (registered in objective_list.h); defaults are the released launchers' values
// (algorithms.md §1.4, §2.2, §2.6). ----

namespace {

ObjectiveDefinition diffusionObjectiveDefinition(std::string name, std::string title, ObjectiveKind kind,
                                                 bool needsReference, std::string summary,
                                                 DiffusionObjectiveFn fn) {
  ObjectiveDefinition d;
  d.info.name = std::move(name);
  d.info.title = std::move(title);
  d.info.modality = Modality::Image;
  d.info.kind = kind;
  d.info.needsReference = needsReference;
  d.info.summary = std::move(summary);
  d.image = std::move(fn);
  return d;
}

} // namespace

ObjectiveDefinition diffusionDpoObjective() {
  ObjectiveDefinition d = diffusionObjectiveDefinition(
      "diffusion-dpo", "Diffusion-DPO", ObjectiveKind::Pairwise, true,
      "Logistic loss on -beta/2 times the policy-minus-reference gap of winner-minus-loser denoising MSEs "
      "(means over C, H, W), as the released code computes it.",
      diffusionDpoLoss);
  d.info.startsAtLn2 = true;
  d.info.meanOverRows = true;
  d.info.params = {betaParam(5000, 2000, 5000, "KL strength on per-pixel MSE gaps", 1e7)};
  return d;
}

ObjectiveDefinition dspoObjective() {
  ObjectiveDefinition d =
      diffusionObjectiveDefinition("dspo", "DSPO (SD1.5 code path)", ObjectiveKind::Pairwise, true,
                                   "Winner denoising loss against the noise shifted by beta*g*(policy - "
                                   "reference winner prediction), g = 1 - "
                                   "sigmoid(Diffusion-DPO logit); detach_target fixes the shifted target.",
                                   dspoLoss);
  d.info.needsPredictions = true;
  d.info.meanOverRows = true;
  d.info.params = {betaParam(0.001, 0.001, 0.05, "reward scale in g and size of the target shift", 1e7),
                   boolParam("detach_target", false, "DSPO: stop the gradient through the shifted target")};
  return d;
}

ObjectiveDefinition dspoSdxlPathObjective() {
  ObjectiveDefinition d = diffusionObjectiveDefinition(
      "dspo-sdxl-path", "DSPO (SDXL code path)", ObjectiveKind::Pairwise, true,
      "Squared policy-minus-reference winner prediction gap weighted by g while its MSE is at least "
      "sdxl_gap_threshold (0.1), else mean g^2; no reconstruction term.",
      dspoSdxlPathLoss);
  d.info.needsPredictions = true;
  d.info.params = {
      betaParam(5000, 1000, 5000, "reward scale in g", 1e7),
      realParam("sdxl_gap_threshold", 0.1, 0.0, 1e6,
                "dspo-sdxl-path: prediction-gap MSE from which the weighted-gap loss is used"),
      boolParam("detach_target", false,
                "must stay false here: this path has no regression target to detach (its loss is "
                "(g*pred2)^2 or g^2)",
                false)};
  return d;
}

ObjectiveDefinition diffusionSftObjective() {
  ObjectiveDefinition d =
      diffusionObjectiveDefinition("diffusion-sft", "Diffusion SFT (winners only)", ObjectiveKind::Sft, false,
                                   "Denoising MSE of the preferred image of each pair.", diffusionSftLoss);
  d.info.meanOverRows = true; // a mean of per-image MSEs, all of one size
  return d;
}

ObjectiveDefinition diffusionKtoObjective() {
  ObjectiveDefinition d =
      diffusionObjectiveDefinition("diffusion-kto", "Diffusion-KTO", ObjectiveKind::Unpaired, true,
                                   "Sigmoid value of each image's reference-minus-policy MSE against a "
                                   "detached, clamped batch mean, signed "
                                   "by its desirable/undesirable label, weighted per class.",
                                   diffusionKtoLoss);
  d.info.params = {
      betaParam(1000, 500, 5000, "KL strength on per-pixel MSE gaps", 1e7),
      realParam("desirable_weight", 1.0, 0.0, 1e6, "KTO weight of desirable samples (lambda_D)"),
      realParam("undesirable_weight", 1.0, 0.0, 1e6, "KTO weight of undesirable samples (lambda_U)")};
  return d;
}

} // namespace preflab::core
