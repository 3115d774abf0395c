"""Wide soft regions that mix one colour opposite the screen's with the screen: alpha from the
line their colours lie on (:func:`lower_on_lines`).

The colour difference of a mix of the screen with a colour of negative colour difference (red,
magenta, orange, violet on green) is zero from about a third of opacity on, so the first matte
calls most of a wide soft region opaque: a red skirt's spin blur 150 px wide, a defocused red
part. Refinement re-solves a soft edge with the colour of the opaque core beside it
(:mod:`lib_tkg.keying.refine`; its inner part within 8 px,
:func:`~lib_tkg.keying.core_colour.leave_ramps`), but beside a region that wide that colour is
itself a mix, and the region keeps an alpha near 1 for most of its width (a held-out spin blur:
+77/255 over its soft band).

Such a region is told by its colours: each is ``B + a (F - B)`` for the plate ``B`` and one
subject colour ``F``, so all of them lie on one line from the plate, spread along it, reaching
``F`` where the subject is opaque. An opaque part's own colours lie on lines through black
(shading) and off any one line from the plate (texture, print). So where, at quarter
resolution, a connected region of the matte (alpha above :data:`_SUBJECT`, no sharp edge inside:
colour gradient under :data:`_EDGE` levels per px, :data:`_AREA` px or more) has
:data:`_ON_LINE` of its pixels within :data:`_COS` (cosine) of one direction from the plate
(that of its farthest tenth), spread along it (the 10th percentile of their projection at most
:data:`_SPREAD` of its far end, the 99th percentile, which is :data:`_MIN_REACH` levels or more
from the plate), and that direction leads to a colour of negative colour difference (opposite
the screen: a colour of the screen's side keys partial already) and is mostly chroma
(:data:`_CHROMA_SHARE` of it off the grey axis: a part only lighter or darker than the plate, a
lit or shaded part of the screen's hue, a white highlight, dark hair, is not such a mix), alpha
there is the projection as a share of the far end, where lower than the matte's, and opaque
within clip-white of the far end (its noise). Pixels off the line keep theirs. (The same line
raising alpha toward a colour of the screen's side, which the colour difference keys too clear,
was measured worse: bench/RESULTS.md.)

Thin and scattered mixes (a firework's streaks, a cloud of two powders, the spiky fringe of a
blurred ball, a fin's rays) form no such region. :func:`lower_to_far_ends` keys them pixel by
pixel: near the screen (within :data:`_NEAR_PX` px at quarter resolution of matte alpha under
a half), a pixel whose colour lies on the segment from the plate to a colour :data:`_REACH`
px or less away, farther along it (within :data:`_OFF_LINE` levels plus :data:`_OFF_SLOPE`
of that colour's distance from the plate), is a mix of that colour with the screen: alpha is
its projection as a share of it, where lower than the matte's. The farthest such colour is
carried from pixel to pixel in jumps of 8, 4, 2 and 1 px (a jump-flooding search: each pixel
takes a neighbour's farthest colour where its own lies on that colour's segment), so it
reaches along the mix, not across other colours. The same tests as for regions apply to that
colour (opposite the screen, mostly chroma, :data:`_MIN_REACH` levels or more from the plate,
:data:`_FARTHER` beyond the pixel). Shares from :data:`_KNEE` up rise to opaque at
:data:`_KNEE_TOP`: an opaque edge lit by the screen (spill) is such a share of its own colour
too, and spill stays under a third.

Limits: a uniformly translucent colour (tinted glass, organza of even density) has no spread
along its line and keeps the first matte's alpha; an opaque part whose colours blend smoothly
from the subject's colour into the plate's along that line (a painted gradient toward the
screen's colour, a brown beside a red on green) would be keyed as a mix.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from lib_tkg.keying import matte

_SUBJECT = 0.3  # alpha from which a pixel belongs to a region
_EDGE = 12.0  # levels per px (quarter resolution, Sobel / 8): a sharp edge ends a region
_AREA = 150  # px at quarter resolution (2400 at full), at least
_COS = 0.97  # cosine within which a pixel's colour, less the plate, lies on the line
_NEAR_PLATE = 6.0  # levels: a pixel this near the plate lies on every line
_ON_LINE = 0.9  # share of the region's pixels on the line, at least
_SPREAD = 0.6  # the 10th percentile of the projection over the far end, at most
_MIN_REACH = 40.0  # levels: the far end's distance from the plate, at least
_CHROMA_SHARE = 0.6  # of the direction off the grey axis, at least
_GREY = matte.ONES / np.float32(matte.SQRT3)  # (the grey axis, unit)
# lower_to_far_ends (quarter resolution unless said)
_NEAR_PX = 12  # px from matte alpha under _CLEAR, at most
_CLEAR = 0.5
_NEAR_SQUARE = np.ones((2 * _NEAR_PX + 1,) * 2, np.uint8)
_JUMPS = (8, 4, 2, 1)  # px: the search's jumps (reach: their sum)
_REACH = sum(_JUMPS)
_OFF_LINE = 3.0  # levels off the segment, at most (quarter resolution) ...
_OFF_LINE_FULL = 4.0  # ... and at full resolution
_OFF_SLOPE = 0.03  # ... plus this share of the far colour's distance from the plate
_SEEK_SHARE = 0.5  # of a pixel's own colour (less the plate) off the grey axis, to seek one
_FARTHER = 1.05  # the far colour's distance over the pixel's, at least
_KNEE, _KNEE_TOP = 0.7, 0.85  # shares from _KNEE rise to 1 at _KNEE_TOP


def _direction(v: np.ndarray) -> tuple[np.ndarray, float] | None:
    """For a region's colours less the plate ``v`` ((N, 3) float64 levels): the unit direction
    of its farthest tenth and the far end along it (levels); ``None`` where the region is no
    spread mix along one line (see the module)."""
    length = np.sqrt((v * v).sum(axis=1))
    u = v[length >= np.percentile(length, 90)].mean(axis=0)
    norm = float(np.linalg.norm(u))
    if norm <= 0.0:
        return None
    u /= norm
    p = v @ u
    on = (p >= _COS * length) | (length < _NEAR_PLATE)
    far = float(np.percentile(p, 99))
    if on.mean() < _ON_LINE or far < _MIN_REACH or np.percentile(p, 10) > _SPREAD * far:
        return None
    if 1.0 - float(u @ _GREY) ** 2 < _CHROMA_SHARE**2:
        return None
    return u, far


class Maps(NamedTuple):
    """The image and the clean plate, float32 (H, W, 3) levels, and both at quarter
    resolution."""

    img: np.ndarray
    plate: np.ndarray
    img_q: np.ndarray
    plate_q: np.ndarray


def lower_on_lines(alpha: np.ndarray, maps: Maps, m: np.ndarray, cw: float) -> bool:
    """Lower ``alpha`` (float32 (H, W) 0..1, in place) in wide soft regions that mix one colour
    opposite the screen's with it (see the module). ``maps``: the image and plate (:class:`Maps`);
    ``m``: the chroma screen's (2, 3) basis; ``cw``: clip-white (0..1, the keyer's, raised to
    the screen's noise). Returns whether any region was found."""
    img, plate, img_q, plate_q = maps
    h, w = alpha.shape
    hq, wq = img_q.shape[:2]
    if min(hq, wq) < 3:
        return False
    a_q = cv2.resize(alpha, (wq, hq), interpolation=cv2.INTER_AREA)
    gx = cv2.Sobel(img_q, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img_q, cv2.CV_32F, 0, 1, ksize=3)
    grad2 = cv2.transform(gx * gx + gy * gy, np.ones((1, 3), np.float32))
    inside = (a_q > _SUBJECT) & (grad2 < np.float32((8.0 * _EDGE) ** 2))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(inside.view(np.uint8), connectivity=4)
    found = False
    for i in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= _AREA) + 1:  # (0: the rest)
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        region = labels[y : y + bh, x : x + bw] == i
        plate_r = plate_q[y : y + bh, x : x + bw][region].astype(np.float64)
        line = _direction(img_q[y : y + bh, x : x + bw][region] - plate_r)
        if line is None:
            continue
        u, far = line
        end = (plate_r.mean(axis=0) + far * u).astype(np.float32)[None]
        if float(matte.diff(end, m)[0]) >= 0.0:
            continue
        # the region at full resolution (its box there, nearest neighbour)
        x0, y0 = x * w // wq, y * h // hq
        x1, y1 = min(w, -(-(x + bw) * w // wq)), min(h, -(-(y + bh) * h // hq))
        full = cv2.resize(
            region.view(np.uint8), (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST
        )
        img_b, plate_b = img[y0:y1, x0:x1], plate[y0:y1, x0:x1]
        p = cv2.transform(img_b - plate_b, u.astype(np.float32)[None])
        length = matte.distance(img_b, plate_b)
        on = full.view(bool) & (p >= np.float32(_COS) * length)
        block = alpha[y0:y1, x0:x1]
        share = np.clip(p * np.float32(1.0 / far), 0.0, 1.0)
        share[share >= np.float32(1.0 - cw)] = 1.0  # (clip-white: the noise of the far end)
        block[on] = np.minimum(block[on], share[on])
        found = True
    return found


def _far_ends(img_q: np.ndarray, plate_q: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """For the pixels ``(ys, xs)`` of ``img_q`` ((h, w, 3) float32, quarter resolution; its
    plate ``plate_q``): the farthest colour on whose segment from the pixel's plate each lies,
    less that plate, carried over :data:`_JUMPS` (see the module); (N, 3) float32, the pixel's
    own colour less its plate where none is farther. (Colours, not differences, are carried:
    beside a flat subject on an unevenly lit screen the difference grows with the plate.)"""
    pad = max(_JUMPS)
    wp = img_q.shape[1] + 2 * pad
    colours = np.pad(img_q, ((pad, pad), (pad, pad), (0, 0))).reshape(-1, 3)
    at = (ys + pad) * wp + (xs + pad)
    base = plate_q[ys, xs]
    own = img_q[ys, xs] - base
    own2 = np.einsum("ni,ni->n", own, own)
    far2 = own2.copy()
    columns = np.arange(at.size)
    for jump in _JUMPS:
        steps = [dy * wp + dx for dy in (-jump, 0, jump) for dx in (-jump, 0, jump) if dy or dx]
        cand = colours[at[None, :] + np.array(steps, np.int64)[:, None]]  # (8, N, 3)
        ends = cand - base[None]
        end2 = np.einsum("kni,kni->kn", ends, ends)
        end = np.sqrt(end2)
        proj = np.einsum("kni,ni->kn", ends, own) / np.maximum(end, np.float32(1e-3))
        off = _OFF_LINE + _OFF_SLOPE * end
        fits = (own2 - proj * proj <= off * off) & (proj > 0)
        score = np.where(fits, end2, 0)
        best = score.argmax(axis=0)
        reach = score[best, columns]
        up = np.flatnonzero(reach > far2)
        far2[up] = reach[up]
        colours[at[up]] = cand[best[up], up]
    return colours[at] - base


def lower_to_far_ends(alpha: np.ndarray, maps: Maps, m: np.ndarray, cw: float) -> bool:
    """Lower ``alpha`` (float32 (H, W) 0..1, in place) where a pixel near the screen mixes a
    colour opposite the screen's, found nearby, with it (see the module). Arguments as for
    :func:`lower_on_lines`. Returns whether any pixel was lowered."""
    img, plate, img_q, plate_q = maps
    h, w = alpha.shape
    hq, wq = img_q.shape[:2]
    if min(hq, wq) < 3:
        return False
    v = img_q - plate_q
    length = matte.distance(img_q, plate_q)
    a_q = cv2.resize(alpha, (wq, hq), interpolation=cv2.INTER_AREA)
    near = cv2.dilate((a_q < _CLEAR).view(np.uint8), _NEAR_SQUARE).view(bool)
    # (a pixel on the segment to a colour mostly chroma is itself mostly chroma, less its noise)
    grey = cv2.transform(v, _GREY[None])
    chroma2 = length * length - grey * grey
    seeking = (chroma2 >= (_SEEK_SHARE * length) ** 2) & (length >= _NEAR_PLATE)
    ys, xs = np.nonzero(near & (a_q > 0.0) & seeking)
    if ys.size == 0:
        return False
    far_v = _far_ends(img_q, plate_q, ys, xs)
    far = np.sqrt(np.einsum("ni,ni->n", far_v, far_v))
    u = far_v / np.maximum(far, np.float32(1e-3))[:, None]
    ok = (far >= _MIN_REACH) & (far > _FARTHER * length[ys, xs])
    ok &= 1.0 - (u @ _GREY) ** 2 >= _CHROMA_SHARE**2
    ok &= matte.diff(plate_q[ys, xs] + far_v, m) < 0.0
    if not ok.any():
        return False
    # each pixel's far colour at full resolution: its quarter-resolution pixel's (nearest)
    label = np.zeros((hq, wq), np.float32)
    label[ys[ok], xs[ok]] = np.arange(1, int(ok.sum()) + 1, dtype=np.float32)
    label = cv2.resize(label, (w, h), interpolation=cv2.INTER_NEAREST).reshape(-1)
    idx = np.flatnonzero(label)
    end = far_v[ok][label[idx].astype(np.intp) - 1]
    end2 = np.einsum("ni,ni->n", end, end)
    d = img.reshape(-1, 3)[idx] - plate.reshape(-1, 3)[idx]
    dot = np.einsum("ni,ni->n", d, end)
    proj = dot / np.sqrt(end2)
    off = _OFF_LINE_FULL + _OFF_SLOPE * np.sqrt(end2)
    on = (dot > 0) & (np.einsum("ni,ni->n", d, d) - proj * proj <= off * off)
    share = np.clip(dot / end2, 0.0, 1.0)
    share[share >= np.float32(1.0 - cw)] = 1.0  # (clip-white: the noise of the far end)
    knee = share > _KNEE
    share[knee] = np.minimum(
        1.0, _KNEE + (share[knee] - _KNEE) * ((1.0 - _KNEE) / (_KNEE_TOP - _KNEE))
    )
    flat = alpha.reshape(-1)
    at = idx[on]
    flat[at] = np.minimum(flat[at], share[on])
    return bool(at.size)
