#!/usr/bin/env python3
"""PyTorch's estimated bpp and PSNR for one image, to compare with `s2c-calibrate roundtrip`.

  python train/golden_check.py /work/shared/data/kodak/kodim23.png --quality 4
  python train/golden_check.py IMG --weights W.safetensors     # any s2c float weights file
  python train/golden_check.py IMG --dump trace.safetensors     # also save x, y, psi, y_hat, x_hat...
  python train/golden_check.py --random-weights OUT.safetensors --config hybrid-t   # test weights

Both sides crop x_hat to the image, clamp to [0, 1] and round 255 x (half to even) before PSNR.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s2c.config import DEFAULT_CONFIG, get_config  # noqa: E402
from s2c.export import load_model, save_weights  # noqa: E402
from s2c.model import HybridModel, bits_per_pixel, pad_to  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("image", nargs="?")
    p.add_argument("--weights", default=None, help="float weights (default Weights/<--config>.safetensors)")
    p.add_argument("--quality", type=float, default=4.0)
    p.add_argument("--random-weights", metavar="OUT", help="write randomly initialised weights (seed 0) and exit")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--dump", metavar="OUT", help="also save the traced tensors (F32 safetensors, padded size)")
    a = p.parse_args()
    if a.random_weights:
        torch.manual_seed(0)
        save_weights(HybridModel(get_config(a.config)).eval(), a.random_weights, torch.float32,
                     {"purpose": "random weights for runtime comparisons"})
        print(f"wrote {a.random_weights}")
        return
    if not a.image:
        p.error("an image is required")
    a.weights = a.weights or os.path.join(REPO, "Weights", f"{a.config}.safetensors")
    if not os.path.exists(a.weights):
        raise SystemExit(f"{a.weights} not found; train with train/train.py and export with train/export.py weights")
    model = load_model(a.weights)
    img = np.asarray(Image.open(a.image).convert("RGB"))
    h, w = img.shape[:2]
    x = torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() / 255
    t0 = time.time()
    trace = {}
    xp = pad_to(x, model.cfg.pad_multiple)
    with torch.no_grad():
        out = model(xp, torch.tensor([a.quality]), trace)
    dt = time.time() - t0
    if a.dump:
        from safetensors.torch import save_file
        vec = dict(trace, x=xp, quality=torch.tensor([a.quality]), y_lik=out["y_lik"], z_lik=out["z_lik"])
        save_file({k: v.detach().float().contiguous() for k, v in vec.items() if torch.is_tensor(v)}, a.dump)
    bpp = float(bits_per_pixel(out, h * w)[0])
    rec = torch.round(out["x_hat"][..., :h, :w].clamp(0, 1) * 255)
    mse = float(((rec - x * 255) ** 2).mean())
    psnr = math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)
    print(f"{a.image}: {w}x{h}, model {model.cfg.name}, quality {a.quality}")
    print(f"bpp {bpp:.6f} (estimated from likelihoods)")
    print(f"PSNR {psnr:.4f} dB (8-bit RGB)")
    print(f"time: forward {dt:.2f} s")


if __name__ == "__main__":
    main()
