#!/usr/bin/env python3
"""Tabulates experiments/wro runs: the fixed judge's win rate against the SFT reference (ties 1/2,
with its interval), the h-win rates, oracle reward and KL per method (mean and spread over seeds),
and the quantities that show how hard each objective is to optimise (reward spread inside a
prompt's group, the share of prompts with any advantage, gradient norms, the objective over
steps). Standard library only; the plots need python3-matplotlib."""
import csv
import json
import math
import os
import re
import statistics
import sys

METHODS = ["wro-identity", "wro-logit", "wro-identity-oracle", "dpo", "sft"]
LABELS = {"wro-identity": "WRO, h = identity", "wro-logit": "WRO, h = logit (RLHF)",
          "wro-identity-oracle": "WRO, h = identity, raters as the training judge", "dpo": "DPO",
          "sft": "SFT on chosen"}


def read_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def mean_sd(values):
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return float("nan"), float("nan")
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else "runs/wro-exp"
    results = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "results")
    os.makedirs(results, exist_ok=True)
    times = {}
    times_path = os.path.join(results, "run_times.tsv")
    if os.path.exists(times_path):
        with open(times_path, encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                times[row["run"]] = float(row["seconds"])
    judge_acc = {}
    runs = []
    for name in sorted(os.listdir(work)):
        summary = os.path.join(work, name, "eval", "summary.json")
        if not os.path.exists(summary):
            continue
        with open(summary, encoding="utf-8") as f:
            s = json.load(f)
        rm = re.fullmatch(r"rm-s(\d+)", name)
        if rm:
            judge_acc[int(rm.group(1))] = s.get("eval/reward_model_accuracy")
            continue
        m = re.fullmatch(r"(wro-identity-oracle|wro-identity|wro-logit|dpo|sft)-s(\d+)", name)
        if not m:
            continue
        lines = read_jsonl(os.path.join(work, name, "metrics.jsonl"))
        train = [l for l in lines if "loss" in l]
        evals = [(l["step"], l["eval/win_rate"]) for l in lines if "eval/win_rate" in l and "step" in l]

        def avg(key):
            vals = [l[key] for l in train if key in l]
            return statistics.fmean(vals) if vals else None
        ci = s.get("eval/win_rate_ci95", [None, None])
        runs.append({
            "run": name, "method": m.group(1), "seed": int(m.group(2)),
            "win_rate": s.get("eval/win_rate"), "win_low": ci[0], "win_high": ci[1],
            "h_identity": s.get("eval/h_win_rate_identity"), "h_logit": s.get("eval/h_win_rate_logit"),
            "reward": s.get("eval/reward"), "reward_ref": s.get("eval/reward_ref"), "kl": s.get("eval/kl"),
            "grad_norm": avg("grad_norm"), "reward_std_within": avg("wro/reward_std_within_prompt"),
            "useful_prompts": avg("wro/useful_prompts"), "advantage": avg("wro/advantage_abs_mean"),
            "objective_first": train[0].get("wro/objective") if train else None,
            "objective_last": train[-1].get("wro/objective") if train else None,
            "seconds": times.get(name), "curve": evals, "train": train,
        })
    fields = ["run", "method", "seed", "win_rate", "win_low", "win_high", "h_identity", "h_logit", "reward",
              "reward_ref", "kl", "grad_norm", "reward_std_within", "useful_prompts", "advantage",
              "objective_first", "objective_last", "seconds"]
    with open(os.path.join(results, "runs.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in runs:
            w.writerow(r)
    rows = []
    for method in METHODS:
        sel = [r for r in runs if r["method"] == method]
        if not sel:
            continue
        row = {"method": method, "seeds": len(sel)}
        for key in fields[3:]:
            row[key] = mean_sd([r[key] for r in sel])
        rows.append(row)
    ref = mean_sd([r["reward_ref"] for r in runs])[0]

    def fmt(ms, digits=3):
        m, sd = ms
        if m is None or math.isnan(m):
            return "–"
        return f"{m:.{digits}f} ± {sd:.{digits}f}"

    md = ["| method | seeds | win rate vs SFT (judge: raters) | h-win rate, identity | h-win rate, logit | oracle reward | KL (nats) | seconds |",
          "|---|---:|---|---|---|---|---|---:|"]
    for r in rows:
        md.append(f"| {LABELS[r['method']]} | {r['seeds']} | {fmt(r['win_rate'])} | {fmt(r['h_identity'])} | "
                  f"{fmt(r['h_logit'], 2)} | {fmt(r['reward'])} | {fmt(r['kl'], 2)} | {fmt(r['seconds'], 0)} |")
    md.append("")
    md.append(f"Mean ± standard deviation over seeds. The SFT reference's oracle reward on the same prompts: {ref:.3f}. "
              "Win rate: the raters' verdict on oracle reward, ties ½; one run's 95% interval is in runs.csv.")
    md.append("")
    md.append("| method | mean grad norm | reward spread inside a prompt | prompts with an advantage | mean abs advantage | objective, step 1 → last |")
    md.append("|---|---|---|---|---|---|")
    for r in rows:
        obj = (f"{fmt(r['objective_first'])} → {fmt(r['objective_last'])}"
               if not math.isnan(r["objective_first"][0]) else "–")
        md.append(f"| {LABELS[r['method']]} | {fmt(r['grad_norm'])} | {fmt(r['reward_std_within'], 4)} | "
                  f"{fmt(r['useful_prompts'])} | {fmt(r['advantage'], 4)} | {obj} |")
    if judge_acc:
        accs = [v for v in judge_acc.values() if v is not None]
        md.append("")
        md.append("Training judge of the first two rows (the reward model): held-out pair accuracy "
                  + ", ".join(f"seed {k}: {v:.3f}" for k, v in sorted(judge_acc.items()) if v is not None)
                  + (f" (mean {statistics.fmean(accs):.3f})." if accs else "."))
    with open(os.path.join(results, "comparison.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(results, "comparison.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["method", "seeds"] + [f"{k}_{s}" for k in fields[3:] for s in ("mean", "sd")])
        for r in rows:
            w.writerow([r["method"], r["seeds"]] + [v for k in fields[3:] for v in r[k]])
    print("\n".join(md))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("tabulate.py: no matplotlib (apt-get install python3-matplotlib): tables written, plots skipped")
        return
    colours = {"wro-identity": "tab:blue", "wro-logit": "tab:orange", "wro-identity-oracle": "tab:purple",
               "dpo": "tab:green", "sft": "tab:red"}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    first_seed = min((r["seed"] for r in runs), default=0)
    for r in runs:
        label = LABELS[r["method"]] if r["seed"] == first_seed else None
        if r["curve"]:
            xs, ys = zip(*r["curve"])
            axes[0].plot(xs, ys, marker="o", color=colours[r["method"]], alpha=0.7, label=label)
        elif r["win_rate"] is not None and r["train"]:  # offline runs: only the final evaluation samples
            axes[0].scatter([r["train"][-1]["step"]], [r["win_rate"]], marker="s", s=60,
                            color=colours[r["method"]], label=label + " (final)" if label else None, zorder=3)
        if r["method"].startswith("wro"):
            steps = [l["step"] for l in r["train"]]
            axes[1].plot(steps, [l.get("wro/reward_std_within_prompt") for l in r["train"]],
                         color=colours[r["method"]], alpha=0.6, label=label)
            axes[2].plot(steps, [l.get("wro/judge_win_probability") for l in r["train"]],
                         color=colours[r["method"]], alpha=0.6, label=label)
    axes[0].axhline(0.5, color="grey", linestyle=":")
    axes[0].set_xlabel("optimizer step")
    axes[0].set_ylabel("win rate vs SFT (raters, ties ½)")
    axes[0].set_title("held-out win rate at each evaluation")
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("optimizer step")
    axes[1].set_ylabel("reward spread inside a prompt's K samples")
    axes[1].set_title("WRO: the signal RLOO has to work with")
    axes[1].legend(fontsize=8)
    axes[2].axhline(0.5, color="grey", linestyle=":")
    axes[2].set_xlabel("optimizer step")
    axes[2].set_ylabel("training judge's win probability")
    axes[2].set_title("WRO: win probability under the run's training judge")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(results, "wro_curves.png"), dpi=110)
    print("wrote", os.path.join(results, "wro_curves.png"))


if __name__ == "__main__":
    main()
