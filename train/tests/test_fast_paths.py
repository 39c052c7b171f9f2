"""The CPU speed paths (HybridModel.use_fast_cpu_paths, train.py --fast) compute the same function
as the reference code paths: same loss and gradients in float32, same checkpoints."""
import os

import pytest
import torch

from conftest import KODAK
from s2c.config import get_config
from s2c.model import HybridModel, checkerboard_merge, checkerboard_split

torch.set_num_threads(1)


def nano(seed=0, fast=False):
    torch.manual_seed(seed)
    m = HybridModel(get_config("hybrid-nano"))
    if fast:
        m.use_fast_cpu_paths()
    return m


def loss_and_grads(m, x, q, seed=7):
    torch.manual_seed(seed)          # same noise draws in both models
    out = m(x, q)
    loss = out["x_hat"].square().mean() - torch.log2(out["y_lik"]).mean() - torch.log2(out["z_lik"]).mean()
    m.zero_grad(set_to_none=True)
    loss.backward()
    return loss.item(), {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}


def test_checkerboard_split_merge():
    t = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).view(2, 3, 4, 6)
    a, n = checkerboard_split(t)
    assert a.shape == n.shape == (4, 3, 2, 3)
    am = ((torch.arange(4).view(4, 1) + torch.arange(6).view(1, 6)) % 2 == 0)
    assert sorted(a.flatten().tolist()) == sorted(t[:, :, am].flatten().tolist())
    assert sorted(n.flatten().tolist()) == sorted(t[:, :, ~am].flatten().tolist())
    assert torch.equal(checkerboard_merge(a, n), t)


def test_fast_paths_same_training_loss_and_gradients():
    ref, fast = nano(3), nano(3, fast=True)
    assert fast.channels_last and fast.split_checkerboard
    x = torch.rand(2, 3, 64, 128, generator=torch.Generator().manual_seed(1))
    q = torch.tensor([1.5, 6.0])
    ref.train(), fast.train()
    l0, g0 = loss_and_grads(ref, x, q)
    l1, g1 = loss_and_grads(fast, x, q)
    assert l1 == pytest.approx(l0, rel=1e-5)
    assert g0.keys() == g1.keys()
    for n in g0:                # float rounding only (summation order): relative error per tensor
        assert (g1[n] - g0[n]).norm() <= 1e-4 * g0[n].norm() + 1e-12, n


def test_fast_paths_same_eval_output():
    ref, fast = nano(4).eval(), nano(4, fast=True).eval()
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        a = ref(x, torch.tensor([3.0]))
        b = fast(x, torch.tensor([3.0]))
    assert torch.allclose(a["x_hat"], b["x_hat"], atol=1e-5)
    assert torch.allclose(a["y_lik"], b["y_lik"], rtol=1e-4, atol=1e-7)


def test_split_entropy_model_matches_dense():
    """Training-mode entropy_y: the checkerboard-split version against the dense reference."""
    m = nano(5).train()
    cfg = m.cfg
    g = torch.Generator().manual_seed(3)
    y = (3 * torch.randn(2, cfg.latent, 4, 6, generator=g)).requires_grad_()
    psi = torch.randn(2, 2 * cfg.hyper, 4, 6, generator=g).requires_grad_()
    res = []
    for split in (False, True):
        m.split_checkerboard = split
        torch.manual_seed(9)
        y_hat, lik = m.entropy_y(y, psi, noise=True)
        (y_hat.square().sum() - torch.log(lik).sum()).backward()
        res.append((y_hat.detach(), lik.detach(), y.grad.clone(), psi.grad.clone()))
        y.grad = psi.grad = None
    for a, b in zip(*res):      # float rounding only: summation order differs
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5 * a.abs().max().item())


@pytest.mark.skipif(not os.path.isdir(KODAK), reason="needs ../shared/data/kodak")
def test_fast_checkpoints_resume_either_way(tmp_path):
    """A --fast checkpoint (channels_last weights and Adam state, fused Adam) resumed with and
    without --fast trains on identically, and so does a reference checkpoint resumed with --fast."""
    import train as tr_mod

    def trainer(fast):
        args = tr_mod.parse_args(["--config", "hybrid-nano", "--data", KODAK, "--batch", "2", "--crop", "64",
                                  "--crop-large", "64", "--warmup", "1", "--threads", "1",
                                  "--fast" if fast else "--no-fast"])
        return tr_mod.Trainer(args, log=lambda m: None)

    for saved_fast in (True, False):
        a = trainer(saved_fast)
        assert a.fast == saved_fast
        a.train_step()
        a.train_step()
        ck = str(tmp_path / f"ck{saved_fast}.pt")
        a.save(ck)
        losses = []
        for fast in (False, True):
            b = trainer(fast)
            b.load(ck)
            losses.append([b.train_step()["loss"] for _ in range(3)])
        for l0, l1 in zip(*losses):
            assert l1 == pytest.approx(l0, rel=1e-4)


@pytest.mark.skipif(not os.path.isdir(KODAK), reason="needs ../shared/data/kodak")
def test_fast_bf16_step():
    import train as tr_mod
    args = tr_mod.parse_args(["--config", "hybrid-nano", "--data", KODAK, "--batch", "2", "--crop", "64",
                              "--crop-large", "64", "--warmup", "1", "--threads", "1", "--bf16"])
    t = tr_mod.Trainer(args, log=lambda m: None)
    assert t.fast                       # the default on CPU
    m = t.train_step()
    assert m["loss"] == m["loss"] and m["loss"] < 1e6
    trace = {}
    with torch.no_grad():
        t.model.eval()
        out = t.model(torch.rand(1, 3, 64, 64), torch.tensor([3.0]), trace)
    assert trace["y"].dtype == torch.float32 and out["x_hat"].dtype == torch.float32
    assert out["y_lik"].dtype == torch.float32
