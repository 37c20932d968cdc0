#!/usr/bin/env python3
"""Collects eval/summary.json of the fashion-dspo runs into comparison.md and comparison.csv.

Usage: tabulate.py WORK_DIR RESULTS_DIR RUN_NAME...
"""
import csv
import json
import os
import sys


def main():
    work, results, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    generation = {}
    gen_path = os.path.join(work, "pairs", "generation.json")
    if os.path.exists(gen_path):
        with open(gen_path) as f:
            generation = json.load(f)
    rows = []
    for name in names:
        path = os.path.join(work, name, "eval", "summary.json")
        if not os.path.exists(path):
            rows.append({"objective": name, "missing": True})
            continue
        with open(path) as f:
            s = json.load(f)
        trajectory = []
        metrics_path = os.path.join(work, name, "metrics.jsonl")
        if os.path.exists(metrics_path):
            with open(metrics_path) as f:
                for line in f:
                    try:
                        m = json.loads(line)
                    except ValueError:
                        continue
                    if "eval/win_rate" in m:
                        trajectory.append(f"{m['eval/win_rate']:.2f}")
        rows.append({
            "objective": name,
            "loss_type": s.get("loss_type"),
            "beta": s.get("beta"),
            "steps": s.get("steps"),
            "win_rate": s["eval/win_rate"],
            "win_rate_low": s["eval/win_rate_low"],
            "win_rate_high": s["eval/win_rate_high"],
            "prompts": int(s["eval/prompts"]),
            "oracle_reward": s["eval/oracle_reward"],
            "oracle_reward_ref": s["eval/oracle_reward_ref"],
            "class_accuracy": s["eval/class_accuracy"],
            "class_accuracy_ref": s["eval/class_accuracy_ref"],
            "appeal": s["eval/appeal"],
            "appeal_ref": s["eval/appeal_ref"],
            "implicit_acc": s.get("eval/implicit_acc"),
            "eval_pairs": int(s.get("eval/pairs", 0)),
            "train_pairs": s.get("train_pairs"),
            "seconds": s.get("seconds"),
            "win_rate_by_eval": " / ".join(trajectory),
        })
    os.makedirs(results, exist_ok=True)
    fields = [k for k in rows[0].keys()] if rows and "missing" not in rows[0] else []
    with open(os.path.join(results, "comparison.csv"), "w", newline="") as f:
        if fields:
            w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                if "missing" not in r:
                    w.writerow(r)
    lines = ["# Fashion-DSPO: objectives against the pretrained reference", ""]
    if generation:
        lines.append(
            f"Pairs: {generation.get('pairs')} from the reference ({generation.get('sampler')}, "
            f"{generation.get('sampling_steps')} steps, guidance {generation.get('guidance_scale')}), "
            f"{generation.get('raters')} Bradley-Terry raters at temperature {generation.get('rater_temperature')}; "
            f"raters agree with the oracle's higher reward on {generation.get('oracle_agreement', 0):.3f} of them.")
        lines.append("")
    lines.append("| objective | β | steps | win rate vs reference [95% CI] | oracle reward (ref) | class accuracy (ref) "
                 "| appeal (ref) | implicit acc (held-out pairs) | win rate at each evaluation | seconds |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "missing" in r:
            lines.append(f"| {r['objective']} | run missing or failed | | | | | | | | |")
            continue
        ia = "n/a" if r["implicit_acc"] is None else f"{r['implicit_acc']:.3f} ({r['eval_pairs']} pairs)"
        lines.append(
            f"| {r['loss_type']} | {format(r['beta'], 'g') if r['beta'] else '–'} | {r['steps']} | {r['win_rate']:.3f} "
            f"[{r['win_rate_low']:.3f}, {r['win_rate_high']:.3f}], {r['prompts']} prompt-seed pairs | "
            f"{r['oracle_reward']:.3f} ({r['oracle_reward_ref']:.3f}) | {r['class_accuracy']:.3f} "
            f"({r['class_accuracy_ref']:.3f}) | {r['appeal']:.3f} ({r['appeal_ref']:.3f}) | {ia} | {r['win_rate_by_eval']} | {r['seconds']:.0f} |")
    lines.append("")
    lines.append("Win rate: share of held-out (class prompt, seed) where the tuned model's sample gets a higher oracle "
                 "reward than the reference's sample from the same seed (ties count 1/2). Oracle reward = P(class | "
                 "image) under the oracle classifier + 0.5 × appeal.")
    with open(os.path.join(results, "comparison.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
