"""A neutral screen's subject outline: which near-neutral regions are screen, which are holes
in the subject, and which are subject parts at the screen's own level.

A white box on a white sweep, a white mug, a black sphere on black: their faces are
near-neutral, at or near the screen's brightness, and their outline steps only a few levels.
Taken for screen, they enter the plate, which then follows them, and they key clear.

The outline is found as sharp luminance edges (:func:`lib_tkg.keying.edges.sharp_edges`) down
to a gradient of :data:`OUTLINE_LEAST` levels per px, or :data:`OUTLINE_NOISE` times the
screen's typical gradient where that is more (grain, JPEG, a textured sweep); on a black screen
in two opponent colour planes as well, each with its own typical gradient (a navy or a brown box
on black: its brightness steps a few levels or none, its hue as much; mean alpha error over
the 76th-87th held-out sets' 75 products on black 0.091 -> 0.089, over the untouched 88th's 15
0.025 -> 0.020: a black sneaker 0.067 -> 0.005, a glossy black mug 0.086 -> 0.015; a phone
0.066 -> 0.122; on blocky JPEG it finds next to nothing: :data:`_HUE_QUANTILE`. A white
screen's colour mottling, a pink blotch's rim, broke it into regions: not on lit screens).
Gaps in it up to about ``2 * GAP`` px wide (a face meeting its own contact shadow, a highlight
running into the rim) are closed: the screen is what reaches the frame's border through the
near-neutral pixels once they are eroded by :data:`GAP` px (and grown back by as much, never across
an edge); and gaps up to about ``2 * WIDE_GAP`` px wide where what they part from the screen is a
wide region (:data:`WIDE_SHARE` of the frame: a pale face whose shaded rim the screen's gradient
crosses in places, an ivory fender on white; such a region is a hole where shadow-like or at the
plate's level, :func:`outlined`'s ``wide_only``). The regions it encloses are parted where they
narrow to a neck of a few px (a face that a gap in its outline joins to a hole beside it). They are
holes in the subject when part of them is at the plate's level (:func:`lib_tkg.keying.plate`'s
rule); else they are subject parts, and those within :data:`SOLID_NEAR` levels of the plate on
average (on a white screen :data:`SOLID_NEAR_WHITE`; the distance matte would key them partly
clear), or a fifth of which the matte keys opaque (a shaded face), are made opaque
(:func:`solid_parts`, :func:`solid_mask`). Other ones (a translucent bright layer on black, a
darker tinted glass) keep the distance matte's partial alpha. A face crossing the screen's level
all over in grains (gravel, pebbled leather, feathers) is found in pieces, holes among them; where
it is wide, near the level and detailed, its inside is made opaque where its texture runs every way
(:func:`textured_faces`).
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying.edges import coherence, detail, grad2, sharp_edges
from lib_tkg.keying.regions import rim_components
from lib_tkg.keying.resolution import KERNEL3, KERNEL5

#: levels per px: the least gradient of a subject's outline on a neutral screen
OUTLINE_LEAST = 0.8
#: the outline's gradient, at least, as a multiple of the screen's typical one (the root of the
#: median squared gradient over the near-neutral pixels)
OUTLINE_NOISE = 3.0
#: px: half the widest gap in the outline that is closed
GAP = 5
#: px: half the widest gap in the outline that is closed where what it parts from the screen is
#: a wide region (:data:`WIDE_SHARE` of the frame at least); :mod:`lib_tkg.keying.plate` takes
#: such a region for a hole where it is darker than the plate as a shadow is, or at the plate's
#: level in 30 % of it. Measured over the 193rd-201st held-out sets' 90 products, mean alpha
#: error, white 0.0379 -> 0.0325 and black 0.0311 -> 0.0300, three products moved by 0.003 or
#: more, all better: an ivory fender 0.199 -> 0.009, a black one 0.057 -> 0.007, a white one
#: 0.072 -> 0.023; on the 202nd-205th's 40, built after it, none (a first form that grew the
#: screen back within the near-neutral pixels step by step lost 0.008 on a white chocolate bar
#: there). Without the hole rule, the own benchmark's seeds 300-323 and 400-447 at 512 and 768
#: px lost 0.016-0.040 on three contact shadows cut off between a ball and its strands; with it
#: the worst is a bright translucent layer made opaque, 0.034 -> 0.041. 12 and 16: white 0.0332
#: and 0.0349 (a white carafe on a white coaster 0.015 -> 0.043 and 0.074)
WIDE_GAP = 9
#: ... the least share of the frame such a region covers. 0.004, before the hole rule: two
#: narrow pieces of a contact shadow (0.6 % of the frame) made opaque (a bottle's 0.001 ->
#: 0.009); with it: two more of the 205th's products better (seen after this was chosen), but of
#: the own benchmark's 288 neutral screens (above) nine worse by 0.001-0.011 and five better
#: (this: three worse by 0.001-0.006, one better); 0.02: the same as this over the 193rd-201st
WIDE_SHARE = 0.01
#: px: half the widest neck at which a region the outline encloses is parted in two
NECK = 2
#: share of the frame a speck of the screen covers at most (:func:`specks`)
SPECK = 0.003
#: levels (RGB distance): an enclosed region's mean distance from the plate, at most, for it to
#: be made opaque
SOLID_NEAR = 48.0
#: ... on a white screen (the distance matte keys 64 levels 0.89 opaque: a cream woven face, a
#: grey sphere, a pick case keep a few levels of the screen there). A faint translucent layer
#: darker than a white screen is mostly a shadow, which the hole rules take; one brighter than
#: a black screen is smoke or a glow, what black screens are keyed for, so black and grey
#: screens keep :data:`SOLID_NEAR`. Measured over the 161st-182nd held-out sets' 110 white
#: products, mean alpha error: 48, 0.0314; 56, 0.0302; 64, 0.0294 (a grey sphere 0.096 ->
#: 0.019, a pick case 0.066 -> 0.017, a bag 0.144 -> 0.117; the worst +0.005, a translucent
#: layer at 0.2 made opaque); 72, 0.0293. On their 110 black products 64 gives 0.0394 -> 0.0376
#: (a scroll 0.185 -> 0.050), but a bright veil at 0.15 with a cut outline keys opaque
SOLID_NEAR_WHITE = 64.0
#: levels (RGB distance): half a textured face at least lies within this of the plate
#: (:func:`textured_faces`): half :data:`lib_tkg.keying.matte.NEUTRAL_CONTRAST`, at which the
#: distance matte keys a pixel half opaque (the matte keys it mostly clear). A glass bottle of
#: tinted liquid (26 levels of luminance off the screen) and dim faces farther off keep the matte's
#: partial alpha. Measured over the 161st-178th held-out sets' 180 products, before the every-way
#: share (:data:`TEXTURE_EVERY_WAY`; with it 0.0382 and 0.0311, 18 better, one worse by 0.7): black
#: mean alpha error 0.0433 -> 0.0376, white 0.0318 -> 0.0307; 29 better by 0.5 SAD or more (a gravel
#: kettle 82.1 -> 36.0, a sequin gown 25.8 -> 6.4, a pebbled bag 23.7 -> 6.2, an inkstone 23.6 ->
#: 8.8, a feather clutch 35.5 -> 22.5, a mala 16.3 -> 3.5, a crackled candle 7.9 -> 1.9), two worse
#: (a comb's shadow 26.5 -> 27.8, a white product 21.3 -> 22.3). The face's mean distance within
#: this instead: black 0.0394, white 0.0314 (a flame or a label on a fifth of a face took it past;
#: at 30 levels of luminance a tinted bottle was made opaque, 25.0 -> 44.1 SAD); 29 and 43 levels:
#: black 0.0382 and 0.0373, white 0.0314 and 0.0306
TEXTURE_NEAR = 36.0
#: a textured face's inside, at least as detailed as this many times the screen on average:
#: the bound :mod:`lib_tkg.keying.plate` puts on a wide enclosed region's candidates
#: (``_PART_DETAIL``), here over the whole face, outline and texture included, so with no floor
#: in levels (measured apart, before the every-way share, as the next: 1.6: the same; 2.5:
#: black 0.0379; 3: 0.0388, the gravel kettle left as before)
TEXTURE_DETAIL = 2.0
#: px: the scale over which the texture's orientation is taken (:func:`textured_faces`) ...
TEXTURE_SIGMA = 3.0
#: ... and the coherence under which it runs every way: without it a sea urchin's spines had
#: the gaps between them filled (its background clear 0.991 -> 0.935; with it 0.985; black
#: mean alpha error 0.0370); 0.6 and 0.8: 0.0382 (the kettle 43.9) and 0.0372 (the urchin
#: 0.981)
TEXTURE_COHERENCE = 0.7
#: share of a textured face's inside whose texture runs every way, at least: stems fanning out
#: of a vase, a sea urchin's spines, twigs run one way over most of it, however their tips
#: cross (the 180th held-out set's dried bouquets on black and white, 0.23-0.55 of them, had the
#: screen between their stems made opaque: black mean alpha error 0.0100 -> 0.0187, white
#: 0.0298 -> 0.0332; with this, as before); gravel, pebbled leather, a feather clutch, a mala,
#: a crackled candle, a sequin gown 0.74-1.0. Over the 161st-180th's 200 products, black
#: 0.0358 -> 0.0359 and white 0.0301 -> 0.0303 with it; 0.5: 0.0358 (a bouquet made opaque),
#: 0.6 and 0.7: 0.0357 and 0.0359, 0.75: 0.0363
TEXTURE_EVERY_WAY = 0.65


def _disk(r: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


#: the opponent colour planes (R - G and (R + G) / 2 - B, levels) in which a dark screen's
#: outline is found too (:func:`outlined`) ...
_OPPONENT = np.array([[1.0, -1.0, 0.0], [0.5, 0.5, -1.0]], np.float32)
#: ... their typical gradient taken at this quantile over the candidates, not the median: JPEG's
#: chroma blocks step a few levels in hue at their edges, over a tenth of a dark screen's pixels
#: (saved at quality 60, the 76th-89th held-out sets' black products kept 94.0 % of their
#: background clear at least with it, 91.2 % with the median, 94.8 % without the hue outline;
#: their PNG's mean alpha error the same, 0.0886 and 0.0880)
_HUE_QUANTILE = 0.9


def _steps(x: np.ndarray, cand: np.ndarray, quantile: float = 0.5) -> np.ndarray:
    """Sharp edges of the plane ``x`` (levels, float32 (h, w)) down to :data:`OUTLINE_LEAST`
    levels per px, or :data:`OUTLINE_NOISE` times its typical gradient (the ``quantile`` of
    it over the candidates ``cand``, bool) where that is more: bool."""
    g_fine = grad2(x, 0.8)
    g = g_fine[::3, ::3][cand[::3, ::3]]  # (a 1-in-9 subsample: its quantile, fast)
    typical = float(np.sqrt(np.quantile(g, quantile))) if g.size else 0.0
    return sharp_edges(x, max(OUTLINE_LEAST, OUTLINE_NOISE * typical), g_fine)


def outlined(
    lum: np.ndarray, cand: np.ndarray, img: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """The screen and the regions the subject's outline encloses, on a neutral screen.

    ``lum``: luminance (levels, float32 (h, w)); ``cand``: near-neutral pixels at the screen's
    level or in its soft shadows (bool, same shape); ``img``: the image (float32 RGB levels),
    to find the outline in hue as well (two opponent colour planes, :data:`_OPPONENT`), or
    ``None``: on a black screen a dark subject's outline steps a few levels in brightness or
    none, but its hue (a navy or a brown box's) often steps as much. Returns
    ``(screen, labels, n, whole, wide_only)``: the candidates that reach the frame's border (bool);
    the 4-connected components of the other candidates off the outline, parted at necks
    (:func:`_parted_at_necks`: ``labels`` int32, 0 elsewhere; ``n`` labels with 0); which
    component each of those pieces belongs to (``whole``, (n,) int32, 0 for label 0); and which
    pieces lie mostly in a wide region only gaps up to ``2 * WIDE_GAP`` px wide part from the
    screen (``wide_only``, (n,) bool).
    """
    edges = _steps(lum, cand)
    if img is not None:
        for row in _OPPONENT:
            edges |= _steps(cv2.transform(img, row[None]), cand, _HUE_QUANTILE)
    free = (cand & (cv2.dilate(edges.view(np.uint8), KERNEL3) == 0)).view(np.uint8)
    screen = _reaching(free, GAP)
    # (a wide region that only wider gaps join to the screen is the subject's: a pale face
    # whose shaded rim the screen's gradient crosses in places)
    _, cut, stats, _ = cv2.connectedComponentsWithStats(
        cv2.bitwise_and(screen, cv2.bitwise_not(_reaching(free, WIDE_GAP))), connectivity=4
    )
    wide = stats[:, cv2.CC_STAT_AREA] >= WIDE_SHARE * free.size
    wide[0] = False
    wide_px = wide[cut]
    screen = cv2.bitwise_and(screen, (~wide_px).view(np.uint8)).view(bool)
    inside = cv2.bitwise_and(free, (~screen).view(np.uint8))
    n, labels, whole = _parted_at_necks(inside)
    flat = labels.reshape(-1)
    in_wide = np.bincount(flat, weights=wide_px.reshape(-1), minlength=n)
    return screen, labels, n, whole, 2 * in_wide > np.bincount(flat, minlength=n)


def _reaching(free: np.ndarray, gap: int) -> np.ndarray:
    """The pixels of ``free`` (uint8 0/1) that reach the frame's border once ``free`` is eroded
    by ``gap`` px, grown back by ``gap + 1`` px over ``free``: uint8 0/1."""
    labels, sides, _ = rim_components(cv2.erode(free, _disk(gap)))
    outer = sides.any(0)[labels].view(np.uint8)
    return cv2.bitwise_and(cv2.dilate(outer, _disk(gap + 1)), free)


def _parted_at_necks(inside: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """The 4-connected components of ``inside`` (uint8 0/1), each parted where it narrows to a
    neck under ``2 * NECK + 1`` px (a hole in the subject that a gap in the outline joins to a
    face beside it): the pieces that survive an erosion by :data:`NECK` px, grown back over the
    component's pixels within ``NECK + 1`` px of them (to the nearest), and what none reaches
    (regions thinner than that, the necks), each piece of it on its own. ``(n, labels, of)``:
    label 0 outside, as :func:`cv2.connectedComponents` returns them, and each label's
    component (``of``, (n,) int32)."""
    n0, whole = cv2.connectedComponents(inside, connectivity=4)
    seeds = cv2.erode(inside, _disk(NECK))
    n1, cores = cv2.connectedComponents(seeds, connectivity=4)
    on_seed = seeds.view(bool)
    # (no component holding two pieces: nothing to part)
    core_of = np.zeros(n1, np.int32)
    core_of[cores[on_seed]] = whole[on_seed]
    if n1 <= 1 or np.bincount(core_of[1:], minlength=n0).max() <= 1:
        return n0, whole, np.arange(n0, dtype=np.int32)
    dist, nearest = cv2.distanceTransformWithLabels(
        1 - seeds, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    # each seed pixel's own index -> its piece
    piece = np.zeros(int(nearest.max()) + 1, np.int32)
    piece[nearest[on_seed]] = cores[on_seed]
    grown = piece[nearest]
    grown[(dist > NECK + 1) | (core_of[grown] != whole) | (inside == 0)] = 0
    rest = cv2.bitwise_and(inside, (grown == 0).view(np.uint8))
    n2, others = cv2.connectedComponents(rest, connectivity=4)
    labels = np.where(others > 0, others + (n1 - 1), grown).astype(np.int32)
    of = np.zeros(n1 + n2 - 1, np.int32)
    of[labels] = whole
    return n1 + n2 - 1, labels, of


def specks(labels: np.ndarray, screen: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """The screen's specks: what is neither ``screen`` nor a region of ``labels`` (nor its 1 px
    margin), in 8-connected pieces of :data:`SPECK` of the frame at most (at least 64 px) all
    of whose pixels are candidates (``cand``: near-neutral, at the screen's level or in its
    shadows), bool. Dust or a crisp blotch of a few levels on the screen is all outline at the
    outline's threshold, and encloses no region; a subject part that small and that near the
    screen is keyed with it (a limit)."""
    h, w = labels.shape
    rest = cv2.bitwise_and(
        (~screen).view(np.uint8), cv2.bitwise_not(cv2.dilate((labels > 0).view(np.uint8), KERNEL3))
    )
    n, pieces, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    candidates = np.bincount(pieces.reshape(-1), weights=cand.reshape(-1), minlength=n)
    speck = (stats[:, 4] <= max(64.0, SPECK * h * w)) & (candidates >= stats[:, 4])
    speck[0] = False
    return speck[pieces]


def solid_parts(labels: np.ndarray, part: np.ndarray, screen: np.ndarray) -> np.ndarray | None:
    """The regions of ``labels`` (:func:`outlined`) that ``part`` ((n,) bool) marks, grown by
    2 px over the outline's edge pixels (to the edge itself: the screen is kept as far from
    it), and across edges up to 4 px wide between two of them, but never within 2 px of the
    ``screen`` (bool): a bool mask, or ``None`` if ``part`` marks none."""
    if not part.any():
        return None
    grown = cv2.dilate(part[labels].view(np.uint8), KERNEL5)
    # (and over the edges between two such parts: two faces of a box)
    grown = cv2.morphologyEx(grown, cv2.MORPH_CLOSE, _disk(2))
    away = cv2.bitwise_not(cv2.dilate(screen.view(np.uint8), KERNEL5))
    return cv2.bitwise_and(grown, away).view(bool)


def textured_faces(
    lum: np.ndarray,
    dist: np.ndarray,
    clear: np.ndarray,
    screen_detail: tuple[float, float],
    least: float,
) -> np.ndarray | None:
    """The insides of the subject's textured faces at a neutral screen's level, to be made
    opaque: bool, or ``None`` where there are none.

    A dark gravel kettle, a pebbled bag, a feather clutch or an inkstone on black crosses the
    screen's level all over in grains a few px wide: the outline finds it in pieces, and those
    at the level are taken for holes, so that it keyed as scattered opaque blocks among clear
    ones. A face here is an 8-connected piece of what is neither screen nor hole (``clear``,
    bool) covering ``least`` px at least, half of it within :data:`TEXTURE_NEAR` of the plate
    (``dist``, levels: the distance matte keys it mostly clear), whose inside (over 2 px from
    ``clear``) is :data:`TEXTURE_DETAIL` times as detailed as the screen on average
    (``screen_detail``: the sigma, px, of :func:`lib_tkg.keying.edges.detail` and the screen's
    mean detail at it, levels). Of that inside, the pixels whose texture runs every way
    (:func:`lib_tkg.keying.edges.coherence` of ``lum``, levels, under
    :data:`TEXTURE_COHERENCE`) are returned, where they are :data:`TEXTURE_EVERY_WAY` of it;
    strands, spines, stems and grooves run one way, and the gaps between them are screen."""
    body = cv2.bitwise_not(clear.view(np.uint8)) & 1
    n, faces = cv2.connectedComponents(body, connectivity=8)
    inside = cv2.dilate(clear.view(np.uint8), KERNEL5) == 0
    flat = faces.reshape(-1)
    count = np.bincount(flat, minlength=n)
    near = 2 * np.bincount(flat, weights=(dist <= TEXTURE_NEAR).reshape(-1), minlength=n) >= count
    of_inside = faces[inside]
    inside_count = np.bincount(of_inside, minlength=n)
    textured = (count >= least) & near & (inside_count > 0)
    textured[0] = False
    if not textured.any():
        return None
    sigma, screen = screen_detail
    detailed = np.bincount(of_inside, weights=detail(lum, sigma)[inside], minlength=n)
    textured &= detailed >= TEXTURE_DETAIL * screen * inside_count
    if not textured.any():
        return None
    every_way = coherence(lum, TEXTURE_SIGMA) < TEXTURE_COHERENCE
    isotropic = np.bincount(of_inside, weights=every_way[inside], minlength=n)
    textured &= isotropic >= TEXTURE_EVERY_WAY * inside_count
    if not textured.any():
        return None
    return inside & textured[faces] & every_way


def solid_mask(
    solid: np.ndarray | None, shape: tuple[int, int], box: tuple[int, int, int, int] | None = None
) -> np.ndarray | None:
    """The opaque subject parts ``solid`` (bool, the analysed resolution of a frame of
    ``shape`` = (h, w) px; ``None``: none) over ``box`` = (y0, y1, x0, x1) of that frame (all of
    it if ``None``), at full resolution (each pixel takes the analysed pixel it falls in): bool,
    or ``None`` where none falls in the box."""
    if solid is None:
        return None
    h, w = shape
    y0, y1, x0, x1 = (0, h, 0, w) if box is None else box
    sh, sw = solid.shape
    rows = np.arange(y0, y1) * sh // h
    cols = np.arange(x0, x1) * sw // w
    if not solid[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].any():
        return None
    return solid[rows[:, None], cols]
