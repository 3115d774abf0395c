"""The physical lower bound of alpha: the smallest opacity at which a pixel is a mix of the local
plate with a valid colour. Key-coloured subject parts (brighter, more saturated, darker than
the screen, or of another hue cast) keep at least that alpha and stay opaque; pixels that the
colour difference already explains (edges of white, grey and black parts and outlines) keep the
bound itself. Pixels with clearly more of the key's colour than the screen (:func:`over_key`)
are a key-coloured part, however dark: the screen mixed with any other colour has less; so are
pixels that keep most of it in another hue cast (:func:`other_cast`): a green of another shade
than the screen's."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.resolution import KERNEL3, enlarge_mask
from lib_tkg.keying.threads import in_parallel

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
#: hue cast (``q / p`` on the screen's chroma basis, :func:`lib_tkg.keying.matte.basis`: the
#: tangent of the hue angle from the key's) to the cool side of the plate's from which a pixel
#: that keeps most of the screen's colour difference is a key-coloured part of another shade
#: (11 degrees on the plate's hue, or 6 sigma of the screen's noise); opaque over the next
#: :data:`_CAST_RAMP` (measured over four held-out sets: a green suit on a yellow-green screen,
#: 35 degrees off, SAD 35.2 -> 6.2; a sprite's green cells on an olive one, 15.8 -> 2.3; no
#: image worse by 0.3)
_CAST = 0.2
_CAST_RAMP = 0.25
#: ... where its cast lies beyond the coolest the screen shows anywhere, fully this far beyond
_BEYOND_RAMP = 0.1
#: the share of the plate's colour difference (``t``) such a pixel keeps, from which (fully
#: over the next :data:`_KEEP_RAMP`): a mix of the screen with a colour of another hue cast
#: shifts it too, but loses colour difference as it does (hair, skin, a blue veil)
_KEEP = 0.5
_KEEP_RAMP = 0.2


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
    hit = cv2.dilate((coarse > np.float32(0.25)).view(np.uint8), KERNEL3)
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


def other_cast(
    rgba: np.ndarray,
    img_q: np.ndarray,
    plate: np.ndarray,
    m: np.ndarray,
    coolest: float,
    t: np.ndarray,
    sig: float,
) -> np.ndarray | None:
    """Opacity (0..1, per pixel of the RGBA uint8 image ``rgba``) of pixels that keep most of
    the screen's colour difference in a cooler hue cast, ``None`` where there are none.

    The colour difference does not see a pixel's hue within 60 degrees of the key's: a mid
    green on a yellow-green screen (35 degrees to the cool side, brighter and more saturated)
    has the screen's ``t`` and keys clear, although the plate mixed with no colour at that
    opacity gives it (the physical bound allows a faint mix with a vivid green). A pixel whose
    hue cast ``q / p`` (``m``: the screen's chroma basis) lies :data:`_CAST` or more (at least
    6 ``sig``, the screen's noise in ``t`` units) to the cool side of the plate's (``plate``,
    full resolution, float32 levels) and beyond the coolest the screen shows (``coolest``,
    :attr:`lib_tkg.keying.plate.Screen.coolest`: a plate taken through a subject's faint parts
    may be off, the screen beside it is not), while it keeps :data:`_KEEP` of the plate's
    colour difference (``t``, float32 (H, W)) or more, is such a part; fully opaque
    :data:`_CAST_RAMP` and :data:`_KEEP_RAMP` further on. Only the cool side: a mix with a warm
    colour (hair, skin, a glow, yellow petals) shifts the hue warm and may keep the colour
    difference; one with a cool colour (a cyan or blue veil) loses it, and translucent
    material of such colours is rarer than opaque subject parts of them
    (:mod:`lib_tkg.keying.interiors`). Found on ``img_q`` (the float32 copy at quarter
    resolution, or the image itself when too small to reduce), computed at full resolution only
    there, widened by a pixel; a 3 x 3 median removes the dips noise makes in it.
    """
    h, w = t.shape
    start = np.float32(max(_CAST, 6.0 * sig))
    keep = np.float32(_KEEP)
    qh, qw = img_q.shape[:2]
    plate_q = plate if (qh, qw) == (h, w) else cv2.resize(plate, (qw, qh), cv2.INTER_NEAREST)
    i_q, b_q = img_q.reshape(-1, 3), plate_q.reshape(-1, 3)
    t_q = matte.diff(i_q, m) / np.maximum(matte.diff(b_q, m), np.float32(1.0))
    hit = (_cast_off(i_q, b_q, m, coolest) > start * np.float32(0.5)) & (t_q >= keep - 0.2)
    if not hit.any():
        return None
    hit = cv2.dilate(hit.reshape(qh, qw).view(np.uint8), KERNEL3)
    if (qh, qw) != (h, w):
        hit = enlarge_mask(hit, (w, h))
    idx = np.flatnonzero(cv2.bitwise_and(hit, cv2.compare(t, float(keep), cv2.CMP_GE)).view(bool))
    if idx.size == 0:
        return None
    out = np.zeros((h, w), np.float32)

    def cast(rows: slice) -> None:
        at = idx[rows]
        i_r, b_r = matte.colours_at(rgba, at), np.take(plate.reshape(-1, 3), at, axis=0)
        o = np.clip((_cast_off(i_r, b_r, m, coolest) - start) * np.float32(1 / _CAST_RAMP), 0, 1)
        o *= np.clip((np.take(t.reshape(-1), at) - keep) * np.float32(1 / _KEEP_RAMP), 0, 1)
        out.reshape(-1)[at] = o

    in_parallel(cast, idx.size)
    return cv2.medianBlur(out, 3)  # (noise dips inside a part, which would be unmixed)


def _cast_off(i_r: np.ndarray, b_r: np.ndarray, m: np.ndarray, coolest: float) -> np.ndarray:
    """How far (N,) the hue cast ``q / p`` of the rows ``i_r`` ((N, 3) levels) lies to the cool
    side of the plate's (``b_r``) on the basis ``m``, where it lies :data:`_BEYOND_RAMP` or more
    beyond the screen's coolest cast ``coolest`` (closer, a share of it; none within it)."""
    c_i = matte.cast_rows(i_r, m)
    off = np.maximum(matte.cast_rows(b_r, m) - c_i, 0)
    return off * np.clip((np.float32(coolest) - c_i) * np.float32(1 / _BEYOND_RAMP), 0, 1)
