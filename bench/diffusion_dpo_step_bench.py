# Times one Diffusion-DPO training step in plain PyTorch: the Python counterpart of
# diffusion_dpo_step_bench.cpp.
"""Diffusion-DPO step benchmark in plain PyTorch (the Python side of diffusion_dpo_step_bench.cpp).

The model is core/diffusion/unet.cpp's conditional UNet rewritten with torch.nn: the same
layers in the same order, with the same parameter names. A C++ model.pt loads into it with a
strict state-dict load. The step is core::pairPredictions, then the "diffusion-dpo" objective,
then zero_grad, backward, clip_grad_norm_(1.0) and AdamW(lr 1e-4), as in the C++ bench. Default
mode: one JSON line per --device, with the keys and key order of the C++ bench.

  --check MODEL_DIR   load the weights, run one forward on a fixed input (the recipe is
                      printed), print the sums and the first values of the eps prediction.

Run through run_diffusion_bench.sh, which sets OPENBLAS_NUM_THREADS=1 and OMP_WAIT_POLICY before
torch loads. Like core::setComputeThreads, this program also calls openblas_set_num_threads(1)
when the loaded BLAS exports it.
"""
import argparse
import ctypes
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Prompt token ids (core/diffusion/unet.h): bytes 0..255, 256 = ByteTokenizer's EOS (unused
# here), then the begin id that starts every prompt and the padding id.
PROMPT_BEGIN_ID = 257
PROMPT_PAD_ID = 258
PROMPT_VOCAB_SIZE = 259

# DiffusionConfig's defaults and its JSON keys (core/diffusion/diffusion_config.h).
DEFAULT_CONFIG = {
    "image_size": 28, "channels": 1, "base_channels": 32, "channel_mults": [1, 2, 2],
    "res_blocks": 1, "groups": 8, "dropout": 0.0, "text_dim": 64, "text_layers": 1,
    "text_heads": 4, "max_prompt_length": 48, "timesteps": 1000, "beta_schedule": "linear",
    "beta_start": 1e-4, "beta_end": 0.02, "prompt_dropout": 0.1, "guidance_scale": 3.0,
}


def resources_directory():
    """core::resourcesDirectory(): $PREFLAB_RESOURCES_DIR, else this source tree's resources/."""
    env = os.environ.get("PREFLAB_RESOURCES_DIR", "")
    return env if env else os.path.join(REPO, "resources")


def load_config(model_dir):
    """diffusion_config.json with missing keys defaulted; unknown keys are errors, as in C++."""
    with open(os.path.join(model_dir, "diffusion_config.json")) as f:
        raw = json.load(f)
    unknown = sorted(set(raw) - set(DEFAULT_CONFIG))
    if unknown:
        raise ValueError(f"{model_dir}/diffusion_config.json: unknown keys {unknown}")
    c = dict(DEFAULT_CONFIG, **raw)
    levels = len(c["channel_mults"])
    assert c["image_size"] % (1 << (levels - 1)) == 0, "image_size must be divisible by 2^(levels-1)"
    assert all(c["base_channels"] * m % c["groups"] == 0 for m in c["channel_mults"]), "groups"
    assert c["text_dim"] % c["text_heads"] == 0, "text_dim must be a multiple of text_heads"
    return c


def tokenize_prompts(prompts, max_length):
    """core::tokenizePrompts: UTF-8 bytes after the begin id, cut to max_length, padded. (B, L) int64."""
    ids = torch.full((len(prompts), max_length), PROMPT_PAD_ID, dtype=torch.long)
    for i, p in enumerate(prompts):
        tokens = list(p.encode("utf-8"))[: max_length - 1]
        ids[i, 0] = PROMPT_BEGIN_ID
        if tokens:
            ids[i, 1:1 + len(tokens)] = torch.tensor(tokens, dtype=torch.long)
    return ids


def timestep_embedding(t, dim):
    """core::timestepEmbedding: half sines, half cosines, freqs 10000^(-k/half). (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device)
                      / float(half))
    args = t.to(torch.float32).unsqueeze(1) * freqs.unsqueeze(0)
    emb = torch.cat([args.sin(), args.cos()], 1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


class TextEncoder(nn.Module):
    """Token + position embeddings, post-norm encoder layers with a padding mask, masked mean."""

    def __init__(self, c):
        super().__init__()
        d = c["text_dim"]
        self.token_embedding = nn.Embedding(PROMPT_VOCAB_SIZE, d)
        self.position_embedding = nn.Embedding(c["max_prompt_length"], d)
        # torch::nn::TransformerEncoderLayer: (L, B, D) input, post-norm, exact GELU, eps 1e-5.
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d, c["text_heads"], dim_feedforward=2 * d, dropout=0.0,
                                       activation="gelu")
            for _ in range(c["text_layers"]))
        self.ln_final = nn.LayerNorm(d)
        with torch.no_grad():
            self.token_embedding.weight.normal_(0.0, 0.02)
            self.position_embedding.weight.normal_(0.0, 0.02)

    def forward(self, ids):  # (B, L) -> (B, D)
        L = ids.size(1)
        pad = ids.eq(PROMPT_PAD_ID)  # (B, L), position 0 is never padding
        h = self.token_embedding(ids) + self.position_embedding(
            torch.arange(L, dtype=ids.dtype, device=ids.device)).unsqueeze(0)
        h = h.transpose(0, 1)  # (L, B, D)
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=pad)
        h = self.ln_final(h.transpose(0, 1))  # (B, L, D)
        keep = pad.logical_not().unsqueeze(2).to(h.dtype)
        return (h * keep).sum(1) / keep.sum(1)


class ResBlock(nn.Module):
    """GroupNorm, SiLU, conv, FiLM, GroupNorm, SiLU, dropout, conv, plus a (1x1) skip."""

    def __init__(self, cin, cout, emb_dim, groups, dropout):
        super().__init__()
        # Registration order as in ResBlockImpl (it fixes the order of parameters()).
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb_proj = nn.Linear(emb_dim, 2 * cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        film = self.emb_proj(F.silu(emb)).unsqueeze(2).unsqueeze(3).chunk(2, 1)
        h = self.norm2(h) * (1.0 + film[0]) + film[1]
        h = self.conv2(self.drop(F.silu(h)))
        return (self.skip(x) if self.skip is not None else x) + h


class UNet(nn.Module):
    """core::UNetImpl. Modules are built in the C++ order, so parameters() lists them alike."""

    def __init__(self, c):
        super().__init__()
        self.config = c
        base, emb_dim, groups, drop = c["base_channels"], 4 * c["base_channels"], c["groups"], c["dropout"]
        self.text_encoder = TextEncoder(c)
        self.time_mlp = nn.Sequential(nn.Linear(base, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.text_proj = nn.Linear(c["text_dim"], emb_dim)
        self.conv_in = nn.Conv2d(c["channels"], base, 3, padding=1)
        self.down, self.downsample = nn.ModuleList(), nn.ModuleList()
        self.up, self.upsample = nn.ModuleList(), nn.ModuleList()
        self.mid = nn.ModuleList()
        mults = c["channel_mults"]
        levels = len(mults)
        width = base
        for l in range(levels):
            out = base * mults[l]
            for _ in range(c["res_blocks"]):
                self.down.append(ResBlock(width, out, emb_dim, groups, drop))
                width = out
            if l + 1 < levels:
                self.downsample.append(nn.Conv2d(width, width, 3, padding=1, stride=2))
        self.mid.append(ResBlock(width, width, emb_dim, groups, drop))
        self.mid.append(ResBlock(width, width, emb_dim, groups, drop))
        for l in reversed(range(levels)):
            out = base * mults[l]
            for r in range(c["res_blocks"]):  # the first block also takes the skip
                self.up.append(ResBlock(width + out if r == 0 else width, out, emb_dim, groups, drop))
                width = out
            if l > 0:
                self.upsample.append(nn.Conv2d(width, width, 3, padding=1))
        self.norm_out = nn.GroupNorm(groups, width)
        self.conv_out = nn.Conv2d(width, c["channels"], 3, padding=1)
        with torch.no_grad():  # a fresh model predicts eps = 0
            self.conv_out.weight.zero_()
            self.conv_out.bias.zero_()

    def encode_prompts(self, ids):
        return self.text_encoder(ids)

    def predict(self, x, t, text):  # x: (B, C, H, W), t: (B,), text: (B, textDim) -> (B, C, H, W)
        c = self.config
        levels = len(c["channel_mults"])
        emb = self.time_mlp(timestep_embedding(t, c["base_channels"])) + self.text_proj(text)
        h = self.conv_in(x)
        skips, block = [], 0
        for l in range(levels):
            for _ in range(c["res_blocks"]):
                h = self.down[block](h, emb)
                block += 1
            skips.append(h)
            if l + 1 < levels:
                h = self.downsample[l](h)
        for m in self.mid:
            h = m(h, emb)
        block = 0
        for l in reversed(range(levels)):
            h = torch.cat([h, skips[l]], 1)
            for _ in range(c["res_blocks"]):
                h = self.up[block](h, emb)
                block += 1
            if l > 0:  # convolution first, then the nearest-neighbour doubling
                h = self.upsample[levels - 1 - l](h)
                h = F.interpolate(h, scale_factor=(2.0, 2.0), mode="nearest")
        return self.conv_out(F.silu(self.norm_out(h)))

    def forward(self, x, t, ids):
        return self.predict(x, t, self.encode_prompts(ids))


def load_unet(model_dir, weights=True):
    """core::loadDiffusionModel: config, then the tensors of the C++ torch::save archive."""
    model = UNet(load_config(model_dir))
    if weights:
        archive = torch.jit.load(os.path.join(model_dir, "model.pt"), map_location="cpu")
        model.load_state_dict(archive.state_dict(), strict=True)
    return model


class NoiseSchedule:
    """core::NoiseSchedule: betas and abar in double precision, kept as float32 tables."""

    def __init__(self, c):
        T = c["timesteps"]
        if c["beta_schedule"] == "cosine":
            s = 0.008
            f = lambda t: math.cos((t / float(T) + s) / (1.0 + s) * math.pi / 2.0) ** 2
            betas = [min(1.0 - f(float(t + 1)) / f(float(t)), 0.999) for t in range(T)]
        else:
            betas = [c["beta_start"] + (c["beta_end"] - c["beta_start"]) * float(t) / float(T - 1)
                     for t in range(T)]
        abar, product = [], 1.0
        for b in betas:
            product *= 1.0 - b
            abar.append(product)
        self.alpha_bar = abar  # doubles
        self.betas = torch.tensor(betas, dtype=torch.float64).to(torch.float32)
        self.alphas_cumprod = torch.tensor(abar, dtype=torch.float64).to(torch.float32)

    def add_noise(self, x0, t, eps):  # x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps
        abar = self.alphas_cumprod.to(x0.device).index_select(0, t.to(x0.device)).view(-1, 1, 1, 1)
        return abar.sqrt() * x0 + (1.0 - abar).sqrt() * eps


def noise_prediction(model, schedule, x0, t, eps, ids):
    return model(schedule.add_noise(x0, t, eps), t, ids)


def pair_predictions(policy, reference, schedule, w, l, t, eps, ids):
    """core::pairPredictions: one policy forward (grad) and one reference forward (no grad) over
    [winners; losers], each pair with one timestep and one noise."""
    B = w.size(0)
    x, tt, ee, ids2 = torch.cat([w, l]), torch.cat([t, t]), torch.cat([eps, eps]), torch.cat([ids, ids])
    pm = noise_prediction(policy, schedule, x, tt, ee, ids2)
    with torch.no_grad():
        pr = noise_prediction(reference, schedule, x, tt, ee, ids2)
    return {"predModelW": pm[:B], "predModelL": pm[B:2 * B], "predRefW": pr[:B],
            "predRefL": pr[B:2 * B], "noise": eps}


def _precision(t):  # lossPrecision: float64 stays, anything else becomes float32
    return t if t.dtype == torch.float64 else t.to(torch.float32)


def diffusion_mse(pred, noise):  # (B, C, H, W) -> (B,)
    return (_precision(pred) - _precision(noise)).pow(2).flatten(1).mean(1)


def diffusion_dpo_loss(inp, beta=5000.0):
    """core::diffusionDpoLoss: mean softplus(-inside), inside = -0.5 beta [(mse_w - mse_l) - (ref_w - ref_l)]."""
    mw = diffusion_mse(inp["predModelW"], inp["noise"])
    ml = diffusion_mse(inp["predModelL"], inp["noise"])
    rw = diffusion_mse(inp["predRefW"], inp["noise"]).detach()
    rl = diffusion_mse(inp["predRefL"], inp["noise"]).detach()
    inside = -0.5 * beta * ((mw - ml) - (rw - rl))
    loss = F.softplus(-inside).mean()
    metrics = {"implicit_acc": (inside > 0).to(inside.dtype).mean().detach(),
               "inside_term": inside.detach().mean(), "mse/model_w": mw.detach().mean(),
               "mse/model_l": ml.detach().mean(), "mse/ref_w": rw.mean(), "mse/ref_l": rl.mean()}
    return loss, metrics


def set_compute_threads(threads):
    """core::setComputeThreads: `threads` intra-op threads (0: all cores), one OpenBLAS thread."""
    n = threads if threads > 0 else max(1, os.cpu_count() or 1)
    torch.set_num_threads(n)
    libs = [None]  # the global namespace, then whatever BLAS this process has mapped
    try:
        with open("/proc/self/maps") as f:
            libs += sorted({line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]})
    except OSError:
        pass
    for lib in libs:
        try:
            fn = getattr(ctypes.CDLL(lib), "openblas_set_num_threads")
        except (OSError, AttributeError):
            continue
        fn(1)
        break
    return n


def resolve_device(name):  # core::resolveDevice
    if name == "cpu":
        return torch.device("cpu")
    if name not in ("cuda", "auto"):
        raise ValueError(f"device must be cpu, cuda or auto, not '{name}'")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if name == "cuda":
        raise RuntimeError("CUDA requested but this PyTorch build has no usable GPU")
    return torch.device("cpu")


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_on(device_name, model_dir, pairs, steps, warmup, random_init):
    device = resolve_device(device_name)
    reference = load_unet(model_dir, weights=not random_init).to(device).eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    policy = UNet(reference.config).to(device)  # core::cloneUNet: a new model, then the parameters
    policy.load_state_dict(reference.state_dict())
    for p in policy.parameters():
        p.requires_grad_(True)
    policy.train()
    schedule = NoiseSchedule(reference.config)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-4)
    c = reference.config
    S = c["image_size"]
    torch.manual_seed(0)  # on the CPU the same draws as the C++ bench: same images, t and eps
    w = (torch.rand(pairs, c["channels"], S, S) * 2 - 1).to(device)
    l = (torch.rand(pairs, c["channels"], S, S) * 2 - 1).to(device)
    prompts = ["a photo of a sneaker" if i % 2 else "a picture of an ankle boot" for i in range(pairs)]
    ids = tokenize_prompts(prompts, c["max_prompt_length"]).to(device)

    def step():
        t = torch.randint(c["timesteps"], (pairs,), dtype=torch.long, device=device)
        eps = torch.randn_like(w)
        inp = pair_predictions(policy, reference, schedule, w, l, t, eps, ids)
        loss, _ = diffusion_dpo_loss(inp)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        optimizer.step()

    for _ in range(warmup):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    seconds = time.perf_counter() - start
    return {"device": str(device), "pairs_per_step": pairs, "steps": steps, "seconds": seconds,
            "steps_per_s": steps / seconds, "images_per_s": steps * 2 * pairs / seconds,
            "threads": torch.get_num_threads(), "model": model_dir}


def check(model_dir):
    """One eval forward of the loaded model on a fixed, seeded input; prints what C++ can compare."""
    torch.set_num_threads(1)
    model = load_unet(model_dir).eval()
    c = model.config
    T, S, C = c["timesteps"], c["image_size"], c["channels"]
    prompts = ["a photo of a sneaker", "a picture of an ankle boot", "", "an image of a bag"]
    ts = [0, T // 100, T // 2, T - 1]
    torch.manual_seed(0)
    x = torch.randn(4, C, S, S)
    t = torch.tensor(ts, dtype=torch.long)
    ids = tokenize_prompts(prompts, c["max_prompt_length"])
    with torch.no_grad():
        text = model.encode_prompts(ids)
        eps = model.predict(x, t, text)
    quoted = ", ".join(json.dumps(p) for p in prompts)
    print(f"model: {model_dir}")
    print("input recipe (C++): torch::set_num_threads(1); model->eval(); torch::NoGradGuard g;")
    print(f"  torch::manual_seed(0); auto x = torch::randn({{4, {C}, {S}, {S}}});")
    print(f"  auto t = torch::tensor({{{', '.join(map(str, ts))}}}, torch::kLong);")
    print(f"  auto ids = tokenizePrompts({{{quoted}}}, {c['max_prompt_length']});")
    print("  auto text = model->encodePrompts(ids); auto eps = model->predict(x, t, text);")
    print(f"x.sum = {x.sum().item():.9g}  x[0,0,0,:4] = {[round(v, 7) for v in x[0, 0, 0, :4].tolist()]}")
    print(f"ids[0,:6] = {ids[0, :6].tolist()}")
    print(f"text.sum = {text.sum().item():.9g}  text[0,:4] = {[f'{v:.7g}' for v in text[0, :4].tolist()]}")
    print(f"eps.sum = {eps.sum().item():.9g}  eps.abs.sum = {eps.abs().sum().item():.9g}")
    print(f"eps per-sample sums = {[f'{v:.7g}' for v in eps.flatten(1).sum(1).tolist()]}")
    print(f"eps.flatten[:8] = {[f'{v:.7g}' for v in eps.flatten()[:8].tolist()]}")
    print(f"eps[3].flatten[-4:] = {[f'{v:.7g}' for v in eps[3].flatten()[-4:].tolist()]}")


def main():
    ap = argparse.ArgumentParser(description="Diffusion-DPO training step benchmark (Python PyTorch).")
    ap.add_argument("--model", default=os.path.join(resources_directory(), "fashion-reference"),
                    help="diffusion model folder (default: the embedded reference)")
    ap.add_argument("--device", action="append", help="cpu and/or cuda (repeatable; default cpu)")
    ap.add_argument("--pairs", type=int, default=64, help="pairs per step (images per step: twice this)")
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    ap.add_argument("--random-init", action="store_true",
                    help="fresh weights of --model's config instead of its model.pt (Python only)")
    ap.add_argument("--check", metavar="MODEL_DIR", help="weight parity check instead of timing")
    a = ap.parse_args()
    if a.check:
        check(a.check)
        return 0
    if a.pairs < 1 or a.steps < 1 or a.warmup < 0 or a.threads < 0:
        ap.error("--pairs and --steps must be positive, --warmup and --threads non-negative")
    try:
        set_compute_threads(a.threads)
        for d in a.device or ["cpu"]:
            line = bench_on(d, a.model, a.pairs, a.steps, a.warmup, a.random_init)
            # nlohmann::json::dump(): keys sorted, no spaces.
            print(json.dumps(line, sort_keys=True, separators=(",", ":")), flush=True)
    except Exception as e:  # noqa: BLE001 - one line like the C++ bench
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
