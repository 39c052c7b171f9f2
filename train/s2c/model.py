"""S2C-Hybrid image compression model (../shared/design/hybrid-t.md is the specification).

Graph: x -> g_a -> y; y' = y * gain(q); z = h_a(y'); psi = h_s(z_hat);
y' coded by ELIC SCCTX (channel groups x checkerboard) with S2C-Conv channel context and
S2C-Identity parameter aggregation; x_hat = g_s(y_hat' * inv_gain(q)).
"""
from __future__ import annotations

import math
from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .entropy import EntropyBottleneck, gaussian_likelihood, lower_bound, ste_round, uniform_noise
from .layers import CheckerboardConv, S2CBlock, SepConv, Up, WindowAttention, down, stage


def anchor_mask(h: int, w: int, device=None) -> torch.Tensor:
    """1 where (row + col) is even (anchors, coded first), shape (1, 1, h, w)."""
    r = torch.arange(h, device=device).view(h, 1)
    c = torch.arange(w, device=device).view(1, w)
    return ((r + c) % 2 == 0).float().view(1, 1, h, w)


def checkerboard_split(t: torch.Tensor):
    """(B, C, H, W), H and W even -> (anchors, non-anchors), each (2B, C, H/2, W/2): the pixels
    of even rows stacked on the batch axis above those of odd rows."""
    a = torch.cat([t[:, :, 0::2, 0::2], t[:, :, 1::2, 1::2]], 0)
    n = torch.cat([t[:, :, 0::2, 1::2], t[:, :, 1::2, 0::2]], 0)
    return a, n


def checkerboard_merge(a: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Inverse of checkerboard_split."""
    b = a.shape[0] // 2
    even = torch.stack([a[:b], n[:b]], -1).flatten(-2)    # row 2i: anchor, non-anchor, ...
    odd = torch.stack([n[b:], a[b:]], -1).flatten(-2)     # row 2i+1: non-anchor, anchor, ...
    return torch.stack([even, odd], -2).flatten(-3, -2)


class ChannelContext(nn.Module):
    """cc_k = Conv1x1(sum G[:k] -> hidden) -> n x S2C-Conv(hidden) -> Conv1x1(hidden -> 2 G[k])."""

    def __init__(self, cin: int, cout: int, cfg: ModelConfig):
        super().__init__()
        self.inp = nn.Conv2d(cin, cfg.cc_hidden, 1)
        self.blocks = stage(cfg.cc_hidden, cfg.cc_blocks, "conv", cfg)
        self.out = nn.Conv2d(cfg.cc_hidden, cout, 1)

    def forward(self, x):
        return self.out(self.blocks(self.inp(x)))


class ParamAggregation(nn.Module):
    """Conv1x1(in -> hidden) -> n x S2C-Identity(hidden) -> Conv1x1(hidden -> 2 G[k])."""

    def __init__(self, cin: int, cout: int, cfg: ModelConfig):
        super().__init__()
        self.inp = nn.Conv2d(cin, cfg.pa_hidden, 1)
        self.blocks = stage(cfg.pa_hidden, cfg.pa_blocks, "identity", cfg)
        self.out = nn.Conv2d(cfg.pa_hidden, cout, 1)

    def forward(self, x):
        return self.out(self.blocks(self.inp(x)))


class HybridModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        c, depth, kind = cfg.channels, cfg.depths, cfg.stage_types
        m, n = cfg.latent, cfg.hyper
        # g_a: (down, stage) per stage, then down to M; g_s mirrors it. With hybrid-t's three
        # stages the modules are g_a.0 ... g_a.6 and g_s.0 ... g_s.6 (docs/architecture.md).
        ga, gs = [], []
        for i in range(len(c)):
            ga += [down(c[i - 1] if i else 3, c[i]), stage(c[i], depth[i], kind[i], cfg)]
        for i in reversed(range(len(c))):
            gs += [Up(c[i + 1] if i + 1 < len(c) else m, c[i]), stage(c[i], depth[i], kind[i], cfg)]
        self.g_a = nn.Sequential(*ga, down(c[-1], m))
        self.g_s = nn.Sequential(*gs, Up(c[0], 3))
        self.h_a = nn.Sequential(
            nn.Conv2d(m, n, 3, padding=1), S2CBlock(n, "conv", cfg),
            down(n, n), S2CBlock(n, "conv", cfg),
            down(n, n))
        self.h_s = nn.Sequential(
            Up(n, n), S2CBlock(n, "conv", cfg),
            Up(n, n), S2CBlock(n, "conv", cfg),
            nn.Conv2d(n, 2 * n, 3, padding=1))
        self.psi_channels = 2 * n
        self.entropy_bottleneck = EntropyBottleneck(n)
        g = cfg.groups
        self.cc = nn.ModuleList([nn.Identity()] + [ChannelContext(sum(g[:k]), 2 * g[k], cfg) for k in range(1, len(g))])
        self.sc = nn.ModuleList([CheckerboardConv(g[k], 2 * g[k], 5) for k in range(len(g))])
        self.pa = nn.ModuleList([
            ParamAggregation(2 * g[k] + (2 * g[k] if k else 0) + self.psi_channels, 2 * g[k], cfg)
            for k in range(len(g))])
        # Gain units (Cui et al. 2021), stored as logs; init spreads the step size over qualities.
        lam = torch.tensor(cfg.lambdas)
        init = 0.3 * torch.log(lam / lam[len(lam) // 2])
        self.log_gain = nn.Parameter(init.view(-1, 1).repeat(1, m).clone())
        self.log_inv_gain = nn.Parameter((-init).view(-1, 1).repeat(1, m).clone())

    # -- rate control -------------------------------------------------------------------------
    def gains(self, q: torch.Tensor):
        """q: (B,) qualities in [1, Q]; geometric interpolation between neighbouring levels.
        Returns gain, inv_gain of shape (B, M, 1, 1)."""
        nq = self.cfg.qualities
        qq = q.float().clamp(1, nq) - 1
        lo = qq.floor().clamp(max=nq - 2).long()
        t = (qq - lo.float()).view(-1, 1)
        lg = (1 - t) * self.log_gain[lo] + t * self.log_gain[lo + 1]
        lig = (1 - t) * self.log_inv_gain[lo] + t * self.log_inv_gain[lo + 1]
        return torch.exp(lg)[:, :, None, None], torch.exp(lig)[:, :, None, None]

    # -- entropy model ------------------------------------------------------------------------
    def group_params(self, k: int, sc, cc, psi):
        parts = [sc] + ([cc] if cc is not None else []) + [psi]
        p = self.pa[k](torch.cat(parts, dim=1))
        scale, mean = p.chunk(2, dim=1)
        return scale, mean

    def entropy_y(self, y: torch.Tensor, psi: torch.Tensor, noise: bool, trace: Dict = None):
        """Checkerboard x channel-group coding order. Returns y_hat and per-element likelihoods.
        Context for group k only reads y_hat of groups < k (channel) and of the anchors of
        group k (spatial, non-anchor pass only): exactly what a decoder has at that point."""
        g = self.cfg.groups
        b, _, h, w = y.shape
        if self.split_checkerboard and self.training and trace is None and h % 2 == 0 and w % 2 == 0:
            return self._entropy_y_split(y, psi, noise)
        am = anchor_mask(h, w, y.device)
        y_hats: List[torch.Tensor] = []
        liks: List[torch.Tensor] = []
        start = 0
        for k, gk in enumerate(g):
            yk = y[:, start:start + gk]
            start += gk
            cc = self.cc[k](torch.cat(y_hats, 1)) if k else None
            zeros = torch.zeros(b, 2 * gk, h, w, device=y.device, dtype=y.dtype)
            s_a, m_a = self.group_params(k, zeros, cc, psi)
            yk_hat_anchor = (ste_round(yk - m_a) + m_a) * am
            sc = self.sc[k](yk_hat_anchor)
            s_n, m_n = self.group_params(k, sc, cc, psi)
            scale = am * s_a + (1 - am) * s_n
            mean = am * m_a + (1 - am) * m_n
            if trace is not None:
                trace.setdefault("group_scales", []).append(scale)
                trace.setdefault("group_means", []).append(mean)
            if trace is not None and k == 0:
                trace["g0_anchor_scale"] = s_a * am
                trace["g0_anchor_mean"] = m_a * am
            sigma = lower_bound(scale, self.cfg.scale_min)
            if noise:
                v = yk + uniform_noise(yk) - mean
            else:
                v = torch.round(yk - mean)
            liks.append(gaussian_likelihood(v, sigma))
            y_hats.append(ste_round(yk - mean) + mean)
        return torch.cat(y_hats, 1), torch.cat(liks, 1)

    def _entropy_y_split(self, y: torch.Tensor, psi: torch.Tensor, noise: bool):
        """entropy_y for training, same values and gradients with half the parameter-aggregation
        work. The aggregation nets are per pixel (1x1 convs, LayerNorm, Gated-FFN), and the dense
        version keeps their anchor-pass output only at anchors and their non-anchor-pass output
        only at non-anchors; here each pass runs on just those pixels."""
        g = self.cfg.groups
        psi_a, psi_n = checkerboard_split(psi)
        y_hats: List[torch.Tensor] = []
        liks: List[torch.Tensor] = []
        start = 0
        for k, gk in enumerate(g):
            yk = y[:, start:start + gk]
            start += gk
            cc_a = cc_n = None
            if k:
                cc_a, cc_n = checkerboard_split(self.cc[k](torch.cat(y_hats, 1)))
            ya, _ = checkerboard_split(yk)
            zeros = torch.zeros_like(psi_a[:, :1]).expand(-1, 2 * gk, -1, -1)
            s_a, m_a = self.group_params(k, zeros, cc_a, psi_a)
            ya_hat = ste_round(ya - m_a) + m_a
            sc = self.sc[k](checkerboard_merge(ya_hat, torch.zeros_like(ya_hat)))
            _, sc_n = checkerboard_split(sc)
            s_n, m_n = self.group_params(k, sc_n, cc_n, psi_n)
            scale = checkerboard_merge(s_a, s_n)
            mean = checkerboard_merge(m_a, m_n)
            sigma = lower_bound(scale, self.cfg.scale_min)
            if noise:
                v = yk + uniform_noise(yk) - mean
            else:
                v = torch.round(yk - mean)
            liks.append(gaussian_likelihood(v, sigma))
            y_hats.append(ste_round(yk - mean) + mean)
        return torch.cat(y_hats, 1), torch.cat(liks, 1)

    # -- speed ----------------------------------------------------------------------------------
    channels_last = False
    split_checkerboard = False

    def use_fast_cpu_paths(self, enabled: bool = True) -> "HybridModel":
        """Same function, faster on CPU (train/RESULTS.md, "Training speed on CPU"): NHWC
        (channels_last) activations and weights, explicit-matmul window attention, the
        depthwise convs in float32 under bfloat16 autocast, and the parameter aggregation of each
        checkerboard pass on its own half of the pixels (training). Create optimizers after calling
        this (parameters change layout)."""
        self.channels_last = enabled
        self.split_checkerboard = enabled
        for mod in self.modules():
            if isinstance(mod, WindowAttention):
                mod.explicit_softmax = enabled
            if isinstance(mod, SepConv):
                mod.dw_float32 = enabled
        return self.to(memory_format=torch.channels_last if enabled else torch.contiguous_format)

    def zero_init_residual_branches(self) -> "HybridModel":
        """Zero the last layer of every residual branch (SepConv pw2, attention proj, Gated-FFN
        fc2), so that each S2C block starts as the identity. A training-start choice for runs
        from random initialisation (train.py --zero-init; train/RESULTS.md, hybrid-lite)."""
        with torch.no_grad():
            for mod in self.modules():
                if isinstance(mod, S2CBlock):
                    last = [mod.ffn.fc2] + ([mod.spatial.pw2] if mod.kind == "conv" else []) \
                        + ([mod.spatial.proj] if mod.kind == "attn" else [])
                    for layer in last:
                        layer.weight.zero_()
                        layer.bias.zero_()
        return self

    # -- whole model --------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, q: torch.Tensor, trace: Dict = None):
        """x: (B, 3, H, W) in [0, 1], H and W multiples of 64. q: (B,) qualities.
        Training mode uses noise for the rate terms and STE rounding for what the decoder sees."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with self.transform_autocast(x):
            y = self.g_a(x)
        return self.code(y.float(), q, trace)

    # Set by the trainer (--bf16): run g_a and g_s, most of the MACs, under bfloat16 autocast;
    # the hyperprior and entropy model stay float32 (their means and scales need the precision).
    bf16_transforms = False

    def transform_autocast(self, x: torch.Tensor):
        return torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.bf16_transforms)

    def code(self, y: torch.Tensor, q: torch.Tensor, trace: Dict = None):
        """Everything after g_a (which does not depend on q, so evaluation runs it once)."""
        noise = self.training
        gain, inv_gain = self.gains(q)
        yg = y * gain
        z = self.h_a(yg)
        eb = self.entropy_bottleneck
        med = eb.medians().view(1, -1, 1, 1)
        z_hat = ste_round(z - med) + med
        z_lik = eb.likelihood(eb.quantize(z, True) if noise else z_hat)
        psi = self.h_s(z_hat)
        y_hat, y_lik = self.entropy_y(yg, psi, noise, trace)
        with self.transform_autocast(y_hat):
            x_hat = self.g_s(y_hat * inv_gain)
        x_hat = x_hat.float()
        if trace is not None:
            trace.update(y=y, y_gained=yg, z_hat=z_hat, psi=psi, y_hat=y_hat, x_hat=x_hat)
        return {"x_hat": x_hat, "y_lik": y_lik, "z_lik": z_lik}

    def aux_loss(self):
        return self.entropy_bottleneck.aux_loss()


def pad_to(x: torch.Tensor, multiple: int = 64) -> torch.Tensor:
    """Replicate-pad bottom/right to a multiple (hybrid-t.md: Input and padding)."""
    h, w = x.shape[-2:]
    ph = (multiple - h % multiple) % multiple
    pw = (multiple - w % multiple) % multiple
    if ph == 0 and pw == 0:
        return x
    return F.pad(x, (0, pw, 0, ph), mode="replicate")


def bits_per_pixel(out: Dict, num_pixels: int) -> torch.Tensor:
    """Per-sample bpp from the likelihoods, (B,)."""
    by = -torch.log2(out["y_lik"]).flatten(1).sum(1)
    bz = -torch.log2(out["z_lik"]).flatten(1).sum(1)
    return (by + bz) / num_pixels
