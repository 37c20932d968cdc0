#!/usr/bin/python3
"""Writes a tiny GPT-2 as a Hugging Face folder plus its logits, for tst_hf_gpt2.

The model is written here in plain PyTorch from GPT-2's definition (Conv1D weights [in, out],
pre-layer-norm blocks, causal attention, tanh GELU, output head tied to the token embedding),
so the test does not depend on transformers or the safetensors package: neither is installed
where it runs. The safetensors file is laid out by hand with struct and json, following the
format's rules (little-endian u64 header length, compact JSON header with "__metadata__" first,
padded with spaces to a multiple of 8, data buffers back to back, wider dtypes first).

Run from anywhere with Debian's python3-torch:  /usr/bin/python3 make_reference.py
Outputs, next to this script: config.json, model.safetensors, logits.json.
"""
import json
import math
import os
import struct

import torch

N_LAYER, N_HEAD, N_EMBD, VOCAB, N_POSITIONS = 2, 2, 16, 257, 32
EOS = 256
INPUT_IDS = [[EOS, 72, 101, 108, 108, 111],  # <|endoftext|> "Hello"
             [0, 255, 17, EOS, 100, 42]]
HERE = os.path.dirname(os.path.abspath(__file__))


def make_weights(seed=1234):
    """GPT-2's parameters under transformers' names, float32, large enough to matter."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, std=0.2, mean=0.0):
        return (torch.randn(*shape, generator=g) * std + mean).float()

    c = N_EMBD
    w = {"transformer.wte.weight": randn(VOCAB, c, std=0.5),
         "transformer.wpe.weight": randn(N_POSITIONS, c, std=0.3)}
    for i in range(N_LAYER):
        p = "transformer.h.%d." % i
        for ln in ("ln_1", "ln_2"):
            w[p + ln + ".weight"] = randn(c, std=0.1, mean=1.0)
            w[p + ln + ".bias"] = randn(c, std=0.1)
        # Conv1D: weight [in, out]
        w[p + "attn.c_attn.weight"] = randn(c, 3 * c)
        w[p + "attn.c_attn.bias"] = randn(3 * c, std=0.1)
        w[p + "attn.c_proj.weight"] = randn(c, c)
        w[p + "attn.c_proj.bias"] = randn(c, std=0.1)
        w[p + "mlp.c_fc.weight"] = randn(c, 4 * c)
        w[p + "mlp.c_fc.bias"] = randn(4 * c, std=0.1)
        w[p + "mlp.c_proj.weight"] = randn(4 * c, c, std=0.1)
        w[p + "mlp.c_proj.bias"] = randn(c, std=0.1)
    w["transformer.ln_f.weight"] = randn(c, std=0.1, mean=1.0)
    w["transformer.ln_f.bias"] = randn(c, std=0.1)
    return w


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def layer_norm(x, w, b):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps=1e-5)


def attention(x, w, p):
    bsz, t, c = x.shape
    hd = c // N_HEAD
    qkv = x @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
    q, k, v = (z.view(bsz, t, N_HEAD, hd).transpose(1, 2) for z in qkv.split(c, dim=2))
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    scores = scores.masked_fill(~causal, float("-inf"))
    y = torch.softmax(scores, dim=-1) @ v  # (B, nh, T, hd)
    y = y.transpose(1, 2).reshape(bsz, t, c)
    return y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]


def forward(w, ids):
    """ids: (B, T) int64 -> logits (B, T, V), computed in float64 from the float32 weights."""
    w = {k: v.double() for k, v in w.items()}
    t = ids.shape[1]
    x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][torch.arange(t)]
    for i in range(N_LAYER):
        p = "transformer.h.%d." % i
        x = x + attention(layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"]), w, p)
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"])
        h = gelu_new(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = layer_norm(x, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"])
    return x @ w["transformer.wte.weight"].t()  # tied head


DTYPES = {torch.float32: ("F32", "f", 4), torch.bool: ("BOOL", "?", 1)}


def write_safetensors(path, tensors, metadata):
    names = sorted(tensors, key=lambda n: (-DTYPES[tensors[n].dtype][2], n))
    header = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name in names:
        t = tensors[name].contiguous()
        code, fmt, size = DTYPES[t.dtype]
        values = t.flatten().tolist()
        data = struct.pack("<%d%s" % (len(values), fmt), *values)
        assert len(data) == t.numel() * size
        header[name] = {"dtype": code, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def config():
    return {
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1, "bos_token_id": EOS, "embd_pdrop": 0.1, "eos_token_id": EOS,
        "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
        "n_ctx": N_POSITIONS, "n_embd": N_EMBD, "n_head": N_HEAD, "n_inner": None,
        "n_layer": N_LAYER, "n_positions": N_POSITIONS, "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1, "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True, "summary_activation": None, "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True, "summary_type": "cls_index", "summary_use_proj": True,
        "torch_dtype": "float32", "use_cache": True, "vocab_size": VOCAB,
    }


def main():
    weights = make_weights()
    stored = dict(weights)
    # Buffers older transformers versions saved with the weights; a loader must skip them.
    for i in range(N_LAYER):
        stored["transformer.h.%d.attn.bias" % i] = torch.tril(
            torch.ones(N_POSITIONS, N_POSITIONS, dtype=torch.bool)).view(1, 1, N_POSITIONS,
                                                                          N_POSITIONS)
        stored["transformer.h.%d.attn.masked_bias" % i] = torch.tensor(-1e4)
    write_safetensors(os.path.join(HERE, "model.safetensors"), stored, {"format": "pt"})
    with open(os.path.join(HERE, "config.json"), "w") as f:
        json.dump(config(), f, indent=2, sort_keys=True)
        f.write("\n")
    ids = torch.tensor(INPUT_IDS)
    logits = forward(weights, ids)
    with open(os.path.join(HERE, "logits.json"), "w") as f:
        json.dump({"input_ids": INPUT_IDS,
                   "note": "float64 logits of the float32 weights, rounded to 6 decimals",
                   "logits": [[[round(v, 6) for v in row] for row in seq]
                              for seq in logits.tolist()]}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
