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
veils, glows and motion tails move the brightness). Their colours, averaged per block
(normalised convolution) and filled across the subject with a push-pull pyramid, give the plate.
Next to the subject, candidates much darker than the screen farther out are left out: a dark
subject's blurred edge has the screen's chromaticity, but it is subject, not a shadow; so is a
region darker than the screen around it and cut off from it by a sharp edge (a dark veil), or
enclosed by such an edge and not of the screen's colour (a fill inside a thin outline), or far
darker or brighter than the screen with a mostly sharp rim (a dark part of its hue beside its
own soft shadow, which breaks that edge; a bright hood of its hue under hair), or darker than
the screen and far more finely textured than it (dark hair or leaves of its hue). A second
pass keeps only candidates at the first plate's level (neither darker, so thin dark details such
as hair don't darken it, nor brighter or more saturated, so key-coloured subject parts don't
enter it), while soft shadows are followed and key out.

Neutral screens (white, grey, black). Candidates are near-neutral pixels at the screen's
brightness or in its soft shadows, connected to the frame's border without crossing a sharp
luminance edge (a soft shadow has none, a grey subject part has); enclosed regions at the
plate's level (holes in the subject) are added in a second pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.fields import block_plate, fit, fit_field, quadratic_inliers
from lib_tkg.keying.resolution import box, enlarge_mask, half
from lib_tkg.keying.threads import in_background

PLATE_RES = 128  # long side of the low-resolution plate grid
_FIELD_SIGMA = 0.08  # smoothness of the screen chromaticity field, fraction of the long side
_ABS_DIP = 0.08  # colour difference (fraction of the key's) a dark screen region may lack
_BUMP = 0.4  # brightness above the screen's smooth light that makes a region subject
#: largest residual (log brightness) the screen's light fit keeps: a large bright part (a vivid
#: shirt of the screen's chromaticity across a fifth of the frame) widens a trim of 2.5 sigma
#: until it stays in, and the fit rises to it
_BUMP_TRIM = 0.35
_RAMP = 0.025  # reach of a blurred dark edge's ramp, fraction of the long side
_RAMP_DIP = 0.3  # darkening there (fraction of the colour difference) that is still screen
#: colour difference (share of the screen's around it) under which a region that a sharp
#: edge cuts off from the screen is a dark veil, not a shadow
_VEIL = 0.85
_VEIL_PX = 20  # smallest such region (px at the classifying resolution)
#: ... for such a region that reaches the frame's border (a dark green top running off the
#: frame): lower, as a screen darkens toward its border (a vignette) and is not to be taken
#: for a subject part where a stray sharp edge cuts a corner off
_VEIL_RIM = 0.6
#: ... for such a region that reaches two opposite sides (a floor behind a sharp horizon is
#: screen, a dark green top across the frame's bottom is not)
_VEIL_ACROSS = 0.4
#: brightness (share of the plate's) under which an enclosed region of the plate's colour is a
#: dark subject part, not the screen in the subject's shadow
_DEEPEST_SHADE = 0.45
#: brightness (share of the screen's on the frame's outer ring) under or over which a region of
#: the screen's colour whose rim is mostly sharp (:data:`_PLATEAU_EDGE` of it) is a dark or a
#: bright subject part, not a shadow or the screen's light (:func:`_no_plateaus`)
_PLATEAU_SHADE = 0.6
_PLATEAU_LIGHT = 1.4
_PLATEAU_EDGE = 0.45
#: ... or whose saturation ratio (colour difference over ``max(RGB)``, as the chromaticity field's)
#: is over this share of the screen's there and over it by :data:`_VIVID_SIGMAS` of its spread (a
#: mottled pale screen varies by half and more): a vivid garment of the screen's hue
_VIVID = 1.2
_VIVID_SIGMAS = 1.5
#: fine texture (times the screen's own on the frame's outer ring) over which a region of the
#: screen's colour darker than :data:`_TEXTURE_SHADE` of its brightness is a subject part (dark
#: hair or leaves of its hue), not a shadow; and the least screen texture assumed (levels)
_TEXTURE = 8.0
_TEXTURE_SHADE = 0.85
_TEXTURE_FLOOR = 0.3
#: ... and over this times the local gradient (at a 2.5 px scale): a single edge (a floor's
#: horizon) has about as much texture as gradient there, strands pointing every way far more
_TEXTURE_EDGE = 2.0
#: saturation ratio (``(max - min) / max``) over the plate's that makes a region's colour not
#: the screen's: shade keeps the ratio, a veil or tinted glass lowers it
_SAT_SLACK = 0.08
#: A border-connected candidate region besides the screen's largest is a subject part (a green
#: garment running off the frame, cut off from the screen by the subject) where its colour is
#: this many degrees from that screen's plate (or more saturated, :data:`_SAT_SLACK`) and it is
#: darker than :data:`_RIM_SHADE` of it: a region as bright may be the screen beside a veiled
#: part of it (a pale veil across the border makes the largest region paler)
_RIM_ANGLE = 8.0
#: ... and an enclosed region's (its plate is made from the screen right around it)
_ENCLOSED_ANGLE = 6.0
_RIM_SHADE = 0.9
#: degrees of hue (the chroma plane) by which a region's colour differs from the plate's where
#: it is not the screen, whatever the angle between their RGB vectors; and the chroma (share of
#: the mean level) under which a colour is too grey to have a hue
_HUE_SLACK = 20.0
_HUE_GREY = 0.15
_RING = 0.1  # width of the frame's outer ring where the screen's level is measured (share)
#: A region of the screen's hue left out of the background that reaches the frame's border is a
#: patch of the screen (:func:`_screen_patches`) where its chromaticity is at least this share of
#: the field's on average, and its brightness within this share of the screen's around it (half
#: that for a region that meets the subject)
_PATCH_MIN_REL = 0.5
_PATCH_LIGHT = 0.1
KERNEL3 = np.ones((3, 3), np.uint8)
KERNEL5 = np.ones((5, 5), np.uint8)
_KERNEL7 = np.ones((7, 7), np.uint8)
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
    """

    key_rgb: tuple[int, int, int]
    neutral: bool
    m: np.ndarray
    d_key: float
    plate: np.ndarray
    weight: np.ndarray
    d_plate: np.ndarray
    background: np.ndarray


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
) -> Screen | None:
    hh, hw = img_h.shape[:2]
    if coarse_first and max(hh, hw) > CLASSIFY_RES:
        # classify at half this resolution (``img_q``, if already made); only the last pass
        # (the plate's level) runs here, on the background found there, widened by 2 px: its
        # rim left out there is 2 px there (4 px here), against 2 px when classified here; its
        # colour difference here is made on the other core meanwhile
        d_made = in_background(lambda: matte.diff(img_h, matte.basis(kc)))
        coarse = _analyse_chroma(half(img_h)[0] if img_q is None else img_q, kc, False)
        if coarse is None:
            return None
        bg = cv2.dilate(enlarge_mask(coarse.background.view(np.uint8), (hw, hh)), KERNEL5)
        bg = bg.view(bool)
        return _level_pass(img_h, kc, coarse.m, coarse.d_key, bg, coarse.plate, d_made.result())
    # the sharp luminance edges (for dark veils) are found on the other core meanwhile
    lum = _luminance(img_h)
    edges = in_background(lambda: _sharp_edges(lum))
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
    ring = _screen_ring(full)
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
    if not bg1.any():
        bg1 = hue_ok
    bg1 = _screen_patches(bg1, hue_ok, rel, lum)
    # (dark sharp-rimmed regions first: left in, a large one bends the brightness surface of
    # the bright-bump test, which then takes the screen around it for a bump)
    sharp = edges.result()
    bg1 = _no_cut_off_parts(sharp, bg1, d_h, small, np.float32(d_key), img_h, key_f)
    bg1 = _no_plateaus(sharp, bg1, lum, d_b / np.maximum(mx, one))
    bg1 = _no_textured_shade(bg1, lum)
    bg1 = _no_bright_bumps(bg1, d_b, small)
    bg1 = _no_dark_ramps(bg1, d_h, small, np.float32(d_key))
    bg1, outer_plate = _enclosed_screen(img_h, bg1, small, key_f)

    # 2. Clean plate. Pass 1 from those pixels; pass 2 keeps only pixels at pass 1's level.
    plate1 = outer_plate[0] if outer_plate else block_plate(img_h, bg1, small, key_f)[0]
    return _level_pass(img_h, kc, m, d_key, bg1, plate1, d_h)


def _screen_patches(
    bg: np.ndarray, hue_ok: np.ndarray, rel: np.ndarray, lum: np.ndarray
) -> np.ndarray:
    """``bg`` (bool) with the screen's own uneven patches added: regions of the screen's hue
    (``hue_ok``, 2 px clear of other colours) left out of it that reach the frame's border, are
    at least :data:`_PATCH_MIN_REL` of the chromaticity the field expects on average (``rel``)
    and as bright as the screen around them on average (within :data:`_PATCH_LIGHT`; half that
    for a region that meets the subject).

    A paler, duller or differently hued patch of the screen (SD-style mottling, a corner drifting
    yellower, a dye or lighting patch) falls outside the smooth chromaticity field, and would key
    as a faint veil, also where it meets the subject. Smoke or a veil floating in from the
    border moves the screen's brightness towards its own (white smoke brightens it by 20 % and
    more, a dark veil darkens it) where a patch of the screen keeps it, and a glow's halo or a
    motion blur's tail brightens or darkens it towards the subject it leaves. ``lum`` is the
    image's luminance at ``bg``'s resolution (:func:`_luminance`, levels).
    """
    # (other colours: the subject, without specks of noise, and a 2 px rim around it)
    others = cv2.dilate(
        cv2.morphologyEx((~hue_ok).view(np.uint8), cv2.MORPH_OPEN, KERNEL3), KERNEL5
    )
    other = cv2.bitwise_and((~bg).view(np.uint8), others ^ 1)
    n, lab = cv2.connectedComponents(other, connectivity=8)
    if n <= 1:
        return bg
    at = other.view(bool)
    lb = lab[at]
    count = np.maximum(np.bincount(lb, minlength=n), 1)
    level = np.bincount(lb, weights=np.clip(rel[at], 0, 2), minlength=n) / count
    cand = border_sides(lab, n).any(axis=0) & (level >= _PATCH_MIN_REL)
    cand[0] = False
    if not cand.any():
        return bg
    # brightness inside against the screen's in a ring around (3 px at this resolution)
    near = cv2.dilate(np.where(cand[lab], lab, 0).astype(np.float32), _KERNEL7)
    ring = bg & (near > 0)
    lr = near[ring].astype(np.int64)
    n_ring = np.bincount(lr, minlength=n)
    l_ring = np.bincount(lr, weights=lum[ring], minlength=n) / np.maximum(n_ring, 1)
    l_in = np.bincount(lb, weights=lum[at], minlength=n) / count
    # (within half that for a region that meets the subject, 3 px from it: a glow's halo around
    # it, a motion blur's tail behind it brighten or darken the screen a little more)
    meets = np.bincount(lab[at & (cv2.dilate(others, _KERNEL7) > 0)], minlength=n) > 0
    light = np.where(meets, 0.5 * _PATCH_LIGHT, _PATCH_LIGHT)
    cand &= (n_ring > 0) & (np.abs(l_in - l_ring) <= light * l_ring)
    return bg | cand[lab] if cand.any() else bg


def _outer_ring(shape: tuple[int, int]) -> np.ndarray:
    """Bool mask of the blocks of a grid of ``shape`` within :data:`_RING` of its short side
    from its edge (at least one block)."""
    k = max(1, round(_RING * min(shape)))
    ring = np.ones(shape, bool)
    ring[k:-k, k:-k] = False
    return ring


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
    pass-1 plate grid ``plate1`` (neither darker nor more saturated, beyond the noise).

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
    sig = matte.sigma_of(t, bg1)
    lim = np.float32(max(0.06, 4.0 * sig))
    bg2 = bg1 & (t >= one - lim) & (t <= one + 2 * lim)
    if not bg2.any():
        bg2 = bg1
    plate_s, w_s = block_plate(img, bg2, small, key_f)
    d_plate_s = np.maximum(matte.diff(plate_s, m), d_floor)
    return Screen(kc, False, m, d_key, plate_s, w_s, d_plate_s, bg2)


def _no_bright_bumps(bg: np.ndarray, level: np.ndarray, small: tuple[int, int]) -> np.ndarray:
    """Drop blocks of ``bg`` far brighter (``level``: colour difference) than a robust
    quadratic surface through the screen's blocks.

    Screen light varies smoothly (gradients, vignettes: a quadratic, fitted in log space with
    both tails trimmed, so shadows do not pull it down), and the chromaticity test cannot see
    brightness: a subject part of the screen's hue and saturation but :data:`_BUMP` brighter,
    touching the screen, would otherwise enter the plate.
    """
    wgt = cv2.resize(bg.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    lvl = cv2.resize(level * bg, small, interpolation=cv2.INTER_AREA)
    full = wgt >= 0.9
    if full.sum() < 24:
        return bg
    y = np.log(np.maximum(lvl / np.maximum(wgt, 1e-3), 1.0)).astype(np.float64)
    sh, sw = y.shape
    # the surface is smooth: fitted on at most about 1500 blocks, tested on all
    at = np.flatnonzero(full)
    at = at[:: max(1, at.size // 1500)]
    u, v = (at % sw + 0.5) / sw * 2 - 1, (at // sw + 0.5) / sh * 2 - 1
    b_fit = np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], -1)
    y_fit = y.reshape(-1)[at]
    inl = np.ones(y_fit.size, bool)
    for _ in range(5):
        r, coef = fit(b_fit, y_fit, inl)
        sig = float(1.4826 * matte.median(np.abs(r[inl])))
        new = np.abs(r) <= max(0.05, min(2.5 * sig, _BUMP_TRIM))
        if new.sum() < 24 or np.array_equal(new, inl):
            break
        inl = new
    u, v = (
        np.linspace(-1 + 1 / sw, 1 - 1 / sw, sw),
        np.linspace(-1 + 1 / sh, 1 - 1 / sh, sh)[:, None],
    )
    c0, cu, cv, cuu, cuv, cvv = coef
    surface = c0 + cu * u + cv * v + cuu * u * u + cuv * u * v + cvv * v * v
    bump = full & (y - surface > np.log(1.0 + _BUMP))
    if not bump.any():
        return bg
    h, w = bg.shape
    up = enlarge_mask(bump.view(np.uint8), (w, h))
    return bg & (cv2.dilate(up, KERNEL3) == 0)


def _no_dark_ramps(
    bg: np.ndarray, d: np.ndarray, small: tuple[int, int], d_key: np.float32
) -> np.ndarray:
    """Drop candidates next to the subject that are much darker than the screen farther out.

    A dark subject's blurred edge (motion blur, defocus) keeps the screen's chromaticity and
    passes the candidate test like a soft shadow; in the plate it would darken the screen
    towards the subject and key the edge out. Within :data:`_RAMP` of the excluded region a
    candidate's colour difference ``d`` must be within :data:`_RAMP_DIP` of that of the screen
    farther out, filled in on the plate grid (a soft shadow changes little over that distance,
    a blurred edge a lot).
    """
    h, w = bg.shape
    r = max(2, round(_RAMP * max(h, w)))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1))
    near = cv2.dilate((~bg).view(np.uint8), kernel).view(bool) & bg
    far = bg & ~near
    if not near.any() or not far.any():
        return bg
    d_far, _w = block_plate(d, far, small, np.array([d_key], np.float32))
    d_far = np.maximum(d_far[..., 0], np.float32(0.1) * d_key)
    t = d / cv2.resize(d_far, (w, h), interpolation=cv2.INTER_LINEAR)
    return bg & ~(near & (t < np.float32(1.0 - _RAMP_DIP)))


def _no_cut_off_parts(
    edges: np.ndarray,
    bg: np.ndarray,
    d: np.ndarray,
    small: tuple[int, int],
    d_key: np.float32,
    img: np.ndarray,
    key_f: np.ndarray,
) -> np.ndarray:
    """Drop regions of ``bg`` cut off from the screen around them by a sharp luminance edge
    (``edges``, :func:`_sharp_edges`) that are darker than it, or that it encloses and that
    are not of its colour (``img``: the image, float32 levels; ``key_f``: the key colour).

    A dark veil (translucent dark fabric, tinted glass) over the screen, or a dark subject part
    of the screen's hue (a dark green top), keeps the screen's chromaticity as a shadow does,
    and the plate would follow it and key it out; unlike a soft shadow's, its rim is a sharp
    edge. The candidates are cut along those edges; in each border-connected candidate region
    (regions already enclosed by the subject are :func:`_enclosed_screen`'s) the largest piece
    whose mean colour difference ``d`` is at least :data:`_VEIL_RIM` of the screen's level
    (``d_key``) is the screen (a dark top across the frame's bottom may be larger than either
    half of the screen that the subject splits), and any other piece of at least
    :data:`_VEIL_PX` px whose mean colour difference is under :data:`_VEIL` of that screen's
    there (filled in on the plate grid), or under :data:`_VEIL_RIM` if it reaches the frame's
    border, is left out with its rim; one that reaches two opposite sides of the frame only
    under :data:`_VEIL_ACROSS` (a darker floor behind a sharp horizon stays screen).

    A fill inside a thin outline (a mascot's green body more saturated than the screen) joins
    the screen where the outline, reduced, is a darker mix of the screen; its colour difference
    is the screen's, and in the plate it would key out. So a piece that does not reach the
    frame's border is left out too where its mean colour is not the plate's made from the
    screen's pieces (:func:`plate_coloured`, 6 degrees).
    """
    cut = bg & (cv2.dilate(edges.view(np.uint8), KERNEL3) == 0)
    labels, sides, n = _rim_components(cut)
    rim = sides.any(0)
    lab = labels[cut]
    size = np.bincount(lab, minlength=n)
    size[0] = 0
    if np.count_nonzero(size >= _VEIL_PX) < 2:  # (no piece but the screen is large enough)
        return bg
    # each piece's candidate region (the cut is within it); its largest piece is the screen
    labels_bg, sides_bg, n_bg = _rim_components(bg)
    rim_bg = sides_bg.any(0)
    comp = np.zeros(n, np.int64)
    comp[lab] = labels_bg[cut]
    largest = np.zeros(n_bg, np.int64)
    # (a piece far darker than the screen's level is not it, however large: a dark green top
    # across the frame's bottom, larger than either half of the screen that the subject splits)
    dim = np.bincount(lab, d[cut], n) < np.float32(_VEIL_RIM) * d_key * size
    order = np.lexsort((size, ~dim))
    largest[comp[order]] = order  # (the last, the largest bright enough, of each region wins)
    screen = (largest[comp] == np.arange(n)) & rim_bg[comp]
    # (not a region reaching two opposite sides, a floor or a band of the screen, unless far
    # darker than the screen there)
    piece = ~screen & rim_bg[comp] & (size >= _VEIL_PX)
    piece[0] = screen[0] = False
    if not piece.any():
        return bg
    d_out, _w = block_plate(d, screen[labels], small, np.array([d_key], np.float32))
    h, w = bg.shape
    d_out = cv2.resize(
        np.maximum(d_out[..., 0], 0.1 * d_key), (w, h), interpolation=cv2.INTER_LINEAR
    )
    mean_t = np.bincount(lab, d[cut] / d_out[cut], n) / np.maximum(size, 1)
    limit = np.where(rim, np.float32(_VEIL_RIM), np.float32(_VEIL))
    veil = piece & (mean_t < np.where(_across(sides), np.float32(_VEIL_ACROSS), limit))
    fill = piece & ~veil & ~rim
    if fill.any():
        plate = _plate_over(img, screen[labels], small, key_f)[2]
        at = fill[labels]  # (their pixels alone: the sums of the others are not needed)
        veil |= fill & ~_plate_coloured_regions(img, plate, at, labels[at], n, _ENCLOSED_ANGLE)
    if not veil.any():
        return bg
    return bg & (cv2.dilate(veil[labels].view(np.uint8), KERNEL5) == 0)


def _no_plateaus(edges: np.ndarray, bg: np.ndarray, lum: np.ndarray, sat: np.ndarray) -> np.ndarray:
    """Drop regions of ``bg`` darker than :data:`_PLATEAU_SHADE` or brighter than
    :data:`_PLATEAU_LIGHT` times the screen's brightness, or more saturated than it
    (:data:`_VIVID`, :data:`_VIVID_SIGMAS`; both measured over ``bg`` on the frame's outer ring),
    whose rim lies on sharp luminance edges (``edges``, :func:`_sharp_edges`) for
    :data:`_PLATEAU_EDGE` of its length or more, and that do not reach two opposite sides of the
    frame (a darker floor behind a sharp horizon is screen).

    A dark, bright or vivid subject part of the screen's hue (a dark teal disc on a teal screen,
    a green hood on a darker green one, a vivid green shirt running off the frame's bottom)
    keeps its chromaticity as a shadow or the screen's light does, or comes close enough to it
    for the chromaticity field to bend to it; :func:`_no_cut_off_parts` leaves a dark one out
    only where sharp edges cut it off all round, and where it meets its own soft drop shadow, or
    hair crosses its rim, they do not; a bright one large enough bends :func:`_no_bright_bumps`'
    surface up to it. A soft shadow or a hot spot of light has no sharp rim, and is rarely that
    dark or bright. ``lum``: the image's luminance (:func:`_luminance`, levels); ``sat``: its
    saturation ratio.
    """
    ring = _screen_ring(bg)
    if ring is None:
        return bg
    level = float(matte.median(lum[ring]))
    sat_level = float(matte.median(sat[ring]))
    vivid_from = max(_VIVID * sat_level, sat_level + _VIVID_SIGMAS * matte.sigma_of(sat, ring))
    dark = bg & (lum < np.float32(_PLATEAU_SHADE * level))
    bright = bg & (lum > np.float32(_PLATEAU_LIGHT * level))
    vivid = bg & (sat > np.float32(vivid_from))
    drop = _sharp_rimmed(edges, dark) | _sharp_rimmed(edges, bright) | _sharp_rimmed(edges, vivid)
    return bg & (cv2.dilate(drop.view(np.uint8), KERNEL5) == 0)


def _no_textured_shade(bg: np.ndarray, lum: np.ndarray) -> np.ndarray:
    """Drop pixels of ``bg`` darker than :data:`_TEXTURE_SHADE` of the screen's brightness (the
    median over ``bg`` on the frame's outer ring) whose fine texture is over :data:`_TEXTURE`
    times the screen's there (at least :data:`_TEXTURE_FLOOR` levels), 2 px or more inside
    ``bg``, with a 1 px rim.

    Dark hair or leaves of the screen's hue (green hair on a green screen) keep its
    chromaticity as a shadow does, and at the classifying resolution their strands blur into
    a dark patch; the plate would follow them and key them out. A shadow or the screen's
    mottling is smooth at this scale; strands and leaves are not. Texture: the RMS over 5 x 5
    px of the luminance less its 3 x 3 mean (gradients leave none). Pixels next to the subject
    are not judged: an outline is texture there. ``lum``: the image's luminance
    (:func:`_luminance`, levels) at ``bg``'s resolution.
    """
    ring = _screen_ring(bg)
    if ring is None or min(bg.shape) < 8:
        return bg
    level = float(matte.median(lum[ring]))
    fine = lum - cv2.blur(lum, (3, 3))
    texture = cv2.sqrt(cv2.blur(fine * fine, (5, 5)))
    limit = _TEXTURE * max(float(matte.median(texture[ring])), _TEXTURE_FLOOR)
    inside = cv2.erode(bg.view(np.uint8), KERNEL5).view(bool)
    drop = inside & (texture > np.float32(limit)) & (lum < np.float32(_TEXTURE_SHADE * level))
    drop &= texture * texture > np.float32(_TEXTURE_EDGE**2) * _grad2(lum, 2.5)
    if not drop.any():
        return bg
    return bg & (cv2.dilate(drop.view(np.uint8), KERNEL3) == 0)


def _screen_ring(bg: np.ndarray) -> np.ndarray | None:
    """The pixels of ``bg`` (bool) on the frame's outer ring, where the screen's own levels are
    measured; ``None`` where fewer than 16 are there."""
    ring = _outer_ring(bg.shape) & bg
    return ring if np.count_nonzero(ring) >= 16 else None


def _sharp_rimmed(edges: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The regions of ``mask`` (bool) of :data:`_VEIL_PX` px or more, not reaching two opposite
    sides of the frame, whose rim (the pixels next to them) lies on ``edges`` (dilated by 1 px) for
    :data:`_PLATEAU_EDGE` of its length or more."""
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return np.zeros_like(mask)
    # the rim: the pixels next to a region, each counted for the region it touches
    rim = (cv2.dilate(mask.view(np.uint8), KERNEL3) > 0) & ~mask
    near = cv2.dilate(labels.astype(np.float32), KERNEL3)[rim].astype(np.int64)
    on_edge = cv2.dilate(edges.view(np.uint8), KERNEL3)[rim] > 0
    length = np.bincount(near, minlength=n)
    sharp = np.bincount(near, weights=on_edge, minlength=n)
    size = np.bincount(labels[mask], minlength=n)
    keep = (size >= _VEIL_PX) & (sharp >= _PLATEAU_EDGE * np.maximum(length, 1))
    keep &= ~_across(border_sides(labels, n))
    keep[0] = False
    return keep[labels]


def plate_coloured(
    colour: np.ndarray, plate: np.ndarray, degrees: float, shade: bool = True
) -> np.ndarray:
    """Whether regions have the plate's colour: their mean (or summed) colours ``colour`` and
    the plate's under them ``plate`` ((N, 3) each, summed over the same pixels) at most
    ``degrees`` apart as RGB vectors (chromaticity, whatever the brightness), the region no
    more than 10 % brighter and no darker than :data:`_DEEPEST_SHADE` of it (a darker one
    may be the screen in the subject's shadow; a far darker one is a dark part of the
    screen's hue), its saturation ratio at most :data:`_SAT_SLACK` over the plate's and its
    hue the plate's (:func:`same_hue`). ``shade=False``: whatever the brightness."""
    n_c, n_p = np.linalg.norm(colour, axis=-1), np.linalg.norm(plate, axis=-1)
    cos = (colour * plate).sum(-1) / np.maximum(n_c * n_p, 1e-6)
    same = cos >= np.cos(np.radians(degrees))
    same &= _saturation(colour) <= _saturation(plate) + np.float32(_SAT_SLACK)
    same &= same_hue(colour, plate)
    if shade:
        same &= (n_c <= 1.1 * n_p) & (n_c >= _DEEPEST_SHADE * n_p)
    return same


def same_hue(colour: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """Whether colours ``colour`` have the hue of ``plate`` ((..., 3) each, or sums of colours
    over the same pixels): within :data:`_HUE_SLACK` degrees in the chroma plane, or either too
    grey to tell (chroma under :data:`_HUE_GREY` of its mean level). Shade and a grey veil keep a
    colour's hue, which the angle between RGB vectors mixes with its saturation: a paler
    blue-green is 10 degrees from a yellow-green there, 40 in hue."""
    c_c = colour - colour.mean(-1, keepdims=True)
    c_p = plate - plate.mean(-1, keepdims=True)
    n_c, n_p = np.linalg.norm(c_c, axis=-1), np.linalg.norm(c_p, axis=-1)
    cos = (c_c * c_p).sum(-1) / np.maximum(n_c * n_p, 1e-6)
    grey = (n_c < _HUE_GREY * colour.mean(-1)) | (n_p < _HUE_GREY * plate.mean(-1))
    return grey | (cos >= np.cos(np.radians(_HUE_SLACK)))


def _saturation(rgb: np.ndarray) -> np.ndarray:
    """``(max - min) / max`` of colours (..., 3): 0 for grey, 1 for a pure colour, unchanged by
    shade."""
    hi, lo = rgb.max(-1), rgb.min(-1)
    return (hi - lo) / np.maximum(hi, 1e-6)


def _plate_over(
    img: np.ndarray, mask: np.ndarray, small: tuple[int, int], key_f: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plate made from ``img``'s pixels under ``mask`` (:func:`block_plate` on the grid
    ``small``): ``(plate grid, its weight, the plate at img's resolution)``."""
    plate_s, w_s = block_plate(img, mask, small, key_f)
    h, w = mask.shape
    return plate_s, w_s, cv2.resize(plate_s, (w, h), interpolation=cv2.INTER_LINEAR)


def _plate_coloured_regions(
    img: np.ndarray, plate: np.ndarray, mask: np.ndarray, lab: np.ndarray, n: int, degrees: float
) -> np.ndarray:
    """(n,) bool: which of ``n`` labelled regions have the plate's colour over their pixels
    (:func:`plate_coloured`); ``lab``: the labels of ``mask``'s pixels, in order."""
    return plate_coloured(*region_sums(img, plate, mask, lab, n), degrees)


def region_sums(
    img: np.ndarray, plate: np.ndarray, mask: np.ndarray, lab: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The summed colours of ``img`` and ``plate`` ((n, 3) each) over each of ``n`` labelled
    regions' pixels of ``mask`` (``lab``: their labels, in order); sums, as the colour tests
    compare ratios."""
    px_i, px_b = matte.rows_where(img, mask), matte.rows_where(plate, mask)
    sums_i = [np.bincount(lab, px_i[:, c], n) for c in range(3)]
    sums_b = [np.bincount(lab, px_b[:, c], n) for c in range(3)]
    return np.stack(sums_i, 1), np.stack(sums_b, 1)


def border_sides(labels: np.ndarray, n: int) -> np.ndarray:
    """(4, n) bool: whether each of the ``n`` labelled regions of ``labels`` reaches the
    frame's top, bottom, left and right side."""
    sides = np.zeros((4, n), bool)
    for k, line in enumerate((labels[0], labels[-1], labels[:, 0], labels[:, -1])):
        sides[k, line] = True
    return sides


def _rim_components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Connected components of ``mask`` (4-connected): ``(labels, sides, n)``, ``sides`` the
    frame's sides each reaches (:func:`border_sides`; never for label 0, outside ``mask``)."""
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=4)
    sides = border_sides(labels, n)
    sides[:, 0] = False
    return labels, sides, n


def _enclosed_screen(
    img: np.ndarray, bg: np.ndarray, small: tuple[int, int], key_f: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Keep regions of ``bg`` cut off from the border only where they look like the screen.

    A region enclosed by the subject is a hole showing the screen, or a key-coloured part of
    the subject. It stays background if its mean colour has the chromaticity of the plate
    made from the border-connected screen there (within 6 degrees, no more saturated:
    :func:`plate_coloured`) and is not brighter than it (by 10 %): a darker one is the screen
    in the subject's shadow, down to
    :data:`_DEEPEST_SHADE` of its brightness (darker is a dark subject part of its hue).
    Returns the kept mask and, when that is the border-connected screen alone, its plate
    (:func:`block_plate`).
    """
    labels, sides, n = _rim_components(bg)
    bg, rim = _without_foreign_rims(img, bg, labels, sides, small, key_f)
    if n <= 2 or not rim.any() or rim[1:].all():
        return bg, None
    outer = rim[labels]
    plate_s, w_s, plate = _plate_over(img, outer, small, key_f)
    inner = ~outer & bg
    ok = rim | _plate_coloured_regions(img, plate, inner, labels[inner], n, _ENCLOSED_ANGLE)
    ok[0] = False
    if np.array_equal(ok, rim):
        return outer, (plate_s, w_s)
    return ok[labels], None


def _without_foreign_rims(
    img: np.ndarray,
    bg: np.ndarray,
    labels: np.ndarray,
    sides: np.ndarray,
    small: tuple[int, int],
    key_f: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``bg`` without its border-connected regions (``labels``, ``sides``:
    :func:`_rim_components`) that are subject parts, and which regions still reach the border
    ((n,) bool).

    The largest border-connected region is the screen. Another one of at least
    :data:`_VEIL_PX` px that does not reach two opposite sides (a floor, the screen's other half
    beside a standing subject) is a subject part where its mean colour is not that screen's
    (:data:`_RIM_ANGLE` degrees from the plate made from it, or :data:`_SAT_SLACK` more
    saturated; brightness aside) and it is darker than :data:`_RIM_SHADE` of it.
    """
    n = sides.shape[1]
    rim = sides.any(0)
    ids = np.flatnonzero(rim)
    if ids.size < 2:
        return bg, rim
    size = np.bincount(labels.reshape(-1), minlength=n)
    main = ids[np.argmax(size[ids])]
    other = rim & (size >= _VEIL_PX) & ~_across(sides)
    other[main] = False
    if not other.any():
        return bg, rim
    plate = _plate_over(img, labels == main, small, key_f)[2]
    at = other[labels]
    sums_i, sums_b = region_sums(img, plate, at, labels[at], n)
    dark = np.linalg.norm(sums_i, axis=-1) < _RIM_SHADE * np.linalg.norm(sums_b, axis=-1)
    drop = other & dark & ~plate_coloured(sums_i, sums_b, _RIM_ANGLE, shade=False)
    if not drop.any():
        return bg, rim
    return bg & ~drop[labels], rim & ~drop


def _across(sides: np.ndarray) -> np.ndarray:
    """Which regions (``sides``: :func:`border_sides`) reach two opposite sides of the frame."""
    return (sides[0] & sides[1]) | (sides[2] & sides[3])


def _grad2(x: np.ndarray, sigma: float) -> np.ndarray:
    """Squared gradient magnitude (levels per px) of ``x`` blurred by ``sigma`` px."""
    g = cv2.GaussianBlur(x, (0, 0), sigma)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) * np.float32(0.125)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) * np.float32(0.125)
    return gx * gx + gy * gy


def _luminance(img: np.ndarray) -> np.ndarray:
    """The mean of a float32 RGB image's three channels (levels)."""
    return cv2.transform(img, np.full((1, 3), 1.0 / 3.0, np.float32))


def _sharp_edges(lum: np.ndarray) -> np.ndarray:
    """Sharp luminance edges of ``lum`` (levels): a subject's outline, a veil's rim. A soft
    shadow's rim is as steep at a coarse scale as at a fine one, such an edge is not."""
    g_fine, g_coarse = _grad2(lum, 0.8), _grad2(lum, 2.5)
    return (g_fine > np.float32(7.0**2)) & (g_fine > np.float32(1.6**2) * g_coarse)


def _analyse_neutral(img: np.ndarray, kc: tuple[int, int, int]) -> Screen | None:
    h, w = img.shape[:2]
    lum_k = float(np.mean(kc))
    key_f = np.array(kc, np.float32)
    lum = _luminance(img)
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
    # sharp luminance edges (a subject's outline) separate the screen from grey subject parts
    free = (cand & (cv2.dilate(_sharp_edges(lum).view(np.uint8), KERNEL3) == 0)).view(np.uint8)
    labels, sides, _ = _rim_components(free)
    bg1 = sides.any(0)[labels]
    if not bg1.any():
        bg1 = free.astype(bool)
    small = grid_size(h, w)
    plate_s, w_s, plate = _plate_over(img, bg1, small, key_f)
    dist = matte.distance(img, plate)
    sig = matte.sigma_of(dist, bg1)
    # pass 2: enclosed regions at the plate's level are screen too (holes in the subject)
    near = dist <= np.float32(max(6.0, 4.0 * sig))
    bg2 = (bg1 | (free.astype(bool) & near)) & near
    if bg2.any():
        plate_s, w_s = block_plate(img, bg2, small, key_f)
    else:
        bg2 = bg1
    ones = np.ones(plate_s.shape[:2], np.float32)
    return Screen(kc, True, np.zeros((2, 3), np.float32), 1.0, plate_s, w_s, ones, bg2)
