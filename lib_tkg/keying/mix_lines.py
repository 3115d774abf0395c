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

Limits: a uniformly translucent colour (tinted glass, organza of even density) has no spread
along its line and keeps the first matte's alpha; an opaque part whose colours blend smoothly
from the subject's colour into the plate's along that line (a painted gradient toward the
screen's colour) would be keyed as a mix.
"""

from __future__ import annotations

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


def lower_on_lines(
    alpha: np.ndarray,
    img: np.ndarray,
    plate: np.ndarray,
    img_q: np.ndarray,
    plate_q: np.ndarray,
    m: np.ndarray,
    cw: float,
) -> bool:
    """Lower ``alpha`` (float32 (H, W) 0..1, in place) in wide soft regions that mix one colour
    opposite the screen's with it (see the module). ``img``, ``plate``: the image and the clean
    plate, float32 (H, W, 3) levels; ``img_q``, ``plate_q``: both at quarter resolution;
    ``m``: the chroma screen's (2, 3) basis; ``cw``: clip-white (0..1, the keyer's, raised to
    the screen's noise). Returns whether any region was found."""
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
