#!/usr/bin/env python3
"""Tabulates experiments/d2po runs: final oracle reward, win rate and KL per method and gold
budget (mean and spread over seeds), the discriminator's held-out accuracy, and plots reward
against gold labels used. Standard library only; the plots need python3-matplotlib."""
import csv
import json
import math
import os
import re
import statistics
import sys

METHODS = ["d2po", "gold-only", "offline"]
LABELS = {"d2po": "D2PO (gold + silver)", "gold-only": "online DPO, gold only", "offline": "offline DPO"}


def read_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def mean_sd(values):
    if not values:
        return float("nan"), float("nan")
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else "runs/d2po-exp"
    results = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "results")
    os.makedirs(results, exist_ok=True)
    times = {}
    times_path = os.path.join(results, "run_times.tsv")
    if os.path.exists(times_path):
        with open(times_path, encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                times[row["run"]] = float(row["seconds"])
    runs = []
    for name in sorted(os.listdir(work)):
        m = re.fullmatch(r"(d2po|gold-only|offline)-b(\d+)-s(\d+)", name)
        summary = os.path.join(work, name, "eval", "summary.json")
        if not m or not os.path.exists(summary):
            continue
        with open(summary, encoding="utf-8") as f:
            s = json.load(f)
        lines = read_jsonl(os.path.join(work, name, "metrics.jsonl"))
        train = [l for l in lines if "loss" in l]
        last = train[-1] if train else {}
        curve = [(l["eval/gold_labels"], l["eval/reward"]) for l in lines if "eval/reward" in l and "eval/gold_labels" in l]
        runs.append({
            "run": name, "method": m.group(1), "budget": int(m.group(2)), "seed": int(m.group(3)),
            "reward": s.get("eval/reward"), "reward_ref": s.get("eval/reward_ref"),
            "win_rate": s.get("eval/win_rate"), "kl": s.get("eval/kl"),
            "gold_labels": s.get("eval/gold_labels", m.group(2) if m.group(1) == "offline" else None),
            "discriminator_accuracy": last.get("d2po/discriminator_accuracy"),
            "silver_gold_agreement": last.get("d2po/silver_gold_agreement"),
            "seconds": times.get(name), "curve": curve,
        })
    fields = ["run", "method", "budget", "seed", "gold_labels", "reward", "reward_ref", "win_rate", "kl",
              "discriminator_accuracy", "silver_gold_agreement", "seconds"]
    with open(os.path.join(results, "runs.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in runs:
            w.writerow(r)
    budgets = sorted({r["budget"] for r in runs})
    rows = []
    for b in budgets:
        for method in METHODS:
            sel = [r for r in runs if r["method"] == method and r["budget"] == b]
            if not sel:
                continue
            def agg(key):
                return mean_sd([r[key] for r in sel if r[key] is not None])
            rows.append({"budget": b, "method": method, "seeds": len(sel), "reward": agg("reward"),
                         "win_rate": agg("win_rate"), "kl": agg("kl"), "disc": agg("discriminator_accuracy"),
                         "agree": agg("silver_gold_agreement"), "seconds": agg("seconds")})
    ref = mean_sd([r["reward_ref"] for r in runs if r["reward_ref"] is not None])[0]

    def fmt(ms, digits=3):
        m, sd = ms
        if m is None or math.isnan(m):
            return "–"
        return f"{m:.{digits}f} ± {sd:.{digits}f}"

    md = ["| gold budget | method | seeds | oracle reward | win rate vs SFT | KL (nats) | discriminator acc. | silver–gold agreement | seconds |",
          "|---:|---|---:|---|---|---|---|---|---:|"]
    for r in rows:
        md.append(f"| {r['budget']} | {LABELS[r['method']]} | {r['seeds']} | {fmt(r['reward'])} | {fmt(r['win_rate'])} | "
                  f"{fmt(r['kl'], 2)} | {fmt(r['disc'])} | {fmt(r['agree'])} | {fmt(r['seconds'], 0)} |")
    md.append("")
    md.append(f"Mean ± standard deviation over seeds. The SFT reference's oracle reward on the same prompts: {ref:.3f}.")
    with open(os.path.join(results, "comparison.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(results, "comparison.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["budget", "method", "seeds", "reward_mean", "reward_sd", "win_rate_mean", "win_rate_sd",
                    "kl_mean", "kl_sd", "discriminator_accuracy_mean", "silver_gold_agreement_mean", "seconds_mean"])
        for r in rows:
            w.writerow([r["budget"], r["method"], r["seeds"], *r["reward"], *r["win_rate"], *r["kl"], r["disc"][0],
                        r["agree"][0], r["seconds"][0]])
    print("\n".join(md))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("tabulate.py: no matplotlib (apt-get install python3-matplotlib): tables written, plots skipped")
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for method in METHODS:
        sel = [r for r in rows if r["method"] == method]
        if sel:
            axes[0].errorbar([r["budget"] for r in sel], [r["reward"][0] for r in sel],
                             yerr=[r["reward"][1] for r in sel], marker="o", capsize=3, label=LABELS[method])
    axes[0].axhline(ref, color="grey", linestyle=":", label="SFT reference")
    axes[0].set_xscale("log", base=2)
    axes[0].set_xticks(budgets)
    axes[0].set_xticklabels([str(b) for b in budgets])
    axes[0].set_xlabel("gold budget (labels)")
    axes[0].set_ylabel("oracle reward of the final policy")
    axes[0].set_title("final reward at equal gold budgets")
    axes[0].legend(fontsize=8)
    colours = {b: c for b, c in zip(budgets, ["tab:blue", "tab:orange", "tab:green", "tab:red"])}
    for r in runs:
        if r["method"] in ("d2po", "gold-only") and r["curve"]:
            xs, ys = zip(*r["curve"])
            axes[1].plot(xs, ys, marker="." if r["method"] == "d2po" else "x",
                         linestyle="-" if r["method"] == "d2po" else "--", color=colours.get(r["budget"]),
                         alpha=0.7, label=f"{r['method']} B={r['budget']}" if r["seed"] == min(x["seed"] for x in runs) else None)
    axes[1].set_xlabel("gold labels used")
    axes[1].set_ylabel("oracle reward (held-out prompts)")
    axes[1].set_title("reward over the run (at each evaluation)")
    axes[1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(os.path.join(results, "reward_vs_gold.png"), dpi=110)
    print("wrote", os.path.join(results, "reward_vs_gold.png"))


if __name__ == "__main__":
    main()
