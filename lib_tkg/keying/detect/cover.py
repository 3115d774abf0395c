"""How much of the border is smooth screen colour, and the :class:`Detection` that says so.

The pixels of the screen's colour (within :data:`~lib_tkg.keying.detect.hues.SCREEN_SPAN` of
the dominant hue, or for a neutral prior the near-grey pixels at the prior's brightness) that
are smooth (:mod:`~lib_tkg.keying.detect.texture`) must cover at least :data:`MIN_COVER` of the
border (the subject may reach the border elsewhere; a subject mask excludes where it is); a
green one :data:`_MIN_GREEN_COVER` when nearly all of it is smooth (a subject running off two
or three sides of the frame: smooth green borders are rare in photos, smooth blue ones are
skies), and a clearly saturated green one :data:`_CROSSED_COVER` where the subject is most of
the rest of the border (:data:`_CROSSED_SHARE`) and hair or a veil crosses some of it
(:data:`_CROSSED_SMOOTH`; more of it, :data:`_CROSSED_EVEN`, where the smooth pixels lie on one
smooth plate: :data:`_CROSSED_FIT`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.detect.hues import DULL_GREEN, in_range, median_colour
from lib_tkg.keying.detect.texture import PATTERN_LV, flat

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


def smooth_screen(
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
) -> tuple[Detection, np.ndarray, np.ndarray]:
    """The screen of the border pixels ``members`` (bool (N,)) that are smooth (``texture``,
    ``pattern``: (N,) levels) if they cover :data:`MIN_COVER` of the border (a green one
    :data:`_MIN_GREEN_COVER` if at least :data:`_CLEAN_SHARE` of it is smooth, or
    :data:`_CROSSED_COVER` as :data:`_CROSSED_CHROMA` says); ``px``,
    ``hue``, ``chroma``: (N, 3) colours, (N,) degrees and levels. ``by_pieces``: pixels beside
    small pieces of other colours (bool (N,)), whose texture is the pieces' rims: those of
    ``members`` not smooth are left out of the border (neither screen nor not). ``band``: the
    border's bool (h, w) mask, whose pixels the (N,) arrays hold (for :data:`_CROSSED_EVEN`;
    ``None``: that rule is not applied).

    Also returns the pixels whose pattern is judged (:func:`chroma_screen`): ``members``, or
    where the subject is beside the screen on the border (a green of :data:`_CROSSED_CHROMA`
    on :data:`_CROSSED_SHARE` of it or less) only their smooth ones: hair, confetti or a veil
    crossing the screen there is pattern too; and the smooth ones (bool (N,))."""
    n = hue.size
    if not members.any():
        return Detection(None, neutral, f"the border is not {what} colour", 0.0), members, members
    level = float(matte.median(chroma[members]))
    smooth = flat(members, texture, level) & (pattern <= PATTERN_LV)
    if by_pieces is not None and smooth.any():  # (then members are left)
        rims = by_pieces & members & ~smooth
        n -= int(rims.sum())
        members = members & ~rims
    cover = float(smooth.sum()) / max(1, n)
    share = float(members.sum()) / max(1, n)
    green = not neutral and bool(in_range(float(matte.median(hue[members])), DULL_GREEN))
    clean = green and cover >= _MIN_GREEN_COVER and cover >= _CLEAN_SHARE * share
    beside = green and level >= _CROSSED_CHROMA and share <= _CROSSED_SHARE
    crossed = beside and cover >= _CROSSED_COVER and cover >= _CROSSED_SMOOTH * share
    if beside and not crossed and band is not None and cover >= _CROSSED_COVER:
        # (densely crossed: fewer of its pixels smooth, but those on one smooth plate)
        crossed = cover >= _CROSSED_EVEN * share and misfit(px, smooth, band) <= _CROSSED_FIT
    if cover < MIN_COVER and not (clean or crossed):
        why = (
            f"only {share:.0%} of the border has {what} colour"
            if share < MIN_COVER
            else f"the border's colour is textured ({cover:.0%} of it is smooth), not {what}"
        )
        return Detection(None, neutral, why, cover), members, smooth
    kc = median_colour(px, smooth)
    textured = members & ~smooth
    paler = 1.0
    if textured.any():
        sat = (px.max(axis=1) - px.min(axis=1)) / np.maximum(px.max(axis=1), np.float32(1.0))
        paler = float(matte.median(sat[textured])) / max(float(matte.median(sat[smooth])), 1e-3)
    judged = smooth if beside else members
    det = Detection(kc, neutral, "", cover, cover / share, paler)
    return det, judged, smooth  # type: ignore[return-value]


def misfit(px: np.ndarray, smooth: np.ndarray, band: np.ndarray) -> float:
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
