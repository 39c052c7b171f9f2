#!/usr/bin/env python3
"""Parameter count per sub-network and MACs per pixel (encoder and decoder), counted by the
code from the model itself: conv/linear hooks plus the attention matmuls.

  python train/analyze.py --config hybrid-t [--size 512x768] [--markdown]
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s2c.config import DEFAULT_CONFIG, get_config  # noqa: E402
from s2c.layers import WindowAttention  # noqa: E402
from s2c.model import HybridModel  # noqa: E402

SUBNETS = [("g_a", "g_a"), ("g_s", "g_s"), ("h_a", "h_a"), ("h_s", "h_s"),
           ("channel context", "cc."), ("spatial context", "sc."), ("parameter aggregation", "pa."),
           ("factorized prior", "entropy_bottleneck"), ("gain units", "log_")]


def param_counts(model):
    out = {}
    for label, prefix in SUBNETS:
        out[label] = sum(p.numel() for n, p in model.named_parameters() if n.startswith(prefix))
    out["total"] = sum(p.numel() for p in model.parameters())
    return out


def mac_counts(model, h: int, w: int):
    """MACs per sub-network for one (h, w) image, as the reference computes them: the entropy
    model runs its parameter network densely for both checkerboard passes."""
    macs = defaultdict(int)
    hooks = []
    for name, mod in model.named_modules():
        top = next((lab for lab, pre in SUBNETS if name.startswith(pre.rstrip("."))), None)
        if top is None:
            continue
        if isinstance(mod, nn.Conv2d):
            def hk(m, i, o, top=top):
                macs[top] += o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
            hooks.append(mod.register_forward_hook(hk))
        elif isinstance(mod, nn.Linear):
            def hk(m, i, o, top=top):
                macs[top] += o.numel() * m.in_features
            hooks.append(mod.register_forward_hook(hk))
        if isinstance(mod, WindowAttention):
            def hk(m, i, o, top=top):
                b, c, hh, ww = i[0].shape
                macs[top] += 2 * b * hh * ww * m.window * m.window * c   # QK^T and AV
            hooks.append(mod.register_forward_hook(hk))
    model.eval()
    with torch.no_grad():
        model(torch.rand(1, 3, h, w), torch.tensor([4.0]))
    for hk in hooks:
        hk.remove()
    return dict(macs)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--size", default="512x768", help="HxW for the MAC count (multiple of 64)")
    a = p.parse_args()
    h, w = map(int, a.size.split("x"))
    model = HybridModel(get_config(a.config))
    pc = param_counts(model)
    mc = mac_counts(model, h, w)
    px = h * w
    print(f"# {a.config}: parameters and MACs (image {h}x{w}, {px} pixels)\n")
    print("| sub-network | parameters | MACs/pixel |")
    print("|---|---:|---:|")
    for label, _ in SUBNETS:
        print(f"| {label} | {pc[label]:,} | {mc.get(label, 0) / px:,.0f} |")
    print(f"| **total** | **{pc['total']:,}** | |")
    ent = sum(mc.get(k, 0) for k in ("channel context", "spatial context", "parameter aggregation"))
    enc = mc["g_a"] + mc["h_a"] + mc["h_s"] + ent
    dec = mc["h_s"] + ent + mc["g_s"]
    print(f"\nencoder (g_a + h_a + h_s + entropy model): {enc / px:,.0f} MACs/pixel, {enc / 1e9:.1f} GMAC for the image")
    print(f"decoder (h_s + entropy model + g_s):       {dec / px:,.0f} MACs/pixel, {dec / 1e9:.1f} GMAC for the image")


if __name__ == "__main__":
    main()
