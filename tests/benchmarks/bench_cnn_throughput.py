"""CNN protocol (Figure 2f) training throughput against this machine's own single-precision matmul rate.

Measured side by side in one run, on the threads given (default: all cores):
- the floor: ``torch.mm`` of two 2048x2048 float32 matrices (sgemm), in GFLOP/s;
- one training step of the protocol (batch 128, 3x32x32, crop+flip, clipping at 5, Ballistic), as done by
  ``training.train_run``, and variants: channels-last memory format, foreach optimiser step, ``torch.compile``;
- evaluation of the 512-image test batch (no grad).
Each variant's rate is reported in GFLOP/s of useful work (the model's multiply-adds x 2, x 3 for a
training step: forward, input gradients, weight gradients) and as a fraction of sgemm, with the per-epoch
time it implies (391 steps). Whether a variant changes the numbers (bit for bit, against the baseline
after 3 steps) is printed beside it: only a variant that changes nothing can be adopted by a campaign
that is under way.

Usage: ``python tests/benchmarks/bench_cnn_throughput.py [--threads N] [--steps K] [--compile]``.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from _report import write_report

from functions.models import SmallCNN
from functions.optimisers import Ballistic
from functions.training import augment_crop_flip

BATCH, STEPS_PER_EPOCH = 128, 391


def model_macs(model: torch.nn.Module, shape=(1, 3, 32, 32)) -> int:
    """Multiply-adds of one forward pass of one image (convolutions and linear layers)."""
    macs, x = 0, torch.zeros(shape)
    for layer in model:
        y = layer(x)
        if isinstance(layer, torch.nn.Conv2d):
            macs += y.numel() * layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, torch.nn.Linear):
            macs += layer.in_features * layer.out_features
        x = y
    return macs


def sgemm_gflops(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t)
    return 2 * n**3 / min(times) / 1e9


def _setup(channels_last: bool, foreach: bool):
    torch.manual_seed(0)
    model = SmallCNN()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = Ballistic(model.parameters(), lr=5e-4, betas=(0.0, 0.9), foreach=foreach)
    return model, opt


def _step_fn(model, opt, channels_last: bool):
    def step(x, y, gen):
        xb = augment_crop_flip(x, gen)
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(model(xb), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return loss

    return step


def measure(name, channels_last=False, foreach=False, compiled=False, steps=8, reference=None):
    model, opt = _setup(channels_last, foreach)
    step = _step_fn(model, opt, channels_last)
    if compiled:
        model.forward = torch.compile(model.forward)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(BATCH, 3, 32, 32, generator=g), torch.randint(0, 10, (BATCH,), generator=g)
    gen = torch.Generator().manual_seed(2)
    for _ in range(3):  # warm-up (and compilation), also the bit-for-bit check after 3 steps
        step(x, y, gen)
    params = [p.detach().clone() for p in model.parameters()]
    same = None if reference is None else all(torch.equal(a, b) for a, b in zip(params, reference, strict=True))
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step(x, y, gen)
        times.append(time.perf_counter() - t)
    return name, statistics.median(times), same, params


def eval_time(repeats=5) -> float:
    torch.manual_seed(0)
    model = SmallCNN().eval()
    x = torch.randn(512, 3, 32, 32)
    with torch.no_grad():
        model(x)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            model(x).argmax(1)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    macs = model_macs(SmallCNN())
    step_flop = 3 * 2 * macs * BATCH
    floor = sgemm_gflops()
    print(f"threads {torch.get_num_threads()}; sgemm (2048^3) {floor:.1f} GFLOP/s; CNN step {step_flop / 1e9:.1f} "
          f"GFLOP ({macs / 1e6:.1f} M multiply-adds per image forward)")  # fmt: skip
    variants = [("baseline (train_run)", {}), ("foreach optimiser step", {"foreach": True}),
                ("channels-last", {"channels_last": True}),
                ("channels-last + foreach", {"channels_last": True, "foreach": True})]  # fmt: skip
    if args.compile:
        variants.append(("torch.compile(model)", {"compiled": True}))
    reference, numbers = None, {"sgemm_gflops": floor, "step_gflop": step_flop / 1e9, "variants": {}}
    print(f"{'variant':28s} {'s/step':>8s} {'GFLOP/s':>8s} {'of sgemm':>9s} {'s/epoch':>8s}  same bits")
    for name, kwargs in variants:
        name, t, same, params = measure(name, steps=args.steps, reference=reference, **kwargs)
        reference = reference if reference is not None else params
        rate = step_flop / t / 1e9
        bits = "reference" if same is None else ("yes" if same else "no")
        print(f"{name:28s} {t:8.3f} {rate:8.1f} {rate / floor:9.0%} {t * STEPS_PER_EPOCH:8.0f}  {bits}")
        numbers["variants"][name] = {"s_per_step": t, "gflops": rate, "of_sgemm": rate / floor,
                                     "s_per_epoch": t * STEPS_PER_EPOCH, "same_bits": same}  # fmt: skip
    te = eval_time()
    print(
        f"evaluation, 512 images: {te:.3f} s ({2 * macs * 512 / te / 1e9:.1f} GFLOP/s, {te * 20:.0f} s per test pass)"
    )
    numbers["test_pass_s"] = te * 20
    base, best = numbers["variants"]["baseline (train_run)"], numbers["variants"]["channels-last + foreach"]
    threads = torch.get_num_threads()
    write_report(f"bench_cnn_throughput_t{threads}", [
        (f"CNN protocol (Figure 2f), one training step (batch {BATCH}, {step_flop / 1e9:.1f} GFLOP) against this "
         f"machine's sgemm (2048³), {threads} thread{'s' if threads > 1 else ''}",
         f"sgemm {floor:.0f} GFLOP/s; step {base['s_per_step']:.3f} s ({base['gflops']:.0f} GFLOP/s, "
         f"**{base['of_sgemm']:.0%}**) as first written → {best['s_per_step']:.3f} s ({best['gflops']:.0f} GFLOP/s, "
         f"**{best['of_sgemm']:.0%}**) with channels-last + foreach, as run ({base['s_per_epoch']:.0f} → "
         f"{best['s_per_epoch']:.0f} s per epoch of steps); test pass {te * 20:.0f} s"),
    ], numbers)  # fmt: skip


if __name__ == "__main__":
    main()
