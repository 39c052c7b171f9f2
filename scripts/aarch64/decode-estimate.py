#!/usr/bin/env python3
"""Whole-decode cycle estimate for ARM cores from the layer shapes and llvm-mca (docs/kernels.md).

  python3 scripts/aarch64/decode-estimate.py [--weights Weights/hybrid-t.safetensors] [--size 768x512]
                                             [--model Weights/hybrid-t.s2cq] [--mca mca.json]

Counts the work of every kernel the integer decoder runs for one image (the decoder side: h_s, the
entropy-parameter networks with each checkerboard pass's parameter net on its own half, g_s), from the
float model's layer shapes (PyTorch forward hooks: the integer graph has the same layers), splits the
GEMMs into int16 and int8 ones as the .s2cq says (a conv's input bits), multiplies each count by the
cycles per unit of the NEON kernel that runs it (scripts/aarch64/mca.py, the steady-state inner loop),
and sums per CPU model, for the two aarch64 ladder levels: NEON (no dot product: Cortex-A53, A72) and
NEON + dotprod (A55, A76). Seconds at a nominal clock, one core and all cores (ideal scaling).

Not counted (so the real decode is slower): cache misses and memory bandwidth, the code around the inner
loops (GEMM requantization of each output, packing, LayerNorm statistics pass), im2col, pixel shuffle,
rescales, entropy decoding, model loading and the image write, OpenMP overhead.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "train"))

# Nominal clocks and core counts of boards with these cores (Raspberry Pi 3 / Zero 2: A53 1.2-1.4 GHz;
# RK3566 and similar: A55 1.8 GHz; Raspberry Pi 5: A76 2.4 GHz).
CPUS = {"cortex-a53": (1.2e9, 4, "neon"), "cortex-a55": (1.8e9, 4, "dotprod"), "cortex-a76": (2.4e9, 4, "dotprod")}

# op -> kernel (mca.py names) per ladder level
KERNEL_OF = {
    "neon": {"gemm_s16": "gemm_s16_neon_bcast", "gemm_s8": "gemm_s8_neon", "dwconv": "dwconv_s16_neon",
             "layernorm": "layernorm_s16_neon", "gelu_lut": "lut16_s16_neon", "gated": "gated_s16_neon",
             "add": "add_requant_s16_neon", "attn_qk": "window_attn_qk_neon", "attn_pv": "window_attn_pv_neon",
             "attn_softmax": ["window_attn_recip_neon", "window_attn_exp_neon"]},
    "dotprod": {"gemm_s16": "gemm_s16_neon_dotprod", "gemm_s8": "gemm_s8_neon_dotprod"},
}
# The kernels before issue 10 (for --before, with mca.py --root on that revision): the 4x4 dot-product
# int16 GEMM on both levels, the C LUT and residual-add loops, attention with a 64-bit division per
# probability (its scalar exp_lut loop is not counted).
KERNEL_BEFORE = {
    "neon": {"gemm_s16": "gemm_s16_neon_dot", "gemm_s8": "gemm_s8_neon", "dwconv": "dwconv_s16_neon",
             "layernorm": "layernorm_s16_neon", "gelu_lut": "lut16_s16_c", "gated": "gated_s16_neon",
             "add": "add_requant_s16_c", "attn_qk": "window_attn_qk_ref_neon", "attn_pv": "window_attn_pv_ref_neon",
             "attn_softmax": ["window_attn_div_ref_neon"]},
    "dotprod": {"gemm_s8": "gemm_s8_neon_dotprod"},
}


def s2cq_int8_convs(path: str) -> set:
    """Names of the convolutions whose N.conv says 8 input bits (docs/model-format.md)."""
    b = open(path, "rb").read()
    nm, nt = struct.unpack_from("<II", b, 12)
    d, _ = struct.unpack_from("<QQ", b, 20)
    o = 36
    for _ in range(nm):
        kl, = struct.unpack_from("<H", b, o); o += 2 + kl
        t = b[o]; o += 1
        if t in (0, 1): o += 4
        elif t in (2, 3): o += 8
        else:
            ln, = struct.unpack_from("<I", b, o); o += 4 + (ln if t == 4 else 4 * ln)
    out = set()
    for _ in range(nt):
        nl, = struct.unpack_from("<H", b, o); o += 2
        name = b[o:o + nl].decode(); o += nl
        r = b[o + 1]; o += 2 + 4 * r
        off, cnt = struct.unpack_from("<QQ", b, o); o += 16
        if name.endswith(".conv") and cnt == 20:
            if struct.unpack_from("<5i", b, d + off)[4] == 8:
                out.add(name[:-len(".conv")])
    return out


def count_work(weights: str, h: int, w: int, int8: set) -> dict:
    import torch
    import torch.nn as nn
    from s2c.export import load_model
    from s2c.layers import GatedFFN, LayerNorm2d, S2CBlock, SepConv, WindowAttention
    spec = importlib.util.spec_from_file_location("bdt", os.path.join(ROOT, "scripts", "bench-decode-torch.py"))
    bdt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bdt)
    model = load_model(weights)
    cfg = model.cfg
    work = {k: 0 for k in ["gemm_s16", "gemm_s8", "dwconv", "layernorm", "gelu_lut", "gated", "add",
                           "attn_qk", "attn_pv", "attn_softmax"]}
    names = {m: n for n, m in model.named_modules()}
    hooks = []

    def conv_hook(m, i, o):
        if m.groups > 1:
            work["dwconv"] += o.numel() * m.kernel_size[0] * m.kernel_size[1]
        else:
            key = "gemm_s8" if names[m] in int8 else "gemm_s16"
            work[key] += o.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]

    def lin_hook(m, i, o):
        work["gemm_s8" if names[m] in int8 else "gemm_s16"] += o.numel() * m.in_features

    def attn_hook(m, i, o):
        b, c, hh, ww = i[0].shape
        n = m.window * m.window
        work["attn_qk"] += b * hh * ww * n * c
        work["attn_pv"] += b * hh * ww * n * c
        work["attn_softmax"] += b * hh * ww * m.heads * n

    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_hook(lin_hook))
        elif isinstance(mod, WindowAttention):
            hooks.append(mod.register_forward_hook(attn_hook))
        elif isinstance(mod, LayerNorm2d):
            hooks.append(mod.register_forward_hook(lambda m, i, o: work.__setitem__("layernorm", work["layernorm"] + o.numel())))
        elif isinstance(mod, SepConv):
            hooks.append(mod.pw1.register_forward_hook(lambda m, i, o: work.__setitem__("gelu_lut", work["gelu_lut"] + o.numel())))
        elif isinstance(mod, GatedFFN):
            hooks.append(mod.fc2.register_forward_hook(lambda m, i, o: work.__setitem__("gated", work["gated"] + i[0].numel())))
        elif isinstance(mod, S2CBlock):
            hooks.append(mod.register_forward_hook(
                lambda m, i, o: work.__setitem__("add", work["add"] + (1 if m.kind == "identity" else 2) * o.numel())))
    with torch.inference_mode():
        hyper = cfg.hyper
        z_hat = torch.zeros(1, hyper, h // 64, w // 64)
        y = torch.zeros(1, cfg.latent, h // 16, w // 16)
        model.use_fast_cpu_paths()
        bdt.decoder_side(model, z_hat.contiguous(memory_format=torch.channels_last),
                         y.contiguous(memory_format=torch.channels_last), torch.ones(1, cfg.latent, 1, 1))
    for hk in hooks:
        hk.remove()
    return work


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=os.path.join(ROOT, "Weights", "hybrid-t.safetensors"))
    p.add_argument("--model", help="the .s2cq (which GEMMs are int8); default: next to the weights")
    p.add_argument("--size", default="768x512", help="WxH of the (padded) image")
    p.add_argument("--mca", help="mca.py --json output (default: run mca.py now)")
    p.add_argument("--before", action="store_true", help="the kernel set before issue 10 (pass --mca from "
                   "mca.py --root on that revision)")
    a = p.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    model = a.model or a.weights.replace(".safetensors", ".s2cq")
    int8 = s2cq_int8_convs(model) if os.path.exists(model) else set()
    if a.mca:
        rows = json.load(open(a.mca))
    else:
        out = os.path.join("/tmp", f"s2c-mca-{os.getpid()}.json")
        subprocess.run([sys.executable, os.path.join(HERE, "mca.py"), "--json", out], check=True,
                       stdout=subprocess.DEVNULL)
        rows = json.load(open(out))
        os.unlink(out)
    cyc = {r["kernel"]: {c: (v / r["units"] if v else None) for c, v in r["cycles"].items()} for r in rows}
    work = count_work(a.weights, h, w, int8)
    print(f"{os.path.basename(a.weights)}, {w}x{h}: work per kernel (decoder side)")
    for k, v in work.items():
        print(f"  {k:13s} {v / 1e6:12.1f} M")
    kset = KERNEL_BEFORE if a.before else KERNEL_OF
    for level in ("neon", "dotprod"):
        kmap = dict(kset["neon"])
        kmap.update(kset[level])
        print(f"\nladder level {level}: Gcycles per op (llvm-mca inner loops)")
        cpus = [c for c in CPUS if level == "neon" or CPUS[c][2] == "dotprod"]
        print(f"  {'op':13s} " + " ".join(f"{c:>11s}" for c in cpus))
        total = {c: 0.0 for c in cpus}
        for op, units in work.items():
            ks = kmap[op] if isinstance(kmap[op], list) else [kmap[op]]
            cells = []
            for c in cpus:
                per = sum(cyc[k][c] for k in ks) if all(k in cyc and cyc[k][c] for k in ks) else None
                if per is None:
                    cells.append(f"{'n/a':>11s}")
                    continue
                total[c] += units * per
                cells.append(f"{units * per / 1e9:11.2f}")
            print(f"  {op:13s} " + " ".join(cells))
        print(f"  {'total':13s} " + " ".join(f"{total[c] / 1e9:11.2f}" for c in cpus))
        for c in cpus:
            hz, cores, _ = CPUS[c]
            print(f"  {c}: {total[c] / hz:.1f} s on one core at {hz / 1e9:.1f} GHz, {total[c] / hz / cores:.1f} s on {cores}"
                  f" (ideal scaling); {work['gemm_s16'] + work['gemm_s8']:.3g} GEMM MAC at "
                  f"{(work['gemm_s16'] * cyc[kmap['gemm_s16']][c] + work['gemm_s8'] * (cyc[kmap['gemm_s8']][c] or 0)) / total[c] * 100:.0f}% of the cycles")


if __name__ == "__main__":
    main()
