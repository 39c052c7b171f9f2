"""Training data: every photograph decoded once into memory, random crops and flips."""
from __future__ import annotations

import os
from typing import List

import numpy as np
import torch
from PIL import Image

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".webp")


def list_images(folder: str) -> List[str]:
    out = []
    for root, _, files in os.walk(folder):
        for f in files:
            if f.lower().endswith(IMAGE_EXTS):
                out.append(os.path.join(root, f))
    return sorted(out)


def load_rgb(path: str) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


class CropSampler:
    """Draws random crops (and horizontal/vertical flips) with its own torch.Generator, whose
    state goes into checkpoints so a resumed run sees the same crops it would have seen."""

    def __init__(self, folder: str, min_side: int = 256):
        paths = list_images(folder)
        if not paths:
            raise SystemExit(f"no images found under {folder}")
        self.images = []
        for p in paths:
            a = load_rgb(p)
            if min(a.shape[:2]) >= min_side:
                self.images.append(torch.from_numpy(a.copy()).permute(2, 0, 1).contiguous())
        if not self.images:
            raise SystemExit(f"no image under {folder} has both sides >= {min_side}")
        self.gen = torch.Generator().manual_seed(0)

    def __len__(self):
        return len(self.images)

    def batch(self, n: int, crop: int) -> torch.Tensor:
        out = torch.empty(n, 3, crop, crop, dtype=torch.uint8)
        for i in range(n):
            img = self.images[int(torch.randint(len(self.images), (1,), generator=self.gen))]
            _, h, w = img.shape
            top = int(torch.randint(h - crop + 1, (1,), generator=self.gen))
            left = int(torch.randint(w - crop + 1, (1,), generator=self.gen))
            c = img[:, top:top + crop, left:left + crop]
            flips = torch.randint(2, (2,), generator=self.gen)
            if flips[0]:
                c = c.flip(2)
            if flips[1]:
                c = c.flip(1)
            out[i] = c
        return out.float().div_(255.0)
