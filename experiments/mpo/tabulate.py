#!/usr/bin/env python3
"""Tabulates experiments/mpo runs: each policy's win rate against the SFT reference on the two
rewards (sentiment, conciseness), their minimum, KL and the CPU seconds each command took, as mean
and spread over seeds; plots MPO's weights over the iterations. Standard library only; the plot
needs python3-matplotlib."""
import csv
import json
import math
import os
import re
import statistics
import sys

METHODS = ["dpo-sentiment", "dpo-conciseness", "maxmin", "uniform", "mpo"]
LABELS = {"dpo-sentiment": "DPO on sentiment pairs", "dpo-conciseness": "DPO on conciseness pairs",
          "maxmin": "MaxMin (DPO on min of the standardised rewards)", "uniform": "uniform mixture (0.5, 0.5)",
          "mpo": "MPO mixture"}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def mean_sd(values):
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return float("nan"), float("nan")
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else "runs/mpo-exp"
    results = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "results")
    os.makedirs(results, exist_ok=True)
    cpu = {}
    times_path = os.path.join(results, "run_times.tsv")
    if os.path.exists(times_path):
        with open(times_path, encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                try:
                    cpu[row["run"]] = float(row["cpu_seconds"])
                except (TypeError, ValueError):
                    pass
    runs = []
    for name in sorted(os.listdir(work)):
        m = re.fullmatch(r"(dpo-sentiment|dpo-conciseness|maxmin|uniform|mpo)-s(\d+)", name)
        summary = os.path.join(work, name, "eval", "summary.json")
        if not m or not os.path.exists(summary):
            continue
        with open(summary, encoding="utf-8") as f:
            s = json.load(f)
        lambdas = []
        if m.group(1) == "mpo":
            lambdas = [(l["step"], l["mpo/lambda_1"], l["mpo/lambda_avg_1"])
                       for l in read_jsonl(os.path.join(work, name, "metrics.jsonl")) if "mpo/lambda_1" in l]
        runs.append({"run": name, "method": m.group(1), "seed": int(m.group(2)),
                     "win_sentiment": s.get("eval/win_rate"), "win_conciseness": s.get("eval/win_rate_conciseness"),
                     "win_min": s.get("eval/win_rate_min"), "reward_sentiment": s.get("eval/reward"),
                     "reward_conciseness": s.get("eval/reward_conciseness"), "kl": s.get("eval/kl"),
                     "weight_sentiment": (s.get("mpo/weights") or [None])[0], "cpu_seconds": cpu.get(name),
                     "lambdas": lambdas})
    fields = ["run", "method", "seed", "win_sentiment", "win_conciseness", "win_min", "reward_sentiment",
              "reward_conciseness", "kl", "weight_sentiment", "cpu_seconds"]
    with open(os.path.join(results, "runs.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in runs:
            w.writerow(r)

    def fmt(ms, digits=3):
        m, sd = ms
        return "–" if math.isnan(m) else f"{m:.{digits}f} ± {sd:.{digits}f}"

    md = ["| policy | seeds | win rate, sentiment | win rate, conciseness | minimum of the two | KL (nats) | "
          "λ on sentiment | CPU s |",
          "|---|---:|---|---|---|---|---|---:|"]
    rows = []
    for method in METHODS:
        sel = [r for r in runs if r["method"] == method]
        if not sel:
            continue
        row = {k: mean_sd([r[k] for r in sel]) for k in
               ["win_sentiment", "win_conciseness", "win_min", "kl", "weight_sentiment", "cpu_seconds"]}
        rows.append((method, len(sel), row))
        md.append(f"| {LABELS[method]} | {len(sel)} | {fmt(row['win_sentiment'])} | {fmt(row['win_conciseness'])} | "
                  f"{fmt(row['win_min'])} | {fmt(row['kl'], 1)} | {fmt(row['weight_sentiment'])} | "
                  f"{fmt(row['cpu_seconds'], 0)} |")
    md.append("")
    md.append("Mean ± standard deviation over seeds; win rates against the SFT reference on 128 held-out prompts "
              "(ties ½). CPU seconds of the command that made each policy (for the mixtures: the mixing and "
              "evaluation only; the two DPO parts they mix are the rows above).")
    with open(os.path.join(results, "comparison.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(results, "comparison.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["method", "seeds", "win_sentiment_mean", "win_sentiment_sd", "win_conciseness_mean",
                    "win_conciseness_sd", "win_min_mean", "win_min_sd", "kl_mean", "weight_sentiment_mean",
                    "cpu_seconds_mean"])
        for method, n, row in rows:
            w.writerow([method, n, *row["win_sentiment"], *row["win_conciseness"], *row["win_min"], row["kl"][0],
                        row["weight_sentiment"][0], row["cpu_seconds"][0]])
    print("\n".join(md))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("tabulate.py: no matplotlib (apt-get install python3-matplotlib): tables written, plots skipped")
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, r in enumerate([r for r in runs if r["lambdas"]]):
        steps, last, avg = zip(*r["lambdas"])
        colour = f"C{i}"
        axes[0].plot(steps, last, alpha=0.35, color=colour, label=f"λ_t, seed {r['seed']}")
        axes[0].plot(steps, avg, linewidth=2, color=colour, label=f"running mean, seed {r['seed']}")
    axes[0].set_xlabel("mirror-descent iteration")
    axes[0].set_ylabel("λ on the sentiment policy")
    axes[0].set_ylim(0, 1)
    axes[0].set_title("MPO's weights")
    axes[0].legend(fontsize=7)
    for method in METHODS:
        sel = [r for r in runs if r["method"] == method]
        if sel:
            axes[1].scatter([r["win_sentiment"] for r in sel], [r["win_conciseness"] for r in sel],
                            label=LABELS[method], s=28)
    axes[1].axhline(0.5, color="grey", linestyle=":")
    axes[1].axvline(0.5, color="grey", linestyle=":")
    axes[1].set_xlabel("win rate vs reference, sentiment")
    axes[1].set_ylabel("win rate vs reference, conciseness")
    axes[1].set_title("both objectives (one point per seed)")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(results, "mpo.png"), dpi=110)
    print("wrote", os.path.join(results, "mpo.png"))


if __name__ == "__main__":
    main()
