"""Exponential moving average of a model's parameters (Polyak averaging), kept for export.

With a small batch (4 crops on CPU) and a constant learning rate the weights wander around the
loss valley; their running average sits nearer its floor. The EMA costs one lerp over the
parameters per step and does not change training: the optimizer never sees it.

decay at update t (1-based): min(decay, (1 + t) / (10 + t)), as TensorFlow's
ExponentialMovingAverage with num_updates: early on the average covers roughly the last tenth of
the updates instead of being dominated by the start point.
"""
from __future__ import annotations

from typing import Dict

import torch


class EMA:
    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        named = list(model.named_parameters())
        self.names = [n for n, _ in named]
        self.params = [p for _, p in named]
        self.shadow = [p.detach().clone() for p in self.params]

    def current_decay(self) -> float:
        """The decay of update number self.updates."""
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        torch._foreach_lerp_(self.shadow, [p.detach() for p in self.params], 1.0 - self.current_decay())

    def state_dict(self) -> Dict:
        return {"decay": self.decay, "updates": self.updates,
                "shadow": {n: s for n, s in zip(self.names, self.shadow)}}

    @torch.no_grad()
    def load_state_dict(self, s: Dict) -> None:
        shadow = s["shadow"]
        missing = [n for n in self.names if n not in shadow]
        if missing:
            raise SystemExit(f"checkpoint EMA lacks parameters {missing[:5]}")
        self.updates = int(s["updates"])
        for n, t in zip(self.names, self.shadow):
            t.copy_(shadow[n])          # keeps this run's memory layout (--fast or not)

    def model_state_dict(self, model: torch.nn.Module) -> Dict[str, torch.Tensor]:
        """The model's state dict with every parameter replaced by its average."""
        sd = dict(model.state_dict())
        for n, t in zip(self.names, self.shadow):
            sd[n] = t.detach().clone()
        return sd


def ema_state_into_model(model: torch.nn.Module, ema_state: Dict) -> None:
    """Load a checkpoint's EMA (EMA.state_dict()) into a model's parameters."""
    shadow = ema_state["shadow"]
    params = dict(model.named_parameters())
    missing = [n for n in params if n not in shadow]
    if missing:
        raise SystemExit(f"checkpoint EMA lacks parameters {missing[:5]}")
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(shadow[n])
