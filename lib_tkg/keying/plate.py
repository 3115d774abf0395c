"""The clean plate: a smooth per-pixel estimate of the screen behind the subject.

:func:`analyse` works on a reduced copy of the image (half resolution, or smaller for huge
images) and returns a :class:`Screen`: the plate on a coarse grid (:data:`PLATE_RES` blocks on
the long side) that covers the whole frame, plus what the matte needs to know about the screen.
A chroma screen's candidates are classified on a coarser grid (:data:`CLASSIFY_GRID` blocks),
at half that resolution when it is over :data:`CLASSIFY_RES` px; the last pass (the plate's
level) runs at it.

Chroma screens. Background candidates are pixels of the key's hue whose chromaticity (the
saturation ratio ``d / max(RGB)``, unchanged by shadows, vignettes and gradients, which scale
RGB, but lowered by a veil or a light detail) is close to a robust smooth field fitted to the
screen's, and whose hue cast matches the screen's; a paler, duller or differently hued patch of
the screen's hue that reaches the frame's border and keeps the screen's brightness (judged apart
from the subject's colours, more strictly where it meets them) is screen too (not a veil: smoke,
veils, glows and motion tails move the brightness); so is a corner drifting 35-50 degrees off
the screen's hue, towards cyan or yellow, whose hue moves gently into the screen's (no edge)
keeping its brightness. A paler candidate beside a paler region of its hue that is no darker
than the screen (a veil's core) is the veil's faintest part, not screen. Their colours, averaged
per block
(normalised convolution) and filled across the subject with a push-pull pyramid, give the plate.
Next to the subject, candidates much darker than the screen farther out are left out: a dark
subject's blurred edge has the screen's chromaticity, but it is subject, not a shadow; so is a
region darker than the screen around it and cut off from it by a sharp edge (a dark veil), or
enclosed by such an edge and not of the screen's colour (a fill inside a thin outline), or far
darker or brighter than the screen with a mostly sharp rim (a dark part of its hue beside its
own soft shadow, which breaks that edge; a bright hood of its hue under hair; where a bright
region or a dark one at the frame's border meets the open screen, its rim there: a hot spot of
light or a vignetted corner is sharp only where the subject meets it), or darker than
the screen and far more finely textured than it (dark hair or leaves of its hue); these rules
are :mod:`lib_tkg.keying.candidates`'. A second
pass keeps only candidates at the first plate's level (neither darker, so thin dark details such
as hair don't darken it, nor brighter or more saturated, so key-coloured subject parts don't
enter it, nor the subject's edge mixed with the screen: off the first plate's shade line near
the subject), while soft shadows are followed and key out.

Neutral screens (white, grey, black). Candidates are near-neutral pixels at the screen's
brightness or in its soft shadows, connected to the frame's border without crossing the
subject's outline (:mod:`lib_tkg.keying.outline`: a soft shadow has none, a grey subject part
has, if only of a few levels, and on black a dark one of another hue has one in hue); enclosed
regions at the plate's level (holes in the subject) are added in a second pass, each with its
pixels no brighter than the lit screen where :data:`_HOLE_LEVEL` of it is at that level (a wide
one, :data:`_FACE`, where :data:`_WIDE_LEVEL` of it is: a dark textured face on black crosses
the level in scattered pixels; one near the lit screen's level where :data:`_WIDE_LIT` is at
the lit plate's level too, :func:`lit_plate`: a light grey face standing in its contact shadow
is not a hole; a wide one
mostly at the lit plate's level is a hole whatever the plate across it, :data:`_LIT_MOST`: the
gaps above a product's bottom rail, whose contact shadow drags the plate there down): the
subject's shadow cast into its own hole (a chair's back) keys out as the shadow outside does,
and the plate across a hole, dragged down by that shadow outside, is not the hole's. A flat
grey part filling a hole has no pixel at the screen's level. The other enclosed regions are
subject parts; those near the screen's level (a white box's faces on white) are made opaque.
Small near-neutral specks that the outline parts from the screen (dust, a blotch's crisp rim)
are screen.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.candidates import (
    DRIFT_SLOPE,
    enclosed_screen,
    no_bright_bumps,
    no_cut_off_parts,
    no_dark_ramps,
    no_mixed_rim,
    no_other_casts,
    no_plateaus,
    no_textured_shade,
    no_veils,
    screen_drift,
    screen_glows,
    screen_patches,
    screen_ring,
)
from lib_tkg.keying.edges import detail, luminance, sharp_edges
from lib_tkg.keying.fields import block_plate, fit_field, push_pull, quadratic_inliers
from lib_tkg.keying.outline import (
    SOLID_NEAR,
    SOLID_NEAR_WHITE,
    outlined,
    solid_parts,
    specks,
    textured_faces,
)
from lib_tkg.keying.regions import plate_over
from lib_tkg.keying.resolution import KERNEL3, KERNEL5, box, enlarge_mask, half
from lib_tkg.keying.threads import in_background

PLATE_RES = 128  # long side of the low-resolution plate grid
_FIELD_SIGMA = 0.08  # smoothness of the screen chromaticity field, fraction of the long side
_ABS_DIP = 0.08  # colour difference (fraction of the key's) a dark screen region may lack
#: share of a hole in the subject on a neutral screen at the plate's level, at least, for its
#: pixels no brighter than the lit screen to be screen too (a soft shadow cast into it)
_HOLE_LEVEL = 0.05
#: share of the frame from which an enclosed region within :data:`SOLID_NEAR` of the lit screen
#: (the plate without its soft shadows) on average must also have :data:`_WIDE_LIT` of it at
#: that level to be a hole: a product's light grey face standing in its contact shadow (which
#: drags the plate across it down to the face's level) is a part; the gaps between strands over
#: a veil or a shadow, under that size, and a shadow's core, farther from the lit screen, key as
#: before (measured: such faces 0.18-24 % of the frame and 11-45 levels under the lit screen, a
#: 768 px benchmark's gaps 0.04 % at most)
_FACE = 0.001
#: share of such a wide enclosed region (:data:`_FACE`) at the plate's level, at least, for it
#: to be a hole, and (where near the lit screen) at the lit screen's level: :data:`_WIDE_LEVEL`
#: and :data:`_WIDE_LIT`. A dark gravel kettle's or a speckled bowl's face on black, a paper
#: crane a few levels off the screen, a celadon glaze on white, cross the plate's level in
#: scattered pixels, a hole's screen in one piece (measured over the 161st-167th held-out
#: sets' 70 products, regions taken for holes: 75 % of the pixels of those that are subject
#: parts in regions with under 30 % at the level, 1.8 % of those that are holes; with the
#: shadow-like ones below, over the 161st-171st's 110 products white mean alpha error 0.0370
#: -> 0.0328, black 0.0434 -> 0.0383, the crane's SAD 140.7 -> 2.1, twelve better by 0.5 or
#: more, two worse by 1.2 and 1.5; 0.05 for both, the bound of narrower regions: a gap between
#: strands of hair is all mixed pixels but for a few)
_WIDE_LEVEL = 0.3
_WIDE_LIT = 0.15
#: ... but for a shadow-like one, judged as a narrower one (:data:`_HOLE_LEVEL` for both): a
#: product's soft shadow cast into its hole or onto the floor its outline encloses is darker
#: than the plate, where it is off its level, in :data:`_SHADE_DARK` of its pixels or more and
#: at least twice as many as are brighter, and as smooth as the screen (its mean detail,
#: :func:`lib_tkg.keying.edges.detail` at :data:`_SHADE_SIGMA` px within the free candidates, at
#: most :data:`_SHADE_DETAIL` times the screen's). A glaze or a face crossing the level is
#: brighter in places or textured (measured over the 161st-171st held-out sets' 110 products,
#: the wide regions 5-30 % at the level: of 21 holes in shade 17 shadow-like, 0.26-0.89 of them
#: darker, 0.96-1.59 of the screen's detail; of 29 subject parts 25 not, brighter in places or
#: a celadon glaze's detail 2.1-4.1, but a dagger's, a scroll's and a gift box's dark faces;
#: the 170th set's black products, on the stricter bounds alone, mean alpha error 0.029 ->
#: 0.039, with this 0.027)
_SHADE_DARK = 0.2
_SHADE_DETAIL = 1.6
_SHADE_SIGMA = 1.5
#: a wide enclosed region at least :data:`_PART_DETAIL` times as detailed as the screen (as
#: :data:`_SHADE_DETAIL`) and by :data:`_PART_LEVELS` levels at least, under :data:`_PART_LEVEL`
#: of it at the plate's level and not darker than it as a shadow is (:data:`_SHADE_DARK`), is a
#: subject part, not a hole: a black vinyl record's grooves, a dark textured face crossing the
#: screen's level. The screen seen through a hole is at the plate's level nearly all over and as
#: smooth as the screen round the subject, but for a rim or neck of the outline inside it; a
#: shadow cast into it may have strands across it; a noise-free screen's detail is its rounding
#: alone (a soft shadow's gradient 3.4 times it, 1.35 levels). Measured over the 161st-172nd,
#: 175th and 177th held-out sets' 140 products (706 judgements of wide regions, alone or as a
#: whole): holes 0-1.52 of the screen's detail, or 1.92-3.72 with 0.83-0.90 of them at the
#: level, but one region 0.43 opaque at 0.51 (a spool's, made opaque: 9.0 -> 9.4 SAD); subject
#: parts taken for holes 2.7-7.9 at 0.32-0.57: a record's grooves, 3.7 levels (57.9 -> 0.4),
#: a dark badge's and coins' faces (15.4 -> 14.8, 7.8 -> 6.4); a sea urchin's spines and the
#: gaps between them, 0.73 opaque, 1.5 levels: left. The own benchmarks' neutral screens:
#: identical (without the shadow's exception, a white scene's soft shadow with strands across
#: it, 0.5 of it at the level and 0.48 darker, was made opaque: 4.9 -> 6.6 SAD); on white a
#: textured face crossing the level is darker there too, and stays a hole (a limit)
_PART_DETAIL = 2.0
_PART_LEVELS = 2.0
_PART_LEVEL = 0.75
#: share of such a wide enclosed region (:data:`_FACE`) within the noise of the lit screen
#: from which it is a hole whatever the plate across it: a product's contact shadow beneath its
#: bottom rail drags the plate across the gaps above the rail down, and gaps at the lit screen's
#: level had no pixel at the plate's and were kept as light grey parts (measured over the
#: 120th-148th held-out sets' 275 products: 8 better, a toy train's wheel gaps 23.9 -> 7.3 SAD,
#: a product's 10.4 -> 2.8, a silver mask's 26.4 -> 17.9, none worse; a quarter or three
#: quarters in place of the half: the same)
_LIT_MOST = 0.5
#: share of the frame from which a piece of an enclosed region parted at a neck
#: (:func:`lib_tkg.keying.outline.outlined`) is judged hole or part alone: a mug's face that a
#: gap in its outline joins to the hole of its handle
#: (measured over the 120th-148th held-out sets' 275 products: white SAD 1228.9 -> 1142.4,
#: black 1104.5 -> 998.9, none worse by 1; 0.2 % and 1 %: the same but for a few products
#: either way, and a cradle's ball blur kept opaque at 0.2 %)
_PIECE = 0.005
#: share of an enclosed region's pixels opaque by the first matte (as far from the plate as
#: :data:`lib_tkg.keying.matte.NEUTRAL_CONTRAST`) from which it is an opaque face all over:
#: a shaded mug's or a patterned bag's paler parts are its shading or pattern, not a glass;
#: a uniform tinted glass has none so far (measured: the 275 products' white SAD 1142.4 ->
#: 1003.8, two worse by 2.1 and 5.4, tinted glass and a watch's crystal, four by 0.6-1.0; 0.3
#: and 0.5: 1025.8 and 1103.5; the untouched 149th set's white mean alpha error 0.053 -> 0.032)
_OPAQUE_SHARE = 0.2
#: Long side (px) of the analysed image above which a chroma screen's candidates are classified
#: at half that resolution (all but the last pass: about 20 % less time, the same plate)
CLASSIFY_RES = 256
#: Long side (blocks) of the grid on which the candidates are classified (the screen's smooth
#: fields, the rules for bright bumps, dark ramps, veils and enclosed regions, the first plate)
#: when the classified copy is larger than the plate's grid (else one block per pixel): half
#: the plate's; the same classes, about 3 % less time per 768 px image
CLASSIFY_GRID = 64


@dataclass
class Screen:
    """What :func:`analyse` found out about the screen (arrays on the coarse plate grid).

    ``plate``: (sh, sw, 3) float32 screen colour (0..255) per block, covering the whole frame.
    ``weight``: (sh, sw) float32 share of each block that was clean background (0..1).
    ``d_plate``: (sh, sw) colour difference of the plate (chroma screens; ones if neutral).
    ``d_key``: the screen's colour difference level; ``m``: the (2, 3) chroma basis.
    ``background``: bool mask of clean background at the analysed resolution.
    ``coolest``: the coolest hue cast the screen shows (``q / p`` on the chroma basis ``m``, its
    0.5th percentile over that background, with its drift, mottling and noise; chroma screens).
    ``solid``: subject parts near a neutral screen's level that its outline encloses (bool at
    the analysed resolution, :mod:`lib_tkg.keying.outline`), made opaque; ``None``: none.
    """

    key_rgb: tuple[int, int, int]
    neutral: bool
    m: np.ndarray
    d_key: float
    plate: np.ndarray
    weight: np.ndarray
    d_plate: np.ndarray
    background: np.ndarray
    coolest: float = 0.0
    solid: np.ndarray | None = None


def grid_size(h: int, w: int, res: int = PLATE_RES) -> tuple[int, int]:
    """``(sw, sh)`` of the coarse plate grid for an (h, w) frame: ``res`` blocks on its long
    side (fewer on a smaller frame: one per pixel)."""
    scale = min(1.0, res / max(h, w))
    return max(1, round(w * scale)), max(1, round(h * scale))


def analyse(
    img: np.ndarray,
    key_rgb: tuple[int, int, int],
    neutral: bool,
    img_h: np.ndarray | None = None,
) -> Screen | None:
    """Find the screen in ``img`` (float32 (h, w, 3), the reduced image); ``None`` if no pixel
    of it is there. ``img_h``: ``img``'s :func:`half`, if already made."""
    if neutral:
        return _analyse_neutral(img, key_rgb)
    return _analyse_chroma(img, key_rgb, img_q=img_h)


def _analyse_chroma(
    img_h: np.ndarray,
    kc: tuple[int, int, int],
    coarse_first: bool = True,
    img_q: np.ndarray | None = None,
    edges: Future[np.ndarray] | None = None,
) -> Screen | None:
    hh, hw = img_h.shape[:2]
    if coarse_first and max(hh, hw) > CLASSIFY_RES:
        # classify at half this resolution (``img_q``, if already made); only the last pass
        # (the plate's level) runs here, on the background found there, widened by 2 px: its
        # rim left out there is 2 px there (4 px here), against 2 px when classified here; its
        # colour difference here is made on the other core meanwhile, and the sharp edges
        # there are found here and reduced (a shadow's 5 px penumbra in a 768 px image is as
        # sharp as a veil's rim at a quarter of its resolution, not at half)
        img_c = half(img_h)[0] if img_q is None else img_q
        size_c = (img_c.shape[1], img_c.shape[0])
        edges = in_background(lambda: _any_in_block(sharp_edges(luminance(img_h)), size_c))
        d_made = in_background(lambda: matte.diff(img_h, matte.basis(kc)))
        coarse = _analyse_chroma(img_c, kc, False, edges=edges)
        if coarse is None:
            return None
        bg = cv2.dilate(enlarge_mask(coarse.background.view(np.uint8), (hw, hh)), KERNEL5)
        bg = bg.view(bool)
        return _level_pass(img_h, kc, coarse.m, coarse.d_key, bg, coarse.plate, d_made.result())
    # the sharp luminance edges (for dark veils) are found on the other core meanwhile, if not
    # given (``edges``: found at twice this resolution)
    lum = luminance(img_h)
    if edges is None:
        edges = in_background(lambda: sharp_edges(lum))
    m = matte.basis(kc)
    key_f = np.array(kc, np.float32)
    d_key = float(matte.diff(key_f[None, None], m)[0, 0])
    one = np.float32(1.0)
    pq_h = matte.project(img_h, m)
    d_h = matte.diff_planes(pq_h, m)
    mx = cv2.max(cv2.max(img_h[..., 0], img_h[..., 1]), img_h[..., 2])
    # classification uses a lightly denoised copy (3x3 box): |q| of noisy dark pixels is biased
    # upwards, which would reject deep shadows
    if min(hh, hw) >= 32:
        pq_b = box(pq_h, 1)
        mx = box(mx, 1)
    else:
        pq_b = pq_h
    p_b = pq_b[..., 0]
    q_b = pq_b[..., 1]
    qa_b = np.abs(q_b)
    d_b = matte.diff_planes(pq_b, m)
    # candidate background: the key's hue (within ~35 degrees), not too dark
    hue_ok = (qa_b <= np.float32(0.7) * p_b) & (d_b >= np.float32(0.1 * d_key))
    if not hue_ok.any():
        return None
    # (a wider hue range, for the screen's smooth drift towards cyan or yellow in places)
    drift_ok = (qa_b <= np.float32(DRIFT_SLOPE) * p_b) & (d_b >= np.float32(0.1 * d_key))
    # the screen's own hue cast: a key-coloured subject part of another shade is not screen
    cast = q_b / np.maximum(p_b, one)
    cast_s = cast[::3, ::3][hue_ok[::3, ::3]]
    med_cast = float(matte.median(cast_s)) if cast_s.size else 0
    sig_cast = matte.sigma_of(cast, hue_ok)
    hue_ok &= np.abs(cast - np.float32(med_cast)) <= np.float32(max(0.14, 4.0 * sig_cast))
    if not hue_ok.any():
        return None

    small = grid_size(hh, hw, CLASSIFY_GRID if max(hh, hw) > PLATE_RES else PLATE_RES)
    # 1. Chromaticity of the screen: the saturation ratio d / max(RGB), fitted robustly as a
    # smooth field over key-hued blocks.
    hk = hue_ok.astype(np.float32)
    s_w = cv2.resize(hk, small, interpolation=cv2.INTER_AREA)
    s_d = cv2.resize(d_b * hk, small, interpolation=cv2.INTER_AREA)
    s_mx = cv2.resize(mx * hk, small, interpolation=cv2.INTER_AREA)
    s_sr = s_d / np.maximum(s_mx, one)
    # the screen's own level: a given key colour (a preset such as pure green) may be far more
    # saturated or brighter than the actual screen; measured on the frame's outer ring, where
    # the screen is, when enough of it is key-hued, its chromaticity without the blocks far
    # more saturated than the ring's median: a large key-coloured subject part (a vivid green
    # shirt running off the frame) would otherwise set it, and the screen would be keyed as
    # subject and the part as screen (the upper quartile: veils and smoke lower the rest)
    full = s_w >= 0.9
    ring = screen_ring(full)
    level = full if ring is None else ring
    if level.sum() >= 4:
        d_key = min(d_key, float(np.quantile(s_d[level] / s_w[level], 0.75)))
        sr_lv = s_sr[level]
        sr_lv = sr_lv[sr_lv <= np.float32(1.25) * matte.median(sr_lv)]
        sr_key = float(np.quantile(sr_lv, 0.75))
    else:
        sr_key = d_key / max(float(key_f.max()), 1.0)
    # a region far more saturated than the screen is a key-coloured subject part, and must not
    # make a field of its own where the subject cuts it off from the screen
    ok_sr = full & (s_sr >= np.float32(0.7 * sr_key)) & (s_sr <= np.float32(1.25 * sr_key))
    tiny = np.float32(_ABS_DIP * d_key) / np.maximum(s_mx / np.maximum(s_w, 1e-3), one)
    ok_sr = quadratic_inliers(s_sr, ok_sr, tiny)
    if max(small) > 64:  # the field is smooth too: fit it on every other block
        sub = fit_field(
            s_sr[::2, ::2], ok_sr[::2, ::2], _FIELD_SIGMA * max(small) / 2, tiny[::2, ::2]
        )
        sr_ref_s = cv2.resize(sub, small, interpolation=cv2.INTER_LINEAR)
    else:
        sr_ref_s = fit_field(s_sr, ok_sr, _FIELD_SIGMA * max(small), tiny)
    sr_ref = cv2.resize(np.maximum(sr_ref_s, 1e-3), (hw, hh), interpolation=cv2.INTER_LINEAR)
    expect = np.maximum(mx, one) * sr_ref  # colour difference of screen this bright
    rel = d_b / expect
    # (its noise from the pixels near the screen's level: a key-coloured part far above it
    # would widen what is let in, and enter the plate)
    sig_sr = matte.sigma_of(rel, hue_ok & (rel >= np.float32(0.8)) & (rel <= np.float32(1.25)))
    # missing colour difference allowed: relative (noise), and a small absolute amount, which
    # matters in dark regions, where a little flare or hue drift changes the ratio a lot
    allow = np.maximum(expect * np.float32(max(0.05, 3.0 * sig_sr)), np.float32(_ABS_DIP * d_key))
    # ... and in excess: a more saturated pixel than the screen is a key-coloured subject
    bg1 = hue_ok & (d_b >= expect - allow) & (d_b <= expect + 2.0 * allow)
    if min(hh, hw) >= 32:  # drop the rim (mixed by the box filter) of excluded regions
        excl = cv2.morphologyEx((~bg1).view(np.uint8), cv2.MORPH_OPEN, KERNEL3)
        bg1 &= cv2.dilate(excl, KERNEL3) == 0
    bg1 = no_veils(bg1, hue_ok, rel, mx, sig_sr)
    if not bg1.any():
        bg1 = hue_ok
    bg1 = screen_patches(bg1, hue_ok, rel, lum, d_b)
    bg1 = screen_drift(bg1, drift_ok, cast, lum, img_h)
    bg1 = screen_glows(bg1, hue_ok, d_b, mx, lum, small)
    # (dark sharp-rimmed regions first: left in, a large one bends the brightness surface of
    # the bright-bump test, which then takes the screen around it for a bump)
    sharp = edges.result()
    bg1 = no_cut_off_parts(sharp, bg1, d_h, small, np.float32(d_key), img_h, key_f)
    bg1 = no_plateaus(sharp, bg1, lum, d_b / np.maximum(mx, one), img_h)
    bg1 = no_textured_shade(bg1, lum)
    bg1 = no_other_casts(bg1, cast)
    bg1 = no_bright_bumps(bg1, d_b, small)
    bg1 = no_dark_ramps(bg1, d_h, small, np.float32(d_key))
    bg1, outer_plate = enclosed_screen(img_h, bg1, small, key_f, lum)

    # 2. Clean plate. Pass 1 from those pixels; pass 2 keeps only pixels at pass 1's level.
    plate1 = outer_plate[0] if outer_plate else block_plate(img_h, bg1, small, key_f)[0]
    return _level_pass(img_h, kc, m, d_key, bg1, plate1, d_h)


def _any_in_block(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A bool ``mask`` reduced to ``size`` (w, h): true where any pixel it covers is."""
    return cv2.resize(mask.view(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_AREA) > 0


def _level_pass(
    img: np.ndarray,
    kc: tuple[int, int, int],
    m: np.ndarray,
    d_key: float,
    bg1: np.ndarray,
    plate1: np.ndarray,
    d: np.ndarray | None = None,
) -> Screen:
    """The chroma screen's last pass: the plate from the candidates ``bg1`` at the level of the
    pass-1 plate grid ``plate1`` (neither darker nor more saturated, beyond the noise), less
    the subject's mixed rim (:func:`~lib_tkg.keying.candidates.no_mixed_rim`).

    ``d``: the colour difference of ``img``, if already computed. When no candidate passes,
    the plate is made from all of ``bg1``.
    """
    h, w = img.shape[:2]
    small = grid_size(h, w)
    key_f = np.array(kc, np.float32)
    one = np.float32(1.0)
    d_floor = np.float32(0.1 * d_key)
    if d is None:
        d = matte.diff(img, m)
    d_plate1 = np.maximum(matte.diff(plate1, m), d_floor)
    t = d / cv2.resize(d_plate1, (w, h), interpolation=cv2.INTER_LINEAR)
    sig = matte.screen_sigma(t, bg1)
    lim = np.float32(max(0.06, 4.0 * sig))
    bg2 = bg1 & (t >= one - lim) & (t <= one + 2 * lim)
    if not bg2.any():
        bg2 = bg1
    bg2 = no_mixed_rim(bg2, img, cv2.resize(plate1, (w, h), interpolation=cv2.INTER_LINEAR))
    plate_s, w_s = block_plate(img, bg2, small, key_f)
    d_plate_s = np.maximum(matte.diff(plate_s, m), d_floor)
    casts = matte.cast_rows(matte.rows_where(img, bg2), m)
    coolest = float(np.percentile(casts, 0.5)) if casts.size else 0.0
    return Screen(kc, False, m, d_key, plate_s, w_s, d_plate_s, bg2, coolest)


def lit_plate(plate_s: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """The plate grid ``plate_s`` ((sh, sw, 3) levels) without its soft shadows: the blocks
    whose luminance dips below a robust quadratic surface through the blocks of ``weight`` 0.5
    or more are dropped and refilled (push-pull) from the lit screen around them; ``None``
    where fewer than 24 blocks have that weight."""
    lum = plate_s.mean(axis=2)
    val = lum / max(float(lum.max()), 1.0)
    ok = weight >= 0.5
    if ok.sum() < 24:
        return None
    wgt = quadratic_inliers(val, ok, np.full_like(val, 0.01)).astype(np.float32)
    return push_pull((plate_s * wgt[..., None]).astype(np.float32), wgt, plate_s.mean((0, 1)), 0.25)


def _darkish(sums: np.ndarray) -> np.ndarray:
    """Which regions are darker than the plate as a shadow is ((n,) bool, from their sums,
    :func:`_region_sums`): :data:`_SHADE_DARK` of their pixels darker by over the tolerance and
    twice as many as are brighter (False where the lit plate is not known: NaN rows)."""
    darker = sums[7]
    return (darker >= _SHADE_DARK * np.maximum(sums[0], 1)) & (darker >= 2 * sums[6])


def _holes(sums: np.ndarray, frame: int, screen_detail: float) -> np.ndarray:
    """Which regions are holes in the subject on a neutral screen ((n,) bool), from their sums
    (:func:`_region_sums`): :data:`_HOLE_LEVEL` of their pixels at the plate's level; where
    the lit plate is known, a wide one (:data:`_FACE` of the ``frame``'s pixels) must have
    :data:`_WIDE_LEVEL` of them there, and :data:`_WIDE_LIT` at the lit plate's level unless
    far under it (a shadow-like one, :data:`_SHADE_DARK`, :data:`_HOLE_LEVEL` for both), and
    one :data:`_LIT_MOST` at its level is a hole; a textured one (:data:`_PART_DETAIL`,
    :data:`_PART_LEVELS`, :data:`_PART_LEVEL`; ``screen_detail``: the screen's mean detail,
    levels, of which the sums' detail is a multiple) is not."""
    count, level, at_lit, from_lit = sums[0], sums[1], sums[2], sums[3]
    detailed = sums[8]
    count = np.maximum(count, 1)
    hole = level >= _HOLE_LEVEL * count
    if np.isnan(from_lit).any():  # (no lit plate)
        return hole
    # (a wide one, unless shadow-like, with more of it at the level)
    darkish = _darkish(sums)
    shade = darkish & (detailed <= _SHADE_DETAIL * count)
    wide = count >= _FACE * frame
    hole &= ~wide | shade | (level >= _WIDE_LEVEL * count)
    # (a wide one at the lit screen's level too: the plate across a light grey face whose
    # outline its contact shadow breaks is dragged down to the face's level by that shadow)
    lit_level = at_lit >= np.where(shade, _HOLE_LEVEL, _WIDE_LIT) * count
    # (a region far under the lit screen is a shadow's core: a hole still)
    near_lit = from_lit <= SOLID_NEAR * count
    hole &= lit_level | ~wide | ~near_lit
    # (and one mostly at the lit screen's level is a hole, where a shadow beside it drags
    # the plate across it down)
    hole |= wide & (at_lit >= _LIT_MOST * count)
    # (a wide one far more detailed than the screen, and off its level in places, is a
    # textured face crossing it, unless darker there, as a shadow with strands across it)
    least = max(_PART_DETAIL, _PART_LEVELS / screen_detail)
    textured = (detailed >= least * count) & (level < _PART_LEVEL * count) & ~darkish
    return hole & ~(wide & textured)


def _region_sums(
    lab: np.ndarray,
    count: np.ndarray,
    dist: np.ndarray,
    lit: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    tol: np.float32,
) -> np.ndarray:
    """(9, n) float64 sums over each of the ``n`` regions of the flat labels ``lab`` (``count``:
    their pixels, (n,)): pixels, pixels within ``tol`` of the plate (``dist``: each pixel's
    distance from it, flat, levels) and of the lit plate, distance from the lit plate and from
    the plate, pixels opaque by the first matte (:data:`matte.NEUTRAL_CONTRAST` or farther),
    pixels brighter and darker than the plate by over ``tol``, and detail. ``lit``: (distance
    from the lit plate, levels; luminance less the plate's, levels; detail as a multiple of the
    screen's), flat each, where the lit plate is known (:func:`_holes` reads those rows only
    then), else ``None``: NaN. A region's sums are its pieces' summed
    (:func:`_analyse_neutral`)."""
    n = count.size
    sums = np.full((9, n), np.nan)
    sums[0] = count
    sums[1] = np.bincount(lab, weights=dist <= tol, minlength=n)
    sums[4] = np.bincount(lab, weights=dist, minlength=n)
    sums[5] = np.bincount(lab, weights=dist >= matte.NEUTRAL_CONTRAST, minlength=n)
    if lit is not None:
        dist_lit, lum_d, detailed = lit
        sums[2] = np.bincount(lab, weights=dist_lit <= tol, minlength=n)
        sums[3] = np.bincount(lab, weights=dist_lit, minlength=n)
        sums[6] = np.bincount(lab, weights=lum_d > tol, minlength=n)
        sums[7] = np.bincount(lab, weights=lum_d < -tol, minlength=n)
        sums[8] = np.bincount(lab, weights=detailed, minlength=n)
    return sums


def _analyse_neutral(img: np.ndarray, kc: tuple[int, int, int]) -> Screen | None:
    h, w = img.shape[:2]
    lum_k = float(np.mean(kc))
    key_f = np.array(kc, np.float32)
    lum = luminance(img)
    grey = cv2.merge([lum, lum, lum])
    chroma_px = matte.distance(img, grey)
    if min(h, w) >= 32:
        chroma_px = box(chroma_px, 1)
    # near-neutral pixels at the screen's level, or darker by a soft shadow (to 30 %)
    lo = 0.3 * lum_k if lum_k > 96 else 0.0
    cand = (chroma_px <= np.float32(18.0)) & (lum >= np.float32(lo))
    cand &= lum <= np.float32(min(255.0, lum_k + 48.0 + 0.25 * lum_k))
    if not cand.any():
        return None
    # the subject's outline separates the screen from subject parts near its level, and
    # encloses holes in the subject (:mod:`lib_tkg.keying.outline`)
    # (on a black screen in hue as well)
    kind = matte.neutral_kind(kc)
    black = kind == "black"
    bg1, labels, n, whole, wide_only = outlined(lum, cand, img if black else None)
    if not bg1.any():
        bg1 = cand
    small = grid_size(h, w)
    plate_s, w_s, plate = plate_over(img, bg1, small, key_f)
    dist = matte.distance(img, plate)
    sig = matte.sigma_of(dist, bg1)
    # pass 2: enclosed regions at the plate's level are screen too (holes in the subject); where
    # part of one is, so are its pixels no brighter than the lit screen (a soft shadow cast into
    # the hole, and the plate across the hole is dragged down by the shadow outside); the
    # others near its level are subject parts
    tol = np.float32(max(6.0, 4.0 * sig))
    near = dist <= tol
    bg2 = bg1 & near
    lab = labels.reshape(-1)
    count = np.bincount(lab, minlength=n)
    sizes = np.bincount(whole, weights=count, minlength=n)
    lit_s = lit_plate(plate_s, w_s) if (sizes[1:] >= _FACE * h * w).any() else None
    by_lit = None
    # (the screen's mean detail, levels: what tells a textured region or face)
    fine = detail(lum, _SHADE_SIGMA, (labels > 0) | bg1)
    screen_detail = max(float(fine[bg1].mean()), 1e-3)
    if lit_s is not None:  # (and what tells a shadow-like region, which only a wide one needs)
        lit_full = cv2.resize(lit_s, (w, h), interpolation=cv2.INTER_LINEAR)
        fine /= screen_detail
        lum_d = lum - luminance(plate)
        by_lit = (matte.distance(img, lit_full).reshape(-1), lum_d.reshape(-1), fine.reshape(-1))
    # (a piece parted from its region at a neck is judged alone where it is a face of its own,
    # else as its whole region)
    sums = _region_sums(lab, count, dist.reshape(-1), by_lit, tol)
    hole = _holes(sums, h * w, screen_detail)
    split = (whole != np.arange(n)).any()
    if split:
        sums_whole = np.stack([np.bincount(whole, weights=row, minlength=n) for row in sums])
        own = sums[0] >= _PIECE * h * w
        hole = np.where(own, hole, _holes(sums_whole, h * w, screen_detail)[whole])
    # (a region only wide gaps in the outline part from the screen is a hole where it is
    # shadow-like or at the plate's level by the wide regions' share, whatever the lit plate:
    # what they cut off of a contact shadow; such a region kept is a pale face off the level)
    at_level = sums[1] >= _WIDE_LEVEL * np.maximum(sums[0], 1)
    hole |= wide_only & (_darkish(sums) | at_level)
    hole[0] = False
    # (a part's distance from the plate over its whole region, less its holes; or a fifth of
    # it opaque by the first matte)
    kept = sums[[0, 4]] * ~hole
    if split:
        kept = np.stack([np.bincount(whole, weights=row, minlength=n) for row in kept])[:, whole]
    near_part = SOLID_NEAR_WHITE if kind == "white" else SOLID_NEAR
    part = ~hole & (kept[1] <= near_part * kept[0])
    part |= ~hole & (sums[5] >= _OPAQUE_SHARE * np.maximum(sums[0], 1))
    part[0] = False
    solid = solid_parts(labels, part, bg1)
    # (the screen's own specks, which the outline, found this finely, parts from it)
    speck = specks(labels, bg1, cand)
    # (and the insides of textured faces the outline finds in pieces, holes among them)
    clear = bg1 | speck | hole[labels]
    faces = textured_faces(lum, dist, clear, (_SHADE_SIGMA, screen_detail), _FACE * h * w)
    if faces is not None:
        solid = faces if solid is None else solid | faces
    if hole.any():
        lit = np.float32(np.quantile(lum[bg1], 0.99)) + tol
        bg2 |= hole[labels] & (lum <= lit)
    bg2 |= speck
    if bg2.any():
        plate_s, w_s = block_plate(img, bg2, small, key_f)
    else:
        bg2 = bg1
    ones = np.ones(plate_s.shape[:2], np.float32)
    return Screen(kc, True, np.zeros((2, 3), np.float32), 1.0, plate_s, w_s, ones, bg2, solid=solid)
