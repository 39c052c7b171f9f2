#!/usr/bin/env python3
"""Kodak evaluation of float weights: per quality level, mean bpp (from the likelihoods),
PSNR and MS-SSIM of the 8-bit reconstruction. Writes a CSV (one row per image and quality,
plus a mean row per quality).

  python train/evaluate.py --weights Weights/hybrid-lite.safetensors -o eval.csv
  python train/evaluate.py --checkpoint train/runs/hybrid-t/checkpoint.pt --max-images 4
  python train/evaluate.py --codec jpeg -o jpeg.csv          # reference curves: real file sizes
  python train/evaluate.py --codec webp -o webp.csv          #   cwebp -m 6 (-q sweep)
  python train/evaluate.py --codec avif -o avif.csv          #   avifenc -s 4 -y 444 (quantizer sweep)

Reference codecs (--codec): their own command-line encoders with the settings below; a "quality"
is the encoder's own knob (JPEG/WebP -q, AVIF the fixed colour quantizer --min = --max, lower is
better); bpp from the file size; JPEG is decoded by PIL (libjpeg-turbo), WebP and AVIF by dwebp
and avifdec to PNG; PSNR and MS-SSIM on the 8-bit RGB result as for the model.
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import os
import subprocess
import sys
import tempfile
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


# Reference codecs: encoder command (input PNG, quality, output file), decoder command (file, PNG
# out; None: PIL decodes), the file suffix, default quality sweep, and the Debian package.
CODECS = {
    "jpeg": (lambda i, q, o: ["cjpeg", "-quality", str(q), "-optimize", "-outfile", o, i], None, ".jpg",
             [5, 10, 20, 30, 50, 75, 90], "libjpeg-turbo-progs"),
    "webp": (lambda i, q, o: ["cwebp", "-quiet", "-m", "6", "-q", str(q), i, "-o", o],
             lambda f, o: ["dwebp", "-quiet", f, "-o", o], ".webp", [5, 15, 30, 50, 70, 85, 95], "webp"),
    "avif": (lambda i, q, o: ["avifenc", "-s", "4", "-y", "444", "--min", str(q), "--max", str(q), "-j", "1", i, o],
             lambda f, o: ["avifdec", f, o], ".avif", [56, 50, 44, 38, 32, 26, 20], "libavif-bin"),
}


def eval_codec(name, paths, qualities, log):
    enc_cmd, dec_cmd, suffix, _, package = CODECS[name]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            a = load_rgb(path)
            x = to_tensor(a) * 255
            # The stored RGB samples (no colour chunks to apply); cjpeg 2.1 reads PPM, not PNG.
            src = os.path.join(tmp, "in.ppm" if name == "jpeg" else "in.png")
            Image.fromarray(a).save(src)
            for q in qualities:
                out, png = os.path.join(tmp, "out" + suffix), os.path.join(tmp, "dec.png")
                try:
                    subprocess.run(enc_cmd(src, q, out), capture_output=True, check=True)
                    if dec_cmd:
                        subprocess.run(dec_cmd(out, png), capture_output=True, check=True)
                except FileNotFoundError as e:
                    raise SystemExit(f"{e.filename} not found: install the Debian package {package}")
                except subprocess.CalledProcessError as e:
                    raise SystemExit(f"{name} at quality {q} failed on {path}: {e.stderr.decode(errors='replace')[-300:]}")
                dec = np.asarray(Image.open(png if dec_cmd else out).convert("RGB"))
                psnr, msssim = quality_metrics(x, to_tensor(dec) * 255)
                rows.append({"image": os.path.basename(path), "quality": q,
                             "bpp": 8 * os.path.getsize(out) / (a.shape[0] * a.shape[1]), "psnr": psnr, "ms_ssim": msssim})
            log(f"{name}: {os.path.basename(path)} done")
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
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--weights", default=None, help="float safetensors (train/export.py weights)")
    src.add_argument("--checkpoint", default=None)
    src.add_argument("--codec", choices=sorted(CODECS), help="evaluate a reference codec instead of the model")
    src.add_argument("--jpeg", action="store_const", const="jpeg", dest="codec", help="same as --codec jpeg")
    p.add_argument("--images", default=KODAK)
    p.add_argument("--max-images", type=int, default=0)
    p.add_argument("--qualities", default=None, help="comma list (default: the model's levels; a codec: its "
                   "sweep in CODECS)")
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
    if a.codec:
        qs = [int(v) for v in a.qualities.split(",")] if a.qualities else CODECS[a.codec][3]
        rows = eval_codec(a.codec, paths, qs, log)
    else:
        if a.checkpoint:
            s = torch.load(a.checkpoint, map_location="cpu", weights_only=False)
            model = HybridModel(get_config(s["config"]))
            model.load_state_dict(s["model"])
            model.eval()
            log(f"checkpoint step {s['step']}, {s['samples']} samples")
        else:
            path = a.weights
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
