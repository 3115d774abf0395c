"""The clean plate: a smooth per-pixel estimate of the screen behind the subject.

:func:`analyse` works on a reduced copy of the image (half resolution, or smaller for huge
images) and returns a :class:`Screen`: the plate on a coarse grid (:data:`PLATE_RES` blocks on
the long side) that covers the whole frame, plus what the matte needs to know about the screen.
A chroma screen's candidates are classified at half that resolution when it is over
:data:`CLASSIFY_RES` px; the last pass (the plate's level) runs at it.

Chroma screens. Background candidates are pixels of the key's hue whose chromaticity (the
saturation ratio ``d / max(RGB)``, unchanged by shadows, vignettes and gradients, which scale
RGB, but lowered by a veil or a light detail) is close to a robust smooth field fitted to the
screen's, and whose hue cast matches the screen's. Their colours, averaged per block (normalised
convolution) and filled across the subject with a push-pull pyramid, give the plate. Next to
the subject, candidates much darker than the screen farther out are left out: a dark subject's
blurred edge has the screen's chromaticity, but it is subject, not a shadow. A second
pass keeps only candidates at the first plate's level (neither darker, so thin dark details such
as hair don't darken it, nor brighter or more saturated, so key-coloured subject parts don't
enter it), while soft shadows are followed and key out.

Neutral screens (white, grey, black). Candidates are near-neutral pixels at the screen's
brightness or in its soft shadows, connected to the frame's border without crossing a sharp
luminance edge (a soft shadow has none, a grey subject part has); enclosed regions at the
plate's level (holes in the subject) are added in a second pass.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from lib_tkg.keying import matte

PLATE_RES = 128  # long side of the low-resolution plate grid
_FIELD_SIGMA = 0.08  # smoothness of the screen chromaticity field, fraction of the long side
_ABS_DIP = 0.08  # colour difference (fraction of the key's) a dark screen region may lack
_BUMP = 0.4  # brightness above the screen's smooth light that makes a region subject
_RAMP = 0.025  # reach of a blurred dark edge's ramp, fraction of the long side
_RAMP_DIP = 0.3  # darkening there (fraction of the colour difference) that is still screen
KERNEL3 = np.ones((3, 3), np.uint8)
KERNEL5 = np.ones((5, 5), np.uint8)
#: Long side (px) of the analysed image above which a chroma screen's candidates are classified
#: at half that resolution (all but the last pass: about 20 % less time, the same plate)
CLASSIFY_RES = 256


@dataclass
class Screen:
    """What :func:`analyse` found out about the screen (arrays on the coarse plate grid).

    ``plate``: (sh, sw, 3) float32 screen colour (0..255) per block, covering the whole frame.
    ``weight``: (sh, sw) float32 share of each block that was clean background (0..1).
    ``d_plate``: (sh, sw) colour difference of the plate (chroma screens; ones if neutral).
    ``d_key``: the screen's colour difference level; ``m``: the (2, 3) chroma basis.
    ``background``: bool mask of clean background at the analysed resolution.
    """

    key_rgb: tuple[int, int, int]
    neutral: bool
    m: np.ndarray
    d_key: float
    plate: np.ndarray
    weight: np.ndarray
    d_plate: np.ndarray
    background: np.ndarray


def half(img: np.ndarray) -> tuple[np.ndarray, int]:
    """Half-resolution copy (area average) and its scale; full resolution for tiny images."""
    h, w = img.shape[:2]
    if min(h, w) < 64:
        return img, 1
    return cv2.resize(img, (-(-w // 2), -(-h // 2)), interpolation=cv2.INTER_AREA), 2


#: Unsigned integer types of 2 and 4 bytes: one byte copied into each of their bytes
_REPEATS = {2: np.uint16, 4: np.uint32}


def enlarge_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A uint8 (h, w) mask resized to ``size`` = (W, H) as ``cv2.resize`` with
    ``INTER_NEAREST`` does it. When (W, H) is (2 w, 2 h) or (4 w, 4 h), each pixel is copied
    into a k x k block (what that resize does at those sizes) as the bytes of one 2- or 4-byte
    integer and whole rows: several times faster."""
    h, w = mask.shape
    k = size[0] // w if w else 0
    if k not in _REPEATS or size != (k * w, k * h):
        return cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    kind = _REPEATS[k]
    wide = mask.astype(kind) * kind(int.from_bytes(bytes([1] * k), "little"))
    return np.repeat(wide.view(np.uint8), k, axis=0)


def pyramid(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The float32 copy of an RGB uint8 image, its :func:`half`, that one's half, and the
    scale of the first half."""
    img = rgb.astype(np.float32)
    img_h, hs = _half_of_levels(img)
    means = (2 * img_h.shape[0], 2 * img_h.shape[1]) == rgb.shape[:2]  # exact 2x2 means
    return img, img_h, (_half_of_levels if means else half)(img_h)[0], hs


def _half_of_levels(img: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`half` of a float32 image of 8-bit levels or of exact 2x2 means of them. With
    even sides a bilinear resize gives each 2x2 mean, with weights of one half: every step is
    exact for such values (multiples of 1/16 up to 255), so they are the area average's, three
    times as fast."""
    h, w = img.shape[:2]
    if min(h, w) < 64 or h % 2 or w % 2:
        return half(img)
    return cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_LINEAR), 2


def push_pull(csum: np.ndarray, wsum: np.ndarray, default: np.ndarray, w0: float) -> np.ndarray:
    """Fill a masked average ``csum / wsum`` (block means) across empty blocks.

    ``csum`` (h, w, k), ``wsum`` (h, w): per-block sums divided by block size. Coarser levels
    fill where a level has less than ``w0`` weight; with no weight at all, ``default``.
    """
    levels = [(csum, wsum)]
    while min(levels[-1][1].shape) > 1:
        c, wgt = levels[-1]
        nh, nw = max(1, (c.shape[0] + 1) // 2), max(1, (c.shape[1] + 1) // 2)
        c = cv2.resize(c, (nw, nh), interpolation=cv2.INTER_AREA).reshape(nh, nw, -1)
        levels.append((c, cv2.resize(wgt, (nw, nh), interpolation=cv2.INTER_AREA)))
    c, wgt = levels.pop()
    k = c.shape[-1]
    total = float(wgt.sum())
    if total > 1e-6:
        est = (c.reshape(-1, k).sum(0) / total).astype(np.float32)
    else:
        est = default.astype(np.float32)
    est = np.broadcast_to(est, c.shape).astype(np.float32)
    if not levels:
        return est
    # each finer level's confidence (its weight over w0, at most 1) and one over its weight,
    # per channel: made at once for all of them, their weights laid end to end
    flat = np.concatenate([w_l.reshape(-1) for _, w_l in levels])
    conf = matte.rep3(np.clip(flat / np.float32(w0), 0.0, 1.0), k)
    inv = matte.rep3(np.float32(1.0) / np.maximum(flat, np.float32(1e-6)), k)
    end = flat.size
    for c_l, w_l in reversed(levels):
        h, w = w_l.shape
        start = end - w_l.size
        up = cv2.resize(est, (w, h), interpolation=cv2.INTER_LINEAR).reshape(c_l.shape)
        est = c_l * inv[start:end].reshape(c_l.shape)  # the level's mean, then its blend
        est -= up
        est *= conf[start:end].reshape(c_l.shape)
        est += up
        end = start
    return est


def block_plate(
    img: np.ndarray, mask: np.ndarray, small: tuple[int, int], default: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Coarse (``small`` = (sw, sh)) plate from the pixels of ``img`` (k channels, or one
    plane) under the bool ``mask``, filled; returns ``(plate (sh, sw, k), weight (sh, sw))``."""
    sw, sh = small
    m1 = mask.view(np.uint8).astype(np.float32)  # 0 or 1
    # (a product with the 0/1 mask: several times faster than a masked copy of float32)
    masked = cv2.multiply(img, m1 if img.ndim == 2 else matte.rep3(m1, img.shape[2]))
    csum = cv2.resize(masked, (sw, sh), interpolation=cv2.INTER_AREA)
    wsum = cv2.resize(m1, (sw, sh), interpolation=cv2.INTER_AREA)
    if csum.ndim == 2:
        csum = csum[..., None]
    return push_pull(csum, wsum, default, w0=0.25), wsum


def _fit(basis: np.ndarray, y: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of ``y`` on the columns of ``basis`` through ``rows``: (residuals of all
    rows, coefficients)."""
    a = basis[rows]
    coef = np.linalg.solve(a.T @ a + 1e-9 * np.eye(basis.shape[1]), a.T @ y[rows])
    return y - basis @ coef, coef


@functools.lru_cache(maxsize=8)
def _quadratic_basis(sh: int, sw: int) -> np.ndarray:
    """(sh * sw, 6) float64 terms ``1, u, v, u^2, uv, v^2`` of a quadratic surface at the block
    centres of an (sh, sw) grid, ``u`` and ``v`` from -1 to 1 across it (read-only: shared)."""
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float64)
    u = (xx + 0.5) / sw * 2 - 1
    v = (yy + 0.5) / sh * 2 - 1
    basis = np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], -1).reshape(-1, 6)
    basis.flags.writeable = False
    return basis


def quadratic_inliers(val: np.ndarray, ok: np.ndarray, tiny: np.ndarray) -> np.ndarray:
    """Blocks of ``ok`` that a robust quadratic surface through ``val`` does not reject.

    Screen lighting and chromaticity vary smoothly over the frame; a translucent detail or a
    shadow is a local dip below that surface, however large it is, and is trimmed here.
    ``tiny`` (per block) is a dip small enough to keep whatever the noise.
    """
    sh, sw = val.shape
    if sh * sw > 40 * 40:  # the surface is smooth: every other block is plenty
        sub = quadratic_inliers(val[::2, ::2], ok[::2, ::2], tiny[::2, ::2])
        return np.repeat(np.repeat(sub, 2, 0), 2, 1)[:sh, :sw] & ok
    basis = _quadratic_basis(sh, sw)
    y = val.reshape(-1).astype(np.float64)
    tiny1 = tiny.reshape(-1)
    ok1 = ok.reshape(-1)
    if ok1.sum() < 24:
        return ok
    # start from the upper three quarters: dips are what is to be found, and a least-squares
    # fit through all blocks would bend into a large one
    inl = ok1 & (y >= np.quantile(y[ok1], 0.25))
    for _ in range(4):
        r, _coef = _fit(basis, y, inl)
        sig = float(1.4826 * matte.median(np.abs(r[inl])))
        new = ok1 & ((r >= -max(0.04, 3.0 * sig)) | (r >= -tiny1))
        if new.sum() < 24 or np.array_equal(new, inl):
            break
        inl = new
    # a dip's rim is a mix of dip and screen: leave it out too
    dip = (ok1 & ~inl).reshape(sh, sw).astype(np.uint8)
    return inl.reshape(sh, sw) & (cv2.dilate(dip, KERNEL3) == 0)


def fit_field(val: np.ndarray, ok: np.ndarray, sigma: float, tiny: np.ndarray) -> np.ndarray:
    """Robust smooth field through ``val`` (small grid) where ``ok``: a Gaussian normalised
    convolution, iterated with low outliers (translucent details) trimmed."""
    inl = ok.copy()
    field = np.zeros_like(val)
    for _ in range(4):
        wgt = inl.astype(np.float32)
        num = cv2.GaussianBlur(val * wgt, (0, 0), sigma)
        den = cv2.GaussianBlur(wgt, (0, 0), sigma)
        if float(den.max()) <= 0:
            break
        glob = float((val * wgt).sum() / max(wgt.sum(), 1e-6))
        field = np.where(den > 1e-3, num / np.maximum(den, 1e-6), glob).astype(np.float32)
        r = val - field
        sub = r[inl]
        if sub.size < 8:
            break
        sig = float(1.4826 * matte.median(np.abs(sub - matte.median(sub))))
        new = ok & ((r >= -max(0.025, 2.5 * sig)) | (r >= -tiny)) & (r <= max(0.1, 4.0 * sig))
        if new.sum() < 8 or np.array_equal(new, inl):
            break
        inl = new
    return field


def box(x: np.ndarray, r: int) -> np.ndarray:
    """Box filter of radius ``r`` px, reflected borders."""
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def grid_size(h: int, w: int) -> tuple[int, int]:
    """``(sw, sh)`` of the coarse plate grid for an (h, w) frame."""
    scale = min(1.0, PLATE_RES / max(h, w))
    return max(1, round(w * scale)), max(1, round(h * scale))


def analyse(
    img: np.ndarray,
    key_rgb: tuple[int, int, int],
    neutral: bool,
    img_h: np.ndarray | None = None,
) -> Screen | None:
    """Find the screen in ``img`` (float32 (h, w, 3), the reduced image); ``None`` if no pixel
    of it is there. ``img_h``: ``img``'s :func:`half`, if already made."""
    if neutral:
        return _analyse_neutral(img, key_rgb)
    return _analyse_chroma(img, key_rgb, img_q=img_h)


def _analyse_chroma(
    img_h: np.ndarray,
    kc: tuple[int, int, int],
    coarse_first: bool = True,
    img_q: np.ndarray | None = None,
) -> Screen | None:
    hh, hw = img_h.shape[:2]
    if coarse_first and max(hh, hw) > CLASSIFY_RES:
        # classify at half this resolution (``img_q``, if already made); only the last pass
        # (the plate's level) runs here, on the background found there, widened by 2 px: its
        # rim left out there is 2 px there (4 px here), against 2 px when classified here
        coarse = _analyse_chroma(half(img_h)[0] if img_q is None else img_q, kc, False)
        if coarse is None:
            return None
        bg = cv2.dilate(enlarge_mask(coarse.background.view(np.uint8), (hw, hh)), KERNEL5)
        bg = bg.view(bool)
        return _level_pass(img_h, kc, coarse.m, coarse.d_key, bg, coarse.plate)
    m = matte.basis(kc)
    key_f = np.array(kc, np.float32)
    d_key = float(matte.diff(key_f[None, None], m)[0, 0])
    one = np.float32(1.0)
    pq_h = matte.project(img_h, m)
    d_h = matte.diff_planes(pq_h)
    mx = cv2.max(cv2.max(img_h[..., 0], img_h[..., 1]), img_h[..., 2])
    # classification uses a lightly denoised copy (3x3 box): |q| of noisy dark pixels is biased
    # upwards, which would reject deep shadows
    if min(hh, hw) >= 32:
        pq_b = box(pq_h, 1)
        mx = box(mx, 1)
    else:
        pq_b = pq_h
    p_b = pq_b[..., 0]
    q_b = pq_b[..., 1]
    qa_b = np.abs(q_b)
    d_b = matte.diff_planes(pq_b)
    # candidate background: the key's hue (within ~35 degrees), not too dark
    hue_ok = (qa_b <= np.float32(0.7) * p_b) & (d_b >= np.float32(0.1 * d_key))
    if not hue_ok.any():
        return None
    # the screen's own hue cast: a key-coloured subject part of another shade is not screen
    cast = q_b / np.maximum(p_b, one)
    cast_s = cast[::3, ::3][hue_ok[::3, ::3]]
    med_cast = float(matte.median(cast_s)) if cast_s.size else 0
    sig_cast = matte.sigma_of(cast, hue_ok)
    hue_ok &= np.abs(cast - np.float32(med_cast)) <= np.float32(max(0.14, 4.0 * sig_cast))
    if not hue_ok.any():
        return None

    small = grid_size(hh, hw)
    # 1. Chromaticity of the screen: the saturation ratio d / max(RGB), fitted robustly as a
    # smooth field over key-hued blocks.
    hk = hue_ok.astype(np.float32)
    s_w = cv2.resize(hk, small, interpolation=cv2.INTER_AREA)
    s_d = cv2.resize(d_b * hk, small, interpolation=cv2.INTER_AREA)
    s_mx = cv2.resize(mx * hk, small, interpolation=cv2.INTER_AREA)
    s_sr = s_d / np.maximum(s_mx, one)
    # the screen's own level: a given key colour (a preset such as pure green) may be far more
    # saturated or brighter than the actual screen
    full = s_w >= 0.9
    if full.sum() >= 4:
        d_key = min(d_key, float(np.quantile(s_d[full] / s_w[full], 0.75)))
        sr_key = float(np.quantile(s_sr[full], 0.75))
    else:
        sr_key = d_key / max(float(key_f.max()), 1.0)
    # a region far more saturated than the screen is a key-coloured subject part, and must not
    # make a field of its own where the subject cuts it off from the screen
    ok_sr = full & (s_sr >= np.float32(0.7 * sr_key)) & (s_sr <= np.float32(1.25 * sr_key))
    tiny = np.float32(_ABS_DIP * d_key) / np.maximum(s_mx / np.maximum(s_w, 1e-3), one)
    ok_sr = quadratic_inliers(s_sr, ok_sr, tiny)
    if max(small) > 64:  # the field is smooth too: fit it on every other block
        sub = fit_field(
            s_sr[::2, ::2], ok_sr[::2, ::2], _FIELD_SIGMA * max(small) / 2, tiny[::2, ::2]
        )
        sr_ref_s = cv2.resize(sub, small, interpolation=cv2.INTER_LINEAR)
    else:
        sr_ref_s = fit_field(s_sr, ok_sr, _FIELD_SIGMA * max(small), tiny)
    sr_ref = cv2.resize(np.maximum(sr_ref_s, 1e-3), (hw, hh), interpolation=cv2.INTER_LINEAR)
    expect = np.maximum(mx, one) * sr_ref  # colour difference of screen this bright
    rel = d_b / expect
    sig_sr = matte.sigma_of(rel, hue_ok & (rel >= np.float32(0.8)))
    # missing colour difference allowed: relative (noise), and a small absolute amount, which
    # matters in dark regions, where a little flare or hue drift changes the ratio a lot
    allow = np.maximum(expect * np.float32(max(0.05, 3.0 * sig_sr)), np.float32(_ABS_DIP * d_key))
    # ... and in excess: a more saturated pixel than the screen is a key-coloured subject
    bg1 = hue_ok & (d_b >= expect - allow) & (d_b <= expect + 2.0 * allow)
    if min(hh, hw) >= 32:  # drop the rim (mixed by the box filter) of excluded regions
        excl = cv2.morphologyEx((~bg1).view(np.uint8), cv2.MORPH_OPEN, KERNEL3)
        bg1 &= cv2.dilate(excl, KERNEL3) == 0
    if not bg1.any():
        bg1 = hue_ok
    bg1 = _no_bright_bumps(bg1, d_b, small)
    bg1 = _no_dark_ramps(bg1, d_h, small, np.float32(d_key))
    bg1, outer_plate = _enclosed_screen(img_h, bg1, small, key_f)

    # 2. Clean plate. Pass 1 from those pixels; pass 2 keeps only pixels at pass 1's level.
    plate1 = outer_plate[0] if outer_plate else block_plate(img_h, bg1, small, key_f)[0]
    return _level_pass(img_h, kc, m, d_key, bg1, plate1, d_h)


def _level_pass(
    img: np.ndarray,
    kc: tuple[int, int, int],
    m: np.ndarray,
    d_key: float,
    bg1: np.ndarray,
    plate1: np.ndarray,
    d: np.ndarray | None = None,
) -> Screen:
    """The chroma screen's last pass: the plate from the candidates ``bg1`` at the level of the
    pass-1 plate grid ``plate1`` (neither darker nor more saturated, beyond the noise).

    ``d``: the colour difference of ``img``, if already computed. When no candidate passes,
    the plate is made from all of ``bg1``.
    """
    h, w = img.shape[:2]
    small = grid_size(h, w)
    key_f = np.array(kc, np.float32)
    one = np.float32(1.0)
    d_floor = np.float32(0.1 * d_key)
    if d is None:
        d = matte.diff(img, m)
    d_plate1 = np.maximum(matte.diff(plate1, m), d_floor)
    t = d / cv2.resize(d_plate1, (w, h), interpolation=cv2.INTER_LINEAR)
    sig = matte.sigma_of(t, bg1)
    lim = np.float32(max(0.06, 4.0 * sig))
    bg2 = bg1 & (t >= one - lim) & (t <= one + 2 * lim)
    if not bg2.any():
        bg2 = bg1
    plate_s, w_s = block_plate(img, bg2, small, key_f)
    d_plate_s = np.maximum(matte.diff(plate_s, m), d_floor)
    return Screen(kc, False, m, d_key, plate_s, w_s, d_plate_s, bg2)


def _no_bright_bumps(bg: np.ndarray, level: np.ndarray, small: tuple[int, int]) -> np.ndarray:
    """Drop blocks of ``bg`` far brighter (``level``: colour difference) than a robust
    quadratic surface through the screen's blocks.

    Screen light varies smoothly (gradients, vignettes: a quadratic, fitted in log space with
    both tails trimmed, so shadows do not pull it down), and the chromaticity test cannot see
    brightness: a subject part of the screen's hue and saturation but :data:`_BUMP` brighter,
    touching the screen, would otherwise enter the plate.
    """
    wgt = cv2.resize(bg.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    lvl = cv2.resize(level * bg, small, interpolation=cv2.INTER_AREA)
    full = wgt >= 0.9
    if full.sum() < 24:
        return bg
    y = np.log(np.maximum(lvl / np.maximum(wgt, 1e-3), 1.0)).astype(np.float64)
    sh, sw = y.shape
    # the surface is smooth: fitted on at most about 1500 blocks, tested on all
    at = np.flatnonzero(full)
    at = at[:: max(1, at.size // 1500)]
    u, v = (at % sw + 0.5) / sw * 2 - 1, (at // sw + 0.5) / sh * 2 - 1
    b_fit = np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], -1)
    y_fit = y.reshape(-1)[at]
    inl = np.ones(y_fit.size, bool)
    for _ in range(5):
        r, coef = _fit(b_fit, y_fit, inl)
        sig = float(1.4826 * matte.median(np.abs(r[inl])))
        new = np.abs(r) <= max(0.05, 2.5 * sig)
        if new.sum() < 24 or np.array_equal(new, inl):
            break
        inl = new
    u, v = (
        np.linspace(-1 + 1 / sw, 1 - 1 / sw, sw),
        np.linspace(-1 + 1 / sh, 1 - 1 / sh, sh)[:, None],
    )
    c0, cu, cv, cuu, cuv, cvv = coef
    surface = c0 + cu * u + cv * v + cuu * u * u + cuv * u * v + cvv * v * v
    bump = full & (y - surface > np.log(1.0 + _BUMP))
    if not bump.any():
        return bg
    h, w = bg.shape
    up = enlarge_mask(bump.view(np.uint8), (w, h))
    return bg & (cv2.dilate(up, KERNEL3) == 0)


def _no_dark_ramps(
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


def _rim_components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Connected components of ``mask`` (4-connected): ``(labels, touches the border, n)``."""
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=4)
    rim = np.zeros(n, bool)
    for side in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        rim[side] = True
    rim[0] = False
    return labels, rim, n


def _enclosed_screen(
    img: np.ndarray, bg: np.ndarray, small: tuple[int, int], key_f: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Keep regions of ``bg`` cut off from the border only where they look like the screen.

    A region enclosed by the subject is a hole showing the screen, or a key-coloured part of
    the subject. It stays background if its mean colour has the chromaticity of the plate
    made from the border-connected screen there (within 6 degrees) and is not brighter than
    it (by 10 %): a darker one is the screen in the subject's shadow. Returns the kept mask and,
    when that is the border-connected screen alone, its plate (:func:`block_plate`).
    """
    labels, rim, n = _rim_components(bg)
    if n <= 2 or not rim.any() or rim[1:].all():
        return bg, None
    outer = rim[labels]
    plate_s, w_s = block_plate(img, outer, small, key_f)
    h, w = bg.shape
    plate = cv2.resize(plate_s, (w, h), interpolation=cv2.INTER_LINEAR)
    inner = ~outer & bg
    lab = labels[inner]
    px_i, px_b = matte.rows_where(img, inner), matte.rows_where(plate, inner)
    sums_i = [np.bincount(lab, px_i[:, c], n) for c in range(3)]
    sums_b = [np.bincount(lab, px_b[:, c], n) for c in range(3)]
    mi, mb = np.stack(sums_i, 1), np.stack(sums_b, 1)  # sums: the ratios need no counts
    ni, nb = np.linalg.norm(mi, axis=1), np.linalg.norm(mb, axis=1)
    cos = (mi * mb).sum(1) / np.maximum(ni * nb, 1e-6)
    ok = rim | ((cos >= np.cos(np.radians(6.0))) & (ni <= 1.1 * nb))
    ok[0] = False
    if np.array_equal(ok, rim):
        return outer, (plate_s, w_s)
    return ok[labels], None


def _grad2(x: np.ndarray, sigma: float) -> np.ndarray:
    """Squared gradient magnitude (levels per px) of ``x`` blurred by ``sigma`` px."""
    g = cv2.GaussianBlur(x, (0, 0), sigma)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) * np.float32(0.125)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) * np.float32(0.125)
    return gx * gx + gy * gy


def _analyse_neutral(img: np.ndarray, kc: tuple[int, int, int]) -> Screen | None:
    h, w = img.shape[:2]
    lum_k = float(np.mean(kc))
    key_f = np.array(kc, np.float32)
    lum = cv2.transform(img, np.full((1, 3), 1.0 / 3.0, np.float32))
    grey = cv2.merge([lum, lum, lum])
    chroma_px = matte.distance(img, grey)
    if min(h, w) >= 32:
        chroma_px = box(chroma_px, 1)
    # near-neutral pixels at the screen's level, or darker by a soft shadow (to 30 %)
    lo = 0.3 * lum_k if lum_k > 96 else 0.0
    cand = (chroma_px <= np.float32(18.0)) & (lum >= np.float32(lo))
    cand &= lum <= np.float32(min(255.0, lum_k + 48.0 + 0.25 * lum_k))
    if not cand.any():
        return None
    # sharp luminance edges (a subject's outline) separate the screen from grey subject parts;
    # a soft shadow's rim is as steep at a coarse scale as at a fine one, an outline is not
    g_fine, g_coarse = _grad2(lum, 0.8), _grad2(lum, 2.5)
    edge = (g_fine > np.float32(7.0**2)) & (g_fine > np.float32(1.6**2) * g_coarse)
    free = (cand & (cv2.dilate(edge.view(np.uint8), KERNEL3) == 0)).view(np.uint8)
    labels, rim, _ = _rim_components(free)
    bg1 = rim[labels]
    if not bg1.any():
        bg1 = free.astype(bool)
    small = grid_size(h, w)
    plate_s, w_s = block_plate(img, bg1, small, key_f)
    plate = cv2.resize(plate_s, (w, h), interpolation=cv2.INTER_LINEAR)
    dist = matte.distance(img, plate)
    sig = matte.sigma_of(dist, bg1)
    # pass 2: enclosed regions at the plate's level are screen too (holes in the subject)
    near = dist <= np.float32(max(6.0, 4.0 * sig))
    bg2 = (bg1 | (free.astype(bool) & near)) & near
    if bg2.any():
        plate_s, w_s = block_plate(img, bg2, small, key_f)
    else:
        bg2 = bg1
    ones = np.ones(plate_s.shape[:2], np.float32)
    return Screen(kc, True, np.zeros((2, 3), np.float32), 1.0, plate_s, w_s, ones, bg2)
