"""What detection examines: a reduced copy of the image (:data:`_DETECT_RES` px on the long
side, at least :data:`_DETECT_SHORT` on the short one) and its border band (``border`` x the
short side), less where the subject is known to be."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying.detect.texture import PATTERN_REACH

_DETECT_RES = 256
#: px on the short side of the reduced copy, at least (or all of it): a 40000 x 1000 strip
#: reduced to 256 px long is 6 px across, and a subject in the middle of it reaches the border
#: band's texture windows (a flat screen read as textured)
_DETECT_SHORT = 32


def border_mask(h: int, w: int, b: int) -> np.ndarray:
    """The band of ``b`` px along the frame (everything if that covers it)."""
    mask = np.zeros((h, w), bool)
    if 2 * b >= h or 2 * b >= w:
        mask[:] = True
    else:
        mask[:b] = mask[-b:] = True
        mask[:, :b] = mask[:, -b:] = True
    return mask


def _reduced(rgb: np.ndarray, size: tuple[int, int], e: int) -> np.ndarray:
    """``rgb`` area-reduced to ``size`` = (w, h). When that is by a whole factor of 3 or more,
    only the frame ``e`` px wide is made, from four strips (0 inside it, where nothing that
    detection uses reaches): OpenCV reduces by such factors pixel by pixel, so they get the
    values of the whole."""
    h, w = rgb.shape[:2]
    sw, sh = size
    k = h // sh
    if k < 3 or (k * sw, k * sh) != (w, h) or 2 * e >= min(sw, sh):
        return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    small = np.zeros((sh, sw, 3), np.uint8)
    for y0, y1, x0, x1 in (
        (0, e, 0, sw),
        (sh - e, sh, 0, sw),
        (e, sh - e, 0, e),
        (e, sh - e, sw - e, sw),
    ):
        part = rgb[k * y0 : k * y1, k * x0 : k * x1]
        small[y0:y1, x0:x1] = cv2.resize(part, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    return small


def border_sample(
    rgb: np.ndarray, border: float, subject_mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """The reduced copy of ``rgb`` that detection examines (float32 levels, :data:`_DETECT_RES`
    px on the long side, at least :data:`_DETECT_SHORT` on the short one), its border band
    (bool, less where ``subject_mask`` is over 0.5, if enough is left) and the band's width
    there (px)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max(_DETECT_RES / max(h, w), _DETECT_SHORT / min(h, w)))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    b = max(1, round(border * min(size)))
    small = rgb if scale >= 1.0 else _reduced(rgb, size, b + PATTERN_REACH)
    img = small.astype(np.float32)
    sh, sw = img.shape[:2]
    mask = border_mask(sh, sw, b)
    if subject_mask is not None:
        sm = cv2.resize(subject_mask, (sw, sh), interpolation=cv2.INTER_AREA)
        if (mask & (sm <= 0.5)).sum() >= 16:
            mask &= sm <= 0.5
    return img, mask, b
