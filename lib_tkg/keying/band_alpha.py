"""The unknown band's alpha per pixel, before the guided filter (:func:`band_alpha`, step 1 of
:func:`lib_tkg.keying.refine.refine_band`): the line from the plate to the nearby subject
colour, the same with screen light on the edge (spill), the colour difference corrected for a
known subject colour, and the fallback between the colour difference and the physical lower
bound; a neutral screen's distance from the plate.
"""

from __future__ import annotations

import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.pixels import dot3

_SPILL_GAIN = 0.5  # share of the line fit's squared residual the spill fit must get below
_TO_FLOOR = 0.75  # share of the way to the lower bound for a clearly saturated implied colour
#: ... where the nearest opaque subject colour is of the key's colour: as its colour
#: difference, a share of the plate's, goes from :data:`_KEYED` [0] to [1] (grey halfway), the
#: pull falls to :data:`_TO_FLOOR_KEYED` (a lime leaf's or a green coat's own soft edge, lighter
#: than the screen, is more often that than a glow or a lit veil of another colour); measured on
#: 28 held-out sets (840 composites): SAD -0.8 %, 66 images better and 20 worse by 0.5 or more
#: (from -0.4 to 0: -1.3 %, 106 and 42, but grey strands on a noisy screen made too opaque)
_TO_FLOOR_KEYED = 0.25
_KEYED = (-0.2, 0.2)
#: ... and the share over which the colour difference far from any subject colour is corrected
#: for the nearest one's (:func:`_far_keyed`): from grey (none) to fully (a grey core's
#: correction would only undo the fallback's pull, which noisy grey strands need); measured on
#: 28 held-out sets (840 composites): SAD -0.6 %, 43 images better and 12 worse by 0.5 or more
#: (from -0.2: -1.1 %, 30 worse, but grey strands on a noisy screen made too opaque)
_FAR_KEYED = (0.0, 0.2)
#: ... where the pixel lies within about 50 degrees of the line from the plate to that colour
#: (the cosine of the angle between ``I - B`` and ``F - B``: none at [0], fully from [1]): a
#: white veil or smoke beside a teal part keeps its partial alpha (without it: -0.9 %, but such
#: a veil keyed 0.63 for 0.4)
_FAR_COS = (0.6, 0.65)
#: levels of ``|F - B|`` from which a subject colour ``F`` is told from the plate ``B`` well
#: enough to divide by (fully at twice that)
_APART = 30.0
# implied colour's chroma, as a share of the screen's, from which it counts as clearly saturated:
# for a pixel lighter than the plate, and for one darker (a glow or a lit veil adds light; a
# darker pixel is more often an opaque subject part of the screen's hue, a forest green sweater
# on a lime screen, than a dark tinted veil)
_SATURATED = 0.25
_SATURATED_DARK = 1.0
# clip-white makes a band pixel opaque only if its lower bound is at least this, or its implied
# colour is less saturated than this share of the screen's chroma (else it is a partial mix)
_SNAP_BOUND = 0.8
_SNAP_RATIO = 0.5
# levels by which the opaque rim's colour lies off what mixing the core's colour with the screen
# or lighting it with the screen (spill) gives, where the rim starts to count as an outline
# (fully at twice that)
_OUTLINE = 30.0


def band_alpha(
    i_b: np.ndarray,
    b_b: np.ndarray,
    t_b: np.ndarray | None,
    fw: np.ndarray,
    fw2: np.ndarray | None,
    fr: np.ndarray | None,
    m: np.ndarray | None,
    cw: float,
    contrast: np.ndarray | None,
    fn: np.ndarray | None,
    far: bool,
) -> np.ndarray:
    """Step 1 of :func:`refine.refine_band` for band pixels (rows): alpha (N,) float32, 0..1.

    ``i_b``, ``b_b``: image and plate colours (N, 3) float32 levels; ``t_b``: the screen ratio
    (chroma screens; ``None`` on a neutral one); ``fw``, ``fw2``: the local and the wide
    foreground colour map sampled there, (N, 4) colour and weight, and ``fr`` the opaque rim's
    (:func:`core_colour.rim_map`; both ``None`` on a neutral screen); ``m``: the chroma basis
    or ``None``;
    ``cw``: clip-white (0..1); ``contrast``: a neutral screen's subject contrast in levels
    (:func:`refine._inner_contrast`), (N,); ``None`` on a chroma screen. ``fn``: the colour of
    the nearest opaque core however far (:func:`core_colour.nearest_colour`), (N, 3) levels;
    ``None`` on a neutral screen or where the image has no core. ``far``: whether that core is
    large enough (:data:`refine._FAR_CORE`) to stand for the subject's colour beyond the wide
    average's reach, where it is of the key's colour (:func:`_far_keyed`).

    The fallback estimate is made for all rows; the line through the local subject colour
    (:func:`_line_alpha`) only for the rows where that colour has weight (most of a band has
    none), as its confidence is 0 elsewhere.
    """
    one = np.float32(1.0)
    f_loc, w_loc = matte.rgb_rows(fw), fw[:, 3]  # (fast numpy needs contiguous rows)
    v = i_b - b_b
    u = f_loc - b_b
    vv = dot3(v, v)
    bc = bb = vb = trust = None
    if m is not None:
        # spill: I - B = a (F - B) + c B_chroma, c >= 0 (screen light on the subject's edge)
        bc = matte.chroma_part(b_b)
        bb, vb = dot3(bc, bc), dot3(v, bc)

    up = np.maximum(v, 0) / np.maximum(np.float32(255.0) - b_b, np.float32(32.0))
    dn = np.maximum(-v, 0) / np.maximum(b_b, np.float32(32.0))
    ud = np.maximum(up, dn)
    a_box = np.clip(np.maximum(np.maximum(ud[:, 0], ud[:, 1]), ud[:, 2]), 0, 1)
    if m is None:
        # the distance from the plate as a share of the nearby subject's own distance from it
        # (at least the neutral contrast), where a subject is near; else a share of the
        # subject's typical distance from it (the median over its opaque core)
        near_contrast = np.maximum(np.sqrt(dot3(u, u)), np.float32(matte.NEUTRAL_CONTRAST))
        a_near = np.clip(np.sqrt(vv) / near_contrast, 0, 1)
        wn = np.clip((w_loc - 0.02) / 0.1, 0, 1)
        a_far = np.clip(np.sqrt(vv) / contrast, 0, 1)
        a_fb = wn * a_near + (1 - wn) * a_far
        a_white = a_far  # what clip-white judges
    else:
        a_cd = np.clip(one - t_b, 0, 1)
        lo_b = np.minimum(a_box, a_cd)
        # trust the colour-difference value fully when the colour it implies is grey (then it
        # is exact), 25 % when that colour is clearly saturated (then it over-estimates); for a
        # pixel darker than the plate only once that colour is as saturated as the screen
        f_cd = b_b + v / matte.rep3(np.maximum(a_cd, np.float32(0.02)))
        ratio = matte.chroma_rows(f_cd) / matte.chroma_rows(b_b)
        dark = matte.rows_dot(v, matte.ONES) < 0
        saturated = np.where(dark, np.float32(_SATURATED_DARK), np.float32(_SATURATED))
        r_n = None if fn is None else _key_share(fn, b_b, m)
        lam = one - _to_floor(r_n) * np.clip(ratio / saturated, 0, 1)
        a_fb = lo_b + lam * (a_cd - lo_b)
        # near a known subject colour F the colour difference is unbiased:
        # alpha = (d(B) - d(I)) / (d(B) - d(F)) = a_cd / (1 - d(F) / d(B)); F is the local
        # average, else the wider one farther into wide soft bands
        g_s = np.clip(w_loc / np.float32(0.1), 0, 1)
        f_wide = matte.rgb_rows(fw2)
        f_kn = f_wide + matte.rep3(g_s) * (f_loc - f_wide)
        w_kn = np.maximum(g_s, np.clip(fw2[:, 3] / np.float32(0.05), 0, 1))
        # trusted only where the pixel lies near the line from B to that F
        u_k = f_kn - b_b
        uu_k, vu_k = dot3(u_k, u_k), dot3(v, u_k)
        cos_k = _cosine(vu_k, uu_k, vv)
        w_kn *= np.clip((cos_k - np.float32(0.8)) / np.float32(0.1), 0, 1)
        # ... and not where the subject has an outline: then F is the outline's colour, not the
        # core's (the line fit below is not used there either)
        trust = _outline_trust(f_kn, fr, b_b, bc)
        w_kn *= trust
        r_f = _key_share(f_kn, b_b, m)
        a_kn = _corrected(a_cd, r_f)
        # with spill, where the two-term fit explains the pixel clearly better
        a2, _, use = _spill_fit(u_k, bc, uu_k, vu_k, vv, bb, vb, a_kn)
        a_kn = np.where(use, np.clip(a2, 0, 1), a_kn)
        a_fb = w_kn * a_kn + (1 - w_kn) * a_fb
        if far and r_n is not None:
            _far_keyed(a_fb, a_cd, w_kn, r_n, fn, b_b, v, vv)
        # never below the physical lower bound: a smaller alpha would need a foreground colour
        # outside [0, 255] (pale key-tinted veils and strands, which the colour difference
        # takes for screen)
        a_fb = np.maximum(a_fb, a_box)
        # clip-white judges the colour difference as corrected for a known subject colour (a
        # red strand on green is opaque by the plain value long before it is opaque)
        a_white = w_kn * a_kn + (1 - w_kn) * a_cd
    snap = a_white >= one - np.float32(cw)
    if m is not None:
        # ... and not where the implied colour is clearly saturated and the lower bound low:
        # such a pixel may be a partial mix with a colour opposite the screen, for which the
        # colour difference reaches clip-white early (red on green at under half opacity)
        snap &= (a_box >= np.float32(_SNAP_BOUND)) | (ratio < np.float32(_SNAP_RATIO))
    a_new = np.where(snap, one, a_fb)
    # blended with the line's alpha by its confidence, which is 0 where the local subject
    # colour has no weight (so there the fallback is the alpha, as it was)
    near = np.flatnonzero(w_loc > np.float32(0.02))
    if near.size:
        a_loc, cos, uu = _line_alpha(
            *(None if x is None else np.take(x, near, axis=0) for x in (v, u, vv, bc, bb, vb))
        )
        conf = np.clip((w_loc[near] - 0.02) / 0.1, 0, 1) * np.clip((cos - 0.85) / 0.1, 0, 1)
        conf *= _apart(uu)
        if trust is not None:
            conf *= trust[near]
        a_line = np.clip(a_loc, a_box[near], 1.0)
        a_new[near] = conf * a_line + (1.0 - conf) * a_new[near]
    return np.clip(a_new, 0.0, 1.0)


def _key_share(f: np.ndarray, b_b: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The colour difference of colours ``f`` as a share of the plate's ``b_b`` ((N, 3) levels
    each; ``m``: the chroma basis): 1 at the screen's own, 0 for grey, negative for colours
    opposite it, (N,)."""
    return matte.diff(f, m) / np.maximum(matte.diff(b_b, m), np.float32(1.0))


def _ramp(r: np.ndarray, span: tuple[float, float]) -> np.ndarray:
    """``r`` (N,) mapped linearly from ``span`` [0] (0) to [1] (1), clipped."""
    lo, hi = span
    return np.clip((r - np.float32(lo)) / np.float32(hi - lo), 0, 1)


def _to_floor(r_n: np.ndarray | None) -> np.float32 | np.ndarray:
    """The fallback's share of the way to the lower bound for a clearly saturated implied
    colour: :data:`_TO_FLOOR`, falling to :data:`_TO_FLOOR_KEYED` as the nearest opaque
    subject colour is of the key's (``r_n``: its :func:`_key_share`, over :data:`_KEYED`;
    ``None``: no core); (N,) or a scalar."""
    if r_n is None:
        return np.float32(_TO_FLOOR)
    keyed = _ramp(r_n, _KEYED)
    return np.float32(_TO_FLOOR) - np.float32(_TO_FLOOR - _TO_FLOOR_KEYED) * keyed


def _far_keyed(
    a_fb: np.ndarray,
    a_cd: np.ndarray,
    w_kn: np.ndarray,
    r_n: np.ndarray,
    fn: np.ndarray,
    b_b: np.ndarray,
    v: np.ndarray,
    vv: np.ndarray,
) -> None:
    """The fallback ``a_fb`` (N,), in place, where no subject colour is within the wide
    average's reach (``1 - w_kn`` of it), moved to the colour difference ``a_cd`` corrected for
    the nearest opaque subject colour ``fn`` as :func:`band_alpha` corrects it for a near one,
    as far as that colour is of the key's (its :func:`_key_share` ``r_n``, over
    :data:`_FAR_KEYED`), apart from the plate ``b_b`` (:func:`_apart`) and the pixel
    (``v = I - B``, ``vv = |v|^2``) near the line towards it (:data:`_FAR_COS`): a lime, mint
    or teal part's translucent folds and motion-blurred or soft edges, farther from its opaque
    part than 10 px, have less colour difference than the screen only by the share its own
    colour lacks (``a_cd`` alone calls them half clear). Not for other colours (a veil or smoke
    far from a skin-toned core is not of its colour), nor off that line (a white veil beside a
    teal part). Only the rows it can move are computed (most bands have none)."""
    one = np.float32(1.0)
    at = np.flatnonzero((w_kn < one) & (r_n > np.float32(_FAR_KEYED[0])))
    if at.size == 0:
        return
    r_at = r_n[at]
    u = np.take(fn, at, axis=0) - np.take(b_b, at, axis=0)
    uu = dot3(u, u)
    cos = _cosine(dot3(np.take(v, at, axis=0), u), uu, vv[at])
    w = (one - w_kn[at]) * _ramp(r_at, _FAR_KEYED) * _apart(uu) * _ramp(cos, _FAR_COS)
    a_at = a_fb[at]
    a_fb[at] = a_at + w * (_corrected(a_cd[at], r_at) - a_at)


def _corrected(a_cd: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The colour difference's alpha ``a_cd`` (N,) corrected for a subject colour whose own
    colour difference is ``r`` (N,) of the plate's (:func:`_key_share`): ``a_cd / (1 - r)``,
    ``r`` taken within -1..0.6 (a colour nearer the key's is told from the screen too poorly to
    divide by less), clipped to 0..1."""
    return np.clip(a_cd / (np.float32(1.0) - np.clip(r, -1.0, 0.6)), 0, 1)


def _cosine(vu: np.ndarray, uu: np.ndarray, vv: np.ndarray) -> np.ndarray:
    """The cosine (N,) of the angle between rows ``v`` and ``u`` from their dot products
    ``vu``, ``uu`` and ``vv`` (N,) each (0 where either is about zero)."""
    return vu / np.sqrt(np.maximum(uu * vv, np.float32(1e-6)))


def _apart(uu: np.ndarray) -> np.ndarray:
    """Confidence (N,) 0..1 in a subject colour ``F`` as told from the plate, by ``uu`` =
    ``|F - B|^2`` (levels squared): 0 under :data:`_APART`, 1 from twice that."""
    return np.clip((np.sqrt(uu) - np.float32(_APART)) / np.float32(_APART), 0, 1)


def _outline_trust(f: np.ndarray, fr: np.ndarray, b_b: np.ndarray, bc: np.ndarray) -> np.ndarray:
    """Trust (N,) 0..1 in the nearby core's colour ``f`` ((N, 3) levels) as the edge's colour:
    0 where the opaque rim's colour (``fr``, :func:`core_colour.rim_map`, (N, 4)) is more than twice
    :data:`_OUTLINE` levels from every ``f + x (B - f) + y chroma(B)`` with ``x, y >= 0``
    (``b_b``: the plate ``B``, ``bc``: its chroma): an outline. A rim that is only mixed with
    the screen or lit by it (spill) is within that reach; 1 under :data:`_OUTLINE`, and where
    no rim is near."""
    one = np.float32(1.0)
    trust = np.ones(f.shape[0], np.float32)
    at = np.flatnonzero(fr[:, 3] > np.float32(1e-3))  # (most of a band has no rim near)
    if at.size == 0:
        return trust
    fr_at = np.take(fr, at, axis=0)
    f_at, b_at, bc_at = (np.take(x, at, axis=0) for x in (f, b_b, bc))
    d = matte.rgb_rows(fr_at) - f_at
    u = b_at - f_at
    dd, uu, bb = dot3(d, d), dot3(u, u), dot3(bc_at, bc_at)
    du, db, ub = dot3(d, u), dot3(d, bc_at), dot3(u, bc_at)
    # the nearest point of the cone: on one of its two edges, or inside it
    res = np.minimum(
        dd - np.maximum(du, 0) ** 2 / np.maximum(uu, one),
        dd - np.maximum(db, 0) ** 2 / np.maximum(bb, one),
    )
    x, y, res2, ok = _two_term(uu, ub, bb, du, db, dd)
    res = np.where(ok & (x >= 0) & (y >= 0), np.minimum(res, res2), res)
    off = np.sqrt(np.maximum(res, 0))
    outline = np.clip((off - np.float32(_OUTLINE)) / np.float32(_OUTLINE), 0, 1)
    trust[at] = one - np.clip(fr_at[:, 3] / np.float32(0.1), 0, 1) * outline
    return trust


def _line_alpha(
    v: np.ndarray,
    u: np.ndarray,
    vv: np.ndarray,
    bc: np.ndarray | None,
    bb: np.ndarray | None,
    vb: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alpha of band rows on the line from the plate ``B`` to the local subject colour ``F``:
    the projection of ``v = I - B`` on ``u = F - B`` ((N, 3) levels each), or on a chroma
    screen, where screen light on the edge explains the pixel clearly better, the alpha of the
    two-term fit with the plate's chroma ``bc`` (:func:`_spill_fit`; ``None`` on a neutral
    screen). ``vv``, ``bb``, ``vb``: the dot products of ``v`` and ``bc`` (N,).

    Returns that alpha, the cosine of the angle between ``v`` and the line (or the fit), and
    ``|u|^2`` (levels squared), (N,) each.
    """
    one = np.float32(1.0)
    uu = dot3(u, u)
    vu = dot3(v, u)
    a_loc = vu / np.maximum(uu, one)
    cos = _cosine(vu, uu, vv)
    if bc is not None:
        a2, res2, use = _spill_fit(u, bc, uu, vu, vv, bb, vb, a_loc)
        cos2 = np.sqrt(np.clip(1.0 - res2 / np.maximum(vv, np.float32(1e-6)), 0, 1))
        a_loc = np.where(use, a2, a_loc)
        cos = np.where(use, cos2, cos)
    return a_loc, cos, uu


def _spill_fit(
    u: np.ndarray,
    bc: np.ndarray,
    uu: np.ndarray,
    vu: np.ndarray,
    vv: np.ndarray,
    bb: np.ndarray,
    vb: np.ndarray,
    a_1: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alpha with spill for band rows: ``I - B = a (F - B) + c chroma(B)`` with ``c > 0``
    (screen light on the subject's edge makes it look more transparent than it is).

    ``u = F - B`` and ``bc = chroma(B)``, (N, 3); ``uu``, ``vu``, ``vv``, ``bb``, ``vb``: the
    dot products of ``u``, ``v = I - B`` and ``bc`` (N,). ``a_1``: alpha without spill.
    Returns the two-term fit's alpha and squared residual (levels squared), and where to use
    them: where it finds spill, a higher alpha than ``a_1`` and a residual below
    :data:`_SPILL_GAIN` times that of the line ``B + a (F - B)`` alone.
    """
    a2, c2, res2, ok = _two_term(uu, dot3(u, bc), bb, vu, vb, vv)
    res1 = vv - vu * vu / np.maximum(uu, np.float32(1.0))
    use = ok & (c2 > 0) & (a2 > a_1) & (res2 < np.float32(_SPILL_GAIN) * res1)
    return a2, res2, use


def _two_term(
    uu: np.ndarray,
    ub: np.ndarray,
    bb: np.ndarray,
    vu: np.ndarray,
    vb: np.ndarray,
    vv: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least squares ``v = x u + y b`` per row from the dot products of ``u``, ``b`` and ``v``
    (N,) each: ``(x, y, squared residual, ok)``, ``ok`` False where ``u`` and ``b`` are nearly
    parallel (then ``x``, ``y`` are meaningless)."""
    one = np.float32(1.0)
    det = uu * bb - ub * ub
    ok = det > np.float32(1e-3) * uu * bb
    det = np.where(ok, det, one)
    x = (vu * bb - vb * ub) / det
    y = (uu * vb - ub * vu) / det
    return x, y, vv - x * vu - y * vb, ok
