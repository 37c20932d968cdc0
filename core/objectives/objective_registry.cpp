// The objective registry: names → loss functions and their torch-free descriptions.
#include "core/io/input_error.h"
#include "core/objectives/dpo_family.h"
#include "core/objectives/kto.h"
#include "core/objectives/objective.h"
#include "core/objectives/objective_info.h"
#include "core/objectives/reference_free.h"
#include "core/objectives/registry_lookup.h"
#include "core/objectives/reward_model.h"
#include "core/objectives/sft.h"

#include <vector>

namespace preflab::core {

namespace {

struct Entry {
  ObjectiveInfo info;
  ObjectiveFn fn;
};

ObjectiveInfo makeInfo(std::string name, std::string title, ObjectiveKind kind, bool needsReference,
                       bool usesMeanLogp, double beta, double low, double high, std::string betaMeaning,
                       std::string summary) {
  ObjectiveInfo i;
  i.name = std::move(name);
  i.title = std::move(title);
  i.kind = kind;
  i.needsReference = needsReference;
  i.usesMeanLogp = usesMeanLogp;
  i.defaultBeta = beta;
  i.betaLow = low;
  i.betaHigh = high;
  i.betaMeaning = std::move(betaMeaning);
  i.summary = std::move(summary);
  return i;
}

// Built once, on first use (thread-safe static initialisation), never modified afterwards.
const std::vector<Entry> &entries() {
  using K = ObjectiveKind;
  static const std::vector<Entry> table = {
      {makeInfo("sft", "SFT (chosen-response NLL)", K::Sft, false, false, 0, 0, 0, "unused",
                "Token-level negative log-likelihood of the chosen responses."),
       sftLoss},
      {makeInfo("dpo", "DPO (sigmoid)", K::Pairwise, true, false, 0.1, 0.01, 1.0, "KL strength",
                "Logistic loss on beta times the policy-minus-reference log-ratio margin "
                "(sequence sums); honours label_smoothing like TRL."),
       dpoLoss},
      {makeInfo("ipo", "IPO", K::Pairwise, true, false, 0.1, 0.01, 1.0, "tau (regularisation)",
                "Squared distance of the log-ratio margin from 1/(2 tau); each side's log-ratio "
                "is divided by its token count first, as TRL does."),
       ipoLoss},
      {makeInfo("cdpo", "cDPO (conservative DPO)", K::Pairwise, true, false, 0.1, 0.01, 1.0, "KL strength",
                "DPO's logistic loss mixed with the flipped-label loss by label_smoothing "
                "epsilon in [0, 0.5]."),
       cdpoLoss},
      {makeInfo("robust", "Robust DPO", K::Pairwise, true, false, 0.1, 0.01, 1.0, "KL strength",
                "Unbiased DPO under a label-flip rate epsilon = label_smoothing in [0, 0.5)."),
       robustDpoLoss},
      {makeInfo("hinge", "Hinge (RSO)", K::Pairwise, true, false, 0.1, 0.01, 1.0, "inverse margin",
                "Hinge on beta times the log-ratio margin: zero once it exceeds 1/beta."),
       hingeLoss},
      {makeInfo("simpo", "SimPO", K::Pairwise, false, true, 2.0, 1.0, 10.0, "reward scale",
                "Reference-free logistic loss on beta times the token-mean log-prob margin "
                "minus a target margin gamma (gamma_beta_ratio = gamma/beta)."),
       simpoLoss},
      {makeInfo("simper", "SimPER", K::Pairwise, false, true, 0, 0, 0, "unused",
                "Inverse perplexity of the rejected response minus that of the chosen one; "
                "no hyperparameters, no reference."),
       simperLoss},
      {makeInfo("orpo", "ORPO", K::Pairwise, false, true, 0.1, 0.05, 1.0, "lambda",
                "Chosen-response NLL plus lambda times the logistic loss on the log odds-ratio "
                "of token-mean likelihoods; no reference."),
       orpoLoss},
      {makeInfo("rdpo", "R-DPO (length-regularised)", K::Pairwise, true, false, 0.1, 0.01, 1.0, "KL strength",
                "DPO with rdpo_alpha times the chosen-minus-rejected token count added to the "
                "margin."),
       rdpoLoss},
      {makeInfo("kto", "KTO", K::Unpaired, true, false, 0.1, 0.01, 1.0, "KL strength",
                "Sigmoid value of each completion's log-ratio against a detached batch KL "
                "baseline, weighted per desirable/undesirable class."),
       ktoLoss},
      {makeInfo("reward", "Reward model (Bradley-Terry)", K::Reward, false, false, 0, 0, 0, "unused",
                "Logistic loss on the chosen-minus-rejected reward gap, with optional margin "
                "and reward centring."),
       rewardModelLoss},
  };
  return table;
}

const Entry &entry(const std::string &name) {
  return findRegistryEntry(entries(), name, "objective");
}

} // namespace

const std::vector<ObjectiveInfo> &objectiveInfos() {
  static const std::vector<ObjectiveInfo> infos = registryInfos(entries());
  return infos;
}

const ObjectiveInfo &objectiveInfo(const std::string &name) {
  return entry(name).info;
}

const ObjectiveFn &objectiveFunction(const std::string &name) {
  return entry(name).fn;
}

} // namespace preflab::core
