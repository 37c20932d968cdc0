# Times one DPO training step in plain PyTorch: the Python counterpart of dpo_step_bench.cpp.
"""Same model math as core/text/gpt.cpp (LibTorch 1.x branch) and the same step as the C++ bench.

Run through run_dpo_bench.sh, which sets OPENBLAS_NUM_THREADS=1 before this process imports
torch (the C++ side calls openblas_set_num_threads(1) through setComputeThreads).
"""
import argparse
import contextlib
import json
import math
import os
import random
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):  # x: (B, T, C) -> (B, T, C)
        B, T, C = x.shape
        hd = C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, hd).transpose(1, 2)  # (B, nh, T, hd)
        k = k.view(B, T, self.n_head, hd).transpose(1, 2)
        v = v.view(B, T, self.n_head, hd).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))  # (B, nh, T, T)
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        att = att.masked_fill(mask, float("-inf"))
        att = torch.softmax(att, -1)
        y = torch.matmul(att, v)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Mlp(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, eps=1e-5)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln_2 = nn.LayerNorm(n_embd, eps=1e-5)
        self.mlp = Mlp(n_embd)

    def forward(self, x):  # pre-norm residual block
        y = x + self.attn(self.ln_1(x))
        return y + self.mlp(self.ln_2(y))


class Gpt(nn.Module):
    """GPT-2 with the output projection tied to wte, initialised as core's GptImpl::initWeights."""

    def __init__(self, n_layer, n_head, n_embd, block_size, vocab_size):
        super().__init__()
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(0.0)
        self.h = nn.ModuleList(Block(n_embd, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd, eps=1e-5)
        proj_std = 0.02 / math.sqrt(2.0 * n_layer)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if "ln_" in name:
                    p.fill_(1.0) if name.endswith("weight") else p.zero_()
                elif name.endswith("bias"):
                    p.zero_()
                elif "c_proj.weight" in name:
                    p.normal_(0.0, proj_std)
                else:
                    p.normal_(0.0, 0.02)

    def forward(self, idx):  # idx: (B, T) -> logits (B, T, V)
        T = idx.size(1)
        pos = torch.arange(T, dtype=torch.long, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        return torch.matmul(self.ln_f(x), self.wte.weight.t())


class RmsNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate(x, cos, sin):  # x: (B, h, T, hd); cos, sin: (T, hd)
    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


LORA_OFF = [False]  # the reference pass: the same weights with the adapters off


class LoraLinear(nn.Module):
    """A frozen linear projection plus scale * B A x (LoRA: A Kaiming-uniform, B zero)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base, self.scale = base, alpha / r
        base.weight.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features).uniform_(-base.in_features ** -0.5,
                                                                            base.in_features ** -0.5))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))

    def forward(self, x):
        y = self.base(x)
        return y if LORA_OFF[0] else y + (x @ self.lora_A.t()) @ self.lora_B.t() * self.scale


class LlamaLayer(nn.Module):
    def __init__(self, d, heads, kv_heads, mlp, eps):
        super().__init__()
        self.heads, self.kv_heads, self.hd = heads, kv_heads, d // heads
        self.input_layernorm = RmsNorm(d, eps)
        self.q_proj = nn.Linear(d, heads * self.hd, bias=False)
        self.k_proj = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.v_proj = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.o_proj = nn.Linear(heads * self.hd, d, bias=False)
        self.post_attention_layernorm = RmsNorm(d, eps)
        self.gate_proj = nn.Linear(d, mlp, bias=False)
        self.up_proj = nn.Linear(d, mlp, bias=False)
        self.down_proj = nn.Linear(mlp, d, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        a = self.input_layernorm(x)
        q = rotate(self.q_proj(a).view(B, T, self.heads, self.hd).transpose(1, 2), cos, sin)
        k = rotate(self.k_proj(a).view(B, T, self.kv_heads, self.hd).transpose(1, 2), cos, sin)
        v = self.v_proj(a).view(B, T, self.kv_heads, self.hd).transpose(1, 2)
        rep = self.heads // self.kv_heads
        if rep > 1:
            k = k.unsqueeze(2).expand(B, self.kv_heads, rep, T, self.hd).reshape(B, self.heads, T, self.hd)
            v = v.unsqueeze(2).expand(B, self.kv_heads, rep, T, self.hd).reshape(B, self.heads, T, self.hd)
        att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.hd))
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        att = torch.softmax(att.masked_fill(mask, float("-inf")), -1)
        y = torch.matmul(att, v).transpose(1, 2).contiguous().view(B, T, self.heads * self.hd)
        x = x + self.o_proj(y)
        m = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(m)) * self.up_proj(m))


class Llama(nn.Module):
    """The Llama-family model of core/text/llama.cpp: tied head, rope_theta 10000, no biases."""

    def __init__(self, n_layer, n_head, n_kv_head, n_embd, mlp, vocab_size, eps=1e-5):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab_size, n_embd)
        self.layers = nn.ModuleList(LlamaLayer(n_embd, n_head, n_kv_head, mlp, eps) for _ in range(n_layer))
        self.norm = RmsNorm(n_embd, eps)
        hd = n_embd // n_head
        self.register_buffer("inv_freq", 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)),
                             persistent=False)
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.fill_(1.0) if "norm" in name else p.normal_(0.0, 0.02)

    def forward(self, idx):
        T = idx.size(1)
        freqs = torch.outer(torch.arange(T, dtype=torch.float64), self.inv_freq)
        emb = torch.cat((freqs, freqs), -1)
        cos, sin = emb.cos().float(), emb.sin().float()
        x = self.embed_tokens(idx)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return torch.matmul(self.norm(x), self.embed_tokens.weight.t())


def make_batch(a):
    """2*pairs rows of `block` ids (chosen rows, then rejected); prompt = first quarter, masked."""
    rng = random.Random(1234)
    prompt_len = a.prompt_len if a.prompt_len >= 0 else a.block // 4
    draw = lambda n: [rng.randrange(a.vocab) for _ in range(n)]
    prompts = [draw(prompt_len) for _ in range(a.pairs)]
    chosen = [p + draw(a.block - prompt_len) for p in prompts]
    rejected = [p + draw(a.block - prompt_len) for p in prompts]
    ids = torch.tensor(chosen + rejected, dtype=torch.long)  # (N, T)
    label_mask = torch.zeros(ids.size(0), a.block - 1)  # (N, T-1): label t+1 is a response token
    label_mask[:, prompt_len - 1:] = 1.0
    lengths = torch.full((ids.size(0),), float(a.block - prompt_len))
    return ids, label_mask, lengths


def sequence_logps(model, ids, label_mask, lengths):
    """Sums and means of response-token log-probs, (N,) each, from one forward."""
    logits = model(ids[:, :-1]).to(torch.float32)  # (N, T-1, V)
    lp = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    total = (lp * label_mask).sum(1)
    return total, total / lengths.clamp_min(1.0)


def dpo_loss(pc, pr, pcm, prm, rc, rr, beta, eps=0.0):
    """Sigmoid DPO (label smoothing eps, as TRL and core write it) and core's metrics."""
    chosen_ratio, rejected_ratio = pc - rc, pr - rr
    logits = beta * (chosen_ratio - rejected_ratio)
    losses = (1.0 - eps) * F.softplus(-logits) + eps * F.softplus(logits)
    rw, rl = (beta * chosen_ratio).detach(), (beta * rejected_ratio).detach()
    metrics = {
        "rewards/chosen": rw.mean(), "rewards/rejected": rl.mean(),
        "rewards/margins": (rw - rl).mean(), "rewards/accuracies": (rw > rl).float().mean(),
        "logps/chosen": pc.detach().mean(), "logps/rejected": pr.detach().mean(),
        "ranking/accuracy": (pc.detach() >= pr.detach()).float().mean(),
        "ranking/accuracy_len_norm": (pcm.detach() >= prm.detach()).float().mean(),
    }
    return losses.mean(), metrics


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    for name, default in [("layers", 4), ("heads", 4), ("d", 128), ("block", 128), ("pairs", 8),
                          ("vocab", 257), ("threads", 2), ("steps", 20), ("warmup", 3)]:
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--cached-ref", action="store_true")
    ap.add_argument("--arch", choices=["gpt2", "llama"], default="gpt2")
    ap.add_argument("--kv-heads", type=int, default=0)
    ap.add_argument("--mlp", type=int, default=0)
    ap.add_argument("--prompt-len", type=int, default=-1)
    ap.add_argument("--lora", type=int, default=0, help="llama: LoRA rank on q_proj and v_proj (alpha 2r)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--bf16", action="store_true", help="CUDA: bfloat16 autocast around the forwards")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    # Started as a rank of a group (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT): PyTorch's own
    # data parallel, DistributedDataParallel over Gloo, each rank with its share of the pairs.
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        if a.lora:
            raise SystemExit("--lora is not benchmarked data parallel")
        torch.distributed.init_process_group("gloo")
    torch.manual_seed(0)
    if a.arch == "llama":
        make = lambda: Llama(a.layers, a.heads, a.kv_heads or a.heads, a.d, a.mlp or 4 * a.d, a.vocab)
    else:
        make = lambda: Gpt(a.layers, a.heads, a.d, a.block, a.vocab)
    device = torch.device(a.device)
    policy = make().train().to(device)
    if a.lora:
        for p in policy.parameters():
            p.requires_grad_(False)
        for layer in policy.layers:
            layer.q_proj = LoraLinear(layer.q_proj, a.lora, 2 * a.lora)
            layer.v_proj = LoraLinear(layer.v_proj, a.lora, 2 * a.lora)

        class AdaptersOff(nn.Module):
            def forward(self, idx):
                LORA_OFF[0] = True
                try:
                    return policy(idx)
                finally:
                    LORA_OFF[0] = False
        reference = AdaptersOff()
    else:
        reference = make().eval().to(device)
        reference.load_state_dict(policy.state_dict())
        for p in reference.parameters():
            p.requires_grad_(False)
    trainable = [p for p in policy.parameters() if p.requires_grad]
    ids, label_mask, lengths = (x.to(device) for x in make_batch(a))
    if world > 1:  # this rank's contiguous share of the pairs (chosen rows, then rejected)
        lo, hi = rank * a.pairs // world, (rank + 1) * a.pairs // world
        rows = list(range(lo, hi)) + list(range(a.pairs + lo, a.pairs + hi))
        ids, label_mask, lengths = ids[rows], label_mask[rows], lengths[rows]
        model = torch.nn.parallel.DistributedDataParallel(policy)
    else:
        model = policy
    P = ids.size(0) // 2
    use_bf16 = a.bf16 and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_bf16 else contextlib.nullcontext

    if a.cached_ref:  # what a trainer reads from a reference-logp cache
        with torch.no_grad(), autocast():
            ref = sequence_logps(reference, ids, label_mask, lengths)[0]
        cached = (ref[:P].clone(), ref[P:].clone())

    optimizer = torch.optim.AdamW(trainable, lr=1e-4)

    def step():
        optimizer.zero_grad()
        with autocast():  # the forwards and the loss; backward outside, as the C++ side
            total, mean = sequence_logps(model, ids, label_mask, lengths)
            if a.cached_ref:
                rc, rr = cached
            else:
                with torch.no_grad():
                    ref = sequence_logps(reference, ids, label_mask, lengths)[0]
                rc, rr = ref[:P], ref[P:]
            loss, _ = dpo_loss(total[:P], total[P:], mean[:P], mean[P:], rc, rr, 0.1)
        loss.backward()  # DDP averages the ranks' gradients: equal shares give the group's mean
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        if world > 1:  # the group's loss, as the C++ side logs it
            loss = loss.detach() / world
            torch.distributed.all_reduce(loss)
        return loss.item()  # the same one sync per step as the C++ trainer

    for _ in range(a.warmup):
        step()
    seconds, cpu_seconds = [], []
    for _ in range(a.steps):
        t0, c0 = time.perf_counter(), time.process_time()  # process_time: CPU of all threads
        loss = step()
        cpu_seconds.append(time.process_time() - c0)
        seconds.append(time.perf_counter() - t0)

    s = statistics.median(seconds)
    tokens = 2 * a.pairs * a.block
    n = sum(p.numel() for p in policy.parameters())  # model FLOPs as the C++ side counts them
    attention = 12.0 * a.layers * a.d * a.block
    flops = tokens * ((6 * n + attention) + (0.0 if a.cached_ref else 2 * n + attention / 3))
    if rank == 0:  # every rank times the same steps of the group
      print(json.dumps({
        "impl": "python", "arch": a.arch, "device": str(device), "bf16": a.bf16, "params": n,
        "model_flops_per_s": flops / s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "tokens_per_s": tokens / s, "steps_per_s": 1.0 / s,
        "ms_per_step": 1e3 * s, "timing": "median", "ms_min_step": 1e3 * min(seconds),
        "cpu_ms_per_step": 1e3 * statistics.median(cpu_seconds), "loss": loss,
        "layers": a.layers, "heads": a.heads, "d": a.d, "block": a.block, "pairs": a.pairs,
        "vocab": a.vocab, "threads": a.threads, "steps": a.steps, "warmup": a.warmup,
        "cached_ref": a.cached_ref, "lora": a.lora, "processes": world}))


if __name__ == "__main__":
    main()
