"""Entropy models: the factorized prior for z (Balle et al. 2018, as CompressAI's
EntropyBottleneck) and the Gaussian conditional used for y."""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LIKELIHOOD_MIN = 1e-9


class _LowerBound(torch.autograd.Function):
    """max(x, bound) whose gradient still flows when it pushes x upwards (CompressAI)."""

    @staticmethod
    def forward(ctx, x, bound):
        ctx.save_for_backward(x)
        ctx.bound = bound
        return torch.clamp(x, min=bound)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        pass_through = (x >= ctx.bound) | (g < 0)
        return pass_through.type_as(g) * g, None


def lower_bound(x, bound: float):
    return _LowerBound.apply(x, bound)


def ste_round(x):
    """Round in the forward pass, identity gradient."""
    return (torch.round(x) - x).detach() + x


def uniform_noise(like: torch.Tensor) -> torch.Tensor:
    """U(-0.5, 0.5) noise shaped like `like`, drawn in NCHW order whatever its memory layout, so
    a channels_last model sees the same noise as a contiguous one for the same RNG state."""
    return torch.empty_like(like, memory_format=torch.contiguous_format).uniform_(-0.5, 0.5)


def gaussian_likelihood(v: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """P(v) for an integer-centred residual v under N(0, sigma), bin width 1."""
    # Phi(x) = 0.5 erfc(-x / sqrt 2); upper - lower computed on the lower tail for accuracy.
    v = v.abs()
    upper = 0.5 * torch.erfc(-(0.5 - v) / (sigma * math.sqrt(2)))
    lower = 0.5 * torch.erfc(-(-0.5 - v) / (sigma * math.sqrt(2)))
    return lower_bound(upper - lower, LIKELIHOOD_MIN)


class EntropyBottleneck(nn.Module):
    """Per-channel learned CDF c(x) = sigmoid(f(x)); f a monotone 1-3-3-3-1 network.
    Parameter names follow CompressAI (matrices, biases, factors, quantiles)."""

    def __init__(self, channels: int, filters=(3, 3, 3), init_scale: float = 10.0, tail_mass: float = 1e-9):
        super().__init__()
        self.channels = channels
        self.filters = tuple(filters)
        self.tail_mass = tail_mass
        f = (1,) + self.filters + (1,)
        scale = init_scale ** (1 / (len(self.filters) + 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(self.filters) + 1):
            init = math.log(math.expm1(1 / scale / f[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, f[i + 1], f[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, f[i + 1], 1) - 0.5))
            if i < len(self.filters):
                self.factors.append(nn.Parameter(torch.zeros(channels, f[i + 1], 1)))
        init = torch.tensor([-init_scale, 0.0, init_scale])
        self.quantiles = nn.Parameter(init.repeat(channels, 1, 1))
        target = math.log(2 / self.tail_mass - 1)
        self.register_buffer("target", torch.tensor([-target, 0.0, target]), persistent=False)

    def logits_cumulative(self, x: torch.Tensor, stop_gradient: bool = False) -> torch.Tensor:
        """x: (C, 1, N) -> logits of the CDF, (C, 1, N)."""
        logits = x
        for i in range(len(self.filters) + 1):
            m = self.matrices[i]
            b = self.biases[i]
            if stop_gradient:
                m, b = m.detach(), b.detach()
            logits = torch.matmul(F.softplus(m), logits) + b
            if i < len(self.factors):
                fac = self.factors[i]
                if stop_gradient:
                    fac = fac.detach()
                logits = logits + torch.tanh(fac) * torch.tanh(logits)
        return logits

    def aux_loss(self) -> torch.Tensor:
        logits = self.logits_cumulative(self.quantiles, stop_gradient=True)
        return torch.abs(logits - self.target).sum()

    def medians(self) -> torch.Tensor:
        return self.quantiles[:, 0, 1].detach()

    def likelihood(self, v: torch.Tensor) -> torch.Tensor:
        """v: (B, C, H, W) values (already quantized or noisy) -> P(bin of width 1 around v)."""
        b, c, h, w = v.shape
        x = v.permute(1, 0, 2, 3).reshape(c, 1, -1)
        lower = self.logits_cumulative(x - 0.5)
        upper = self.logits_cumulative(x + 0.5)
        sign = -torch.sign(lower + upper).detach()
        lik = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
        lik = lower_bound(lik, LIKELIHOOD_MIN)
        return lik.reshape(c, b, h, w).permute(1, 0, 2, 3)

    def quantize(self, z: torch.Tensor, training: bool) -> torch.Tensor:
        """Training: additive uniform noise. Otherwise round(z - median) + median."""
        if training:
            return z + uniform_noise(z)
        med = self.medians().view(1, -1, 1, 1)
        return torch.round(z - med) + med
