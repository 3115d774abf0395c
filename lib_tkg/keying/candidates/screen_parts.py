"""The screen's own uneven patches, added to a chroma screen's background candidates:
:func:`screen_patches` (paler, duller or differently hued patches reaching the frame's border:
SD-style mottling, a dye or lighting patch), :func:`screen_glows` (light added to the screen
inside the frame: a hot spot, a lamp's reflection on a glossy floor) and :func:`screen_drift` (a
corner whose hue drifts smoothly by 35-50 degrees). They take the candidate mask at the
classifying resolution and return it with those regions added.
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.edges import detail, grad2
from lib_tkg.keying.fields import block_plate
from lib_tkg.keying.regions import border_sides, region_medians, saturation
from lib_tkg.keying.resolution import KERNEL3, KERNEL5, KERNEL7

#: A region of the screen's hue left out of the background that reaches the frame's border is a
#: patch of the screen (:func:`screen_patches`) where its chromaticity is at least this share of
#: the field's on average, and its brightness within this share of the screen's around it (half
#: that for a region that meets the subject)
_PATCH_MIN_REL = 0.5
_PATCH_LIGHT = 0.1
#: ... or brighter, a glow (added light), where its colour difference is at least this share
#: of the screen's around it on average (white smoke or a veil of 0.15 opacity and more lowers
#: it further; measured over the 76th-108th held-out sets' 990 composites: from 0.7 smoke and
#: tulle off the border were taken for screen, SAD +36 and +28) ...
_GLOW_KEEP = 0.85
#: ... or, where it is brighter than the screen around it by more than :data:`_PATCH_LIGHT`, at
#: least this share: white smoke, steam or mist that brightens the screen that much lowers its
#: colour difference by about a tenth or more (measured over the 161st-171st held-out sets'
#: smoke, steam and spray mist off the border, 0.12-0.15 lower at 0.12-0.39 brighter, taken
#: for glows, one mist 0.09 lower at 0.41 still is; the screen's own paler patches there
#: 0.07-0.10 lower at 0.03-0.08 brighter, the tests' hot spots in a vignetted corner 0.04-0.08
#: lower; SAD 4411.3 -> 4360.9 over the 330 composites, six better, none worse)
_GLOW_KEEP_LIT = 0.9
#: ... and has risen by at most this share of its brightness's rise (added light: 0; a brighter
#: patch of the screen's dye or a key-coloured part lit brighter: 1)
_GLOW_RISE = 0.5
#: ... and, where it covers :data:`_PATCH_LARGE` of the frame or more, no more detailed than
#: :data:`_PATCH_DETAIL` times the screen (median :func:`edges.detail` at
#: :data:`_PATCH_SIGMA` px): a mottled green garment running off the frame is as bright and as
#: green as the screen but detailed all over (measured: 5.7 times; the screen's own patches
#: 0.6-2.4; strands crossing a small patch make it look detailed, hence large ones only)
_PATCH_LARGE = 0.02
_PATCH_DETAIL = 3.0
_PATCH_SIGMA = 3.0
#: The screen's glows inside the frame (:func:`screen_glows`): pixels of the screen's hue left
#: out of the candidates whose colour difference is the screen's around them (above it within
#: this share of it, or three times its noise; below it within that noise only) while their
#: brightest channel is :data:`_GLOW_LIFT` or more over the screen's there. Light added to the
#: screen raises the three channels alike and keeps the colour difference; a white veil or
#: smoke lowers it by its opacity (measured over the
#: 120th-157th held-out sets' 1080 composites but the 127th's, own scorer: SAD 18154.9 ->
#: 18068.3; a hot spot on a glossy floor beside goggles, kept opaque, 99.8 -> 54.2, a helmet's
#: -9.1, a ghost -7.7, a chrome mirror -4.4, bokeh beside keys -4.2; a mint tulle veil +3.7, a
#: rope +2.1, tyre smoke +1.8, chalk dust +1.5. Without the rim, at 0.04 and at 0.1: -45.2 and
#: +38.5 in all, at 0.1 green boots lit brighter than the screen, their colour difference within
#: a tenth of its, taken for a glow, +115.2). Below it, the share let steam and smoke in: their
#: faint rim among the candidates lowers the screen's colour difference round their denser
#: parts, which a share under it then passed (the 193rd-205th held-out sets' 390 composites,
#: SAD 7684.9 -> 7643.4, seven better, the most a mossy terrarium dome's 66.4 -> 40.8, and a
#: pale hot spot beside a matcha face mask worse, 2.8 -> 4.8)
_GLOW_SAME = 0.06
#: (at 0.1, without the rim: SAD -54.0 in all)
_GLOW_LIFT = 0.05
#: ... in regions of this share of the frame or more (0.001 and 0.005, without the rim: -65.5
#: and -59.9 in all), as smooth as the screen (:data:`_PATCH_DETAIL`)
_GLOW_MIN = 0.002
#: px (at the classifying resolution) of a glow's rim added with it, where it fades into the
#: screen with the colour difference kept (3 and 10: SAD -87.0 and -85.9 in all)
_GLOW_FADE = 6
#: The screen's smooth drift: a region of hue within ``atan(DRIFT_SLOPE)`` (50 degrees) of the
#: key's, left out of the background, reaching the frame's border, where its hue cast (``q / p``)
#: changes by under :data:`_DRIFT_STEEP` per px (at this resolution, per 256 px of the long side)
#: along its broad part's rim next to the screen (what a 7 x 7 opening keeps: without a subject's
#: fringe joined to it in a thin ring), and as smooth as the screen (:data:`_PATCH_DETAIL`); a
#: veil or smoke moves the brightness (:data:`_DRIFT_LIGHT`), white steam keeps the hue cast
#: (:data:`_DRIFT_CAST`)
DRIFT_SLOPE = 1.19
#: (measured: SD-like screens' corner drifts 0.005-0.028, one at 0.05; a near-green band across
#: a bust, whose hue changes faster, was taken at 0.05; a held-out teal drift joined to the ring
#: round an afro's fringe, 0.048 on the whole rim, 0.007 on its broad part's)
_DRIFT_STEEP = 0.03
#: ... and no more detailed than this many times the screen (measured: drifts 0.8-1.3; a white
#: veil floating in from the border, as gentle and as bright, 2.4)
_DRIFT_DETAIL = 2.0
_DRIFT_MIN = 0.02  # share of the frame, at least
_DRIFT_LIGHT = 0.15  # brightness, within this share of the screen's beside it
#: ... or brighter by up to this share where it keeps :data:`_DRIFT_SAT` of the saturation
#: (``(max - min) / max``) of the screen beside it: the light falling off across a screen
#: brightens a drifting corner as it does the screen, where a veil, smoke or haze floating in
#: from the border lightens it with a paler colour. Measured over the 193rd-207th held-out sets'
#: 450 composites, the drifts 15-25 % brighter than the screen beside them: the screen's warm top
#: over a cork's splash at 0.96 of its saturation (SAD 56.9 -> 16.4, FFmpeg's 17.7) and a humid
#: tent's yellow corner beside a lime frog at 1.02 (40.9 -> 3.8, its plate had taken the frog
#: and the leaf for screen); a dusty sunbeam over a falconer at 0.74 and a candle's glow at 0.86
#: stay refused, as do two of the screen's corners at 0.79 and 0.89. No other composite moved,
#: nor any of their 150 photos, the 120 of two no-screen corpora or the own benchmarks. (That
#: saturation asked of every brighter corner refused the screen's at 0.84 beside a sheepdog too,
#: SAD +7.4, and took a sunbeam at 0.89 and a motion-blurred chiffon skirt at 0.78 out of the
#: plate, -12.9: not kept, a margin too thin.)
_DRIFT_LIT = 0.25
_DRIFT_SAT = 0.9
_DRIFT_CAST = 0.1  # hue cast (q / p) away from the screen's beside it, at least
#: ... or this, for a drift no more detailed than the screen (:data:`_DRIFT_FAINT_DETAIL` times
#: it): a faint lighting drift is as smooth as the screen, smoke or a veil floating in from the
#: border adds its own wisps (measured over ten held-out sets: drifts of 0.06-0.09 at 0.42-0.92
#: of the screen's detail; smoke and a veil of 0.05-0.08 at 1.28)
_DRIFT_FAINT_CAST = 0.05
_DRIFT_FAINT_DETAIL = 1.0


def screen_patches(
    bg: np.ndarray, hue_ok: np.ndarray, rel: np.ndarray, lum: np.ndarray, d: np.ndarray
) -> np.ndarray:
    """``bg`` (bool) with the screen's own uneven patches added: regions of the screen's hue
    (``hue_ok``, 2 px clear of other colours) left out of it that reach the frame's border, are
    at least :data:`_PATCH_MIN_REL` of the chromaticity the field expects on average (``rel``)
    and as bright as the screen around them on average (within :data:`_PATCH_LIGHT`; half that
    for a region that meets the subject), or brighter with the colour difference of the screen
    around them (``d``, levels: a glow, :data:`_GLOW_KEEP`, :data:`_GLOW_KEEP_LIT` where much
    brighter, :data:`_GLOW_RISE`); a large one as smooth as the screen (:data:`_PATCH_DETAIL`).

    A paler, duller or differently hued patch of the screen (SD-style mottling, a corner drifting
    yellower, a dye or lighting patch) falls outside the smooth chromaticity field, and would key
    as a faint veil, also where it meets the subject. Smoke or a veil floating in from the
    border moves the screen's brightness towards its own (white smoke brightens it by 20 % and
    more, a dark veil darkens it) where a patch of the screen keeps it, and a glow's halo or a
    motion blur's tail brightens or darkens it towards the subject it leaves. A glow on the
    screen (a hot spot of light, a lamp's or a ring light's reflection) adds light: it brightens
    the three channels alike and leaves the colour difference as it is, where a white veil or
    smoke lowers it by its opacity and a brighter patch of the screen's dye, or a key-coloured
    part lit brighter, raises it with the brightness. ``lum`` and ``d`` are the image's luminance
    (:func:`edges.luminance`) and colour difference at ``bg``'s resolution, levels.
    """
    others, lab, n, at = _left_out(bg, hue_ok)
    if n <= 1:
        return bg
    lb = lab[at]
    count = np.maximum(np.bincount(lb, minlength=n), 1)
    level = np.bincount(lb, weights=np.clip(rel[at], 0, 2), minlength=n) / count
    cand = border_sides(lab, n).any(axis=0) & (level >= _PATCH_MIN_REL)
    cand[0] = False
    if not cand.any():
        return bg
    # brightness inside against the screen's in a ring around (3 px at this resolution)
    ring, lr, n_ring = _ring(bg, lab, cand)
    l_ring = np.bincount(lr, weights=lum[ring], minlength=n) / np.maximum(n_ring, 1)
    l_in = np.bincount(lb, weights=lum[at], minlength=n) / count
    # (within half that for a region that meets the subject, 3 px from it: a glow's halo around
    # it, a motion blur's tail behind it brighten or darken the screen a little more)
    meets = np.bincount(lab[at & (cv2.dilate(others, KERNEL7) > 0)], minlength=n) > 0
    light = np.where(meets, 0.5 * _PATCH_LIGHT, _PATCH_LIGHT)
    # (or brighter by added light: the colour difference kept, not raised with the brightness)
    d_ring = np.bincount(lr, weights=d[ring], minlength=n) / np.maximum(n_ring, 1)
    d_in = np.bincount(lb, weights=d[at], minlength=n) / count
    rise = l_in / np.maximum(l_ring, 1e-3) - 1.0
    keep = np.where(rise > _PATCH_LIGHT, _GLOW_KEEP_LIT, _GLOW_KEEP)
    glow = (rise > 0) & (d_in >= keep * d_ring) & (d_in <= (1.0 + _GLOW_RISE * rise) * d_ring)
    cand &= (n_ring > 0) & ((np.abs(l_in - l_ring) <= light * l_ring) | glow)
    large = np.flatnonzero(cand & (count >= _PATCH_LARGE * lum.size))
    if large.size and bg.any():
        cand[large] = _as_smooth(bg, lum, lab, large)
    return bg | cand[lab] if cand.any() else bg


def screen_glows(
    bg: np.ndarray,
    hue_ok: np.ndarray,
    d: np.ndarray,
    mx: np.ndarray,
    lum: np.ndarray,
    small: tuple[int, int],
) -> np.ndarray:
    """``bg`` (bool) with the screen's glows inside the frame added: regions of the screen's hue
    (``hue_ok``) left out of it, :data:`_GLOW_MIN` of the frame or more and as smooth as the
    screen, whose colour difference ``d`` is the screen's around them (:data:`_GLOW_SAME`) and
    whose brightest channel ``mx`` is :data:`_GLOW_LIFT` over the screen's there (both filled in
    from ``bg`` over blocks of the grid ``small`` = (w, h)); ``lum``: the luminance (levels).

    A hot spot or a lamp's reflection inside the frame brightens the screen with the colour
    difference kept; the chromaticity test leaves it out, :func:`screen_patches` takes such a
    glow only where it reaches the frame's border, and the plate filled in across it keyed it
    as a white veil. A white veil, smoke or a pale part lowers the colour difference (by more
    than the screen's noise: a faint veil over a dim screen lifts its brightest channel as
    much as a glow, and its faint rim among the candidates brings the screen's colour
    difference filled in round it close to its own); a part of
    the screen's hue and colour difference lit brighter than the screen passes for a glow
    (a limit).
    """
    if not bg.any():
        return bg
    h, w = bg.shape
    default = np.array([matte.median(d[bg]), matte.median(mx[bg])], np.float32)
    filled = block_plate(cv2.merge([d, mx]), bg, small, default)[0]
    filled = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    d_f, mx_f = filled[..., 0], filled[..., 1]
    noise = np.float32(3.0 * matte.robust_sigma((d - d_f)[bg]))
    # (above the screen's within the wider share, below it within the noise only)
    rise = d - d_f
    same = (rise <= np.maximum(noise, np.float32(_GLOW_SAME) * d_f)) & (rise >= -noise)
    lifted = mx >= np.float32(1.0 + _GLOW_LIFT) * mx_f
    glow = cv2.morphologyEx((hue_ok & ~bg & same & lifted).view(np.uint8), cv2.MORPH_OPEN, KERNEL3)
    n, lab = cv2.connectedComponents(glow, connectivity=8)
    keep = np.bincount(lab.reshape(-1), minlength=n) >= _GLOW_MIN * h * w
    keep[0] = False
    ids = np.flatnonzero(keep)
    if not ids.size:
        return bg
    keep[ids] = _as_smooth(bg, lum, lab, ids)
    if not keep.any():
        return bg
    # (with its rim, where it fades into the screen, keeping the colour difference: an island
    # in the candidates would be judged as screen the subject encloses, and a glow is brighter)
    glows = keep[lab].view(np.uint8)
    fade = (hue_ok & same).view(np.uint8)
    for _ in range(_GLOW_FADE):
        glows = cv2.bitwise_and(cv2.dilate(glows, KERNEL3), fade)
    return bg | glows.view(bool)


def screen_drift(
    bg: np.ndarray, near: np.ndarray, cast: np.ndarray, lum: np.ndarray, img: np.ndarray
) -> np.ndarray:
    """``bg`` with the screen's smooth drift added: regions of ``near`` (hue within 50 degrees of
    the key's, 2 px clear of other colours) left out of it that reach the frame's border, cover
    :data:`_DRIFT_MIN` of it or more, whose hue cast ``cast`` (``q / p``) changes gently where
    their broad parts meet the screen (median gradient under :data:`_DRIFT_STEEP` per px there,
    scaled to a 256 px long side), whose mean hue cast is :data:`_DRIFT_CAST` or more from the
    screen's beside them (:data:`_DRIFT_FAINT_CAST` for one at most
    :data:`_DRIFT_FAINT_DETAIL` times as detailed as the screen), whose mean brightness is the
    screen's there (within :data:`_DRIFT_LIGHT`; brighter by up to :data:`_DRIFT_LIT` where
    they keep its saturation, :data:`_DRIFT_SAT`) and that are about as smooth as the screen
    inside (:data:`_DRIFT_DETAIL`). ``lum``: the image's luminance (levels); ``img``: the image
    (float32 levels), for the saturation.

    An SD screen's corner drifting towards cyan or yellow by 35-50 degrees falls outside the
    screen's hue; unlike a subject part of such a hue (a teal garment, an olive coat), even a
    blurred one, it has no edge: its hue moves across a quarter of the frame, not a few px.
    Unlike a veil or smoke floating in from the border, it keeps the screen's brightness (or,
    where the light falls off across it, the screen's saturation: a veil or smoke brightening
    the screen pales it) and smoothness, and it moves its hue (white steam, paling the screen,
    keeps it).
    """
    lab, n, at = _left_out(bg, near)[1:]
    if n <= 1 or not bg.any():
        return bg
    lb = lab[at]
    count = np.bincount(lb, minlength=n)
    keep = border_sides(lab, n).any(axis=0) & (count >= _DRIFT_MIN * bg.size)
    keep[0] = False
    if not keep.any():
        return bg
    # hue cast and brightness inside against the screen's in a ring around (3 px here)
    ring, lr, n_ring = _ring(bg, lab, keep)
    # (its hue cast away from the screen's beside it: a drift of hue, not a paler patch)
    k_in = np.bincount(lb, cast[at], n) / np.maximum(count, 1)
    k_ring = np.bincount(lr, cast[ring], n) / np.maximum(n_ring, 1)
    away = np.abs(k_in - k_ring)
    faint = away < _DRIFT_CAST
    keep &= away >= _DRIFT_FAINT_CAST
    l_in = np.bincount(lb, lum[at], n) / np.maximum(count, 1)
    l_ring = np.bincount(lr, lum[ring], n) / np.maximum(n_ring, 1)
    lit = (n_ring > 0) & (np.abs(l_in - l_ring) <= _DRIFT_LIGHT * l_ring)
    # (brighter than that where it keeps the screen's saturation: the light's fall-off)
    brighter = keep & ~lit & (n_ring > 0) & (l_in > l_ring) & (l_in <= (1 + _DRIFT_LIT) * l_ring)
    if brighter.any():  # (the saturation of the regions' and the rings' pixels only)
        s_in = np.bincount(lb, saturation(img[at]), n) / np.maximum(count, 1)
        s_ring = np.bincount(lr, saturation(img[ring]), n) / np.maximum(n_ring, 1)
        lit |= brighter & (s_in >= _DRIFT_SAT * s_ring)
    keep &= lit
    ids = np.flatnonzero(keep)
    if not ids.size:
        return bg
    steep = cv2.sqrt(grad2(cast, 1.0)) * np.float32(max(bg.shape) / 256.0)
    # (on the rim of the regions' broad parts: a subject's fringe, its strands mixing their
    # colour with the screen's, can join a drift in a thin ring round the subject, whose rim
    # changes hue at every strand)
    broad = cv2.morphologyEx(at.view(np.uint8), cv2.MORPH_OPEN, KERNEL7)
    rim = cv2.bitwise_and(broad, cv2.dilate(bg.view(np.uint8), KERNEL5)).view(bool)
    rim_lab = np.where(rim, lab, 0)
    has_rim = np.bincount(rim_lab.reshape(-1), minlength=n) > 0
    keep &= has_rim
    ids = np.flatnonzero(keep)
    if ids.size:
        keep[ids] = region_medians(steep, rim_lab, ids) <= _DRIFT_STEEP
    for which, times in ((keep & ~faint, _DRIFT_DETAIL), (keep & faint, _DRIFT_FAINT_DETAIL)):
        ids = np.flatnonzero(which)
        if ids.size:
            keep[ids] = _as_smooth(bg, lum, lab, ids, times)
    return bg | keep[lab] if keep.any() else bg


def _left_out(bg: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """The regions left out of ``bg`` whose colours are ``ok``, 2 px clear of other colours (the
    subject, without specks of noise): ``(others, labels, n, mask)``, ``others`` (uint8) the
    other colours with that 2 px rim, ``mask`` (bool) the regions' pixels."""
    others = cv2.dilate(cv2.morphologyEx((~ok).view(np.uint8), cv2.MORPH_OPEN, KERNEL3), KERNEL5)
    left = cv2.bitwise_and((~bg).view(np.uint8), others ^ 1)
    n, lab = cv2.connectedComponents(left, connectivity=8)
    return others, lab, n, left.view(bool)


def _ring(
    bg: np.ndarray, lab: np.ndarray, which: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixels of ``bg`` within 3 px of the regions ``which`` ((n,) bool over ``lab``'s n
    labels): ``(ring mask, the label of the region each is near, ring pixels per region)``."""
    near = cv2.dilate(np.where(which[lab], lab, 0).astype(np.float32), KERNEL7)
    ring = bg & (near > 0)
    lr = near[ring].astype(np.int64)
    return ring, lr, np.bincount(lr, minlength=which.size)


def _as_smooth(
    bg: np.ndarray, lum: np.ndarray, lab: np.ndarray, ids: np.ndarray, times: float = _PATCH_DETAIL
) -> np.ndarray:
    """(k,) bool: whether the regions ``ids`` of ``lab`` have a median detail (``lum``'s,
    :func:`edges.detail` at :data:`_PATCH_SIGMA` px) at most ``times`` the screen's (``bg``;
    at least 0.5 levels)."""
    fine = detail(lum, _PATCH_SIGMA)
    limit = times * max(float(matte.median(fine[bg])), 0.5)
    return region_medians(fine, lab, ids) <= limit
