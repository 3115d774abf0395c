"""One keying pass over an image (or a tile of one) whose screen is already analysed.

``alpha = 1 - d(I) / d(B)`` for a chroma screen (colour difference relative to the clean plate
``B``), ``|I - B| / NEUTRAL_CONTRAST`` for a neutral one; then clip-black (``tolerance``) and
clip-white (``clip_white``), each raised to three times the measured noise of the screen
(clip-black, where the plate is darker, to three times the noise of the screen's darker half
there: :func:`clip_floor`), remap the range linearly; the physical lower bound, the excess of
the key's colour over the screen's and a cooler hue cast than the screen's keep key-coloured
subject parts (opaque ones keep their colour), as do wide partial regions far to the cool side
of the screen's hue and large, even ones running off the frame
(:mod:`lib_tkg.keying.interiors`); refinement follows (:mod:`lib_tkg.keying.refine`; on a screen
so noisy that its noise sets clip-black, faint pixels found on a smoothed copy of ``t`` join it:
:func:`smoothed`), edges that spill makes look partly clear are made opaque
(:mod:`lib_tkg.keying.spill_ramps`), wide soft regions mixing one colour opposite the screen's
with it are keyed along their colour line (:mod:`lib_tkg.keying.mix_lines`), key-coloured parts
enclosed by the subject are made opaque (:mod:`lib_tkg.keying.enclosed`), then unmixing and
despill (:mod:`lib_tkg.keying.unmix`; opaque pixels near the edge only).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from lib_tkg.keying import (
    enclosed,
    interiors,
    lower_bound,
    matte,
    mix_lines,
    refine,
    spill_ramps,
    threads,
    unmix,
)
from lib_tkg.keying.plate import Screen
from lib_tkg.keying.resolution import pyramid

#: background pixels (at the analysed resolution) over the darker half of the screen, at least,
#: for its own noise (:func:`dark_noise`)
_DARK_MIN_PX = 256
#: px, the Gaussian that smooths ``t`` on a noisy screen (:func:`smoothed`), and how many of the
#: smoothed copy's noise sigmas a pixel's ``1 - t`` there must reach to be
#: faint alpha (:func:`lib_tkg.keying.refine.admit_smoothed`). One pixel's grain of a dim screen
#: can be a sixth of its colour difference (three of them: clip-black 0.5), which clears dark
#: strands at alpha 0.3-0.8 (the 123rd held-out set's wig: 73 % of its soft band clear); the
#: smoothed copy's grain is about half of it, and a strand's mean over 1 px keeps most of its own
_SMOOTH_PX = 1.0
_SMOOTH_SIGMAS = 4.0


class Noise(NamedTuple):
    """A screen's noise: ``sigma`` in ``t`` units and ``dark`` over its darker half in levels
    of colour difference (:func:`dark_noise`), then the same two on a :func:`smoothed` copy
    (``None``: measured where needed)."""

    sigma: float
    dark: float
    smooth: float | None = None
    smooth_dark: float | None = None


@dataclass(frozen=True)
class Options:
    """Validated keyer options: clip-black/white and despill in 0..1, two switches."""

    tolerance: float
    clip_white: float
    despill: float
    refine: bool
    denoise: bool


def screen_ratio(
    img: np.ndarray,
    scr: Screen,
    plate_s: np.ndarray,
    plate: np.ndarray | None = None,
    d: np.ndarray | None = None,
    d_plate_s: np.ndarray | None = None,
) -> np.ndarray:
    """``t``: 1 on clean screen, 0 on opaque subject (before clipping), per pixel of ``img``.

    ``plate_s`` is the coarse plate grid covering ``img``; ``plate`` that grid at ``img``'s
    resolution, if already made (a neutral screen's matte needs it); ``d`` the colour
    difference of ``img`` and ``d_plate_s`` the grid's (:func:`plate_difference`; chroma
    screens), if already made.
    """
    h, w = img.shape[:2]
    if scr.neutral:
        if plate is None:
            plate = cv2.resize(plate_s, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.float32(1.0) - matte.distance(img, plate) * np.float32(
            1.0 / matte.NEUTRAL_CONTRAST
        )
    if d is None:
        d = matte.diff(img, scr.m)
    if d_plate_s is None:
        d_plate_s = plate_difference(scr, plate_s)
    return d / cv2.resize(d_plate_s, (w, h), interpolation=cv2.INTER_LINEAR)


def plate_difference(scr: Screen, plate_s: np.ndarray) -> np.ndarray:
    """The colour difference of the plate grid ``plate_s`` of a chroma screen ``scr`` (levels,
    float32 (sh, sw)), at least a tenth of the key's (the divisor of ``t``)."""
    return np.maximum(matte.diff(plate_s, scr.m), np.float32(0.1 * scr.d_key))


def dark_noise(t: np.ndarray, d_plate: np.ndarray, background: np.ndarray) -> float:
    """The screen's noise over its darker half, levels of colour difference: the robust sigma
    of ``(1 - t) * d_plate`` over the ``background`` pixels (bool) whose plate colour difference
    ``d_plate`` is under the background's median; 0 with fewer than :data:`_DARK_MIN_PX`.
    ``t``, ``d_plate``: float32 arrays of ``background``'s shape.

    A screen's grain is about as many levels in its dark parts as in its bright ones, so in
    ``t`` units (a share of the plate's colour difference) it is larger where the plate is
    darker: under a strong vignette, the corners' colour difference is a quarter of the
    centre's, and a noise floor measured over the whole screen leaves their grain as speckles
    of faint alpha."""
    d_bg = d_plate[background]
    if d_bg.size < _DARK_MIN_PX:
        return 0.0
    dark = d_bg < matte.median(d_bg)
    if int(dark.sum()) < _DARK_MIN_PX:
        return 0.0
    return matte.robust_sigma((np.float32(1.0) - t[background][dark]) * d_bg[dark])


def measure_noise(
    t_a: np.ndarray, d_plate_s: np.ndarray, background: np.ndarray
) -> tuple[float, float]:
    """A chroma screen's noise in ``t`` units (:func:`lib_tkg.keying.matte.screen_sigma`) and
    over its darker half in levels (:func:`dark_noise`, on a 1-in-9 subsample: fast), from
    ``t_a``, a screen ratio (float32, ``background``'s shape: the analysed resolution), and the
    plate's colour difference ``d_plate_s`` over the same area (any size: resized)."""
    t_s, bg_s = t_a[::3, ::3], background[::3, ::3]
    d_plate_t = cv2.resize(d_plate_s, t_s.shape[::-1], interpolation=cv2.INTER_LINEAR)
    return matte.screen_sigma(t_a, background), dark_noise(t_s, d_plate_t, bg_s)


def clip_floor(
    lo: float, dark: float, d_plate_s: np.ndarray | None, size: tuple[int, int]
) -> float | np.ndarray:
    """Clip-black ``lo`` (``t`` units), raised per pixel to three times the screen's noise over
    its darker half (``dark``, levels: :func:`dark_noise`) over the plate's colour difference
    (``d_plate_s``, its grid; ``None`` on a neutral screen) where that is more: a float32 map of
    ``size`` = (w, h), or ``lo`` where nowhere is."""
    if d_plate_s is None or dark <= 0.0:
        return lo
    floor_s = np.float32(3.0 * dark) / d_plate_s
    if float(floor_s.max()) <= lo:
        return lo
    floor_s = np.maximum(floor_s, np.float32(lo))
    return cv2.resize(floor_s, size, interpolation=cv2.INTER_LINEAR)


def smoothed(t: np.ndarray) -> np.ndarray:
    """``t`` (float32) smoothed over :data:`_SMOOTH_PX`."""
    return cv2.GaussianBlur(t, (0, 0), _SMOOTH_PX)


def noise_levels(scr: Screen, sig: float) -> float:
    """The screen's noise in 8-bit levels per channel from the noise ``sig`` of ``t``."""
    scale = matte.NEUTRAL_CONTRAST if scr.neutral else float(matte.median(scr.d_plate.reshape(-1)))
    return sig * scale / matte.SQRT3 * 1.4


def key_pixels(
    rgb: np.ndarray,
    scr: Screen,
    plate_s: np.ndarray,
    opts: Options,
    noise: Noise | None = None,
    halves: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None,
    d: np.ndarray | None = None,
    whole: bool = True,
    solid: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Key an RGB uint8 image against the analysed screen ``scr`` with ``plate_s`` (the plate
    grid over this image). ``noise``: the screen's (:class:`Noise`; where ``None``, measured on
    ``scr.background``: then ``scr`` must have been analysed on this image's half resolution).
    ``halves``: its :func:`~lib_tkg.keying.resolution.pyramid` if already made. ``d``: that image's
    colour difference (chroma screens, :func:`lib_tkg.keying.matte.diff` with ``scr.m``), if
    already made. ``whole``: whether the image is the whole frame (not a tile of it): only then
    are large, even partial regions running off the frame judged
    (:func:`lib_tkg.keying.interiors.opaque_interiors`). ``solid``: a neutral screen's subject
    parts near its level, made opaque (bool, this image's shape,
    :func:`lib_tkg.keying.outline.solid_mask`), if any.

    Returns ``(fg uint8 (H, W, 3), alpha float32 0..1)``, or ``None`` when nothing is screen.
    """
    img, img_h, img_q, hs = pyramid(rgb) if halves is None else halves
    # the colours of pixels are gathered from an RGBA copy (one 4-byte item per pixel), made
    # on the other core while the matte is started
    rgba_made = threads.in_background(lambda: cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA))
    one = np.float32(1.0)
    h, w = rgb.shape[:2]
    plate = cv2.resize(plate_s, (w, h), interpolation=cv2.INTER_LINEAR)
    d_plate_s = None if scr.neutral else plate_difference(scr, plate_s)
    t = screen_ratio(img, scr, plate_s, plate, d, d_plate_s)
    if noise is None and scr.neutral:
        noise = Noise(matte.neutral_noise(t[::hs, ::hs][scr.background]), 0.0)
    elif noise is None:
        noise = Noise(*measure_noise(t[::hs, ::hs], d_plate_s, scr.background))
    sig = noise.sigma
    lo = max(opts.tolerance, 3.0 * sig)
    hi = max(opts.clip_white, 3.0 * sig)
    lo_map = clip_floor(lo, noise.dark, d_plate_s, (w, h))
    alpha = matte.soft_clip(one - t, lo_map, hi)
    noise_lv = noise_levels(scr, sig)
    if solid is not None:  # (so that refinement takes them for the opaque core beside the band)
        alpha[solid] = one
    floor = vivid = None
    rgba = rgba_made.result()
    if not scr.neutral:
        floor = lower_bound.physical_floor(rgba, img_q, plate, noise_lv, alpha, (lo, hi))
        over = lower_bound.over_key(t, sig)
        cast = lower_bound.other_cast(rgba, img_q, plate, scr.m, scr.coolest, t, sig)
        if cast is not None:
            cv2.max(over, cast, dst=over)
        vivid = over >= one  # (their own colour: kept)
        alpha = cv2.max(alpha, cv2.max(floor, over))
        full = (img, plate, noise_lv)
        inner = interiors.opaque_interiors(alpha, img_q, plate_s, scr.m, full, whole)
        if inner is not None:
            alpha[inner] = one
            vivid |= inner
    # (a single pixel has no edge to refine; OpenCV would take a 1 x 1 array for a scalar)
    refining = opts.refine and alpha.size > 1
    if refining:
        off = None if scr.neutral else (img, plate, noise_lv)
        noisy = lo > opts.tolerance  # (the noise sets clip-black)
        refine.admit_faint(alpha, t, lo, sig, off, noisy)
        if not scr.neutral and noisy:
            t_smooth = smoothed(t)
            sig_s, dark_s = noise.smooth, noise.smooth_dark
            if sig_s is None or dark_s is None:
                sig_s, dark_s = measure_noise(t_smooth[::hs, ::hs], d_plate_s, scr.background)
            # (clip_floor's floor is three of the darker half's sigmas)
            k = _SMOOTH_SIGMAS
            least_s = clip_floor(k * sig_s, k / 3.0 * dark_s, d_plate_s, (w, h))
            refine.admit_smoothed(alpha, t, t_smooth, lo, sig, least_s)
    if float(alpha.min()) >= 1.0:
        return None
    # the pixels with alpha (0 or 255), for both what follows; the subject's colour is denoised
    # on the other core while the band is refined, over their bounding box: refinement only
    # lowers alpha (the box holds the final one, and colour outside that is dropped with its
    # alpha 0), and the filter reaches 1 px (the box is 3 px wider)
    denoising = opts.denoise and noise_lv > unmix.NOISE_MIN
    seen = cv2.compare(alpha, 0.0, cv2.CMP_GT) if refining or denoising else None
    den = None
    if denoising:
        den = threads.in_background(functools.partial(unmix.denoised, rgb, seen, noise_lv))
    fmap = None
    m_or_none = None if scr.neutral else scr.m
    plate_q = None
    if not scr.neutral:
        plate_q = cv2.resize(plate_s, img_q.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    if refining:
        alpha, fmap = refine.refine_band(
            rgba, img_h, img_q, plate, alpha, seen, t, hi, m_or_none, floor, noise_lv
        )
        ramps = None if scr.neutral else spill_ramps.spill_ramps(alpha)
        if ramps is not None:
            alpha[ramps] = one
        lowered = False
        if plate_q is not None:
            maps = mix_lines.Maps(img, plate, img_q, plate_q)
            lowered = mix_lines.lower_on_lines(alpha, maps, scr.m, hi)
            lowered |= mix_lines.lower_to_far_ends(alpha, maps, scr.m, hi)
        if lowered and vivid is not None:  # (a vivid part's mixes with the screen are unmixed)
            vivid &= alpha >= one
        if solid is not None:  # (refinement reads a part near the screen's level as partial)
            alpha[solid] = one

    # unmix where partial, despill what is left; only pixels that need it are touched (found
    # on the other core, after key-coloured parts the subject encloses are made opaque: their
    # colour is theirs, not despilled)
    def needing() -> np.ndarray:
        kept = None if scr.neutral else enclosed.fill_enclosed(alpha, rgb, plate)
        partial = alpha < one
        need = (alpha > 0) & (partial if scr.neutral else partial | (t > 0))
        if kept is not None:
            need &= ~kept
        if vivid is not None:  # (where still opaque after refinement)
            need &= ~(vivid & ~partial)
        return np.flatnonzero(need)

    found = threads.in_background(needing)
    fg = rgb.copy()
    region = None if den is None else den.result()
    if region is not None:
        box, colours = region
        fg[box] = colours
        cv2.cvtColor(colours, cv2.COLOR_RGB2RGBA, dst=rgba[box])  # (in the view)
    idx = found.result()
    if idx.size:
        m = None if scr.neutral else scr.m
        d_floor = 0.1 * scr.d_key
        reach = own = None
        if m is not None and opts.despill > 0:
            reach = unmix.spill_reach(alpha, idx)
            own = unmix.own_colour(img_q, plate_q, m, scr.d_key, alpha, idx)
        threads.in_parallel(
            lambda r: unmix.unmix(
                fg,
                rgba,
                alpha,
                idx[r],
                plate,
                m,
                d_floor,
                opts.despill,
                fmap,
                None if reach is None else reach[r],
                None if own is None else own[r],
            ),
            idx.size,
        )
    return fg, alpha
