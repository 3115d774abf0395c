"""The physical lower bound of alpha: the smallest opacity at which a pixel is a mix of the local
plate with a valid colour. Key-coloured subject parts (brighter, more saturated, darker than
the screen, or of another hue cast) keep at least that alpha and stay opaque."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.resolution import enlarge_mask
from lib_tkg.keying.threads import in_parallel

_KERNEL3 = np.ones((3, 3), np.uint8)


def _unexplained(v: np.ndarray, plate: np.ndarray, margin: np.float32) -> np.ndarray:
    """Per-channel lower bounds of alpha from ``v = I - B`` (any shape (..., 3))."""
    up = np.maximum(v - margin, 0) / np.maximum(np.float32(255.0) - plate, np.float32(32.0))
    dn = np.maximum(-v - margin, 0) / np.maximum(plate, np.float32(32.0))
    a = np.maximum(up, dn)
    a = np.maximum(np.maximum(a[..., 0], a[..., 1]), a[..., 2])
    return np.clip((a - np.float32(0.25)) * np.float32(2.0), 0.0, 1.0)


def physical_floor(
    rgba: np.ndarray,
    img_q: np.ndarray,
    plate: np.ndarray,
    noise_lv: float,
    alpha: np.ndarray,
    clip: tuple[float, float],
) -> np.ndarray:
    """Opacity (0..1, per pixel of the RGBA uint8 image ``rgba``) of colours the plate cannot
    explain.

    ``plate``: the clean plate at the image's resolution, (H, W, 3) float32 levels.

    The smallest alpha for which ``I = a F + (1 - a) B`` has a valid colour ``F`` in
    [0, 255]^3, with ``noise_lv`` (levels) of noise and plate error forgiven, mapped so that
    weakly unexplained pixels (below 0.25: edges, plate error) give 0 and strongly unexplained
    ones (0.75 and above: key-coloured subject parts) give 1; then clipped like the matte
    (``clip``: clip-black and clip-white, :func:`lib_tkg.keying.matte.soft_clip`). Found on
    ``img_q`` (a float32 copy at quarter resolution; of the image itself when it is too small
    to reduce), computed at full resolution only there and
    where ``alpha`` is not already 1 (in parts on OpenCV's threads, :func:`in_parallel`); 0
    elsewhere.
    """
    h, w = rgba.shape[:2]
    margin = np.float32(3.0 * noise_lv + 6.0)
    if img_q.shape[:2] == (h, w):  # (a tiny image: img_q is its float32 copy)
        return matte.soft_clip(_unexplained(cv2.subtract(img_q, plate), plate, margin), *clip)
    # where: on the reduced copy, widened by a pixel there
    qh, qw = img_q.shape[:2]
    plate_q = cv2.resize(plate, (qw, qh), interpolation=cv2.INTER_NEAREST)  # smooth
    coarse = _unexplained(cv2.subtract(img_q, plate_q), plate_q, margin)
    hit = cv2.dilate((coarse > 0).view(np.uint8), _KERNEL3)
    hit = enlarge_mask(hit, (w, h))
    out = np.zeros((h, w), np.float32)
    both = cv2.bitwise_and(hit, cv2.compare(alpha, 1.0, cv2.CMP_LT))  # 0 or 1
    idx = np.flatnonzero(both.view(bool))  # (numpy finds set bools far faster than bytes)

    def bound(rows: slice) -> None:
        at = idx[rows]
        b = np.take(plate.reshape(-1, 3), at, axis=0)
        v = matte.colours_at(rgba, at) - b
        out.reshape(-1)[at] = matte.soft_clip(_unexplained(v, b, margin), *clip)

    in_parallel(bound, idx.size)
    return out
