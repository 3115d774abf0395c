"""Grainy screens: grain or pixel noise strong enough to survive the reduction.

Such a screen is textured to the texture tests. Where the border's pixels of its dominant hue
are grain, as much pattern as grain, little coarse structure and alike all round
(:func:`is_grainy`), the folds test and, where the first look finds no screen, the texture tests
read a copy smoothed over :data:`GRAIN_SIGMA` px. A photo's texture (fur, grass, foliage) has
more pattern and coarse structure than its grain, or lies in patches."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.detect.hues import SCREEN_SPAN, dominant_hue, hue_chroma, hue_dist
from lib_tkg.keying.detect.texture import pattern_maps

#: Grainy screens: where the border's pixels of its dominant hue are grain (:func:`is_grainy`),
#: the folds test and, where the first look finds no screen, the texture tests (and the
#: pattern's limit on smooth pixels) read a copy smoothed over :data:`GRAIN_SIGMA` px (at the
#: detection resolution): grain a few px across averages out there, the texture of fur, grass
#: and foliage and the folds of fabric do not. Grain is noise: as much pattern as
#: grain (white noise 1.03 times, grain a px or two across up to 1.25; measured over 30 held-out
#: photos without a screen, 1.38 and more) and little coarse structure (white noise 0.19 of
#: its grain, held-out grainy screens 0.25-0.42; the photos 0.52 and more) ...
_GRAIN_PATTERN = 1.3
_GRAIN_COARSE = 0.45
#: ... a small share of the screen's brightness (median grain over median brightness: held-out
#: grainy and noisy screens 0.020-0.074; the own benchmark's procedural textures and foliage, a
#: palette in noise at every scale, 0.090-0.170: of the 120th-123rd held-out sets' 40 photos
#: without a screen, the benchmark's 48 scenes and scikit-image's photos, the only ones the
#: other bounds let through) ...
_GRAIN_SHARE = 0.08
#: ... or, where it is more, noise: this many times the grain of a copy of half the size (pixel
#: noise, white at the detection resolution, about 2; held-out noisy screens 1.7-2.07, grain
#: a few px across 1.2-1.7; the benchmark's foliage and textures, noise at every scale,
#: 1.32-1.52; photos 1.24 at most) ...
_GRAIN_HALVES = 1.7
GRAIN_SIGMA = 1.0
#: ... alike all along the border: the 90th percentile of their texture at most this many times
#: its 25th (grain is everywhere on a screen, 1.3-1.7; a photo textured in patches 6.5 and more)
_GRAIN_EVEN = 2.5


def is_grainy(
    img: np.ndarray,
    band: np.ndarray,
    common: tuple[np.ndarray, ...],
    fine: tuple[np.ndarray, np.ndarray],
    p_hue: float | None,
) -> bool:
    """Whether the border's clearly saturated pixels of its dominant hue (within
    :data:`hues.PRIOR_HUE` of the prior's hue ``p_hue`` if given) are grain: their median pattern
    and coarse structure within :data:`_GRAIN_PATTERN` and :data:`_GRAIN_COARSE` times their median
    grain, that grain at most :data:`_GRAIN_SHARE` of their median brightness or noise
    (:data:`_GRAIN_HALVES`), and their texture alike all along the border
    (:data:`_GRAIN_EVEN`). ``img``: the reduced copy (float32 (h, w, 3)), ``band``: its border
    band (bool (h, w)); ``common``: the band's (N, 3) colours, (N,) hues (degrees), chromas,
    texture and pattern (levels, :func:`~lib_tkg.keying.detect.texture.border_texture`,
    :func:`~lib_tkg.keying.detect.texture.pattern_maps`); ``fine``: their grain and coarse
    structure (levels)."""
    px, hue, chroma, texture = common[:4]
    dominant = dominant_hue(hue, chroma, p_hue, 16.0)
    if dominant is None:
        return False
    peak, members = dominant
    pattern, grain, coarse = (float(matte.median(x[members])) for x in (common[4], *fine))
    low, high = np.percentile(texture[members], (25, 90))
    if not (
        pattern <= _GRAIN_PATTERN * grain
        and coarse <= _GRAIN_COARSE * grain
        and high <= _GRAIN_EVEN * max(float(low), 1.0)
    ):
        return False
    if grain <= _GRAIN_SHARE * float(matte.median(matte.grey_rows(px[members]))):
        return True
    # (a larger share only where it is noise: it halves in a copy of half the size)
    h, w = band.shape
    if min(h, w) < 16:
        return False
    size = (w // 2, h // 2)
    half = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    near = cv2.resize(band.view(np.uint8), size, interpolation=cv2.INTER_NEAREST).view(bool)
    hue_h, chroma_h = hue_chroma(matte.rows_where(half, near))
    of_peak = (chroma_h >= matte.MIN_KEY_CHROMA) & (hue_dist(hue_h, peak) <= SCREEN_SPAN)
    if of_peak.sum() < 16:
        return False
    return bool(grain >= _GRAIN_HALVES * float(matte.median(pattern_maps(half)[1][near][of_peak])))
