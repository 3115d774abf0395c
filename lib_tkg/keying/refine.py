"""Edge work on the matte: the unknown band's alpha re-solved and denoised by a guided filter
(:func:`refine_band`), the faint rim admitted into it (:func:`admit_faint`).

The colour-difference matte assumes the foreground has no key excess, which over-estimates
alpha for saturated foregrounds. Near opaque foreground, ``F`` is the colour of the nearby
opaque pixels and alpha is re-solved as the projection of ``I - B`` on ``F - B`` where that
line explains the pixel (not where the subject has an outline of another colour: black, white,
coloured); elsewhere alpha moves partly towards the smallest physically possible
value (:mod:`lib_tkg.keying.lower_bound`) when the implied foreground colour is saturated. A colour
guided filter (:mod:`lib_tkg.keying.guided`) then denoises the band along image edges: no
blanket blur. The colour is unmixed and despilled afterwards (:mod:`lib_tkg.keying.unmix`).
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.guided import guide_terms, guided_filter_color
from lib_tkg.keying.pixels import dot3, pixel_xy, sample
from lib_tkg.keying.resolution import box, enlarge_mask
from lib_tkg.keying.threads import in_background, in_parallel

_KERNEL3 = np.ones((3, 3), np.uint8)
_RING3 = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], np.uint8)  # (a pixel's 8 neighbours)
_KERNEL5 = np.ones((5, 5), np.uint8)
_KERNEL11 = np.ones((11, 11), np.uint8)
# guided filter regularisation (guide in 0..1): low, so that one-pixel strands keep their
# alpha, plus the noise variance, so that noise is not followed: the coefficients are fitted on
# the quarter-resolution copy (each pixel an average of 16: a sixteenth of the screen's noise
# variance) and applied to full-resolution pixels (all of it); the geometric mean of the two.
# On a neutral screen the fixed term is higher: its band holds a subject's light inner parts
# too (a face inside dark hair on white), where one linear model of the screen, the outline and
# the inside fits none of them and a weaker term lets it swing (the outline dips to 0.93).
_GE = 5e-5
_GE_NEUTRAL = 2e-4
_FG_SIGMA = 2.5  # px (full resolution) of the local foreground colour average
_FG_WIDE = 10.0  # px, the wider average used where the first has too few opaque pixels
_SPILL_GAIN = 0.5  # share of the line fit's squared residual the spill fit must get below
_TO_FLOOR = 0.75  # share of the way to the lower bound for a clearly saturated implied colour
# implied colour's chroma, as a share of the screen's, from which it counts as clearly saturated:
# for a pixel lighter than the plate, and for one darker (a glow or a lit veil adds light; a
# darker pixel is more often an opaque subject part of the screen's hue, a forest green sweater
# on a lime screen, than a dark tinted veil)
_SATURATED = 0.25
_SATURATED_DARK = 1.0
# clip-white makes a band pixel opaque only if its lower bound is at least this, or its implied
# colour is less saturated than this share of the screen's chroma (else it is a partial mix)
_SNAP_BOUND = 0.8
_SNAP_RATIO = 0.5
#: share of clip-black above which a pixel near the matte is faint alpha (the rim of an edge,
#: a strand's tip), not screen; and how far (px) such pixels are followed from the matte
_FAINT = 0.35
_FAINT_REACH = 4
_INNER = (12.0, 30.0)  # px from a clear pixel: a neutral subject's outline .. its inside
_RAMP = 8  # px: how far into the opaque core a wide soft edge of a saturated subject is sought
_RIM_SIGMA = 1.5  # px (full resolution) of the average of the opaque rim's colour
# levels by which the opaque rim's colour lies off what mixing the core's colour with the screen
# or lighting it with the screen (spill) gives, where the rim starts to count as an outline
# (fully at twice that)
_OUTLINE = 30.0


def admit_faint(alpha: np.ndarray, t: np.ndarray, lo: float, sig: float) -> None:
    """Let the faint rim of the matte into the refined band, in place.

    Clip-black (``lo``, 0..1) clears every pixel whose ``1 - t`` is below it. Within
    :data:`_FAINT_REACH` px of the matte (a pixel that has alpha and a neighbour that has
    it: not a lone noise speck), through pixels that have alpha or are faint (``1 - t``
    above :data:`_FAINT` of clip-black and 1.5 times the screen's noise ``sig``, in ``t``
    units), a faint pixel is more likely the faint rim of an edge or a strand's fading tip
    than screen noise (which rarely forms such chains): it gets a token alpha (1e-3), so that
    :func:`refine_band` estimates it like the rest of the band instead of leaving it clear.
    """
    # (OpenCV's comparisons, morphology and masked copy: several times faster than numpy's;
    # only over the box of the pixels with alpha and as far around it as the chains reach)
    seen = cv2.compare(alpha, 0.0, cv2.CMP_GT)
    bx, by, bw, bh = cv2.boundingRect(seen)
    if bw == 0:
        return
    h, w = alpha.shape
    m = _FAINT_REACH + 1
    box = slice(max(0, by - m), min(h, by + bh + m)), slice(max(0, bx - m), min(w, bx + bw + m))
    seen = seen[box]
    least = max(_FAINT * lo, 1.5 * sig)
    faint = cv2.compare(t[box], float(np.float32(1.0 - least)), cv2.CMP_LT)
    either = cv2.bitwise_or(seen, faint)
    reach = cv2.bitwise_and(seen, cv2.dilate(seen, _RING3))  # (not a lone speck)
    for _ in range(_FAINT_REACH):
        reach = cv2.bitwise_and(cv2.dilate(reach, _KERNEL3), either)
    part = alpha[box]
    cv2.copyTo(cv2.max(part, float(np.float32(1e-3))), cv2.bitwise_and(reach, faint), part)


def _core_contrast(fmap: np.ndarray, plate: np.ndarray) -> float:
    """A neutral screen's typical subject contrast, levels: the median RGB distance from the
    plate of the opaque core (``fmap``, see :func:`refine_band`, where the core dominates),
    at least :data:`matte.NEUTRAL_CONTRAST`."""
    hh, hw = fmap.shape[:2]
    dense = fmap[..., 3] > np.float32(0.5)
    if not dense.any():
        return matte.NEUTRAL_CONTRAST
    plate_h = cv2.resize(plate, (hw, hh), interpolation=cv2.INTER_AREA)
    dist = matte.distance(cv2.cvtColor(fmap, cv2.COLOR_RGBA2RGB), plate_h)[dense]
    return max(float(np.median(dist)), matte.NEUTRAL_CONTRAST)


def _inner_contrast(alpha: np.ndarray, idx: np.ndarray, contrast: float) -> np.ndarray:
    """A neutral screen's subject contrast (levels) for the band pixels ``idx``: the typical
    one (``contrast``) at the subject's outline, :data:`matte.NEUTRAL_CONTRAST` (the first
    matte's) deep inside it, past :data:`_INNER` (px) from any
    clear pixel. A light part inside a subject (a face's highlights on a white screen) is not a
    soft edge, which is what the typical contrast is for (a dark subject's hair). In pixels,
    not a share of the frame: a tile of a huge image gets the same as the whole would."""
    lo, hi = _INNER
    d_clear = cv2.distanceTransform((alpha > 0).view(np.uint8), cv2.DIST_L2, 3)
    inner = np.clip(
        (np.take(d_clear.reshape(-1), idx) - np.float32(lo)) / np.float32(hi - lo), 0, 1
    )
    return np.float32(contrast) + inner * np.float32(matte.NEUTRAL_CONTRAST - contrast)


@functools.lru_cache(maxsize=8)
def _deep_kernels(scale: float) -> tuple[np.ndarray, ...]:
    """Rectangular kernels whose erosions of a 0/1 mask, taken together (their AND), keep the
    pixels farther than ``_RAMP + 1`` px from any 0 pixel, distances measured as
    ``cv2.distanceTransform`` (``DIST_L2``, 3x3 mask) does, times ``scale`` (px per pixel).

    That distance is the shortest 8-connected path with OpenCV's step lengths, so the offsets
    within reach make a convex octagon, the one the transform finds around a single 0 pixel;
    it is the union of one rectangle per width of its rows (tallest for each), and an erosion
    by a union is the AND of the erosions. Several times faster than the transform.
    """
    r = int((_RAMP + 1.0) / scale) + 2  # (OpenCV's step lengths are over 0.95 px)
    one = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    one[r, r] = 0
    reach = cv2.distanceTransform(one, cv2.DIST_L2, 3) * np.float32(scale)
    widths = (reach[r:] <= np.float32(_RAMP + 1.0)).sum(1)  # rows 0, 1, ... px from the centre
    tallest = {int(n): dy for dy, n in enumerate(widths) if n}
    return tuple(np.ones((2 * dy + 1, n), np.uint8) for n, dy in tallest.items())


def _leave_ramps(
    core: np.ndarray,
    rgba: np.ndarray,
    img_h: np.ndarray,
    img_q: np.ndarray,
    plate: np.ndarray,
    t: np.ndarray,
) -> None:
    """Take the inner part of a saturated subject's wide soft edge out of the opaque ``core``
    (0/1 uint8, in place), so that it is estimated with the band.

    The colour difference of a mix of the screen with a colour of negative colour difference
    (red, blue, magenta, yellow on green) reaches zero long before the mix is opaque (red on
    green at about a third): the first matte calls the rest of a wide soft edge (motion blur,
    defocus) opaque, and it kept that alpha. A core pixel within :data:`_RAMP` px of the band,
    with a negative colour difference, leaves the core where its colour lies on the line from the
    plate to the subject colour found at least that far inside the core (cosine above 0.97), and
    clearly short of it (projection below 0.9). A textured subject's own colours mostly lie off
    that line and stay; a subject narrower than twice :data:`_RAMP` has no such colour and stays.
    Distances are measured at half resolution, the inner colour at a quarter (``img_h``,
    ``img_q``).
    """
    h, w = core.shape
    hh, hw = img_h.shape[:2]
    # distances on the half-resolution core (px here): the pixels within _RAMP of its edge,
    # and the colour of those farther in
    core_h = cv2.resize(core, (hw, hh), interpolation=cv2.INTER_NEAREST)
    deep = core_h
    for kernel in _deep_kernels(w / hw):
        deep = cv2.bitwise_and(deep, cv2.erode(core_h, kernel))
    deep = deep.view(bool)
    near = enlarge_mask((~deep).view(np.uint8), (w, h))
    cand = cv2.bitwise_and(
        cv2.bitwise_and(near, core), cv2.compare(t, float(np.float32(-0.02)), cv2.CMP_LT)
    )
    cand = np.flatnonzero(cand.view(bool))
    if cand.size == 0 or not deep.any():
        return
    sums = cv2.cvtColor(img_h, cv2.COLOR_RGB2RGBA)  # (three times as fast as a merge)
    sums[..., 3] = 255.0
    sums *= matte.rep3(deep.astype(np.float32), 4).reshape(sums.shape)
    qw, qh = -(-hw // 2), -(-hh // 2)
    sums = cv2.resize(sums, (qw, qh), interpolation=cv2.INTER_AREA)
    deep_map = _colour_map(cv2.GaussianBlur(sums, (0, 0), _RAMP * qw / w))
    fd = sample(deep_map, pixel_xy(cand, w, h), w, h)
    b = np.take(plate.reshape(-1, 3), cand, axis=0)
    u = matte.rgb_rows(fd) - b
    v = matte.colours_at(rgba, cand) - b
    uu, vu, vv = dot3(u, u), dot3(v, u), dot3(v, v)
    ramp = (fd[:, 3] > np.float32(0.1)) & (uu > np.float32(40.0**2))
    ramp &= vu < np.float32(0.9) * uu
    ramp &= vu > np.float32(0.97) * np.sqrt(uu * vv)
    core.reshape(-1)[cand[ramp]] = 0


def _colour_map(cw_sum: np.ndarray) -> np.ndarray:
    """(h, w, 4) mean colour and weight (0..1) from a (colour sum, weight x 255) map."""
    # (the weight as a plane of its own: numpy is slow on a strided channel)
    inv = np.float32(255.0) / np.maximum(cv2.extractChannel(cw_sum, 3), np.float32(0.0255))
    scale = cv2.cvtColor(inv, cv2.COLOR_GRAY2RGBA)  # (inv, inv, inv, 1): faster than a merge
    scale.reshape(-1)[3::4] = np.float32(1.0 / 255.0)
    return np.multiply(cw_sum, scale, out=scale)


def _rim_map(
    rgba: np.ndarray,
    solid: np.ndarray,
    core: np.ndarray,
    t: np.ndarray,
    cw: float,
    size: tuple[int, int],
) -> np.ndarray:
    """(h, w, 4) mean colour and weight of the opaque rim at the half resolution ``size``
    (w, h): the opaque pixels (``solid``) left out of the ``core`` (within 2 px of its edge)
    that clip-white did not make opaque (``t`` at most ``cw``), averaged over
    :data:`_RIM_SIGMA`. It is the colour of an outline (a line of black, white or another
    colour around the subject), which the core's average does not see."""
    w = core.shape[1]
    rim = cv2.subtract(solid.view(np.uint8), core)  # (the core is within solid)
    rim = cv2.bitwise_and(rim, (t <= np.float32(cw)).view(np.uint8))
    r_sum = cv2.resize(cv2.copyTo(rgba, rim), size, interpolation=cv2.INTER_AREA)
    sigma = _RIM_SIGMA * size[0] / w
    k = 2 * math.ceil(2.5 * sigma) + 1  # (OpenCV's own size for it is twice as slow)
    return _colour_map(cv2.GaussianBlur(r_sum.astype(np.float32), (k, k), sigma))


def _outline_trust(f: np.ndarray, fr: np.ndarray, b_b: np.ndarray, bc: np.ndarray) -> np.ndarray:
    """Trust (N,) 0..1 in the nearby core's colour ``f`` ((N, 3) levels) as the edge's colour:
    0 where the opaque rim's colour (``fr``, :func:`_rim_map`, (N, 4)) is more than twice
    :data:`_OUTLINE` levels from every ``f + x (B - f) + y chroma(B)`` with ``x, y >= 0``
    (``b_b``: the plate ``B``, ``bc``: its chroma): an outline. A rim that is only mixed with
    the screen or lit by it (spill) is within that reach; 1 under :data:`_OUTLINE`, and where
    no rim is near."""
    one = np.float32(1.0)
    trust = np.ones(f.shape[0], np.float32)
    at = np.flatnonzero(fr[:, 3] > np.float32(1e-3))  # (most of a band has no rim near)
    if at.size == 0:
        return trust
    fr_at = np.take(fr, at, axis=0)
    f_at, b_at, bc_at = (np.take(x, at, axis=0) for x in (f, b_b, bc))
    d = matte.rgb_rows(fr_at) - f_at
    u = b_at - f_at
    dd, uu, bb = dot3(d, d), dot3(u, u), dot3(bc_at, bc_at)
    du, db, ub = dot3(d, u), dot3(d, bc_at), dot3(u, bc_at)
    # the nearest point of the cone: on one of its two edges, or inside it
    res = np.minimum(
        dd - np.maximum(du, 0) ** 2 / np.maximum(uu, one),
        dd - np.maximum(db, 0) ** 2 / np.maximum(bb, one),
    )
    x, y, res2, ok = _two_term(uu, ub, bb, du, db, dd)
    res = np.where(ok & (x >= 0) & (y >= 0), np.minimum(res, res2), res)
    off = np.sqrt(np.maximum(res, 0))
    outline = np.clip((off - np.float32(_OUTLINE)) / np.float32(_OUTLINE), 0, 1)
    trust[at] = one - np.clip(fr_at[:, 3] / np.float32(0.1), 0, 1) * outline
    return trust


def refine_band(
    rgba: np.ndarray,
    img_h: np.ndarray,
    img_q: np.ndarray,
    plate: np.ndarray,
    alpha: np.ndarray,
    seen: np.ndarray,
    t: np.ndarray,
    cw: float,
    m: np.ndarray | None,
    floor: np.ndarray | None,
    noise_lv: float,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Edge-aware refinement of alpha inside the unknown band.

    ``rgba``: the image, RGBA uint8 (H, W, 4); ``img_h``, ``img_q``: float32 copies of it at
    half and quarter resolution (:func:`lib_tkg.keying.resolution.half`).
    ``plate``: the clean plate at full resolution, (H, W, 3) float32 levels. ``seen``: where
    ``alpha`` > 0, uint8 0 or 255.
    ``m``: the chroma screen's (2, 3) basis, ``None`` for a neutral screen. ``cw``: clip-white
    (0..1). ``floor``: per-pixel lower bound of alpha (:func:`physical_floor`), kept.
    ``noise_lv``: the screen's noise, levels (the guided filter's regularisation). Returns
    the new alpha and the local foreground colour map (half resolution, (hh, hw, 4): the mean
    colour of the nearby opaque core and its weight), ``None`` without a band.

    1. Near opaque foreground ``F`` is known: the colour of the nearby opaque pixels. With
       ``B`` the plate, alpha is the projection of ``I - B`` on ``F - B``, trusted where the
       pixel lies on that line. Elsewhere (chroma screens), where a subject colour ``F`` is
       found within about 10 px and the pixel lies near the line from ``B`` to it, the colour
       difference is divided by that of ``B - F``: ``a = (d(B) - d(I)) / (d(B) - d(F))``,
       unbiased for colours opposite the screen (the plain value is too opaque there) and for
       ones along it (too transparent). With either ``F``, where screen light on the edge
       (spill: a share of the screen's chroma added) explains the pixel clearly better than the
       line alone, the alpha of that two-term fit is used (:func:`_spill_fit`). Neither ``F``
       is used where the subject has an outline (:func:`_outline_trust`: the opaque rim's colour
       is not the core's mixed with or lit by the screen): there the edge mixes the screen
       with the outline's colour, which the core's average does not see. Failing that the
       estimate is moved from the colour-difference value towards the physical lower bound by
       up to 75 % when the colour the colour-difference value implies is saturated (not at all
       when it is grey, where that value is exact): fully from a quarter of the screen's chroma
       where the pixel is lighter than the plate (a glow, a lit veil), from all of it where it
       is darker (more often a subject part of the screen's hue than a dark tinted veil). The
       result is never below the physical lower bound (the alpha at which the implied
       foreground colour reaches the edge of the RGB cube). Clip-white makes a pixel opaque
       unless its implied colour is clearly saturated (half the screen's chroma) while that
       bound is under 0.8. On a neutral screen, far from the subject, alpha is the distance
       from the plate as a share of the subject's median distance from it.
    2. A colour guided filter (box filters; coefficients on ``img_q``, radius 1 there, about
       2-4 px here; regularised by the guide's noise) denoises the band, following edges in
       the image; outside the band nothing changes.
    """
    h, w = alpha.shape
    one = np.float32(1.0)
    neutral = m is None
    # guided filter (step 2) with the image as guide, coefficients at quarter resolution
    # (radius 1 there, about 2-4 px here) over the box of the pixels with alpha (which holds
    # the band) plus the filter's reach and the coefficients' bilinear sampling (1 px), applied
    # at the band pixels only; its terms of the guide alone are made on the other core while
    # the band is found
    guide = img_q
    gh, gw = guide.shape[:2]
    r = 1 if gh != h else 2
    bx, by, bw, bh = cv2.boundingRect(seen)
    y0 = max(0, by * gh // h - r - 1)
    y1 = min(gh, (by + bh - 1) * gh // h + r + 2)
    x0 = max(0, bx * gw // w - r - 1)
    x1 = min(gw, (bx + bw - 1) * gw // w + r + 2)
    g = guide[y0:y1, x0:x1] * np.float32(1.0 / 255.0)
    eps = (_GE_NEUTRAL if neutral else _GE) + (noise_lv / 255.0) ** 2 * math.sqrt(gh * gw / (h * w))
    terms = in_background(lambda: guide_terms(g, r, eps))
    # opaque core: opaque pixels, and noisy ones deep (5 px) inside a mostly opaque region;
    # nearer its edge such a region may be a dense partial rim (motion blur, strand bundles),
    # which is estimated with the band instead of being made opaque
    # (masks made by OpenCV's comparisons, 0 or 255, then 0 or 1 where viewed as bool)
    dense = cv2.compare(alpha, 0.5, cv2.CMP_GT)
    dense = cv2.bitwise_and(dense, cv2.compare(box(alpha, 2), float(np.float32(0.9)), cv2.CMP_GE))
    solid = cv2.bitwise_or(cv2.compare(alpha, 1.0, cv2.CMP_GE), cv2.erode(dense, _KERNEL11))
    solid = cv2.bitwise_and(solid, 1).view(bool)
    core = cv2.morphologyEx(solid.view(np.uint8), cv2.MORPH_CLOSE, _KERNEL3)  # noise holes
    core = cv2.erode(core, _KERNEL5)  # keep away from edge pixels clipped to opaque
    if not neutral:
        _leave_ramps(core, rgba, img_h, img_q, plate, t)
    idx = np.flatnonzero(cv2.bitwise_and(seen, cv2.compare(core, 0, cv2.CMP_EQ)).view(bool))
    out = alpha.copy()
    core &= solid.view(np.uint8)  # (closing may have bridged small background holes)
    np.copyto(out, one, where=core.view(bool))  # 1 on the core: noise speckles inside it
    if idx.size == 0:
        return out, None

    xy = pixel_xy(idx, w, h)
    hh, hw = img_h.shape[:2]
    rim_made = (
        None if neutral else in_background(lambda: _rim_map(rgba, solid, core, t, cw, (hw, hh)))
    )

    # local foreground colour: masked average of the opaque core at half resolution, as
    # (colour sum, weight x 255) in one 4-channel map (alpha 255 on the core, 0 elsewhere)
    cw_sum = cv2.copyTo(rgba, core)  # (0 elsewhere; twice as fast as a masked AND)
    cw_sum = cv2.resize(cw_sum, (hw, hh), interpolation=cv2.INTER_AREA)
    cw_sum = cw_sum.astype(np.float32)
    cw_sum = cv2.GaussianBlur(cw_sum, (0, 0), _FG_SIGMA * hw / w)
    fmap = _colour_map(cw_sum)
    if neutral:
        wide = rim = None
        contrast = _inner_contrast(alpha, idx, _core_contrast(fmap, plate))
    else:
        # a wider average (10 px) for farther into wide soft bands (smooth: made at half the
        # map's resolution)
        qw, qh = -(-hw // 2), -(-hh // 2)
        cw_wide = cv2.resize(cw_sum, (qw, qh), interpolation=cv2.INTER_AREA)
        wide = _colour_map(cv2.GaussianBlur(cw_wide, (0, 0), _FG_WIDE * qw / w))
        rim = rim_made.result()
        contrast = None
    i_b = matte.colours_at(rgba, idx)
    a_band = np.empty(idx.size, np.float32)

    def estimate(rows: slice) -> None:
        at, xy_r = idx[rows], (xy[0][rows], xy[1][rows])
        a_band[rows] = _band_alpha(
            i_b[rows],
            np.take(plate.reshape(-1, 3), at, axis=0),
            None if neutral else np.take(t.reshape(-1), at),
            sample(fmap, xy_r, w, h),
            None if wide is None else sample(wide, xy_r, w, h),
            None if rim is None else sample(rim, xy_r, w, h),
            m,
            cw,
            None if contrast is None else contrast[rows],
        )

    in_parallel(estimate, idx.size)
    out.reshape(-1)[idx] = a_band

    p_s = cv2.resize(out, (gw, gh), interpolation=cv2.INTER_AREA) if gh != h else out
    coef = np.zeros((gh, gw, 4), np.float32)
    coef[y0:y1, x0:x1] = guided_filter_color(
        g, np.ascontiguousarray(p_s[y0:y1, x0:x1]), r, terms.result()
    )

    def apply(rows: slice) -> None:
        cs = sample(coef, (xy[0][rows], xy[1][rows]), w, h)
        q = dot3(matte.rgb_rows(cs), i_b[rows]) * np.float32(1.0 / 255.0) + cs[:, 3]
        q = np.clip(q, 0.0, 1.0)
        if floor is not None:
            q = np.maximum(q, np.take(floor.reshape(-1), idx[rows]))
        a_band[rows] = q

    in_parallel(apply, idx.size)
    out.reshape(-1)[idx] = a_band
    return out, fmap


def _band_alpha(
    i_b: np.ndarray,
    b_b: np.ndarray,
    t_b: np.ndarray | None,
    fw: np.ndarray,
    fw2: np.ndarray | None,
    fr: np.ndarray | None,
    m: np.ndarray | None,
    cw: float,
    contrast: np.ndarray | None,
) -> np.ndarray:
    """Step 1 of :func:`refine_band` for band pixels (rows): alpha (N,) float32, 0..1.

    ``i_b``, ``b_b``: image and plate colours (N, 3) float32 levels; ``t_b``: the screen ratio
    (chroma screens; ``None`` on a neutral one); ``fw``, ``fw2``: the local and the wide
    foreground colour map sampled there, (N, 4) colour and weight, and ``fr`` the opaque rim's
    (:func:`_rim_map`; both ``None`` on a neutral screen); ``m``: the chroma basis or ``None``;
    ``cw``: clip-white (0..1); ``contrast``: a neutral screen's subject contrast in levels
    (:func:`_inner_contrast`), (N,); ``None`` on a chroma screen.

    The fallback estimate is made for all rows; the line through the local subject colour
    (:func:`_line_alpha`) only for the rows where that colour has weight (most of a band has
    none), as its confidence is 0 elsewhere.
    """
    one = np.float32(1.0)
    f_loc, w_loc = matte.rgb_rows(fw), fw[:, 3]  # (fast numpy needs contiguous rows)
    v = i_b - b_b
    u = f_loc - b_b
    vv = dot3(v, v)
    bc = bb = vb = trust = None
    if m is not None:
        # spill: I - B = a (F - B) + c B_chroma, c >= 0 (screen light on the subject's edge)
        bc = matte.chroma_part(b_b)
        bb, vb = dot3(bc, bc), dot3(v, bc)

    up = np.maximum(v, 0) / np.maximum(np.float32(255.0) - b_b, np.float32(32.0))
    dn = np.maximum(-v, 0) / np.maximum(b_b, np.float32(32.0))
    ud = np.maximum(up, dn)
    a_box = np.clip(np.maximum(np.maximum(ud[:, 0], ud[:, 1]), ud[:, 2]), 0, 1)
    if m is None:
        # the distance from the plate as a share of the nearby subject's own distance from it
        # (at least the neutral contrast), where a subject is near; else a share of the
        # subject's typical distance from it (the median over its opaque core)
        near_contrast = np.maximum(np.sqrt(dot3(u, u)), np.float32(matte.NEUTRAL_CONTRAST))
        a_near = np.clip(np.sqrt(vv) / near_contrast, 0, 1)
        wn = np.clip((w_loc - 0.02) / 0.1, 0, 1)
        a_far = np.clip(np.sqrt(vv) / contrast, 0, 1)
        a_fb = wn * a_near + (1 - wn) * a_far
        a_white = a_far  # what clip-white judges
    else:
        a_cd = np.clip(one - t_b, 0, 1)
        lo_b = np.minimum(a_box, a_cd)
        # trust the colour-difference value fully when the colour it implies is grey (then it
        # is exact), 25 % when that colour is clearly saturated (then it over-estimates); for a
        # pixel darker than the plate only once that colour is as saturated as the screen
        f_cd = b_b + v / matte.rep3(np.maximum(a_cd, np.float32(0.02)))
        ratio = matte.chroma_rows(f_cd) / matte.chroma_rows(b_b)
        dark = matte.rows_dot(v, matte.ONES) < 0
        saturated = np.where(dark, np.float32(_SATURATED_DARK), np.float32(_SATURATED))
        lam = one - np.float32(_TO_FLOOR) * np.clip(ratio / saturated, 0, 1)
        a_fb = lo_b + lam * (a_cd - lo_b)
        # near a known subject colour F the colour difference is unbiased:
        # alpha = (d(B) - d(I)) / (d(B) - d(F)) = a_cd / (1 - d(F) / d(B)); F is the local
        # average, else the wider one farther into wide soft bands
        g_s = np.clip(w_loc / np.float32(0.1), 0, 1)
        f_wide = matte.rgb_rows(fw2)
        f_kn = f_wide + matte.rep3(g_s) * (f_loc - f_wide)
        w_kn = np.maximum(g_s, np.clip(fw2[:, 3] / np.float32(0.05), 0, 1))
        # trusted only where the pixel lies near the line from B to that F
        u_k = f_kn - b_b
        uu_k, vu_k = dot3(u_k, u_k), dot3(v, u_k)
        cos_k = vu_k / np.sqrt(np.maximum(uu_k * vv, np.float32(1e-6)))
        w_kn *= np.clip((cos_k - np.float32(0.8)) / np.float32(0.1), 0, 1)
        # ... and not where the subject has an outline: then F is the outline's colour, not the
        # core's (the line fit below is not used there either)
        trust = _outline_trust(f_kn, fr, b_b, bc)
        w_kn *= trust
        r_f = matte.diff(f_kn, m) / np.maximum(matte.diff(b_b, m), np.float32(1.0))
        a_kn = np.clip(a_cd / (one - np.clip(r_f, -1.0, 0.6)), 0, 1)
        # with spill, where the two-term fit explains the pixel clearly better
        a2, _, use = _spill_fit(u_k, bc, uu_k, vu_k, vv, bb, vb, a_kn)
        a_kn = np.where(use, np.clip(a2, 0, 1), a_kn)
        a_fb = w_kn * a_kn + (1 - w_kn) * a_fb
        # never below the physical lower bound: a smaller alpha would need a foreground colour
        # outside [0, 255] (pale key-tinted veils and strands, which the colour difference
        # takes for screen)
        a_fb = np.maximum(a_fb, a_box)
        # clip-white judges the colour difference as corrected for a known subject colour (a
        # red strand on green is opaque by the plain value long before it is opaque)
        a_white = w_kn * a_kn + (1 - w_kn) * a_cd
    snap = a_white >= one - np.float32(cw)
    if m is not None:
        # ... and not where the implied colour is clearly saturated and the lower bound low:
        # such a pixel may be a partial mix with a colour opposite the screen, for which the
        # colour difference reaches clip-white early (red on green at under half opacity)
        snap &= (a_box >= np.float32(_SNAP_BOUND)) | (ratio < np.float32(_SNAP_RATIO))
    a_new = np.where(snap, one, a_fb)
    # blended with the line's alpha by its confidence, which is 0 where the local subject
    # colour has no weight (so there the fallback is the alpha, as it was)
    near = np.flatnonzero(w_loc > np.float32(0.02))
    if near.size:
        a_loc, cos, uu = _line_alpha(
            *(None if x is None else np.take(x, near, axis=0) for x in (v, u, vv, bc, bb, vb))
        )
        conf = np.clip((w_loc[near] - 0.02) / 0.1, 0, 1) * np.clip((cos - 0.85) / 0.1, 0, 1)
        conf *= np.clip((np.sqrt(uu) - 30.0) / 30.0, 0, 1)
        if trust is not None:
            conf *= trust[near]
        a_line = np.clip(a_loc, a_box[near], 1.0)
        a_new[near] = conf * a_line + (1.0 - conf) * a_new[near]
    return np.clip(a_new, 0.0, 1.0)


def _line_alpha(
    v: np.ndarray,
    u: np.ndarray,
    vv: np.ndarray,
    bc: np.ndarray | None,
    bb: np.ndarray | None,
    vb: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alpha of band rows on the line from the plate ``B`` to the local subject colour ``F``:
    the projection of ``v = I - B`` on ``u = F - B`` ((N, 3) levels each), or on a chroma
    screen, where screen light on the edge explains the pixel clearly better, the alpha of the
    two-term fit with the plate's chroma ``bc`` (:func:`_spill_fit`; ``None`` on a neutral
    screen). ``vv``, ``bb``, ``vb``: the dot products of ``v`` and ``bc`` (N,).

    Returns that alpha, the cosine of the angle between ``v`` and the line (or the fit), and
    ``|u|^2`` (levels squared), (N,) each.
    """
    one = np.float32(1.0)
    uu = dot3(u, u)
    vu = dot3(v, u)
    a_loc = vu / np.maximum(uu, one)
    cos = vu / np.sqrt(np.maximum(uu * vv, np.float32(1e-6)))
    if bc is not None:
        a2, res2, use = _spill_fit(u, bc, uu, vu, vv, bb, vb, a_loc)
        cos2 = np.sqrt(np.clip(1.0 - res2 / np.maximum(vv, np.float32(1e-6)), 0, 1))
        a_loc = np.where(use, a2, a_loc)
        cos = np.where(use, cos2, cos)
    return a_loc, cos, uu


def _spill_fit(
    u: np.ndarray,
    bc: np.ndarray,
    uu: np.ndarray,
    vu: np.ndarray,
    vv: np.ndarray,
    bb: np.ndarray,
    vb: np.ndarray,
    a_1: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alpha with spill for band rows: ``I - B = a (F - B) + c chroma(B)`` with ``c > 0``
    (screen light on the subject's edge makes it look more transparent than it is).

    ``u = F - B`` and ``bc = chroma(B)``, (N, 3); ``uu``, ``vu``, ``vv``, ``bb``, ``vb``: the
    dot products of ``u``, ``v = I - B`` and ``bc`` (N,). ``a_1``: alpha without spill.
    Returns the two-term fit's alpha and squared residual (levels squared), and where to use
    them: where it finds spill, a higher alpha than ``a_1`` and a residual below
    :data:`_SPILL_GAIN` times that of the line ``B + a (F - B)`` alone.
    """
    a2, c2, res2, ok = _two_term(uu, dot3(u, bc), bb, vu, vb, vv)
    res1 = vv - vu * vu / np.maximum(uu, np.float32(1.0))
    use = ok & (c2 > 0) & (a2 > a_1) & (res2 < np.float32(_SPILL_GAIN) * res1)
    return a2, res2, use


def _two_term(
    uu: np.ndarray,
    ub: np.ndarray,
    bb: np.ndarray,
    vu: np.ndarray,
    vb: np.ndarray,
    vv: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least squares ``v = x u + y b`` per row from the dot products of ``u``, ``b`` and ``v``
    (N,) each: ``(x, y, squared residual, ok)``, ``ok`` False where ``u`` and ``b`` are nearly
    parallel (then ``x``, ``y`` are meaningless)."""
    one = np.float32(1.0)
    det = uu * bb - ub * ub
    ok = det > np.float32(1e-3) * uu * bb
    det = np.where(ok, det, one)
    x = (vu * bb - vb * ub) / det
    y = (uu * vb - ub * vu) / det
    return x, y, vv - x * vu - y * vb, ok
