"""Benchmark: one step of Ballistic (foreach) against torch.optim.Adam(foreach=True).

Both run side by side in one process on the same ~10M-parameter model made of many tensors (100
linear layers, 200 tensors), with identical fixed gradients; steps are interleaved and the median
of each is reported. Ballistic does strictly less work (no first moment, no bias correction).
Usage: python tests/benchmarks/bench_ballistic.py [--device cuda]
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from _report import write_report

from functions.optimisers import Ballistic


def _model(device):
    torch.manual_seed(0)
    layers = [torch.nn.Linear(316, 316) for _ in range(100)]
    model = torch.nn.Sequential(*layers).to(device)
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 1e-2
    return model


def _time_step(opt, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    device = torch.device(args.device)
    m_b, m_a = _model(device), _model(device)
    n_params = sum(p.numel() for p in m_b.parameters())
    ballistic = Ballistic(m_b.parameters(), lr=5e-4, foreach=True)
    adam = torch.optim.Adam(m_a.parameters(), lr=1e-3, foreach=True)
    for _ in range(5):  # warm-up (state allocation)
        ballistic.step(), adam.step()
    t_b, t_a = [], []
    for _ in range(args.repeats):
        t_b.append(_time_step(ballistic, device))
        t_a.append(_time_step(adam, device))
    mb, ma = statistics.median(t_b), statistics.median(t_a)
    print(f"{n_params / 1e6:.1f}M parameters in {len(list(m_b.parameters()))} tensors on {device}")
    print(f"Ballistic(foreach) step: {mb * 1e3:7.2f} ms (median of {args.repeats})")
    print(f"Adam(foreach)      step: {ma * 1e3:7.2f} ms")
    print(f"ratio Ballistic / Adam: {mb / ma:.2f} (target <= 0.9)")
    n_tensors = len(list(m_b.parameters()))
    write_report(f"bench_ballistic_{device.type}", [
        (f"One optimiser step on a {n_params / 1e6:.1f}M-parameter model of {n_tensors} tensors on {device.type}: "
         "Ballistic (foreach) vs `torch.optim.Adam(foreach=True)`",
         f"{mb * 1e3:.1f} ms vs {ma * 1e3:.1f} ms: ratio **{mb / ma:.2f}** (target ≤ 0.9)"),
    ], {"ballistic_ms": mb * 1e3, "adam_ms": ma * 1e3, "ratio": mb / ma, "n_params": n_params,
        "repeats": args.repeats})  # fmt: skip


if __name__ == "__main__":
    main()
