"""Screen detection: is the image's border a keyable screen, and of which colour?

The border band (``border`` x the short side) of a reduced copy (:data:`_DETECT_RES` px on the
long side, at least :data:`_DETECT_SHORT` on the short one) is examined. It is a screen when
one colour dominates it and a smooth plate explains that colour's variation:

* **one colour**: the pixels within 20 degrees of the dominant hue (saturation-weighted hue
  histogram; with a prior colour, the peak nearest the prior's hue), or for a neutral prior
  the near-grey pixels at the prior's brightness, must cover at least :data:`MIN_COVER` of the
  border (the subject may reach the border elsewhere; ``subject_mask`` excludes where it is);
  a green one :data:`_MIN_GREEN_COVER` when nearly all of it is smooth (a subject running off
  two or three sides of the frame: smooth green borders are rare in photos, smooth blue ones
  are skies), and a clearly saturated green one :data:`_CROSSED_COVER` where the subject is
  most of the rest of the border (:data:`_CROSSED_SHARE`) and hair or a veil crosses some of
  it (:data:`_CROSSED_SMOOTH`; more of it, :data:`_CROSSED_EVEN`, where the smooth pixels lie
  on one smooth plate: :data:`_CROSSED_FIT`);
* **smooth**: those pixels must be flat at the reduced scale, local standard deviation within
  a 5x5 window under ``_TEXTURE_LV + _TEXTURE_REL * chroma`` levels (beside a thin strand
  crossing the screen, that of the window's median: :func:`_texture`): gradients, vignettes,
  soft shadows and SD-style mottling pass, fur, foliage, fabric and other texture do not; and
  within 6 levels (5x5 mean) of a smooth surface through them, so that a pattern smooth at
  that scale (a green brick wall's mortar lines, planks, tiles) does not pass either;
* **mostly smooth** (no prior only): at least :data:`_MIN_SMOOTH` of the border's pixels of the
  screen's colour are smooth (a green wall's or a green-tinted photo's are textured in part;
  a screen found under :data:`MIN_COVER` has passed its rule's own share), unless the others are
  far paler (:data:`_VEILED_SAT`: a white veil or smoke over the screen);
* **keyable hue** (no prior only): clearly saturated (an under-lit screen down to chroma 20),
  and not warm: red, orange and yellow borders (the colours of skin, wood, fur, fundus photos
  and sunsets, smooth and saturated under a vignette as often as any screen) are never taken
  for a screen without a prior; a yellow-green one (:data:`_YELLOW_GREEN`) only where a smooth
  surface explains its brightness (:data:`_UNEVEN`: sunlit foliage out of focus is dappled
  light and shade, a chartreuse screen is not); nor pale or
  dusky blues (HSV saturation under :data:`_MIN_BLUE_SAT`, or dark and under
  :data:`_DARK_BLUE`'s: skies); such a screen is keyed when its colour is given.

Without a prior, the screen's textured pixels within :data:`_PATTERN_CLEAR` px of small pieces
of another colour (:data:`_PIECE_PX`) are left out of those tests: soap bubbles or dense confetti
across the whole border texture the screen beside them with their rims.

Where that finds no screen, a second look takes duller pixels (down to chroma 12): of the
prior's hue, or without one green only (an under-lit or greyish green screen; dull blues and
teals are skies and shade in photos, and smooth dull greens are rare: foliage is textured).
Such a screen is keyed by its colour difference like any chroma screen.

Without a prior, a screen is also refused when its colour lies in **folds** along the frame:
where the brightness of pixels of the screen's chromaticity, less a smooth (quartic) surface
through them, swings from :data:`_FOLD_SWING` above to as far below (or back)
:data:`_MIN_FOLDS` times or more round the border band, and those swings are spread round the
frame (no arc of the band without one is longer than :data:`_FOLD_SPREAD` of it). That is
draped fabric and velvet, shaded dark and light at one chromaticity, smooth at the scale of the
texture tests; a screen's vignette is in the surface (a strong one too, whose dark corners a
quadratic surface does not follow: round the frame its brightness rises and falls four times),
and a shadow, veil or subject crossing the border swings a few times at most; a subject part
of the screen's hue running off a corner (a dark green coat, shaded in its own folds) swings
more, but only there.

Nor is it a screen, without a prior, when its pixels of the screen's hue have more **pattern**
(their brightness less a smooth version of it, a few px across) than grain (less their 3x3
mean) by :data:`_MIN_STRUCTURE` levels, and more structure at a coarser scale (between 1.5 and
5 px) than grain by :data:`_MIN_COARSE`: a plastered or stone wall, smooth enough for the
texture tests; a screen's noise and JPEG grain have as much of all three, its mottling none, and
a fine paper or canvas texture on it (1-3 px) as much coarse structure as grain. Of a saturated
green beside the subject on the border (:data:`_CROSSED_SHARE`), only the smooth pixels are
judged: hair, confetti or a veil crossing the screen is pattern too (two held-out screens with
hair off the sides, refused as patterned, SAD 708.0 -> 25.6; of 260 held-out photos without a
screen none reaches the test so: their green borders that saturated are green nearly all
round, and such a photo's smooth pixels are as patterned, 0.9-2.3 levels). Of those judged,
only the pixels :data:`_PATTERN_CLEAR` px or more from the border's pixels of other colours
count (where enough are): confetti or glitter over the whole frame mixes its pieces' rims with
the screen's colour, where a wall's or a photo's pattern is of its own colour.

A screen **grainy** all over (grain or pixel noise strong enough to survive the reduction) is
textured to those tests; where the border's pixels of its dominant hue are grain, as much
pattern as grain, little coarse structure and alike all round (:func:`_grainy`), the folds test
and, where the first look finds no screen, the texture tests read a copy smoothed over
:data:`_GRAIN_SIGMA` px. A photo's texture (fur, grass, foliage) has more pattern and coarse
structure than its grain, or lies in patches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from lib_tkg.colors import hex_color
from lib_tkg.keying import fields, inputs, matte
from lib_tkg.keying.edges import detail, luminance
from lib_tkg.keying.threads import in_background

#: Default width of the border band, as a fraction of the short side.
DEFAULT_BORDER = 0.04
#: Share of the border the screen colour must cover (smooth pixels of the dominant colour).
MIN_COVER = 0.5
#: ... for a green screen colour of which :data:`_CLEAN_SHARE` or more is smooth (subjects
#: running off three sides: five held-out screens with hair, fringe or a jersey there covered
#: 41-44 % of the border, refused at 45 %, SAD 1128 -> 111, and two more on the 99th, untouched,
#: 160 -> 42; of 240 held-out photos without a screen none was found by this rule, the nearest
#: a blurred foliage border at 38 %, 83 % of its green smooth)
_MIN_GREEN_COVER = 0.40
_CLEAN_SHARE = 0.8
#: ... and for a green of at least :data:`_CROSSED_CHROMA` (the median chroma of the border's
#: pixels of its hue, levels) where :data:`_CROSSED_SHARE` of the border or less has its hue
#: (the subject, of other colours, is the rest) and :data:`_CROSSED_SMOOTH` of those pixels
#: are smooth (hair, a veil or confetti crossing the screen there), from this share of the
#: border. Ten held-out screens with hair flips, curls, veils or a player off the frame's
#: sides, 30-50 % of the border smooth green and 46-73 % of it green, with chroma 50-92, were
#: refused as textured or too little: SAD 2457.3 -> 269.0. Of 260 held-out photos without a
#: screen (76th-101st) none is found by the rule, nor with any one of its bounds loosened
#: (chroma 35, cover 0.22, smooth 0.5, share 0.95): their green borders of that chroma are
#: green nearly all round (93 % and more: grass, a pitch, foliage), the others dull (42 and
#: under: moss, a velvet curtain, leaves in shade)
_CROSSED_CHROMA = 45.0
_CROSSED_COVER = 0.3
_CROSSED_SHARE = 0.85
_CROSSED_SMOOTH = 0.6
#: ... or :data:`_CROSSED_EVEN` of them where those smooth pixels lie on one smooth plate, within
#: :data:`_CROSSED_FIT` levels of a quadratic surface through their colours (median): dense hair
#: or a long veil crossing the screen off every side leaves fewer of its pixels smooth, but of
#: one plate's colour. Measured: three held-out busts so (the 98th's bride, the 118th's blonde
#: elf and sorceress, 0.47-0.57 of their pixels smooth, refused as textured), 1.8-4.6 levels;
#: the three of the 76th-118th's 430 photos without a screen that pass the rule's other bounds
#: with that share (a pile of flat leaves, foliage, a mossy bank: each patch of its own shade)
#: 15.8-26.1
_CROSSED_EVEN = 0.45
_CROSSED_FIT = 10.0
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
_DETECT_RES = 256
#: px on the short side of the reduced copy, at least (or all of it): a 40000 x 1000 strip
#: reduced to 256 px long is 6 px across, and a subject in the middle of it reaches the border
#: band's texture windows (a flat screen read as textured)
_DETECT_SHORT = 32
#: degrees between a named key colour's or prior's hue and the border's dominant hue within
#: which that is the screen's (measured and keyed): generated and real screens drift to teal or
#: yellow-green (a bluish green screen 50 degrees from green); a sky (90 degrees) does not pass
_PRIOR_HUE = 60.0
#: degrees round the dominant hue within which the border's pixels are the screen's (with a
#: prior, also past its reach: a mottled teal-green screen 43 degrees from green)
_SCREEN_SPAN = 20.0
_TEXTURE_LV = 6.0
#: times a pixel's distance from its 5x5 median that counts as its texture beside a strand
#: (:func:`_texture`; held-out screens crossed by a web's threads, rain and confetti along the
#: border were refused as textured, SAD 1021, 426 and 137 -> 12, 13 and 1.5; none of 240 held-out
#: photos without a screen found by it)
_STRAND_DEV = 2.0
_TEXTURE_REL = 0.06
_PATTERN_SIGMA = 3.0  # px at the detection resolution
_PATTERN_LV = 6.0  # levels of mean brightness difference from the smooth surface
# px: the reach of the pattern test, the farthest any test reads from the border band (the
# Gaussian's kernel radius for float32, OpenCV's cvRound(4 sigma), and the 5x5 window's)
_PATTERN_REACH = round(4 * _PATTERN_SIGMA) + 2
_MIN_AUTO_CHROMA = 20.0  # chroma of an auto-detected screen (0..255 scale; under-lit ones ~25)
_MIN_AUTO_SAT = 0.35  # HSV saturation of an auto-detected screen
#: hue range (degrees, red = 0) of warm colours, red to yellow (pure yellow is 60): never
#: auto-detected
_WARM = (-25.0, 62.0)
#: hue range (degrees) of yellow-greens, from the warm colours to the greens of screens:
#: auto-detected only where lit evenly (:data:`_UNEVEN`). Chartreuse screens whose vignetted or
#: pale borders read 75-79 degrees were refused as warm in six held-out sets, while the sixty
#: photos without a screen there (yellow-green bokeh and foliage among them) were refused by the
#: other tests.
_YELLOW_GREEN = (62.0, 80.0)
#: ... the 90th percentile of the border's log brightness less a smooth (quadratic) surface
#: through its pixels of the screen's chromaticity (:func:`_folds`), from which a yellow-green
#: border is dappled light (measured over eight held-out sets: chartreuse and yellow-green
#: screens 0.04-0.16 with vignettes, mottling, cast shadows and subjects at the border, whose
#: two at 0.14 and 0.16 were refused at 0.13, SAD 357 and 365; greener screens, which this test
#: does not judge, up to 0.29; blurred sunlit foliage, the tests' model over 150 seeds,
#: 0.16-0.31, two under 0.17; no held-out photo without a screen reaches this test)
_UNEVEN = 0.17
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
_MIN_DULL_CHROMA = 12.0
#: HSV saturation of a dull screen found without a prior (a grey-green screen of 0.20 was
#: refused at 0.25; smooth borders this grey and green are screens, textured ones are refused
#: by the texture tests whatever their colour)
_MIN_DULL_SAT = 0.15
#: hue range (degrees) of a dull screen found without a prior: greens only, as dull blue and
#: teal borders are common in photos (dusk and overcast skies, shade) and smooth dull greens
#: are not (foliage and grass are textured); from 75, as pale and greyish yellow-green screens
#: read 80-81 degrees (a held-out set's two, HSV saturation 0.24 and 0.33, were refused at 85;
#: khaki and olive drab, 60-70, stay out)
_DULL_GREEN = (75.0, 155.0)
#: Folds (without a prior): log brightness swings, from this far above the smooth surface to as
#: far below it or back (0.2: 22 %), round the border band ...
_FOLD_SWING = 0.2
#: ... counted from pixels within this share of the screen's chromaticity (r, g, b over their
#: sum; a veil, smoke or subject mixed in shifts it), a run of more than :data:`_FOLD_GAP` px of
#: others starting a new count ...
_FOLD_CHROMATICITY = 0.03
_FOLD_GAP = 3
#: ... off a surface of this degree
_FOLD_DEGREE = 4
#: ... this many times or more: fabric, not a screen (measured: 8 to 33 for draped fabric and
#: velvet, at most 5 for green screens with subjects, veils, smoke and shadows at the border)
_MIN_FOLDS = 7
#: ... and spread round the frame: none of the band's arcs between consecutive swings is longer
#: than this share of it (measured: draped fabric, folds at any angle, at most 0.41; a dark
#: green coat running off a held-out screen's corner, 7 swings, 0.73)
_FOLD_SPREAD = 0.55
#: Pattern (without a prior): the median pattern (:func:`_pattern`, levels) of the border's
#: pixels of the screen's hue less their median grain, from which they are a patterned surface
#: (measured: at most 0.33 over 160 screens, own and held-out, SD-like mottled and grainy ones,
#: 512-1024 px, and 0.82 once saved as JPEG at quality 30 (0.54 at 75), which smooths the grain
#: and adds blocks; screens mottled in blotches a few px across up to 0.98 (two held-out ones,
#: 0.91 and 0.98, refused at a limit of 0.9); plastered teal walls 1.04-1.27, the 76th-114th
#: held-out sets' green photos it refuses 1.20-2.64). Grain alone has as much of both.
_MIN_STRUCTURE = 1.0
#: ... and their median coarse structure (:func:`_pattern`) less their median grain, from which
#: the pattern is a surface's (measured: plastered walls 1.1-1.4; a screen with a fine canvas
#: texture, 1.2 levels of pattern beyond its grain, -0.1; screens and photos of green walls
#: under the pattern limit -0.1-0.8)
_MIN_COARSE = 0.5
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
#: :func:`screen_shade`: share of the border's pixels, at least, of a given key colour's hue from
#: which their shade is keyed where the border is no clean screen (measured with ``green`` over
#: the 76th-118th held-out sets' 1290 composites: SAD 23027.5 -> 22783.1, eight changed, a mint
#: tulle veil 126.9 -> 5.5, a red-haired elf 99.1 -> 39.2, a goal net 56.6 -> 37.1; a grass
#: tuft off three sides 95.7 -> 115.9, FFmpeg's best 148.5)
_SHADE_SHARE = 0.1
#: Grainy screens: where the border's pixels of its dominant hue are grain (:func:`_grainy`),
#: the folds test and, where the first look finds no screen, the texture tests (and the
#: pattern's limit on smooth pixels) read a copy smoothed over :data:`_GRAIN_SIGMA` px (at the
#: detection resolution): grain a few px across averages out there, the texture of fur, grass
#: and foliage and the folds of fabric do not. Grain is noise: as much pattern as
#: grain (white noise 1.03 times, grain a px or two across up to 1.25; measured over 30 held-out
#: photos without a screen, 1.38 and more) and little coarse structure (white noise 0.19 of
#: its grain, held-out grainy screens 0.25-0.42; the photos 0.52 and more) ...
_GRAIN_PATTERN = 1.3
_GRAIN_COARSE = 0.45
#: ... a small share of the screen's brightness (median grain over median brightness: held-out
#: grainy and noisy screens 0.020-0.074; the own benchmark's procedural textures and foliage, a
#: palette in noise at every scale, 0.090-0.170: of the 120th-123rd held-out sets' 40 photos
#: without a screen, the benchmark's 48 scenes and scikit-image's photos, the only ones the
#: other bounds let through) ...
_GRAIN_SHARE = 0.08
#: ... or, where it is more, noise: this many times the grain of a copy of half the size (pixel
#: noise, white at the detection resolution, about 2; held-out noisy screens 1.7-2.07, grain
#: a few px across 1.2-1.7; the benchmark's foliage and textures, noise at every scale,
#: 1.32-1.52; photos 1.24 at most) ...
_GRAIN_HALVES = 1.7
_GRAIN_SIGMA = 1.0
#: ... alike all along the border: the 90th percentile of their texture at most this many times
#: its 25th (grain is everywhere on a screen, 1.3-1.7; a photo textured in patches 6.5 and more)
_GRAIN_EVEN = 2.5


@dataclass(frozen=True)
class Detection:
    """Result of :func:`detect_screen`: the screen colour or ``None`` and why not."""

    key_rgb: tuple[int, int, int] | None
    neutral: bool
    reason: str
    cover: float  # share of the border that is smooth screen colour (0..1)
    smooth: float = 1.0  # share of the border's pixels of the screen's colour that are smooth
    #: the median saturation of those that are not smooth, as a share of the smooth ones'
    textured_sat: float = 1.0


def _border_mask(h: int, w: int, b: int) -> np.ndarray:
    """The band of ``b`` px along the frame (everything if that covers it)."""
    mask = np.zeros((h, w), bool)
    if 2 * b >= h or 2 * b >= w:
        mask[:] = True
    else:
        mask[:b] = mask[-b:] = True
        mask[:, :b] = mask[:, -b:] = True
    return mask


def _local_texture(x: np.ndarray) -> np.ndarray:
    """Local texture of a float32 (h, w, 3) image, levels: the standard deviation in a 5x5
    window summed over the channels; or, where less, that of the image's 5x5 median there, or
    :data:`_STRAND_DEV` times the pixel's own distance from that median (summed over the
    channels), whichever is more: a pixel beside a thin strand crossing a smooth screen (a web's
    thread, rain, hair, confetti) is smooth, the strand's own pixels are not; texture (fur,
    grass, foliage) is no smoother for it, as its median varies and its pixels lie off it. An
    image under 5 px on a side: 0."""
    if min(x.shape[:2]) < 5:
        return np.zeros(x.shape[:2], np.float32)

    def window_std(y: np.ndarray) -> np.ndarray:
        mean = cv2.blur(y, (5, 5))
        var = cv2.blur(y * y, (5, 5)) - mean * mean
        return np.sqrt(np.maximum(cv2.transform(var, np.ones((1, 3), np.float32)), 0.0))

    med = cv2.medianBlur(np.clip(x, 0, 255).astype(np.uint8), 5).astype(np.float32)
    off = cv2.transform(cv2.absdiff(x, med), np.ones((1, 3), np.float32))
    return np.minimum(window_std(x), np.maximum(window_std(med), _STRAND_DEV * off))


def _texture(img: np.ndarray, b: int) -> np.ndarray:
    """:func:`_local_texture` found only in the band of ``b`` px along the frame (0 inside
    it), from four strips."""
    h, w = img.shape[:2]
    e = b + 4  # the reach of a 5x5 window of the 5x5 median: strips that wide are exact
    if 2 * e >= min(h, w):
        return _local_texture(img)
    out = np.zeros((h, w), np.float32)
    out[:b] = _local_texture(img[:e])[:b]
    out[-b:] = _local_texture(img[-e:])[-b:]
    out[:, :b] = _local_texture(np.ascontiguousarray(img[:, :e]))[:, :b]
    out[:, -b:] = _local_texture(np.ascontiguousarray(img[:, -e:]))[:, -b:]
    return out


def _pattern(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local pattern, grain and coarse structure, levels: the mean absolute difference in a 5x5
    window between the brightness and a smooth version of it (Gaussian, :data:`_PATTERN_SIGMA`
    px), between it and its 3x3 mean, and between two smooth versions of it (Gaussians of 1.5
    and 5 px). Mortar lines, planks and tiles are smooth at 5 px yet far from any smooth
    plate; a screen's gradients, shadows and mottling are not. Grain (noise) has about as much
    of each; a surface's pattern (plaster, stone) more of the first and the last, a fine
    texture (paper, canvas) more of the first only."""
    lum = luminance(img)
    dev, grain = detail(lum, _PATTERN_SIGMA), cv2.absdiff(lum, cv2.blur(lum, (3, 3)))
    coarse = cv2.absdiff(cv2.GaussianBlur(lum, (0, 0), 1.5), cv2.GaussianBlur(lum, (0, 0), 5.0))
    if min(img.shape[:2]) < 5:
        return dev, grain, coarse
    return cv2.blur(dev, (5, 5)), cv2.blur(grain, (5, 5)), cv2.blur(coarse, (5, 5))


def _reduced(rgb: np.ndarray, size: tuple[int, int], e: int) -> np.ndarray:
    """``rgb`` area-reduced to ``size`` = (w, h). When that is by a whole factor of 3 or more,
    only the frame ``e`` px wide is made, from four strips (0 inside it, where nothing that
    detection uses reaches): OpenCV reduces by such factors pixel by pixel, so they get the
    values of the whole."""
    h, w = rgb.shape[:2]
    sw, sh = size
    k = h // sh
    if k < 3 or (k * sw, k * sh) != (w, h) or 2 * e >= min(sw, sh):
        return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    small = np.zeros((sh, sw, 3), np.uint8)
    for y0, y1, x0, x1 in (
        (0, e, 0, sw),
        (sh - e, sh, 0, sw),
        (e, sh - e, 0, e),
        (e, sh - e, sw - e, sw),
    ):
        part = rgb[k * y0 : k * y1, k * x0 : k * x1]
        small[y0:y1, x0:x1] = cv2.resize(part, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    return small


def _hue_chroma(px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hue (degrees, red 0, green 120, blue 240) and chroma of (N, 3) float pixels."""
    c = matte.chroma_part(px)
    a = matte.rows_dot(c, np.array([2.0, -1.0, -1.0], np.float32) / math.sqrt(6.0))
    b = matte.rows_dot(c, np.array([0.0, 1.0, -1.0], np.float32) / math.sqrt(2.0))
    return np.degrees(np.arctan2(b, a)) % 360.0, np.sqrt(a * a + b * b)


def _hue_dist(hue: np.ndarray, ref: float) -> np.ndarray:
    return np.abs((hue - ref + 180.0) % 360.0 - 180.0)


def _in_range(hue: Any, span: tuple[float, float]) -> Any:
    """Whether hues (degrees: an array, or one hue) lie in ``span`` (degrees, low to high, on
    the circle)."""
    return _hue_dist(hue, sum(span) / 2) <= (span[1] - span[0]) / 2


def _peak_hue(hue: np.ndarray, weight: np.ndarray) -> float:
    hist = np.bincount((hue // 5).astype(np.int64) % 72, weights=weight, minlength=72)
    kernel = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    smooth = np.convolve(np.concatenate([hist[-2:], hist, hist[:2]]), kernel, mode="valid")
    return (int(np.argmax(smooth)) + 0.5) * 5.0


def _border_sample(
    rgb: np.ndarray, border: float, subject_mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """The reduced copy of ``rgb`` that detection examines (float32 levels, :data:`_DETECT_RES`
    px on the long side, at least :data:`_DETECT_SHORT` on the short one), its border band
    (bool, less where ``subject_mask`` is over 0.5, if enough is left) and the band's width
    there (px)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max(_DETECT_RES / max(h, w), _DETECT_SHORT / min(h, w)))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    b = max(1, round(border * min(size)))
    small = rgb if scale >= 1.0 else _reduced(rgb, size, b + _PATTERN_REACH)
    img = small.astype(np.float32)
    sh, sw = img.shape[:2]
    mask = _border_mask(sh, sw, b)
    if subject_mask is not None:
        sm = cv2.resize(subject_mask, (sw, sh), interpolation=cv2.INTER_AREA)
        if (mask & (sm <= 0.5)).sum() >= 16:
            mask &= sm <= 0.5
    return img, mask, b


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
    under it (> 0.5) is not examined.
    """
    img, mask, b = _border_sample(rgb, border, subject_mask)
    # the pattern test's maps are made on the other core while the colours are examined
    maps = in_background(lambda: _pattern(img))
    texture = _texture(img, b)[mask]
    px = matte.rows_where(img, mask)
    hue, chroma = _hue_chroma(px)

    neutral = prior is not None and matte.is_neutral(prior)
    p_hue = (
        None
        if prior is None or neutral
        else float(_hue_chroma(np.array([prior], np.float32))[0][0])
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
        return _smooth_screen(members, *common, True, f"a {kind}")[0]
    what = "a screen" if prior is None else "a #{:02x}{:02x}{:02x} screen".format(*prior)
    fine = (grain, coarse)
    det = _chroma_screen(common, fine, mask, p_hue, matte.MIN_KEY_CHROMA, what)
    if det.key_rgb is None:
        # a dull screen (an under-lit or greyish green, or the prior's hue): pixels of lower
        # chroma within the expected hue; only where the first look found none
        dull = _chroma_screen(common, fine, mask, p_hue, _MIN_DULL_CHROMA, what, dull=True)
        if dull.key_rgb is not None:
            det = dull
    seen = img
    if (det.key_rgb is None or prior is None) and _grainy(img, mask, common, fine, p_hue):
        # (its folds too: grain on a dim screen swings its brightness as far as folds do)
        seen = cv2.GaussianBlur(img, (0, 0), _GRAIN_SIGMA)
        if det.key_rgb is None:
            grainy = (px, hue, chroma, _texture(seen, b)[mask], _pattern(seen)[0][mask])
            det = _chroma_screen(grainy, fine, mask, p_hue, matte.MIN_KEY_CHROMA, what)
    if prior is None and det.key_rgb is not None:
        folds, gap, uneven = _folds(seen, mask, det.key_rgb, b)
        if folds >= _MIN_FOLDS and gap <= _FOLD_SPREAD:
            why = (
                f"the border's colour {hex_color(det.key_rgb)} lies in folds, dark and light "
                f"{folds} times round the frame (like draped fabric), not a screen"
            )
            return Detection(None, False, why, det.cover)
        k_hue = float(_hue_chroma(np.array([det.key_rgb], np.float32))[0][0])
        if _in_range(k_hue, _YELLOW_GREEN) and uneven >= _UNEVEN:
            why = (
                f"the border's colour {hex_color(det.key_rgb)} is yellow-green and lit "
                f"unevenly ({uneven:.2f} of its brightness off a smooth surface, like sunlit "
                "foliage out of focus): such screens are detected only when lit evenly"
            )
            return Detection(None, False, why, det.cover)
    return det


def _dominant_hue(
    hue: np.ndarray, chroma: np.ndarray, p_hue: float | None, least: float
) -> tuple[float, np.ndarray] | None:
    """The dominant hue (degrees) of the border's clearly saturated pixels (``hue``, ``chroma``:
    (N,) degrees and levels), within :data:`_PRIOR_HUE` of the prior's hue ``p_hue`` if given,
    and which of the border's pixels lie within :data:`_SCREEN_SPAN` of it among those (bool
    (N,)); ``None`` where fewer than ``least`` are clearly saturated."""
    of_hue = chroma >= matte.MIN_KEY_CHROMA
    if p_hue is not None:
        of_hue &= _hue_dist(hue, p_hue) <= _PRIOR_HUE
    if of_hue.sum() < least:
        return None
    peak = _peak_hue(hue[of_hue], chroma[of_hue])
    return peak, of_hue & (_hue_dist(hue, peak) <= _SCREEN_SPAN)


def _grainy(
    img: np.ndarray,
    band: np.ndarray,
    common: tuple[np.ndarray, ...],
    fine: tuple[np.ndarray, np.ndarray],
    p_hue: float | None,
) -> bool:
    """Whether the border's clearly saturated pixels of its dominant hue (within
    :data:`_PRIOR_HUE` of the prior's hue ``p_hue`` if given) are grain: their median pattern and
    coarse structure within :data:`_GRAIN_PATTERN` and :data:`_GRAIN_COARSE` times their median
    grain, that grain at most :data:`_GRAIN_SHARE` of their median brightness or noise
    (:data:`_GRAIN_HALVES`), and their texture alike all along the border
    (:data:`_GRAIN_EVEN`). ``img``: the reduced copy (float32 (h, w, 3)), ``band``: its border
    band (bool (h, w)); ``common``: the band's (N, 3) colours, (N,) hues (degrees), chromas,
    texture and pattern (levels, :func:`_texture`, :func:`_pattern`); ``fine``: their grain and
    coarse structure (levels)."""
    px, hue, chroma, texture = common[:4]
    dominant = _dominant_hue(hue, chroma, p_hue, 16.0)
    if dominant is None:
        return False
    peak, members = dominant
    pattern, grain, coarse = (float(matte.median(x[members])) for x in (common[4], *fine))
    low, high = np.percentile(texture[members], (25, 90))
    if not (
        pattern <= _GRAIN_PATTERN * grain
        and coarse <= _GRAIN_COARSE * grain
        and high <= _GRAIN_EVEN * max(float(low), 1.0)
    ):
        return False
    if grain <= _GRAIN_SHARE * float(matte.median(matte.grey_rows(px[members]))):
        return True
    # (a larger share only where it is noise: it halves in a copy of half the size)
    h, w = band.shape
    if min(h, w) < 16:
        return False
    size = (w // 2, h // 2)
    half = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    near = cv2.resize(band.view(np.uint8), size, interpolation=cv2.INTER_NEAREST).view(bool)
    hue_h, chroma_h = _hue_chroma(matte.rows_where(half, near))
    of_peak = (chroma_h >= matte.MIN_KEY_CHROMA) & (_hue_dist(hue_h, peak) <= _SCREEN_SPAN)
    if of_peak.sum() < 16:
        return False
    return bool(grain >= _GRAIN_HALVES * float(matte.median(_pattern(half)[1][near][of_peak])))


def screen_shade(
    rgb: np.ndarray,
    border: float,
    key_rgb: tuple[int, int, int],
    subject_mask: np.ndarray | None = None,
) -> tuple[int, int, int] | None:
    """The shade of the chroma colour ``key_rgb``'s hue that ``rgb``'s border shows: that of the
    screen :func:`detect_screen` finds with it as the prior, or, where the border is no clean
    screen (hair, a veil or the subject over most of it), the median colour of the border's
    smooth pixels of that hue (clearly saturated, within :data:`_PRIOR_HUE` of it, then within
    :data:`_SCREEN_SPAN` of their dominant hue) where they are :data:`_SHADE_SHARE` of the
    border or more (all its pixels of that hue, where fewer are smooth); ``None`` where they are
    fewer: keyed as given, a pure preset is far from a real or generated screen's shade."""
    found = detect_screen(rgb, border, key_rgb, subject_mask).key_rgb
    if found is not None:
        return found
    img, mask, b = _border_sample(rgb, border, subject_mask)
    px = matte.rows_where(img, mask)
    hue, chroma = _hue_chroma(px)
    p_hue = float(_hue_chroma(np.array([key_rgb], np.float32))[0][0])
    dominant = _dominant_hue(hue, chroma, p_hue, max(16.0, _SHADE_SHARE * hue.size))
    if dominant is None:
        return None
    around = dominant[1]
    smooth = _flat(around, _texture(img, b)[mask], float(matte.median(chroma[around])))
    return _median_colour(px, smooth if smooth.sum() >= 16 else around)


def _flat(members: np.ndarray, texture: np.ndarray, level: float) -> np.ndarray:
    """Which of the border pixels ``members`` (bool (N,)) are flat: their ``texture`` ((N,)
    levels, :func:`_texture`) under ``_TEXTURE_LV + _TEXTURE_REL * level`` (their median
    chroma, levels)."""
    return members & (texture <= _TEXTURE_LV + _TEXTURE_REL * level)


def _median_colour(px: np.ndarray, which: np.ndarray) -> tuple[int, int, int]:
    """The per-channel median of the colours ``px`` ((N, 3)) that ``which`` marks, rounded."""
    med = np.median(np.ascontiguousarray(matte.rows_where(px, which).T), axis=1)  # (fast)
    r, g, b = (int(v) for v in np.rint(med))
    return (r, g, b)


def _ring(x: np.ndarray, d: int) -> np.ndarray:
    """The values of ``x`` (2-D) round the frame at depth ``d`` px, in order (clockwise from
    the top left)."""
    y = x[d : x.shape[0] - d, d : x.shape[1] - d]
    if min(y.shape) < 2:
        return y.reshape(-1)
    return np.concatenate([y[0, :-1], y[:-1, -1], y[-1, :0:-1], y[:0:-1, 0]])


def _folds(
    img: np.ndarray, mask: np.ndarray, key: tuple[int, int, int], b: int
) -> tuple[int, float, float]:
    """How many times the brightness of the border pixels of ``key``'s chromaticity swings
    past the smooth (quartic) surface through them, by :data:`_FOLD_SWING` either way, round
    the frame (``img`` float (h, w, 3) levels, ``mask`` its border band, ``b`` px wide), the
    longest arc of the band without a swing, as a share of its length (1.0 for fewer than two),
    and the 90th percentile of those pixels' distance from a quadratic surface through them (log
    brightness; 0 for too few pixels)."""
    sh, sw = mask.shape
    at = np.flatnonzero(mask)
    px = np.take(img.reshape(-1, 3), at, axis=0)
    total = cv2.reduce(px, 1, cv2.REDUCE_SUM)[:, 0]
    k = np.array(key, np.float32) / max(float(sum(key)), 1.0)
    # |chromaticity - k| within the limit, as |px - k * total| within it times the total
    off = cv2.reduce(cv2.absdiff(px, np.outer(total, k)), 1, cv2.REDUCE_MAX)[:, 0]
    same = off <= np.float32(_FOLD_CHROMATICITY) * np.maximum(total, np.float32(1.0))
    same &= cv2.reduce(px, 1, cv2.REDUCE_MAX)[:, 0] >= 20
    if same.sum() < 24:
        return 0, 1.0, 0.0
    lum = np.log(np.maximum(total, 3.0))
    dev = np.zeros(sh * sw, np.float32)
    uneven = fields.fit(fields.polynomial_basis(sh, sw)[at], lum, same)[0]
    uneven = float(np.percentile(np.abs(uneven[same]), 90))
    # (folds: off a quartic surface, which follows a strong vignette's dark corners)
    dev[at] = fields.fit(fields.polynomial_basis(sh, sw, _FOLD_DEGREE)[at], lum, same)[0]
    on = np.zeros(sh * sw, bool)
    on[at] = same
    ring, on = _ring(dev.reshape(sh, sw), b // 2), _ring(on.reshape(sh, sw), b // 2)
    pos = np.flatnonzero(on)
    side = np.sign(ring[pos]) * (np.abs(ring[pos]) > _FOLD_SWING)
    # a run of more than _FOLD_GAP other pixels starts a new count
    part = np.cumsum(np.diff(pos, prepend=pos[:1]) > _FOLD_GAP + 1)
    keep = side != 0
    side, part, pos = side[keep], part[keep], pos[keep]
    at_swing = pos[1:][(side[1:] != side[:-1]) & (part[1:] == part[:-1])]
    if at_swing.size < 2:
        return int(at_swing.size), 1.0, uneven
    gaps = np.diff(at_swing, append=at_swing[0] + ring.size)
    return int(at_swing.size), float(gaps.max()) / ring.size, uneven


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


def _chroma_screen(
    common: tuple[np.ndarray, ...],
    fine: tuple[np.ndarray, np.ndarray],
    band: np.ndarray,
    p_hue: float | None,
    min_chroma: float,
    what: str,
    dull: bool = False,
) -> Detection:
    """A chroma screen on the border pixels ``common`` (see :func:`_smooth_screen`): of pixels of
    at least ``min_chroma``, within :data:`_PRIOR_HUE` of the prior's hue ``p_hue`` if given
    (else, for a ``dull`` look, within :data:`_DULL_GREEN`), the dominant hue; the screen is
    the pixels within 20 degrees of it (with a prior, of those of at least ``min_chroma``).
    Without a prior the screen's colour must be clearly saturated and not warm, or for a
    dull look at least :data:`_MIN_DULL_CHROMA` and :data:`_MIN_DULL_SAT` and green, and its
    pixels' pattern must not exceed their grain by :data:`_MIN_STRUCTURE` with their coarse
    structure exceeding it by :data:`_MIN_COARSE` (``fine``: their grain and coarse structure,
    (N,) levels each, :func:`_pattern`), judged clear of the border's other colours
    (:data:`_PATTERN_CLEAR`); and without a prior the texture tests leave out the screen's
    textured pixels near small pieces of another colour (:data:`_PIECE_PX`). ``band``: the
    border's bool (h, w) mask, whose pixels the (N,) arrays hold."""
    hue, chroma = common[1], common[2]
    n = hue.size
    coloured = chroma >= min_chroma
    sat_ok = coloured
    if p_hue is not None:
        sat_ok = coloured & (_hue_dist(hue, p_hue) <= _PRIOR_HUE)
    elif dull:
        sat_ok = coloured & _in_range(hue, _DULL_GREEN)
    if sat_ok.sum() < max(1, 0.2 * n):
        return Detection(None, False, f"the border is not {what} colour", 0.0)
    peak = _peak_hue(hue[sat_ok], chroma[sat_ok])
    # (with a prior, the screen is the pixels around the peak, also those past the prior's
    # reach: a mottled teal-green screen 43 degrees from green has a third of its pixels beyond)
    around = (coloured if p_hue is not None else sat_ok) & (_hue_dist(hue, peak) <= _SCREEN_SPAN)
    by_pieces = None
    if p_hue is None:
        px = common[0]
        bright = px.max(axis=1)
        sat = (bright - px.min(axis=1)) / np.maximum(bright, np.float32(1.0))
        other = (_hue_dist(hue, peak) >= _OTHER_HUE) & (chroma >= _OTHER_CHROMA)
        if around.any():
            pale = sat <= _PALE * float(matte.median(sat[around]))
            other |= pale & (bright >= float(matte.median(bright[around])))
        by_pieces = _near(other, band, _PIECE_PX)
    det, judged = _smooth_screen(around, *common, False, what, by_pieces, band)
    if det.key_rgb is None:
        return det
    kc = det.key_rgb
    if p_hue is None:
        med = np.array([kc], np.float32)
        k_hue, k_chroma = (float(v[0]) for v in _hue_chroma(med))
        sat = (float(med.max()) - float(med.min())) / max(float(med.max()), 1.0)
        least = (_MIN_DULL_CHROMA, _MIN_DULL_SAT) if dull else (_MIN_AUTO_CHROMA, _MIN_AUTO_SAT)
        if k_chroma < least[0] or sat < least[1]:
            why = f"the border's colour {hex_color(kc)} is too dull to be a screen"
            return Detection(None, False, why, det.cover)
        # (a screen found under MIN_COVER passed its rule's own smooth share)
        if det.cover >= MIN_COVER and det.smooth < _MIN_SMOOTH and det.textured_sat > _VEILED_SAT:
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
        if beyond >= _MIN_STRUCTURE and matte.median(fine[1][judged]) - grain >= _MIN_COARSE:
            why = (
                f"the border's colour {hex_color(kc)} is patterned ({beyond:.1f} levels beyond "
                "its grain, like plaster, stone or a weave), not a screen"
            )
            return Detection(None, False, why, det.cover)
        if not dull and _in_range(k_hue, _WARM):
            why = (
                f"the border's colour {hex_color(kc)} is warm (red to yellow, like skin, wood "
                "and sunsets): warm screens are not detected automatically"
            )
            return Detection(None, False, why, det.cover)
        value = float(med.max()) / 255.0
        if _in_range(k_hue, _SKY_BLUE) and (
            sat < _MIN_BLUE_SAT or (value < _DARK_BLUE[0] and sat < _DARK_BLUE[1])
        ):
            why = (
                f"the border's colour {hex_color(kc)} is a pale or dusky blue (like a sky): "
                "such screens are not detected automatically"
            )
            return Detection(None, False, why, det.cover)
    return Detection(kc, False, "", det.cover)


def _smooth_screen(
    members: np.ndarray,
    px: np.ndarray,
    hue: np.ndarray,
    chroma: np.ndarray,
    texture: np.ndarray,
    pattern: np.ndarray,
    neutral: bool,
    what: str,
    by_pieces: np.ndarray | None = None,
    band: np.ndarray | None = None,
) -> tuple[Detection, np.ndarray]:
    """The screen of the border pixels ``members`` (bool (N,)) that are smooth (``texture``,
    ``pattern``: (N,) levels) if they cover :data:`MIN_COVER` of the border (a green one
    :data:`_MIN_GREEN_COVER` if at least :data:`_CLEAN_SHARE` of it is smooth, or
    :data:`_CROSSED_COVER` as :data:`_CROSSED_CHROMA` says); ``px``,
    ``hue``, ``chroma``: (N, 3) colours, (N,) degrees and levels. ``by_pieces``: pixels beside
    small pieces of other colours (bool (N,)), whose texture is the pieces' rims: those of
    ``members`` not smooth are left out of the border (neither screen nor not). ``band``: the
    border's bool (h, w) mask, whose pixels the (N,) arrays hold (for :data:`_CROSSED_EVEN`;
    ``None``: that rule is not applied).

    Also returns the pixels whose pattern is judged (:func:`_chroma_screen`): ``members``, or
    where the subject is beside the screen on the border (a green of :data:`_CROSSED_CHROMA`
    on :data:`_CROSSED_SHARE` of it or less) only their smooth ones: hair, confetti or a veil
    crossing the screen there is pattern too."""
    n = hue.size
    if not members.any():
        return Detection(None, neutral, f"the border is not {what} colour", 0.0), members
    level = float(matte.median(chroma[members]))
    smooth = _flat(members, texture, level) & (pattern <= _PATTERN_LV)
    if by_pieces is not None and smooth.any():  # (then members are left)
        rims = by_pieces & members & ~smooth
        n -= int(rims.sum())
        members = members & ~rims
    cover = float(smooth.sum()) / max(1, n)
    share = float(members.sum()) / max(1, n)
    green = not neutral and bool(_in_range(float(matte.median(hue[members])), _DULL_GREEN))
    clean = green and cover >= _MIN_GREEN_COVER and cover >= _CLEAN_SHARE * share
    beside = green and level >= _CROSSED_CHROMA and share <= _CROSSED_SHARE
    crossed = beside and cover >= _CROSSED_COVER and cover >= _CROSSED_SMOOTH * share
    if beside and not crossed and band is not None and cover >= _CROSSED_COVER:
        # (densely crossed: fewer of its pixels smooth, but those on one smooth plate)
        crossed = cover >= _CROSSED_EVEN * share and _misfit(px, smooth, band) <= _CROSSED_FIT
    if cover < MIN_COVER and not (clean or crossed):
        why = (
            f"only {share:.0%} of the border has {what} colour"
            if share < MIN_COVER
            else f"the border's colour is textured ({cover:.0%} of it is smooth), not {what}"
        )
        return Detection(None, neutral, why, cover), members
    kc = _median_colour(px, smooth)
    textured = members & ~smooth
    paler = 1.0
    if textured.any():
        sat = (px.max(axis=1) - px.min(axis=1)) / np.maximum(px.max(axis=1), np.float32(1.0))
        paler = float(matte.median(sat[textured])) / max(float(matte.median(sat[smooth])), 1e-3)
    judged = smooth if beside else members
    return Detection(kc, neutral, "", cover, cover / share, paler), judged  # type: ignore[arg-type]


def _misfit(px: np.ndarray, smooth: np.ndarray, band: np.ndarray) -> float:
    """Levels: the median distance (RGB) of the ``smooth`` ones (bool (N,)) of the border's
    pixels ``px`` ((N, 3), those of the bool (h, w) ``band``, in order) from a quadratic surface
    fitted to their colours (least squares, per channel, over the frame's coordinates)."""
    h, w = band.shape
    ys, xs = np.nonzero(band)
    x = (xs[smooth] * (2.0 / w) - 1.0).astype(np.float32)
    y = (ys[smooth] * (2.0 / h) - 1.0).astype(np.float32)
    terms = np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)
    colours = px[smooth]
    coef = np.linalg.lstsq(terms, colours, rcond=None)[0]
    return float(matte.median(np.sqrt(((colours - terms @ coef) ** 2).sum(axis=1))))


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
