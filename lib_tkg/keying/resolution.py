"""Copies of an image and its masks at other resolutions: the half and quarter the keyer
analyses, exact 2x and 4x mask enlargements, the box filter, and the square structuring
elements the keyer's morphology uses."""

from __future__ import annotations

import cv2
import numpy as np

#: square structuring elements (all ones, uint8) of 3, 5 and 7 px for OpenCV's morphology
KERNEL3 = np.ones((3, 3), np.uint8)
KERNEL5 = np.ones((5, 5), np.uint8)
KERNEL7 = np.ones((7, 7), np.uint8)


def half(img: np.ndarray) -> tuple[np.ndarray, int]:
    """Half-resolution copy (area average) and its scale; full resolution for tiny images."""
    h, w = img.shape[:2]
    if min(h, w) < 64:
        return img, 1
    return cv2.resize(img, (-(-w // 2), -(-h // 2)), interpolation=cv2.INTER_AREA), 2


#: Unsigned integer types of 2 and 4 bytes: one byte copied into each of their bytes
_REPEATS = {2: np.uint16, 4: np.uint32}


def enlarge_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A uint8 (h, w) mask resized to ``size`` = (W, H) as ``cv2.resize`` with
    ``INTER_NEAREST`` does it. When (W, H) is (2 w, 2 h) or (4 w, 4 h), each pixel is copied
    into a k x k block (what that resize does at those sizes) as the bytes of one 2- or 4-byte
    integer and whole rows: several times faster."""
    h, w = mask.shape
    k = size[0] // w if w else 0
    if k not in _REPEATS or size != (k * w, k * h):
        return cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    kind = _REPEATS[k]
    wide = mask.astype(kind) * kind(int.from_bytes(bytes([1] * k), "little"))
    return np.repeat(wide.view(np.uint8), k, axis=0)


def pyramid(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The float32 copy of an RGB uint8 image, its :func:`half`, that one's half, and the
    scale of the first half."""
    img = rgb.astype(np.float32)
    img_h, hs = _half_of_levels(img)
    means = (2 * img_h.shape[0], 2 * img_h.shape[1]) == rgb.shape[:2]  # exact 2x2 means
    return img, img_h, (_half_of_levels if means else half)(img_h)[0], hs


def _half_of_levels(img: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`half` of a float32 image of 8-bit levels or of exact 2x2 means of them. With
    even sides a bilinear resize gives each 2x2 mean, with weights of one half: every step is
    exact for such values (multiples of 1/16 up to 255), so they are the area average's, three
    times as fast."""
    h, w = img.shape[:2]
    if min(h, w) < 64 or h % 2 or w % 2:
        return half(img)
    return cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_LINEAR), 2


def box(x: np.ndarray, r: int) -> np.ndarray:
    """Box filter of radius ``r`` px, reflected borders."""
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)
