#!/usr/bin/env python3
"""Rate-distortion tables and Bjontegaard deltas for docs/results.md.

Reads the float model's Kodak CSV (train/evaluate.py -o), the integer codec's JSON
(s2c-int eval --json) and optionally a JPEG CSV (train/evaluate.py --jpeg -o), and prints a
Markdown report: mean bpp / PSNR / MS-SSIM per quality for float and integer, and BD-rate
(integer vs float; both vs JPEG) on PSNR and on MS-SSIM.

  python train/results.py --float float.csv --int int.json --jpeg jpeg.csv > part.md

BD-rate follows Bjontegaard (VCEG-M33): log10(rate) fitted by a cubic polynomial of the quality
metric, integrated over the overlapping metric interval; the result is the mean rate difference
in percent (negative = fewer bits for the same quality). MS-SSIM is used in dB,
-10 log10(1 - MS-SSIM), as is customary.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import defaultdict

import numpy as np


def bd_rate(rate_a, metric_a, rate_b, metric_b) -> float:
    """Mean bit-rate difference of curve b against curve a in percent at equal metric
    (negative: b needs fewer bits). Needs at least 4 points per curve; points are sorted."""
    ra, ma = np.asarray(rate_a, float), np.asarray(metric_a, float)
    rb, mb = np.asarray(rate_b, float), np.asarray(metric_b, float)
    if min(len(ra), len(rb)) < 4:
        raise ValueError("BD-rate needs at least 4 rate points per curve")
    if np.any(ra <= 0) or np.any(rb <= 0):
        raise ValueError("rates must be positive")
    pa = np.polyfit(ma, np.log10(ra), 3)
    pb = np.polyfit(mb, np.log10(rb), 3)
    lo, hi = max(ma.min(), mb.min()), min(ma.max(), mb.max())
    if hi <= lo:
        raise ValueError("the curves do not overlap in quality")
    ia, ib = np.polyint(pa), np.polyint(pb)
    avg_a = (np.polyval(ia, hi) - np.polyval(ia, lo)) / (hi - lo)
    avg_b = (np.polyval(ib, hi) - np.polyval(ib, lo)) / (hi - lo)
    return (10 ** (avg_b - avg_a) - 1) * 100


def bd_metric(rate_a, metric_a, rate_b, metric_b) -> float:
    """Mean metric difference of curve b against a at equal rate (BD-PSNR when metric is PSNR)."""
    la, lb = np.log10(np.asarray(rate_a, float)), np.log10(np.asarray(rate_b, float))
    ma, mb = np.asarray(metric_a, float), np.asarray(metric_b, float)
    pa, pb = np.polyfit(la, ma, 3), np.polyfit(lb, mb, 3)
    lo, hi = max(la.min(), lb.min()), min(la.max(), lb.max())
    if hi <= lo:
        raise ValueError("the curves do not overlap in rate")
    ia, ib = np.polyint(pa), np.polyint(pb)
    return ((np.polyval(ib, hi) - np.polyval(ib, lo)) - (np.polyval(ia, hi) - np.polyval(ia, lo))) / (hi - lo)


def msssim_db(v: float) -> float:
    return -10 * math.log10(max(1 - v, 1e-10))


def means(rows):
    """rows: dicts with image, quality, bpp, psnr, msssim (float or nan) -> sorted per-quality means."""
    by_q = defaultdict(list)
    for r in rows:
        by_q[float(r["quality"])].append(r)
    out = []
    for q in sorted(by_q):
        rs = by_q[q]
        ms = [r["msssim"] for r in rs]
        out.append({
            "quality": q, "n": len(rs),
            "bpp": sum(r["bpp"] for r in rs) / len(rs),
            "psnr": sum(r["psnr"] for r in rs) / len(rs),
            "msssim": sum(ms) / len(ms) if all(not math.isnan(m) for m in ms) else float("nan"),
            "images": sorted(r["image"] for r in rs),
            **({"encode_s": sum(r["encode_s"] for r in rs) / len(rs),
                "decode_s": sum(r["decode_s"] for r in rs) / len(rs)} if "encode_s" in rs[0] else {}),
        })
    return out


def read_csv(path):
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["image"] in ("MEAN", "mean", ""):
                continue
            rows.append({"image": r["image"], "quality": float(r["quality"]), "bpp": float(r["bpp"]),
                         "psnr": float(r["psnr"]),
                         "msssim": float(r["ms_ssim"]) if r.get("ms_ssim") not in (None, "", "nan") else float("nan")})
    return rows


def read_int_json(path):
    with open(path) as f:
        items = json.load(f)
    return [{"image": r["image"], "quality": float(r["quality"]), "bpp": r["bpp"], "psnr": r["psnr"],
             "msssim": r["msssim"] if r["msssim"] is not None else float("nan"),
             "encode_s": r["encode_s"], "decode_s": r["decode_s"]} for r in items]


def curve(m, key):
    rates = [p["bpp"] for p in m]
    if key == "psnr":
        return rates, [p["psnr"] for p in m]
    return rates, [msssim_db(p["msssim"]) for p in m]


def fmt_bd(fn, a, b, key):
    try:
        return f"{fn(*curve(a, key), *curve(b, key)):+.2f}"
    except (ValueError, np.linalg.LinAlgError):
        return "n/a"


def report(float_rows, int_rows, jpeg_rows=None) -> str:
    fm, im = means(float_rows), means(int_rows)
    if [p["images"] for p in fm] != [p["images"] for p in im] or [p["quality"] for p in fm] != [p["quality"] for p in im]:
        raise ValueError("float and integer results cover different images or qualities")
    lines = [f"Images: {fm[0]['n']} ({', '.join(fm[0]['images'][:3])}{', ...' if fm[0]['n'] > 3 else ''}); "
             "float bpp from the model's likelihoods, integer bpp from the real .s2c file sizes.", "",
             "| quality | float bpp | float PSNR | float MS-SSIM | int bpp | int PSNR | int MS-SSIM | "
             "bpp int/float | PSNR int-float |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for f, i in zip(fm, im):
        lines.append(f"| {f['quality']:g} | {f['bpp']:.4f} | {f['psnr']:.3f} | {f['msssim']:.4f} | {i['bpp']:.4f} | "
                     f"{i['psnr']:.3f} | {i['msssim']:.4f} | {i['bpp'] / f['bpp']:.4f} | {i['psnr'] - f['psnr']:+.3f} |")
    lines += ["", "| comparison | BD-rate PSNR (%) | BD-PSNR (dB) | BD-rate MS-SSIM (%) |", "|---|---:|---:|---:|",
              f"| integer vs float | {fmt_bd(bd_rate, fm, im, 'psnr')} | {fmt_bd(bd_metric, fm, im, 'psnr')} | "
              f"{fmt_bd(bd_rate, fm, im, 'msssim')} |"]
    if jpeg_rows:
        jm = means(jpeg_rows)
        for name, m in (("float", fm), ("integer", im)):
            lines.append(f"| {name} vs JPEG | {fmt_bd(bd_rate, jm, m, 'psnr')} | {fmt_bd(bd_metric, jm, m, 'psnr')} | "
                         f"{fmt_bd(bd_rate, jm, m, 'msssim')} |")
    if "encode_s" in im[0]:
        enc = sum(p["encode_s"] for p in im) / len(im)
        dec = sum(p["decode_s"] for p in im) / len(im)
        lines += ["", f"Integer codec mean time per image: encode {enc:.2f} s, decode {dec:.2f} s."]
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--float", dest="float_csv", required=True, help="train/evaluate.py CSV of the float model")
    p.add_argument("--int", dest="int_json", required=True, help="s2c-int eval --json output")
    p.add_argument("--jpeg", dest="jpeg_csv", default=None, help="train/evaluate.py --jpeg CSV")
    a = p.parse_args()
    try:
        sys.stdout.write(report(read_csv(a.float_csv), read_int_json(a.int_json),
                                read_csv(a.jpeg_csv) if a.jpeg_csv else None))
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        sys.exit(f"results: {e}")


if __name__ == "__main__":
    main()
