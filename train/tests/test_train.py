"""train.py beyond one step: the moving average of the weights (--ema: arithmetic, resume, export), stopping on a signal, the per-quality log."""
import argparse
import os
import sys

import pytest
import torch

from conftest import KODAK
from s2c.config import get_config
from s2c.ema import EMA
from s2c.export import export_tensors
from safetensors.torch import load_file
from s2c.model import HybridModel

torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_ema_follows_its_formula():
    torch.manual_seed(0)
    m = HybridModel(get_config("hybrid-nano"))
    ema = EMA(m, 0.9)
    p = next(m.parameters())
    expected = p.detach().clone().double()
    for t in range(1, 30):
        with torch.no_grad():
            for q in m.parameters():
                q.add_(torch.randn_like(q))
        ema.update()
        d = min(0.9, (1 + t) / (10 + t))
        expected = d * expected + (1 - d) * p.detach().double()
    assert ema.updates == 29
    assert torch.allclose(ema.shadow[0].double(), expected, atol=1e-5)
    # The average is not the weights: the test would pass trivially otherwise.
    assert (ema.shadow[0] - p).abs().max() > 0.1
    with pytest.raises(ValueError):
        EMA(m, 1.0)


def _args(tr_mod, *extra):
    return tr_mod.parse_args(["--config", "hybrid-nano", "--data", KODAK, "--batch", "2", "--crop", "64",
                              "--crop-large", "64", "--warmup", "1", "--threads", "1", *extra])


@pytest.mark.skipif(not os.path.isdir(KODAK), reason="needs ../shared/data/kodak")
def test_ema_resumes_and_exports(tmp_path):
    import export as export_mod
    import train as tr_mod
    a = tr_mod.Trainer(_args(tr_mod, "--ema", "0.5"), log=lambda m: None)
    a.train_step()
    a.train_step()
    ck = str(tmp_path / "ck.pt")
    a.save(ck)
    saved = [t.clone() for t in a.ema.shadow]
    a.train_step()
    b = tr_mod.Trainer(_args(tr_mod, "--ema", "0.5"), log=lambda m: None)
    b.load(ck)
    assert b.ema.updates == 2
    for x, y in zip(saved, b.ema.shadow):
        assert torch.equal(x, y)
    b.train_step()
    # The resumed step computes the same loss, but its gradients may differ in the last bits
    # (oneDNN's sums depend on buffer alignment), so the next average is equal to rounding.
    for x, y in zip(a.ema.shadow, b.ema.shadow):
        assert torch.allclose(x, y, rtol=1e-5, atol=1e-7)
    # export.py weights --ema writes the average, without it the weights themselves.
    b.save(ck)
    for use_ema in (True, False):
        out = str(tmp_path / f"w{int(use_ema)}.safetensors")
        export_mod.export_weights(argparse.Namespace(checkpoint=ck, out=out, dtype="f32", ema=use_ema))
        ref = HybridModel(get_config("hybrid-nano"))
        ref.load_state_dict(b.ema.model_state_dict(b.model) if use_ema else b.model.state_dict())
        want, got = export_tensors(ref), load_file(out)
        assert want.keys() == got.keys()
        for n in want:
            assert torch.equal(got[n], want[n]), n
    name = b.ema.names[0]
    assert not torch.equal(b.ema.shadow[0], dict(b.model.named_parameters())[name])


@pytest.mark.skipif(not os.path.isdir(KODAK), reason="needs ../shared/data/kodak")
def test_checkpoint_without_ema_starts_the_average_there(tmp_path):
    import export as export_mod
    import train as tr_mod
    a = tr_mod.Trainer(_args(tr_mod, "--ema", "0"), log=lambda m: None)
    assert a.ema is None
    a.train_step()
    ck = str(tmp_path / "ck.pt")
    a.save(ck)
    with pytest.raises(SystemExit):
        export_mod.export_weights(argparse.Namespace(checkpoint=ck, out=str(tmp_path / "w.safetensors"),
                                                     dtype="f32", ema=True))
    b = tr_mod.Trainer(_args(tr_mod), log=lambda m: None)
    b.load(ck)
    assert b.ema.updates == 0
    for n, t in zip(b.ema.names, b.ema.shadow):
        assert torch.equal(t, dict(b.model.named_parameters())[n])


@pytest.mark.skipif(not os.path.isdir(KODAK), reason="needs ../shared/data/kodak")
def test_sigterm_saves_a_checkpoint(tmp_path):
    """`kill PID` on a background run stops it after the step in progress and saves."""
    import signal
    import subprocess
    import time
    train_py = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train.py")
    out = tmp_path / "run"
    # SIGINT ignored, as for a job started with `&` by a non-interactive shell.
    p = subprocess.Popen([sys.executable, train_py, "--config", "hybrid-nano", "--data", KODAK, "--batch", "1",
                          "--crop", "64", "--crop-large", "64", "--threads", "1", "--log-every", "1",
                          "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        deadline = time.time() + 120
        for line in p.stdout:
            if " step 2 " in line or time.time() > deadline:
                break
        p.send_signal(signal.SIGINT)
        rest = p.communicate(timeout=120)[0]
    finally:
        p.kill()
    assert p.returncode == 0, rest
    assert "SIGINT: stopped after step" in rest and "saved" in rest
    s = torch.load(str(out / "checkpoint.pt"), map_location="cpu", weights_only=False)
    assert s["step"] >= 2 and s["ema"]["updates"] == s["step"]


def test_per_quality_log_groups_samples_by_quality():
    import train as tr_mod
    window = [(1.0, {"q": [1, 7], "psnr_each": [20.0, 30.0], "bpp_each": [0.1, 0.9]}),
              (1.0, {"q": [1, 3], "psnr_each": [22.0, 25.0], "bpp_each": [0.3, 0.5]})]
    assert tr_mod.per_quality(window, 7) == "q1 21.0/0.20 q3 25.0/0.50 q7 30.0/0.90"


@pytest.mark.skipif(not os.path.isdir(KODAK), reason="needs ../shared/data/kodak")
def test_periodic_saves_keep_the_previous_checkpoint(tmp_path):
    import train as tr_mod
    a = tr_mod.Trainer(_args(tr_mod), log=lambda m: None)
    ck = str(tmp_path / "ck.pt")
    a.train_step()
    a.save(ck, keep_previous=True)
    assert not os.path.exists(ck + ".prev")
    a.train_step()
    a.save(ck, keep_previous=True)
    prev = torch.load(ck + ".prev", map_location="cpu", weights_only=False)
    last = torch.load(ck, map_location="cpu", weights_only=False)
    assert (prev["step"], last["step"]) == (1, 2)


@pytest.mark.skipif(not os.path.isdir(KODAK), reason="needs ../shared/data/kodak")
def test_new_run_continues_committed_weights_and_their_average(tmp_path):
    """A new machine has no checkpoint: the committed training weights and EMA export carry on."""
    import export as export_mod
    import train as tr_mod
    a = tr_mod.Trainer(_args(tr_mod, "--ema", "0.5"), log=lambda m: None)
    for _ in range(3):
        a.train_step()
    ck = str(tmp_path / "ck.pt")
    a.save(ck)
    raw, ema = str(tmp_path / "w.train.safetensors"), str(tmp_path / "w.safetensors")
    export_mod.export_weights(argparse.Namespace(checkpoint=ck, out=raw, dtype="f32", ema=False))
    export_mod.export_weights(argparse.Namespace(checkpoint=ck, out=ema, dtype="f32", ema=True))
    b = tr_mod.Trainer(_args(tr_mod, "--ema", "0.5", "--init", raw, "--init-ema", ema), log=lambda m: None)
    msgs = []
    tr_mod.init_new_run(b, b.args, msgs.append)
    assert b.step == 0 and b.samples == a.samples == 6, msgs
    assert b.ema.updates == 3 and "EMA continued" in msgs[0]
    # Equal as exported (the checkerboard convs' unused taps are stored as zeros).
    def exported(trainer, average):
        m = HybridModel(get_config("hybrid-nano"))
        m.load_state_dict(trainer.ema.model_state_dict(trainer.model) if average else trainer.model.state_dict())
        return export_tensors(m)
    for average in (False, True):
        want, got = exported(a, average), exported(b, average)
        for n in want:
            assert torch.equal(got[n], want[n]), (n, average)
    # The weights are not their average (else this test could not tell them apart).
    assert not torch.equal(b.ema.shadow[0], next(b.model.parameters()))
    with pytest.raises(SystemExit):          # an --init-ema that is not an average is refused
        c = tr_mod.Trainer(_args(tr_mod, "--init", raw, "--init-ema", raw), log=lambda m: None)
        tr_mod.init_new_run(c, c.args, lambda m: None)


def test_zero_init_makes_every_block_the_identity():
    torch.manual_seed(0)
    m = HybridModel(get_config("hybrid-nano")).zero_init_residual_branches().eval()
    from s2c.layers import S2CBlock
    blocks = [mod for mod in m.modules() if isinstance(mod, S2CBlock)]
    assert {b.kind for b in blocks} == {"conv", "attn", "identity"}
    x = torch.randn(1, 16, 16, 16)
    for b in blocks:
        c = b.ffn.fc2.in_channels // get_config("hybrid-nano").ffn_expansion
        xi = torch.randn(1, c, 16, 16)
        assert torch.equal(b(xi), xi)


@pytest.mark.skipif(not os.path.isdir(KODAK), reason="needs ../shared/data/kodak")
def test_data_parallel_processes_stay_in_step_and_resume(tmp_path):
    """--procs 2: each process trains on its own crops and the averaged gradients keep the weights
    equal (train.py compares a digest of them at every log line and stops if they differ; without
    the averaging they would differ after the first step); the checkpoint counts both processes'
    samples, keeps the second one's generators, and resumes."""
    import subprocess
    train_py = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train.py")
    out = tmp_path / "run"

    def run(steps):
        r = subprocess.run([sys.executable, train_py, "--config", "hybrid-nano", "--data", KODAK, "--batch", "1",
                            "--crop", "64", "--crop-large", "64", "--threads", "1", "--procs", "2", "--init", "none",
                            "--log-every", "1", "--steps", str(steps), "--out", str(out)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        assert r.returncode == 0, r.stdout
        return r.stdout, torch.load(str(out / "checkpoint.pt"), map_location="cpu", weights_only=False)

    log, s = run(3)
    assert "threads 1 x 2 processes" in log and "step 3 samples 6 " in log
    assert s["step"] == 3 and s["samples"] == 6 and len(s["rng_ranks"]) == 1
    assert not torch.equal(s["rng"]["data"], s["rng_ranks"][0]["data"])   # their own crops
    log, s = run(5)
    assert "resumed" in log and "at step 3 (6 samples seen)" in log
    assert s["step"] == 5 and s["samples"] == 10 and s["ema"]["updates"] == 5
