"""Subject parts that keep a chroma screen's chromaticity, dropped from its background
candidates by their brightness, saturation or texture against the screen's own:
:func:`no_veils` (paler candidates beside a veil), :func:`no_plateaus` (dark, bright or vivid
sharp-rimmed regions), :func:`no_textured_shade` (dark, finely textured ones: hair, leaves),
:func:`no_bright_bumps` (regions far brighter than the screen's smooth light) and
:func:`no_dark_ramps` (a dark subject's blurred edge); :func:`screen_ring`, the frame's outer
ring where the screen's levels are measured. Each takes the candidate mask at the classifying
resolution and returns it changed; :func:`no_mixed_rim` (the subject's edge mixed with the
screen) runs on the last pass's, at the analysed resolution, against the first plate.
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.candidates.cut_off_regions import VEIL_PX
from lib_tkg.keying.edges import grad2, sharp_edges
from lib_tkg.keying.fields import block_plate, light_surface
from lib_tkg.keying.pixels import off_shade2
from lib_tkg.keying.regions import (
    across,
    across_rim,
    border_sides,
    continue_screen,
    rim_components,
)
from lib_tkg.keying.resolution import KERNEL3, KERNEL5, KERNEL7, enlarge_mask

_BUMP = 0.4  # brightness above the screen's smooth light that makes a region subject
_RAMP = 0.025  # reach of a blurred dark edge's ramp, fraction of the long side
#: darkening there (fraction of the colour difference) that is still screen (a product's cast
#: shadow darkens the screen by 35-45 % beside it, which 0.3 took for a blurred edge: a held-out
#: product shot's shadow keyed 0.2-0.3 opaque; measured over the 44th-48th held-out sets, 21
#: images better and 4 worse by 0.08-0.19 SAD, the own sets' 288 composites 1705.8 -> 1698.8;
#: a near-black subject's motion-blurred edge is taken for screen from 0.6)
_RAMP_DIP = 0.4
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
#: ... and such a region grown from its part that dark through the candidates under each of
#: these shares of the screen's brightness, with :data:`_PLATEAU_GROWN_EDGE` of its rim against
#: the brighter screen (what of the rest reaches the frame's border: not its own lighter specks
#: inside it) sharp: a garment shaded as a body is, its middle at 0.55 of the screen's brightness
#: and its shoulders lit to 0.8-0.9, has its part under 0.75 rimmed by its own soft shading, and
#: its sharp outline is the rim of it grown to one of these. Growing nears the screen's level, and
#: reaches into soft shadows whose rims strands cross: hence the stricter share (measured over
#: the 161st-182nd held-out sets' 660 composites: a bust's robe 84.4 -> 7.9 SAD, 0.72 of its rim
#: sharp; a knitted blanket under a cat 45.7 -> 1.8, 0.80-0.91; none other moved, nor any of their
#: 220 photos. A soft shadow under a head whose hair crosses its rim is 0.43-0.52 sharp: with the
#: plain rule's 0.45 it was taken for a garment, its screen 0.75 -> 0.86 opaque. Grown to 0.95,
#: the screen shaded by a bust's hair was taken for a cape, 14.6 -> 104.6)
_PLATEAU_REACH = (0.8, 0.85, 0.9)
_PLATEAU_GROWN_EDGE = 0.65
#: ... or whose saturation ratio (colour difference over ``max(RGB)``, as the chromaticity field's)
#: is over this share of the screen's there and over it by :data:`_VIVID_SIGMAS` of its spread (a
#: mottled pale screen varies by half and more): a vivid garment of the screen's hue
_VIVID = 1.2
_VIVID_SIGMAS = 1.5
#: ... or under this share of it, its rim against the screen on sharp steps of the saturation
#: ratio: a garment of a hue near the screen's but duller (a teal oilskin at 0.75 of its
#: saturation ratio and nearly its brightness, running off the frame), which the field bends
#: to where it covers a fifth of the frame; a veil, smoke or the screen's mottling pale it with
#: a soft rim. Left out, it keys partial and the wide-region rules judge it
#: (:mod:`lib_tkg.keying.interiors`, ``_CUT``). Measured over the 193rd-205th held-out sets'
#: 390 composites with that rule: SAD 7643.4 -> 7415.1, the oilskin 187.2 -> 2.7, nine better
#: by 0.5 or more, two worse by 0.7 (vine shoots, a grapevine); the own photo set's 36 1.00x.
#: Its rim judged by sharp luminance edges all round instead, 7405.8, but the photo set's
#: mottled screens' paler patches beside the subject were keyed as faint veils (a colour wheel
#: 1.37 -> 4.22, a fundus 3.43 -> 4.79); 0.7 lost the oilskin; 0.9 (judged so) took in more
#: of the near-green (-43.4) but the rest lost 33.6, a sheepdog's fur 21.4 -> 37.8
_DULL = 0.8
#: px round the duller pixels over which those steps are found: the rim judged lies within 2 px
#: of them, and :func:`edges.sharp_edges` reads 11 px round a pixel (its 2.5 px Gaussian's
#: 10 and the Sobel's 1), so the result is the whole frame's
_STEP_REACH = 16
#: fine texture (times the screen's own on the frame's outer ring) over which a region of the
#: screen's colour darker than :data:`_TEXTURE_SHADE` of its brightness is a subject part (dark
#: hair or leaves of its hue), not a shadow; and the least screen texture assumed (levels)
_TEXTURE = 8.0
_TEXTURE_SHADE = 0.85
_TEXTURE_FLOOR = 0.3
#: ... and over this times the local gradient (at a 2.5 px scale): a single edge (a floor's
#: horizon) has about as much texture as gradient there, strands pointing every way far more
_TEXTURE_EDGE = 2.0
_RING = 0.1  # width of the frame's outer ring where the screen's level is measured (share)
#: A subject part of another shade of the screen's hue inside the frame (:func:`no_other_casts`):
#: candidates whose hue cast (``q / p`` on the screen's chroma basis) lies more than
#: :data:`_CAST_OFF`, or :data:`_CAST_SIGMAS` times the spread of the casts on the frame's outer
#: ring, from their median there, in regions of :data:`_CAST_SHARE` of the frame or more that
#: do not reach its border, whose cast within :data:`_CAST_RIM` px of their rim is off by
#: :data:`_CAST_JUMP` of that limit more than the candidates' just outside it (a cut edge; the
#: screen's own hue drift moves gently). The candidates' hue test allows four times the cast's
#: spread over all of them, which a large part of another shade widens until it is inside
#: (measured over the 120th-148th held-out sets' 780 composites, own scorer: SAD 13793.6 ->
#: 13641.5, the near-green thirds -149.0; 14 better by 1 or more, a lettuce bowl 88.4 -> 64.8,
#: sunglasses with green lenses 54.9 -> 32.5, a parrot 26.9 -> 9.8, a teal fur collar 27.9 ->
#: 23.1; two worse, by 1.0 and 0.5. The spreads at 1, 2.5 and 4: 13607.6, 13718.4, 13779.3;
#: regions from 20 px: a translucent cool hood's small pieces left out, 39.1 -> 58.9)
_CAST_OFF = 0.14
_CAST_SIGMAS = 1.5
_CAST_SHARE = 0.005
_CAST_JUMP = 0.5
_CAST_RIM = 3
_CAST_MIN_PX = 8  # candidates just outside a region, at least, to measure its jump
_CAST_KERNEL = np.ones((2 * _CAST_RIM + 1,) * 2, np.uint8)
#: The subject's mixed rim (:func:`no_mixed_rim`): candidates within :data:`_RIM_REACH` px of
#: the others whose colour lies off the first plate's shade line by more than the candidates'
#: farther out do (their 95th percentile, the screen's mottling and grain), and by
#: :data:`_RIM_LEVELS` at least (measured over the 76th-101st held-out sets, 780 composites: SAD
#: 20106.8 -> 19957.6, 67 images better by 0.5 and more, 10 worse; a green shoe's edge on a
#: mottled screen, which the plate had followed a third of the way to the shoe's colour,
#: soft-band bias -50.7 -> -35.2)
_RIM_REACH = 3
_RIM_LEVELS = 4.0
_RIM_KERNEL = np.ones((2 * _RIM_REACH + 1,) * 2, np.uint8)
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


def no_plateaus(
    edges: np.ndarray, bg: np.ndarray, lum: np.ndarray, sat: np.ndarray, img: np.ndarray
) -> np.ndarray:
    """Drop regions of ``bg`` darker than :data:`_PLATEAU_SHADE` or brighter than
    :data:`_PLATEAU_LIGHT` times the screen's brightness, or more saturated than it
    (:data:`_VIVID`, :data:`_VIVID_SIGMAS`) or far less (:data:`_DULL`; all measured over ``bg``
    on the frame's outer ring),
    whose rim lies on sharp luminance edges (``edges``, :func:`edges.sharp_edges`) for
    :data:`_PLATEAU_EDGE` of its length or more (a bright one's, and a dark one's that reaches
    the frame's border: the rim it shares with the open screen, 3 px or more from anything else,
    where it meets any), and that do not reach two opposite sides of the frame (a darker floor
    behind a sharp horizon is screen); or darker than
    :data:`_PLATEAU_DIM` of it, over :data:`_PLATEAU_LARGE` of the frame, with the rim it shares
    with the brighter screen mostly sharp (a flat olive shirt at 0.65 of the screen's
    brightness; a soft shadow's rim is sharp only where the subject or strands cross it), or
    that dark part grown through the candidates under :data:`_PLATEAU_REACH` of it with its rim
    against the brighter screen sharper still (:data:`_PLATEAU_GROWN_EDGE`: a shaded garment,
    its lit shoulders near the screen's level).

    A dark, bright or vivid subject part of the screen's hue (a dark teal disc on a teal screen,
    a green hood on a darker green one, a vivid green shirt running off the frame's bottom)
    keeps its chromaticity as a shadow or the screen's light does, or comes close enough to it
    for the chromaticity field to bend to it; :func:`.cut_off_regions.no_cut_off_parts` leaves a
    dark one out only where sharp edges cut it off all round, and where it meets its own soft
    drop shadow, or hair crosses its rim, they do not; a bright one large enough bends
    :func:`no_bright_bumps`' surface up to it. A soft shadow or a hot spot of light has no sharp
    rim, and is rarely that dark or bright; but it does meet the subject, whose outline is sharp.
    So a bright region's rim counts only where it meets the open screen (a held-out set's hot
    spots of light filling the crook of a boot sole and the mesh of a goal net were taken for
    bright parts: SAD 110 -> 4.5 and 196 -> 79, FFmpeg's 14 and 107), and so does a dark one's
    that reaches the frame's border (vignetted corners beside drops and curls: 77 -> 33, 93 ->
    63); over the 76th-93rd held-out sets' 540 composites 11780 -> 11428, one worse, by 0.09;
    on the 94th, 95th and 97th, untouched, 3316 -> 3318 (a defocused cucumber slice at the
    frame's border 22.0 -> 23.8). A dark region inside the frame is judged by all of its rim
    (so judged where it meets the open screen, held-out limes shaded to a soft rim keyed
    clearer), and so is one meeting no open screen (a smooth dark veil stretched inside a
    sticker). A vivid region's
    rim is counted all round: so counted where it meets the open screen, a dark green costume
    under hair and a grass tuft keyed clearer (SAD 9 -> 40, 153 -> 181). A bright region that
    continues the screen across its rim (:func:`~lib_tkg.keying.regions.continue_screen`: a hot
    spot of light whose rim balloon strings cross, sharp where they do) stays (a held-out
    bunch of balloons, with the same rule in :func:`.cut_off_regions.no_cut_off_parts`: SAD 17.6
    -> 9.3, FFmpeg's 12.1). ``lum``: the image's luminance (:func:`edges.luminance`, levels);
    ``sat``: its saturation ratio; ``img``: the image (float32 levels).
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
    # (3 px clear of anything else: the sharp edges, found at twice this resolution, reduced and
    # widened by 1 px, reach 2 px into the screen from the subject's outline)
    open_screen = cv2.erode(bg.view(np.uint8), KERNEL7).view(bool)
    drop = _sharp_rimmed(edges, bright, open_screen=open_screen)
    if drop.any():  # (a hot spot of light whose rim strings cross: as the screen beside it)
        n, labels = cv2.connectedComponents(drop.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
        lit = np.ones(n, bool)
        lit[0] = False
        drop &= ~continue_screen(img, labels, lit, bg & ~bright)[labels]
        drop &= ~_in_the_light(labels, n, lum, bg)[labels]
    drop |= _sharp_rimmed(edges, dark, open_screen=open_screen, border_only=True)
    drop |= _sharp_rimmed(edges, vivid)
    # (a duller one's rim against the screen judged by sharp steps of the saturation ratio, in
    # 1/255ths: its brightness may be the screen's, and where it meets the subject, its
    # outline is sharp whatever the region; found only round the duller pixels)
    dull = bg & (sat < np.float32(_DULL * sat_level))
    if dull.any():
        x, y, w, h = cv2.boundingRect(dull.view(np.uint8))
        r = _STEP_REACH
        near = slice(max(0, y - r), y + h + r), slice(max(0, x - r), x + w + r)
        steps = np.zeros_like(bg)
        steps[near] = sharp_edges(sat[near] * np.float32(255.0))
        drop |= _sharp_rimmed(steps, dull, against=bg & ~dull)
    least = int(_PLATEAU_LARGE * bg.size)
    drop |= _sharp_rimmed(edges, shaded, least, bg & ~shaded)
    # (grown: only where the candidates under the farthest reach are that large)
    farthest = bg & (lum < np.float32(_PLATEAU_REACH[-1] * level))
    if shaded.any() and np.count_nonzero(farthest) >= least:
        for reach in _PLATEAU_REACH:
            grown = _grown(shaded, bg & (lum < np.float32(reach * level)))
            brighter, sides, _ = rim_components(bg & ~grown)
            screen = sides.any(0)[brighter]
            drop |= _sharp_rimmed(edges, grown, least, screen, edge=_PLATEAU_GROWN_EDGE)
    return bg & (cv2.dilate(drop.view(np.uint8), KERNEL5) == 0)


def _grown(seed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The 8-connected components of ``mask`` (bool) holding a pixel of ``seed`` (bool, within
    ``mask``): bool."""
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    held = np.bincount(labels[seed], minlength=n) > 0
    held[0] = False
    return held[labels]


def _in_the_light(labels: np.ndarray, n: int, lum: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """Which of the ``n`` bright regions of ``labels`` the subject encloses (their candidates
    ``bg`` reach no side of the frame) are no brighter than :data:`_PLATEAU_LIGHT` times the
    screen's smooth light over them (:func:`~lib_tkg.keying.fields.light_surface` of ``lum``
    over ``bg``): (n,) bool. A hot spot peaking behind a bust is brighter than the screen's level
    on the frame's ring, and the screen between its hair and its neck has a sharp rim all
    round."""
    h, w = bg.shape
    fitted = light_surface(bg, lum, (max(1, w // 4), max(1, h // 4)))
    if fitted is None:
        return np.zeros(n, bool)
    light = cv2.resize(np.exp(fitted[1]).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    around, sides, _ = rim_components(bg)
    at = labels > 0
    out = np.bincount(labels[at], weights=sides.any(0)[around[at]], minlength=n) > 0
    s_lum = np.bincount(labels.reshape(-1), weights=lum.reshape(-1), minlength=n)
    s_light = np.bincount(labels.reshape(-1), weights=light.reshape(-1), minlength=n)
    inside = ~out & (s_lum <= _PLATEAU_LIGHT * s_light)
    inside[0] = False
    return inside


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
    inside = cv2.erode(bg.view(np.uint8), KERNEL5).view(bool)
    drop = inside & (texture > np.float32(limit)) & (lum < np.float32(_TEXTURE_SHADE * level))
    drop &= texture * texture > np.float32(_TEXTURE_EDGE**2) * grad2(lum, 2.5)
    if not drop.any():
        return bg
    return bg & (cv2.dilate(drop.view(np.uint8), KERNEL3) == 0)


def no_other_casts(bg: np.ndarray, cast: np.ndarray) -> np.ndarray:
    """Drop regions of ``bg`` inside the frame in another hue cast than the screen's, with a
    cut edge: a subject part of another shade of its hue (a teal fur collar, green lenses,
    lettuce on a green screen), which the candidates' hue test lets in where such parts widen the
    casts' spread (:data:`_CAST_OFF`, :data:`_CAST_SIGMAS`, :data:`_CAST_JUMP`). ``cast``: the
    hue cast per pixel (float32, ``bg``'s shape). A region reaching the frame's border is
    :func:`~.screen_parts.screen_drift`'s (a corner drifting in hue)."""
    ring = screen_ring(bg)
    if ring is None:
        return bg
    med = np.float32(matte.median(cast[ring]))
    limit = max(_CAST_OFF, _CAST_SIGMAS * matte.sigma_of(cast, ring))
    dev = np.abs(cast - med)
    off = bg & (dev > np.float32(limit))
    n, labels = cv2.connectedComponents(off.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return bg
    size = np.bincount(labels.reshape(-1), minlength=n)
    part = (size >= max(VEIL_PX, _CAST_SHARE * bg.size)) & ~border_sides(labels, n).any(0)
    part[0] = False
    if not part.any():
        return bg
    # (the cast's jump across the rim: within _CAST_RIM px inside the region and outside it)
    d_in, _n_in, d_out, n_out = across_rim(dev, labels, part[labels], bg & ~off, _CAST_KERNEL)
    part &= (n_out < _CAST_MIN_PX) | (d_in - d_out >= np.float32(_CAST_JUMP * limit))
    if not part.any():
        return bg
    return bg & (cv2.dilate(part[labels].view(np.uint8), KERNEL3) == 0)


def no_bright_bumps(bg: np.ndarray, level: np.ndarray, small: tuple[int, int]) -> np.ndarray:
    """Drop blocks of ``bg`` far brighter (``level``: colour difference) than a robust
    quadratic surface through the screen's blocks.

    Screen light varies smoothly (gradients, vignettes: a quadratic, fitted in log space with
    both tails trimmed, so shadows do not pull it down), and the chromaticity test cannot see
    brightness: a subject part of the screen's hue and saturation but :data:`_BUMP` brighter,
    touching the screen, would otherwise enter the plate.
    """
    fitted = light_surface(bg, level, small)
    if fitted is None:
        return bg
    y, surface, full = fitted
    bump = full & (y - surface > np.log(1.0 + _BUMP))
    if not bump.any():
        return bg
    h, w = bg.shape
    up = enlarge_mask(bump.view(np.uint8), (w, h))
    return bg & (cv2.dilate(up, KERNEL3) == 0)


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


def _sharp_rimmed(
    edges: np.ndarray,
    mask: np.ndarray,
    least: int = VEIL_PX,
    against: np.ndarray | None = None,
    open_screen: np.ndarray | None = None,
    border_only: bool = False,
    edge: float = _PLATEAU_EDGE,
) -> np.ndarray:
    """The regions of ``mask`` (bool) of ``least`` px or more, not reaching two opposite
    sides of the frame, whose rim (the pixels next to them; those of ``against`` only, if given)
    lies on ``edges`` (dilated by 1 px) for ``edge`` of its length or more (0..1; by default
    :data:`_PLATEAU_EDGE`, for grown regions :data:`_PLATEAU_GROWN_EDGE`). With
    ``open_screen`` (bool), a region that meets it (and reaches the frame's border, with
    ``border_only``) is judged by the rim it shares with it alone."""
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return np.zeros_like(mask)
    # the rim: the pixels next to a region, each counted for the region it touches
    rim = (cv2.dilate(mask.view(np.uint8), KERNEL3) > 0) & ~mask
    if against is not None:
        rim &= against
    near = cv2.dilate(labels.astype(np.float32), KERNEL3)[rim].astype(np.int64)
    on_edge = cv2.dilate(edges.view(np.uint8), KERNEL3)[rim] > 0
    length = np.bincount(near, minlength=n)
    sharp = np.bincount(near, weights=on_edge, minlength=n)
    sides = border_sides(labels, n)
    if open_screen is not None:
        on_open = open_screen[rim]
        length_o = np.bincount(near[on_open], minlength=n)
        sharp_o = np.bincount(near[on_open], weights=on_edge[on_open], minlength=n)
        own = length_o > 0
        if border_only:
            own &= sides.any(axis=0)
        length = np.where(own, length_o, length)
        sharp = np.where(own, sharp_o, sharp)
    size = np.bincount(labels[mask], minlength=n)
    keep = (size >= least) & (sharp >= edge * np.maximum(length, 1))
    keep &= ~across(sides)
    keep[0] = False
    return keep[labels]


def no_mixed_rim(bg: np.ndarray, img: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """Drop the subject's edge mixed with the screen from ``bg`` (bool (h, w)): candidates
    within :data:`_RIM_REACH` px of the others (not lone specks) whose colour (``img``, float32
    (h, w, 3) levels) lies off the shade line of ``plate`` (the first pass's plate there, the
    screen at any brightness, same shape) by more than :data:`_RIM_LEVELS` and than the 95th
    percentile of that distance over the candidates farther out (the screen's own mottling and
    grain). ``bg`` as it was if that would leave none.

    A key-coloured part's edge (a bluish green shoe on a yellowish green screen) or a dark
    one's, anti-aliased or slightly defocused, is a mix with the screen of the screen's hue,
    which the classification's tolerance for mottling lets in up to a third of the way to the
    part's colour: the plate followed it, and the edge keyed clear. Shade and the screen's
    light keep a pixel on the line; a mix with another colour leaves it.
    """
    h, w = bg.shape
    other = cv2.morphologyEx((~bg).view(np.uint8), cv2.MORPH_OPEN, KERNEL3)
    near = cv2.dilate(other, _RIM_KERNEL).view(bool) & bg
    if not near.any():
        return bg
    off = cv2.sqrt(off_shade2(img.reshape(-1, 3), plate.reshape(-1, 3))).reshape(h, w)
    farther = off[bg & ~near]
    limit = _RIM_LEVELS
    if farther.size:
        limit = max(limit, float(np.percentile(farther[:: max(1, farther.size // 20000)], 95)))
    out = bg & ~(near & (off > np.float32(limit)))
    return out if out.any() else bg


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
