"""Matte arithmetic: the colour difference of a chroma key, the 3-D distance of a neutral key,
soft clipping and robust noise estimates.

For a key colour ``K`` the chroma plane (RGB minus its grey component) gets an orthonormal basis
``e1`` (towards ``K``'s hue) and ``e2`` (oriented so that orange, hue 30 degrees, is on its
positive side). The colour difference of a pixel is ``d = <I, e1> - s |<I, e2>|``: positive only
within 60 degrees of the key's hue for ``s = 1 / sqrt(3)``, where for a green key it is exactly
Keylight's ``G - max(R, B)`` (up to scale), for magenta ``min(R, B) - G``, and it generalises to
any hue. On the side towards orange, for keys within 110 degrees of it (:data:`WARM_REACH`:
green, yellow-green, magenta and red screens), the zone is narrower (``s =`` :data:`WARM_SLOPE`, 51
degrees): skin, blonde and golden hair, wood and orange are subject colours, and a golden yellow
(hue 42) on a yellow-green screen (hue 90, as SD's greens often are) was keyed 0.6 opaque and
despilled pink. A neutral (white, grey, black) screen has no hue: there the matte is the
distance of a pixel from the clean plate in RGB (luminance and any chroma), divided by
:data:`NEUTRAL_CONTRAST`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SQRT3 = math.sqrt(3.0)
#: Slope of the colour difference's zone edge on orange's side (see the module docstring): 0.8,
#: an edge at atan(1 / 0.8) = 51 degrees from the key's hue instead of 60.
WARM_SLOPE = 0.8
#: Keys whose hue is within the first of these many degrees of orange's (30) get
#: :data:`WARM_SLOPE`, beyond the second 1 / sqrt(3) (a cyan or blue screen, 150 degrees away,
#: keeps both edges at 60 degrees), in between a linear blend (no jump between similar teals).
WARM_REACH = (110.0, 140.0)
#: Chroma |K - grey(K)| (0..255 scale) below which a key colour counts as neutral.
MIN_KEY_CHROMA = 20.0
#: RGB distance (0..255 levels, Euclidean) from a neutral screen at which a pixel is opaque.
NEUTRAL_CONTRAST = 72.0
#: (1, 1, 1): :func:`rows_dot` with it sums the three columns.
ONES = np.ones(3, np.float32)


def chroma(rgb: np.ndarray) -> float:
    """Distance of an RGB colour from the grey axis, |rgb - mean(rgb)| (0..255 scale)."""
    c = rgb.astype(np.float64) - rgb.mean()
    return float(np.sqrt((c * c).sum()))


def is_neutral(rgb: tuple[int, int, int]) -> bool:
    """Whether a key colour (0..255) is white, black or a grey (chroma under
    :data:`MIN_KEY_CHROMA`): such screens are keyed by their distance from the plate."""
    return chroma(np.array(rgb, np.float32)) < MIN_KEY_CHROMA


#: mean brightness (levels) of a neutral key colour: at most this is black, at least
#: :data:`WHITE_MIN` white, between the two grey
BLACK_MAX = 40.0
WHITE_MIN = 215.0


def neutral_kind(rgb: tuple[int, int, int]) -> str:
    """``"white"``, ``"black"`` or ``"grey"``: which neutral screen a key colour (0..255) is,
    by its mean brightness (:data:`BLACK_MAX`, :data:`WHITE_MIN`)."""
    lum = sum(rgb) / 3
    return "white" if lum >= WHITE_MIN else ("black" if lum <= BLACK_MAX else "grey")


def chroma_rows(x: np.ndarray) -> np.ndarray:
    """Chroma of each row of an (N, 3) array, as :func:`chroma`."""
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    return np.sqrt(np.maximum(r * r + g * g + b * b - r * g - g * b - b * r, 1e-6) * (2.0 / 3.0))


def basis(key_rgb: tuple[int, int, int]) -> np.ndarray:
    """(2, 3) matrix: rows e1 (towards the key's hue) and e2, both orthogonal to grey; e2 points
    to orange's side of the key (hue 30 degrees: chroma direction (1, 0, -1) / sqrt(2))."""
    r, g, b = (float(v) for v in key_rgb)
    mean = (r + g + b) / 3.0
    x, y, z = r - mean, g - mean, b - mean
    n = math.sqrt(x * x + y * y + z * z)
    x, y, z = x / n, y / n, z / n
    c = 1.0 / math.sqrt(3.0)  # e2 = (1, 1, 1) / sqrt(3) x e1
    e2 = (c * (z - y), c * (x - z), c * (y - x))
    if e2[0] - e2[2] < 0:
        e2 = (-e2[0], -e2[1], -e2[2])
    return np.array([[x, y, z], e2], np.float32)


def hue_shift(
    rows: np.ndarray, plate_rows: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(shift, p, q)``, each (N,): the hue (degrees in [-180, 180)) of each colour row of
    ``rows`` ((N, 3)) on the chroma basis ``m`` (:func:`basis`) less that of the same row of
    ``plate_rows``, positive to the cool side (``e2`` points to orange's); and the rows'
    projections on ``e1`` and ``e2``."""
    p, q = (rows_dot(rows, e) for e in m)
    p_b, q_b = (rows_dot(plate_rows, e) for e in m)
    shift = np.degrees(np.arctan2(q_b, p_b) - np.arctan2(q, p))
    return (shift + 180.0) % 360.0 - 180.0, p, q


def slopes(m: np.ndarray) -> tuple[float, float]:
    """The colour difference's slopes ``s`` (module docstring) on the positive (orange's) and
    the negative side of ``e2`` for the basis ``m`` (:func:`basis`)."""
    cos_orange = (float(m[0, 0]) - float(m[0, 2])) / math.sqrt(2.0)
    apart = math.degrees(math.acos(max(-1.0, min(1.0, cos_orange))))
    near, far = WARM_REACH
    warm = min(1.0, max(0.0, (far - apart) / (far - near)))
    return 1.0 / SQRT3 + warm * (WARM_SLOPE - 1.0 / SQRT3), 1.0 / SQRT3


def project(img: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 ``(<I, e1>, <I, e2>, 0)`` of a float32 (H, W, 3) image.

    A 3x3 matrix: OpenCV's 3-to-3 channel transform is several times faster than 3-to-2.
    """
    return cv2.transform(img, np.concatenate([m, np.zeros((1, 3), np.float32)]))


def diff(img: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Colour difference of a float32 (H, W, 3) image or (N, 3) rows; returns (H, W) or (N,)
    float32 (levels). ``min(<I, e1 - s+ e2>, <I, e1 + s- e2>)`` with the :func:`slopes`: for an
    image two one-channel transforms (OpenCV's fastest) instead of projections and an absolute
    value."""
    s_pos, s_neg = slopes(m)
    lo, hi = m[0] - m[1] * np.float32(s_pos), m[0] + m[1] * np.float32(s_neg)
    if img.ndim == 3:
        return cv2.min(cv2.transform(img, lo[None]), cv2.transform(img, hi[None]))
    return np.minimum(rows_dot(img, lo), rows_dot(img, hi))


def rows_dot(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(N,) float32 dot products of the (N, 3) rows ``x`` with the vector ``v``.

    An OpenCV transform rather than numpy's ``@``: BLAS runs such thin products on all cores,
    and its threads then busy-wait, taking the other core from OpenCV's own threads.
    """
    if x.shape[0] == 0:
        return np.zeros(0, np.float32)
    rows = np.ascontiguousarray(x, np.float32).reshape(-1, 1, 3)
    return cv2.transform(rows, np.asarray(v, np.float32).reshape(1, 3)).reshape(-1)


def cast_rows(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Hue cast (N,) of the (N, 3) rows ``x`` on the basis ``m`` (:func:`basis`): ``<x, e2> /
    <x, e1>`` (the denominator at least 1), the tangent of their hue angle from the key's,
    positive towards orange's side."""
    return rows_dot(x, m[1]) / np.maximum(rows_dot(x, m[0]), np.float32(1.0))


def rows_where(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``x[mask]`` for a bool ``mask`` over all of ``x``'s axes but its last (channels): the
    selected rows, (N, k), in order; a gather at the flat indices, several times faster than
    numpy's boolean indexing of a multi-channel array."""
    return np.take(x.reshape(-1, x.shape[-1]), np.flatnonzero(mask), axis=0)


def colours_at(rgba: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(N, 3) float32 colours (levels) of the pixels at the flat indices ``idx`` of an RGBA
    uint8 image (H, W, 4): each pixel gathered as one 4-byte item, which numpy gathers several
    times faster than rows of three float32, then converted; the values of a float32 copy."""
    if idx.size == 0:
        return np.empty((0, 3), np.float32)
    px = np.take(rgba.reshape(-1).view(np.uint32), idx).view(np.uint8).reshape(1, -1, 4)
    return cv2.cvtColor(px, cv2.COLOR_RGBA2RGB).reshape(-1, 3).astype(np.float32)


def rgb_rows(x: np.ndarray) -> np.ndarray:
    """(N, 3) contiguous copy of the first three columns of (N, 4) float32 rows (colour and
    weight maps sampled at pixels): an RGBA-to-RGB conversion of them as one row of pixels,
    an order of magnitude faster than numpy's strided copy."""
    if x.shape[0] == 0:
        return np.empty((0, 3), np.float32)
    return cv2.cvtColor(x.reshape(1, -1, 4), cv2.COLOR_RGBA2RGB).reshape(-1, 3)


def diff_planes(pq: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Colour difference from the (H, W, 2 or 3) projections ``<I, e1>``, ``<I, e2>`` on the
    basis ``m``."""
    s_pos, s_neg = slopes(m)
    p, q = np.ascontiguousarray(pq[..., 0]), np.ascontiguousarray(pq[..., 1])
    return cv2.min(cv2.scaleAdd(q, -s_pos, p), cv2.scaleAdd(q, s_neg, p))


def grey_rows(x: np.ndarray) -> np.ndarray:
    """(N,) mean of the three columns of an (N, 3) float32 array (numpy's short-axis mean is
    slow; this is the sum ``(x0 + x1) + x2`` of :func:`rows_dot` times a third)."""
    return rows_dot(x, ONES) * np.float32(1.0 / 3.0)


def rep3(s: np.ndarray, k: int = 3) -> np.ndarray:
    """``s`` ((N,) or (H, W) float32) repeated into ``k`` channels: ``x * rep3(s)`` is
    ``x * s[..., None]`` without numpy's slow broadcasting over a short last axis."""
    if s.size == 0:
        return np.empty((*s.shape, k), np.float32)
    if k == 3:  # as one row of grey pixels made RGB: twice as fast as merging three copies
        return cv2.cvtColor(s.reshape(1, -1), cv2.COLOR_GRAY2RGB).reshape(*s.shape, 3)
    return cv2.merge([s] * k).reshape(*s.shape, k)  # (OpenCV 4 gives (N, 1, k) for (N,))


def chroma_part(x: np.ndarray) -> np.ndarray:
    """(N, 3) rows minus their grey component (each row's mean)."""
    return x - rep3(grey_rows(x))


def distance(img: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """Euclidean RGB distance (levels) of two float32 (H, W, 3) images."""
    v = cv2.subtract(img, plate)
    return cv2.sqrt(cv2.transform(v * v, np.ones((1, 3), np.float32)))


def soft_clip(a: np.ndarray, lo: float | np.ndarray, hi: float) -> np.ndarray:
    """Map ``a`` to 0 below ``lo`` and to 1 above ``1 - hi``, linearly in between (``lo``: a
    float or a float32 map of ``a``'s shape)."""
    if isinstance(lo, np.ndarray):
        scale = np.float32(1.0) / np.maximum(np.float32(1.0 - hi) - lo, np.float32(1e-6))
        out = cv2.multiply(cv2.subtract(a, lo), scale)
    else:
        out = (a - np.float32(lo)) * np.float32(1.0 / max(1e-6, 1.0 - lo - hi))
    return np.clip(out, 0.0, 1.0, out=out)


def median(x: np.ndarray) -> np.floating:
    """``np.median`` of a non-empty 1-D array without NaNs, the same value without its
    overhead (a few times faster on the small arrays of the screen analysis)."""
    k = x.size // 2
    if x.size % 2:
        return np.partition(x, k)[k]
    part = np.partition(x, (k - 1, k))
    return (part[k - 1] + part[k]) / 2


def robust_sigma(x: np.ndarray) -> float:
    """1.4826 x median absolute deviation of ``x`` (at most 50000 samples); 0 if < 16."""
    if x.size < 16:
        return 0.0
    step = max(1, x.size // 50000)
    s = x[::step]
    med = median(s)
    return float(1.4826 * median(np.abs(s - med)))


def sigma_of(x: np.ndarray, mask: np.ndarray) -> float:
    """Robust sigma of ``x`` over ``mask`` on a 1-in-9 subsample (fast)."""
    sub = x[::3, ::3][mask[::3, ::3]]
    if sub.size < 16:
        sub = x[mask]
    return robust_sigma(sub)


#: The screen's own level: the chroma screen ratio ``t`` within this of 1, whose spread is the
#: screen's noise (:func:`screen_sigma`; the tiles' noise samples the same,
#: :func:`lib_tkg.keying.tiles.noise`)
SCREEN_BAND = 0.25


def screen_sigma(t: np.ndarray, mask: np.ndarray) -> float:
    """The screen's noise in ``t`` units (a chroma screen's ratio, float32): the robust sigma
    (:func:`sigma_of`) of ``t`` over the ``mask`` pixels (bool, ``t``'s shape) within
    :data:`SCREEN_BAND` of 1, or over all of them where fewer than 16 are. Dense strands that
    the reduced analysis takes for screen, mixed with it, spread ``t`` far wider than the
    screen's grain and mottling: the 118th held-out set's black-haired sorceress read 0.27 over
    the pixels taken for screen, and clip-black 0.82 cleared her strands; read within the band
    (in the plate's last pass too, :func:`lib_tkg.keying.plate.analyse`), 0.09."""
    near = mask & (np.abs(t - np.float32(1.0)) <= np.float32(SCREEN_BAND))
    return sigma_of(t, near if int(near.sum()) >= 16 else mask)


def neutral_noise(t: np.ndarray) -> float:
    """Noise of ``t`` on a neutral screen's background pixels, as a sigma (0..1 units).

    The distance from the plate is a norm, never negative, so its spread is one-sided: a
    third of its 99.5th percentile, so that the clip at three sigmas clears 99.5 % of them.
    """
    if t.size < 16:
        return 0.0
    step = max(1, t.size // 50000)
    return float(np.quantile(1.0 - t[::step], 0.995)) / 3.0
