#!/usr/bin/python3
"""Computes PrefLab's image-side objectives with Python PyTorch for tst_objective_contract.

Writes <objective>.json next to this file, one per objective: two seeded sets of tiny ε-predictions, (B, C, H, W)
= (3, 2, 2, 3), one where the policy sits far from the reference (so the DSPO SDXL path takes its
weighted-gap branch) and one where it sits near it (so it takes the g² branch), plus a set of
per-image MSEs for unpaired Diffusion-KTO. For every case it stores the loss, the metrics and the
autograd gradients of the loss with respect to the policy's predictions (or MSEs), all computed in
float64 straight from the formulas in algorithms.md §1.3, §2.1, §2.5 and §2.6, independently of the
C++ code. Run with Debian's interpreter (python3-torch): /usr/bin/python3 image_reference_values.py
"""

import json
import os

import torch
import torch.nn.functional as F

SHAPE = (3, 2, 2, 3)
SEED = 20260418


def per_sample_mse(pred, noise):
    return (pred - noise).pow(2).mean(dim=[1, 2, 3])


def make_predictions(gen, spread):
    """Shared noise, reference predictions, and policy predictions `spread` away from them."""
    def randn():
        return torch.randn(SHAPE, generator=gen, dtype=torch.float64)
    noise = randn()
    ref_w, ref_l = noise + 0.8 * randn(), noise + 0.8 * randn()
    model_w, model_l = ref_w + spread * randn(), ref_l + spread * randn()
    return {"noise": noise, "pred_model_w": model_w, "pred_model_l": model_l,
            "pred_ref_w": ref_w, "pred_ref_l": ref_l}


def mse_metrics(mw, ml, rw, rl):
    return {"mse/model_w": mw.mean(), "mse/model_l": ml.mean(),
            "mse/ref_w": rw.mean(), "mse/ref_l": rl.mean()}


def pair_terms(p, beta):
    mw = per_sample_mse(p["pred_model_w"], p["noise"])
    ml = per_sample_mse(p["pred_model_l"], p["noise"])
    rw = per_sample_mse(p["pred_ref_w"], p["noise"])
    rl = per_sample_mse(p["pred_ref_l"], p["noise"])
    inside = -0.5 * beta * ((mw - ml) - (rw - rl))
    return mw, ml, rw, rl, inside


def diffusion_dpo(p, params):
    mw, ml, rw, rl, inside = pair_terms(p, params["beta"])
    out = {"loss": F.softplus(-inside).mean(), "implicit_acc": (inside > 0).double().mean(),
           "inside_term": inside.mean()}
    out.update(mse_metrics(mw, ml, rw, rl))
    return out


def dspo(p, params, sdxl):
    beta = params["beta"]
    mw, ml, rw, rl, inside = pair_terms(p, beta)
    g = (1 - torch.sigmoid(inside))[:, None, None, None]
    pred2 = p["pred_model_w"] - p["pred_ref_w"]
    gap = pred2.pow(2).mean(dim=[1, 2, 3]).mean()
    out = {"implicit_acc": (inside > 0).double().mean(), "inside_term": inside.mean(),
           "dspo/g": g.mean(), "dspo/pred_gap": gap}
    if sdxl:
        use_gap = bool(gap >= params["sdxl_gap_threshold"])
        if use_gap:
            out["loss"] = (g * pred2).pow(2).mean(dim=[1, 2, 3]).mean()
        else:
            out["loss"] = g.pow(2).mean(dim=[1, 2, 3]).mean()
        out["dspo/sdxl_branch"] = torch.tensor(1.0 if use_gap else 0.0, dtype=torch.float64)
    else:
        residual = p["pred_model_w"] - p["noise"]
        if params["detach_target"]:
            target = (p["noise"] + beta * g * pred2).detach()
            out["loss"] = (p["pred_model_w"] - target).pow(2).mean(dim=[1, 2, 3]).mean()
        else:
            out["loss"] = (residual - beta * g * pred2).pow(2).mean(dim=[1, 2, 3]).mean()
    out.update(mse_metrics(mw, ml, rw, rl))
    return out


def diffusion_sft(p, params):
    mw, ml, rw, rl, inside = pair_terms(p, 1.0)
    out = {"loss": mw.mean(), "implicit_acc": (inside > 0).double().mean()}
    out.update(mse_metrics(mw, ml, rw, rl))
    return out


def kto_rows(mse_model, mse_ref, desirable, params):
    beta = params["beta"]
    g = -mse_model + mse_ref
    z = g.mean().clamp(min=0).detach()
    sgn = 2 * desirable.double() - 1
    scaled = sgn * beta * (g - z)
    weights = torch.where(desirable, torch.full_like(g, params["desirable_weight"]),
                          torch.full_like(g, params["undesirable_weight"]))
    d, u = desirable, ~desirable
    return {"loss": (weights * (1 - torch.sigmoid(scaled))).mean(),
            "implicit_acc": (scaled > 0).double().mean(), "kl": z,
            "mse/model_w": mse_model[d].mean(), "mse/model_l": mse_model[u].mean(),
            "mse/ref_w": mse_ref[d].mean(), "mse/ref_l": mse_ref[u].mean()}


def diffusion_kto_pairs(p, params):
    mw, ml, rw, rl, _ = pair_terms(p, 1.0)
    desirable = torch.tensor([True] * SHAPE[0] + [False] * SHAPE[0])
    return kto_rows(torch.cat([mw, ml]), torch.cat([rw, rl]), desirable, params)


UNPAIRED = {
    # Policy slightly better than the reference on average, so the reference point is positive.
    "mse_model": torch.tensor([0.0950, 0.1130, 0.1012, 0.0890], dtype=torch.float64),
    "mse_ref": torch.tensor([0.1000, 0.1100, 0.1010, 0.0930], dtype=torch.float64),
    "desirable": torch.tensor([True, False, True, False]),
}
# Policy worse than the reference on average: the reference point clamps to 0.
UNPAIRED_WORSE = {
    "mse_model": torch.tensor([0.1050, 0.1130, 0.1012], dtype=torch.float64),
    "mse_ref": torch.tensor([0.1000, 0.1100, 0.1010], dtype=torch.float64),
    "desirable": torch.tensor([True, False, False]),
}

CASES = [
    # (case name, objective, input set, params)
    ("dpo near beta 20", "diffusion-dpo", "near", {"beta": 20.0}),
    ("dpo far beta 2", "diffusion-dpo", "far", {"beta": 2.0}),
    ("dspo sd15 launcher beta", "dspo", "far", {"beta": 0.001, "detach_target": False}),
    ("dspo sd15 beta 0.5", "dspo", "far", {"beta": 0.5, "detach_target": False}),
    ("dspo sd15 beta 0.5 detached", "dspo", "far", {"beta": 0.5, "detach_target": True}),
    ("dspo sd15 near beta 3", "dspo", "near", {"beta": 3.0, "detach_target": False}),
    ("dspo sdxl gap branch", "dspo-sdxl-path", "far", {"beta": 5.0, "sdxl_gap_threshold": 0.1}),
    ("dspo sdxl g2 branch", "dspo-sdxl-path", "near", {"beta": 5.0, "sdxl_gap_threshold": 0.1}),
    ("dspo sdxl threshold 0.5", "dspo-sdxl-path", "far", {"beta": 5.0, "sdxl_gap_threshold": 0.5}),
    ("sft", "diffusion-sft", "far", {}),
    ("kto pairs", "diffusion-kto", "near", {"beta": 10.0, "desirable_weight": 1.0,
                                             "undesirable_weight": 1.0}),
    ("kto unpaired", "diffusion-kto", "unpaired", {"beta": 50.0, "desirable_weight": 1.0,
                                                   "undesirable_weight": 1.5}),
    ("kto unpaired clamped", "diffusion-kto", "unpaired_worse",
     {"beta": 50.0, "desirable_weight": 1.0, "undesirable_weight": 1.0}),
]


def with_grad(data):
    """A copy of an input set whose policy tensors require grad."""
    out = {k: v.clone() for k, v in data.items()}
    for key in ("pred_model_w", "pred_model_l", "mse_model"):
        if key in out:
            out[key].requires_grad_(True)
    return out


def run_case(objective, data, params):
    if objective == "diffusion-dpo":
        return diffusion_dpo(data, params)
    if objective in ("dspo", "dspo-sdxl-path"):
        return dspo(data, params, objective == "dspo-sdxl-path")
    if objective == "diffusion-sft":
        return diffusion_sft(data, params)
    if "pred_model_w" in data:
        return diffusion_kto_pairs(data, params)
    return kto_rows(data["mse_model"], data["mse_ref"], data["desirable"], params)


def as_list(t):
    if t.dtype == torch.bool:
        return [bool(v) for v in t.flatten().tolist()]
    return [float(v) for v in t.flatten().tolist()]


def main():
    gen = torch.Generator().manual_seed(SEED)
    sets = {"far": make_predictions(gen, 0.6), "near": make_predictions(gen, 0.1),
            "unpaired": UNPAIRED, "unpaired_worse": UNPAIRED_WORSE}
    cases = []
    for name, objective, input_set, params in CASES:
        data = with_grad(sets[input_set])
        out = run_case(objective, data, params)
        out["loss"].backward()
        grads = {}
        for key in ("pred_model_w", "pred_model_l", "mse_model"):
            if key in data:
                g = data[key].grad
                grads[key] = as_list(g if g is not None else torch.zeros_like(data[key]))
        cases.append({"name": name, "objective": objective, "inputs": input_set,
                      "params": params,
                      "expected": {k: float(v.detach()) for k, v in out.items()},
                      "gradients": grads})
    write_per_objective(cases, sets)


def write_per_objective(cases, sets):
    """One file per objective, <name>.json, holding its cases and the input sets they use."""
    folder = os.path.dirname(os.path.abspath(__file__))
    for objective in dict.fromkeys(c["objective"] for c in cases):
        own = [c for c in cases if c["objective"] == objective]
        used = dict.fromkeys(c["inputs"] for c in own)
        doc = {
            "generator": "tests/data/objectives/image_reference_values.py (float64); do not edit by hand",
            "torch_version": torch.__version__,
            "objective": objective,
            "modality": "image",
            "shape": list(SHAPE),
            "inputs": {name: {k: as_list(v) for k, v in sets[name].items()} for name in used},
            "cases": own,
        }
        path = os.path.join(folder, objective + ".json")
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print(f"wrote {len(own)} cases to {path}")


if __name__ == "__main__":
    main()
