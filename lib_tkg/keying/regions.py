"""Tests on labelled regions of a mask: their summed colours against the plate's (same colour,
same hue, saturation), which sides of the frame they reach, and the plate made from a mask.

Shared by the screen's analysis (:mod:`lib_tkg.keying.plate`, :mod:`lib_tkg.keying.candidates`)
and the matte's region rules (:mod:`lib_tkg.keying.enclosed`, :mod:`lib_tkg.keying.interiors`).
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.fields import block_plate

#: brightness (share of the plate's) under which an enclosed region of the plate's colour is a
#: dark subject part, not the screen in the subject's shadow
DEEPEST_SHADE = 0.45
#: saturation ratio (``(max - min) / max``) over the plate's that makes a region's colour not
#: the screen's: shade keeps the ratio, a veil or tinted glass lowers it
SAT_SLACK = 0.08
#: saturation ratio under the plate's, and brightness (share of the plate's) at least, of a
#: region that is a veil's thin part, not the screen (:func:`veiled`)
VEIL_PALER = 0.04
VEIL_LIGHT = 0.97
#: degrees of hue (the chroma plane) by which a region's colour differs from the plate's where
#: it is not the screen, whatever the angle between their RGB vectors; and the chroma (share of
#: the mean level) under which a colour is too grey to have a hue
_HUE_SLACK = 20.0
_HUE_GREY = 0.15


def plate_coloured(
    colour: np.ndarray, plate: np.ndarray, degrees: float, shade: bool = True
) -> np.ndarray:
    """Whether regions have the plate's colour: their mean (or summed) colours ``colour`` and
    the plate's under them ``plate`` ((N, 3) each, summed over the same pixels) at most
    ``degrees`` apart as RGB vectors (chromaticity, whatever the brightness), the region no
    more than 10 % brighter and no darker than :data:`DEEPEST_SHADE` of it (a darker one
    may be the screen in the subject's shadow; a far darker one is a dark part of the
    screen's hue), its saturation ratio at most :data:`SAT_SLACK` over the plate's and its
    hue the plate's (:func:`same_hue`). ``shade=False``: whatever the brightness."""
    n_c, n_p = np.linalg.norm(colour, axis=-1), np.linalg.norm(plate, axis=-1)
    cos = (colour * plate).sum(-1) / np.maximum(n_c * n_p, 1e-6)
    same = cos >= np.cos(np.radians(degrees))
    same &= saturation(colour) <= saturation(plate) + np.float32(SAT_SLACK)
    same &= same_hue(colour, plate)
    if shade:
        same &= (n_c <= 1.1 * n_p) & (n_c >= DEEPEST_SHADE * n_p)
    return same


def veiled(colour: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """Whether regions (summed colours ``colour`` and the plate's under them ``plate``, (N, 3)
    each) are a veil over the screen: their saturation ratio :data:`VEIL_PALER` under the
    plate's and no darker than :data:`VEIL_LIGHT` of it. Shade keeps the ratio; a white or grey
    veil lowers it and lightens."""
    paler = saturation(colour) < saturation(plate) - np.float32(VEIL_PALER)
    light = np.linalg.norm(colour, axis=-1) >= VEIL_LIGHT * np.linalg.norm(plate, axis=-1)
    return paler & light


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


def along_line(v: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where colours ``v`` lie against the lines from the same origin along ``u`` (both (..., 3),
    levels less that origin: a region's colour and a subject colour less the plate's): the share
    of the way along ``u`` (0 at the origin, 1 at ``u``) and the distance off the line (levels),
    (...) each."""
    uu = np.maximum((u * u).sum(-1), 1e-6)
    along = (u * v).sum(-1) / uu
    return along, np.sqrt(np.maximum((v * v).sum(-1) - along * along * uu, 0))


def saturation(rgb: np.ndarray) -> np.ndarray:
    """``(max - min) / max`` of colours (..., 3): 0 for grey, 1 for a pure colour, unchanged by
    shade. (By channels: numpy's reductions over a short last axis are slow.)"""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hi = np.maximum(np.maximum(r, g), b)
    lo = np.minimum(np.minimum(r, g), b)
    return (hi - lo) / np.maximum(hi, 1e-6)


def plate_over(
    img: np.ndarray, mask: np.ndarray, small: tuple[int, int], key_f: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plate made from ``img``'s pixels under ``mask`` (:func:`block_plate` on the grid
    ``small``): ``(plate grid, its weight, the plate at img's resolution)``."""
    plate_s, w_s = block_plate(img, mask, small, key_f)
    h, w = mask.shape
    return plate_s, w_s, cv2.resize(plate_s, (w, h), interpolation=cv2.INTER_LINEAR)


def plate_coloured_regions(
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


def rim_components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Connected components of ``mask`` (4-connected): ``(labels, sides, n)``, ``sides`` the
    frame's sides each reaches (:func:`border_sides`; never for label 0, outside ``mask``)."""
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=4)
    sides = border_sides(labels, n)
    sides[:, 0] = False
    return labels, sides, n


def across(sides: np.ndarray) -> np.ndarray:
    """Which regions (``sides``: :func:`border_sides`) reach two opposite sides of the frame."""
    return (sides[0] & sides[1]) | (sides[2] & sides[3])


def region_medians(values: np.ndarray, labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The median of ``values`` over each region of ``labels`` (same shape) whose label is in
    ``ids`` ((k,) int; a few: each is a pass over the image), in that order: (k,) float64."""
    return np.array([float(np.median(values[labels == i])) for i in ids], np.float64)


#: px (at the classifying resolution) across a region's rim within which the screen beside it is
#: compared with the region (:func:`continue_screen`): strings, hair or a thin outline between
#: them are crossed; a subject part as wide is not
_ACROSS_PX = 6
_ACROSS_MIN = 16  # px of each side of the rim, at least, to compare them
_ACROSS_LIGHT = (0.9, 1.1)  # brightness of the region's rim, share of the screen's across it
_ACROSS_ANGLE = 6.0  # degrees between their mean colours, at most (:func:`plate_coloured`)
_ACROSS_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _ACROSS_PX + 1,) * 2)


def continue_screen(
    img: np.ndarray, labels: np.ndarray, which: np.ndarray, screen: np.ndarray
) -> np.ndarray:
    """(n,) bool: which of the regions ``which`` ((n,) bool over ``labels``' ids) continue the
    ``screen`` (bool mask) across their rim: within :data:`_ACROSS_PX` of it, their mean colour
    is the mean colour of the screen pixels as near on its other side (:func:`across_rim`)
    (:func:`plate_coloured`, :data:`_ACROSS_ANGLE`, no more saturated, of its hue) and as bright
    (:data:`_ACROSS_LIGHT`). A region found so joins the screen for the others (up to four
    rounds: a hot spot that strings cut into several pieces).

    A hot spot of light on the screen is brighter than the plate that the screen around it
    gives, but only gently: where strings, hair or a thin outline cut a piece of it off, the
    screen just across them is as bright. A subject part of the screen's colour differs from
    the screen beside it, and a hole in a subject wider than the reach is not compared."""
    out = np.zeros(which.shape, bool)
    took = screen.copy()
    lo, hi = _ACROSS_LIGHT
    for _round in range(4):
        left = which & ~out
        if not left.any():
            break
        c_in, n_in, c_out, n_out = across_rim(img, labels, left[labels], took, _ACROSS_KERNEL)
        light = np.linalg.norm(c_in, axis=-1) / np.maximum(np.linalg.norm(c_out, axis=-1), 1e-6)
        grew = left & (np.minimum(n_in, n_out) >= _ACROSS_MIN) & (light >= lo) & (light <= hi)
        grew &= plate_coloured(c_in, c_out, _ACROSS_ANGLE, shade=False)
        if not grew.any():
            break
        out |= grew
        took |= grew[labels]
    return out


def across_rim(
    values: np.ndarray,
    labels: np.ndarray,
    inside: np.ndarray,
    outside: np.ndarray,
    kernel: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The mean ``values`` ((H, W) or (H, W, C)) of each region of ``labels`` over its rim (its
    pixels of ``inside``, bool, within ``kernel``'s reach of any pixel not inside) and over the
    ``outside`` pixels (bool) within its reach (each counted for the highest label that reaches
    it), with the two counts: ``(mean_in, n_in, mean_out, n_out)``, ``(n, ...)`` and ``(n,)``
    each, ``n`` the number of labels. Where a region meets the rest across a thin cut (strings,
    an outline), the two sides of the cut are compared."""
    n = int(labels.max()) + 1
    beside = outside & (cv2.dilate(inside.view(np.uint8), kernel) > 0)
    rim = inside & (cv2.dilate((~inside).view(np.uint8), kernel) > 0)
    near = cv2.dilate(np.where(inside, labels, 0).astype(np.float32), kernel)
    lab_in, lab_out = labels[rim], near[beside].astype(np.int64)
    n_in, n_out = np.bincount(lab_in, minlength=n), np.bincount(lab_out, minlength=n)

    channels = int(np.prod(values.shape[2:]))

    def means(lab: np.ndarray, px: np.ndarray, count: np.ndarray) -> np.ndarray:
        px = px.reshape(px.shape[0], channels)
        sums = np.stack([np.bincount(lab, px[:, c], n) for c in range(channels)], axis=1)
        return (sums / np.maximum(count, 1)[:, None]).reshape((n, *values.shape[2:]))

    return means(lab_in, values[rim], n_in), n_in, means(lab_out, values[beside], n_out), n_out
