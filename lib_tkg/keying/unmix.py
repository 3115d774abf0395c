"""The foreground colour of the cut-out: edge-preserving denoising as strong as the screen's
noise, and, where alpha is partial, unmixing ``F = (I - (1 - alpha) * B) / alpha`` followed by
despill as chroma only, ``F -= s * (B - grey(B))`` with ``s = max(d(F) - d(own), 0) / d(B)``,
which keeps the pixel's luminance (no dark fringe). Opaque pixels are despilled near the
subject's edge only (:func:`spill_reach`): screen light falls on an outline, not deep inside a
green garment. ``own`` is the colour of a key-coloured part deep inside it (:func:`own_colour`):
its edge loses only the screen light beyond that colour, not the part's own green. A pixel
whose own (unmixed) colour is such a part's, off the screen's hue and as saturated
(:func:`_key_coloured`), is not despilled at all (a small lime part has no inside, and one keyed
partial unmixes to its lime): screen light on another colour, a veil or haze over the screen,
and grey or pale strands with spill are paler or keep the screen's hue. Nor is one far to the
cool side of the screen's hue but still within its colour difference's zone, at half its
saturation (a teal part's soft edge, which despill turned blue or purple): screen light on skin,
blonde or amber shifts them to the warm side, and blue enters that zone only once the screen's
light is a third to a half of its colour. A partial pixel far from any opaque core whose unmixed
colour lies far to the warm side of the screen's hue keeps its chroma toward the screen (amber
glass on a yellow-green screen, :data:`_RESIDUE_HUE`)."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.pixels import pixel_xy, sample
from lib_tkg.keying.regions import saturation

NOISE_MIN = 0.8  # levels of screen noise up to which the colour is not denoised
_SAVED_OPAQUE = 254.5 / 255.0  # the least alpha saved as 255
#: px from the nearest pixel that is not opaque within which an opaque pixel is despilled fully,
#: and from which not at all (linear between). Spill is light from the screen on the subject's
#: outline, fading inwards over a few px; farther in, a key excess is the subject's own colour
#: (a lime suit, the green of a colour wheel), which despill turned yellow or grey (measured
#: over ten held-out sets: composite error 1.4 % lower in all, no image worse by over 0.05
#: levels; 4-12 px 1.8 %, 16-48 px 0.9 %). Within the tiles' overlap
#: (:data:`lib_tkg.keying.tiles.OVERLAP`), so a tiled image gets what the whole would.
SPILL_REACH = (8.0, 24.0)
#: A key-coloured part's own colour (:func:`own_colour`) is read where it is opaque and at least
#: SPILL_REACH's second distance from any pixel under :data:`_DEEP_CLEAR` alpha (screen light
#: does not reach that far in), and stands for the pixels within :data:`DEEP_CAP` px of there.
#: Despill then leaves them the key excess that colour has (a mint vase, a lime balloon, a teal
#: garment on green were greyed or turned yellow to SPILL_REACH's depth, and their soft edges
#: lost the colour their unmixing found: measured over the 120th-128th held-out sets, the
#: near-green thirds' mean composite error 4.78 -> 4.59, 27 of 90 images better, 2 worse by
#: 0.07 at most; on the untouched 129th-130th 5.68 -> 5.59; 48 px of reach 0.03 better but
#: past a tile's context). Both reaches together (SPILL_REACH's second distance
#: and DEEP_CAP) lie within a tile's context (:data:`lib_tkg.keying.tiles.OVERLAP`), so a tiled
#: image gets what the whole would.
_DEEP_CLEAR = 0.5
DEEP_CAP = 32.0
#: ... only a colour that keeps this share of the key's colour difference (``d_key``) or more:
#: a sage or grey-green subject (a tenth of it) is despilled to its depth as before
_OWN_MIN = 0.15
#: ... and lies this many degrees of hue or more off the plate's (on the screen's chroma basis),
#: or is this share of the plate's saturation or more: a veil, haze or glass over the screen that
#: was keyed opaque keeps the plate's hue, paler (a held-out haze sheet at 7 degrees and 0.4 of
#: it kept a green edge without this); the held-out parts above lay 20-50 degrees off, or were as
#: saturated
_OWN_HUE = 12.0
_OWN_SAT = 0.9
#: (A pixel's own colour counts, :func:`_key_coloured`, only when it is both off the hue and as
#: saturated, besides the share: unmixing amplifies noise, and screen light on a warm edge
#: shifts its hue. Measured over the 120th-128th held-out sets, composite error over three flat
#: backgrounds: the near-green thirds' 4.58 -> 4.42, the rest's 3.295 -> 3.297 (partial pixels
#: only: 4.44); with either test enough, 4.37 and 3.32: 21 of the rest worse by 0.05 or more,
#: veils, lace and haze over the screen among them. An amber bottle keyed too opaque keeps an
#: olive edge: +0.22.)
#: A pixel's colour with key excess (``d > 0``: within 60 degrees of the plate's hue, the colour
#: difference's zone) this many degrees or more to its cool side is not despilled either where
#: it reaches :data:`_FAR_SAT` of the plate's saturation: despill took a teal part's soft edge,
#: whose colour difference is small, for screen light and turned it blue or purple. Screen light
#: on skin, blonde or amber lies on the warm side; blue enters the zone once the screen's light
#: is a third (sky blue) to a half (deep blue) of its colour (a light blue glow with that much
#: spill keeps a teal edge: a limit). Measured over the 120th-128th held-out sets, composite
#: error over three flat backgrounds: the near-green thirds' 4.418 -> 4.387 (14 images better by
#: 0.05 or more, none worse), the rest's 3.2966 -> 3.2974 (none better or worse by 0.05); mean
#: tint of the near-green thirds -15.3 -> -14.0, of the rest 5.33 -> 5.50. Past the zone too
#: (and the warm side at 1.2 of the saturation): 4.34 and 3.296, but the rest's tint 6.27, and a
#: later held-out set's other 20 (neon glows) 9.9 -> 13.1: blue glows kept a teal edge.
_FAR_HUE = 30.0
_FAR_SAT = 0.5
#: A partial pixel with no opaque subject part near (the colour map's weight at most
#: :data:`_CORE_NEAR`) and no key-coloured part's colour loses no chroma toward the screen where
#: its unmixed colour lies over :data:`_RESIDUE_HUE` degrees to the warm side of the plate's hue:
#: an alpha a little too high leaves the screen's colour in the unmixed edge, and screen light on
#: skin, blonde or amber shifts them to the warm side by 30-46 degrees (the tests' colours on
#: green), while on a yellow-green screen a translucent amber glass or a pale plume far from any
#: core lies 50-60 degrees off with its own colour, which was turned pink or grey (a held-out
#: amber lantern's edge tint -64.8 -> -17.1 levels, composite error 4.00 -> 1.82). Measured over
#: the 161st-172nd held-out sets' 360 composites: mean composite error lower on every set (by
#: 0.1-3.5 %), 46 images better by 0.05 levels or more, 9 worse (tulle capes under heavy spill,
#: a scarf's soft edges, by 0.42 at most); the sets' mean tint toward the screen -4.4 to 2.2 but
#: the 164th's 5.9 -> 9.9 (its capes' spill). From 30 degrees, on either side: 65 better, 12
#: worse, but the tests' screen light on amber and deep blue kept
_CORE_NEAR = 0.05
_RESIDUE_HUE = 50.0


def denoised(
    rgb: np.ndarray, seen: np.ndarray, noise_lv: float
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """Edge-preserving smoothing of the subject's colour, as strong as the screen's noise.

    A bilateral filter whose colour sigma is 3.5x the measured noise (``noise_lv``, levels)
    only averages away differences the size of the noise; texture and edges above it stay.
    Only the subject's bounding box (``seen``: uint8 (H, W), nonzero where alpha > 0; 3 px
    wider) of ``rgb`` (uint8) is filtered: returns that box (rows, columns) and its filtered
    colours, or ``None`` without a subject. Worth it only over :data:`NOISE_MIN` of noise.
    """
    x, y, bw, bh = cv2.boundingRect(seen)
    if bw == 0:
        return None
    h, w = seen.shape
    box = slice(max(0, y - 3), min(h, y + bh + 3)), slice(max(0, x - 3), min(w, x + bw + 3))
    return box, cv2.bilateralFilter(rgb[box], 3, 3.5 * noise_lv, 1.5)


def spill_reach(alpha: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(N,) float32 0..1: the share of the despill each pixel ``idx`` of ``alpha`` (float32
    0..1, (H, W)) gets: 1 where it is partial or within :data:`SPILL_REACH`'s first distance
    of a pixel that is, 0 past its second."""
    near, far = SPILL_REACH
    solid = cv2.compare(alpha, float(np.float32(_SAVED_OPAQUE)), cv2.CMP_GE)
    dist = np.take(cv2.distanceTransform(solid, cv2.DIST_L2, 3).reshape(-1), idx)
    return np.clip((np.float32(far) - dist) / np.float32(far - near), 0, 1)


def unmix(
    fg: np.ndarray,
    rgba: np.ndarray,
    alpha: np.ndarray,
    idx: np.ndarray,
    plate: np.ndarray,
    m: np.ndarray | None,
    d_floor: float,
    despill: float,
    fmap: np.ndarray | None,
    reach: np.ndarray | None = None,
    own: np.ndarray | None = None,
) -> None:
    """Unmix (and, for a chroma screen ``m``, despill) the pixels ``idx`` of ``fg`` in place.

    ``rgba``: the image's colours (as denoised), RGBA uint8; ``plate``: the clean plate at
    full resolution, (H, W, 3) float32 levels.

    Despill removes the screen's chroma only. Opaque pixels (those saved as 255) lose their key
    excess (``d > 0``), times ``reach`` ((N,) 0..1, :func:`spill_reach`; all of it if
    ``None``). Partial ones also lose any chroma toward the screen (component along ``e1``)
    beyond that of the nearby opaque subject (``fmap``, see :func:`refine_band`; below zero for
    a subject of a colour opposite the screen's; zero if unknown): an alpha a little too high
    leaves screen colour in the unmixed edge, which this takes out. ``own``: (N, 2) levels, the
    key excess and the chroma toward the screen of the key-coloured part each pixel belongs to
    (:func:`own_colour`; ``None``: none), left to both. A pixel whose own (unmixed) colour is a
    key-coloured part's (:func:`_key_coloured`) is not despilled. Pixels are independent: parts of
    ``idx`` may be unmixed in parallel (:func:`in_parallel`).
    """
    h, w = alpha.shape
    one = np.float32(1.0)
    a1 = np.take(alpha.reshape(-1), idx)
    b1 = np.take(plate.reshape(-1, 3), idx, axis=0)
    f1 = matte.colours_at(rgba, idx) - matte.rep3(one - a1) * b1
    f1 /= matte.rep3(np.maximum(a1, np.float32(1e-3)))
    np.clip(f1, 0.0, 255.0, out=f1)
    if despill > 0.0 and m is not None:
        p1 = matte.rows_dot(f1, m[0])
        d_f = matte.diff(f1, m)
        d_b1 = np.maximum(matte.diff(b1, m), np.float32(d_floor))
        s1 = np.maximum(d_f if own is None else d_f - own[:, 0], 0.0) / d_b1
        b_chroma = matte.chroma_part(b1)
        p_b = np.maximum(matte.rows_dot(b_chroma, m[0]), np.float32(1.0))
        # (a pixel saved opaque, alpha over 254.5 / 255, is despilled as one: the band's
        # filter leaves pixels beside an outline a hair under 1, and the partial rule below
        # would take an opaque orange's green, above its neighbours', for screen chroma)
        partial = a1 < np.float32(_SAVED_OPAQUE)
        if partial.any():
            cap = np.zeros(idx.size, np.float32)
            known = np.zeros(idx.size, bool)  # (the colour of a subject part nearby)
            if fmap is not None:
                fw = sample(fmap, pixel_xy(idx[partial], w, h), w, h)
                p_loc = matte.rows_dot(matte.rgb_rows(fw), m[0])
                p_loc *= np.clip(fw[:, 3] / np.float32(0.1), 0, 1)
                cap[partial] = p_loc
                known[partial] = fw[:, 3] > np.float32(_CORE_NEAR)
            if own is not None:
                cap = np.maximum(cap, np.where(partial, own[:, 1], np.float32(0.0)))
                known |= own[:, 0] > 0
            excess = np.maximum(p1 - cap, 0) / p_b
            # (with none, not from a colour far to the warm side: its own, not screen colour)
            alone = np.flatnonzero(partial & ~known & (excess > 0))
            if alone.size:
                shift = matte.hue_shift(f1[alone], b1[alone], m)[0]
                excess[alone[shift < np.float32(-_RESIDUE_HUE)]] = 0.0
            s1 = np.where(partial, np.maximum(s1, excess), s1)
        s1[_key_coloured(f1, b1, m, d_f, d_b1)] = 0.0
        s1 *= np.float32(despill)
        if reach is not None:
            s1 = np.where(partial, s1, s1 * reach)
        # remove the screen's chroma only: the pixel keeps its luminance
        f1 -= matte.rep3(s1) * b_chroma
        np.clip(f1, 0.0, 255.0, out=f1)
    # rounds (f1 is in 0..255); written as 3-byte items: far faster than assigning rows
    rows = np.dtype((np.void, 3))
    np.put(
        fg.reshape(-1, 3).view(rows).reshape(-1),
        idx,
        cv2.convertScaleAbs(f1).view(rows).reshape(-1),
    )


def _key_coloured(
    f: np.ndarray, b: np.ndarray, m: np.ndarray, d_f: np.ndarray, d_b: np.ndarray
) -> np.ndarray:
    """Indices of the rows whose unmixed colours ``f`` ((N, 3) levels; ``d_f`` their colour
    difference) are a key-coloured part's own, not screen light on another colour (module
    docstring): they have key excess and either keep :data:`_OWN_MIN` of the plate's colour
    difference (``d_b``; plate colours ``b``) or more, lie :data:`_OWN_HUE` degrees of hue or
    more off its hue on the chroma basis ``m`` and reach :data:`_OWN_SAT` of its saturation, or
    lie :data:`_FAR_HUE` degrees or more to the cool side of that hue and reach
    :data:`_FAR_SAT` of that saturation."""
    at = np.flatnonzero(d_f > 0)
    if at.size == 0:
        return at
    shift, sat, sat_b, _ = _hue_saturation(np.take(f, at, axis=0), np.take(b, at, axis=0), m)
    off_hue, rich = _off_hue_rich(shift, sat, sat_b)
    own = (np.take(d_f, at) >= np.float32(_OWN_MIN) * np.take(d_b, at)) & off_hue & rich
    far = shift >= np.float32(_FAR_HUE)
    far &= sat >= np.float32(_FAR_SAT) * sat_b
    return at[own | far]


def _hue_saturation(
    rows: np.ndarray, plate_rows: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For colours ``rows`` over the plate's ``plate_rows`` ((N, 3) levels each; ``m``: the
    chroma basis): each one's hue less the plate's (degrees, positive to the cool side), its
    saturation and the plate's (``(max - min) / max``), and its chroma toward the screen
    (projection on ``m[0]``), (N,) each."""
    shift, p, _ = matte.hue_shift(rows, plate_rows, m)
    return shift, saturation(rows), saturation(plate_rows), p


def _off_hue_rich(
    shift: np.ndarray, sat: np.ndarray, sat_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """From :func:`_hue_saturation`'s hue shift and saturations ((N,) each): whether each colour
    lies :data:`_OWN_HUE` degrees or more off the plate's hue, and whether it reaches
    :data:`_OWN_SAT` of the plate's saturation, (N,) bool each."""
    return np.abs(shift) >= np.float32(_OWN_HUE), sat >= np.float32(_OWN_SAT) * sat_b


def own_colour(
    img_q: np.ndarray,
    plate_q: np.ndarray,
    m: np.ndarray,
    d_key: float,
    alpha: np.ndarray,
    idx: np.ndarray,
) -> np.ndarray | None:
    """The colour of the key-coloured part each pixel ``idx`` of ``alpha`` (float32 0..1,
    (H, W)) belongs to, as (N, 2) float32 levels: its key excess (colour difference, 0 or more)
    and its chroma toward the screen (projection on ``m[0]``, 0 or more); 0 for a pixel with no
    such part within :data:`DEEP_CAP` px; ``None`` where the image has none.

    Read at quarter resolution (``img_q`` and the plate there, ``plate_q``, float32 levels;
    ``m``: the screen's chroma basis; ``d_key``: its colour difference, levels) from the nearest
    pixel deep inside the subject (the module's constants): its colour where it keeps
    :data:`_OWN_MIN` of ``d_key`` or more in a hue :data:`_OWN_HUE` off the plate's, or at
    :data:`_OWN_SAT` of its saturation or more; 0 where it does not (no key-coloured part)."""
    h, w = alpha.shape
    qh, qw = img_q.shape[:2]
    to_px = w / qw  # (full-resolution px per quarter-resolution px)
    alpha_q = cv2.resize(alpha, (qw, qh), interpolation=cv2.INTER_AREA)
    solid = cv2.compare(alpha_q, _DEEP_CLEAR, cv2.CMP_GE)
    deep = cv2.distanceTransform(solid, cv2.DIST_L2, 3) >= np.float32(SPILL_REACH[1] / to_px)
    deep &= alpha_q >= np.float32(_SAVED_OPAQUE)
    if not deep.any():
        return None
    d = matte.diff(img_q, m)
    own = deep & (d >= np.float32(_OWN_MIN * d_key))
    if not own.any():
        return None
    shift, sat, sat_b, p = _hue_saturation(img_q[own], plate_q[own], m)  # (its pixels alone)
    off_hue, rich = _off_hue_rich(shift, sat, sat_b)
    part = np.zeros((qh, qw, 2), np.float32)
    part[own] = np.stack([d[own], np.maximum(p, 0)], 1) * (off_hue | rich)[:, None]
    if not part.any():
        return None
    # each quarter-resolution pixel's nearest deep one (labelled in raster order, from 1)
    dist, labels = cv2.distanceTransformWithLabels(
        (~deep).view(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    colour_q = part[deep][labels - 1]
    colour_q[dist > np.float32(DEEP_CAP / to_px)] = 0
    colour = cv2.resize(colour_q, (w, h), interpolation=cv2.INTER_NEAREST)
    return np.take(colour.reshape(-1, 2), idx, axis=0)
