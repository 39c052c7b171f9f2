"""train/results.py: Bjontegaard deltas on curves with known answers, and the report's checks."""
import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from results import bd_metric, bd_rate, comparison, report  # noqa: E402

RATES = [0.1, 0.2, 0.35, 0.5, 0.8, 1.2, 1.8]
PSNR = [26.0, 28.5, 30.4, 31.6, 33.4, 35.1, 37.0]


def test_bd_rate_of_a_scaled_curve_is_the_scale():
    # Same quality at 0.9x the rate everywhere: BD-rate -10 %, whatever the curve's shape.
    assert bd_rate(RATES, PSNR, [0.9 * r for r in RATES], PSNR) == pytest.approx(-10.0, abs=1e-9)
    assert bd_rate(RATES, PSNR, [1.25 * r for r in RATES], PSNR) == pytest.approx(25.0, abs=1e-9)
    assert bd_rate(RATES, PSNR, RATES, PSNR) == pytest.approx(0.0, abs=1e-12)


def test_bd_metric_of_a_shifted_curve_is_the_shift():
    assert bd_metric(RATES, PSNR, RATES, [p + 0.5 for p in PSNR]) == pytest.approx(0.5, abs=1e-9)


def test_bd_rate_refuses_bad_curves():
    with pytest.raises(ValueError):
        bd_rate(RATES[:3], PSNR[:3], RATES[:3], PSNR[:3])
    with pytest.raises(ValueError):      # no overlap in quality
        bd_rate(RATES, PSNR, RATES, [p + 20 for p in PSNR])


def rows(rates, psnrs, images=("a.png", "b.png"), extra=False):
    out = []
    for q, (r, p) in enumerate(zip(rates, psnrs), start=1):
        for im in images:
            row = {"image": im, "quality": float(q), "bpp": r, "psnr": p, "msssim": 1 - 10 ** (-p / 20)}
            if extra:
                row.update(encode_s=1.0, decode_s=0.5)
            out.append(row)
    return out


def test_report_integer_vs_float():
    text = report(rows(RATES, PSNR), rows([1.02 * r for r in RATES], PSNR, extra=True))
    assert "| integer vs float | +2.00 |" in text
    assert "decode 0.50 s" in text
    assert text.count("\n| ") >= 7 + 1


def test_report_refuses_mismatched_sets():
    with pytest.raises(ValueError):
        report(rows(RATES, PSNR), rows(RATES, PSNR, images=("a.png",), extra=True))


def test_comparison_against_references():
    # The model needs 0.8x JPEG's rate and 1.6x WebP's (0.8 / 0.5) at equal PSNR everywhere.
    model = rows([0.8 * r for r in RATES], PSNR, extra=True)
    text = comparison([("lite", model)], [("JPEG", rows(RATES, PSNR)), ("WebP", rows([0.5 * r for r in RATES], PSNR))])
    assert "| lite | JPEG | -20.00 |" in text
    assert "| lite | WebP | +60.00 |" in text
    assert "PSNR range" in text and "26.0-37.0" in text
