#!/usr/bin/env python3
"""PyTorch fp32 reference of the decoder-side network, for scripts/bench-decode.sh.

  python scripts/bench-decode-torch.py WEIGHTS.safetensors IMAGE.png --quality Q --threads N --runs R

Times what a decoder computes after the entropy decoder hands it symbols: h_s(z_hat), the SCCTX
entropy-parameter networks (channel context, spatial context, parameter aggregation, group by
group, anchors then non-anchors) and g_s(y_hat * inv_gain), in float32 with the model's best CPU
settings (HybridModel.use_fast_cpu_paths: channels_last, explicit-matmul attention; the
parameter aggregation of each checkerboard pass on its own half of the pixels, as in training's
_entropy_y_split). No rANS: the reference has no entropy coder, which the integer decoders pay
for (a few percent of their time). g_a and h_a run once, untimed, to give the timed part the
image's real z_hat and y. Prints one line per run, "torch_s SECONDS cpu_s SECONDS" (wall and
process CPU time), then "macs MACS": the
multiply-adds of the timed network as run (conv / linear hooks + the attention matmuls).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch
import torch.nn as nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "train"))
from s2c.export import load_model  # noqa: E402
from s2c.layers import WindowAttention  # noqa: E402
from s2c.model import checkerboard_merge, checkerboard_split, pad_to  # noqa: E402


def load_png(path: str) -> torch.Tensor:
    from PIL import Image
    import numpy as np
    im = Image.open(path).convert("RGB")
    x = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)
    return x


@torch.inference_mode()
def decoder_side(model, z_hat: torch.Tensor, y: torch.Tensor, inv_gain: torch.Tensor) -> torch.Tensor:
    """h_s, the checkerboard x channel-group parameter networks (split passes) and g_s."""
    psi = model.h_s(z_hat)
    psi_a, psi_n = checkerboard_split(psi)
    y_hats = []
    start = 0
    for k, gk in enumerate(model.cfg.groups):
        yk = y[:, start:start + gk]
        start += gk
        cc_a = cc_n = None
        if k:
            cc_a, cc_n = checkerboard_split(model.cc[k](torch.cat(y_hats, 1)))
        ya, yn = checkerboard_split(yk)
        zeros = torch.zeros_like(psi_a[:, :1]).expand(-1, 2 * gk, -1, -1)
        _, m_a = model.group_params(k, zeros, cc_a, psi_a)
        ya_hat = torch.round(ya - m_a) + m_a
        sc = model.sc[k](checkerboard_merge(ya_hat, torch.zeros_like(ya_hat)))
        _, sc_n = checkerboard_split(sc)
        _, m_n = model.group_params(k, sc_n, cc_n, psi_n)
        yn_hat = torch.round(yn - m_n) + m_n
        y_hats.append(checkerboard_merge(ya_hat, yn_hat).contiguous(memory_format=torch.channels_last))
    return model.g_s(torch.cat(y_hats, 1) * inv_gain)


def count_macs(model, fn) -> int:
    """Multiply-adds of fn(): Conv2d / Linear by their output sizes, plus q k^T and p v."""
    total = [0]
    hooks = []
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            def conv_hook(m, i, o):
                total[0] += o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
            hooks.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, nn.Linear):
            def lin_hook(m, i, o):
                total[0] += o.numel() * m.in_features
            hooks.append(mod.register_forward_hook(lin_hook))
        elif isinstance(mod, WindowAttention):
            def attn_hook(m, i, o):
                b, c, h, w = i[0].shape
                total[0] += 2 * b * h * w * m.window * m.window * c   # q k^T and p v per token
            hooks.append(mod.register_forward_hook(attn_hook))
    fn()
    for h in hooks:
        h.remove()
    return total[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights")
    p.add_argument("image")
    p.add_argument("--quality", type=float, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = load_model(a.weights)
    model.use_fast_cpu_paths()
    x = pad_to(load_png(a.image), model.cfg.pad_multiple).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        gain, inv_gain = model.gains(torch.tensor([a.quality]))
        y = model.g_a(x) * gain
        eb = model.entropy_bottleneck
        med = eb.medians().view(1, -1, 1, 1)
        z_hat = torch.round(model.h_a(y) - med) + med
    run = lambda: decoder_side(model, z_hat, y, inv_gain)  # noqa: E731
    for _ in range(a.warmup):
        run()
    for _ in range(a.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        run()
        print(f"torch_s {time.perf_counter() - t0:.4f} cpu_s {time.process_time() - c0:.4f}", flush=True)
    print(f"macs {count_macs(model, run)}")
    print(f"capability {torch.backends.cpu.get_cpu_capability()}")


if __name__ == "__main__":
    main()
