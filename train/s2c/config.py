"""Named model configurations: `hybrid-t` (the paper's model), `hybrid-lite` (sized for CPU
training and for boards), `hybrid-nano` (tests), and the pilot candidates hybrid-lite was chosen
from (train/RESULTS.md, "hybrid-lite: choosing the sizes")."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import List

# Paper 4.1 MSE lambdas, one per quality level 1..7.
PAPER_LAMBDAS = [0.0017, 0.0025, 0.0035, 0.0067, 0.0130, 0.0250, 0.050]


@dataclass(frozen=True)
class ModelConfig:
    """Every size the network graph depends on. Serialized next to the weights as JSON."""

    name: str
    channels: List[int]          # C1, C2, ... of the main stages (hybrid-t: three)
    depths: List[int]            # L1, L2, ... blocks per stage
    stage_types: List[str]       # "conv" (S2C-Conv) or "attn" (S2C-Attention) per stage
    latent: int                  # M, channels of y
    hyper: int                   # N, channels of z and of the hyper transforms
    groups: List[int]            # ELIC channel groups, sum == latent
    cc_hidden: int               # channel-context width
    cc_blocks: int               # S2C-Conv blocks in each channel-context net
    pa_hidden: int               # parameter-aggregation width
    pa_blocks: int               # S2C-Identity blocks in each parameter-aggregation net
    head_dim: int = 32
    window: int = 8
    ffn_expansion: int = 4
    sep_expansion: int = 2
    dw_kernel: int = 5
    ln_eps: float = 1e-6
    scale_min: float = 0.11
    lambdas: List[float] = field(default_factory=lambda: list(PAPER_LAMBDAS))
    format_version: int = 1

    @property
    def qualities(self) -> int:
        return len(self.lambdas)

    @property
    def pad_multiple(self) -> int:
        # Stage k (1-based) runs at 1/2^k, y at 1/2^(S+1), z two downsamplings further; an attention
        # stage needs its sides to be multiples of the window. Three stages: 64.
        s = len(self.channels)
        attn = [self.window << (k + 1) for k, t in enumerate(self.stage_types) if t == "attn"]
        return max([1 << (s + 3)] + attn)

    def validate(self) -> None:
        assert len(self.channels) == len(self.depths) == len(self.stage_types) >= 1, "one width, depth, type per stage"
        assert sum(self.groups) == self.latent, "channel groups must sum to the latent width"
        for c, t in zip(self.channels, self.stage_types):
            assert t in ("conv", "attn")
            if t == "attn":
                assert c % self.head_dim == 0, f"{c} channels not divisible by head_dim"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @staticmethod
    def from_dict(d: dict) -> "ModelConfig":
        return ModelConfig(**d)


CONFIGS = {
    "hybrid-t": ModelConfig(
        name="hybrid-t", channels=[96, 192, 256], depths=[3, 5, 8],
        stage_types=["conv", "attn", "attn"], latent=320, hyper=192,
        groups=[16, 16, 32, 64, 192], cc_hidden=192, cc_blocks=2, pa_hidden=256, pa_blocks=2),
    # Same graph and block types, ~1/7 of hybrid-t's decoder MACs: trainable on 2 CPU cores and
    # fast on ARM boards. Sizes chosen by equal-CPU-time pilots of the candidates below.
    "hybrid-lite": ModelConfig(
        name="hybrid-lite", channels=[48, 96, 128], depths=[1, 2, 3],
        stage_types=["conv", "attn", "attn"], latent=192, hyper=128,
        groups=[16, 16, 32, 64, 64], cc_hidden=96, cc_blocks=1, pa_hidden=128, pa_blocks=1),
    # Pilot candidates (kept so the pilots can be rerun): wide-and-shallow, and smaller.
    "lite-wide": ModelConfig(
        name="lite-wide", channels=[48, 128, 160], depths=[1, 1, 2],
        stage_types=["conv", "attn", "attn"], latent=192, hyper=128,
        groups=[16, 16, 32, 64, 64], cc_hidden=96, cc_blocks=1, pa_hidden=128, pa_blocks=1),
    "lite-small": ModelConfig(
        name="lite-small", channels=[32, 64, 96], depths=[1, 2, 2],
        stage_types=["conv", "attn", "attn"], latent=160, hyper=96,
        groups=[16, 16, 32, 48, 48], cc_hidden=64, cc_blocks=1, pa_hidden=96, pa_blocks=1),
    # Same block types and graph, a few channels per stage: for unit tests and golden vectors.
    "hybrid-nano": ModelConfig(
        name="hybrid-nano", channels=[8, 16, 16], depths=[1, 1, 2],
        stage_types=["conv", "attn", "attn"], latent=32, hyper=16,
        groups=[2, 2, 4, 8, 16], cc_hidden=16, cc_blocks=1, pa_hidden=16, pa_blocks=1,
        head_dim=8),
    # The fuzz harness's model (fuzz/harness/modelgraph.swift, fuzz/make-model.sh): every block kind
    # (S2C-Conv at 1/4, S2C-Attention with two heads at 1/8, S2C-Identity in the parameter nets),
    # an empty stage (1/2 scale, where a block would cost the most), three channel groups, and
    # widths of 4 to 128 so the SIMD kernels run both their vector loops and their tails; about
    # a third of nano's multiply-adds and two thirds of its lookup tables.
    "hybrid-pico": ModelConfig(
        name="hybrid-pico", channels=[4, 8, 16], depths=[0, 1, 1],
        stage_types=["conv", "conv", "attn"], latent=16, hyper=16,
        groups=[4, 4, 8], cc_hidden=16, cc_blocks=1, pa_hidden=16, pa_blocks=1,
        head_dim=8),
}


# The config the training tools use when given none: the model that trains on CPUs.
DEFAULT_CONFIG = "hybrid-lite"


def get_config(name: str) -> ModelConfig:
    if name not in CONFIGS:
        raise SystemExit(f"unknown model config '{name}' (known: {', '.join(sorted(CONFIGS))})")
    cfg = CONFIGS[name]
    cfg.validate()
    return cfg
