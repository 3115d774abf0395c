"""Hues and colours of the border's pixels: hue and chroma, distances on the hue circle, the
dominant hue of a set of pixels, their median colour, and the hue ranges that detection names
(degrees, red 0, green 120, blue 240)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lib_tkg.keying import matte

#: degrees between a named key colour's or prior's hue and the border's dominant hue within
#: which that is the screen's (measured and keyed): generated and real screens drift to teal or
#: yellow-green (a bluish green screen 50 degrees from green); a sky (90 degrees) does not pass
PRIOR_HUE = 60.0
#: degrees round the dominant hue within which the border's pixels are the screen's (with a
#: prior, also past its reach: a mottled teal-green screen 43 degrees from green)
SCREEN_SPAN = 20.0
#: hue range (degrees) of yellow-greens, from the warm colours to the greens of screens:
#: auto-detected only where lit evenly (:data:`folds.UNEVEN`). Chartreuse screens whose vignetted or
#: pale borders read 75-79 degrees were refused as warm in six held-out sets, while the sixty
#: photos without a screen there (yellow-green bokeh and foliage among them) were refused by the
#: other tests.
YELLOW_GREEN = (62.0, 80.0)
#: hue range (degrees) of a dull screen found without a prior: greens only, as dull blue and
#: teal borders are common in photos (dusk and overcast skies, shade) and smooth dull greens
#: are not (foliage and grass are textured); from 75, as pale and greyish yellow-green screens
#: read 80-81 degrees (a held-out set's two, HSV saturation 0.24 and 0.33, were refused at 85;
#: khaki and olive drab, 60-70, stay out)
DULL_GREEN = (75.0, 155.0)
#: degrees off a colour's direction in RGB from which a colour is no shade of it
#: (:func:`shade_angle`): hair or threads of another colour mixed with the screen are, a wall's
#: mortar and a tinted photo's texture are not (measured in :mod:`.chroma`, ``_HAIR_SMOOTH``)
SHADE_ANGLE = 2.5


def hue_chroma(px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hue (degrees, red 0, green 120, blue 240) and chroma of (N, 3) float pixels."""
    c = matte.chroma_part(px)
    a = matte.rows_dot(c, np.array([2.0, -1.0, -1.0], np.float32) / math.sqrt(6.0))
    b = matte.rows_dot(c, np.array([0.0, 1.0, -1.0], np.float32) / math.sqrt(2.0))
    return np.degrees(np.arctan2(b, a)) % 360.0, np.sqrt(a * a + b * b)


def hue_dist(hue: np.ndarray, ref: float) -> np.ndarray:
    return np.abs((hue - ref + 180.0) % 360.0 - 180.0)


def in_range(hue: Any, span: tuple[float, float]) -> Any:
    """Whether hues (degrees: an array, or one hue) lie in ``span`` (degrees, low to high, on
    the circle)."""
    return hue_dist(hue, sum(span) / 2) <= (span[1] - span[0]) / 2


def peak_hue(hue: np.ndarray, weight: np.ndarray) -> float:
    hist = np.bincount((hue // 5).astype(np.int64) % 72, weights=weight, minlength=72)
    kernel = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    smooth = np.convolve(np.concatenate([hist[-2:], hist, hist[:2]]), kernel, mode="valid")
    return (int(np.argmax(smooth)) + 0.5) * 5.0


def dominant_hue(
    hue: np.ndarray, chroma: np.ndarray, p_hue: float | None, least: float
) -> tuple[float, np.ndarray] | None:
    """The dominant hue (degrees) of the border's clearly saturated pixels (``hue``, ``chroma``:
    (N,) degrees and levels), within :data:`PRIOR_HUE` of the prior's hue ``p_hue`` if given,
    and which of the border's pixels lie within :data:`SCREEN_SPAN` of it among those (bool
    (N,)); ``None`` where fewer than ``least`` are clearly saturated."""
    of_hue = chroma >= matte.MIN_KEY_CHROMA
    if p_hue is not None:
        of_hue &= hue_dist(hue, p_hue) <= PRIOR_HUE
    if of_hue.sum() < least:
        return None
    peak = peak_hue(hue[of_hue], chroma[of_hue])
    return peak, of_hue & (hue_dist(hue, peak) <= SCREEN_SPAN)


def shade_angle(px: np.ndarray, which: np.ndarray, kc: tuple[int, int, int]) -> float:
    """Degrees: how far off ``kc``'s direction in RGB (its shades) the farthest tenth of the
    colours ``px`` ((N, 3)) that ``which`` (bool (N,), some) marks lie, at least (the 90th
    percentile of their angles to it)."""
    rows = matte.rows_where(px, which).astype(np.float32)
    key = np.array(kc, np.float32)
    norms2 = matte.rows_dot(rows * rows, matte.ONES) * np.float32(key @ key)
    cos = matte.rows_dot(rows, key) / np.sqrt(np.maximum(norms2, np.float32(1e-6)))
    return float(np.degrees(np.arccos(np.clip(np.quantile(cos, 0.1), -1.0, 1.0))))


def median_colour(px: np.ndarray, which: np.ndarray) -> tuple[int, int, int]:
    """The per-channel median of the colours ``px`` ((N, 3)) that ``which`` marks, rounded."""
    med = np.median(np.ascontiguousarray(matte.rows_where(px, which).T), axis=1)  # (fast)
    r, g, b = (int(v) for v in np.rint(med))
    return (r, g, b)
