#!/usr/bin/env python3
"""llvm-mca estimates of the hot NEON loops, for docs/kernels.md ("ARM cost estimates").

  python3 scripts/aarch64/mca.py [--cpus cortex-a53,cortex-a55,cortex-a76] [--json OUT.json]

Compiles the FixedPoint kernels for aarch64 exactly as the board decoder is built (board/build.sh:
aarch64-linux-gnu-gcc -O2 -fopenmp, no -march, dotprod per function), keeps the assembly, finds each
kernel's hot inner loop in it (no markers in the sources: they would change GCC's register allocation)
and runs llvm-mca on that loop body for each CPU model. A loop is a backward branch to a label; the
loop of a kernel is the smallest one in its function(s) that holds the most instructions of its key
mnemonic (smlal for the int16 GEMM, sdot for the dotprod GEMM, ...). Each kernel says how much work one
of its key instructions stands for (e.g. smlal: 4 multiply-adds), so an iteration's work is
(key count) x (units per key); llvm-mca's steady-state cycles per iteration then give cycles per unit.

What llvm-mca models: issue width, pipelines, latencies of the core's scheduling model, all loads hitting
L1. Not modelled: cache misses and memory bandwidth, branch mispredictions, OpenMP overhead, the code
outside the inner loop (block set-up, requantization of results for the GEMMs). Estimates, not timings.
Prints one line per kernel: instructions and cycles per iteration for each CPU, and cycles per unit.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CC = os.environ.get("AARCH64_CC", "aarch64-linux-gnu-gcc")
MCA = os.environ.get("LLVM_MCA", "llvm-mca")

# name, source file, function-name regex (the loop must lie in a matching function), key mnemonic
# regex, units per key instruction, unit, description, and optionally the exact number of key
# instructions the loop must hold (to tell apart loops of the same function).
KERNELS = [
    ("gemm_s16_neon_dot", "arm/gemm_neon.c", r"s2c_gemm_s16_neon|row_block_s16", r"smlal2?", 4, "MAC",
     "int16 x int8 GEMM, 4x4 dot-product block, 8 k per step", None),
    ("gemm_s16_neon_bcast", "arm/gemm_neon_bcast.c", r"kern_4x2", r"smlal2?", 4, "MAC",
     "int16 x int8 GEMM, broadcast layout: 4 rows x 16 channels, 8 k per step, SMLAL by element", None),
    ("gemm_s8_neon", "arm/gemm_neon.c", r"s2c_gemm_s8_neon|row_block_s8", r"smull2?", 8, "MAC",
     "int8 GEMM, SMULL + SADALP, 4x4 block, 16 k per step", None),
    ("gemm_s8_neon_dotprod", "arm/gemm_neon_dotprod.c", r"s2c_gemm_s8_neon_dotprod|^row_block$", r"sdot", 16, "MAC",
     "int8 GEMM, SDOT, 4x4 block, 16 k per step", None),
    ("gemm_s16_neon_dotprod", "arm/gemm_neon_dotprod.c", r"s16", r"sdot", 8, "MAC",
     "int16 x int8 GEMM on SDOT: activations split into high / low bytes (2 SDOT per 16 MAC), 2x4 block", None),
    ("dwconv_s16_neon", "arm/ops_neon.c", r"dw_|dwconv", r"smlal2?", 4, "MAC",
     "depthwise conv, interior: 2 taps x 2 pixels x 8 channels per step", None),
    ("layernorm_s16_neon", "arm/ops_neon.c", r"ln_row|layernorm", r"st1|str\s+q\d+,.*", 8, "value",
     "LayerNorm pass 2 (normalise, scale, requant), 8 channels per store", None),
    ("gated_s16_neon", "arm/ops_neon.c", r"gated", r"st1|str\s+q\d+,.*", 8, "value",
     "Gated-FFN product: scalar LUT loads, SMULL, requant, 8 values per store", None),
    ("rescale_s16_neon", "arm/ops_neon.c", r"rescale", r"st1|str\s+q\d+,.*", 8, "value",
     "per-channel requant, 8 values per store", None),
    ("window_attn_qk_neon", "arm/ops_neon.c", r"attn", r"smlal2?", 4, "MAC",
     "attention q.k, 64 keys x 8 channels per step (SMLAL by element)", 128),
    ("window_attn_pv_neon", "arm/ops_neon.c", r"attn", r"smlal2?", 4, "MAC",
     "attention p'.v, 8 keys x 32 channels per step (SMLAL by element)", 64),
    ("window_attn_recip_neon", "arm/ops_neon.c", r"attn", r"umull2?", 1, "value",
     "attention softmax division by reciprocal, 4 probabilities per step", 4),
    ("window_attn_exp_neon", "arm/ops_neon.c", r"_omp_fn", r"csel", 1, "value",
     "attention softmax exp_lut lookups (scalar), per probability", None),
    ("window_attn_qk_ref_neon", "arm/ops_neon.c", r"attn_window", r"smlal2?", 4, "MAC",
     "attention q.k, the other head sizes (4 keys x 8 channels, then a reduction)", 8),
    ("window_attn_pv_ref_neon", "arm/ops_neon.c", r"attn_window", r"mla", 4, "MAC",
     "attention p.v, the other head sizes (MLA on widened v)", 2),
    ("window_attn_div_ref_neon", "arm/ops_neon.c", r"attn_window", r"sdiv", 1, "value",
     "attention softmax, the other head sizes: one 64-bit division per probability", 1),
    ("add_requant_s16_neon", "arm/elt_neon.c", r"add", r"st1|str\s+q\d+,.*", 8, "value",
     "residual add with one rounding, 8 values per store", None),
    ("add_requant_s16_c", "elt_c.c", r"add_requant", r"strh", 1, "value",
     "residual add, the C reference loop (gcc -O2), per value", None),
    ("lut16_s16_c", "ops_c.c", r"lut16", r"strh", 1, "value", "LUT (GELU), the C loop, per value", None),
    ("lut16_s16_neon", "arm/ops_neon.c", r"lut", r"str\s+x\d+,.*", 4, "value",
     "LUT (GELU), unrolled scalar loads, 4 values per store", None),
]

LABEL = re.compile(r"^(\.L\w+|[A-Za-z_][\w.$]*):")
BRANCH = re.compile(r"^\s+(b(?:\.\w+)?|b\w\w|cbn?z|tbn?z)\s+(?:[^,]+,\s*)*(\.L\w+)\s*$")
FUNC = re.compile(r"^\s+\.type\s+([\w.$]+),\s*%function")


def compile_asm(root: str, src: str, out: str, extra=()) -> None:
    cmd = [CC, "-O2", "-fopenmp", "-std=gnu11", "-I", os.path.join(root, "Sources/FixedPoint/include"), "-S",
           os.path.join(root, "Sources/FixedPoint", src), "-o", out, *extra]
    subprocess.run(cmd, check=True)


def instructions(lines):
    """Instruction lines only (no labels, directives, comments)."""
    out = []
    for ln in lines:
        t = ln.strip()
        if not t or t.startswith(".") or t.startswith("//") or t.startswith("#") or LABEL.match(ln):
            continue
        out.append(ln.rstrip())
    return out


def loops(asm_lines):
    """(function, [body lines]) for every backward branch to a label in the same function."""
    func, labels, found = None, {}, []
    for i, ln in enumerate(asm_lines):
        m = FUNC.match(ln)
        if m:
            func, labels = m.group(1), {}
            continue
        m = LABEL.match(ln)
        if m:
            if not m.group(1).startswith(".L"):
                func = func or m.group(1)
            labels[m.group(1)] = i
            continue
        m = BRANCH.match(ln)
        if m and m.group(2) in labels and labels[m.group(2)] < i:
            start = labels[m.group(2)]
            body = asm_lines[start + 1:i + 1]
            # innermost loops only: no backward branch inside the body to a label inside it
            nested = False
            seen = set()
            for x in body[:-1]:
                lm = LABEL.match(x)
                if lm:
                    seen.add(lm.group(1))
                b = BRANCH.match(x)
                if b and b.group(2) in seen:
                    nested = True
                    break
            found.append((func or "", body, nested))
    return found


def pick_loop(asm_lines, func_re, key_re, allow_nested=False, count=None):
    """The innermost loop with the most key instructions (then the shortest); with allow_nested, any loop
    (a loop whose key instructions sit around an inner loop, e.g. scalar LUT loads in a small loop)."""
    best = None
    key = re.compile(r"^\s+(?:" + key_re + r")(?:\s|$)")
    for func, body, nested in loops(asm_lines):
        if not re.search(func_re, func) or (nested and not allow_nested):
            continue
        ins = instructions(body)
        nkey = sum(1 for x in ins if key.match(x))
        if nkey == 0 or (count is not None and nkey != count):
            continue
        score = (nkey, -len(ins))
        if best is None or score > best[0]:
            best = (score, ins, func)
    return best


def run_mca(ins, cpu):
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
        f.write("\n".join(ins) + "\n")
        path = f.name
    try:
        r = subprocess.run([MCA, "-mtriple=aarch64", "-mcpu=" + cpu, "-iterations=300", path],
                           capture_output=True, text=True)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        return None
    it = int(re.search(r"Iterations:\s+(\d+)", r.stdout).group(1))
    cyc = int(re.search(r"Total Cycles:\s+(\d+)", r.stdout).group(1))
    return cyc / it


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpus", default="cortex-a53,cortex-a55,cortex-a76")
    p.add_argument("--json", help="also write the table as JSON")
    p.add_argument("--kernels", help="comma-separated subset of kernel names")
    p.add_argument("--root", default=ROOT, help="a source tree to analyse instead of this one (e.g. an older "
                   "revision: git archive REV Sources/FixedPoint | tar -x -C DIR)")
    a = p.parse_args()
    cpus = a.cpus.split(",")
    want = set(a.kernels.split(",")) if a.kernels else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = {}
        for name, src, func_re, key_re, per_key, unit, desc, count in KERNELS:
            if want and name not in want:
                continue
            if not os.path.exists(os.path.join(a.root, "Sources/FixedPoint", src)):
                continue
            if src not in cache:
                out = os.path.join(tmp, os.path.basename(src) + ".s")
                compile_asm(a.root, src, out)
                with open(out) as f:
                    cache[src] = f.read().splitlines()
            got = pick_loop(cache[src], func_re, key_re, count=count) or pick_loop(cache[src], func_re, key_re, True, count)
            if got is None:
                print(f"{name}: no loop with /{key_re}/ found in {src}", file=sys.stderr)
                continue
            (nkey, _), ins, func = got
            units = nkey * per_key
            row = {"kernel": name, "desc": desc, "function": func, "instructions": len(ins), "units": units,
                   "unit": unit, "cycles": {}}
            for cpu in cpus:
                c = run_mca(ins, cpu)
                row["cycles"][cpu] = c
            rows.append(row)
    print(f"{'kernel':26s} {'instr/it':>8s} {'units/it':>9s}  " +
          "  ".join(f"{c + ' cyc/it':>17s} {'cyc/unit':>8s}" for c in cpus))
    for r in rows:
        cells = []
        for c in cpus:
            v = r["cycles"][c]
            cells.append(f"{v:17.1f} {v / r['units']:8.3f}" if v else f"{'n/a':>17s} {'':8s}")
        print(f"{r['kernel']:26s} {r['instructions']:8d} {r['units']:6d} {r['unit']:<5s} " + "  ".join(cells))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
