"""Colour maps of the opaque core that the band's estimate reads: the mean colour and weight of
the nearby core (:func:`colour_map`), the nearest core's colour however far
(:func:`nearest_colour`), the opaque rim's (:func:`rim_map`: an outline's colour), and the
inner part of a saturated subject's wide soft edge taken out of the core (:func:`leave_ramps`).
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.fields import push_pull
from lib_tkg.keying.pixels import dot3, pixel_xy, sample
from lib_tkg.keying.resolution import enlarge_mask

_RAMP = 8  # px: how far into the opaque core a wide soft edge of a saturated subject is sought
_RIM_SIGMA = 1.5  # px (full resolution) of the average of the opaque rim's colour
_NEAREST_W0 = 0.05  # a colour map's weight from which its own colour is the nearest core's


def colour_map(cw_sum: np.ndarray) -> np.ndarray:
    """(h, w, 4) mean colour and weight (0..1) from a (colour sum, weight x 255) map."""
    # (the weight as a plane of its own: numpy is slow on a strided channel)
    inv = np.float32(255.0) / np.maximum(cv2.extractChannel(cw_sum, 3), np.float32(0.0255))
    scale = cv2.cvtColor(inv, cv2.COLOR_GRAY2RGBA)  # (inv, inv, inv, 1): faster than a merge
    scale.reshape(-1)[3::4] = np.float32(1.0 / 255.0)
    return np.multiply(cw_sum, scale, out=scale)


def nearest_colour(cmap: np.ndarray) -> np.ndarray | None:
    """(h, w, 3) the colour of the nearest opaque core however far: the mean colour of a
    colour map (:func:`colour_map`) filled across the frame where its weight is under
    :data:`_NEAREST_W0` (push-pull); ``None`` where the map has no weight at all."""
    wgt = np.ascontiguousarray(cmap[..., 3])
    if not wgt.any():
        return None
    csum = cv2.multiply(cv2.cvtColor(cmap, cv2.COLOR_RGBA2RGB), matte.rep3(wgt))
    return push_pull(csum, wgt, np.zeros(3, np.float32), w0=_NEAREST_W0)


def rim_map(
    rgba: np.ndarray,
    solid: np.ndarray,
    core: np.ndarray,
    t: np.ndarray,
    cw: float,
    size: tuple[int, int],
) -> np.ndarray:
    """(h, w, 4) mean colour and weight of the opaque rim at the half resolution ``size``
    (w, h): the opaque pixels (``solid``) left out of the ``core`` (within 2 px of its edge)
    that clip-white did not make opaque (``t`` at most ``cw``), averaged over
    :data:`_RIM_SIGMA`. It is the colour of an outline (a line of black, white or another
    colour around the subject), which the core's average does not see."""
    w = core.shape[1]
    rim = cv2.subtract(solid.view(np.uint8), core)  # (the core is within solid)
    rim = cv2.bitwise_and(rim, (t <= np.float32(cw)).view(np.uint8))
    r_sum = cv2.resize(cv2.copyTo(rgba, rim), size, interpolation=cv2.INTER_AREA)
    sigma = _RIM_SIGMA * size[0] / w
    k = 2 * math.ceil(2.5 * sigma) + 1  # (OpenCV's own size for it is twice as slow)
    return colour_map(cv2.GaussianBlur(r_sum.astype(np.float32), (k, k), sigma))


def leave_ramps(
    core: np.ndarray,
    rgba: np.ndarray,
    img_h: np.ndarray,
    img_q: np.ndarray,
    plate: np.ndarray,
    t: np.ndarray,
) -> None:
    """Take the inner part of a saturated subject's wide soft edge out of the opaque ``core``
    (0/1 uint8, in place), so that it is estimated with the band.

    The colour difference of a mix of the screen with a colour of negative colour difference
    (red, blue, magenta, yellow on green) reaches zero long before the mix is opaque (red on
    green at about a third): the first matte calls the rest of a wide soft edge (motion blur,
    defocus) opaque, and it kept that alpha. A core pixel within :data:`_RAMP` px of the band,
    with a negative colour difference, leaves the core where its colour lies on the line from the
    plate to the subject colour found at least that far inside the core (cosine above 0.97), and
    clearly short of it (projection below 0.9). A textured subject's own colours mostly lie off
    that line and stay; a subject narrower than twice :data:`_RAMP` has no such colour and stays.
    Distances are measured at half resolution, the inner colour at a quarter (``img_h``,
    ``img_q``).
    """
    h, w = core.shape
    hh, hw = img_h.shape[:2]
    # distances on the half-resolution core (px here): the pixels within _RAMP of its edge,
    # and the colour of those farther in
    core_h = cv2.resize(core, (hw, hh), interpolation=cv2.INTER_NEAREST)
    deep = core_h
    for kernel in _deep_kernels(w / hw):
        deep = cv2.bitwise_and(deep, cv2.erode(core_h, kernel))
    deep = deep.view(bool)
    near = enlarge_mask((~deep).view(np.uint8), (w, h))
    cand = cv2.bitwise_and(
        cv2.bitwise_and(near, core), cv2.compare(t, float(np.float32(-0.02)), cv2.CMP_LT)
    )
    cand = np.flatnonzero(cand.view(bool))
    if cand.size == 0 or not deep.any():
        return
    sums = cv2.cvtColor(img_h, cv2.COLOR_RGB2RGBA)  # (three times as fast as a merge)
    sums[..., 3] = 255.0
    sums *= matte.rep3(deep.astype(np.float32), 4).reshape(sums.shape)
    qw, qh = -(-hw // 2), -(-hh // 2)
    sums = cv2.resize(sums, (qw, qh), interpolation=cv2.INTER_AREA)
    deep_map = colour_map(cv2.GaussianBlur(sums, (0, 0), _RAMP * qw / w))
    fd = sample(deep_map, pixel_xy(cand, w, h), w, h)
    b = np.take(plate.reshape(-1, 3), cand, axis=0)
    u = matte.rgb_rows(fd) - b
    v = matte.colours_at(rgba, cand) - b
    uu, vu, vv = dot3(u, u), dot3(v, u), dot3(v, v)
    ramp = (fd[:, 3] > np.float32(0.1)) & (uu > np.float32(40.0**2))
    ramp &= vu < np.float32(0.9) * uu
    ramp &= vu > np.float32(0.97) * np.sqrt(uu * vv)
    core.reshape(-1)[cand[ramp]] = 0


@functools.lru_cache(maxsize=8)
def _deep_kernels(scale: float) -> tuple[np.ndarray, ...]:
    """Rectangular kernels whose erosions of a 0/1 mask, taken together (their AND), keep the
    pixels farther than ``_RAMP + 1`` px from any 0 pixel, distances measured as
    ``cv2.distanceTransform`` (``DIST_L2``, 3x3 mask) does, times ``scale`` (px per pixel).

    That distance is the shortest 8-connected path with OpenCV's step lengths, so the offsets
    within reach make a convex octagon, the one the transform finds around a single 0 pixel;
    it is the union of one rectangle per width of its rows (tallest for each), and an erosion
    by a union is the AND of the erosions. Several times faster than the transform.
    """
    r = int((_RAMP + 1.0) / scale) + 2  # (OpenCV's step lengths are over 0.95 px)
    one = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    one[r, r] = 0
    reach = cv2.distanceTransform(one, cv2.DIST_L2, 3) * np.float32(scale)
    widths = (reach[r:] <= np.float32(_RAMP + 1.0)).sum(1)  # rows 0, 1, ... px from the centre
    tallest = {int(n): dy for dy, n in enumerate(widths) if n}
    return tuple(np.ones((2 * dy + 1, n), np.uint8) for n, dy in tallest.items())
