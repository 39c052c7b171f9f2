#!/usr/bin/env python3
"""Split a checkpoint into <= 16 MiB parts (with SHA-256 manifest) or join them back.

  python train/ckpt.py split train/runs/hybrid-t/checkpoint.pt
  python train/ckpt.py join  train/runs/hybrid-t/checkpoint.pt
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s2c.checkpoint import PART_BYTES, join, split  # noqa: E402

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("action", choices=["split", "join"])
p.add_argument("checkpoint")
p.add_argument("--part-mib", type=int, default=PART_BYTES >> 20)
a = p.parse_args()
if a.action == "split":
    parts = split(a.checkpoint, a.part_mib << 20)
    print(f"{len(parts)} parts written next to {a.checkpoint}")
else:
    join(a.checkpoint)
    print(f"joined {a.checkpoint}")
