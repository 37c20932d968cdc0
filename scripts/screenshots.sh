#!/usr/bin/env bash
# Runs the desktop app under Xvfb and saves a PNG of each main view (Curves, Compare, Pairs, Dataset).
#
# Usage: scripts/screenshots.sh [OUT_DIR] [RUN_FOLDER_OR_DATASET ...]
#   OUT_DIR defaults to build/screenshots. With no paths, it opens runs/sentiment-dpo (written by
#   the README's main job) and the embedded task's cached pairs when they exist.
# Needs xvfb-run (Debian package xvfb) and a built build/app/preflab.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/build/screenshots}
[[ $# -gt 0 ]] && shift
PATHS=("$@")
if [[ ${#PATHS[@]} -eq 0 ]]; then
  [[ -d $ROOT/runs/sentiment-dpo ]] && PATHS+=("$ROOT/runs/sentiment-dpo")
  pairs=$(ls -d "$ROOT"/runs/.cache/sentiment-*/pairs.jsonl 2>/dev/null | head -n 1 || true)
  [[ -n $pairs ]] && PATHS+=("$pairs")
fi
mkdir -p "$OUT"
# A private settings file so that screenshots do not depend on (or change) the user's layout.
export XDG_CONFIG_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_CONFIG_HOME"' EXIT
xvfb-run -a -s '-screen 0 1440x900x24' "$ROOT/build/app/preflab" --screenshots "$OUT" \
  --screenshot-delay "${DELAY:-4}" "${PATHS[@]}"
