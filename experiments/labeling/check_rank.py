#!/usr/bin/python3
"""Checks `preflab-cli labels rank --json` against an independent computation in plain PyTorch.

Reads the label store with Python's sqlite3, the policy and reference Hugging Face GPT-2
folders (byte-level vocabulary of 257: bytes 0-255 and end-of-text 256, as PrefLab's embedded
task uses) by parsing model.safetensors by hand, runs GPT-2's forward pass as its definition
has it, and computes for each text item, with w the first stored candidate unless the current
decisions' majority says second (no decisions here: w is the first):
  margin = beta * [(logp_pi - logp_ref)(w) - (logp_pi - logp_ref)(l)]
  c = logp_ref(l) - logp_ref(w),  difficulty = softplus(-beta * c)
where logp is the sum of the response tokens' log-probabilities given the prompt.

Usage: /usr/bin/python3 check_rank.py STORE POLICY_DIR REF_DIR BETA RANK.json
Prints the largest absolute differences and exits 1 when one exceeds 1e-3.
"""
import json
import math
import sqlite3
import struct
import sys

import torch


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F32", meta["dtype"]
        begin, end = meta["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32)
        out[name] = t.reshape(meta["shape"]).double()
    return out


class Gpt2:
    def __init__(self, folder):
        self.cfg = json.load(open(folder + "/config.json"))
        self.w = load_safetensors(folder + "/model.safetensors")

    def logits(self, ids):
        w, c, nh = self.w, self.cfg["n_embd"], self.cfg["n_head"]
        t = len(ids)
        x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][:t]
        ln = lambda v, p: torch.nn.functional.layer_norm(v, (c,), w[p + ".weight"], w[p + ".bias"], 1e-5)
        causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
        for i in range(self.cfg["n_layer"]):
            p = "transformer.h.%d." % i
            h = ln(x, p + "ln_1")
            q, k, v = (h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]).split(c, dim=1)
            q, k, v = (z.view(t, nh, c // nh).transpose(0, 1) for z in (q, k, v))
            s = (q @ k.transpose(-2, -1)) / math.sqrt(c // nh)
            y = torch.softmax(s.masked_fill(~causal, float("-inf")), -1) @ v
            x = x + y.transpose(0, 1).reshape(t, c) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
            h = ln(x, p + "ln_2")
            h = h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
            h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * h.pow(3))))
            x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        x = ln(x, "transformer.ln_f")
        return x @ w["transformer.wte.weight"].T

    def response_logp(self, prompt, response):
        p, r = list(prompt.encode()), list(response.encode())
        ids = torch.tensor(p + r)
        logp = torch.log_softmax(self.logits(ids[:-1]), -1)
        return sum(logp[len(p) - 1 + j, r[j]].item() for j in range(len(r)))


def main():
    store, policy_dir, ref_dir, beta, rank_path = sys.argv[1:6]
    beta = float(beta)
    db = sqlite3.connect(store)
    items = {row[0]: row[1:] for row in db.execute("SELECT i.ext_id, i.prompt, a.content, b.content FROM items i "
                                                   "JOIN candidates a ON a.item_id = i.id AND a.slot = 0 "
                                                   "JOIN candidates b ON b.item_id = i.id AND b.slot = 1")}
    policy, ref = Gpt2(policy_dir), Gpt2(ref_dir)
    worst = {"margin": 0.0, "c": 0.0, "difficulty": 0.0}
    ranked = json.load(open(rank_path))
    for r in ranked:
        prompt, w, l = items[r["id"]]
        pw, pl = policy.response_logp(prompt, w), policy.response_logp(prompt, l)
        rw, rl = ref.response_logp(prompt, w), ref.response_logp(prompt, l)
        expect = {"margin": beta * ((pw - rw) - (pl - rl)), "c": rl - rw}
        expect["difficulty"] = math.log1p(math.exp(-beta * expect["c"]))
        for k in worst:
            worst[k] = max(worst[k], abs(expect[k] - r[k]))
    print("%d items; largest |difference|: %s" % (len(ranked), ", ".join("%s %.2e" % kv for kv in worst.items())))
    sys.exit(0 if max(worst.values()) < 1e-3 else 1)


if __name__ == "__main__":
    main()
