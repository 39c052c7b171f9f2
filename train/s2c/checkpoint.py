"""Checkpoints: atomic save/load, and splitting into <= 16 MiB parts for moving between machines."""
from __future__ import annotations

import glob
import hashlib
import json
import os

import torch

PART_BYTES = 16 * 1024 * 1024


def atomic_save(obj, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def split(path: str, part_bytes: int = PART_BYTES) -> list:
    """path -> path.part000, path.part001, ... plus path.parts.json (sizes and SHA-256)."""
    parts = []
    with open(path, "rb") as f:
        i = 0
        while True:
            chunk = f.read(part_bytes)
            if not chunk:
                break
            name = f"{path}.part{i:03d}"
            with open(name, "wb") as o:
                o.write(chunk)
            parts.append({"file": os.path.basename(name), "bytes": len(chunk),
                          "sha256": hashlib.sha256(chunk).hexdigest()})
            i += 1
    with open(path, "rb") as f:
        whole = hashlib.sha256(f.read()).hexdigest()
    with open(path + ".parts.json", "w") as f:
        json.dump({"parts": parts, "sha256": whole}, f, indent=1)
    return [os.path.join(os.path.dirname(path), p["file"]) for p in parts]


def join(path: str) -> None:
    """Rebuilds path from its parts, checking every hash; refuses to overwrite on mismatch."""
    with open(path + ".parts.json") as f:
        manifest = json.load(f)
    h = hashlib.sha256()
    tmp = path + ".tmp"
    with open(tmp, "wb") as o:
        for p in manifest["parts"]:
            data = open(os.path.join(os.path.dirname(path) or ".", p["file"]), "rb").read()
            if hashlib.sha256(data).hexdigest() != p["sha256"] or len(data) != p["bytes"]:
                os.remove(tmp)
                raise SystemExit(f"part {p['file']} is damaged (size or SHA-256 mismatch)")
            h.update(data)
            o.write(data)
    if h.hexdigest() != manifest["sha256"]:
        os.remove(tmp)
        raise SystemExit("joined checkpoint does not match the manifest's SHA-256")
    os.replace(tmp, path)


def remove_parts(path: str) -> None:
    for p in glob.glob(path + ".part[0-9][0-9][0-9]"):
        os.remove(p)
