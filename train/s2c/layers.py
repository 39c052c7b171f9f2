"""Building blocks of S2C-Hybrid (paper 3.2): LayerNorm over channels, SepConv, window
attention, Gated-FFN, the MetaFormer-style S2C block and the sub-pixel up-sampler."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel axis of an NCHW tensor (biased variance, eps inside sqrt)."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
            # Same normalisation as below, one native kernel: NHWC memory makes the channel axis
            # the innermost one, so permute(0, 2, 3, 1) is a free view for F.layer_norm.
            y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
            return y.permute(0, 3, 1, 2)
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) * torch.rsqrt(var + self.eps)
        return x * self.weight[:, None, None] + self.bias[:, None, None]


def gelu(x: torch.Tensor) -> torch.Tensor:
    """Exact (erf) GELU, the form the integer lookup table reproduces."""
    return F.gelu(x, approximate="none")


class SepConv(nn.Module):
    """S2C-Conv spatial op: pw 1x1 (C->eC), GELU, dw kxk (eC), pw 1x1 (eC->C)."""

    def __init__(self, c: int, expansion: int = 2, kernel: int = 5):
        super().__init__()
        h = c * expansion
        self.pw1 = nn.Conv2d(c, h, 1)
        self.dw = nn.Conv2d(h, h, kernel, padding=kernel // 2, groups=h)
        self.pw2 = nn.Conv2d(h, c, 1)

    # Speed switch (HybridModel.use_fast_cpu_paths): under bfloat16 autocast run the depthwise
    # conv in float32; oneDNN's bf16 depthwise weight gradient is ~3x slower than float32 on CPU.
    dw_float32 = False

    def forward(self, x):
        h = gelu(self.pw1(x))
        if self.dw_float32 and h.dtype != torch.float32:
            with torch.autocast(h.device.type, enabled=False):
                h = self.dw(h.float())
            return self.pw2(h)
        return self.pw2(self.dw(h))


class WindowAttention(nn.Module):
    """S2C-Attention spatial op: non-overlapping w x w windows, no shift, no position bias.
    H and W must be multiples of the window (the codec pads the image to a multiple of 64)."""

    def __init__(self, c: int, head_dim: int = 32, window: int = 8):
        super().__init__()
        assert c % head_dim == 0
        self.heads = c // head_dim
        self.head_dim = head_dim
        self.window = window
        self.qkv = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)

    # Speed switch (HybridModel.use_fast_cpu_paths): softmax(Q K^T / sqrt(d)) V written out as
    # two batched matmuls. Same formula; on CPU its forward + backward is ~3.5x faster than the
    # flash kernel of F.scaled_dot_product_attention for 64-token windows.
    explicit_softmax = False

    def forward(self, x):
        b, c, h, w = x.shape
        ws = self.window
        assert h % ws == 0 and w % ws == 0, f"{h}x{w} is not a multiple of the window {ws}"
        # (B, C, H, W) -> (B * nWin, ws*ws, C), windows in raster order, tokens in raster order.
        t = x.view(b, c, h // ws, ws, w // ws, ws).permute(0, 2, 4, 3, 5, 1).reshape(-1, ws * ws, c)
        qkv = self.qkv(t).view(t.shape[0], ws * ws, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        # softmax(Q K^T / sqrt(head_dim)) V
        o = attention_explicit(q, k, v) if self.explicit_softmax else F.scaled_dot_product_attention(q, k, v)
        o = o.transpose(1, 2).reshape(-1, ws * ws, c)
        o = self.proj(o).view(b, h // ws, w // ws, ws, ws, c)
        if x.is_contiguous(memory_format=torch.channels_last):
            # Same values, returned in the layout they came in (NHWC): one copy, no transpose.
            return o.permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c).permute(0, 3, 1, 2)
        return o.permute(0, 5, 1, 3, 2, 4).reshape(b, c, h, w)


def attention_explicit(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v as F.scaled_dot_product_attention computes it: logits and
    softmax in float32 (also under bfloat16 autocast, as the flash kernel keeps them), the
    probabilities then multiply v in v's dtype."""
    scale = q.shape[-1] ** -0.5
    with torch.autocast(q.device.type, enabled=False):
        s = torch.matmul(q.float() * scale, k.float().transpose(-2, -1))
        p = torch.softmax(s, dim=-1)
        return torch.matmul(p.to(v.dtype), v)


class GatedFFN(nn.Module):
    """Gated-FFN (paper 3.2.3): 1x1 (C->2rC) split into a, b; GELU(a) * b; 1x1 (rC->C)."""

    def __init__(self, c: int, expansion: int = 4):
        super().__init__()
        self.fc1 = nn.Conv2d(c, 2 * expansion * c, 1)
        self.fc2 = nn.Conv2d(expansion * c, c, 1)

    def forward(self, x):
        a, b = self.fc1(x).chunk(2, dim=1)
        return self.fc2(gelu(a) * b)


class S2CBlock(nn.Module):
    """x = x + Spatial(LN1(x)); x = x + GatedFFN(LN2(x)). kind: conv | attn | identity."""

    def __init__(self, c: int, kind: str, cfg):
        super().__init__()
        self.kind = kind
        if kind == "conv":
            self.norm1 = LayerNorm2d(c, cfg.ln_eps)
            self.spatial = SepConv(c, cfg.sep_expansion, cfg.dw_kernel)
        elif kind == "attn":
            self.norm1 = LayerNorm2d(c, cfg.ln_eps)
            self.spatial = WindowAttention(c, cfg.head_dim, cfg.window)
        elif kind != "identity":
            raise ValueError(kind)
        self.norm2 = LayerNorm2d(c, cfg.ln_eps)
        self.ffn = GatedFFN(c, cfg.ffn_expansion)

    def forward(self, x):
        if self.kind != "identity":
            x = x + self.spatial(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class Up(nn.Sequential):
    """Sub-pixel up-sampling by 2: Conv3x3(a -> 4b, pad 1) then PixelShuffle(2)."""

    def __init__(self, a: int, b: int):
        super().__init__(nn.Conv2d(a, 4 * b, 3, padding=1), nn.PixelShuffle(2))


def down(a: int, b: int) -> nn.Conv2d:
    """Conv5x5 stride 2, pad 2."""
    return nn.Conv2d(a, b, 5, stride=2, padding=2)


def stage(c: int, depth: int, kind: str, cfg) -> nn.Sequential:
    return nn.Sequential(*[S2CBlock(c, kind, cfg) for _ in range(depth)])


class CheckerboardConv(nn.Conv2d):
    """5x5 convolution whose taps at even (dy + dx) offsets are zero (centre included), so an
    output at a non-anchor position reads only anchor positions (ELIC / He et al. 2021)."""

    def __init__(self, cin: int, cout: int, kernel: int = 5):
        super().__init__(cin, cout, kernel, padding=kernel // 2)
        k = kernel
        mask = torch.zeros(1, 1, k, k)
        for i in range(k):
            for j in range(k):
                if (i + j) % 2 == 1:   # kernel centre is (k//2, k//2): even sum, so odd sum = odd offset
                    mask[0, 0, i, j] = 1.0
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)
