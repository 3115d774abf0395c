"""Which of a chroma screen's background candidates are the screen: rules that add the screen's
own uneven patches and drop subject parts that keep the screen's chromaticity.

Each rule takes the candidate mask at the classifying resolution and returns it changed (see
:mod:`lib_tkg.keying.plate` for the order they run in and why): :func:`screen_patches` adds
paler or differently hued patches of the screen that reach the frame's border;
:func:`no_cut_off_parts` drops dark veils and fills that sharp edges cut off;
:func:`no_plateaus` dark, bright or vivid sharp-rimmed regions; :func:`no_textured_shade`
dark, finely textured ones (hair, leaves); :func:`no_bright_bumps` regions far brighter than
the screen's smooth light; :func:`no_dark_ramps` a dark subject's blurred edge;
:func:`enclosed_screen` keeps regions the subject encloses only where they look like the
screen.
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.edges import detail, grad2
from lib_tkg.keying.fields import block_plate, fit
from lib_tkg.keying.regions import (
    across,
    border_sides,
    plate_coloured,
    plate_coloured_regions,
    plate_over,
    region_medians,
    region_sums,
    rim_components,
    veiled,
)
from lib_tkg.keying.resolution import enlarge_mask

_BUMP = 0.4  # brightness above the screen's smooth light that makes a region subject
#: largest residual (log brightness) the screen's light fit keeps: a large bright part (a vivid
#: shirt of the screen's chromaticity across a fifth of the frame) widens a trim of 2.5 sigma
#: until it stays in, and the fit rises to it
_BUMP_TRIM = 0.35
_RAMP = 0.025  # reach of a blurred dark edge's ramp, fraction of the long side
#: darkening there (fraction of the colour difference) that is still screen (a product's cast
#: shadow darkens the screen by 35-45 % beside it, which 0.3 took for a blurred edge: a held-out
#: product shot's shadow keyed 0.2-0.3 opaque; measured over the 44th-48th held-out sets, 21
#: images better and 4 worse by 0.08-0.19 SAD, the own sets' 288 composites 1705.8 -> 1698.8;
#: a near-black subject's motion-blurred edge is taken for screen from 0.6)
_RAMP_DIP = 0.4
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
#: brightness (share of the screen's on the frame's outer ring) under or over which a region of
#: the screen's colour whose rim is mostly sharp (:data:`_PLATEAU_EDGE` of it) is a dark or a
#: bright subject part, not a shadow or the screen's light (:func:`no_plateaus`)
_PLATEAU_SHADE = 0.6
_PLATEAU_LIGHT = 1.4
_PLATEAU_EDGE = 0.45
#: ... or darker than this share of it, covering :data:`_PLATEAU_LARGE` of the frame or more,
#: with the rim it shares with the brighter screen sharp: a dark garment across the frame's
#: bottom (measured 0.64-0.7 of the screen's brightness; larger than a shadow's sharp-rimmed
#: piece, 1-2 % of the frame), not a subject's soft shadow (its sharp rim is the subject's)
_PLATEAU_DIM = 0.75
_PLATEAU_LARGE = 0.1
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
#: A border-connected candidate region besides the screen's largest is a subject part (a green
#: garment running off the frame, cut off from the screen by the subject) where its colour is
#: this many degrees from that screen's plate (or more saturated,
#: :data:`regions.SAT_SLACK`) and it is darker than :data:`_RIM_SHADE` of it: a region as
#: bright may be the screen beside a veiled part of it (a pale veil across the border makes
#: the largest region paler)
_RIM_ANGLE = 8.0
#: ... and an enclosed region's (its plate is made from the screen right around it)
_ENCLOSED_ANGLE = 6.0
_RIM_SHADE = 0.9
_RING = 0.1  # width of the frame's outer ring where the screen's level is measured (share)
#: A region of the screen's hue left out of the background that reaches the frame's border is a
#: patch of the screen (:func:`screen_patches`) where its chromaticity is at least this share of
#: the field's on average, and its brightness within this share of the screen's around it (half
#: that for a region that meets the subject)
_PATCH_MIN_REL = 0.5
_PATCH_LIGHT = 0.1
#: ... and, where it covers :data:`_PATCH_LARGE` of the frame or more, no more detailed than
#: :data:`_PATCH_DETAIL` times the screen (median :func:`edges.detail` at
#: :data:`_PATCH_SIGMA` px): a mottled green garment running off the frame is as bright and as
#: green as the screen but detailed all over (measured: 5.7 times; the screen's own patches
#: 0.6-2.4; strands crossing a small patch make it look detailed, hence large ones only)
_PATCH_LARGE = 0.02
_PATCH_DETAIL = 3.0
_PATCH_SIGMA = 3.0
#: The screen's smooth drift: a region of hue within ``atan(DRIFT_SLOPE)`` (50 degrees) of the
#: key's, left out of the background, reaching the frame's border, where its hue cast (``q / p``)
#: changes by under :data:`_DRIFT_STEEP` per px (at this resolution, per 256 px of the long side)
#: along its rim next to the screen, and as smooth as the screen (:data:`_PATCH_DETAIL`); a
#: veil or smoke moves the brightness (:data:`_DRIFT_LIGHT`), white steam keeps the hue cast
#: (:data:`_DRIFT_CAST`)
DRIFT_SLOPE = 1.19
#: (measured: SD-like screens' corner drifts 0.005-0.028, one at 0.05; a near-green band across
#: a bust, whose hue changes faster, was taken at 0.05)
_DRIFT_STEEP = 0.03
#: ... and no more detailed than this many times the screen (measured: drifts 0.8-1.3; a white
#: veil floating in from the border, as gentle and as bright, 2.4)
_DRIFT_DETAIL = 2.0
_DRIFT_MIN = 0.02  # share of the frame, at least
_DRIFT_LIGHT = 0.15  # brightness, within this share of the screen's beside it
_DRIFT_CAST = 0.1  # hue cast (q / p) away from the screen's beside it, at least
#: ... or this, for a drift no more detailed than the screen (:data:`_DRIFT_FAINT_DETAIL` times
#: it): a faint lighting drift is as smooth as the screen, smoke or a veil floating in from the
#: border adds its own wisps (measured over ten held-out sets: drifts of 0.06-0.09 at 0.42-0.92
#: of the screen's detail; smoke and a veil of 0.05-0.08 at 1.28)
_DRIFT_FAINT_CAST = 0.05
_DRIFT_FAINT_DETAIL = 1.0
#: A veil, smoke or a glow over the screen: a candidate whose chromaticity is more than
#: :data:`_PALE` (or the field's noise, if larger) under the field's is paler than the screen;
#: one within :data:`_PALE_REACH` of the long side of a veil's core (a pixel of the screen's hue
#: left out, :data:`_PALE_CORE` times as pale, and no darker than the candidates within
#: :data:`_PALE_WINDOW` of the long side: shade and dark strands keep the chromaticity, a white
#: veil lightens) is left out too: its faintest parts (a tulle's thin stripes, a plume's edge)
#: pass as mottling, and the plate taken through them keys the whole veil fainter (measured over
#: a held-out set: the veils' soft-band bias -25 and -29 to +7 and -13; screens mottled
#: as SD's keep their pale patches that are not beside a veil)
_PALE = 0.04
_PALE_CORE = 3.0
_PALE_REACH = 0.03
_PALE_WINDOW = 0.1
_KERNEL3 = np.ones((3, 3), np.uint8)
_KERNEL5 = np.ones((5, 5), np.uint8)
_KERNEL7 = np.ones((7, 7), np.uint8)


def no_veils(
    bg: np.ndarray, hue_ok: np.ndarray, rel: np.ndarray, mx: np.ndarray, noise: float
) -> np.ndarray:
    """``bg`` (bool) without its paler candidates beside a veil (:data:`_PALE`).

    ``hue_ok``: pixels of the screen's hue; ``rel``: the chromaticity as a share of the field's
    (1 on the screen); ``mx``: max(RGB) (levels); ``noise``: ``rel``'s noise on the screen.
    """
    if not bg.any():
        return bg
    pale = max(_PALE, noise)
    h, w = bg.shape
    k = max(3, int(_PALE_WINDOW * max(h, w)) | 1)
    win = (min(k, w | 1), min(k, h | 1))  # (no wider than the image: a long strip's is huge)
    share = cv2.blur(bg.astype(np.float32), win)
    mx_bg = cv2.blur(mx * bg, win) / np.maximum(share, np.float32(1e-3))
    core = ~bg & hue_ok & (rel < np.float32(1.0 - _PALE_CORE * pale))
    core &= (mx >= mx_bg) & (share > np.float32(0.05))
    if not core.any():
        return bg
    near = cv2.distanceTransform((~core).view(np.uint8), cv2.DIST_L2, 3)
    return bg & ~((rel < np.float32(1.0 - pale)) & (near <= np.float32(_PALE_REACH * max(h, w))))


def screen_patches(
    bg: np.ndarray, hue_ok: np.ndarray, rel: np.ndarray, lum: np.ndarray
) -> np.ndarray:
    """``bg`` (bool) with the screen's own uneven patches added: regions of the screen's hue
    (``hue_ok``, 2 px clear of other colours) left out of it that reach the frame's border, are
    at least :data:`_PATCH_MIN_REL` of the chromaticity the field expects on average (``rel``)
    and as bright as the screen around them on average (within :data:`_PATCH_LIGHT`; half that
    for a region that meets the subject); a large one as smooth as the screen
    (:data:`_PATCH_DETAIL`).

    A paler, duller or differently hued patch of the screen (SD-style mottling, a corner drifting
    yellower, a dye or lighting patch) falls outside the smooth chromaticity field, and would key
    as a faint veil, also where it meets the subject. Smoke or a veil floating in from the
    border moves the screen's brightness towards its own (white smoke brightens it by 20 % and
    more, a dark veil darkens it) where a patch of the screen keeps it, and a glow's halo or a
    motion blur's tail brightens or darkens it towards the subject it leaves. ``lum`` is the
    image's luminance at ``bg``'s resolution (:func:`edges.luminance`, levels).
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
    meets = np.bincount(lab[at & (cv2.dilate(others, _KERNEL7) > 0)], minlength=n) > 0
    light = np.where(meets, 0.5 * _PATCH_LIGHT, _PATCH_LIGHT)
    cand &= (n_ring > 0) & (np.abs(l_in - l_ring) <= light * l_ring)
    large = np.flatnonzero(cand & (count >= _PATCH_LARGE * lum.size))
    if large.size and bg.any():
        cand[large] = _as_smooth(bg, lum, lab, large)
    return bg | cand[lab] if cand.any() else bg


def screen_drift(bg: np.ndarray, near: np.ndarray, cast: np.ndarray, lum: np.ndarray) -> np.ndarray:
    """``bg`` with the screen's smooth drift added: regions of ``near`` (hue within 50 degrees of
    the key's, 2 px clear of other colours) left out of it that reach the frame's border, cover
    :data:`_DRIFT_MIN` of it or more, whose hue cast ``cast`` (``q / p``) changes gently where
    they meet the screen (median gradient under :data:`_DRIFT_STEEP` per px there, scaled to a
    256 px long side), whose mean hue cast is :data:`_DRIFT_CAST` or more from the screen's
    beside them (:data:`_DRIFT_FAINT_CAST` for one at most :data:`_DRIFT_FAINT_DETAIL` times
    as detailed as the screen), whose mean brightness is the screen's there (within
    :data:`_DRIFT_LIGHT`) and that are about as smooth as the screen inside
    (:data:`_DRIFT_DETAIL`). ``lum``: the
    image's luminance (levels).

    An SD screen's corner drifting towards cyan or yellow by 35-50 degrees falls outside the
    screen's hue; unlike a subject part of such a hue (a teal garment, an olive coat), even a
    blurred one, it has no edge: its hue moves across a quarter of the frame, not a few px.
    Unlike a veil or smoke floating in from the border, it keeps the screen's brightness and
    smoothness, and it moves its hue (white steam, paling the screen, keeps it).
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
    keep &= (n_ring > 0) & (np.abs(l_in - l_ring) <= _DRIFT_LIGHT * l_ring)
    ids = np.flatnonzero(keep)
    if not ids.size:
        return bg
    steep = cv2.sqrt(grad2(cast, 1.0)) * np.float32(max(bg.shape) / 256.0)
    rim = at & (cv2.dilate(bg.view(np.uint8), _KERNEL5) > 0)
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
    others = cv2.dilate(cv2.morphologyEx((~ok).view(np.uint8), cv2.MORPH_OPEN, _KERNEL3), _KERNEL5)
    left = cv2.bitwise_and((~bg).view(np.uint8), others ^ 1)
    n, lab = cv2.connectedComponents(left, connectivity=8)
    return others, lab, n, left.view(bool)


def _ring(
    bg: np.ndarray, lab: np.ndarray, which: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixels of ``bg`` within 3 px of the regions ``which`` ((n,) bool over ``lab``'s n
    labels): ``(ring mask, the label of the region each is near, ring pixels per region)``."""
    near = cv2.dilate(np.where(which[lab], lab, 0).astype(np.float32), _KERNEL7)
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


def no_cut_off_parts(
    edges: np.ndarray,
    bg: np.ndarray,
    d: np.ndarray,
    small: tuple[int, int],
    d_key: np.float32,
    img: np.ndarray,
    key_f: np.ndarray,
) -> np.ndarray:
    """Drop regions of ``bg`` cut off from the screen around them by a sharp luminance edge
    (``edges``, :func:`edges.sharp_edges`) that are darker than it, or that it encloses and that
    are not of its colour (``img``: the image, float32 levels; ``key_f``: the key colour).

    A dark veil (translucent dark fabric, tinted glass) over the screen, or a dark subject part
    of the screen's hue (a dark green top), keeps the screen's chromaticity as a shadow does,
    and the plate would follow it and key it out; unlike a soft shadow's, its rim is a sharp
    edge. The candidates are cut along those edges; in each border-connected candidate region
    (regions already enclosed by the subject are :func:`enclosed_screen`'s) the largest piece
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
    cut = bg & (cv2.dilate(edges.view(np.uint8), _KERNEL3) == 0)
    labels, sides, n = rim_components(cut)
    rim = sides.any(0)
    lab = labels[cut]
    size = np.bincount(lab, minlength=n)
    size[0] = 0
    if np.count_nonzero(size >= _VEIL_PX) < 2:  # (no piece but the screen is large enough)
        return bg
    # each piece's candidate region (the cut is within it); its largest piece is the screen
    labels_bg, sides_bg, n_bg = rim_components(bg)
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
    veil = piece & (mean_t < np.where(across(sides), np.float32(_VEIL_ACROSS), limit))
    fill = piece & ~veil & ~rim
    if fill.any():
        plate = plate_over(img, screen[labels], small, key_f)[2]
        at = fill[labels]  # (their pixels alone: the sums of the others are not needed)
        veil |= fill & ~plate_coloured_regions(img, plate, at, labels[at], n, _ENCLOSED_ANGLE)
    if not veil.any():
        return bg
    return bg & (cv2.dilate(veil[labels].view(np.uint8), _KERNEL5) == 0)


def no_plateaus(edges: np.ndarray, bg: np.ndarray, lum: np.ndarray, sat: np.ndarray) -> np.ndarray:
    """Drop regions of ``bg`` darker than :data:`_PLATEAU_SHADE` or brighter than
    :data:`_PLATEAU_LIGHT` times the screen's brightness, or more saturated than it
    (:data:`_VIVID`, :data:`_VIVID_SIGMAS`; both measured over ``bg`` on the frame's outer ring),
    whose rim lies on sharp luminance edges (``edges``, :func:`edges.sharp_edges`) for
    :data:`_PLATEAU_EDGE` of its length or more, and that do not reach two opposite sides of the
    frame (a darker floor behind a sharp horizon is screen); or darker than
    :data:`_PLATEAU_DIM` of it, over :data:`_PLATEAU_LARGE` of the frame, with the rim it shares
    with the brighter screen mostly sharp (a flat olive shirt at 0.65 of the screen's
    brightness; a soft shadow's rim is sharp only where the subject or strands cross it).

    A dark, bright or vivid subject part of the screen's hue (a dark teal disc on a teal screen,
    a green hood on a darker green one, a vivid green shirt running off the frame's bottom)
    keeps its chromaticity as a shadow or the screen's light does, or comes close enough to it
    for the chromaticity field to bend to it; :func:`no_cut_off_parts` leaves a dark one out
    only where sharp edges cut it off all round, and where it meets its own soft drop shadow, or
    hair crosses its rim, they do not; a bright one large enough bends :func:`no_bright_bumps`'
    surface up to it. A soft shadow or a hot spot of light has no sharp rim, and is rarely that
    dark or bright. ``lum``: the image's luminance (:func:`edges.luminance`, levels); ``sat``: its
    saturation ratio.
    """
    ring = screen_ring(bg)
    if ring is None:
        return bg
    level = float(matte.median(lum[ring]))
    sat_level = float(matte.median(sat[ring]))
    vivid_from = max(_VIVID * sat_level, sat_level + _VIVID_SIGMAS * matte.sigma_of(sat, ring))
    dark = bg & (lum < np.float32(_PLATEAU_SHADE * level))
    shaded = bg & (lum < np.float32(_PLATEAU_DIM * level))
    bright = bg & (lum > np.float32(_PLATEAU_LIGHT * level))
    vivid = bg & (sat > np.float32(vivid_from))
    drop = _sharp_rimmed(edges, dark) | _sharp_rimmed(edges, bright) | _sharp_rimmed(edges, vivid)
    drop |= _sharp_rimmed(edges, shaded, int(_PLATEAU_LARGE * bg.size), bg & ~shaded)
    return bg & (cv2.dilate(drop.view(np.uint8), _KERNEL5) == 0)


def no_textured_shade(bg: np.ndarray, lum: np.ndarray) -> np.ndarray:
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
    (:func:`edges.luminance`, levels) at ``bg``'s resolution.
    """
    ring = screen_ring(bg)
    if ring is None or min(bg.shape) < 8:
        return bg
    level = float(matte.median(lum[ring]))
    fine = lum - cv2.blur(lum, (3, 3))
    texture = cv2.sqrt(cv2.blur(fine * fine, (5, 5)))
    limit = _TEXTURE * max(float(matte.median(texture[ring])), _TEXTURE_FLOOR)
    inside = cv2.erode(bg.view(np.uint8), _KERNEL5).view(bool)
    drop = inside & (texture > np.float32(limit)) & (lum < np.float32(_TEXTURE_SHADE * level))
    drop &= texture * texture > np.float32(_TEXTURE_EDGE**2) * grad2(lum, 2.5)
    if not drop.any():
        return bg
    return bg & (cv2.dilate(drop.view(np.uint8), _KERNEL3) == 0)


def no_bright_bumps(bg: np.ndarray, level: np.ndarray, small: tuple[int, int]) -> np.ndarray:
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
    return bg & (cv2.dilate(up, _KERNEL3) == 0)


def no_dark_ramps(
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


def enclosed_screen(
    img: np.ndarray, bg: np.ndarray, small: tuple[int, int], key_f: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Keep regions of ``bg`` cut off from the border only where they look like the screen.

    A region enclosed by the subject is a hole showing the screen, or a key-coloured part of
    the subject. It stays background if its mean colour has the chromaticity of the plate
    made from the border-connected screen there (within 6 degrees, no more saturated:
    :func:`plate_coloured`) and is not brighter than it (by 10 %): a darker one is the screen
    in the subject's shadow, down to :data:`regions.DEEPEST_SHADE` of its brightness (darker is
    a dark subject part of its hue), and is not a veil's thin part (:func:`regions.veiled`).
    Returns the kept mask and, when that is the border-connected screen alone, its plate
    (:func:`block_plate`).
    """
    labels, sides, n = rim_components(bg)
    bg, rim = _without_foreign_rims(img, bg, labels, sides, small, key_f)
    if n <= 2 or not rim.any() or rim[1:].all():
        return bg, None
    outer = rim[labels]
    plate_s, w_s, plate = plate_over(img, outer, small, key_f)
    inner = ~outer & bg
    sums_i, sums_b = region_sums(img, plate, inner, labels[inner], n)
    ok = rim | (plate_coloured(sums_i, sums_b, _ENCLOSED_ANGLE) & ~veiled(sums_i, sums_b))
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
    :func:`rim_components`) that are subject parts, and which regions still reach the border
    ((n,) bool).

    The largest border-connected region is the screen. Another one of at least
    :data:`_VEIL_PX` px that does not reach two opposite sides (a floor, the screen's other half
    beside a standing subject) is a subject part where its mean colour is not that screen's
    (:data:`_RIM_ANGLE` degrees from the plate made from it, or :data:`regions.SAT_SLACK` more
    saturated; brightness aside) and it is darker than :data:`_RIM_SHADE` of it.
    """
    n = sides.shape[1]
    rim = sides.any(0)
    ids = np.flatnonzero(rim)
    if ids.size < 2:
        return bg, rim
    size = np.bincount(labels.reshape(-1), minlength=n)
    main = ids[np.argmax(size[ids])]
    other = rim & (size >= _VEIL_PX) & ~across(sides)
    other[main] = False
    if not other.any():
        return bg, rim
    plate = plate_over(img, labels == main, small, key_f)[2]
    at = other[labels]
    sums_i, sums_b = region_sums(img, plate, at, labels[at], n)
    dark = np.linalg.norm(sums_i, axis=-1) < _RIM_SHADE * np.linalg.norm(sums_b, axis=-1)
    drop = other & dark & ~plate_coloured(sums_i, sums_b, _RIM_ANGLE, shade=False)
    if not drop.any():
        return bg, rim
    return bg & ~drop[labels], rim & ~drop


def _sharp_rimmed(
    edges: np.ndarray, mask: np.ndarray, least: int = _VEIL_PX, against: np.ndarray | None = None
) -> np.ndarray:
    """The regions of ``mask`` (bool) of ``least`` px or more, not reaching two opposite
    sides of the frame, whose rim (the pixels next to them; those of ``against`` only, if given)
    lies on ``edges`` (dilated by 1 px) for :data:`_PLATEAU_EDGE` of its length or more."""
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return np.zeros_like(mask)
    # the rim: the pixels next to a region, each counted for the region it touches
    rim = (cv2.dilate(mask.view(np.uint8), _KERNEL3) > 0) & ~mask
    if against is not None:
        rim &= against
    near = cv2.dilate(labels.astype(np.float32), _KERNEL3)[rim].astype(np.int64)
    on_edge = cv2.dilate(edges.view(np.uint8), _KERNEL3)[rim] > 0
    length = np.bincount(near, minlength=n)
    sharp = np.bincount(near, weights=on_edge, minlength=n)
    size = np.bincount(labels[mask], minlength=n)
    keep = (size >= least) & (sharp >= _PLATEAU_EDGE * np.maximum(length, 1))
    keep &= ~across(border_sides(labels, n))
    keep[0] = False
    return keep[labels]


def screen_ring(bg: np.ndarray) -> np.ndarray | None:
    """The pixels of ``bg`` (bool) on the frame's outer ring, where the screen's own levels are
    measured; ``None`` where fewer than 16 are there."""
    ring = _outer_ring(bg.shape) & bg
    return ring if np.count_nonzero(ring) >= 16 else None


def _outer_ring(shape: tuple[int, int]) -> np.ndarray:
    """Bool mask of the blocks of a grid of ``shape`` within :data:`_RING` of its short side
    from its edge (at least one block)."""
    k = max(1, round(_RING * min(shape)))
    ring = np.ones(shape, bool)
    ring[k:-k, k:-k] = False
    return ring
