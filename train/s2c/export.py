"""Export to safetensors (the format the Swift side reads) and load back.

Tensor names are the PyTorch state_dict names (documented in docs/architecture.md); the
checkerboard context weights are stored already masked. The model config travels twice: as
the safetensors metadata key "config" and as a JSON file next to the weights."""
from __future__ import annotations

import json
import os

import torch
from safetensors.torch import load_file, save_file

from .config import ModelConfig
from .layers import CheckerboardConv


def export_tensors(model, dtype=torch.float32):
    sd = {}
    masks = {n: m.mask for n, m in model.named_modules() if isinstance(m, CheckerboardConv)}
    for name, t in model.state_dict().items():
        mod = name.rsplit(".", 1)[0]
        if name.endswith(".weight") and mod in masks:
            t = t * masks[mod]
        sd[name] = t.detach().to("cpu", dtype).contiguous()
    return sd


def save_weights(model, path: str, dtype=torch.float32, extra_meta=None) -> None:
    cfg: ModelConfig = model.cfg
    meta = {"config": cfg.to_json(), "format": "s2c-float-weights-v1"}
    meta.update(extra_meta or {})
    tmp = path + ".tmp"
    save_file(export_tensors(model, dtype), tmp, metadata=meta)
    os.replace(tmp, path)
    with open(os.path.splitext(path)[0] + ".json", "w") as f:
        f.write(cfg.to_json() + "\n")


def read_metadata(path: str) -> dict:
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        return dict(f.metadata() or {})


def read_config(path: str) -> ModelConfig:
    meta = read_metadata(path)
    if "config" not in meta:
        raise SystemExit(f"{path} has no 'config' metadata: not an s2c weights file")
    return ModelConfig.from_dict(json.loads(meta["config"]))


def load_safetensors_into(model, path: str) -> None:
    sd = {k: v.float() for k, v in load_file(path).items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if not m.endswith(".mask")]
    if missing or unexpected:
        raise SystemExit(f"{path} does not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}")


def load_model(path: str):
    from .model import HybridModel
    model = HybridModel(read_config(path))
    load_safetensors_into(model, path)
    return model.eval()
