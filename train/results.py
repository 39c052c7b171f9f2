#!/usr/bin/env python3
"""Rate-distortion tables and Bjontegaard deltas for docs/results.md.

Reads, for each model, the float model's Kodak CSV (train/evaluate.py -o) and the integer codec's
JSON (s2c-int eval --json), and the reference codecs' CSVs (train/evaluate.py --codec NAME -o), and
prints a Markdown report: per model, mean bpp / PSNR / MS-SSIM per quality for float and integer
and their BD-rates; then every model's integer codec against every reference codec (BD-rate on
PSNR and MS-SSIM, BD-PSNR, over the overlapping range); optionally an RD plot (PNG).

  python train/results.py --model hybrid-lite lite-float.csv lite-int.json \
      --model hybrid-t t-float.csv t-int.json --ref JPEG jpeg.csv --ref WebP webp.csv \
      --ref AVIF avif.csv --plot docs/rd-kodak.png > tables.md

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


def overlap(a, b):
    """The PSNR interval both curves cover (dB), as text."""
    lo = max(min(p["psnr"] for p in a), min(p["psnr"] for p in b))
    hi = min(max(p["psnr"] for p in a), max(p["psnr"] for p in b))
    return f"{lo:.1f}-{hi:.1f}" if hi > lo else "none"


def comparison(models, refs) -> str:
    """models: [(name, integer rows)], refs: [(name, rows)] -> the BD table of every model's
    integer codec against every reference, and the references' own curves."""
    lines = ["| integer codec | vs | BD-rate PSNR (%) | BD-PSNR (dB) | BD-rate MS-SSIM (%) | PSNR range (dB) |",
             "|---|---|---:|---:|---:|---|"]
    for name, rows_ in models:
        m = means(rows_)
        for rname, rrows in refs:
            r = means(rrows)
            lines.append(f"| {name} | {rname} | {fmt_bd(bd_rate, r, m, 'psnr')} | {fmt_bd(bd_metric, r, m, 'psnr')} | "
                         f"{fmt_bd(bd_rate, r, m, 'msssim')} | {overlap(r, m)} |")
    for rname, rrows in refs:
        r = means(rrows)
        lines += ["", f"{rname} ({r[0]['n']} images): " + ", ".join(
            f"{p['quality']:g}: {p['bpp']:.3f} bpp / {p['psnr']:.2f} dB" for p in r)]
    return "\n".join(lines) + "\n"


def plot(models, refs, path: str) -> None:
    """PSNR against bpp of every curve (integer codecs solid, references dashed), as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    for name, rows_ in models:
        m = means(rows_)
        ax.plot([p["bpp"] for p in m], [p["psnr"] for p in m], "o-", lw=2, label=f"s2c {name} (integer)")
    for rname, rrows in refs:
        r = means(rrows)
        ax.plot([p["bpp"] for p in r], [p["psnr"] for p in r], "s--", lw=1.2, label=rname)
    ax.set_xlabel("bits per pixel (real files)")
    ax.set_ylabel("PSNR (dB, RGB)")
    n = means(models[0][1])[0]["n"] if models else means(refs[0][1])[0]["n"]
    ax.set_title(f"Kodak ({n} images), mean over images")
    ax.set_xlim(0, 1.6)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", nargs=3, action="append", default=[], metavar=("NAME", "FLOAT_CSV", "INT_JSON"),
                   help="a model: train/evaluate.py CSV of its float model, s2c-int eval --json of its integer codec")
    p.add_argument("--ref", nargs=2, action="append", default=[], metavar=("NAME", "CSV"),
                   help="a reference codec: train/evaluate.py --codec CSV")
    p.add_argument("--plot", default=None, help="write the RD plot here (PNG; needs matplotlib)")
    a = p.parse_args()
    if not a.model:
        p.error("give at least one --model")
    try:
        refs = [(n, read_csv(c)) for n, c in a.ref]
        models = []
        for name, fcsv, ijson in a.model:
            ints = read_int_json(ijson)
            sys.stdout.write(f"### {name}\n\n" + report(read_csv(fcsv), ints) + "\n")
            models.append((name, ints))
        if refs:
            sys.stdout.write("### Against other codecs (real file sizes on both sides)\n\n" + comparison(models, refs))
        if a.plot:
            plot(models, refs, a.plot)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        sys.exit(f"results: {e}")


if __name__ == "__main__":
    main()
