#!/usr/bin/env python3
"""Variable-rate training of S2C-Hybrid: resumable, CPU or CUDA, one quality per sample.

  python train/train.py --config hybrid-lite                 # resumes train/runs/hybrid-lite
  python train/train.py --config hybrid-t --device cuda --batch 8 --crop 256
  python train/train.py --config hybrid-lite --procs 2 --threads 1    # 2 data-parallel processes

Loss = bpp + lambda_q * 255^2 * MSE, q drawn uniformly from the 7 levels for every sample;
aux loss (factorized-prior quantiles) with its own optimizer; gradient clipping. The checkpoint
also keeps an exponential moving average of the weights (--ema; export.py weights --ema).
`kill PID` (SIGTERM) or SIGINT stops after the step in progress and saves the checkpoint.
Every periodic save first moves the last checkpoint to checkpoint.pt.prev: after a loss spike,
resume from the one before by renaming it back.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import signal
import sys
import time

# Short OpenMP spin-waits, set before torch loads libgomp: this machine shares its 2 cores with
# builds, and with libgomp's default (300000 spins) a step took 2.5-5x its idle time while one or
# two other processes were busy, vs 1.8-2.5x with 1000, which costs ~4% on an idle CPU
# (train/RESULTS.md, Training speed on CPU). Set GOMP_SPINCOUNT in the environment to override.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s2c.checkpoint import atomic_save, join  # noqa: E402
from s2c.config import DEFAULT_CONFIG, get_config  # noqa: E402
from s2c.data import CropSampler  # noqa: E402
from s2c.ema import EMA  # noqa: E402
from s2c.export import load_safetensors_into, read_metadata  # noqa: E402
from s2c.model import HybridModel, bits_per_pixel  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "train"))
    p.add_argument("--out", default=None, help="run folder (default train/runs/<config>)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave default); per process with --procs")
    p.add_argument("--procs", type=int, default=1,
                   help="data-parallel processes on this machine's CPU: each trains on its own --batch crops with "
                   "--threads threads and the gradients are averaged every step (gloo), so a step sees procs x batch "
                   "samples. On 2 cores, 2 processes of 1 thread outrun 1 process of 2 threads and keep their speed "
                   "when other jobs share the cores (train/RESULTS.md, Training speed on CPU)")
    p.add_argument("--steps", type=int, default=10**9, help="stop at this global step")
    p.add_argument("--minutes", type=float, default=0, help="stop after this many minutes (0: no limit)")
    p.add_argument("--cpu-minutes", type=float, default=0,
                   help="stop after this process has used this many CPU minutes, all threads together "
                   "(0: no limit); pilots compare candidates at equal CPU time on a shared machine")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--crop-large", type=int, default=256, help="crop used from --large-after on")
    p.add_argument("--large-after", type=int, default=200000, help="global step from which --crop-large is used")
    p.add_argument("--lr", type=float, default=1e-4,
                   help="Adam learning rate after the warm-up (2e-4 plateaued and spiked: train/RESULTS.md, run 2)")
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--aux-lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--bf16", action="store_true", help="run g_a and g_s under bfloat16 autocast "
                   "(about 1.3x faster on CPUs with AVX512-BF16; entropy model stays float32)")
    p.add_argument("--fast", action=argparse.BooleanOptionalAction, default=None,
                   help="same maths, faster code paths: channels_last, explicit-matmul attention, "
                   "checkerboard-split parameter aggregation, float32 depthwise convs under --bf16, "
                   "fused Adam (default: on for --device cpu; train/RESULTS.md, Training speed on CPU)")
    p.add_argument("--ema", type=float, default=0.999,
                   help="decay of the exponential moving average of the weights kept in the checkpoint "
                   "(export.py weights --ema writes it; 0: none)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--save-minutes", type=float, default=10.0)
    p.add_argument("--zero-init", action=argparse.BooleanOptionalAction, default=True,
                   help="a run from random initialisation starts every residual branch at zero, so each "
                   "S2C block is the identity (HybridModel.zero_init_residual_branches)")
    p.add_argument("--init", default=None, help="float weights to start a new run from (default: "
                   "Weights/<config>.train.safetensors, else Weights/<config>.safetensors, when one exists; "
                   "'none': random initialisation)")
    p.add_argument("--init-ema", default=None, help="moving average to continue in a new run (default: "
                   "Weights/<config>.safetensors when it is an EMA export, export.py weights --ema)")
    return p.parse_args(argv)


def rng_state(sampler):
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "data": sampler.gen.get_state()}


def set_rng_state(s, sampler):
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])
    torch.set_rng_state(s["torch"])
    if s.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])
    sampler.gen.set_state(s["data"])


def per_quality(window, qualities):
    """'q1 22.1/0.31 q2 ...': mean training PSNR / bpp of the window's samples of each quality
    (whether distortion follows the rate across qualities, which a mean over qualities hides)."""
    sums = {}
    for _, m in window:
        for q, p, b in zip(m["q"], m["psnr_each"], m["bpp_each"]):
            n, sp, sb = sums.get(q, (0, 0.0, 0.0))
            sums[q] = (n + 1, sp + p, sb + b)
    return " ".join(f"q{q} {sums[q][1] / sums[q][0]:.1f}/{sums[q][2] / sums[q][0]:.2f}"
                    for q in range(1, qualities + 1) if q in sums)


def conform_optimizer_state(opt, fused):
    """After load_state_dict: the checkpoint may come from a run with the other memory layout
    (--fast or not) and its param_groups carry that run's 'fused' flag. Give every state tensor
    its parameter's layout (fused Adam silently assumes they match) and restore our flag."""
    for group in opt.param_groups:
        group["fused"] = fused
        for p in group["params"]:
            for k, v in opt.state.get(p, {}).items():
                if torch.is_tensor(v) and v.shape == p.shape and v.stride() != p.stride():
                    opt.state[p][k] = torch.empty_like(p, dtype=v.dtype).copy_(v)


def flat_allreduce_mean(tensors, world):
    """Averages a list of same-dtype tensors across the process group in one collective."""
    if not tensors:
        return
    import torch.distributed as dist
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    flat /= world
    o = 0
    for t in tensors:
        n = t.numel()
        t.copy_(flat[o:o + n].view_as(t))
        o += n


class Trainer:
    def __init__(self, args, log=print, rank=0, world=1):
        self.args = args
        self.log = log
        self.rank, self.world = rank, world
        self.cfg = get_config(args.config)
        self.device = torch.device(args.device)
        if args.threads:
            torch.set_num_threads(args.threads)
        random.seed(args.seed)
        np.random.seed(args.seed)
        torch.manual_seed(args.seed)
        self.model = HybridModel(self.cfg).to(self.device)
        self.model.bf16_transforms = args.bf16
        self.fast = self.device.type == "cpu" if args.fast is None else args.fast
        if self.fast:
            self.model.use_fast_cpu_paths()
        main = [p for n, p in self.model.named_parameters() if not n.endswith("quantiles")]
        aux = [p for n, p in self.model.named_parameters() if n.endswith("quantiles")]
        self.opt = torch.optim.Adam(main, lr=args.lr, fused=self.fast or None)
        self.aux_opt = torch.optim.Adam(aux, lr=args.aux_lr)
        self.sampler = CropSampler(args.data, min_side=max(args.crop, args.crop_large))
        self.sampler.gen.manual_seed(args.seed)
        if rank:                        # same initial weights on every process, its own crops and noise
            self.seed_rank_rngs(0)
        self.ema = EMA(self.model, args.ema) if args.ema else None
        self.step = 0
        self.samples = 0
        self.lambdas = torch.tensor(self.cfg.lambdas, device=self.device)

    def seed_rank_rngs(self, step):
        """Data and noise generators of a process other than the first, from (seed, rank, step):
        for a new run, or a checkpoint written with fewer processes."""
        s = (self.args.seed * 1_000_003 + self.rank * 7919 + step) % (2 ** 63)
        self.sampler.gen.manual_seed(s)
        torch.manual_seed(s)
        np.random.seed(s % (2 ** 32))
        random.seed(s)

    # -- persistence ---------------------------------------------------------------------------
    def state(self):
        """The checkpoint; with --procs every process calls it (it gathers their generators) and
        the first one's result is saved."""
        rng = rng_state(self.sampler)
        ranks = [rng]
        if self.world > 1:
            import torch.distributed as dist
            ranks = [None] * self.world
            dist.all_gather_object(ranks, rng)
        return {"config": self.cfg.name, "model": self.model.state_dict(), "opt": self.opt.state_dict(),
                "aux_opt": self.aux_opt.state_dict(), "step": self.step, "samples": self.samples,
                "rng": ranks[0], "rng_ranks": ranks[1:], "ema": self.ema.state_dict() if self.ema else None}

    def save(self, path, keep_previous=False):
        """Atomic save; keep_previous first renames the last checkpoint to <path>.prev, so a run
        that went wrong since (a loss spike) can be resumed from the one before. Collective with
        --procs: every process calls it, the first writes."""
        state = self.state()
        if self.rank:
            return
        if keep_previous and os.path.exists(path):
            os.replace(path, path + ".prev")
        atomic_save(state, path)

    def load(self, path):
        if not os.path.exists(path) and os.path.exists(path + ".parts.json"):
            join(path)
        s = torch.load(path, map_location=self.device, weights_only=False)
        if s["config"] != self.cfg.name:
            raise SystemExit(f"{path} holds a '{s['config']}' run, not '{self.cfg.name}'")
        self.model.load_state_dict(s["model"])
        self.opt.load_state_dict(s["opt"])
        self.aux_opt.load_state_dict(s["aux_opt"])
        for opt in (self.opt, self.aux_opt):
            conform_optimizer_state(opt, fused=(self.fast or None) if opt is self.opt else None)
        self.step, self.samples = s["step"], s["samples"]
        if self.rank == 0:
            set_rng_state(s["rng"], self.sampler)
        elif self.rank - 1 < len(s.get("rng_ranks") or []):
            set_rng_state(s["rng_ranks"][self.rank - 1], self.sampler)
        else:
            self.seed_rank_rngs(self.step)
        if self.ema is not None:
            if s.get("ema"):
                self.ema.load_state_dict(s["ema"])
            else:               # a checkpoint from before --ema: the average starts here
                self.ema = EMA(self.model, self.args.ema)
                self.log(f"checkpoint has no EMA: averaging from step {self.step}")

    # -- one optimisation step -----------------------------------------------------------------
    def train_step(self):
        a = self.args
        crop = a.crop_large if self.step >= a.large_after else a.crop
        x = self.sampler.batch(a.batch, crop).to(self.device)
        q = torch.randint(1, self.cfg.qualities + 1, (a.batch,), device=self.device)
        lam = self.lambdas[q - 1]
        lr = a.lr * min(1.0, (self.step + 1) / max(1, a.warmup))
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.model.train()
        out = self.model(x, q.float())
        mse = (out["x_hat"] - x).pow(2).flatten(1).mean(1)
        bpp = bits_per_pixel(out, crop * crop)
        loss = (bpp + lam * 255 ** 2 * mse).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.world > 1:
            self.average_gradients(self.opt)
        gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), a.clip)
        self.opt.step()
        aux = self.model.aux_loss()
        self.aux_opt.zero_grad(set_to_none=True)
        aux.backward()
        if self.world > 1:
            self.average_gradients(self.aux_opt)
        self.aux_opt.step()
        if self.ema is not None:
            self.ema.update()
        self.step += 1
        self.samples += a.batch * self.world
        psnr_each = 10 * torch.log10(1 / mse.detach().clamp(min=1e-10))
        psnr = psnr_each.mean()
        return {"loss": loss.item(), "bpp": bpp.mean().item(), "psnr": psnr.item(), "aux": aux.item(),
                "q": q.tolist(), "psnr_each": psnr_each.tolist(), "bpp_each": bpp.detach().tolist(),
                "gnorm": float(gnorm), "lr": lr, "crop": crop}

    def average_gradients(self, opt):
        """--procs: every process ends the backward pass with the mean of all processes' gradients
        (a parameter without a gradient counts as zero), so the optimizers take the same step."""
        grads = []
        for g in opt.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                grads.append(p.grad)
        for dtype in sorted({t.dtype for t in grads}, key=str):
            flat_allreduce_mean([t for t in grads if t.dtype == dtype], self.world)

    def weights_digest(self):
        """Sum of all parameters in float64: equal on every process while they stay in step."""
        with torch.no_grad():
            return float(sum(p.double().sum() for p in self.model.parameters()))


def init_new_run(tr, args, log):
    """A run with no checkpoint yet: from the committed float weights (and their EMA), from --init,
    or from random initialisation (--zero-init). Weights/<config>.train.safetensors holds the
    training weights and Weights/<config>.safetensors the shipped model, often their moving average:
    both travel in git, so training survives a new machine (fresh optimizer; train/RESULTS.md)."""
    shipped = os.path.join(REPO, "Weights", f"{args.config}.safetensors")
    resume = os.path.join(REPO, "Weights", f"{args.config}.train.safetensors")
    init = args.init or (resume if os.path.exists(resume) else shipped)
    if init != "none" and not os.path.exists(init) and args.init:
        raise SystemExit(f"--init {init}: no such file")
    if init != "none" and os.path.exists(init):
        load_safetensors_into(tr.model, init)
        meta = read_metadata(init)
        tr.samples = int(meta.get("samples", 0))   # samples seen by the weights' earlier runs
        msg = f"new run from weights {init} ({tr.samples} samples seen before)"
        if tr.ema is not None:
            tr.ema = EMA(tr.model, args.ema)       # average from the loaded weights, unless ...
            ema_init = args.init_ema or (shipped if shipped != init and os.path.exists(shipped) else None)
            if ema_init and "ema_updates" in read_metadata(ema_init):
                ema_model = HybridModel(tr.cfg)     # ... an exported average continues
                load_safetensors_into(ema_model, ema_init)
                tr.ema.load_state_dict({"updates": int(read_metadata(ema_init)["ema_updates"]),
                                        "shadow": dict(ema_model.named_parameters())})
                msg += f", EMA continued from {ema_init}"
            elif args.init_ema:
                raise SystemExit(f"--init-ema {args.init_ema} is not an EMA export (no ema_updates metadata)")
        log(msg)
    else:
        if args.zero_init:
            tr.model.zero_init_residual_branches()
            if tr.ema is not None:
                tr.ema = EMA(tr.model, args.ema)
        log(f"new run from random initialisation{', residual branches zeroed' if args.zero_init else ''}")


def main(argv=None):
    args = parse_args(argv)
    if args.procs < 1:
        raise SystemExit("--procs must be at least 1")
    if args.procs > 1 and args.device != "cpu":
        raise SystemExit("--procs runs data-parallel processes on the CPU; on a GPU use one process and a larger --batch")
    if args.procs == 1:
        return run(args)
    launch(args)


def launch(args):
    """--procs N: N worker processes (gloo over loopback), each a full trainer on its own crops.
    SIGTERM / SIGINT to this process reach the workers, which stop after the same step; the first
    worker logs and saves."""
    import socket
    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.spawn(worker, args=(args, port), nprocs=args.procs, join=False)

    def forward(signum, frame):
        for p in ctx.processes:
            if p.is_alive():
                os.kill(p.pid, signum)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while not ctx.join():
        pass


def worker(rank, args, port):
    import torch.distributed as dist
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=args.procs)
    try:
        run(args, rank, args.procs)
    finally:
        dist.destroy_process_group()


def run(args, rank=0, world=1):
    out = args.out or os.path.join(REPO, "train", "runs", args.config)
    os.makedirs(out, exist_ok=True)
    logf = open(os.path.join(out, "log.txt"), "a") if rank == 0 else None

    def log(msg):
        if rank:
            return
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    if world > 1:
        import torch.distributed as dist

        def agree(*flags):
            """Any process's flag is everyone's: they stop and save after the same step."""
            t = torch.tensor([float(f) for f in flags])
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            return [bool(v) for v in t.tolist()]

        def gather(window):
            every = [None] * world
            dist.all_gather_object(every, window)
            return [w for ws in every for w in ws]
    else:
        def agree(*flags):
            return list(flags)

        def gather(window):
            return window

    tr = Trainer(args, log, rank, world)
    ckpt = os.path.join(out, "checkpoint.pt")
    if os.path.exists(ckpt) or os.path.exists(ckpt + ".parts.json"):
        tr.load(ckpt)
        log(f"resumed {ckpt} at step {tr.step} ({tr.samples} samples seen)")
    else:
        init_new_run(tr, args, log)
    log(f"config {args.config}: {sum(p.numel() for p in tr.model.parameters())} parameters, "
        f"{len(tr.sampler)} training images, device {args.device}, threads {torch.get_num_threads()}"
        f"{f' x {world} processes' if world > 1 else ''}, "
        f"{'bf16 transforms, ' if args.bf16 else ''}{'fast paths, ' if tr.fast else ''}"
        f"GOMP_SPINCOUNT {os.environ.get('GOMP_SPINCOUNT')}, "
        f"batch {args.batch}{f' per process' if world > 1 else ''}, crop {args.crop} (then {args.crop_large} from step {args.large_after}), "
        f"EMA {args.ema if args.ema else 'off'}")
    # SIGTERM (plain `kill`) and SIGINT stop the run after the step in progress, which then saves
    # its checkpoint (a signal in the middle of a step would save a half-updated model). A job
    # started with `&` from a script inherits SIGINT as ignored, so both handlers are set here.
    stop = []
    def request_stop(signum, frame):
        stop.append(signum)             # only this: the handler may interrupt a print or a write
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    t0 = time.time()
    cpu0 = time.process_time()
    last_save = time.time()
    window = []
    window_t0 = time.time()
    stopping = False
    while tr.step < args.steps:
        stopping, out_of_time, save_now = agree(
            bool(stop),
            (args.minutes and time.time() - t0 > args.minutes * 60)
            or (args.cpu_minutes and time.process_time() - cpu0 > args.cpu_minutes * 60),
            time.time() - last_save > args.save_minutes * 60)
        if stopping or out_of_time:
            break
        if save_now:
            ts = time.time()
            tr.save(ckpt, keep_previous=True)
            last_save = time.time()
            window_t0 += last_save - ts       # the log's samples/s counts training time only
        m = tr.train_step()
        if agree(not math.isfinite(m["loss"]))[0]:
            raise SystemExit(f"loss is not finite at step {tr.step} (this process: {m['loss']}); not saving. "
                             "Resume from the last checkpoint with a lower --lr.")
        window.append((0.0, m))
        if tr.step % args.log_every == 0:
            secs = time.time() - window_t0
            every = gather(window)
            if world > 1:
                digests = gather([tr.weights_digest()])
                if max(digests) != min(digests):
                    raise SystemExit(f"step {tr.step}: the processes' weights differ ({digests}); not saving")
            avg = {k: sum(w[1][k] for w in every) / len(every) for k in ("loss", "bpp", "psnr", "aux")}
            log(f"step {tr.step} samples {tr.samples} | {args.batch * len(every) / secs:.2f} samples/s | "
                f"loss {avg['loss']:.4f} bpp {avg['bpp']:.4f} psnr {avg['psnr']:.2f} aux {avg['aux']:.1f} "
                f"| lr {m['lr']:.2e} crop {m['crop']} | {per_quality(every, tr.cfg.qualities)}")
            window = []
            window_t0 = time.time()
    if stop:
        log(f"{signal.Signals(stop[0]).name}: stopped after step {tr.step}")
    elif stopping:
        log(f"another process was stopped by a signal: stopped after step {tr.step}")
    tr.save(ckpt)
    log(f"saved {ckpt} at step {tr.step} ({tr.samples} samples seen; this process: "
        f"{(time.time() - t0) / 60:.1f} min, {(time.process_time() - cpu0) / 60:.1f} CPU-min)")


if __name__ == "__main__":
    main()
