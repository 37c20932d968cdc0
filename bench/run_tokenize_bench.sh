#!/usr/bin/env bash
# Tokenizes the HH-RLHF harmless-base test file (its chosen and rejected texts) with PrefLab's
# tokenizer and with Hugging Face's tokenizers (npm module), one thread each, in one run, and
# prints both JSON lines and the ratio.
#
# Usage: bench/run_tokenize_bench.sh PATH/TO/preflab-bench-tokenize NODE_MODULES TOKENIZER_JSON HH_JSONL_GZ [ROUNDS]
#   NODE_MODULES: a node_modules folder with `tokenizers` installed (npm install tokenizers)
set -euo pipefail
if [[ $# -lt 4 ]]; then
  echo "usage: $0 PATH/TO/preflab-bench-tokenize NODE_MODULES TOKENIZER_JSON HH_JSONL_GZ [ROUNDS]" >&2
  exit 2
fi
BENCH=$1 MODULES=$2 TOKENIZER=$3 DATA=$4 ROUNDS=${5:-5}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEXTS=$(mktemp --suffix=.jsonl)
trap 'rm -f "$TEXTS"' EXIT
python3 - "$DATA" "$TEXTS" <<'PY'
import gzip, json, sys
with gzip.open(sys.argv[1], 'rt', encoding='utf-8') as f, open(sys.argv[2], 'w', encoding='utf-8') as out:
    for line in f:
        record = json.loads(line)
        for key in ('chosen', 'rejected'):
            out.write(json.dumps({'text': record[key]}, ensure_ascii=False) + '\n')
PY
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
CPP=$("$BENCH" --tokenizer "$TOKENIZER" --texts "$TEXTS" --rounds "$ROUNDS")
NODE=$(node "$HERE/tokenize_bench.js" "$MODULES" "$TOKENIZER" "$TEXTS" "$ROUNDS")
echo "$CPP"
echo "$NODE"
python3 - "$CPP" "$NODE" <<'PY'
import json, sys
cpp = json.loads(sys.argv[1])
node = [json.loads(l) for l in sys.argv[2].splitlines()]
assert all(n['tokens'] == cpp['tokens'] for n in node), 'token counts differ: %s' % [n['tokens'] for n in node]
best = min(node, key=lambda n: n['seconds'])
print(f"texts {cpp['texts']}, {cpp['bytes'] / 1e6:.2f} MB, {cpp['tokens']} tokens (equal in both)")
print(f"preflab {cpp['seconds']:.3f} s ({cpp['mb_per_s']:.2f} MB/s), load {cpp['load_s']:.2f} s")
for n in node:
    print(f"{n['impl']} {n['seconds']:.3f} s ({n['mb_per_s']:.2f} MB/s), load {n['load_s']:.2f} s")
print(f"speed ratio preflab / {best['impl']}: {best['seconds'] / cpp['seconds']:.2f}x")
PY
