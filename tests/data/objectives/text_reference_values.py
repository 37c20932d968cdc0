#!/usr/bin/python3
"""Computes PrefLab objective losses and metrics with Python PyTorch for tst_objective_contract.

Writes <objective>.json next to this file, one per objective: a seeded batch of 4 pairs (plus an unpaired
batch for KTO and reward-head outputs for the reward model), and for each objective the
expected loss and metrics, computed in float64 straight from the formulas, independently of
the C++ code. Run with Debian's interpreter (python3-torch): /usr/bin/python3 text_reference_values.py
"""

import json
import math
import os

import torch
import torch.nn.functional as F

BATCH = 4
SEED = 20240607


def rounded(t, places=4):
    return torch.round(t * 10**places) / 10**places


def make_pairwise(gen):
    lens_c = torch.randint(5, 61, (BATCH,), generator=gen).double()
    lens_r = torch.randint(5, 61, (BATCH,), generator=gen).double()
    mean_c = -0.3 - 2.2 * torch.rand(BATCH, generator=gen, dtype=torch.float64)
    mean_r = -0.3 - 2.2 * torch.rand(BATCH, generator=gen, dtype=torch.float64)
    pol_c = rounded(mean_c * lens_c)
    pol_r = rounded(mean_r * lens_r)
    ref_c = rounded(pol_c + 2.0 * torch.randn(BATCH, generator=gen, dtype=torch.float64))
    ref_r = rounded(pol_r + 2.0 * torch.randn(BATCH, generator=gen, dtype=torch.float64))
    return {
        "policy_chosen": pol_c, "policy_rejected": pol_r,
        "policy_chosen_mean": pol_c / lens_c, "policy_rejected_mean": pol_r / lens_r,
        "ref_chosen": ref_c, "ref_rejected": ref_r,
        "len_chosen": lens_c, "len_rejected": lens_r,
    }


def make_unpaired(gen):
    policy = rounded(-20.0 - 30.0 * torch.rand(BATCH, generator=gen, dtype=torch.float64))
    ref = rounded(policy + 1.5 * torch.randn(BATCH, generator=gen, dtype=torch.float64))
    kl_ref = rounded(-20.0 - 30.0 * torch.rand(BATCH, generator=gen, dtype=torch.float64))
    # Mismatched pairs drift above the reference on average, so z > 0 and is not clamped.
    kl_policy = rounded(kl_ref + 0.8 + torch.randn(BATCH, generator=gen, dtype=torch.float64))
    return {
        "policy_completion": policy, "ref_completion": ref,
        "desirable": torch.tensor([True, False, False, True]),
        "kl_policy": kl_policy, "kl_ref": kl_ref,
    }


def make_reward(gen):
    return {
        "reward_chosen": rounded(torch.randn(BATCH, generator=gen, dtype=torch.float64)),
        "reward_rejected": rounded(torch.randn(BATCH, generator=gen, dtype=torch.float64)),
    }


def pair_metrics(p, reward_c, reward_r, logps_as_means=False):
    side = "_mean" if logps_as_means else ""
    return {
        "rewards/chosen": reward_c.mean(), "rewards/rejected": reward_r.mean(),
        "rewards/margins": (reward_c - reward_r).mean(),
        "rewards/accuracies": (reward_c > reward_r).double().mean(),
        "logps/chosen": p["policy_chosen" + side].mean(),
        "logps/rejected": p["policy_rejected" + side].mean(),
        "ranking/accuracy": (p["policy_chosen"] >= p["policy_rejected"]).double().mean(),
        "ranking/accuracy_len_norm":
            (p["policy_chosen_mean"] >= p["policy_rejected_mean"]).double().mean(),
    }


def dpo_like(p, params, kind):
    beta, eps = params["beta"], params.get("label_smoothing", 0.0)
    ratio_c = p["policy_chosen"] - p["ref_chosen"]
    ratio_r = p["policy_rejected"] - p["ref_rejected"]
    if kind == "ipo":  # TRL: per-token log-ratios
        ratio_c, ratio_r = ratio_c / p["len_chosen"], ratio_r / p["len_rejected"]
    h = ratio_c - ratio_r
    if kind == "ipo":
        losses = (h - 1.0 / (2.0 * beta)) ** 2
    elif kind == "robust":
        losses = ((1 - eps) * -F.logsigmoid(beta * h) + eps * F.logsigmoid(-beta * h))
        losses = losses / (1 - 2 * eps)
    elif kind == "hinge":
        losses = torch.relu(1.0 - beta * h)
    elif kind == "rdpo":
        lens = p["len_chosen"] - p["len_rejected"]
        losses = -F.logsigmoid(beta * h + params["rdpo_alpha"] * lens)
    else:  # dpo, cdpo
        losses = -(1 - eps) * F.logsigmoid(beta * h) - eps * F.logsigmoid(-beta * h)
    out = {"loss": losses.mean()}
    out.update(pair_metrics(p, beta * ratio_c, beta * ratio_r))
    return out


def log1mexp(a):
    return torch.where(a > -math.log(2.0), torch.log(-torch.expm1(a)), torch.log1p(-torch.exp(a)))


def reference_free(p, params, kind):
    mc, mr = p["policy_chosen_mean"], p["policy_rejected_mean"]
    beta = params.get("beta", 0.0)
    if kind == "simper":
        out = {"loss": (-torch.exp(mc) + torch.exp(mr)).mean()}
        out.update(pair_metrics(p, mc, mr, True))
        return out
    if kind == "simpo":
        losses = -F.logsigmoid(beta * (mc - mr) - beta * params["gamma_beta_ratio"])
        out = {"loss": losses.mean()}
        out.update(pair_metrics(p, beta * mc, beta * mr, True))
        return out
    diff = (mc - log1mexp(mc)) - (mr - log1mexp(mr))  # orpo
    nll = -mc.mean()
    ratio = F.logsigmoid(diff)
    out = {"loss": nll - beta * ratio.mean(), "nll_loss": nll,
           "log_odds_ratio": ratio.mean(), "log_odds_chosen": diff.mean()}
    out.update(pair_metrics(p, beta * mc, beta * mr, True))
    return out


def kto(u, params, use_kl):
    beta = params["beta"]
    r = u["policy_completion"] - u["ref_completion"]
    z = torch.clamp((u["kl_policy"] - u["kl_ref"]).mean(), min=0) if use_kl else torch.tensor(0.0)
    d = u["desirable"]
    per_row = torch.where(d, params["desirable_weight"] * (1 - torch.sigmoid(beta * (r - z))),
                          params["undesirable_weight"] * (1 - torch.sigmoid(beta * (z - r))))
    rw, rl = (beta * r)[d].mean(), (beta * r)[~d].mean()
    return {"loss": per_row.mean(), "kl": z, "rewards/chosen": rw, "rewards/rejected": rl,
            "rewards/margins": rw - rl, "logps/chosen": u["policy_completion"][d].mean(),
            "logps/rejected": u["policy_completion"][~d].mean()}


def reward_model(rm, params):
    rw, rl = rm["reward_chosen"], rm["reward_rejected"]
    loss = -F.logsigmoid(rw - rl - params["reward_margin"]).mean()
    loss = loss + params["center_rewards_coefficient"] * ((rw + rl) ** 2).mean()
    return {"loss": loss, "rewards/chosen": rw.mean(), "rewards/rejected": rl.mean(),
            "rewards/margins": (rw - rl).mean(),
            "rewards/accuracies": (rw > rl).double().mean()}


def sft(p):
    return {"loss": -p["policy_chosen"].sum() / p["len_chosen"].sum(),
            "logps/chosen": p["policy_chosen"].mean()}


CASES = [
    # (case name, loss_type, input set, params)
    ("sft", "sft", "pairwise", {}),
    ("dpo", "dpo", "pairwise", {"beta": 0.1}),
    ("dpo_label_smoothing", "dpo", "pairwise", {"beta": 0.3, "label_smoothing": 0.15}),
    ("ipo", "ipo", "pairwise", {"beta": 0.1}),
    ("cdpo", "cdpo", "pairwise", {"beta": 0.1, "label_smoothing": 0.2}),
    ("robust", "robust", "pairwise", {"beta": 0.1, "label_smoothing": 0.1}),
    ("hinge", "hinge", "pairwise", {"beta": 0.2}),
    ("simpo", "simpo", "pairwise", {"beta": 2.5, "gamma_beta_ratio": 0.55}),
    ("simper", "simper", "pairwise", {}),
    ("orpo", "orpo", "pairwise", {"beta": 0.1}),
    ("rdpo", "rdpo", "pairwise", {"beta": 0.1, "rdpo_alpha": 0.01}),
    ("kto", "kto", "unpaired", {"beta": 0.1, "desirable_weight": 1.0, "undesirable_weight": 1.33}),
    ("kto_without_kl_batch", "kto", "unpaired_no_kl",
     {"beta": 0.5, "desirable_weight": 1.2, "undesirable_weight": 1.0}),
    ("reward", "reward", "reward", {"reward_margin": 0.0, "center_rewards_coefficient": 0.0}),
    ("reward_margin_centering", "reward", "reward",
     {"reward_margin": 0.5, "center_rewards_coefficient": 0.01}),
]


# The data each input set reads ("unpaired_no_kl" is the unpaired data without its KL batch).
INPUT_DATA = {"pairwise": "pairwise", "unpaired": "unpaired", "unpaired_no_kl": "unpaired", "reward": "reward"}


def expected_for(loss_type, input_set, params, data):
    if loss_type == "sft":
        return sft(data["pairwise"])
    if loss_type in ("dpo", "ipo", "cdpo", "robust", "hinge", "rdpo"):
        return dpo_like(data["pairwise"], params, loss_type)
    if loss_type in ("simpo", "simper", "orpo"):
        return reference_free(data["pairwise"], params, loss_type)
    if loss_type == "kto":
        return kto(data["unpaired"], params, input_set == "unpaired")
    return reward_model(data["reward"], params)


def as_list(t):
    if t.dtype == torch.bool:
        return [bool(v) for v in t.tolist()]
    return [float(v) for v in t.tolist()]


def main():
    gen = torch.Generator().manual_seed(SEED)
    data = {"pairwise": make_pairwise(gen), "unpaired": make_unpaired(gen),
            "reward": make_reward(gen)}
    cases = []
    for name, loss_type, input_set, params in CASES:
        expected = expected_for(loss_type, input_set, params, data)
        cases.append({"name": name, "loss_type": loss_type, "inputs": input_set, "params": params,
                      "expected": {k: float(v) for k, v in expected.items()}})
    folder = os.path.dirname(os.path.abspath(__file__))
    for loss_type in dict.fromkeys(c["loss_type"] for c in cases):
        own = [c for c in cases if c["loss_type"] == loss_type]
        used = dict.fromkeys(INPUT_DATA[c["inputs"]] for c in own)
        out = {
            "generator": "tests/data/objectives/text_reference_values.py (float64); do not edit by hand",
            "torch_version": torch.__version__,
            "objective": loss_type,
            "modality": "text",
            "seed": SEED,
            "inputs": {key: {k: as_list(v) for k, v in data[key].items()} for key in used},
            "cases": own,
        }
        path = os.path.join(folder, loss_type + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        print(f"wrote {len(own)} cases to {path}")


if __name__ == "__main__":
    main()
