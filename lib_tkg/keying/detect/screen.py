"""Is the image's border a keyable screen, and of which colour: :func:`detect_screen` runs the
tests of the package's modules in turn; :func:`screen_shade` measures a given colour's shade;
:func:`estimate_key_color` is the public entry point."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from lib_tkg.colors import hex_color
from lib_tkg.keying import inputs, matte
from lib_tkg.keying.detect.chroma import MIN_DULL_CHROMA, chroma_screen
from lib_tkg.keying.detect.cover import Detection, smooth_screen
from lib_tkg.keying.detect.folds import FOLD_SPREAD, MIN_FOLDS, UNEVEN, fold_swings
from lib_tkg.keying.detect.grain import GRAIN_SIGMA, is_grainy
from lib_tkg.keying.detect.hues import (
    SCREEN_SPAN,
    YELLOW_GREEN,
    dominant_hue,
    hue_chroma,
    hue_dist,
    in_range,
    median_colour,
)
from lib_tkg.keying.detect.netted import netted_screen
from lib_tkg.keying.detect.sample import border_sample
from lib_tkg.keying.detect.texture import border_texture, flat, pattern_maps
from lib_tkg.keying.threads import in_background

#: Default width of the border band, as a fraction of the short side.
DEFAULT_BORDER = 0.04
#: :func:`screen_shade`: share of the border's pixels, at least, of a given key colour's hue from
#: which their shade is keyed where the border is no clean screen (measured with ``green`` over
#: the 76th-118th held-out sets' 1290 composites: SAD 23027.5 -> 22783.1, eight changed, a mint
#: tulle veil 126.9 -> 5.5, a red-haired elf 99.1 -> 39.2, a goal net 56.6 -> 37.1; a grass
#: tuft off three sides 95.7 -> 115.9, FFmpeg's best 148.5)
_SHADE_SHARE = 0.1
#: The brightest channel (levels) of the brightest tenth of the border's pixels of a screen's
#: hue (within :data:`hues.SCREEN_SPAN`, chroma :data:`MIN_DULL_CHROMA` or more), found without a
#: prior, at least: a border darker than that is a dim room, a night scene or a fluorescence
#: image, not a screen (measured: the 120th-142nd held-out sets' 624 screens found, 61 and
#: more, the dimmest SD-like green ones 61-82; their photos without a screen that the other
#: tests found, a dark green backdrop behind a fern and GFP-lit cells on near-black, 42 and 52;
#: the median colour is not used: a dark garment of the screen's hue over half the border has
#: it, 18-25 in green, with the screen beside it at 186)
_MIN_AUTO_LEVEL = 56
#: The brightest channel (levels) of the screen colour found without a prior, at least: a
#: smooth dark green ground in a photo with lighter leaves or ferns over it is found as a dim
#: screen, and the leaves, of its hue, lift the border's brightest tenth over
#: :data:`_MIN_AUTO_LEVEL` (measured: the 120th-152nd held-out sets' 832 screens found, 56 and
#: more, the three dimmest 56, 57 and 59; their photos without a screen found, a fern's, leaves'
#: and an aquarium's grounds 37, 45 and 53, a gaming room and foliage 56 and 67 and more)
_MIN_KEY_LEVEL = 50


def detect_screen(
    rgb: np.ndarray,
    border: float = DEFAULT_BORDER,
    prior: tuple[int, int, int] | None = None,
    subject_mask: np.ndarray | None = None,
) -> Detection:
    """Decide whether ``rgb`` (uint8 (H, W, 3)) shows a screen on its border.

    ``prior``: the colour the screen was meant to be (e.g. the generation's requested colour);
    the screen found must be of its hue (or neutral at its brightness), but its exact shade is
    measured. ``subject_mask``: float (H, W) 0..1, where the subject likely is; the border
    under it (> 0.5) is not examined. Without a prior, where none is found, a green screen
    seen through a net or veil is sought (:mod:`.netted`); a screen found is refused where the
    border's pixels of its hue are darker than :data:`_MIN_AUTO_LEVEL` or its colour than
    :data:`_MIN_KEY_LEVEL`, where it lies in folds
    (:mod:`.folds`), or where it is yellow-green and lit unevenly.
    """
    img, mask, b = border_sample(rgb, border, subject_mask)
    # the pattern test's maps are made on the other core while the colours are examined
    maps = in_background(lambda: pattern_maps(img))
    texture = border_texture(img, b)[mask]
    px = matte.rows_where(img, mask)
    hue, chroma = hue_chroma(px)

    neutral = prior is not None and matte.is_neutral(prior)
    p_hue = (
        None if prior is None or neutral else float(hue_chroma(np.array([prior], np.float32))[0][0])
    )
    pattern, grain, coarse = (x[mask] for x in maps.result())
    common = (px, hue, chroma, texture, pattern)
    if neutral:
        lum_p = float(np.mean(prior))
        kind = matte.neutral_kind(prior)
        lo = {"grey": lum_p - 60.0, "white": 150.0, "black": -1.0}[kind]
        hi = {"grey": lum_p + 60.0, "white": 256.0, "black": 100.0}[kind]
        lum = matte.grey_rows(px)
        members = (chroma <= 18.0) & (lum >= lo) & (lum <= hi)
        return smooth_screen(members, *common, True, f"a {kind}")[0]
    what = "a screen" if prior is None else "a #{:02x}{:02x}{:02x} screen".format(*prior)
    fine = (grain, coarse)
    det = chroma_screen(common, fine, mask, p_hue, matte.MIN_KEY_CHROMA, what)
    if det.key_rgb is None:
        # a dull screen (an under-lit or greyish green, or the prior's hue): pixels of lower
        # chroma within the expected hue; only where the first look found none
        dull = chroma_screen(common, fine, mask, p_hue, MIN_DULL_CHROMA, what, dull=True)
        if dull.key_rgb is not None:
            det = dull
    seen = img
    if (det.key_rgb is None or prior is None) and is_grainy(img, mask, common, fine, p_hue):
        # (its folds too: grain on a dim screen swings its brightness as far as folds do)
        seen = cv2.GaussianBlur(img, (0, 0), GRAIN_SIGMA)
        if det.key_rgb is None:
            grainy = (px, hue, chroma, border_texture(seen, b)[mask], pattern_maps(seen)[0][mask])
            det = chroma_screen(grainy, fine, mask, p_hue, matte.MIN_KEY_CHROMA, what)
    if prior is None and det.key_rgb is None:
        det = netted_screen(img, mask, px, hue, chroma) or det
    if prior is None and det.key_rgb is not None:
        k_hue = float(hue_chroma(np.array([det.key_rgb], np.float32))[0][0])
        of_hue = (hue_dist(hue, k_hue) <= SCREEN_SPAN) & (chroma >= MIN_DULL_CHROMA)
        lit = float(np.percentile(px.max(axis=1)[of_hue], 90)) if of_hue.any() else 0.0
        if lit < _MIN_AUTO_LEVEL or max(det.key_rgb) < _MIN_KEY_LEVEL:
            why = (
                f"the border's colour {hex_color(det.key_rgb)} is too dark to be a screen (like "
                "a dim room, a night scene or a fluorescence image)"
            )
            return Detection(None, False, why, det.cover)
        folds, gap, uneven = fold_swings(seen, mask, det.key_rgb, b)
        if folds >= MIN_FOLDS and gap <= FOLD_SPREAD:
            why = (
                f"the border's colour {hex_color(det.key_rgb)} lies in folds, dark and light "
                f"{folds} times round the frame (like draped fabric), not a screen"
            )
            return Detection(None, False, why, det.cover)
        if in_range(k_hue, YELLOW_GREEN) and uneven >= UNEVEN:
            why = (
                f"the border's colour {hex_color(det.key_rgb)} is yellow-green and lit "
                f"unevenly ({uneven:.2f} of its brightness off a smooth surface, like sunlit "
                "foliage out of focus): such screens are detected only when lit evenly"
            )
            return Detection(None, False, why, det.cover)
    return det


def screen_shade(
    rgb: np.ndarray,
    border: float,
    key_rgb: tuple[int, int, int],
    subject_mask: np.ndarray | None = None,
) -> tuple[int, int, int] | None:
    """The shade of the chroma colour ``key_rgb``'s hue that ``rgb``'s border shows: that of the
    screen :func:`detect_screen` finds with it as the prior, or, where the border is no clean
    screen (hair, a veil or the subject over most of it), the median colour of the border's
    smooth pixels of that hue (clearly saturated, within :data:`hues.PRIOR_HUE` of it, then within
    :data:`hues.SCREEN_SPAN` of their dominant hue) where they are :data:`_SHADE_SHARE` of the
    border or more (all its pixels of that hue, where fewer are smooth); ``None`` where they are
    fewer: keyed as given, a pure preset is far from a real or generated screen's shade."""
    found = detect_screen(rgb, border, key_rgb, subject_mask).key_rgb
    if found is not None:
        return found
    img, mask, b = border_sample(rgb, border, subject_mask)
    px = matte.rows_where(img, mask)
    hue, chroma = hue_chroma(px)
    p_hue = float(hue_chroma(np.array([key_rgb], np.float32))[0][0])
    dominant = dominant_hue(hue, chroma, p_hue, max(16.0, _SHADE_SHARE * hue.size))
    if dominant is None:
        return None
    around = dominant[1]
    smooth = flat(around, border_texture(img, b)[mask], float(matte.median(chroma[around])))
    return median_colour(px, smooth if smooth.sum() >= 16 else around)


def estimate_key_color(
    image: Any, *, border: float = DEFAULT_BORDER, prior_color: Any = None
) -> tuple[int, int, int] | None:
    """Estimate the screen colour from the image border; ``None`` if the border is no screen.

    See :func:`detect_screen`: one smooth, clearly saturated colour must cover at least half of
    the border band (``border`` x short side wide). Returns the median of those pixels.
    ``prior_color``: the screen must be of that colour's hue (or, neutral, its brightness).
    """
    rgb, _ = inputs.to_arrays(image)
    b = inputs.check_border(border)
    prior = None if prior_color is None else inputs.parse_key("prior_color", prior_color)
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        return None
    return detect_screen(rgb, b, prior).key_rgb
