#!/usr/bin/env python3
"""Chooses each objective's tuned point and tabulates its seeds (used by fashion-dspo/tune.sh and
sentiment/tune.sh): the same tuning budget for every objective.

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


def spread(values):
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, sd


# Columns after the win rate: (metric, its reference's metric or None, label). Image runs have an
# oracle reward, text runs the task's reward and KL.
IMAGE_COLUMNS = [("eval/oracle_reward", "eval/oracle_reward_ref", "oracle reward"),
                 ("eval/class_accuracy", "eval/class_accuracy_ref", "class accuracy"),
                 ("eval/appeal", "eval/appeal_ref", "appeal")]
TEXT_COLUMNS = [("eval/reward", "eval/reward_ref", "reward"),
                ("eval/kl", None, "KL to the reference"),
                ("eval/ranking/accuracy", None, "ranking accuracy (held-out pairs)")]


def table(work, results, names):
    rows, grids = [], []
    columns = None
    for name in names:
        grid = read_summary(os.path.join(work, name))
        chosen = best(grid)
        grids.append((name, grid, chosen))
        seeds_dir = os.path.join(work, name + "-seeds")
        seeds = finished(read_summary(seeds_dir)) if os.path.exists(os.path.join(seeds_dir, "summary.jsonl")) else []
        if chosen is None or not seeds:
            rows.append({"objective": name, "missing": True})
            continue
        if columns is None:
            columns = IMAGE_COLUMNS if "eval/oracle_reward" in seeds[0]["metrics"] else TEXT_COLUMNS
        n = [int(s["metrics"].get("eval/prompts", 0)) for s in seeds]
        wins = [s["metrics"]["eval/win_rate"] for s in seeds]
        # Pooled over the seeds' evaluations (the same prompts and seeds each time, so the seeds'
        # outcomes are not independent: the pooled interval is narrower than it should be; the
        # spread over seeds is the honest measure of run-to-run variation).
        pooled = sum(w * k for w, k in zip(wins, n)) / max(1, sum(n))
        low, high = wilson(pooled * sum(n), sum(n))
        per_seed = "; ".join(
            "{}: {:.2f} [{:.2f}, {:.2f}]".format(s["overrides"]["seed"], w, *wilson(w * k, k))
            for s, w, k in zip(seeds, wins, n))
        row = {
            "objective": name,
            "beta": chosen["overrides"].get("beta", "–"),
            "learning_rate": chosen["overrides"].get("learning_rate", "–"),
            "validation_win_rate": chosen["metrics"]["eval/win_rate"],
            "seeds": len(seeds),
            "win_rate_mean": spread(wins)[0], "win_rate_sd": spread(wins)[1],
            "pooled_win_rate": pooled, "pooled_low": low, "pooled_high": high,
            "pooled_n": sum(n), "per_seed": per_seed,
        }
        for metric, ref, _ in columns:
            values = [s["metrics"][metric] for s in seeds if metric in s["metrics"]]
            if values:
                row[metric + " mean"], row[metric + " sd"] = spread(values)
            if ref:
                refs = [s["metrics"][ref] for s in seeds if ref in s["metrics"]]
                if refs:
                    row[ref + " mean"] = spread(refs)[0]
        rows.append(row)
    columns = columns or []
    os.makedirs(results, exist_ok=True)
    keys = sorted({k for r in rows for k in r})
    with open(os.path.join(results, "tuned.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    header = ("| objective | chosen β | chosen learning rate | validation win rate | "
              "test win rate, mean ± sd over seeds | pooled test win rate [95% CI], prompts | "
              "each seed: win rate [95% CI] |")
    for _, ref, label in columns:
        header += f" {label}, mean ± sd{' (reference)' if ref else ''} |"
    md = [header, "|" + "---|" * (7 + len(columns))]
    for r in rows:
        if r.get("missing"):
            md.append(f"| {r['objective']} | missing |" + " |" * (5 + len(columns)))
            continue
        line = (f"| {r['objective']} | {r['beta']} | {r['learning_rate']} | {r['validation_win_rate']:.3f} | "
                f"{r['win_rate_mean']:.3f} ± {r['win_rate_sd']:.3f} ({r['seeds']} seeds) | "
                f"{r['pooled_win_rate']:.3f} [{r['pooled_low']:.3f}, {r['pooled_high']:.3f}], {r['pooled_n']} | "
                f"{r['per_seed']} |")
        for metric, ref, _ in columns:
            cell = ""
            if metric + " mean" in r:
                cell = f"{r[metric + ' mean']:.3f} ± {r[metric + ' sd']:.3f}"
            if ref and ref + " mean" in r:
                cell += f" ({r[ref + ' mean']:.3f})"
            line += f" {cell} |"
        md.append(line)
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
