#!/usr/bin/env python3
"""Kodak evaluation of float weights: per quality level, mean bpp (from the likelihoods),
PSNR and MS-SSIM of the 8-bit reconstruction. Writes a CSV (one row per image and quality,
plus a mean row per quality).

  python train/evaluate.py --weights Weights/hybrid-t.safetensors -o train/eval.csv
  python train/evaluate.py --checkpoint train/runs/hybrid-t/checkpoint.pt --max-images 4
  python train/evaluate.py --jpeg -o train/jpeg.csv          # cjpeg reference curve
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
from PIL import Image
from pytorch_msssim import ms_ssim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s2c.config import get_config  # noqa: E402
from s2c.data import list_images, load_rgb  # noqa: E402
from s2c.export import load_model  # noqa: E402
from s2c.model import HybridModel, bits_per_pixel, pad_to  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KODAK = os.path.join(REPO, "..", "shared", "data", "kodak")


def to_tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a.copy()).permute(2, 0, 1)[None].float() / 255


def quality_metrics(x8: torch.Tensor, r8: torch.Tensor):
    """x8, r8: (1, 3, H, W) float tensors holding 8-bit values."""
    mse = (x8 - r8).pow(2).mean().item()
    psnr = 10 * math.log10(255 ** 2 / mse) if mse > 0 else float("inf")
    msssim = ms_ssim(x8, r8, data_range=255).item() if min(x8.shape[-2:]) > 160 else float("nan")
    return psnr, msssim


def eval_model(model, paths, qualities, log):
    rows = []
    for i, path in enumerate(paths):
        x = to_tensor(load_rgb(path))
        h, w = x.shape[-2:]
        t0 = time.time()
        with torch.no_grad():
            y = model.g_a(pad_to(x, model.cfg.pad_multiple))
            for q in qualities:
                out = model.code(y, torch.tensor([float(q)]))
                bpp = bits_per_pixel(out, h * w).item()
                r8 = out["x_hat"][..., :h, :w].clamp(0, 1).mul(255).round()
                psnr, msssim = quality_metrics(x * 255, r8)
                rows.append({"image": os.path.basename(path), "quality": q, "bpp": bpp, "psnr": psnr, "ms_ssim": msssim})
        log(f"[{i + 1}/{len(paths)}] {os.path.basename(path)} {time.time() - t0:.1f}s "
            + " ".join(f"q{r['quality']}:{r['bpp']:.3f}/{r['psnr']:.2f}" for r in rows[-len(qualities):]))
    return rows


def eval_jpeg(paths, qualities, log):
    rows = []
    for path in paths:
        a = load_rgb(path)
        x = to_tensor(a) * 255
        ppm = io.BytesIO()
        Image.fromarray(a).save(ppm, format="PPM")
        for q in qualities:
            enc = subprocess.run(["cjpeg", "-quality", str(q), "-optimize"], input=ppm.getvalue(),
                                 capture_output=True, check=True).stdout
            dec = np.asarray(Image.open(io.BytesIO(enc)).convert("RGB"))
            psnr, msssim = quality_metrics(x, to_tensor(dec) * 255)
            rows.append({"image": os.path.basename(path), "quality": q,
                         "bpp": 8 * len(enc) / (a.shape[0] * a.shape[1]), "psnr": psnr, "ms_ssim": msssim})
        log(f"{os.path.basename(path)} done")
    return rows


def with_means(rows):
    out = list(rows)
    for q in sorted({r["quality"] for r in rows}):
        sel = [r for r in rows if r["quality"] == q]
        out.append({"image": "MEAN", "quality": q, **{k: float(np.mean([r[k] for r in sel]))
                                                      for k in ("bpp", "psnr", "ms_ssim")}})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--weights", default=None, help="float safetensors (default Weights/hybrid-t.safetensors)")
    src.add_argument("--checkpoint", default=None)
    src.add_argument("--jpeg", action="store_true", help="evaluate cjpeg instead of the model")
    p.add_argument("--images", default=KODAK)
    p.add_argument("--max-images", type=int, default=0)
    p.add_argument("--qualities", default=None, help="comma list (default 1..7; JPEG: 5,10,...,95)")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("-o", "--out", default=None, help="CSV path (default: print means only)")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    paths = list_images(a.images)
    if a.max_images:
        paths = paths[:a.max_images]
    if not paths:
        raise SystemExit(f"no images in {a.images}")
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    if a.jpeg:
        qs = [int(v) for v in a.qualities.split(",")] if a.qualities else list(range(5, 100, 5))
        rows = eval_jpeg(paths, qs, log)
    else:
        if a.checkpoint:
            s = torch.load(a.checkpoint, map_location="cpu", weights_only=False)
            model = HybridModel(get_config(s["config"]))
            model.load_state_dict(s["model"])
            model.eval()
            log(f"checkpoint step {s['step']}, {s['samples']} samples")
        else:
            path = a.weights or os.path.join(REPO, "Weights", "hybrid-t.safetensors")
            if not os.path.exists(path):
                raise SystemExit(f"{path} not found: train with train/train.py and export with train/export.py weights")
            model = load_model(path)
        qs = [float(v) for v in a.qualities.split(",")] if a.qualities else list(range(1, model.cfg.qualities + 1))
        rows = eval_model(model, paths, qs, log)
    rows = with_means(rows)
    if a.out:
        with open(a.out, "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=["image", "quality", "bpp", "psnr", "ms_ssim"])
            wr.writeheader()
            wr.writerows(rows)
    print("quality,bpp,psnr,ms_ssim")
    for r in rows:
        if r["image"] == "MEAN":
            print(f"{r['quality']},{r['bpp']:.4f},{r['psnr']:.3f},{r['ms_ssim']:.4f}")


if __name__ == "__main__":
    main()
