#!/usr/bin/env python3
"""Export float weights, or the golden vectors the Swift float runtime is tested against.

  python train/export.py weights --checkpoint train/runs/hybrid-lite/checkpoint.pt   # -> Weights/hybrid-lite.safetensors
  python train/export.py weights --ema ...     # the moving average of the weights (train.py --ema)
  python train/export.py golden  -o Tests/CalibrateTests/Fixtures     # hybrid-nano, fixed seed
  python train/export.py golden --config hybrid-pico --weights-only -o DIR   # the fuzz model's weights (fuzz/make-model.sh)
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s2c.config import get_config  # noqa: E402
from s2c.ema import ema_state_into_model  # noqa: E402
from s2c.export import load_safetensors_into, save_weights  # noqa: E402
from s2c.model import HybridModel  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GOLDEN_SEED = 20261125
GOLDEN_QUALITY = 3.5            # fractional: exercises gain interpolation
GOLDEN_CROP = (200, 300, 64, 128)   # top, left, height, width in kodim23 (non-square on purpose)


def export_weights(args):
    s = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    model = HybridModel(get_config(s["config"]))
    model.load_state_dict(s["model"])
    meta = {"step": str(s["step"]), "samples": str(s["samples"])}
    args.out = args.out or os.path.join(REPO, "Weights", f"{s['config']}.safetensors")
    if args.ema:
        if not s.get("ema"):
            raise SystemExit(f"{args.checkpoint} has no EMA (trained without --ema, or before it existed)")
        ema_state_into_model(model, s["ema"])
        meta.update(ema_decay=str(s["ema"]["decay"]), ema_updates=str(s["ema"]["updates"]))
    dtype = torch.float16 if args.dtype == "f16" else torch.float32
    save_weights(model, args.out, dtype, meta)
    what = f"EMA of {s['ema']['updates']} updates" if args.ema else "weights"
    print(f"wrote {args.out} ({s['config']}, step {s['step']}, {s['samples']} samples, {what}, {args.dtype})")


def golden_model(config: str = "hybrid-nano") -> HybridModel:
    """A model (hybrid-nano) with a fixed seed and perturbed norms/biases/gains (so no tensor is trivial)."""
    torch.manual_seed(GOLDEN_SEED)
    model = HybridModel(get_config(config))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("quantiles"):
                p.add_(0.3 * torch.randn_like(p))          # non-zero medians
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn_like(p))
            elif "log_" in name:
                p.add_(0.1 * torch.randn_like(p))
        # The fixture stores float16 weights: compute the vectors with exactly those values.
        for p in model.parameters():
            p.copy_(p.half().float())
    return model.eval()


def export_golden(args):
    os.makedirs(args.out, exist_ok=True)
    model = golden_model(args.config)
    if args.weights_only:
        wpath = os.path.join(args.out, f"{args.config.removeprefix('hybrid-')}-weights.safetensors")
        save_weights(model, wpath, torch.float16, {"purpose": "untrained test model"})
        print(f"wrote {wpath} ({os.path.getsize(wpath)} bytes)")
        return
    assert args.config == "hybrid-nano", "golden vectors are hybrid-nano's (the Swift tests read them)"
    wpath = os.path.join(args.out, "nano-weights.safetensors")
    save_weights(model, wpath, torch.float16, {"purpose": "golden vectors for the Swift float runtime"})
    check = HybridModel(get_config("hybrid-nano"))
    load_safetensors_into(check, wpath)                  # vectors come from the file's weights
    check.eval()
    top, left, h, w = GOLDEN_CROP
    img = np.asarray(Image.open(os.path.join(REPO, "..", "shared", "data", "kodak", "kodim23.png")).convert("RGB"))
    x = torch.from_numpy(img[top:top + h, left:left + w].copy()).permute(2, 0, 1)[None].float() / 255
    trace = {}
    with torch.no_grad():
        out = check(x, torch.tensor([GOLDEN_QUALITY]), trace)
    vec = {"x": x, "quality": torch.tensor([GOLDEN_QUALITY]), "y_lik": out["y_lik"], "z_lik": out["z_lik"]}
    vec.update(trace)
    vec = {k: v.detach().float().contiguous() for k, v in vec.items()}
    gpath = os.path.join(args.out, "nano-golden.safetensors")
    save_file(vec, gpath, metadata={"seed": str(GOLDEN_SEED), "quality": str(GOLDEN_QUALITY),
                                    "crop": "kodim23 top=%d left=%d h=%d w=%d" % GOLDEN_CROP})
    for k, v in sorted(vec.items()):
        print(f"  {k:18s} {tuple(v.shape)}  min {v.min():.4f} max {v.max():.4f}")
    print(f"wrote {wpath} ({os.path.getsize(wpath)} bytes) and {gpath} ({os.path.getsize(gpath)} bytes)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("weights", help="checkpoint -> safetensors + config JSON")
    w.add_argument("--checkpoint", required=True, help="a train.py checkpoint (train/runs/<config>/checkpoint.pt)")
    w.add_argument("-o", "--out", default=None, help="default Weights/<config>.safetensors")
    w.add_argument("--dtype", choices=["f16", "f32"], default="f32")
    w.add_argument("--ema", action="store_true", help="export the checkpoint's moving average of the weights")
    g = sub.add_parser("golden", help="hybrid-nano golden vectors for the Swift tests")
    g.add_argument("-o", "--out", default=os.path.join(REPO, "Tests", "CalibrateTests", "Fixtures"))
    g.add_argument("--config", default="hybrid-nano", help="model configuration (train/s2c/config.py)")
    g.add_argument("--weights-only", action="store_true",
                   help="write only <name>-weights.safetensors (and .json), no golden vectors")
    a = p.parse_args()
    export_weights(a) if a.cmd == "weights" else export_golden(a)


if __name__ == "__main__":
    main()
