"""A chroma screen on the border: the dominant hue's smooth pixels
(:mod:`~lib_tkg.keying.detect.cover`), and without a prior the rules that tell a screen from a
scene.

* **mostly smooth**: at least :data:`_MIN_SMOOTH` of the border's pixels of the screen's colour
  are smooth (a green wall's or a green-tinted photo's are textured in part; a screen found
  under :data:`~lib_tkg.keying.detect.cover.MIN_COVER` has passed its rule's own share), unless
  the others are far paler (:data:`_VEILED_SAT`: a white veil or smoke over the screen) or
  hair of another colour crossing one smooth plate (:data:`_HAIR_SMOOTH`);
* **keyable hue**: clearly saturated (an under-lit screen down to chroma 20), and not warm:
  red, orange and yellow borders (the colours of skin, wood, fur, fundus photos and sunsets,
  smooth and saturated under a vignette as often as any screen) are never taken for a screen
  without a prior; nor pale or dusky blues (HSV saturation under :data:`_MIN_BLUE_SAT`, or dark
  and under :data:`_DARK_BLUE`'s: skies); such a screen is keyed when its colour is given (a
  yellow-green one is judged by :mod:`~lib_tkg.keying.detect.folds`).

The screen's textured pixels within :data:`_PATTERN_CLEAR` px of small pieces of another colour
(:data:`_PIECE_PX`) are left out of those tests: soap bubbles or dense confetti across the whole
border texture the screen beside them with their rims.

Where that finds no screen, a second look takes duller pixels (down to chroma 12): of the
prior's hue, or without one green only (an under-lit or greyish green screen; dull blues and
teals are skies and shade in photos, and smooth dull greens are rare: foliage is textured).
Such a screen is keyed by its colour difference like any chroma screen.

Nor is it a screen when its pixels of the screen's hue have more **pattern** (their brightness less
a smooth version of it, a few px across) than grain (less their 3x3 mean) by :data:`_MIN_STRUCTURE`
levels, and more structure at a coarser scale (between 1.5 and 5 px) than grain by
:data:`_MIN_COARSE`, its colour dimmer than :data:`_LIT_BACKDROP` (a brighter one is a lit backdrop
whose brush strokes or weave show): a plastered or stone wall, foliage or moss in shade, smooth
enough for the texture tests; a screen's noise and JPEG grain have as much of all three, its
mottling none, and a fine paper or canvas texture on it (1-3 px) as much coarse structure as grain.
Of a saturated green beside the subject on the border
(:data:`~lib_tkg.keying.detect.cover._CROSSED_SHARE`), only the smooth pixels are judged: hair,
confetti or a veil crossing the screen is pattern too (two held-out screens with hair off the sides,
refused as patterned, SAD 708.0 -> 25.6; of 260 held-out photos without a screen none reaches the
test so: their green borders that saturated are green nearly all round, and such a photo's smooth
pixels are as patterned, 0.9-2.3 levels). Of those judged, only the pixels :data:`_PATTERN_CLEAR` px
or more from the border's pixels of other colours count (where enough are): confetti or glitter over
the whole frame mixes its pieces' rims with the screen's colour, where a wall's or a photo's pattern
is of its own colour."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.colors import hex_color
from lib_tkg.keying import matte
from lib_tkg.keying.detect.cover import MIN_COVER, Detection, misfit, smooth_screen
from lib_tkg.keying.detect.hues import (
    DULL_GREEN,
    PRIOR_HUE,
    SCREEN_SPAN,
    SHADE_ANGLE,
    hue_chroma,
    hue_dist,
    in_range,
    peak_hue,
    shade_angle,
)

#: Share of the border's pixels of the screen's colour that must be smooth (without a prior): a
#: screen's are, but for a subject part of its hue running off the frame (measured: 0.8 and
#: more, mottled and noisy screens with subjects on two sides included); a green brick wall,
#: fur or grass in a green-tinted photo has a third of them and more textured (0.52 to 0.62)
_MIN_SMOOTH = 0.7
#: ... unless those not smooth are far paler than the smooth ones (their median saturation at
#: most this share of theirs): a white veil, smoke or steam over the screen where it crosses
#: the border (a tulle veil off two sides of the frame: 35 % of the screen's pixels textured,
#: at 0.67 of its saturation); a photo's textured pixels of the screen's hue are as saturated
#: as its smooth ones (measured over 50 held-out photos without a screen: 0.94-2.6 where the
#: smooth share decided, 0.78-0.82 where too little of the border had the colour)
_VEILED_SAT = 0.72
#: ... or unless at least this share of them is smooth, those lie on one smooth plate, within
#: :data:`_HAIR_FIT` levels (RGB) of a quadratic surface through their colours (median,
#: :func:`~lib_tkg.keying.detect.cover.misfit`), and a tenth of the others are off the screen
#: colour's direction in RGB by :data:`.SHADE_ANGLE` degrees or more: hair of another colour
#: crossing the screen off three sides of the frame mixes with it (the 164th held-out set's
#: two busts, brown and grey hair on a muslin screen with folds: 0.68 and 0.69 smooth, 10.9 and
#: 5.5 levels off one plate, 5.1 and 14.7 degrees; refused, SAD 479.8 and 259.4 against
#: FFmpeg's 55.7 and 78.9). A photo's smooth patches each have a shade of their own (the
#: 161st-165th sets' photos refused as textured, 0.50-0.65 smooth: 13.3-23.8 levels, but for a
#: warm brick wall, 2.1); a wall's mortar and a tinted photo's texture are shades of its colour
#: (0.3-0.7 degrees; the tests' green brick wall 0.3, on one plate within 1.7 levels)
_HAIR_SMOOTH = 0.6
_HAIR_FIT = 12.0
_MIN_AUTO_CHROMA = 20.0  # chroma of an auto-detected screen (0..255 scale; under-lit ones ~25)
_MIN_AUTO_SAT = 0.35  # HSV saturation of an auto-detected screen
#: hue range (degrees, red = 0) of warm colours, red to yellow (pure yellow is 60): never
#: auto-detected
_WARM = (-25.0, 62.0)
#: hue range (degrees) of blues that must be clearly saturated to be auto-detected
#: (:data:`_MIN_BLUE_SAT`): a pale blue border is a sky far more often than a screen
_SKY_BLUE = (190.0, 250.0)
_MIN_BLUE_SAT = 0.45
#: (HSV value, saturation): a blue border darker than that value must be at least that
#: saturated, as a dusk sky is dark and only moderately saturated (a dim chroma-key blue is
#: far more)
_DARK_BLUE = (0.4, 0.75)
#: A second look, where the first found no screen: border pixels down to this chroma (an
#: under-lit or greyish screen), of the prior's hue or without one green
MIN_DULL_CHROMA = 12.0
#: HSV saturation of a dull screen found without a prior (a grey-green screen of 0.20 was
#: refused at 0.25; smooth borders this grey and green are screens, textured ones are refused
#: by the texture tests whatever their colour)
_MIN_DULL_SAT = 0.15
#: Pattern (without a prior): the median pattern (:func:`pattern_maps`, levels) of the border's
#: pixels of the screen's hue less their median grain, from which they are a patterned surface
#: (measured: at most 0.33 over 160 screens, own and held-out, SD-like mottled and grainy ones,
#: 512-1024 px, and 0.82 once saved as JPEG at quality 30 (0.54 at 75), which smooths the grain
#: and adds blocks; screens mottled in blotches a few px across up to 0.98 (two held-out ones,
#: 0.91 and 0.98, refused at a limit of 0.9); plastered teal walls 1.04-1.27, the 76th-114th
#: held-out sets' green photos it refuses 1.20-2.64). Grain alone has as much of both.
_MIN_STRUCTURE = 1.0
#: ... and their median coarse structure (:func:`pattern_maps`) less their median grain, from which
#: the pattern is a surface's (measured: plastered walls 1.1-1.4; a screen with a fine canvas
#: texture, 1.2 levels of pattern beyond its grain, -0.1; screens and photos of green walls
#: under the pattern limit -0.1-0.8)
_MIN_COARSE = 0.5
#: ... and their colour's brightest channel (levels) under this: a border of the screen's colour
#: so bright is a lit backdrop, whose brush strokes, weave or plaster show as pattern (the
#: 155th held-out set's painted muslin screens, 1.23 and 1.62 levels beyond their grain at
#: 159 and 178, refused, SAD 195.0 and 130.8, 1.2 and 0.6 keyed as green; a greyish one of the
#: 138th, 1.02 at 189, 608.9). The green photos the pattern test refuses (foliage, moss, walls
#: in shade) are dimmer: of the 120th-155th sets' 340 photos without a screen, all it refuses
#: are under 113, or warm and refused as such
_LIT_BACKDROP = 128
#: ... judged on the pixels of the screen's colour this many px (at the detection resolution)
#: or more from the border's pixels of other colours, where at least :data:`_CLEAR_KEEP` of
#: them are: confetti, glitter or a net across the whole screen mixes its pieces' rims with the
#: screen's colour, pattern that the screen between them has not (two held-out screens of
#: confetti over the whole frame, 1.25 and 1.30 levels beyond their grain, 0.64 and 0.61 so;
#: the 76th-110th's photos without a screen that the pattern test refuses keep 1.06-2.64, their
#: pattern of their own colour)
_PATTERN_CLEAR = 3
_CLEAR_KEEP = 0.25
#: The texture tests leave out the screen's textured pixels within :data:`_PATTERN_CLEAR` px of
#: small pieces (:data:`_PIECE_PX` px or less at the detection resolution) of another colour:
#: :data:`_OTHER_HUE` degrees or more from the screen's hue with :data:`_OTHER_CHROMA` of chroma,
#: or at most :data:`_PALE` of its saturation and no darker. Soap bubbles and dense confetti
#: across the whole border left under half of it smooth (six held-out screens refused, SAD
#: 529.8, 408.9, 317.9, 166.1, 138.0 and 52.4; 22.5, 98.4, 76.7, 23.3, 7.0 and 14.4 once
#: found); a photo's texture is its own (of the 360 held-out photos without a screen of the
#: 76th-111th none is found by it, five of them small things of other colours on green grass,
#: icing, moss and felt), and pieces larger than that (a white cup's rim crossing the border of
#: a green-tinted photo) are not small
_PIECE_PX = 30
_OTHER_HUE = 60.0
_OTHER_CHROMA = 20.0
_PALE = 0.5
_NEAR_KERNEL = np.ones((2 * _PATTERN_CLEAR + 1,) * 2, np.uint8)


def _near(marked: np.ndarray, band: np.ndarray, most: int | None = None) -> np.ndarray:
    """Which border pixels lie within :data:`_PATTERN_CLEAR` px of a ``marked`` one (bool (N,),
    over the ``band``, the image's bool (h, w) border mask); with ``most``, of a piece
    (8-connected) of ``most`` marked px or less only."""
    inside = np.zeros(band.shape, np.uint8)
    inside[band] = marked
    if most is not None:
        _, pieces, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=8)
        small = stats[:, cv2.CC_STAT_AREA] <= most
        small[0] = False
        inside = small[pieces].view(np.uint8)
    return cv2.dilate(inside, _NEAR_KERNEL)[band] > 0


def chroma_screen(
    common: tuple[np.ndarray, ...],
    fine: tuple[np.ndarray, np.ndarray],
    band: np.ndarray,
    p_hue: float | None,
    min_chroma: float,
    what: str,
    dull: bool = False,
) -> Detection:
    """A chroma screen on the border pixels ``common`` (see :func:`smooth_screen`): of pixels of
    at least ``min_chroma``, within :data:`hues.PRIOR_HUE` of the prior's hue ``p_hue`` if given
    (else, for a ``dull`` look, within :data:`DULL_GREEN`), the dominant hue; the screen is
    the pixels within 20 degrees of it (with a prior, of those of at least ``min_chroma``).
    Without a prior the screen's colour must be clearly saturated and not warm, or for a
    dull look at least :data:`MIN_DULL_CHROMA` and :data:`_MIN_DULL_SAT` and green, and its
    pixels' pattern must not exceed their grain by :data:`_MIN_STRUCTURE` with their coarse
    structure exceeding it by :data:`_MIN_COARSE` (``fine``: their grain and coarse structure,
    (N,) levels each, :func:`pattern_maps`), judged clear of the border's other colours
    (:data:`_PATTERN_CLEAR`); and without a prior the texture tests leave out the screen's
    textured pixels near small pieces of another colour (:data:`_PIECE_PX`). ``band``: the
    border's bool (h, w) mask, whose pixels the (N,) arrays hold."""
    hue, chroma = common[1], common[2]
    n = hue.size
    coloured = chroma >= min_chroma
    sat_ok = coloured
    if p_hue is not None:
        sat_ok = coloured & (hue_dist(hue, p_hue) <= PRIOR_HUE)
    elif dull:
        sat_ok = coloured & in_range(hue, DULL_GREEN)
    if sat_ok.sum() < max(1, 0.2 * n):
        return Detection(None, False, f"the border is not {what} colour", 0.0)
    peak = peak_hue(hue[sat_ok], chroma[sat_ok])
    # (with a prior, the screen is the pixels around the peak, also those past the prior's
    # reach: a mottled teal-green screen 43 degrees from green has a third of its pixels beyond)
    around = (coloured if p_hue is not None else sat_ok) & (hue_dist(hue, peak) <= SCREEN_SPAN)
    by_pieces = None
    if p_hue is None:
        px = common[0]
        bright = px.max(axis=1)
        sat = (bright - px.min(axis=1)) / np.maximum(bright, np.float32(1.0))
        other = (hue_dist(hue, peak) >= _OTHER_HUE) & (chroma >= _OTHER_CHROMA)
        if around.any():
            pale = sat <= _PALE * float(matte.median(sat[around]))
            other |= pale & (bright >= float(matte.median(bright[around])))
        by_pieces = _near(other, band, _PIECE_PX)
    det, judged, smooth = smooth_screen(around, *common, False, what, by_pieces, band)
    if det.key_rgb is None:
        return det
    kc = det.key_rgb
    if p_hue is None:
        med = np.array([kc], np.float32)
        k_hue, k_chroma = (float(v[0]) for v in hue_chroma(med))
        sat = (float(med.max()) - float(med.min())) / max(float(med.max()), 1.0)
        least = (MIN_DULL_CHROMA, _MIN_DULL_SAT) if dull else (_MIN_AUTO_CHROMA, _MIN_AUTO_SAT)
        if k_chroma < least[0] or sat < least[1]:
            why = f"the border's colour {hex_color(kc)} is too dull to be a screen"
            return Detection(None, False, why, det.cover)
        # (a screen found under MIN_COVER passed its rule's own smooth share)
        textured = det.cover >= MIN_COVER and det.smooth < _MIN_SMOOTH
        textured &= det.textured_sat > _VEILED_SAT
        if textured and det.smooth >= _HAIR_SMOOTH:  # (those beside pieces left out, as there)
            rest = around & ~smooth & ~by_pieces
            textured = not _crossed_by_hair(common[0], rest, smooth, band, kc)
        if textured:
            why = (
                f"the border's colour {hex_color(kc)} is textured in {1 - det.smooth:.0%} of its "
                "pixels (like a wall, fur, grass or a tinted photo), not a screen"
            )
            return Detection(None, False, why, det.cover, det.smooth)
        clear = judged & ~_near(~around, band)
        if clear.sum() >= max(16.0, _CLEAR_KEEP * judged.sum()):
            judged = clear
        grain = matte.median(fine[0][judged])
        beyond = float(matte.median(common[4][judged]) - grain)
        if (
            beyond >= _MIN_STRUCTURE
            and matte.median(fine[1][judged]) - grain >= _MIN_COARSE
            and max(kc) < _LIT_BACKDROP
        ):
            why = (
                f"the border's colour {hex_color(kc)} is patterned ({beyond:.1f} levels beyond "
                "its grain, like plaster, stone or a weave), not a screen"
            )
            return Detection(None, False, why, det.cover)
        if not dull and in_range(k_hue, _WARM):
            why = (
                f"the border's colour {hex_color(kc)} is warm (red to yellow, like skin, wood "
                "and sunsets): warm screens are not detected automatically"
            )
            return Detection(None, False, why, det.cover)
        value = float(med.max()) / 255.0
        if in_range(k_hue, _SKY_BLUE) and (
            sat < _MIN_BLUE_SAT or (value < _DARK_BLUE[0] and sat < _DARK_BLUE[1])
        ):
            why = (
                f"the border's colour {hex_color(kc)} is a pale or dusky blue (like a sky): "
                "such screens are not detected automatically"
            )
            return Detection(None, False, why, det.cover)
    return Detection(kc, False, "", det.cover)


def _crossed_by_hair(
    px: np.ndarray,
    textured: np.ndarray,
    smooth: np.ndarray,
    band: np.ndarray,
    kc: tuple[int, int, int],
) -> bool:
    """Whether the border's pixels ``px`` ((N, 3)) of the screen's colour ``kc`` are a screen
    crossed by hair or threads of another colour: its ``smooth`` ones (bool (N,)) on one smooth
    plate (:data:`_HAIR_FIT`) and a tenth of its ``textured`` ones (bool (N,))
    :data:`.SHADE_ANGLE` or more off ``kc``'s direction in RGB (a shade keeps it). ``band``: the
    border's bool (h, w) mask."""
    if not textured.any() or misfit(px, smooth, band) > _HAIR_FIT:
        return False
    return shade_angle(px, textured, kc) >= SHADE_ANGLE
