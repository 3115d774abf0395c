"""Time ``tkg_noise`` per call: default (closed-form shift) vs ``reference=True`` (official loop).

Prints a markdown table of median ms per call for batch 1 and 8 at 64x64 (SD1.5) and 128x128
(SDXL) latents with the paper's SDXL green shift, on the CPU and, when present, CUDA. Asserts
nothing. Usage: ``python bench/noise_bench.py [--devices cpu cuda] [--min-time 0.5] [--threads N]``.
"""

from __future__ import annotations

import argparse

import torch
from torch.utils import benchmark

from lib_tkg.noise import tkg_noise

SHIFTS = [0.0, 0.11, 0.11, 0.0]


def median_ms(noise: torch.Tensor, reference: bool, min_time: float, threads: int) -> float:
    timer = benchmark.Timer(
        stmt="tkg_noise(noise, shifts, reference=reference)",
        globals={"tkg_noise": tkg_noise, "noise": noise, "shifts": SHIFTS, "reference": reference},
        num_threads=threads,
    )
    return timer.blocked_autorange(min_run_time=min_time).median * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds per measurement")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads")
    args = parser.parse_args()
    devices = [d for d in args.devices if d != "cuda" or torch.cuda.is_available()]

    print(f"torch {torch.__version__}, {args.threads} CPU threads", end="")
    if "cuda" in devices:
        print(f", {torch.cuda.get_device_name()}", end="")
    print("\n")
    print("| device | dtype | batch | latent | default ms | reference ms | reference / default |")
    print("|---|---|---|---|---|---|---|")
    for device in devices:
        dtype = torch.float32 if device == "cpu" else torch.float16
        for size in (64, 128):
            for batch in (1, 8):
                gen = torch.Generator().manual_seed(0)
                noise = torch.randn(batch, 4, size, size, generator=gen).to(device, dtype)
                fast = median_ms(noise, False, args.min_time, args.threads)
                slow = median_ms(noise, True, args.min_time, args.threads)
                print(
                    f"| {device} | {str(dtype).removeprefix('torch.')} | {batch} | {size}x{size} "
                    f"| {fast:.2f} | {slow:.2f} | {slow / fast:.1f}x |"
                )


if __name__ == "__main__":
    main()
