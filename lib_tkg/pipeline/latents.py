"""Initial latents of a diffusers pipeline: its model family, one CPU generator per seed,
diffusers' own noise, and that noise with the TKG channel-mean shift (:func:`tkg_latents`)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from lib_tkg.colors import channel_shifts
from lib_tkg.noise import tkg_noise

if TYPE_CHECKING:  # pragma: no cover
    from lib_tkg.params import TkgParams

FAMILIES = ("sd1", "sd2", "sdxl")  # what detect_family can return


def config_get(config: Any, key: str, default: Any = None) -> Any:
    if config is None:
        return default
    if isinstance(config, dict):
        return config.get(key, default)
    return getattr(config, key, default)


def detect_family(pipe: Any) -> str:
    """The model family of a diffusers pipeline: ``"sd1"``, ``"sd2"`` or ``"sdxl"``.

    Read from the UNet config: ``addition_embed_type == "text_time"`` (or a 2048-wide cross
    attention, or an SDXL pipeline class) means SDXL; ``cross_attention_dim`` 768 means SD1.x
    and 1024 SD2.x. Anything else (SD3 and Flux are transformer-based) raises ``ValueError``.
    """
    name = type(pipe).__name__
    unet = getattr(pipe, "unet", None)
    config = getattr(unet, "config", None)
    if config is None:
        raise ValueError(
            f"unsupported pipeline {name}: TKG latents need a UNet-based Stable Diffusion "
            "pipeline (SD1.x, SD2.x or SDXL); SD3/Flux transformer pipelines are not supported here"
        )
    cross = config_get(config, "cross_attention_dim")
    if isinstance(cross, (list, tuple)):
        cross = cross[0] if len(set(cross)) == 1 else None
    if (
        config_get(config, "addition_embed_type") == "text_time"
        or cross == 2048
        or "StableDiffusionXL" in name
    ):
        return "sdxl"
    if cross == 768:
        return "sd1"
    if cross == 1024:
        return "sd2"
    raise ValueError(
        f"cannot tell the model family of {name}: UNet cross_attention_dim is {cross!r} "
        "(expected 768 for SD1.x, 1024 for SD2.x, or an SDXL UNet with addition_embed_type "
        "'text_time')"
    )


def native_size(pipe: Any) -> int:
    """The side (px) of the images the model was trained on: its UNet's sample size times the
    VAE's scale (512 for SD1.x, 1024 for SDXL), the size ``generate`` uses by default."""
    return int(config_get(pipe.unet.config, "sample_size", 64)) * getattr(
        pipe, "vae_scale_factor", 8
    )


def _latent_geometry(pipe: Any, height: int, width: int) -> tuple[int, int, int]:
    """``(channels, latent height, latent width)`` for an image of ``height`` x ``width``."""
    factor = getattr(pipe, "vae_scale_factor", None)
    if factor is None:
        blocks = config_get(getattr(pipe.vae, "config", None), "block_out_channels", (0,) * 4)
        factor = 2 ** (len(blocks) - 1)
    for label, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError(f"{label} must be a positive integer, got {value!r}")
        if value % factor:
            raise ValueError(f"{label} must be a multiple of {factor} for this model, got {value}")
    channels = int(config_get(pipe.unet.config, "in_channels"))
    return channels, height // factor, width // factor


def _unet_placement(pipe: Any) -> tuple[torch.device, torch.dtype]:
    """Where and in which dtype the UNet runs, cheaply (one parameter, not the whole model).

    diffusers' ``pipe._execution_device`` and ``unet.dtype`` walk every module (milliseconds);
    with sequential CPU offload the parameters sit on ``meta``, where only the former helps.
    """
    param = next(pipe.unet.parameters(), None)
    if param is None:
        return torch.device("cpu"), torch.float32
    if param.device.type == "meta":
        return torch.device(pipe._execution_device), param.dtype
    return param.device, param.dtype


def _place(
    tensor: torch.Tensor, pipe: Any, device: torch.device | str | None, dtype: torch.dtype | None
) -> torch.Tensor:
    unet_device, unet_dtype = _unet_placement(pipe)
    return tensor.to(
        device=torch.device(device) if device is not None else unet_device,
        dtype=dtype or unet_dtype,
    )


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """``seeds`` as a list of Python integers in [0, 2**64) (numpy's integers too: a
    ``torch.Generator`` takes 64-bit seeds); ``ValueError`` naming a bad one."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ValueError(f"seeds must be integers, got {seed!r}")
        if not 0 <= seed < 2**64:
            raise ValueError(f"seeds must be in [0, 2**64), got {seed}")
    return [int(seed) for seed in seeds]


def image_generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One CPU ``torch.Generator`` per image, seeded ``seeds[i]``: every random draw of image
    ``i`` (initial noise, then the per-step noise of ancestral/SDE schedulers) comes from it."""
    return [torch.Generator("cpu").manual_seed(seed) for seed in check_seeds(seeds)]


def initial_noise(
    pipe: Any,
    *,
    height: int,
    width: int,
    seeds: Sequence[int],
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    generators: Sequence[torch.Generator] | None = None,
) -> torch.Tensor:
    """Plain unit-variance initial noise, shape ``(len(seeds), C, height/f, width/f)``.

    Image ``i`` is drawn (in float32 on the CPU) from ``torch.Generator("cpu").manual_seed(
    seeds[i])`` alone, so it does not depend on its batch position or on the device. These are
    the numbers diffusers draws for ``generator=[torch.Generator().manual_seed(s) for s in
    seeds]`` on a float32 pipeline. ``device``/``dtype`` default to the pipeline's.
    ``generators`` (from :func:`image_generators`): draw from these instead, advancing them,
    so that passing them on as the pipeline's ``generator=`` continues each image's stream as
    diffusers itself would.
    """
    seeds = check_seeds(seeds)
    if generators is None:
        generators = image_generators(seeds)
    elif len(generators) != len(seeds):
        raise ValueError(f"got {len(generators)} generators for {len(seeds)} seeds")
    channels, lat_h, lat_w = _latent_geometry(pipe, height, width)
    samples = [
        torch.randn((1, channels, lat_h, lat_w), generator=generator, dtype=torch.float32)
        for generator in generators
    ]
    noise = torch.cat(samples)
    return _place(noise, pipe, device, dtype)


def tkg_latents(
    pipe: Any,
    params: TkgParams,
    *,
    height: int,
    width: int,
    seeds: Sequence[int],
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    family: str | None = None,
    scaled: bool = False,
    generators: Sequence[torch.Generator] | None = None,
) -> torch.Tensor:
    """TKG initial latents for ``pipe(..., latents=...)``.

    The plain noise of :func:`initial_noise` (one CPU generator per seed, so image ``i`` is
    reproducible alone; ``generators``: see there), with the channel-mean shift toward
    ``params.key_color`` applied outside the subject mask (``params.mask_kwargs``: sigma,
    centre, aspect, layout, mask image; ``lib_tkg.noise.subject_mask``), using the shifts of the
    pipeline's family (``detect_family`` unless ``family`` is given) at ``params.strength``
    (0 = Auto). TKG is applied whatever ``params.enabled`` says: the name says so.

    The result has unit variance like diffusers' own noise; the pipelines multiply it by
    ``scheduler.init_noise_sigma`` themselves. ``scaled=True`` multiplies by it here instead,
    for hand-written loops (call ``scheduler.set_timesteps`` first: for Euler-type schedulers
    the value depends on it).
    """
    family = family or detect_family(pipe)
    noise = initial_noise(
        pipe,
        height=height,
        width=width,
        seeds=seeds,
        device="cpu",
        dtype=torch.float32,
        generators=generators,
    )
    shifts = list(channel_shifts(params.key_color, family, params.strength_or_auto))
    if len(shifts) != noise.shape[1]:
        raise ValueError(
            f"the {family} colour shifts have {len(shifts)} channels but the UNet takes "
            f"{noise.shape[1]} latent channels (inpainting models are not supported)"
        )
    latents = tkg_noise(noise, shifts, **params.mask_kwargs)
    if scaled:
        latents = latents * float(pipe.scheduler.init_noise_sigma)
    return _place(latents, pipe, device, dtype)
