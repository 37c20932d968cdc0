#!/usr/bin/python3
"""Collect the sentiment-steering runs into a comparison table and a reward-KL plot.

Reads <runs-dir>/sentiment-<name>/{config.yaml,status.json,metrics.jsonl,eval/summary.json,
samples/eval_samples.jsonl} for each objective run (and, when present, the DPO beta-sweep runs)
and writes, under --out:

  comparison.csv   one row per run, machine-readable
  comparison.md    the same as a Markdown table (objective runs, then the sweep)
  reward_kl.png    oracle reward against KL(policy || reference), reference at KL 0
                   (needs Debian's python3-matplotlib; without it a plain SVG,
                   reward_kl.svg, is written instead and the tables are unaffected)

Standard library only (PyYAML is used when present). Run from the repository root:
    /usr/bin/python3 experiments/sentiment/compare.py
"""

import argparse
import csv
import json
import glob
import math
import os
import re
import sys
from collections import Counter

OBJECTIVES = ["dpo", "ipo", "simpo", "simper", "orpo"]
SWEEP = ["dpo-beta0.03", "dpo-beta0.3", "dpo-beta1"]  # plus sentiment-dpo itself (beta 0.1)

# What `beta` means for each objective (see `preflab-cli objectives`).
BETA_LABEL = {"dpo": "β", "ipo": "τ", "simpo": "β", "simper": None, "orpo": "λ"}

CSV_FIELDS = [
    "objective", "run", "loss_type", "beta", "gamma_beta_ratio", "learning_rate",
    "eval/reward", "eval/reward_ci95_lo", "eval/reward_ci95_hi", "eval/reward_ref", "eval/kl",
    "eval/win_rate", "eval/win_rate_ci95_lo", "eval/win_rate_ci95_hi",
    "ranking/accuracy", "ranking/accuracy_ref", "ranking/idealized", "ranking/alignment_gap",
    "ranking/idealized_at_beta", "eval/tie_rate", "known_words", "known_words_ref", "steps", "wall_time_s",
]


def read_config(path):
    """Top-level scalars of a resolved config.yaml."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import yaml  # python3-yaml
        out = yaml.safe_load(text) or {}
        for key, value in out.items():  # YAML 1.1 reads "3e-05" (no dot) as a string
            if isinstance(value, str):
                try:
                    out[key] = float(value)
                except ValueError:
                    pass
        return out
    except ImportError:
        pass
    out = {}
    for line in text.splitlines():
        if not line or line[0] in " #" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        value = value.strip().strip('"')
        try:
            out[key.strip()] = float(value) if any(c in value for c in ".e") else int(value)
        except ValueError:
            out[key.strip()] = value
    return out


def wall_time(metrics_path):
    """Seconds between the first and the last record of metrics.jsonl (training + in-loop eval;
    excludes the cached SFT/pair stages before the first logged step and the final sampling eval)."""
    first = last = None
    with open(metrics_path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                t = json.loads(line).get("time")
            except json.JSONDecodeError:
                continue  # a killed run can leave a partial last line
            if t is None:
                continue
            first = t if first is None else first
            last = t
    return None if first is None else last - first


def reward_ci(samples_path):
    """95% normal interval of the mean oracle reward of the policy's samples, if the file exists."""
    if not os.path.exists(samples_path):
        return None, None
    values = []
    with open(samples_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                values.append(float(json.loads(line)["reward_policy"]))
    n = len(values)
    if n < 2:
        return None, None
    mean = sum(values) / n
    se = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)
    return mean - 1.96 * se, mean + 1.96 * se


def idealized_at(pairs_path, beta):
    """Idealised ranking accuracy at one β (the DPO optimum's ranking, σ(βh) = α), from the per-pair
    reference log-ratio c and rater fraction in eval/pairs.jsonl, computed here independently of
    the core as a check of its DPO value: ties (α = 0.5) and pairs without α left out, α clamped
    to [1e-3, 1 - 1e-3]."""
    if not beta or not os.path.exists(pairs_path):
        return None
    eps, hits, n = 1e-3, 0, 0
    with open(pairs_path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            p = json.loads(line)
            if "c" not in p:
                return None
            if "rater_fraction" not in p or p["rater_fraction"] == 0.5:
                continue
            a = min(max(p["rater_fraction"], eps), 1.0 - eps)
            hits += (-p["c"] + (math.log(a) - math.log1p(-a)) / beta) > 0
            n += 1
    return hits / n if n else None


def common_words(runs_dir, min_count=20):
    """Words seen at least min_count times in the cached training pairs (SFT samples): a yardstick
    for how much of a policy's text is still made of the corpus's words."""
    counts = Counter()
    for path in glob.glob(os.path.join(runs_dir, ".cache", "sentiment-*", "pairs.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    p = json.loads(line)
                    counts.update(re.findall(r"[a-z]+", p["chosen"] + " " + p["rejected"]))
    return {w for w, n in counts.items() if n >= min_count}


def known_word_rate(samples_path, vocab, key="policy"):
    """Fraction of the words in the eval samples that are common corpus words (None without data)."""
    if not vocab or not os.path.exists(samples_path):
        return None
    hits = total = 0
    with open(samples_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                words = re.findall(r"[a-z]+", json.loads(line)[key])
                total += len(words)
                hits += sum(w in vocab for w in words)
    return hits / total if total else None


def load_run(runs_dir, name, vocab=None):
    run = os.path.join(runs_dir, "sentiment-" + name)
    summary_path = os.path.join(run, "eval", "summary.json")
    if not os.path.exists(summary_path):
        return None
    with open(summary_path, encoding="utf-8") as f:
        s = json.load(f)
    cfg = read_config(os.path.join(run, "config.yaml"))
    with open(os.path.join(run, "status.json"), encoding="utf-8") as f:
        status = json.load(f)
    loss = cfg.get("loss_type", name)
    lo, hi = s.get("eval/win_rate_ci95", [None, None])
    samples = os.path.join(run, "samples", "eval_samples.jsonl")
    rlo, rhi = reward_ci(samples)
    return {
        "objective": name, "run": run, "loss_type": loss,
        "beta": cfg.get("beta") if BETA_LABEL.get(loss, "β") else None,
        "gamma_beta_ratio": cfg.get("gamma_beta_ratio") if loss == "simpo" else None,
        "learning_rate": cfg.get("learning_rate"),
        "eval/reward": s.get("eval/reward"), "eval/reward_ci95_lo": rlo, "eval/reward_ci95_hi": rhi,
        "eval/reward_ref": s.get("eval/reward_ref"), "eval/kl": s.get("eval/kl"),
        "eval/win_rate": s.get("eval/win_rate"), "eval/win_rate_ci95_lo": lo, "eval/win_rate_ci95_hi": hi,
        "ranking/accuracy": s.get("ranking/accuracy"), "ranking/accuracy_ref": s.get("ranking/accuracy_ref"),
        "ranking/idealized": s.get("ranking/idealized"),
        "ranking/alignment_gap": s.get("ranking/alignment_gap"),
        # The run objective's own optimum at its own parameters (absent where it has none).
        "ranking/idealized_at_beta": s.get("ranking/idealized_at_beta"),
        "dpo_check": idealized_at(os.path.join(run, "eval", "pairs.jsonl"), cfg.get("beta")) if loss == "dpo" else None,
        "eval/tie_rate": s.get("eval/tie_rate"),
        "known_words": known_word_rate(samples, vocab),
        "known_words_ref": known_word_rate(samples, vocab, "reference"),
        "steps": status.get("step"), "state": status.get("state"),
        "wall_time_s": wall_time(os.path.join(run, "metrics.jsonl")),
    }


def fmt(v, digits=3):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def beta_text(r):
    label = BETA_LABEL.get(r["loss_type"], "β")
    if label is None or r["beta"] is None:
        return "— (none)"
    text = f"{label} {r['beta']:g}"
    if r["gamma_beta_ratio"] is not None:
        text += f", γ/β {r['gamma_beta_ratio']:g}"
    return text


def write_csv(rows, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r[k]) for k in CSV_FIELDS})


def md_table(rows):
    head = ["objective", "β (own scale)", "lr", "reward", "reward (ref)", "KL", "win rate [95% CI]",
            "rank acc", "rank acc (ref)", "idealised", "alignment gap", "idealised @β (own optimum)", "known words", "steps", "wall (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        win = "—" if r["eval/win_rate"] is None else (
            f"{r['eval/win_rate']:.3f} [{r['eval/win_rate_ci95_lo']:.3f}, {r['eval/win_rate_ci95_hi']:.3f}]")
        cells = [r["objective"], beta_text(r), fmt(r["learning_rate"], 0) if r["learning_rate"] is None
                 else f"{r['learning_rate']:.0e}",
                 fmt(r["eval/reward"]), fmt(r["eval/reward_ref"]), fmt(r["eval/kl"], 1), win,
                 fmt(r["ranking/accuracy"]), fmt(r["ranking/accuracy_ref"]), fmt(r["ranking/idealized"]),
                 fmt(r["ranking/alignment_gap"]), fmt(r["ranking/idealized_at_beta"]), fmt(r["known_words"]), fmt(r["steps"]),
                 fmt(r["wall_time_s"], 0)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_md(main, sweep, missing, path):
    out = ["# Sentiment steering: objective comparison", "",
           "Generated by `experiments/sentiment/compare.py` from `runs/sentiment-*/eval/summary.json`.",
           "reward = mean lexicon-oracle reward of one sample per eval prompt (128 prompts); "
           "KL = mean Σ_t log π − log π_ref over the policy's own samples (nats per sequence); "
           "win rate = policy beats the reference sample for the same prompt and seed (ties ½), "
           "Wilson 95% interval; ranking metrics on the held-out labelled pairs, rater ties left out; "
           "idealised = DPO's optimum, median over the β grid {0.01, 0.1, 1, 5, 10}; alignment gap = "
           "idealised − rank acc; idealised @β = the run objective's own optimum at its own parameters "
           "(DPO: σ(βh) = α; IPO: h = (2α−1)/(2τ) on token means, against the length-normalised ranking; "
           "— where the objective has no closed-form optimum: SimPO, SimPER, ORPO); "
           "known words = share of the words in the policy's samples that are common words (≥ 20 uses) of "
           "the training pairs, a crude fluency check the oracle does not make"
           + (f" (reference samples: {main[0]['known_words_ref']:.3f})" if main[0].get("known_words_ref") else "")
           + "; wall = first to last metrics.jsonl timestamp (training only).", "",
           md_table(main)]
    if sweep:
        out += ["", "## DPO β sweep (same settings as `dpo.yaml`, only β changed)", "", md_table(sweep)]
    if missing:
        out += ["", "Missing runs (no eval/summary.json): " + ", ".join(missing)]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def plot_points(main, sweep):
    ref = [r["eval/reward_ref"] for r in main + sweep if r["eval/reward_ref"] is not None]
    ref_reward = sum(ref) / len(ref) if ref else None
    return ref_reward, sorted(sweep, key=lambda r: r["beta"])


def plot_matplotlib(main, sweep, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref_reward, frontier = plot_points(main, sweep)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=150)
    if len(frontier) > 1:
        ax.plot([r["eval/kl"] for r in frontier], [r["eval/reward"] for r in frontier], "s--", color="0.65",
                markersize=4, zorder=1, label="DPO β sweep")
        for r in frontier:
            ax.annotate(f"β {r['beta']:g}", (r["eval/kl"], r["eval/reward"]), textcoords="offset points",
                        xytext=(5, -11), fontsize=7, color="0.45")
    for r in main:
        err = None
        if r["eval/reward_ci95_lo"] is not None:
            err = [[r["eval/reward"] - r["eval/reward_ci95_lo"]], [r["eval/reward_ci95_hi"] - r["eval/reward"]]]
        line = ax.errorbar([r["eval/kl"]], [r["eval/reward"]], yerr=err, fmt="o", capsize=3, zorder=3,
                           label=r["objective"])
        ax.annotate(r["objective"], (r["eval/kl"], r["eval/reward"]), textcoords="offset points",
                    xytext=(6, 4), fontsize=8, color=line[0].get_color())
    if ref_reward is not None:
        ax.plot([0], [ref_reward], "k*", markersize=11, zorder=3, label="reference (SFT)")
    ax.set_xlabel("KL(π ‖ π_ref), nats per sequence")
    ax.set_ylabel("mean oracle reward (95% CI)")
    ax.set_title("Sentiment steering: reward vs KL")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_svg(main, sweep, path):
    """Dependency-free fallback: the same scatter as a small SVG."""
    ref_reward, frontier = plot_points(main, sweep)
    pts = [(r["eval/kl"], r["eval/reward"], r["objective"]) for r in main]
    if ref_reward is not None:
        pts.append((0.0, ref_reward, "reference"))
    allx = [p[0] for p in pts] + [r["eval/kl"] for r in frontier]
    ally = [p[1] for p in pts] + [r["eval/reward"] for r in frontier]
    x0, x1 = min(0.0, min(allx)), max(allx) * 1.1 or 1.0
    y0, y1 = min(ally) - 0.05, max(ally) + 0.05
    W, H, L, B, T, R = 640, 440, 70, 50, 30, 20

    def sx(x):
        return L + (x - x0) / (x1 - x0) * (W - L - R)

    def sy(y):
        return H - B - (y - y0) / (y1 - y0) * (H - B - T)

    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" '
           f'font-size="11">', f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>',
           f'<text x="{(W + L) / 2}" y="{H - 12}" text-anchor="middle">KL(π‖π_ref), nats per sequence</text>',
           f'<text x="16" y="{(H - B + T) / 2}" text-anchor="middle" transform="rotate(-90 16 '
           f'{(H - B + T) / 2})">mean oracle reward</text>',
           f'<text x="{(W + L) / 2}" y="18" text-anchor="middle">Sentiment steering: reward vs KL</text>']
    for i in range(6):
        xv, yv = x0 + (x1 - x0) * i / 5, y0 + (y1 - y0) * i / 5
        svg.append(f'<text x="{sx(xv):.1f}" y="{H - B + 15}" text-anchor="middle">{xv:.0f}</text>')
        svg.append(f'<text x="{L - 6}" y="{sy(yv) + 4:.1f}" text-anchor="end">{yv:.2f}</text>')
    if len(frontier) > 1:
        path_d = " ".join(f"{sx(r['eval/kl']):.1f},{sy(r['eval/reward']):.1f}" for r in frontier)
        svg.append(f'<polyline points="{path_d}" fill="none" stroke="#aaa"/>')
        for r in frontier:
            svg.append(f'<text x="{sx(r["eval/kl"]) + 5:.1f}" y="{sy(r["eval/reward"]) + 14:.1f}" '
                       f'fill="#777" font-size="9">β {r["beta"]:g}</text>')
    for i, (x, y, name) in enumerate(pts):
        c = "black" if name == "reference" else colors[i % len(colors)]
        svg.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="5" fill="{c}"/>')
        svg.append(f'<text x="{sx(x) + 7:.1f}" y="{sy(y) - 6:.1f}" fill="{c}">{name}</text>')
    svg.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(svg) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs-dir", default="runs", help="folder holding the sentiment-* runs (default: runs)")
    ap.add_argument("--out", default=os.path.join(here, "results"), help="output folder")
    args = ap.parse_args()

    main_rows, missing = [], []
    vocab = common_words(args.runs_dir)
    for name in OBJECTIVES:
        r = load_run(args.runs_dir, name, vocab)
        (main_rows.append(r) if r else missing.append("sentiment-" + name))
    if not main_rows:
        sys.exit(f"compare.py: no runs with eval/summary.json under {args.runs_dir}")
    sweep_only = [r for r in (load_run(args.runs_dir, n, vocab) for n in SWEEP) if r]
    # The sweep table and frontier include dpo.yaml's own run (β 0.1).
    sweep = sorted(sweep_only + [r for r in main_rows if r["objective"] == "dpo"], key=lambda r: r["beta"])
    if len(sweep) < 2:
        sweep = []
    for r in main_rows + sweep_only:
        if r["dpo_check"] is not None and abs(r["dpo_check"] - (r["ranking/idealized_at_beta"] or -1)) > 1e-9:
            print(f"warning: {r['run']}: idealised @β {r['ranking/idealized_at_beta']} from the core, "
                  f"{r['dpo_check']} recomputed here", file=sys.stderr)
        if r["state"] != "finished":
            print(f"warning: {r['run']} is {r['state']}", file=sys.stderr)
    if len({round(r["eval/reward_ref"], 9) for r in main_rows + sweep_only}) > 1:
        print("warning: eval/reward_ref differs between runs: they did not share a reference", file=sys.stderr)

    os.makedirs(args.out, exist_ok=True)
    write_csv(main_rows + sweep_only, os.path.join(args.out, "comparison.csv"))
    write_md(main_rows, sweep, missing, os.path.join(args.out, "comparison.md"))
    print(f"wrote {args.out}/comparison.csv and comparison.md")
    try:
        plot_matplotlib(main_rows, sweep, os.path.join(args.out, "reward_kl.png"))
        print(f"wrote {args.out}/reward_kl.png")
    except ImportError:
        plot_svg(main_rows, sweep, os.path.join(args.out, "reward_kl.svg"))
        print("matplotlib is not installed (Debian: apt-get install python3-matplotlib); "
              f"wrote {args.out}/reward_kl.svg instead of reward_kl.png", file=sys.stderr)
    if missing:
        print("missing runs: " + ", ".join(missing), file=sys.stderr)


if __name__ == "__main__":
    main()
