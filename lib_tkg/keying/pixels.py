"""Per-pixel rows: flat pixel indices to coordinates, bilinear lookups of low-resolution maps
at them, and row-wise dot products (the band's and unmixing's arithmetic is on such rows)."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.detect.hues import hue_chroma


def dot3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of the first three columns of float32 (N, k) arrays: the products
    summed by :func:`lib_tkg.keying.matte.rows_dot`, ``(x0 + x1) + x2`` (the same sums, twice
    as fast as numpy's strided columns, much faster than ``(a*b).sum(-1)``)."""
    return matte.rows_dot(a[:, :3] * b[:, :3], matte.ONES)


def off_shade2(px: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared distance (levels^2, (N,)) of the colours ``px`` from the line through black and
    ``b`` (the plate's colour at any brightness: the screen lit or shaded), both float32 (N, 3)
    rows: a mix of the screen with another colour leaves it, shade does not."""
    shade = dot3(px, b) / np.maximum(dot3(b, b), np.float32(1.0))
    rest = px - b * shade[:, None]
    return dot3(rest, rest)


def hue_ends(colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The colours (float32 (3,) levels each) at the two ends of the hue range of ``colours``
    (float32 (N, 3) levels): those nearest the 1st and 99th percentiles of each one's hue angle
    from their mean hue (lone pixels do not stretch the range)."""
    hue = hue_chroma(colours)[0]
    rel = (hue - hue_chroma(colours.sum(0, keepdims=True))[0] + 180.0) % 360.0 - 180.0
    ends = np.percentile(rel, (1, 99))
    return tuple(colours[np.argmin(np.abs(rel - e))] for e in ends)


def off_hues(px: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How far (levels, (N,)) the colours ``px`` (float32 (N, 3)) lie outside the hue range from
    ``lo`` to ``hi`` (:func:`hue_ends`): their distance from the nearer end's plane through
    black, grey and that colour, on its outer side (0 or less within the range). Brightness and
    saturation do not count: shade, a purer or paler patch of the screen and a grey veil keep
    its hue."""
    n_lo, n_hi = (np.cross(c, np.float32((1, 1, 1))) for c in (lo, hi))
    n_lo, n_hi = (n / max(float(np.linalg.norm(n)), 1.0) for n in (n_lo, n_hi))
    side = np.float32(1.0 if float(hi @ n_lo) >= 0 else -1.0)  # (the side of lo's plane hi is on)
    return np.maximum(px @ (side * n_hi), px @ (-side * n_lo))


def pixel_xy(idx: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Column and row (float32, (N,) each) of the flat pixel indices ``idx`` of an (h, w) image."""
    i = idx.astype(np.int32) if h * w < 2**31 else idx  # (32-bit division is twice as fast)
    iy = i // i.dtype.type(w)
    return (i - iy * i.dtype.type(w)).astype(np.float32), iy.astype(np.float32)


#: cv2.remap takes sources (and maps) under this many rows and columns (SHRT_MAX)
_REMAP_LIMIT = 32767


def sample(arr: np.ndarray, xy: tuple[np.ndarray, np.ndarray], w: int, h: int) -> np.ndarray:
    """Bilinear lookup of a low-resolution map ``arr`` (sh, sw[, k]) that covers a (h, w)
    image, at the full-resolution pixels ``xy`` (:func:`pixel_xy`). Returns (N, k) float32.

    The map is a full-resolution one for a thin image (under 64 px across, not halved): one
    of :data:`_REMAP_LIMIT` px or more along a side (a 40000 x 8 strip) is read by numpy."""
    x, y = xy
    sh, sw = arr.shape[:2]
    k = arr.shape[2] if arr.ndim == 3 else 1
    n = x.size
    fx, fy = np.float32(sw / w), np.float32(sh / h)
    cx, cy = np.float32(0.5) * fx - np.float32(0.5), np.float32(0.5) * fy - np.float32(0.5)
    if max(sh, sw) >= _REMAP_LIMIT:
        return _bilinear(arr.reshape(sh, sw, k), x * fx + cx, y * fy + cy)
    cols = 1024  # cv2.remap maps must stay below 32767 rows and columns
    chunk = cols * 16384
    parts = []
    for s in range(0, n, chunk):  # and their rows too: at most 16 M pixels per call
        m = min(chunk, n - s)
        rows = -(-m // cols)
        mx = np.empty(rows * cols, np.float32)
        my = np.empty(rows * cols, np.float32)
        mx[m:] = my[m:] = 0  # (the last row's padding looks up the first pixel)
        np.multiply(x[s : s + m], fx, out=mx[:m])
        np.multiply(y[s : s + m], fy, out=my[:m])
        mx[:m] += cx
        my[:m] += cy
        res = cv2.remap(
            arr,
            mx.reshape(rows, cols),
            my.reshape(rows, cols),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        parts.append(res.reshape(-1, k)[:m])
    if len(parts) == 1:
        return parts[0]  # (the lookups themselves, not a copy)
    return np.concatenate(parts) if parts else np.empty((0, k), np.float32)


def _bilinear(arr: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """``arr`` (sh, sw, k) read bilinearly at the source coordinates ``sx``, ``sy`` (float32,
    (N,) each), its edge replicated beyond it, as ``cv2.remap`` does. Returns (N, k) float32."""
    sh, sw = arr.shape[:2]
    x0, y0 = np.floor(sx), np.floor(sy)
    ax, ay = (sx - x0)[:, None], (sy - y0)[:, None]
    xa, xb = (np.clip(v, 0, sw - 1).astype(np.intp) for v in (x0, x0 + 1))
    ya, yb = (np.clip(v, 0, sh - 1).astype(np.intp) for v in (y0, y0 + 1))
    top = arr[ya, xa] * (1 - ax) + arr[ya, xb] * ax
    bottom = arr[yb, xa] * (1 - ax) + arr[yb, xb] * ax
    return (top * (1 - ay) + bottom * ay).astype(np.float32)
