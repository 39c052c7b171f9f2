#!/usr/bin/env python3
"""Time training steps of a model config under different speed options, interleaved A/B.

  python train/bench_step.py ref fast                       # hybrid-t, batch 4 of 128x128, bf16
  python train/bench_step.py ref ref+cl ref+cl+attn --rounds 6 --steps 2
  python train/bench_step.py --check                        # float32: fast paths == reference?
  python train/bench_step.py hybrid-t:fast hybrid-lite:fast  # two models in one interleaved run

A variant is a '+'-joined list of options:
  ref      the reference code paths (what train.py --no-fast runs)
  fast     HybridModel.use_fast_cpu_paths() + fused Adam (train.py --fast, the CPU default)
  cl       channels_last only          attn   explicit-matmul window attention only
  dw32     float32 depthwise convs     split  checkerboard-split parameter aggregation only
  fused    fused Adam                  compile  torch.compile(model)
  f32      no bfloat16 autocast (default: g_a/g_s in bfloat16, as train.py --bf16)
A variant may name its model config first (CONFIG:OPTIONS; default --config), so that models are
compared in one run. Every variant is built from the same seed; each round runs --steps steps of every variant (order
alternating between rounds) on one fixed random batch. Steps during which this process got less
than --min-share of the CPU time it asked for (other jobs running) are dropped and counted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s2c.config import DEFAULT_CONFIG, get_config  # noqa: E402
from s2c.layers import SepConv, WindowAttention  # noqa: E402
from s2c.model import HybridModel, bits_per_pixel  # noqa: E402

KNOWN = {"ref", "fast", "cl", "attn", "dw32", "split", "fused", "compile", "f32"}


class Variant:
    def __init__(self, spec: str, cfg_name: str, seed: int = 0):
        self.spec = spec
        if ":" in spec:
            cfg_name, spec = spec.split(":", 1)
        o = set(spec.split("+"))
        if o - KNOWN:
            raise SystemExit(f"unknown option(s) {sorted(o - KNOWN)} in '{spec}' (known: {sorted(KNOWN)})")
        torch.manual_seed(seed)
        m = HybridModel(get_config(cfg_name))
        m.bf16_transforms = "f32" not in o
        if "fast" in o:
            m.use_fast_cpu_paths()
        else:
            for mod in m.modules():
                if isinstance(mod, WindowAttention):
                    mod.explicit_softmax = "attn" in o
                if isinstance(mod, SepConv):
                    mod.dw_float32 = "dw32" in o
            m.split_checkerboard = "split" in o
            if "cl" in o:
                m.channels_last = True
                m.to(memory_format=torch.channels_last)
        m.train()
        self.model = m
        main = [p for n, p in m.named_parameters() if not n.endswith("quantiles")]
        aux = [p for n, p in m.named_parameters() if n.endswith("quantiles")]
        kw = {"fused": True} if o & {"fused", "fast"} else {}
        self.opt = torch.optim.Adam(main, lr=1e-4, **kw)
        self.aux_opt = torch.optim.Adam(aux, lr=1e-3)
        self.fwd = torch.compile(m) if "compile" in o else m
        self.lambdas = torch.tensor(m.cfg.lambdas)

    def loss(self, x, q, seed=None):
        if seed is not None:
            torch.manual_seed(seed)
        out = self.fwd(x, q.float())
        mse = (out["x_hat"] - x).pow(2).flatten(1).mean(1)
        bpp = bits_per_pixel(out, x.shape[-2] * x.shape[-1])
        return (bpp + self.lambdas[q - 1] * 255 ** 2 * mse).mean()

    def step(self, x, q, seed=None):
        """What Trainer.train_step does after drawing the batch."""
        loss = self.loss(x, q, seed)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        aux = self.model.aux_loss()
        self.aux_opt.zero_grad(set_to_none=True)
        aux.backward()
        self.aux_opt.step()
        return loss.item()


def check(a):
    """float32: loss and gradients of the fast paths against the reference on one batch."""
    g = torch.Generator().manual_seed(5)
    x = torch.rand(a.batch, 3, a.crop, a.crop, generator=g)
    q = torch.randint(1, 8, (a.batch,), generator=g)
    res = {}
    for spec in ("ref+f32", "fast+f32", "ref", "fast"):
        v = Variant(spec, a.config)
        loss = v.loss(x, q, seed=11)
        loss.backward()
        grads = torch.cat([p.grad.flatten() for p in v.model.parameters() if p.grad is not None])
        res[spec] = (loss.item(), grads)
        print(f"{spec:10s} loss {loss.item():.6f}  |grad| {grads.norm():.6f}", flush=True)
    worst = 0.0
    # The bf16 pairs are for scale: how far bfloat16 autocast itself moves loss and gradients.
    for r, f in (("ref+f32", "fast+f32"), ("ref+f32", "ref"), ("ref+f32", "fast"), ("ref", "fast")):
        (l0, g0), (l1, g1) = res[r], res[f]
        rel = abs(l1 - l0) / abs(l0)
        grel = ((g1 - g0).norm() / g0.norm()).item()
        print(f"{f} vs {r}: loss rel diff {rel:.2e}, gradient rel diff {grel:.2e}")
        if f == "fast+f32":
            worst = max(rel, grel)
    return worst


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variants", nargs="*", default=["ref", "fast"])
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--steps", type=int, default=2, help="steps of each variant per round")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per variant (compile happens here)")
    p.add_argument("--min-share", type=float, default=0.9)
    p.add_argument("--check", action="store_true", help="compare float32 loss/gradients of fast vs ref and exit")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {a.threads} threads, {a.config}, batch {a.batch} of {a.crop}x{a.crop}", flush=True)
    if a.check:
        worst = check(a)
        raise SystemExit(0 if worst < 1e-3 else 1)
    g = torch.Generator().manual_seed(5)
    x = torch.rand(a.batch, 3, a.crop, a.crop, generator=g)
    q = torch.randint(1, 8, (a.batch,), generator=g)
    vs = []
    for spec in a.variants:
        v = Variant(spec, a.config)
        t = time.time()
        for _ in range(a.warmup):
            v.step(x, q)
        print(f"{spec}: {a.warmup} warm-up steps {time.time() - t:.1f} s", flush=True)
        vs.append(v)
    times = {v.spec: [] for v in vs}
    dropped = {v.spec: 0 for v in vs}
    for r in range(a.rounds):
        for v in (vs if r % 2 == 0 else vs[::-1]):
            for _ in range(a.steps):
                t, c = time.perf_counter(), time.process_time()
                v.step(x, q)
                dt = time.perf_counter() - t
                if (time.process_time() - c) / (dt * a.threads) >= a.min_share:
                    times[v.spec].append(dt)
                else:
                    dropped[v.spec] += 1
        print(f"round {r}: " + "  ".join(f"{s} {statistics.median(t[-a.steps:]) if t else float('nan'):.3f}"
                                         for s, t in times.items()), flush=True)
    base = times[vs[0].spec]
    print(f"\n{'variant':28s} {'median s/step':>13s} {'min':>7s} {'x base (median)':>16s} {'x base (min)':>13s}  kept/dropped")
    for s, t in times.items():
        if not t or not base:
            print(f"{s:28s} no clean steps (dropped {dropped[s]})")
            continue
        print(f"{s:28s} {statistics.median(t):13.3f} {min(t):7.3f} {statistics.median(base) / statistics.median(t):16.2f} "
              f"{min(base) / min(t):13.2f}  {len(t)}/{dropped[s]}")


if __name__ == "__main__":
    main()
