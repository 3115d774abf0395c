"""Generate and key with a diffusers pipeline: per-seed images with TKG latents, their cut-outs
and A1111-style infotext (:func:`generate`)."""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lib_tkg.pipeline.latents import (
    check_seeds,
    detect_family,
    image_generators,
    native_size,
    tkg_latents,
)
from lib_tkg.pipeline.loading import SCHEDULERS

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from lib_tkg.keying import KeyResult
    from lib_tkg.params import TkgParams


def _quote(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ',:\n"') else text


def format_infotext(prompt: str, negative_prompt: str, settings: dict[str, Any]) -> str:
    """A1111-style ``parameters`` text: prompt, ``Negative prompt:`` line, ``Key: value, ...``."""
    lines = [prompt]
    if negative_prompt:
        lines.append(f"Negative prompt: {negative_prompt}")
    lines.append(", ".join(f"{k}: {_quote(v)}" for k, v in settings.items() if v is not None))
    return "\n".join(lines)


@dataclass
class TkgImage:
    """One generated image: the original, its keyed cut-out and matte, and its infotext."""

    seed: int
    image: Image.Image
    rgba: Image.Image | None
    matte: Image.Image | None
    infotext: str


def key_generated_image(image: Image.Image, params: TkgParams) -> KeyResult:
    """Chroma-key a generated ``image``: the keyer's whole ``KeyResult`` (cut-out, matte,
    whether anything was keyed, notes).

    The requested colour is the screen prior and the TKG Gaussian mask the subject prior
    (:func:`lib_tkg.keying.priors.key_generated`); ``params.tolerance``, ``despill`` and
    ``keep_shadow`` drive the keyer. An image whose background did not come out as a screen
    comes back opaque with ``keyed`` False and ``notes`` saying why (no warning is emitted:
    callers show the notes; :func:`key_result` gives only the images).
    """
    from lib_tkg.keying.priors import key_generated

    return key_generated(image.convert("RGB") if hasattr(image, "convert") else image, params)


def key_result(image: Image.Image, params: TkgParams) -> tuple[Image.Image, Image.Image]:
    """:func:`key_generated_image` as images: ``(RGBA cut-out, matte "L")``."""
    from PIL import Image

    result = key_generated_image(image, params)
    return Image.fromarray(result.rgba, "RGBA"), Image.fromarray(result.alpha, "L")


def scheduler_label(scheduler: Any) -> str:
    """The A1111-style sampler name of a diffusers scheduler (its class name if not known)."""
    name = type(scheduler).__name__
    config = getattr(scheduler, "config", {})
    for cls_name, extra, label in sorted(SCHEDULERS.values(), key=lambda e: -len(e[1])):
        if name == cls_name and all(config.get(k) == v for k, v in extra.items()):
            return label
    return name


def generate(
    pipe: Any,
    prompt: str,
    params: TkgParams,
    *,
    seeds: Sequence[int],
    negative_prompt: str = "",
    height: int | None = None,
    width: int | None = None,
    steps: int = 50,
    cfg: float = 7.5,
    batch_size: int = 1,
    key: bool = True,
    extra_infotext: dict[str, Any] | None = None,
    progress: bool | None = None,
) -> Iterator[TkgImage]:
    """Generate one image per seed with TKG latents and key each one; yields them as made.

    Defaults follow the paper's setting: 50 steps at CFG 7.5 (use a DDIM scheduler for its
    exact setup). ``height``/``width`` default to the model's native size. ``batch_size`` images
    go through the pipeline at a time. Image ``i`` depends on ``seeds[i]`` only, not on its
    batch or batch position, run to run: every random draw (initial noise and the per-step noise
    of ancestral/SDE schedulers) comes from its own CPU generator (:func:`image_generators`),
    and a Brownian-tree SDE scheduler (``DPMSolverSDEScheduler``) gets the batch's seeds as its
    per-image noise seeds. Nothing is kept: memory does not grow with ``len(seeds)``.
    ``key=False`` skips keying. ``progress`` True/False shows/hides diffusers' progress bar
    (None: leave it as set). TKG is applied whatever ``params.enabled`` says; the infotext
    records it as on.
    """
    family = detect_family(pipe)
    height = height or native_size(pipe)
    width = width or native_size(pipe)
    seeds = check_seeds(seeds)
    for name, value in (("batch_size", batch_size), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(cfg, bool) or not isinstance(cfg, numbers.Real) or not math.isfinite(cfg):
        raise ValueError(f"cfg must be a finite number, got {cfg!r}")
    batch_size, steps, cfg = int(batch_size), int(steps), float(cfg)
    params = dataclasses.replace(params, enabled=True)
    sampler = scheduler_label(pipe.scheduler)
    batches = (len(seeds) + batch_size - 1) // batch_size
    for number in range(batches):
        chunk = seeds[number * batch_size : (number + 1) * batch_size]
        if progress is not None:
            desc = f"batch {number + 1}/{batches}" if batches > 1 else "generating"
            pipe.set_progress_bar_config(disable=not progress, desc=desc, leave=False)
        generators = image_generators(chunk)
        latents = tkg_latents(
            pipe,
            params,
            height=height,
            width=width,
            seeds=chunk,
            family=family,
            generators=generators,
        )
        if hasattr(pipe.scheduler, "noise_sampler_seed"):  # its Brownian tree ignores generator
            pipe.scheduler.noise_sampler_seed = list(chunk)
        output = pipe(
            prompt=[prompt] * len(chunk),
            negative_prompt=[negative_prompt] * len(chunk) if negative_prompt else None,
            height=height,
            width=width,
            num_inference_steps=steps,
            guidance_scale=cfg,
            latents=latents,
            generator=generators,
            output_type="pil",
        )
        images, output = output.images, None
        for seed in chunk:
            image = images.pop(0)
            settings = {
                "Steps": steps,
                "Sampler": sampler,
                "CFG scale": cfg,
                "Seed": seed,
                "Size": f"{width}x{height}",
                **(extra_infotext or {}),
                **params.to_infotext(),
            }
            rgba = matte = None
            if key:
                rgba, matte = key_result(image, params)
            info = format_infotext(prompt, negative_prompt, settings)
            yield TkgImage(seed, image.convert("RGB"), rgba, matte, info)
