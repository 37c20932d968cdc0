#!/usr/bin/python3
"""Writes tiny Llama-family models as Hugging Face folders plus their logits, for tst_hf_llama.

One folder per case under this directory: config.json, the weights (model.safetensors, or two
shards with model.safetensors.index.json), logits.json. The forward pass is written here in plain
PyTorch from the published definitions (RMSNorm, rotary embeddings in the rotate-half layout with
the "llama3" and "linear" rescalings, grouped-query attention, SwiGLU, Qwen2's q/k/v biases,
Qwen3's per-head q/k RMSNorm and explicit head_dim, tied or untied output head), not taken from
transformers, which is not installed where the tests run. Logits are computed in float64 from
the stored weights (after their F16/BF16 rounding).

Run from anywhere with Debian's python3-torch:  /usr/bin/python3 make_reference.py
"""
import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
INPUT_IDS = [[1, 5, 17, 200, 3, 42, 99, 7, 250, 11], [0, 299, 64, 64, 2, 128, 31, 8, 9, 10]]
VOCAB = 300

BASE = {"hidden_act": "silu", "initializer_range": 0.02, "max_position_embeddings": 64,
        "rms_norm_eps": 1e-6, "vocab_size": VOCAB, "use_cache": True, "bos_token_id": 1,
        "eos_token_id": 2, "attention_dropout": 0.0, "transformers_version": "4.51.0"}

CASES = {
    "llama": dict(model_type="llama", architectures=["LlamaForCausalLM"], hidden_size=32,
                  intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, rope_theta=10000.0, rope_scaling=None,
                  tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
                  pretraining_tp=1, torch_dtype="float32", rms_norm_eps=1e-5, shards=2),
    "llama3": dict(model_type="llama", architectures=["LlamaForCausalLM"], hidden_size=64,
                   intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=1, rope_theta=10000.0,
                   rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
                   tie_word_embeddings=True, attention_bias=False, mlp_bias=False,
                   torch_dtype="bfloat16", dtype="BF16"),
    "llama-linear": dict(model_type="llama", architectures=["LlamaForCausalLM"], hidden_size=32,
                         intermediate_size=40, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=2, rope_theta=500.0,
                         rope_scaling={"type": "linear", "factor": 2.0},
                         tie_word_embeddings=False, attention_bias=True, mlp_bias=True,
                         torch_dtype="float32"),
    "mistral": dict(model_type="mistral", architectures=["MistralForCausalLM"], hidden_size=32,
                    intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, rope_theta=10000.0, sliding_window=4096,
                    tie_word_embeddings=False, torch_dtype="float16", dtype="F16"),
    "qwen2": dict(model_type="qwen2", architectures=["Qwen2ForCausalLM"], hidden_size=32,
                  intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, rope_theta=1000000.0, rope_scaling=None,
                  tie_word_embeddings=True, use_sliding_window=False, sliding_window=4096,
                  max_window_layers=2, torch_dtype="bfloat16", dtype="BF16"),
    "qwen3": dict(model_type="qwen3", architectures=["Qwen3ForCausalLM"], hidden_size=32,
                  intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, head_dim=16, rope_theta=1000000.0, rope_scaling=None,
                  tie_word_embeddings=True, attention_bias=False, use_sliding_window=False,
                  sliding_window=None, max_window_layers=2, torch_dtype="float32"),
}


def head_dim(c):
    return c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]


def make_weights(c, seed):
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, std=0.2, mean=0.0):
        return (torch.randn(*shape, generator=g) * std + mean).float()

    h, i, d = c["hidden_size"], c["intermediate_size"], head_dim(c)
    nh, nkv = c["num_attention_heads"], c["num_key_value_heads"]
    qkv_bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
    o_bias = c["model_type"] != "qwen2" and c.get("attention_bias", False)
    w = {"model.embed_tokens.weight": randn(VOCAB, h, std=0.5), "model.norm.weight": randn(h, std=0.1, mean=1.0)}
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        w[p + "input_layernorm.weight"] = randn(h, std=0.1, mean=1.0)
        w[p + "post_attention_layernorm.weight"] = randn(h, std=0.1, mean=1.0)
        for name, out in (("q_proj", nh * d), ("k_proj", nkv * d), ("v_proj", nkv * d)):
            w[p + "self_attn.%s.weight" % name] = randn(out, h)
            if qkv_bias:
                w[p + "self_attn.%s.bias" % name] = randn(out, std=0.1)
        w[p + "self_attn.o_proj.weight"] = randn(h, nh * d)
        if o_bias:
            w[p + "self_attn.o_proj.bias"] = randn(h, std=0.1)
        if c["model_type"] == "qwen3":
            w[p + "self_attn.q_norm.weight"] = randn(d, std=0.1, mean=1.0)
            w[p + "self_attn.k_norm.weight"] = randn(d, std=0.1, mean=1.0)
        for name, shape in (("gate_proj", (i, h)), ("up_proj", (i, h)), ("down_proj", (h, i))):
            w[p + "mlp.%s.weight" % name] = randn(*shape)
            if c.get("mlp_bias"):
                w[p + "mlp.%s.bias" % name] = randn(shape[0], std=0.1)
    if not c["tie_word_embeddings"]:
        w["lm_head.weight"] = randn(VOCAB, h, std=0.3)
    return w


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def inv_freq(c):
    d = head_dim(c)
    f = 1.0 / (c["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    s = c.get("rope_scaling")
    if not s:
        return f
    kind = s.get("rope_type", s.get("type"))
    if kind == "linear":
        return f / s["factor"]
    assert kind == "llama3"
    old = s["original_max_position_embeddings"]
    low_wavelen = old / s["low_freq_factor"]
    high_wavelen = old / s["high_freq_factor"]
    out = []
    for freq in f.tolist():
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            out.append(freq)
        elif wavelen > low_wavelen:
            out.append(freq / s["factor"])
        else:
            smooth = (old / wavelen - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
            out.append((1 - smooth) * freq / s["factor"] + smooth * freq)
    return torch.tensor(out, dtype=torch.float64)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(c, w, ids, lora=None):
    """Logits; `lora` maps a projection path to (A, B, scale): y += scale * B A x, as LoRA adds."""
    x = final_hidden(c, w, ids, lora)
    w = {k: v.double() for k, v in w.items()}
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ head.t()


def final_hidden(c, w, ids, lora=None):
    """The hidden states after the final RMSNorm, (batch, tokens, hidden), float64."""
    w = {k: v.double() for k, v in w.items()}
    lora = lora or {}
    b, t = ids.shape
    h, d = c["hidden_size"], head_dim(c)
    nh, nkv = c["num_attention_heads"], c["num_key_value_heads"]
    eps = c["rms_norm_eps"]
    freqs = torch.outer(torch.arange(t, dtype=torch.float64), inv_freq(c))
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    x = w["model.embed_tokens.weight"][ids]
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))

    def lin(z, name):
        y = z @ w[name + ".weight"].t()
        if name in lora:
            a, bb, scale = lora[name]
            y = y + scale * (z @ a.double().t()) @ bb.double().t()
        return y + w[name + ".bias"] if name + ".bias" in w else y

    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        a = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lin(a, p + "self_attn.q_proj").view(b, t, nh, d)
        k = lin(a, p + "self_attn.k_proj").view(b, t, nkv, d)
        v = lin(a, p + "self_attn.v_proj").view(b, t, nkv, d).transpose(1, 2)
        if c["model_type"] == "qwen3":
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = nh // nkv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        scores = scores.masked_fill(~causal, float("-inf"))
        y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, nh * d)
        x = x + lin(y, p + "self_attn.o_proj")
        m = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = lin(m, p + "mlp.gate_proj")
        x = x + lin(torch.nn.functional.silu(gate) * lin(m, p + "mlp.up_proj"), p + "mlp.down_proj")
    return rms_norm(x, w["model.norm.weight"], eps)


def tensor_bytes(t, dtype):
    t = t.contiguous()
    if dtype == "F32":
        values = t.flatten().tolist()
        return struct.pack("<%df" % len(values), *values)
    as16 = (t.to(torch.bfloat16) if dtype == "BF16" else t.half()).view(torch.int16)
    values = as16.flatten().tolist()
    return struct.pack("<%dh" % len(values), *values)


def rounded(t, dtype):
    return t if dtype == "F32" else (t.to(torch.bfloat16) if dtype == "BF16" else t.half()).float()


def write_safetensors(path, tensors, dtype):
    header = {"__metadata__": {"format": "pt"}}
    chunks, offset = [], 0
    for name in sorted(tensors):
        data = tensor_bytes(tensors[name], dtype)
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    return offset


LORA = {"base": "qwen3", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj", "down_proj"]}


def make_lora():
    """A PEFT LoRA adapter over the qwen3 case, with non-zero factors, and the adapted logits."""
    name = "qwen3"
    seed = sorted(CASES).index(name)
    case = dict(CASES[name])
    dtype = case.pop("dtype", "F32")
    case.pop("shards", None)
    config = dict(BASE, **case)
    weights = {k: rounded(v, dtype) for k, v in make_weights(config, 100 + seed).items()}
    gen = torch.Generator().manual_seed(7)
    r, scale = LORA["r"], LORA["lora_alpha"] / LORA["r"]
    factors, tensors = {}, {}
    for key in sorted(weights):
        path = key[: -len(".weight")]
        if not key.endswith(".weight") or path.split(".")[-1] not in LORA["target_modules"]:
            continue
        out_f, in_f = weights[key].shape
        a = torch.randn(r, in_f, generator=gen) * 0.3
        b = torch.randn(out_f, r, generator=gen) * 0.3
        factors[path] = (a, b, scale)
        tensors["base_model.model." + path + ".lora_A.weight"] = a
        tensors["base_model.model." + path + ".lora_B.weight"] = b
    folder = os.path.join(HERE, "lora-" + name)
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, "adapter_model.safetensors"), tensors, "F32")
    adapter = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "../" + name,
               "r": r, "lora_alpha": LORA["lora_alpha"], "lora_dropout": 0.1, "bias": "none",
               "target_modules": LORA["target_modules"], "fan_in_fan_out": False, "inference_mode": True,
               "use_rslora": False, "use_dora": False, "modules_to_save": None, "init_lora_weights": True,
               "layers_to_transform": None, "layers_pattern": None, "rank_pattern": {}, "alpha_pattern": {},
               "revision": None, "peft_version": "0.15.2"}
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(adapter, f, indent=2, sort_keys=True)
        f.write("\n")
    logits = forward(config, weights, torch.tensor(INPUT_IDS), factors)
    with open(os.path.join(folder, "logits.json"), "w") as f:
        json.dump({"input_ids": INPUT_IDS, "note": "float64 logits of the base with the adapter applied, 6 decimals",
                   "logits": [[[round(v, 6) for v in row] for row in seq] for seq in logits.tolist()]},
                  f, separators=(",", ":"))
        f.write("\n")
    print("lora-" + name, "factors", len(factors), "logit std %.3f" % logits.std().item())


SCORE_IDS = [[1, 5, 17, 200, 3, 42, 0, 0, 0, 0], [1, 299, 64, 64, 2, 128, 31, 8, 9, 10], [1, 7, 0, 0, 0, 0, 0, 0, 0, 0]]


def make_score():
    """A reward model: LlamaForSequenceClassification with one label (score.weight, no lm_head),
    and its scores, read as transformers does at each row's last token that is not pad_token_id."""
    case = dict(CASES["llama"])
    case.pop("shards")
    config = dict(BASE, **case)
    config.update(architectures=["LlamaForSequenceClassification"], id2label={"0": "LABEL_0"},
                  label2id={"LABEL_0": 0}, pad_token_id=0, tie_word_embeddings=False)
    weights = make_weights(config, 200)
    del weights["lm_head.weight"]
    weights["score.weight"] = torch.randn(1, config["hidden_size"], generator=torch.Generator().manual_seed(201))
    folder = os.path.join(HERE, "llama-score")
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, "model.safetensors"), weights, "F32")
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    ids = torch.tensor(SCORE_IDS)
    hidden = final_hidden(config, weights, ids)
    last = [max(i for i, t in enumerate(row) if t != config["pad_token_id"]) for row in SCORE_IDS]
    scores = [(hidden[b, t] @ weights["score.weight"].double()[0]).item() for b, t in enumerate(last)]
    with open(os.path.join(folder, "scores.json"), "w") as f:
        json.dump({"input_ids": SCORE_IDS, "last_index": last, "scores": [round(v, 8) for v in scores],
                   "note": "float64 score.weight . norm(h) at the last non-pad token (pad_token_id 0)"}, f)
        f.write("\n")
    print("llama-score", "scores", [round(v, 4) for v in scores])


def main():
    for seed, (name, case) in enumerate(sorted(CASES.items())):
        case = dict(case)
        dtype, shards = case.pop("dtype", "F32"), case.pop("shards", 1)
        config = dict(BASE, **case)
        folder = os.path.join(HERE, name)
        os.makedirs(folder, exist_ok=True)
        weights = {k: rounded(v, dtype) for k, v in make_weights(config, 100 + seed).items()}
        if shards == 1:
            write_safetensors(os.path.join(folder, "model.safetensors"), weights, dtype)
        else:
            names = sorted(weights)
            parts = [names[i::shards] for i in range(shards)]
            weight_map, total = {}, 0
            for i, part in enumerate(parts):
                file = "model-%05d-of-%05d.safetensors" % (i + 1, shards)
                total += write_safetensors(os.path.join(folder, file), {n: weights[n] for n in part}, dtype)
                weight_map.update({n: file for n in part})
            with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
            f.write("\n")
        logits = forward(config, weights, torch.tensor(INPUT_IDS))
        with open(os.path.join(folder, "logits.json"), "w") as f:
            json.dump({"input_ids": INPUT_IDS, "note": "float64 logits of the stored weights, 6 decimals",
                       "logits": [[[round(v, 6) for v in row] for row in seq] for seq in logits.tolist()]},
                      f, separators=(",", ":"))
            f.write("\n")
        print(name, dtype, "shards", shards, "logit std %.3f" % logits.std().item())


if __name__ == "__main__":
    main()
    make_lora()
    make_score()
