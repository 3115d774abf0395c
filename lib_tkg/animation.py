"""Keying a frame sequence (a video, an AnimateDiff batch) as one shot.

Frames keyed one by one each estimate their own screen colour from their border, so a subject
touching the border, or a frame whose border is mostly subject, gets another key colour (or
none) and the cut-out flickers between keyed and not keyed. Here the sequence gets **one** key
colour: the per-channel median of the per-frame border estimates (a robust vote; frames without
a screen on their border abstain). Every frame is then keyed with that colour through the
public keyer (:func:`lib_tkg.keying.key`).

The matte can then be smoothed over time (``temporal=True``): at each pixel, alpha is averaged
with the neighbouring frames (``radius`` frames each side) *only where the picture did not
change there* (3x3-averaged colour within ``still`` 8-bit levels of this frame's), so noise
that the keyer turns into alpha jitter on a still subject or a still screen is averaged away,
while moving edges keep their own frame's alpha (no ghosting). ``bench/animation_bench.py``
measures flicker and accuracy with and without it on moving-subject sequences.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from lib_tkg import keying
from lib_tkg.colors import hex_color
from lib_tkg.keying import detect, matte
from lib_tkg.keying.api import OPTIONS, check_options, screen_mismatch
from lib_tkg.keying.inputs import (
    auto_is_none,
    check_border,
    check_exact_color,
    check_flag,
    parse_key,
    to_arrays,
)

#: The keyer's options :func:`key_sequence` takes (one colour for all frames: no per-frame
#: prior colour or subject mask).
SEQUENCE_OPTIONS = tuple(o for o in OPTIONS if o != "subject_mask")

__all__ = [
    "DEFAULT_STILL",
    "DEFAULT_TEMPORAL_RADIUS",
    "SequenceKeyResult",
    "estimate_sequence_key_color",
    "key_sequence",
    "smooth_alphas",
]

#: Frames each side that the temporal matte filter averages over (0 turns it off).
DEFAULT_TEMPORAL_RADIUS = 1
#: Colour change (8-bit levels, max over channels, after a 3x3 mean) under which a pixel counts
#: as unchanged between two frames, so its alpha may be averaged over them.
DEFAULT_STILL = 6.0


@dataclass(frozen=True)
class SequenceKeyResult:
    """What :func:`key_sequence` returns.

    ``frames``: one (H, W, 4) uint8 straight-alpha RGBA cut-out per input frame, in order.
    ``key_color``: the one screen colour used for every frame, ``(r, g, b)`` 0..255, or None
    when none was given and no frame's border showed a screen (then nothing was keyed).
    ``keyed``: per frame, whether anything was keyed out.
    ``notes``: what a user should be told (nothing keyed, frames left opaque); empty when all
    frames were keyed.
    """

    frames: list[np.ndarray]
    key_color: tuple[int, int, int] | None
    keyed: list[bool]
    notes: list[str] = field(default_factory=list)


def _rgb(frame: Any, index: int) -> np.ndarray:
    """A frame's colours as :func:`lib_tkg.keying.key` reads an image (PIL images of any mode,
    uint8 arrays (H, W) or (H, W, 1-4)); ``ValueError`` naming the frame otherwise."""
    try:
        return np.ascontiguousarray(to_arrays(frame)[0])
    except (TypeError, ValueError) as err:
        raise ValueError(f"frames[{index}]: {err}") from None


def _frames(frames: Sequence[Any]) -> list[np.ndarray]:
    rgbs = [_rgb(f, i) for i, f in enumerate(frames)]
    if not rgbs:
        raise ValueError("the sequence has no frames")
    size = rgbs[0].shape[:2]
    for i, f in enumerate(rgbs):
        if f.shape[:2] != size:
            raise ValueError(
                f"frames[{i}] is {f.shape[1]}x{f.shape[0]}, frames[0] {size[1]}x{size[0]}: "
                "all frames of a sequence must have one size"
            )
    return rgbs


def estimate_sequence_key_color(
    frames: Sequence[Any], *, border: float = keying.DEFAULT_BORDER, prior_color: Any = None
) -> tuple[int, int, int] | None:
    """One screen colour for a whole sequence, ``(r, g, b)`` 0..255, or None.

    Each frame's border estimate (:func:`lib_tkg.keying.estimate_key_color`, with
    ``prior_color``) votes; the result is the per-channel median of the votes. None when fewer
    than half the frames show a screen on their border. ``frames``: PIL images or uint8
    (H, W, 3|4) arrays of one size.
    """
    return _majority(
        [
            keying.estimate_key_color(f, border=border, prior_color=prior_color)
            for f in _frames(frames)
        ]
    )


def _majority(votes: list[tuple[int, int, int] | None]) -> tuple[int, int, int] | None:
    """The per-channel median of the colours found (not ``None``), or ``None`` where they are
    fewer than half the ``votes``."""
    found = [v for v in votes if v is not None]
    if 2 * len(found) < len(votes):
        return None
    med = np.median(np.array(found, np.float64), axis=0)
    r, g, b = (int(v) for v in np.rint(med))
    return (r, g, b)


def smooth_alphas(
    rgbs: Sequence[np.ndarray],
    alphas: Sequence[np.ndarray],
    *,
    radius: int = DEFAULT_TEMPORAL_RADIUS,
    still: float = DEFAULT_STILL,
) -> list[np.ndarray]:
    """Temporally smoothed mattes: uint8 (H, W) per frame (see the module docstring).

    ``rgbs``: (H, W, 3) uint8 frames; ``alphas``: their (H, W) uint8 mattes. ``radius``: frames
    each side (>= 0). ``still``: colour change in 8-bit levels (> 0) below which a neighbour's
    alpha is averaged in. Alpha 0 and 255 stay exact where all averaged frames agree.
    """
    radius, still = _check_smoothing(radius, still)
    if len(rgbs) != len(alphas):
        raise ValueError(f"{len(rgbs)} frames but {len(alphas)} mattes")
    if radius == 0 or len(rgbs) < 2:
        return [np.array(a, np.uint8) for a in alphas]
    means = [cv2.blur(f.astype(np.float32), (3, 3)) for f in rgbs]
    afs = [a.astype(np.float32) for a in alphas]
    out = []
    for t in range(len(rgbs)):
        total = afs[t].copy()
        count = np.ones_like(total)
        for n in range(max(0, t - radius), min(len(rgbs), t + radius + 1)):
            if n == t:
                continue
            w = (np.abs(means[n] - means[t]).max(axis=2) < still).astype(np.float32)
            total += w * afs[n]
            count += w
        out.append(cv2.convertScaleAbs(total / count))  # rounds and saturates to uint8
    return out


def _check_smoothing(radius: Any, still: Any) -> tuple[int, float]:
    """``radius`` a whole number >= 0 and ``still`` a positive number (numpy's too), as Python
    numbers; ``ValueError`` naming the one that is not."""
    if not isinstance(radius, numbers.Integral) or isinstance(radius, bool) or radius < 0:
        raise ValueError(f"radius must be a whole number of frames >= 0, got {radius!r}")
    if isinstance(still, bool) or not (isinstance(still, numbers.Real) and still > 0):
        raise ValueError(f"still must be a positive number of 8-bit levels, got {still!r}")
    return int(radius), float(still)


def key_sequence(
    frames: Sequence[Any],
    key_color: Any = None,
    *,
    temporal: bool = True,
    radius: int = DEFAULT_TEMPORAL_RADIUS,
    still: float = DEFAULT_STILL,
    **options: Any,
) -> SequenceKeyResult:
    """Key every frame of a sequence with one key colour; return a :class:`SequenceKeyResult`.

    ``frames``: PIL images or uint8 (H, W) or (H, W, 1-4) arrays, as
    :func:`lib_tkg.keying.key` takes an image, all one size (alpha of the input is ignored).
    ``key_color``: as for :func:`lib_tkg.keying.key`; None estimates one colour over
    the sequence (:func:`estimate_sequence_key_color`), and a chroma colour one shade of its hue
    (unless ``exact_color``). ``temporal``: smooth the matte over time where the picture is
    still (:func:`smooth_alphas` with ``radius`` and ``still``). ``options``: the keyer's
    (``tolerance``, ``clip_white``, ``despill``, ``keep_shadow``, ``refine``, ``denoise``,
    ``border``, ``exact_color``, ``tile``, ``max_pixels``: :data:`SEQUENCE_OPTIONS`; others
    raise ``TypeError``). ``prior_color`` (with ``key_color`` None): the colour a generation
    asked for; the sequence is keyed only if most frames' borders show a screen of it (its
    shade measured over them), as :func:`lib_tkg.keying.key` does for one image. When frames
    could not be keyed, ``notes`` says so (no warning is emitted: callers show the notes).
    """
    check_options(options, SEQUENCE_OPTIONS)
    check_flag("temporal", temporal)
    radius, still = _check_smoothing(radius, still)
    key_color = auto_is_none(key_color)
    rgbs = _frames(frames)
    border = options.get("border", keying.DEFAULT_BORDER)
    exact = check_exact_color(options.pop("exact_color", False), key_color)
    prior = options.pop("prior_color", None)
    if prior is not None:
        prior = parse_key("prior_color", prior)
    notes = []
    if key_color is None:
        key_color = estimate_sequence_key_color(rgbs, border=border, prior_color=prior)
    elif not exact and not matte.is_neutral(hue := parse_key("key_color", key_color)):
        # a chroma colour gives the hue: one shade of it is measured over the sequence (the
        # frames then share it), else the colour is keyed as it is given, saying which screen
        # the borders do show (as key() does for one image)
        band = check_border(border)
        key_color = _majority([detect.screen_shade(f, band, hue) for f in rgbs])
        if key_color is None:
            key_color = hue
            auto = estimate_sequence_key_color(rgbs, border=border)
            if auto is not None:
                notes.append(screen_mismatch("the frames' borders show", auto, hue, False))
    if key_color is None:
        why = detect.detect_screen(rgbs[len(rgbs) // 2], border, prior).reason
        found = (
            "no screen colour found"
            if prior is None
            else (f"no {hex_color(prior)} screen (the colour asked for) found")
        )
        note = (
            f"{found} on the borders of most frames (the middle frame's: {why}); nothing was "
            f"keyed, alpha is 255 everywhere. {keying.FORCE_HINT}"
        )
        opaque = [np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]) for f in rgbs]
        return SequenceKeyResult(opaque, None, [False] * len(rgbs), [note])
    # every frame keys that one shade (not measured again per frame)
    results = [keying.key_quietly(f, key_color, exact_color=True, **options) for f in rgbs]
    keyed = [r.keyed for r in results]
    if not all(keyed):
        notes.append(
            f"the key colour was not found in {keyed.count(False)} of {len(rgbs)} frames; "
            "those frames were left opaque"
        )
    out = [r.rgba for r in results]
    if temporal and any(keyed):
        alphas = smooth_alphas(rgbs, [r.alpha for r in results], radius=radius, still=still)
        out = [_with_alpha(r.rgba, a) for r, a in zip(results, alphas, strict=True)]
    kc = results[0].key_color
    return SequenceKeyResult(out, kc, keyed, notes)


def _with_alpha(rgba: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The cut-out with a new matte; colour 0 where the new matte is fully transparent.

    Pixels the keyer made fully transparent have colour 0 in ``rgba``; if smoothing gives them
    some alpha, they get the colour of the nearest pixel the keyer kept (a 5x5 neighbourhood
    average of kept colours), so no black fringe appears.
    """
    out = rgba.copy()
    out[..., 3] = alpha
    lost = (rgba[..., 3] == 0) & (alpha > 0)
    if lost.any():
        kept = (rgba[..., 3] > 0).astype(np.float32)
        colour = cv2.blur(rgba[..., :3].astype(np.float32) * kept[..., None], (5, 5))
        weight = cv2.blur(kept, (5, 5))
        fill = np.rint(colour / np.maximum(weight, 1e-6)[..., None]).astype(np.uint8)
        out[..., :3][lost] = fill[lost]
    out[alpha == 0] = 0
    return out
