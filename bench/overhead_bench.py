"""How much does TKG add to a Stable Diffusion generation? Prints a markdown table.

TKG changes only the initial latents, so its true cost is building them (``tkg_latents``
versus plain seeded noise, both from per-seed CPU generators, then copied to the GPU). This
bench times, on an SD1.5-shaped model:

- generation end to end (``StableDiffusionPipeline.__call__``: 50 DDIM steps at CFG 7.5 with
  both halves of the CFG batch, VAE decode, conversion to PIL) with diffusers' own seeded noise
  (``generator=[...]``, "plain") and with ``latents=tkg_latents(...)`` built inside the timed
  region ("TKG"), interleaved plain/TKG to cancel drift;
- building the latents alone, plain vs TKG, in microseconds (the overhead proper);
- keying one 512x512 image with the CPU keyer (``lib_tkg.keying.key_image``), on the decoded
  output and on a synthetic green-screen image.

The UNet and VAE use the real SD1.5 configs (written below) with random weights, in fp16; the
scheduler is DDIM with SD1.5's schedule. There is no text encoder: random prompt embeddings of
shape (B, 77, 768) stand in for CLIP's output (the text encoder runs once per generation, the
same for plain and TKG, a few ms). Random weights make the pictures meaningless but the
arithmetic, and so the time, the same as for real weights. Asserts nothing.

Usage (GPU):  python bench/overhead_bench.py --batch-sizes 1 4
CPU smoke test:  python bench/overhead_bench.py --tiny --device cpu --dtype fp32 --steps 2
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).absolute().parents[1]))

from lib_tkg.keying import key_image
from lib_tkg.params import TkgParams
from lib_tkg.pipeline import initial_noise, tkg_latents

SD15_UNET = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "center_input_sample": False,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "down_block_types": (
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "DownBlock2D",
    ),
    "up_block_types": (
        "UpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
    ),
    "block_out_channels": (320, 640, 1280, 1280),
    "layers_per_block": 2,
    "downsample_padding": 1,
    "mid_block_scale_factor": 1,
    "act_fn": "silu",
    "norm_num_groups": 32,
    "norm_eps": 1e-5,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
}
SD15_VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "block_out_channels": (128, 256, 512, 512),
    "layers_per_block": 2,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 512,
    "scaling_factor": 0.18215,
}
SD15_SCHEDULE = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
}
# --tiny: same topology family, small widths, for a quick CPU check of the bench itself
TINY_UNET = {
    **SD15_UNET,
    "block_out_channels": (32, 32, 64, 64),
    "layers_per_block": 1,
    "norm_num_groups": 8,
}
TINY_VAE = {
    **SD15_VAE,
    "block_out_channels": (8, 8, 16, 16),
    "layers_per_block": 1,
    "norm_num_groups": 4,
}


def build_pipeline(device: torch.device, dtype: torch.dtype, tiny: bool):
    import diffusers

    torch.manual_seed(0)
    with torch.device(device):  # initialise the random weights on the target device: faster
        unet = diffusers.UNet2DConditionModel(**(TINY_UNET if tiny else SD15_UNET))
        vae = diffusers.AutoencoderKL(**(TINY_VAE if tiny else SD15_VAE))
    pipe = diffusers.StableDiffusionPipeline(
        vae=vae,
        text_encoder=None,
        tokenizer=None,
        unet=unet,
        scheduler=diffusers.DDIMScheduler(**SD15_SCHEDULE),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe = pipe.to(device=device, dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def stats(samples: list[float]) -> dict[str, float]:
    med = statistics.median(samples)
    return {
        "median": med,
        "min": min(samples),
        "max": max(samples),
        "spread": (max(samples) - min(samples)) / med if med else 0.0,
        "n": len(samples),
    }


def synthetic_green_screen(size: int, seed: int = 0) -> np.ndarray:
    """A green screen with a lit disc subject, a soft edge and sensor-like noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) * 2 - 1
    alpha = np.clip((0.55 - np.hypot(xx, yy * 1.2)) * 40, 0, 1)[..., None]
    subject = np.stack([0.8 + 0.1 * xx, 0.55 + 0.1 * yy, 0.45 + 0 * xx], -1) * 255
    screen = np.array([40.0, 200.0, 60.0]) * (1 - 0.1 * (xx**2 + yy**2))[..., None]
    image = alpha * subject + (1 - alpha) * screen + rng.normal(0, 3, (size, size, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--cfg", type=float, default=7.5)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--reps", type=int, default=5, help="timed generations per variant")
    parser.add_argument("--warmup", type=int, default=1, help="untimed generations per variant")
    parser.add_argument("--latent-reps", type=int, default=200)
    parser.add_argument("--key-reps", type=int, default=10)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=("fp16", "bf16", "fp32"), default="fp16")
    parser.add_argument("--tiny", action="store_true", help="small random model (CPU check)")
    parser.add_argument("--out", type=Path, help="also write the table (markdown) here")
    args = parser.parse_args(argv)

    import diffusers

    device = torch.device(args.device)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
    t0 = time.perf_counter()
    pipe = build_pipeline(device, dtype, args.tiny)
    build_s = time.perf_counter() - t0
    params = TkgParams(enabled=True, color="green")
    hidden = pipe.unet.config.cross_attention_dim
    size = args.size
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(
        f"device: {gpu} | torch {torch.__version__} | diffusers {diffusers.__version__} | "
        f"{'tiny' if args.tiny else 'SD1.5-shaped'} UNet+VAE, random weights, {args.dtype} | "
        f"{size}x{size}, DDIM {args.steps} steps, CFG {args.cfg} | built in {build_s:.1f} s",
        flush=True,
    )

    rows = []
    decoded = None
    for batch in args.batch_sizes:
        seeds = list(range(1000, 1000 + batch))
        gen = torch.Generator("cpu").manual_seed(batch)
        embeds = torch.randn((batch, 77, hidden), generator=gen).to(device, dtype)
        negative = torch.randn((batch, 77, hidden), generator=gen).to(device, dtype)
        common = {
            "prompt_embeds": embeds,
            "negative_prompt_embeds": negative,
            "height": size,
            "width": size,
            "num_inference_steps": args.steps,
            "guidance_scale": args.cfg,
            "output_type": "pil",
        }

        def plain(common=common, seeds=seeds):
            generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
            return pipe(generator=generators, **common).images

        def tkg(common=common, seeds=seeds):
            latents = tkg_latents(pipe, params, height=size, width=size, seeds=seeds)
            return pipe(latents=latents, **common).images

        with warnings.catch_warnings():  # random weights may decode to NaN in fp16
            warnings.simplefilter("ignore", RuntimeWarning)
            for _ in range(args.warmup):
                plain()
                decoded = tkg()[0]
            times: dict[str, list[float]] = {"plain": [], "tkg": []}
            for _ in range(args.reps):
                times["plain"].append(timed(plain, device))
                times["tkg"].append(timed(tkg, device))

        def plain_latents(seeds=seeds):
            return initial_noise(pipe, height=size, width=size, seeds=seeds)

        def tkg_only(seeds=seeds):
            return tkg_latents(pipe, params, height=size, width=size, seeds=seeds)

        lat = {"plain": [], "tkg": []}
        for _ in range(10):  # warm-up
            plain_latents()
            tkg_only()
        for _ in range(args.latent_reps):
            lat["plain"].append(timed(plain_latents, device))
            lat["tkg"].append(timed(tkg_only, device))
        rows.append(
            (
                batch,
                stats(times["plain"]),
                stats(times["tkg"]),
                stats(lat["plain"]),
                stats(lat["tkg"]),
            )
        )
        print(f"batch {batch} done", flush=True)

    key_times = {}
    inputs = {
        "decoded output": np.asarray(decoded.convert("RGB")) if decoded else None,
        "synthetic green screen": synthetic_green_screen(size),
    }
    for label, image in inputs.items():
        if image is None:
            continue
        key_image(image, None, tolerance=params.tolerance, despill=params.despill)  # warm-up
        key_times[label] = stats(
            [
                timed(
                    lambda image=image: key_image(
                        image, None, tolerance=params.tolerance, despill=params.despill
                    ),
                    torch.device("cpu"),
                )
                for _ in range(args.key_reps)
            ]
        )

    lines = [
        f"Device: {gpu}; torch {torch.__version__}, diffusers {diffusers.__version__}; "
        f"{'tiny' if args.tiny else 'SD1.5-shaped'} UNet + VAE (random weights), {args.dtype}, "
        f"{size}x{size}, DDIM {args.steps} steps, CFG {args.cfg}; {args.reps} timed runs per "
        f"variant after {args.warmup} warm-up, median [min–max].",
        "",
        "| batch | plain generation (s) | TKG generation (s) | difference | "
        "plain noise (µs) | TKG latents (µs) | TKG overhead (µs) | overhead / generation |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for batch, gp, gt, lp, lt in rows:
        extra_us = (lt["median"] - lp["median"]) * 1e6
        lines.append(
            f"| {batch} | {gp['median']:.3f} [{gp['min']:.3f}–{gp['max']:.3f}] "
            f"| {gt['median']:.3f} [{gt['min']:.3f}–{gt['max']:.3f}] "
            f"| {(gt['median'] / gp['median'] - 1) * 100:+.2f}% "
            f"| {lp['median'] * 1e6:.0f} [{lp['min'] * 1e6:.0f}–{lp['max'] * 1e6:.0f}] "
            f"| {lt['median'] * 1e6:.0f} [{lt['min'] * 1e6:.0f}–{lt['max'] * 1e6:.0f}] "
            f"| {extra_us:.0f} | {extra_us / 1e6 / gp['median'] * 100:.4f}% |"
        )
    lines += ["", "| keying (CPU, one image) | median ms [min–max] |", "| --- | --- |"]
    for label, ks in key_times.items():
        lines.append(
            f"| {label}, {size}x{size} | {ks['median'] * 1e3:.1f} "
            f"[{ks['min'] * 1e3:.1f}–{ks['max'] * 1e3:.1f}] |"
        )
    table = "\n".join(lines)
    print("\n" + table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
