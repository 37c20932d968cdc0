#!/usr/bin/env python3
"""Reference values for tests/core/tst_wro.cpp, computed in PyTorch (float64) from the definitions:

  p(y beats y0)      = sigmoid(score(y) - score(y0))            (Bradley-Terry judge)
  R(y)               = mean_k h(p(y beats y0_k)),  h in {identity, log, logit}
  penalised R~(y)    = R(y) - beta * (log pi(y|x) - log pi_ref(y|x))
  RLOO advantage A_i = R~_i - mean_{j != i, same prompt} R~_j
  loss               = -mean_i A_i * log pi(y_i|x)   (A detached)

Run: python3 tests/data/objectives/wro_reference_values.py (a Python with torch)
"""
import torch

torch.set_default_dtype(torch.float64)

# Two prompts, K = 4 answers each.
rewards = torch.tensor([0.2, 0.9, 0.4, 0.7, 0.5, 0.5, 0.5, 0.5])
logp = torch.tensor([-10.0, -12.0, -8.0, -11.0, -9.0, -9.0, -9.0, -9.0], requires_grad=True)
ref = torch.tensor([-11.0, -11.0, -11.0, -11.0, -9.0, -9.5, -9.0, -8.0])
beta = 0.1
K = 4

pen = rewards - beta * (logp.detach() - ref)
g = pen.view(-1, K)
others = (g.sum(1, keepdim=True) - g) / (K - 1)
adv = (g - others).reshape(-1)
loss = -(adv * logp).mean()
loss.backward()
print("penalised", [f"{v:.10f}" for v in pen.tolist()])
print("advantages", [f"{v:.10f}" for v in adv.tolist()])
print("loss", f"{loss.item():.10f}")
print("dloss/dlogp", [f"{v:.10f}" for v in logp.grad.tolist()])

# One answer scored 1.5 against competitors scored 1.0, 2.0 and 0.0.
score = torch.tensor(1.5)
comp = torch.tensor([1.0, 2.0, 0.0])
p = torch.sigmoid(score - comp)
print("identity", f"{p.mean().item():.10f}")
print("log", f"{torch.log(p).mean().item():.10f}")
print("logit", f"{torch.logit(p).mean().item():.10f}")

# Mean with a normal 95% interval (population sd).
v = torch.tensor([0.0, 1.0, 0.5, 1.0])
half = 1.959963984540054 * v.std(unbiased=False) / v.numel() ** 0.5
print("mean interval", f"{v.mean().item():.10f}", f"{(v.mean() - half).item():.10f}",
      f"{(v.mean() + half).item():.10f}")
