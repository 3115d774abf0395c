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

The per-pixel estimate is :mod:`lib_tkg.keying.band_alpha`'s; the colour maps of the opaque
core it reads (the local subject colour, an outline's colour, a wide soft edge's ramp left out
of the core) are :mod:`lib_tkg.keying.core_colour`'s.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.band_alpha import band_alpha
from lib_tkg.keying.core_colour import colour_map, leave_ramps, nearest_colour, rim_map
from lib_tkg.keying.guided import guide_terms, guided_filter_color
from lib_tkg.keying.pixels import dot3, hue_ends, off_hues, off_shade2, pixel_xy, sample
from lib_tkg.keying.resolution import KERNEL3, KERNEL5, box
from lib_tkg.keying.threads import in_background, in_parallel

_RING3 = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], np.uint8)  # (a pixel's 8 neighbours)
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
#: share of clip-black above which a pixel near the matte is faint alpha (the rim of an edge,
#: a strand's tip), not screen; and how far (px) such pixels are followed from the matte: a
#: strand whose alpha fades over tens of px keeps its faint tip (4 px cut the tips of hair and
#: the faint edges of veils and glass short), but on a screen whose noise sets clip-black only
#: :data:`_FAINT_REACH_NOISY` (the grain's own faint pixels chain farther and spread speckle;
#: :func:`admit_smoothed` follows strands there)
_FAINT = 0.35
_FAINT_REACH = 20
_FAINT_REACH_NOISY = 4
#: :func:`admit_faint`'s edge pixels off the plate's shade line: within this many px of alpha
#: :data:`_OFF_SEED` or more, by :data:`_OFF_NOISE` times the screen's noise and at least
#: :data:`_OFF_LEVELS` (levels, RGB distance); measured over seven held-out sets: SAD 0.1-1 %
#: lower on each, soft-band bias 1-2 levels nearer 0 on the photographic ones, no image worse
_OFF_REACH = 2
_OFF_SEED = 0.5
_OFF_NOISE = 4.0
_OFF_LEVELS = 8.0
_OFF_KERNEL = np.ones((2 * _OFF_REACH + 1,) * 2, np.uint8)
#: farther from the dense part, up to this many px, such pixels outside every hue the plate
#: takes (by the same margin): the mottled inside of a near-green subject (moss, aquarium
#: plants, fleece) that the colour difference cleared in patches; not those of the plate's hues,
#: purer or paler (the screen seen through a ring's hole, a glow, the screen's hue drift seen
#: between leaves where the plate under them was drawn from its other side)
_HUE_REACH = 32
_HUE_KERNEL = np.ones((2 * _HUE_REACH + 1,) * 2, np.uint8)
#: weight of the wide (10 px) average of the opaque core (0..1) that the core must reach
#: somewhere (about 20 px across) for its colour to stand for the subject's beyond that average's
#: reach (:func:`band_alpha._far_keyed`): a few opaque pixels of a skeleton leaf or a mesh are
#: not the colour of everything around them
_FAR_CORE = 0.5
_INNER = (12.0, 30.0)  # px from a clear pixel: a neutral subject's outline .. its inside


def admit_faint(
    alpha: np.ndarray,
    t: np.ndarray,
    lo: float,
    sig: float,
    off: tuple[np.ndarray, np.ndarray, float] | None = None,
    noisy: bool = False,
) -> None:
    """Let the faint rim of the matte into the refined band, in place.

    Clip-black (``lo``, 0..1) clears every pixel whose ``1 - t`` is below it. Within
    :data:`_FAINT_REACH` px of the matte (a pixel that has alpha and a neighbour that has it:
    not a lone noise speck; :data:`_FAINT_REACH_NOISY` px where the screen's noise set
    clip-black, ``noisy``), through pixels that have alpha or are faint (``1 - t``
    above :data:`_FAINT` of clip-black and 1.5 times the screen's noise ``sig``, in ``t``
    units), a faint pixel is more likely the faint rim of an edge or a strand's fading tip
    than screen noise (which rarely forms such chains): it gets a token alpha (1e-3), so that
    :func:`refine_band` estimates it like the rest of the band instead of leaving it clear.

    ``off``: on a chroma screen, the image and the plate (float32 levels, (H, W, 3) each) and
    the screen's noise in levels. A pixel within :data:`_OFF_REACH` px of the matte's dense
    part (alpha :data:`_OFF_SEED` and more) whose colour lies off the plate's shade line (the
    plate at any brightness: the screen, lit or shaded) by :data:`_OFF_NOISE` times that noise,
    at least :data:`_OFF_LEVELS`, is faint too: the edge of a subject whose colour mixes with
    the screen's along the colour difference's own direction (a lime part on green: the
    difference sees no edge and clears it) or off it altogether; and within
    :data:`_HUE_REACH` px one whose colour lies outside the range of the plate's hues by that
    margin (the mottled inside of a near-green subject, cleared in patches).
    """
    # (OpenCV's comparisons, morphology and masked copy: several times faster than numpy's;
    # only over the box of the pixels with alpha and as far around it as the chains reach)
    seen = cv2.compare(alpha, 0.0, cv2.CMP_GT)
    bx, by, bw, bh = cv2.boundingRect(seen)
    if bw == 0:
        return
    h, w = alpha.shape
    steps = _FAINT_REACH_NOISY if noisy else _FAINT_REACH
    m = steps + 1
    box = slice(max(0, by - m), min(h, by + bh + m)), slice(max(0, bx - m), min(w, bx + bw + m))
    seen = seen[box]
    faint = _faint(t[box], lo, sig)
    if off is not None:
        _admit_off(faint, alpha[box], seen, *(x[box] for x in off[:2]), off[2])
    either = cv2.bitwise_or(seen, faint)
    reach = _not_lone(seen)
    for _ in range(steps):
        reach = cv2.bitwise_and(cv2.dilate(reach, KERNEL3), either)
    part = alpha[box]
    cv2.copyTo(cv2.max(part, float(np.float32(1e-3))), cv2.bitwise_and(reach, faint), part)


def admit_smoothed(
    alpha: np.ndarray,
    t: np.ndarray,
    t_s: np.ndarray,
    lo: float,
    sig: float,
    least_s: float | np.ndarray,
) -> None:
    """Let faint strands of a noisy screen into the refined band, in place, however far they run
    from the matte: a pixel faint as :func:`admit_faint` has it (``1 - t`` over :data:`_FAINT`
    of clip-black ``lo`` and 1.5 times the screen's noise ``sig``) whose
    :func:`~lib_tkg.keying.core.smoothed` screen ratio ``t_s`` is also under ``1 - least_s``
    (``least_s``: a multiple of the smoothed copy's noise, raised where the plate is darker as
    clip-black is: :func:`~lib_tkg.keying.core.clip_floor`; a float or a float32 map of ``t``'s
    shape), connected through such pixels and
    pixels with alpha to the matte (a pixel that has alpha and a neighbour that has it: not a
    lone noise speck), gets a token alpha (1e-3) and is estimated with the band
    (:func:`refine_band`).

    On a screen whose grain sets clip-black at 0.3-0.5, the clip clears a dark strand at alpha
    0.3-0.8 but for a few pixels (the 123rd held-out set's wig: 73 % of its soft band clear),
    and :func:`admit_faint` follows it 4 px. A strand's mean over a pixel round it stands out
    of the grain's (which is about half of one pixel's), where the grain's own faint pixels
    rarely chain: a lone faint pixel does not pass, nor the smoothed copy's blur of a strand
    onto the screen beside it."""
    if not isinstance(least_s, np.ndarray):
        least_s = float(least_s)
    faint = cv2.bitwise_and(
        _faint(t, lo, sig), cv2.compare(np.float32(1.0) - t_s, least_s, cv2.CMP_GT)
    )
    seen = cv2.compare(alpha, 0.0, cv2.CMP_GT)
    seeds = _not_lone(seen).view(bool)
    count, labels = cv2.connectedComponents(cv2.bitwise_or(seen, faint), connectivity=8)
    joined = np.zeros(count, bool)
    joined[labels[seeds]] = True
    joined[0] = False  # (the pixels in neither)
    add = joined[labels] & faint.view(bool) & ~seen.view(bool)
    alpha[add] = np.float32(1e-3)


def _faint(t: np.ndarray, lo: float, sig: float) -> np.ndarray:
    """Where ``1 - t`` is over :data:`_FAINT` of clip-black ``lo`` and 1.5 times the screen's
    noise ``sig`` (``t`` units): uint8 0 or 255, ``t``'s shape."""
    least = max(_FAINT * lo, 1.5 * sig)
    return cv2.compare(t, float(np.float32(1.0 - least)), cv2.CMP_LT)


def _not_lone(seen: np.ndarray) -> np.ndarray:
    """The pixels of ``seen`` (uint8 0 or 255) with a neighbour in it: not a lone noise speck."""
    return cv2.bitwise_and(seen, cv2.dilate(seen, _RING3))


def _admit_off(
    faint: np.ndarray,
    alpha: np.ndarray,
    seen: np.ndarray,
    img: np.ndarray,
    plate: np.ndarray,
    noise_lv: float,
) -> None:
    """:func:`admit_faint`'s pixels off the plate's shade line (and farther out, outside its
    hues), marked in ``faint`` (uint8 0 or 255, in place); ``seen``: where ``alpha`` > 0 (uint8
    0 or 255); all over one box."""
    dense = cv2.compare(alpha, _OFF_SEED, cv2.CMP_GE)
    near = cv2.dilate(dense, _OFF_KERNEL)
    far = cv2.bitwise_and(cv2.dilate(dense, _HUE_KERNEL), cv2.bitwise_not(near))
    clear = cv2.bitwise_not(seen)
    least = np.float32(max(_OFF_NOISE * noise_lv, _OFF_LEVELS))
    at = np.flatnonzero(cv2.bitwise_and(near, clear).view(bool))
    i_r, b_r = (np.take(x.reshape(-1, 3), at, axis=0) for x in (img, plate))
    faint.reshape(-1)[at[off_shade2(i_r, b_r) > least * least]] = 255
    at = np.flatnonzero(cv2.bitwise_and(far, clear).view(bool))
    if at.size:
        out = off_hues(
            np.take(img.reshape(-1, 3), at, axis=0), *hue_ends(plate[::8, ::8].reshape(-1, 3))
        )
        faint.reshape(-1)[at[out > least]] = 255


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
    (0..1). ``floor``: per-pixel lower bound of alpha (:func:`lower_bound.physical_floor`), kept.
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
       line alone, the alpha of that two-term fit is used (:func:`band_alpha._spill_fit`).
       Beyond those 10 px, the colour difference is divided the same way by that of the
       nearest opaque core's colour however far, where that colour is of the key's and the
       core is :data:`_FAR_CORE` wide or more (a lime or teal part's translucent folds and
       blurred edges; :func:`band_alpha._far_keyed`).
       Neither ``F`` is used where the subject has an outline
       (:func:`band_alpha._outline_trust`: the opaque rim's colour is not the core's mixed
       with or lit by the screen): there the edge mixes the screen
       with the outline's colour, which the core's average does not see. Failing that the
       estimate is moved from the colour-difference value towards the physical lower bound by
       up to 75 % when the colour the colour-difference value implies is saturated (not at all
       when it is grey, where that value is exact; up to 25 % where the nearest opaque subject
       colour, however far, is of the key's colour: there a lighter pixel is more often that
       part's own soft edge than a glow): fully from a quarter of the screen's chroma
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
    core = cv2.morphologyEx(solid.view(np.uint8), cv2.MORPH_CLOSE, KERNEL3)  # noise holes
    core = cv2.erode(core, KERNEL5)  # keep away from edge pixels clipped to opaque
    if not neutral:
        leave_ramps(core, rgba, img_h, img_q, plate, t)
    idx = np.flatnonzero(cv2.bitwise_and(seen, cv2.compare(core, 0, cv2.CMP_EQ)).view(bool))
    out = alpha.copy()
    core &= solid.view(np.uint8)  # (closing may have bridged small background holes)
    np.copyto(out, one, where=core.view(bool))  # 1 on the core: noise speckles inside it
    if idx.size == 0:
        return out, None

    xy = pixel_xy(idx, w, h)
    hh, hw = img_h.shape[:2]
    rim_made = (
        None if neutral else in_background(lambda: rim_map(rgba, solid, core, t, cw, (hw, hh)))
    )

    # local foreground colour: masked average of the opaque core at half resolution, as
    # (colour sum, weight x 255) in one 4-channel map (alpha 255 on the core, 0 elsewhere)
    cw_sum = cv2.copyTo(rgba, core)  # (0 elsewhere; twice as fast as a masked AND)
    cw_sum = cv2.resize(cw_sum, (hw, hh), interpolation=cv2.INTER_AREA)
    cw_sum = cw_sum.astype(np.float32)
    cw_sum = cv2.GaussianBlur(cw_sum, (0, 0), _FG_SIGMA * hw / w)
    fmap = colour_map(cw_sum)
    if neutral:
        wide = rim = near = None
        far = False
        contrast = _inner_contrast(alpha, idx, _core_contrast(fmap, plate))
    else:
        # a wider average (10 px) for farther into wide soft bands (smooth: made at half the
        # map's resolution)
        qw, qh = -(-hw // 2), -(-hh // 2)
        cw_wide = cv2.resize(cw_sum, (qw, qh), interpolation=cv2.INTER_AREA)
        wide = colour_map(cv2.GaussianBlur(cw_wide, (0, 0), _FG_WIDE * qw / w))
        rim = rim_made.result()
        contrast = None
        near = nearest_colour(wide)
        far = float(wide[..., 3].max()) >= _FAR_CORE
    i_b = matte.colours_at(rgba, idx)
    a_band = np.empty(idx.size, np.float32)

    def estimate(rows: slice) -> None:
        at, xy_r = idx[rows], (xy[0][rows], xy[1][rows])
        a_band[rows] = band_alpha(
            i_b[rows],
            np.take(plate.reshape(-1, 3), at, axis=0),
            None if neutral else np.take(t.reshape(-1), at),
            sample(fmap, xy_r, w, h),
            None if wide is None else sample(wide, xy_r, w, h),
            None if rim is None else sample(rim, xy_r, w, h),
            m,
            cw,
            None if contrast is None else contrast[rows],
            None if near is None else sample(near, xy_r, w, h),
            far,
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
