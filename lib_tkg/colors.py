"""Colour parsing, presets and per-family colour calibration of the TKG-DM channel shifts.

Colours are 8-bit sRGB triples ``(r, g, b)`` with each value in 0..255. A *shift* is the change
of one latent channel's share of positive values (see :mod:`lib_tkg.noise`), in (-0.5, 0.5).

Calibration. Each family's linear latent-to-RGB preview (``data/latent_rgb_factors.json``, the
factors ComfyUI uses for its previews) maps a constant offset ``d`` of the channel means to a
colour change ``d @ factors``. For a target colour ``t`` (in [-1, 1]) the wanted change is
``t - bias``, from the colour of the zero latent toward the target. Of the solutions that
match it exactly while moving only three channels (the fewest that can match an RGB direction
in general), the one with the smallest ``|d|`` is chosen: the least departure from unit-normal
noise (its KL divergence grows with ``|d|^2``). sd2 shares sd1's VAE and factors. For a unit
normal an offset ``d`` moves the positive share by ``Phi(d) - 0.5``, so the offsets are turned
into shifts through ``Phi`` after scaling them so the largest shift equals the strength; the
offsets keep their ratios, so the predicted colour direction does not depend on the strength.

Green is the exception on sd1/sd2/sdxl: the paper's setting (channels 1 and 2, +strength each)
is used as published. The preview factors cannot produce it: they decode that shift as a
blue-green (hue about 164 degrees on sd1 and 171 on sdxl instead of 120) and calibrate green to
channels 1, 2 and 3 (directions ``[0, 0.69, 1, 0.98]`` on sd1, ``[0, 0.35, 1, 0.24]`` on sdxl),
while the paper verified its setting on the real models. Colours other than green rest on the
preview factors alone.
"""

from __future__ import annotations

import colorsys
import functools
import itertools
import json
import math
import numbers
from collections.abc import Sequence
from importlib import resources
from statistics import NormalDist

import numpy as np

PRESETS: dict[str, tuple[int, int, int]] = {
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "red": (255, 0, 0),
    "magenta": (255, 0, 255),
    "cyan": (0, 255, 255),
    "yellow": (255, 255, 0),
    "orange": (255, 128, 0),
    "purple": (128, 0, 255),
    "white": (255, 255, 255),
    "black": (0, 0, 0),
}

_ACCEPTED = (
    f"a preset name ({', '.join(PRESETS)}), '#RRGGBB', '#RGB', 'r,g,b' or [r, g, b] (three "
    "integers 0..255)"
)


def hex_color(rgb: Sequence[int] | None) -> str | None:
    """``(r, g, b)`` with values 0..255 -> ``"#rrggbb"``; None stays None."""
    return None if rgb is None else "#{:02x}{:02x}{:02x}".format(*rgb)


def parse_color(color: str | tuple[int, int, int] | list[int]) -> tuple[int, int, int]:
    """Parse a colour spec into an ``(r, g, b)`` tuple of ints in 0..255.

    Accepts a preset name (case-insensitive), ``#RRGGBB``, ``#RGB``, ``"r,g,b"`` or a
    3-sequence of integers (numpy's too: a pixel's values). Raises ``ValueError`` naming the bad
    value and what is accepted.
    """
    if isinstance(color, (tuple, list)):
        values = list(color)
    elif isinstance(color, str):
        text = color.strip().lower()
        if text in PRESETS:
            return PRESETS[text]
        if text.startswith("#") and len(text) in (4, 7):
            digits = text[1:]
            if len(digits) == 3:
                digits = "".join(c * 2 for c in digits)
            try:
                return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
            except ValueError:
                pass
            values = None
        elif text.count(",") == 2:
            try:
                values = [int(v) for v in text.split(",")]
            except ValueError:
                values = None
        else:
            values = None
    else:
        values = None
    if (
        values is None
        or len(values) != 3
        or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and 0 <= v <= 255
            for v in values
        )
    ):
        raise ValueError(f"unknown colour {color!r}: expected {_ACCEPTED}")
    return (int(values[0]), int(values[1]), int(values[2]))


FAMILIES = ("sd1", "sd2", "sdxl", "sd3", "flux")

_CHANNELS = {"sd1": 4, "sd2": 4, "sdxl": 4, "sd3": 16, "flux": 16}

# sd1/sd2 and sdxl: the paper's published targets. sd3 and flux have no published value; theirs
# give the same mean preview colour change as sdxl at its published 0.11 (the nearest family:
# through their factors sd3 and flux respond to a shift about as weakly as sdxl, while sd1
# responds about twice as strongly). Averaged over the 12 full-saturation hues every 30 degrees,
# |decoded_rgb(channel_shifts(hue, family))| is 0.047 for sdxl at 0.11; sd3 matches it at 0.107
# and flux at 0.119, rounded to 0.11 and 0.12 (checked within 5 % by tests/test_colors.py).
_DEFAULT_STRENGTH = {"sd1": 0.07, "sd2": 0.07, "sdxl": 0.11, "sd3": 0.11, "flux": 0.12}

# The paper's green (TKG-DM, arXiv 2411.15580): channels 1 and 2 shifted up by the strength.
_PAPER_GREEN = {"sd1": (0, 1, 1, 0), "sd2": (0, 1, 1, 0), "sdxl": (0, 1, 1, 0)}

# Targets closer than this (in [-1, 1] units, about 2 levels of 255) to the zero-latent colour
# have no direction to shift toward.
_NEUTRAL_TOLERANCE = 1 / 64

_NORMAL = NormalDist()


def _family(family: str) -> str:
    name = family.strip().lower() if isinstance(family, str) else None
    if name not in _CHANNELS:
        raise ValueError(f"unknown model family {family!r}: expected one of {', '.join(FAMILIES)}")
    return name


def latent_channels(family: str) -> int:
    """Number of latent channels of ``family`` (4 for sd1/sd2/sdxl, 16 for sd3/flux)."""
    return _CHANNELS[_family(family)]


def default_strength(family: str) -> float:
    """Default strength (largest |shift|) for ``family``: 0.07 sd1/sd2, 0.11 sdxl, see above."""
    return _DEFAULT_STRENGTH[_family(family)]


@functools.cache
def _factor_table() -> dict:
    text = resources.files("lib_tkg").joinpath("data", "latent_rgb_factors.json").read_text()
    return json.loads(text)


def _factors(family: str, table: str = "preview") -> tuple[np.ndarray, np.ndarray]:
    """(factors of shape (C, 3), bias of shape (3,)) of a family; sd2 uses sd1's."""
    entry = _factor_table()[table]["sd1" if family == "sd2" else family]
    return np.array(entry["factors"]), np.array(entry["bias"])


@functools.cache
def _calibrated_direction(rgb: tuple[int, int, int], family: str) -> tuple[float, ...]:
    """Channel-mean offset direction (largest |entry| = 1) whose preview points at ``rgb``."""
    factors, bias = _factors(family)
    wanted = np.array(rgb) / 127.5 - 1 - bias
    if np.abs(wanted).max() < _NEUTRAL_TOLERANCE:
        raise ValueError(
            f"colour {rgb} is the neutral colour of {family} latents (what a zero latent "
            "decodes to), so it gives no direction to shift toward; pick a colour further away"
        )
    supports = np.array(list(itertools.combinations(range(len(factors)), 3)))
    systems = factors[supports].transpose(0, 2, 1)  # (S, 3 RGB, 3 channels)
    solvable = np.abs(np.linalg.det(systems)) > 1e-12
    supports, systems = supports[solvable], systems[solvable]
    solutions = np.linalg.solve(systems, np.broadcast_to(wanted, (len(systems), 3))[..., None])
    best = np.argmin(np.linalg.norm(solutions[..., 0], axis=1))
    offsets = np.zeros(len(factors))
    offsets[supports[best]] = solutions[best, :, 0]
    return tuple(float(v) for v in offsets / np.abs(offsets).max())


def _direction(rgb: tuple[int, int, int], family: str) -> tuple[float, ...]:
    if rgb == PRESETS["green"] and family in _PAPER_GREEN:
        return _PAPER_GREEN[family]
    return _calibrated_direction(rgb, family)


def _to_shifts(direction: Sequence[float], strength: float) -> list[float]:
    """Offsets along ``direction`` (largest |entry| = 1) scaled so the top shift is ``strength``."""
    if strength == 0:
        return [0.0] * len(direction)
    top = _NORMAL.inv_cdf(0.5 + strength)
    return [
        math.copysign(strength if abs(d) == 1 else _NORMAL.cdf(top * abs(d)) - 0.5, d) if d else 0.0
        for d in direction
    ]


def channel_shifts(color, family: str, strength: float | None = None) -> list[float]:
    """Per-channel shifts (one per latent channel) that tint the background toward ``color``.

    ``color``: anything :func:`parse_color` accepts. ``family``: one of :data:`FAMILIES`.
    ``strength``: the largest |shift| of the result, in [0, 0.5); ``None`` gives
    :func:`default_strength`. ``"green"`` on sd1/sd2/sdxl is the paper's ``[0, s, s, 0]``.
    """
    name = _family(family)
    value = _DEFAULT_STRENGTH[name] if strength is None else strength
    if not (isinstance(value, (int, float)) and 0 <= value < 0.5):
        raise ValueError(f"strength must be a number in [0, 0.5), got {strength!r}")
    return _to_shifts(_direction(parse_color(color), name), float(value))


def decoded_rgb(shifts: Sequence[float], family: str) -> tuple[float, float, float]:
    """Preview colour change (R, G, B) that ``shifts`` predict for a background of ``family``.

    The shifts' mean offsets ``Phi^-1(0.5 + shift)`` pushed through the family's preview
    factors, relative to the zero latent, in the preview's [-1, 1] units (2 = full range). Its
    hue is the predicted background tint; it grows with the strength.
    """
    name = _family(family)
    factors, _ = _factors(name)
    values = [float(s) for s in shifts]
    if len(values) != len(factors) or not all(abs(s) < 0.5 for s in values):
        raise ValueError(
            f"{name} needs {len(factors)} shifts, each with |shift| < 0.5; got {list(shifts)}"
        )
    offsets = np.array([_NORMAL.inv_cdf(0.5 + s) for s in values])
    r, g, b = (offsets @ factors).tolist()
    return (r, g, b)


def hue_degrees(rgb: Sequence[float]) -> float:
    """Hue in degrees [0, 360) of an RGB triple or direction (any scale; grey gives 0)."""
    low, high = min(rgb), max(rgb)
    span = (high - low) or 1.0
    return colorsys.rgb_to_hsv(*((c - low) / span for c in rgb))[0] * 360
