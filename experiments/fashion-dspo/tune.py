#!/usr/bin/env python3
"""Chooses each objective's tuned point and tabulates its seeds (used by tune.sh).

  tune.py choose SWEEP_DIR BASE_CONFIG OUT_SWEEP_YAML SEED...
      the point of SWEEP_DIR/summary.jsonl with the highest eval/win_rate (ties: higher
      eval/oracle_reward) becomes a sweep of BASE_CONFIG over the seeds, written to OUT_SWEEP_YAML
  tune.py table WORK_DIR RESULTS_DIR OBJECTIVE...
      WORK_DIR/<objective> (the grid) and WORK_DIR/<objective>-seeds into RESULTS_DIR/tuned.md, .csv
"""
import csv
import json
import math
import os
import statistics
import sys


def read_summary(sweep_dir):
    rows = []
    with open(os.path.join(sweep_dir, "summary.jsonl")) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                sys.exit(f"{sweep_dir}/summary.jsonl:{n}: {e}")
    return rows


def finished(rows):
    return [r for r in rows if r.get("state") == "finished" and "eval/win_rate" in r.get("metrics", {})]


def best(rows):
    done = finished(rows)
    if not done:
        return None
    return max(done, key=lambda r: (r["metrics"]["eval/win_rate"], r["metrics"].get("eval/oracle_reward", 0)))


def choose(sweep_dir, base, out, seeds):
    point = best(read_summary(sweep_dir))
    if point is None:
        sys.exit(f"{sweep_dir}: no finished point with eval/win_rate")
    name = os.path.basename(os.path.normpath(sweep_dir))
    lines = [f"# {name} at its best validation point ({point['name']}, validation win rate "
             f"{point['metrics']['eval/win_rate']:.3f}), one run per training seed; written by tune.py.",
             f"base: {os.path.abspath(base)}",
             f"output_dir: {os.path.normpath(sweep_dir)}-seeds",
             "grid:"]
    for key, value in point["overrides"].items():
        lines.append(f"  {key}: [{value}]")
    lines.append(f"  seed: [{', '.join(seeds)}]")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{name}: chose {point['name']} (validation win rate {point['metrics']['eval/win_rate']:.3f})")


def wilson(wins, n, z=1.959964):
    if n == 0:
        return (0.0, 1.0)
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def outcomes(run_dir):
    """Per prompt-seed outcome of the final evaluation: 1 win, 0.5 tie, 0 loss."""
    out = []
    with open(os.path.join(run_dir, "eval", "samples.jsonl")) as f:
        for line in f:
            s = json.loads(line)
            out.append(1.0 if s["reward"] > s["reward_ref"] else (0.5 if s["reward"] == s["reward_ref"] else 0.0))
    return out


def spread(values):
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, sd


def table(work, results, names):
    rows, grids = [], []
    for name in names:
        grid = read_summary(os.path.join(work, name))
        chosen = best(grid)
        grids.append((name, grid, chosen))
        seeds = finished(read_summary(os.path.join(work, name + "-seeds")))
        if chosen is None or not seeds:
            rows.append({"objective": name, "missing": True})
            continue
        wins = [s["metrics"]["eval/win_rate"] for s in seeds]
        pooled = [o for s in seeds for o in outcomes(s["dir"])]
        low, high = wilson(sum(pooled), len(pooled))
        per_seed = "; ".join(
            f"{s['overrides']['seed']}: {s['metrics']['eval/win_rate']:.2f} "
            f"[{s['metrics']['eval/win_rate_low']:.2f}, {s['metrics']['eval/win_rate_high']:.2f}]" for s in seeds)
        m = lambda key: spread([s["metrics"][key] for s in seeds])
        settings = {k: v for k, v in chosen["overrides"].items()}
        rows.append({
            "objective": name,
            "beta": settings.get("beta", "–"),
            "learning_rate": settings.get("learning_rate", "–"),
            "validation_win_rate": chosen["metrics"]["eval/win_rate"],
            "seeds": len(seeds),
            "win_rate_mean": m("eval/win_rate")[0], "win_rate_sd": m("eval/win_rate")[1],
            "pooled_win_rate": statistics.fmean(pooled), "pooled_low": low, "pooled_high": high,
            "pooled_n": len(pooled), "per_seed": per_seed,
            "oracle_reward_mean": m("eval/oracle_reward")[0], "oracle_reward_sd": m("eval/oracle_reward")[1],
            "oracle_reward_ref": seeds[0]["metrics"]["eval/oracle_reward_ref"],
            "class_accuracy_mean": m("eval/class_accuracy")[0],
            "class_accuracy_ref": seeds[0]["metrics"]["eval/class_accuracy_ref"],
            "appeal_mean": m("eval/appeal")[0], "appeal_ref": seeds[0]["metrics"]["eval/appeal_ref"],
        })
    os.makedirs(results, exist_ok=True)
    keys = sorted({k for r in rows for k in r})
    with open(os.path.join(results, "tuned.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    md = ["| objective | chosen β | chosen learning rate | validation win rate | test win rate, mean ± sd over seeds | "
          "pooled test win rate [95% CI] | each seed: win rate [95% CI] | oracle reward mean ± sd (ref) | "
          "class accuracy (ref) | appeal (ref) |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("missing"):
            md.append(f"| {r['objective']} | missing | | | | | | | | |")
            continue
        md.append(
            f"| {r['objective']} | {r['beta']} | {r['learning_rate']} | {r['validation_win_rate']:.3f} | "
            f"{r['win_rate_mean']:.3f} ± {r['win_rate_sd']:.3f} ({r['seeds']} seeds) | "
            f"{r['pooled_win_rate']:.3f} [{r['pooled_low']:.3f}, {r['pooled_high']:.3f}], {r['pooled_n']} | "
            f"{r['per_seed']} | {r['oracle_reward_mean']:.3f} ± {r['oracle_reward_sd']:.3f} "
            f"({r['oracle_reward_ref']:.3f}) | {r['class_accuracy_mean']:.3f} ({r['class_accuracy_ref']:.3f}) | "
            f"{r['appeal_mean']:.3f} ({r['appeal_ref']:.3f}) |")
    md.append("")
    md.append("Validation win rate of every grid point (the tuning budget; the chosen one in bold):")
    md.append("")
    for name, grid, chosen in grids:
        cells = []
        for g in grid:
            v = g.get("metrics", {}).get("eval/win_rate")
            text = f"{g['name']}: {v:.2f}" if v is not None else f"{g['name']}: {g.get('state')}"
            cells.append(f"**{text}**" if chosen is not None and g["name"] == chosen["name"] else text)
        md.append(f"- {name}: " + "; ".join(cells))
    with open(os.path.join(results, "tuned.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "choose":
        choose(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:] or ["42", "43", "44"])
    elif len(sys.argv) >= 4 and sys.argv[1] == "table":
        table(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
