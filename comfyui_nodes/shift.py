"""TKG noise for ComfyUI samplers: model family, the NOISE wrapper and the OUTER_SAMPLE wrapper.

ComfyUI (v0.8) hands every sampler unit-variance noise of shape (B, C, H, W) on the CPU: the
``NOISE`` object's ``generate_noise(latent)`` for SamplerCustomAdvanced, ``comfy.sample.
prepare_noise`` for KSampler/KSamplerAdvanced. Both reach ``CFGGuider.sample``, whose
``OUTER_SAMPLE`` wrappers get ``(noise, latent_image, sampler, sigmas, ...)`` before the noise
is scaled to the first sigma. The shift is ``lib_tkg.noise.tkg_noise`` per sample, so a sample
does not depend on its batch, and the same seed and settings give the same noise either way.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from lib_tkg.colors import channel_shifts, latent_channels
from lib_tkg.noise import tkg_noise
from lib_tkg.params import TkgParams

#: ComfyUI latent format class (``comfy.latent_formats``) -> lib_tkg model family. SD2 models
#: use the SD15 format; their calibration and default strength are SD1's.
FAMILY_BY_LATENT_FORMAT = {"SD15": "sd1", "SDXL": "sdxl", "SD3": "sd3", "Flux": "flux"}


def model_family(model: Any) -> str:
    """lib_tkg family of a ComfyUI MODEL (a ModelPatcher), from ``model.model.latent_format``.

    Only the exact formats of ``FAMILY_BY_LATENT_FORMAT`` with their channel count and 2-D
    latents are accepted; anything else raises ``ValueError`` saying what was found.
    """
    fmt = getattr(getattr(model, "model", None), "latent_format", None)
    name = type(fmt).__name__
    family = FAMILY_BY_LATENT_FORMAT.get(name)
    channels = getattr(fmt, "latent_channels", None)
    if (
        family is None
        or channels != latent_channels(family)
        or getattr(fmt, "latent_dimensions", 2) != 2
    ):
        raise ValueError(
            f"TKG chroma: cannot shift this model's noise: its latent format is {name} "
            f"({channels} channels); supported are SD1.x/SD2.x (SD15), SDXL, SD3 and Flux latents"
        )
    return family


def shift_noise(noise: Any, family: str, params: TkgParams) -> torch.Tensor:
    """``tkg_noise`` of ``noise`` (B, C, H, W) for ``family`` with ``params``' colour and mask
    (sigma, centre, aspect and layout; no mask image in ComfyUI)."""
    if not isinstance(noise, torch.Tensor) or noise.is_nested or noise.dim() != 4:
        got = tuple(noise.shape) if isinstance(noise, torch.Tensor) else type(noise).__name__
        raise ValueError(
            f"TKG chroma: needs image noise of shape (batch, channels, height, width), got {got}"
        )
    try:
        shifts = channel_shifts(params.key_color, family, params.strength_or_auto)
    except ValueError as e:
        raise ValueError(f"TKG chroma: {e}") from None
    return tkg_noise(noise, shifts, **params.mask_kwargs)


def is_zero(x: torch.Tensor) -> bool:
    """Whether every element is 0 (ComfyUI's disabled noise, its empty latent)."""
    return int(torch.count_nonzero(x)) == 0


class ShiftedNoise:
    """A NOISE (SamplerCustomAdvanced's ``noise`` input): ``inner``'s noise, TKG-shifted.

    ``seed`` is ``inner``'s. All-zero noise (DisableNoise) is passed through unchanged.
    """

    def __init__(self, inner: Any, family: str, params: TkgParams) -> None:
        self.inner = inner
        self.family = family
        self.params = params

    @property
    def seed(self) -> Any:
        return self.inner.seed

    def generate_noise(self, input_latent: dict) -> torch.Tensor:
        noise = self.inner.generate_noise(input_latent)
        if isinstance(noise, torch.Tensor) and not noise.is_nested and is_zero(noise):
            return noise
        return shift_noise(noise, self.family, self.params)


def starts_from_noise(guider: Any, noise: torch.Tensor, latent: torch.Tensor, sigmas: Any) -> bool:
    """Whether a sampling pass starts from pure noise, so its initial noise should be shifted.

    No for all-zero noise (KSamplerAdvanced with ``add_noise`` off). Yes for an empty (all-zero)
    latent, as in txt2img. Otherwise (img2img, hires fix, a refiner's second pass) only when the
    first sigma is the model's largest, which is ComfyUI's own test for a full denoise
    (``Sampler.max_denoise``).
    """
    if is_zero(noise):
        return False
    if is_zero(latent):
        return True
    sigma_max = float(guider.model_patcher.get_model_object("model_sampling").sigma_max)
    first = float(sigmas[0])
    return math.isclose(first, sigma_max, rel_tol=1e-5) or first > sigma_max


class OuterSampleShift:
    """``WrappersMP.OUTER_SAMPLE`` wrapper: shift the noise of passes that start from noise.

    ComfyUI calls it as ``wrapper(executor, noise, latent_image, sampler, sigmas, ...)`` with
    ``executor.class_obj`` the CFGGuider; the remaining arguments (``denoise_mask``, ...,
    ``latent_shapes`` in v0.8) pass through untouched.
    """

    def __init__(self, family: str, params: TkgParams) -> None:
        self.family = family
        self.params = params

    def __call__(
        self, executor: Any, noise: Any, latent_image: Any, sampler: Any, sigmas: Any, *a, **kw
    ) -> Any:
        if starts_from_noise(executor.class_obj, noise, latent_image, sigmas):
            noise = shift_noise(noise, self.family, self.params)
        return executor(noise, latent_image, sampler, sigmas, *a, **kw)
