"""Install TKG's shift of the initial noise on one batch's ``p.rng``.

``p.rng`` is rebuilt for every batch before ``before_process_batch``; whatever it is (it may be
ControlNet's wrapper) gets wrapped so only its first ``.next()`` - the initial noise - is
shifted. Later calls (ancestral samplers' per-step noise) pass through, and the hires pass
builds its own rng, so it is untouched.
"""

from __future__ import annotations

import functools
from typing import Any

from lib_tkg import colors
from lib_tkg.noise import tkg_noise
from lib_tkg.webui.rng import FirstNoiseRNG, RaisingRNG, detect_family
from lib_tkg.webui.state import RunState

NOT_APPLIED = (
    "the initial noise of this batch was drawn (by another extension) before TKG could shift it;"
    " TKG was NOT applied to this batch"
)
NOT_APPLIED_KEY = "TKG noise"  # infotext key, set only when the noise was not shifted


def _unchanged(state: RunState, p: Any, message: str, why: str) -> None:
    """The noise is left as it is: a note (console, comment), and ``TKG noise: unchanged
    (why)`` in the infotext, which API clients see (A1111's API answer has no comments)."""
    state.note(p, message)
    params = getattr(p, "extra_generation_params", None)
    if isinstance(params, dict):
        params[NOT_APPLIED_KEY] = f"unchanged ({why})"


def install(state: RunState, p: Any) -> None:
    """Wrap ``p.rng`` for this batch: the first noise shifted, or raising a rejected argument.
    Anything that prevents the shift is a note on the result; the noise is then unchanged."""
    rng = getattr(p, "rng", None)
    if rng is None:
        _unchanged(
            state, p, "this WebUI has no p.rng; the initial noise was left unchanged", "no rng"
        )
        return
    if state.error is not None:
        p.rng = RaisingRNG(rng, state.error)
        return
    if getattr(rng, "is_first", True) is False:
        # another extension drew the initial noise before this hook (AnimateDiff image-to-video
        # with its before_process_batch ordered before ours): say so, in console and infotext
        state.note(p, NOT_APPLIED)
        params = getattr(p, "extra_generation_params", None)
        if isinstance(params, dict):
            params[NOT_APPLIED_KEY] = "not applied (noise drawn before TKG's hook)"
        return
    params = state.params
    family, channels = detect_family(p.sd_model)
    if family is None:
        _unchanged(
            state,
            p,
            f"unsupported model type ({channels} latent channels, not SD1/SD2/SDXL/SD3/Flux);"
            " the initial noise was left unchanged",
            "unsupported model",
        )
        return
    try:
        expected = colors.latent_channels(family)
        shifts = colors.channel_shifts(params.key_color, family, params.strength_or_auto)
    except (ValueError, KeyError) as err:
        message = f"no noise shift for {family}: {err}; the noise was left unchanged"
        _unchanged(state, p, message, f"no shift of this colour for {family}")
        return
    if channels != expected:
        _unchanged(
            state,
            p,
            f"model reports {channels} latent channels, {family} has {expected};"
            " the initial noise was left unchanged",
            "latent channels",
        )
        return
    p.rng = FirstNoiseRNG(rng, functools.partial(shift_noise, state, p, family, expected, shifts))


def shift_noise(
    state: RunState, p: Any, family: str, expected: int, shifts: list[float], noise: Any
) -> Any:
    """``tkg_noise`` of the first noise (B, C, H/8, W/8) with the subject mask of the params
    (single subject, layout, mask image); unchanged, with a note, when its shape
    does not fit the model family or the shift fails."""
    shape = tuple(getattr(noise, "shape", ()))
    if len(shape) != 4 or shape[1] != expected:
        _unchanged(
            state,
            p,
            f"initial noise of shape {shape} does not have the {expected} latent channels"
            f" of {family}; it was left unchanged",
            "noise shape",
        )
        return noise
    params = state.params
    try:
        return tkg_noise(noise, shifts, **params.mask_kwargs)
    except Exception as err:  # never fail the generation over the noise shift
        message = f"noise shift failed ({err!r}); the initial noise was left unchanged"
        _unchanged(state, p, message, "shift failed")
        return noise
