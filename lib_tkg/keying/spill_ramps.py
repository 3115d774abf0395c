"""Spill ramps: opaque edges that screen light makes look partly clear, made opaque.

Light from the screen falls on a subject's edge (spill) and adds the screen's colour there,
most at the outline and fading inwards over 10-40 px. The colour difference reads that as a
mix with the screen: a band of partial alpha along the edge, lowest (0.5-0.7) at the outline
and rising to 1 inwards, while the outline itself is hard (the alpha drops to 0 within one
pixel). Per pixel that is the same colour as a partly clear edge; the shape is what tells them
apart. A semi-transparent edge (motion blur, defocus, a feathered cut) fades out to 0
smoothly, a veil or glass keeps a flat or outward-rising alpha, and hair or fur is textured.
So a region of partial alpha is taken for a spill ramp, and made opaque, where all of these
hold (:func:`spill_ramps`):

- its nearest clear pixels are steps (a clear pixel next to alpha 0.5 or more), and its rim
  there is mostly at 0.5 or more;
- it is wide (half its pixels 4 px or more from the clear screen) and its alpha rises
  inwards: its inner part (6 px or more in) is at 0.8 or more and above its outer part (3 px
  or less), and its alpha correlates with that distance (0.5 or more);
- it meets the opaque core at 0.9 or more;
- it is smooth (mean deviation from its 3 x 3 average under 0.06): not hair or fur.

Its colour is then despilled like the rest of the opaque subject. Found at half resolution
(steps found at full resolution first): 1-3 ms per 768 px image where wide partial regions
exist, nothing otherwise.
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying.resolution import KERNEL3, enlarge_mask
from lib_tkg.keying.threads import in_background

_STEP = 0.5  # alpha next to a clear pixel that makes it a hard outline (a step)
_DENSE = 0.4  # alpha from which a pixel may belong to a ramp
_OUTER, _WIDE, _INNER = 3.0, 4.0, 6.0  # px from the clear screen: outer part, wide, inner part
_INNER_MIN = 0.8  # the inner part's mean alpha, at least
_RISE = 0.05  # by which it is above the outer part's, at least
_CORR = 0.5  # correlation of alpha with the distance (capped at _CAP px), at least
_CAP = 30.0
_CORE = 0.9  # mean alpha where it meets the opaque core, at least
_ROUGH = 0.06  # mean |alpha - its 3 x 3 average|, under
_MIN_PX = 8  # smallest ramp judged (half-resolution pixels)
_K2 = np.ones((2, 2), np.uint8)


def spill_ramps(alpha: np.ndarray) -> np.ndarray | None:
    """Pixels (bool (H, W)) of the spill ramps (module docstring) in ``alpha`` (float32 0..1,
    (H, W)), ``None`` if none: the pixels of 0.4 alpha and more in a ramp and one half-
    resolution pixel around it."""
    h, w = alpha.shape
    if min(h, w) < 8:  # (no ramp that small; OpenCV takes a 1 x 1 array for a scalar)
        return None
    hh, hw = -(-h // 2), -(-w // 2)
    a_all = cv2.resize(alpha, (hw, hh), interpolation=cv2.INTER_AREA)
    dense = cv2.bitwise_and(
        cv2.compare(a_all, _DENSE, cv2.CMP_GE), cv2.compare(a_all, 1.0, cv2.CMP_LT)
    )
    if cv2.countNonZero(cv2.erode(dense, KERNEL3)) == 0:  # (no partial region that wide)
        return None
    # the box of the dense pixels and 4 half-resolution pixels around (even full-resolution
    # coordinates: the half-resolution grid stays aligned)
    bx, by, bw, bh = cv2.boundingRect(dense)
    qx0, qy0 = max(0, bx - 4), max(0, by - 4)
    qx1, qy1 = min(hw, bx + bw + 4), min(hh, by + bh + 4)
    x0, y0, x1, y1 = 2 * qx0, 2 * qy0, min(w, 2 * qx1), min(h, 2 * qy1)
    a = alpha[y0:y1, x0:x1]
    a_h = a_all[qy0:qy1, qx0:qx1]
    clear = cv2.compare(a, 0.0, cv2.CMP_LE)
    step = cv2.bitwise_and(clear, cv2.compare(cv2.dilate(a, KERNEL3), _STEP, cv2.CMP_GE))
    # at half resolution a block is a step if any of its pixels is, clear if all are
    step_h = np.ascontiguousarray(cv2.dilate(step, _K2, anchor=(0, 0))[::2, ::2])
    clear_h = np.ascontiguousarray(cv2.erode(clear, _K2, anchor=(0, 0))[::2, ::2])
    soft_h = cv2.bitwise_and(clear_h, cv2.bitwise_not(step_h))
    # (the two distance maps on both cores)
    soft_made = in_background(lambda: cv2.distanceTransform(~soft_h, cv2.DIST_L2, 3))
    d_step = cv2.distanceTransform(cv2.bitwise_not(step_h), cv2.DIST_L2, 3)
    d_soft = soft_made.result()
    fed = cv2.compare(d_step, d_soft, cv2.CMP_LT)  # (nearest clear pixel: a step)
    # (full-resolution px; with no clear pixel in the box OpenCV gives FLT_MAX, which doubled
    # overflows with a RuntimeWarning: no pixel is farther than the box is long)
    d0 = cv2.min(cv2.min(d_step, d_soft), float(max(step_h.shape))) * np.float32(2.0)
    cand = cv2.bitwise_and(dense[qy0:qy1, qx0:qx1], fed)
    n, lab = cv2.connectedComponents(cand, connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return None
    at = cand.view(bool)
    lb = lab[at]
    d = d0[at].astype(np.float64)
    aa = a_h[at].astype(np.float64)

    def total(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(lb, weights=weights, minlength=n)

    def mean_where(sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = total(sel)
        return total(aa * sel) / np.maximum(k, 1), k

    count = np.maximum(total(None), 1)
    core = cv2.dilate(cv2.compare(a_h, 1.0, cv2.CMP_GE), KERNEL3)[at] > 0
    a_core, n_core = mean_where(core)
    a_out, _ = mean_where(d <= _OUTER)
    a_in, n_in = mean_where(d >= _INNER)
    rim = d <= 2.0
    a_rim, n_rim = mean_where(rim)
    rim_hi = total(rim & (aa >= _STEP)) / np.maximum(n_rim, 1)
    dc = np.minimum(d, _CAP)
    m_d, m_a = total(dc) / count, total(aa) / count
    cov = total(dc * aa) / count - m_d * m_a
    var = (total(dc * dc) / count - m_d * m_d) * (total(aa * aa) / count - m_a * m_a)
    corr = cov / np.sqrt(np.maximum(var, 1e-12))
    rough = total(np.abs(aa - cv2.blur(a_h, (3, 3))[at])) / count
    ramp = (
        (count >= _MIN_PX)
        & (n_core > 0)
        & (a_core >= _CORE)
        & (total(d >= _WIDE) >= 0.5 * count)
        & (n_in > 0)
        & (a_in >= _INNER_MIN)
        & (a_in > a_out + _RISE)
        & (a_rim >= _STEP)
        & (rim_hi >= 0.5)
        & (corr >= _CORR)
        & (rough < _ROUGH)
    )
    ramp[0] = False
    if not ramp.any():
        return None
    grown = cv2.dilate(ramp[lab].view(np.uint8), KERNEL3)
    sel = enlarge_mask(grown, (2 * grown.shape[1], 2 * grown.shape[0]))[: y1 - y0, : x1 - x0]
    out = np.zeros((h, w), bool)
    box = out[y0:y1, x0:x1]
    np.greater_equal(a, _DENSE, out=box)
    box &= sel.view(bool)
    return out
