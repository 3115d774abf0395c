"""Background candidates cut off from the screen, judged by what cuts them off and by their
colour: :func:`no_cut_off_parts` drops dark veils and fills that sharp luminance edges cut off
from the screen around them; :func:`enclosed_screen` keeps the regions the subject encloses
only where they look like the screen, and drops border-connected regions besides the screen's
largest that are subject parts. Each takes the candidate mask at the classifying resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying.edges import luminance
from lib_tkg.keying.fields import block_plate, light_surface
from lib_tkg.keying.regions import (
    across,
    continue_screen,
    plate_coloured,
    plate_coloured_regions,
    plate_over,
    region_sums,
    rim_components,
    veiled,
)
from lib_tkg.keying.resolution import KERNEL3, KERNEL5

#: colour difference (share of the screen's around it) under which a region that a sharp
#: edge cuts off from the screen is a dark veil, not a shadow
_VEIL = 0.85
VEIL_PX = 20  # smallest such region (px at the classifying resolution)
#: ... for such a region that reaches the frame's border (a dark green top running off the
#: frame): lower, as a screen darkens toward its border (a vignette) and is not to be taken
#: for a subject part where a stray sharp edge cuts a corner off
_VEIL_RIM = 0.6
#: ... for such a region that reaches two opposite sides (a floor behind a sharp horizon is
#: screen, a dark green top across the frame's bottom is not)
_VEIL_ACROSS = 0.4
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
    :data:`VEIL_PX` px whose mean colour difference is under :data:`_VEIL` of that screen's
    there (filled in on the plate grid), or under :data:`_VEIL_RIM` if it reaches the frame's
    border, is left out with its rim; one that reaches two opposite sides of the frame only
    under :data:`_VEIL_ACROSS` (a darker floor behind a sharp horizon stays screen).

    A fill inside a thin outline (a mascot's green body more saturated than the screen) joins
    the screen where the outline, reduced, is a darker mix of the screen; its colour difference
    is the screen's, and in the plate it would key out. So a piece that does not reach the
    frame's border is left out too where its mean colour is not the plate's made from the
    screen's pieces (:func:`plate_coloured`, 6 degrees), unless it continues the screen across
    its rim (:func:`~lib_tkg.keying.regions.continue_screen`): a hot spot of light that balloon
    strings cut off is brighter than that plate but as bright as the screen just across the
    strings; the mascot's body differs from the screen across its outline (measured over the
    120th-146th held-out sets' 720 composites: a bunch of balloons 17.6 -> 11.6 SAD, none other
    changed; with the same rule in :func:`.subject_parts.no_plateaus` 9.3).
    """
    cut = bg & (cv2.dilate(edges.view(np.uint8), KERNEL3) == 0)
    labels, sides, n = rim_components(cut)
    rim = sides.any(0)
    lab = labels[cut]
    size = np.bincount(lab, minlength=n)
    size[0] = 0
    if np.count_nonzero(size >= VEIL_PX) < 2:  # (no piece but the screen is large enough)
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
    piece = ~screen & rim_bg[comp] & (size >= VEIL_PX)
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
        odd = fill & ~plate_coloured_regions(img, plate, at, labels[at], n, _ENCLOSED_ANGLE)
        if odd.any():  # (a hot spot of light that strings cut off: as the screen beside it)
            odd &= ~continue_screen(img, labels, odd, screen[labels])
        veil |= odd
    if not veil.any():
        return bg
    return bg & (cv2.dilate(veil[labels].view(np.uint8), KERNEL5) == 0)


def enclosed_screen(
    img: np.ndarray, bg: np.ndarray, small: tuple[int, int], key_f: np.ndarray, lum: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Keep regions of ``bg`` cut off from the border only where they look like the screen.

    A region enclosed by the subject is a hole showing the screen, or a key-coloured part of
    the subject. It stays background if its mean colour has the chromaticity of the plate
    made from the border-connected screen there (within 6 degrees, no more saturated:
    :func:`plate_coloured`) and is not brighter than it (by 10 %): a darker one is the screen
    in the subject's shadow, down to :data:`regions.DEEPEST_SHADE` of its brightness (darker is
    a dark subject part of its hue), and is not a veil's thin part (:func:`regions.veiled`).
    ``lum``: the image's luminance (:func:`~lib_tkg.keying.edges.luminance`). Returns the kept
    mask and, when that is the border-connected screen alone, its plate (:func:`block_plate`).
    """
    labels, sides, n = rim_components(bg)
    bg, rim = _without_foreign_rims(img, bg, labels, sides, small, key_f)
    if n <= 2 or not rim.any() or rim[1:].all():
        return bg, None
    outer = rim[labels]
    plate_s, w_s, plate = plate_over(img, outer, small, key_f)
    inner = ~outer & bg
    sums_i, sums_b = region_sums(img, _lit_up(lum, plate, outer, small), inner, labels[inner], n)
    ok = rim | (plate_coloured(sums_i, sums_b, _ENCLOSED_ANGLE) & ~veiled(sums_i, sums_b))
    ok[0] = False
    if np.array_equal(ok, rim):
        return outer, (plate_s, w_s)
    return ok[labels], None


def _lit_up(
    lum: np.ndarray, plate: np.ndarray, outer: np.ndarray, small: tuple[int, int]
) -> np.ndarray:
    """``plate`` (float32 (h, w, 3) levels, filled in from the screen ``outer`` around the
    subject) brightened, its chromaticity kept, to the screen's smooth light
    (:func:`~lib_tkg.keying.fields.light_surface` of its brightness over ``outer``) where that
    is brighter: a hot spot of light behind the subject peaks where the subject hides it, and
    the screen seen between hair and a neck there is brighter than the plate filled in from
    farther out (held-out beauty shots: kept opaque as bright subject parts)."""
    fitted = light_surface(outer, lum, small)
    if fitted is None:
        return plate
    h, w = lum.shape
    light = cv2.resize(np.exp(fitted[1]).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    gain = np.maximum(light / np.maximum(luminance(plate), np.float32(1.0)), np.float32(1.0))
    return plate * gain[..., None]


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
    :data:`VEIL_PX` px that does not reach two opposite sides (a floor, the screen's other half
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
    other = rim & (size >= VEIL_PX) & ~across(sides)
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
