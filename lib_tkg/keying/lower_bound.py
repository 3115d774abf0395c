"""The physical lower bound of alpha: the smallest opacity at which a pixel is a mix of the local
plate with a valid colour. Key-coloured subject parts (brighter, more saturated, darker than
the screen, or of another hue cast) keep at least that alpha and stay opaque; pixels that the
colour difference already explains (edges of white, grey and black parts and outlines) keep the
bound itself. Pixels with clearly more of the key's colour than the screen (:func:`over_key`)
are a key-coloured part, however dark: the screen mixed with any other colour has less."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.resolution import enlarge_mask
from lib_tkg.keying.threads import in_parallel

_KERNEL3 = np.ones((3, 3), np.uint8)
#: how far (0..1, after clipping) the bound may exceed the colour-difference matte while the
#: pixel still counts as explained by it; the stretched bound takes over over the next 0.1
_EXPLAINED = 0.1
#: chroma (share of the plate's) of the colour a pixel implies at its bound above which it is a
#: key-coloured part, whatever the matte says; fully over the next 0.2
_NEUTRAL = 0.5
#: colour difference over the plate's (``t - 1``) beyond which a pixel has more of the key's
#: colour than the screen (at least 6 sigma of the screen's noise); opaque over the next
#: :data:`_OVER_RAMP`
_OVER_KEY = 0.3
_OVER_RAMP = 0.25


def _bound(v: np.ndarray, plate: np.ndarray, margin: np.float32) -> np.ndarray:
    """The lower bound of alpha (N,) 0..1, the largest over the channels, from the rows
    ``v = I - B`` ((N, 3) levels; ``plate``: ``B``), with ``margin`` levels forgiven."""
    up = np.maximum(v - margin, 0) / np.maximum(np.float32(255.0) - plate, np.float32(32.0))
    dn = np.maximum(-v - margin, 0) / np.maximum(plate, np.float32(32.0))
    a = np.maximum(up, dn)
    return np.maximum(np.maximum(a[:, 0], a[:, 1]), a[:, 2])


def _floor(
    v: np.ndarray,
    plate: np.ndarray,
    margin: np.float32,
    alpha: np.ndarray,
    clip: tuple[float, float],
) -> np.ndarray:
    """The floor (N,) of rows ``v = I - B`` ((N, 3) levels; ``plate``: ``B``) whose
    colour-difference matte is ``alpha`` (N,), clipped like it (``clip``).

    Where the matte explains the pixel (the bound at most :data:`_EXPLAINED` above it) and the
    colour the pixel implies at its bound is near grey (chroma under :data:`_NEUTRAL` of the
    plate's), the floor is the bound itself: an edge mixing the screen with a white, grey or
    black colour (a white sticker border, a black outline), whose bound is its alpha. Elsewhere
    the bound is stretched (0.25 -> 0, 0.75 -> 1), which keeps key-coloured subject parts
    opaque (and would make a 0.75 edge pixel of a white border opaque).
    """
    one = np.float32(1.0)
    bound = _bound(v, plate, margin)
    plain = matte.soft_clip(bound, *clip)
    stretched = matte.soft_clip((bound - np.float32(0.25)) * np.float32(2.0), *clip)
    unexplained = np.clip((plain - alpha - np.float32(_EXPLAINED)) * np.float32(10.0), 0, 1)
    at_bound = plate + v / matte.rep3(np.maximum(bound, np.float32(0.05)))
    sat = matte.chroma_rows(at_bound) / np.maximum(matte.chroma_rows(plate), one)
    coloured = np.clip((sat - np.float32(_NEUTRAL)) * np.float32(5.0), 0, 1)
    return plain + np.maximum(unexplained, coloured) * (stretched - plain)


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
    [0, 255]^3, with ``noise_lv`` (levels) of noise and plate error forgiven, clipped like the
    matte ``alpha`` (``clip``: clip-black and clip-white,
    :func:`lib_tkg.keying.matte.soft_clip`); stretched where the matte does not explain the
    pixel (:func:`_floor`). Found where it is over 0.25 on ``img_q`` (a float32 copy at quarter
    resolution; of the image itself when it is too small to reduce), computed at full
    resolution only there and where ``alpha`` is not already 1 (in parts on OpenCV's threads,
    :func:`in_parallel`); 0 elsewhere.
    """
    h, w = rgba.shape[:2]
    margin = np.float32(3.0 * noise_lv + 6.0)
    if img_q.shape[:2] == (h, w):  # (a tiny image: img_q is its float32 copy)
        b = plate.reshape(-1, 3)
        v = img_q.reshape(-1, 3) - b
        return _floor(v, b, margin, alpha.reshape(-1), clip).reshape(h, w)
    # where: on the reduced copy, widened by a pixel there
    qh, qw = img_q.shape[:2]
    plate_q = cv2.resize(plate, (qw, qh), interpolation=cv2.INTER_NEAREST)  # smooth
    b_q = plate_q.reshape(-1, 3)
    coarse = _bound(img_q.reshape(-1, 3) - b_q, b_q, margin).reshape(qh, qw)
    hit = cv2.dilate((coarse > np.float32(0.25)).view(np.uint8), _KERNEL3)
    hit = enlarge_mask(hit, (w, h))
    out = np.zeros((h, w), np.float32)
    both = cv2.bitwise_and(hit, cv2.compare(alpha, 1.0, cv2.CMP_LT))  # 0 or 1
    idx = np.flatnonzero(both.view(bool))  # (numpy finds set bools far faster than bytes)

    def bound(rows: slice) -> None:
        at = idx[rows]
        b = np.take(plate.reshape(-1, 3), at, axis=0)
        v = matte.colours_at(rgba, at) - b
        out.reshape(-1)[at] = _floor(v, b, margin, np.take(alpha.reshape(-1), at), clip)

    in_parallel(bound, idx.size)
    return out


def over_key(t: np.ndarray, sig: float) -> np.ndarray:
    """Opacity (0..1, per pixel) of pixels with more of the key's colour than the screen.

    ``t``: the screen ratio (colour difference over the plate's, float32 (H, W)); ``sig``: its
    noise on the screen. The screen mixed with a colour of less colour difference has less than
    the screen's own; more can only come from a key-coloured subject part, a vivid green ball
    in shade as much as in light (the colour difference alone calls it clear, and the bound
    above explains it as a faint mix with a vivid green). From ``t = 1 +`` :data:`_OVER_KEY`
    (or 6 sigma) to :data:`_OVER_RAMP` more, 0 -> 1.
    """
    start = np.float32(1.0 + max(_OVER_KEY, 6.0 * sig))
    out = (t - start) * np.float32(1.0 / _OVER_RAMP)
    return np.clip(out, 0.0, 1.0, out=out)
