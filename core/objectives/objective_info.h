// Torch-free description of every registered objective, text and image: what it trains on, the
// inputs it needs and its parameters. Config validation, `train --help`, `preflab-cli objectives`,
// the New run dialog and the trainers' input building all read these declarations.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// What an objective trains: a causal language model, or a diffusion model (text-to-image).
enum class Modality { Text, Image };

// What data an objective trains on.
enum class ObjectiveKind {
  Sft,      // the preferred responses / images only (next-token NLL, denoising MSE)
  Pairwise, // chosen vs rejected (winner vs loser) of the policy, and of the reference if needed
  Unpaired, // desirable / undesirable completions (KTO); paired data is split into both
  Reward    // Bradley–Terry reward model on a scalar head (text)
};

// One hyperparameter as the objective declares it: its config key, default, allowed range and a
// one-line meaning. "beta" is declared like the others (with the usual range diagnostics use).
struct ObjectiveParam {
  std::string key;              // config key, e.g. "label_smoothing"
  double defaultValue = 0.0;    // booleans: 0 (false) or 1 (true)
  double low = 0.0, high = 1e6; // allowed values: low ≤ v ≤ high, strict where open; ±1e6: unbounded
  bool lowOpen = false, highOpen = false;
  bool boolean = false;                   // a true/false switch (low/high 0..1, or 0..0 for "must be off")
  double usualLow = 0.0, usualHigh = 0.0; // the range papers use (beta only; 0, 0: none)
  std::string help;                       // what it means, e.g. "label-flip rate epsilon"
};

struct ObjectiveParams;

// What a closed-form optimum of a pairwise objective depends on, for one pair.
struct PairFacts {
  double raterFraction = 1.0;             // α: the share of raters preferring chosen
  double lenChosen = 1, lenRejected = 1;  // response tokens
};

struct ObjectiveInfo {
  std::string name;  // registry key, e.g. "dpo", "diffusion-dpo"
  std::string title; // human-readable, e.g. "DPO (sigmoid)"
  Modality modality = Modality::Text;
  ObjectiveKind kind = ObjectiveKind::Pairwise;
  // Inputs it needs beyond the policy's own log-probs (text) or denoising errors (image).
  bool needsReference = false;   // the reference model's log-probs / denoising errors
  bool usesMeanLogp = false;     // text: token-mean (true) or sequence-sum (false) log-probs
  bool needsPredictions = false; // image: the winners' raw ε-predictions, not only per-sample MSEs
  // Its loss is a logistic function of a margin that is 0 while the policy equals the reference,
  // so it starts at ln 2 (the diagnostics' "loss flat at ln 2").
  bool startsAtLn2 = false;
  // Its loss and metrics are means of per-row (per-pair) terms, so a batch split into shards and
  // recombined with weights rows_s / rows gives the same values: the text trainer shards such
  // batches over CPU threads. Not for a token-weighted SFT loss or a batch statistic (KTO's baseline, the
  // DSPO SDXL path's branch on the batch's prediction gap).
  bool meanOverRows = false;
  std::string summary;                // one line: the loss in words
  std::vector<ObjectiveParam> params; // "beta" first when the objective has one

  // Text pairwise objectives with a closed-form population optimum: the implicit-reward margin
  // h* = [log π(y_w) − log π_ref(y_w)] − [log π(y_l) − log π_ref(y_l)] that minimises the expected
  // loss when a share α of raters prefers y_w (DPO: σ(βh*) = α). Unset where there is none (hinge's
  // zero-loss set is a half-line; KTO, SimPO, SimPER, ORPO, SFT and reward models have no
  // reference to be an optimum relative to). The "at this run's β" metrics use it.
  std::function<double(const ObjectiveParams &, const PairFacts &)> optimalMargin;
  bool marginOnTokenMeans = false; // h is formed from per-token log-ratios (IPO as TRL computes it)
  // One pair's loss as a function of h, set only where that function is non-increasing, so that
  // "loss below its value at the margin where the policy ranks the pair level" means "ranked
  // correctly": the per-pair difficulty. Empty for parameter values that make it non-monotone.
  std::function<std::optional<double>(const ObjectiveParams &, double margin, const PairFacts &)> marginLoss;

  // The parameter `key`, or null when this objective has none of that name.
  const ObjectiveParam *param(const std::string &key) const;
  // β on this objective's own scale: default, usual range, meaning (0, 0, 0, "unused" without β).
  double defaultBeta() const;
  double betaLow() const;
  double betaHigh() const;
  std::string betaMeaning() const;
};

// Values of an objective's parameters by key ("beta", "label_smoothing", ...). Booleans are 0/1.
struct ObjectiveParams {
  std::map<std::string, double> values;

  // The value of `key`; throws InputError (key) when it is not set.
  double get(const std::string &key) const;
  bool flag(const std::string &key) const { return get(key) != 0.0; }
  double beta() const { return get("beta"); }
  ObjectiveParams &set(const std::string &key, double value) {
    values[key] = value;
    return *this;
  }
};

// Every registered objective of both modalities, in a stable order (text first). Any thread.
const std::vector<ObjectiveInfo> &objectiveInfos();
// The objectives of one modality, in registry order.
std::vector<ObjectiveInfo> objectiveInfos(Modality modality);
// The objective `name` of either modality, or null.
const ObjectiveInfo *findObjectiveInfo(const std::string &name);
// The objective `name` of `modality`; throws InputError (key "loss_type") naming the known
// objectives of that modality when there is none.
const ObjectiveInfo &objectiveInfo(const std::string &name, Modality modality = Modality::Text);

// The declared defaults of `info`'s parameters.
ObjectiveParams defaultObjectiveParams(const ObjectiveInfo &info);
// `info`'s parameters as a run config sets them: beta (when declared; 0 or less: its default) and
// each other declared key from `values` (its default when absent).
ObjectiveParams objectiveParamsFrom(const ObjectiveInfo &info, double beta,
                                    const std::map<std::string, double> &values);
// Throws InputError naming the key, the value and the allowed range for a declared parameter of
// `info` that is missing or out of range in `params`. Keys `info` does not declare are ignored.
void checkObjectiveParams(const ObjectiveInfo &info, const ObjectiveParams &params);
// "(0, 1e+06]" or "true or false": the allowed values of `param`, as the errors and help print them.
std::string allowedRange(const ObjectiveParam &param);

// The parameters (other than beta) the objectives of `modality` declare, one per key in registry
// order, with the names of the objectives that use each: the config keys they become.
struct ObjectiveParamKey {
  ObjectiveParam param;           // as first declared
  std::vector<std::string> users; // objective names
};
std::vector<ObjectiveParamKey> objectiveParamKeys(Modality modality);
// The defaults of objectiveParamKeys(modality), by key.
std::map<std::string, double> objectiveParamDefaults(Modality modality);

} // namespace preflab::core
