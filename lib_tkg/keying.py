"""Clean-plate chroma keyer: RGBA cut-outs from images on a flat, keyable colour.

The method, in order:

1. **Screen colour.** Given by the caller, or estimated from the image border: a saturation
   weighted hue histogram of the border picks the dominant hue, and the median of the border
   pixels of that hue is the key colour.
2. **Colour difference.** For a key colour ``K`` the chroma plane (RGB minus its grey component)
   gets an orthonormal basis ``e1`` (towards ``K``'s hue) and ``e2``. The colour difference of a
   pixel is ``d = <I, e1> - |<I, e2>| / sqrt(3)``: positive only within 60 degrees of the key's
   hue. For a green key it is exactly Keylight's ``G - max(R, B)`` (up to scale), for magenta
   ``min(R, B) - G``, and it generalises to any hue.
3. **Clean plate.** Background candidates are pixels of the key's hue whose chromaticity (the
   saturation ratio ``d / max(RGB)``, unchanged by shadows, vignettes and gradients, which
   scale RGB, but lowered by a veil or a light detail) is close to a robust quadratic surface
   fitted to the screen's. Their colours, averaged per block at low resolution (normalised
   convolution) and filled across the subject with a push-pull pyramid, give a smooth
   per-pixel background ``B``. A second pass keeps only candidates at the first plate's level,
   so thin dark details (hair) don't darken it, while soft shadows are followed and key out.
4. **Matte.** ``alpha = 1 - d(I) / d(B)``, then clip-black (``tolerance``) and clip-white
   (``clip_white``), each raised to three times the measured noise of the screen, remap the
   range linearly.
5. **Refinement** (``refine=True``), inside the unknown band only. The colour-difference matte
   assumes the foreground has no key excess, which over-estimates alpha for saturated
   foregrounds. Near opaque foreground, ``F`` is the colour of the nearby opaque pixels and
   alpha is re-solved as the projection of ``I - B`` on ``F - B`` where that line explains the
   pixel; elsewhere alpha moves partly towards the smallest physically possible value when
   the implied foreground colour is saturated. A colour guided filter (box filters only, no
   opencv-contrib) then denoises the band along image edges: no blanket blur.
6. **Unmixing and despill.** Where alpha is partial the foreground is unmixed,
   ``F = (I - (1 - alpha) * B) / alpha`` with the local plate ``B``; any remaining key excess
   (spill) is removed by subtracting screen light ``s * B`` with ``s = max(d(F), 0) / d(B)``.
   On a noisy image (noise measured on the screen) the colour is first smoothed by a bilateral
   filter whose colour range is 3.5x that noise (``denoise``). Fully transparent pixels get
   colour 0.

Everything is numpy and OpenCV on the CPU and works with numpy 1.26 / OpenCV 4.x as well as
numpy 2 / OpenCV 5.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from lib_tkg.colors import parse_color

__all__ = [
    "DEFAULT_BORDER",
    "DEFAULT_CLIP_WHITE",
    "DEFAULT_DENOISE",
    "DEFAULT_DESPILL",
    "DEFAULT_REFINE",
    "DEFAULT_TOLERANCE",
    "KeyResult",
    "NoKeyColorWarning",
    "estimate_key_color",
    "key",
    "key_image",
    "key_matte",
]

#: Clip-black: the fraction of the screen's colour difference that may be missing from a pixel
#: while it still counts as pure background (raised automatically to the screen's noise level).
DEFAULT_TOLERANCE = 0.1
#: Clip-white: a pixel whose alpha is within this fraction of opaque becomes fully opaque.
DEFAULT_CLIP_WHITE = 0.1
#: Spill suppression strength, 0 (off) to 1 (remove all remaining key excess).
DEFAULT_DESPILL = 1.0
#: Edge-aware refinement (local foreground re-solve plus guided filter in the unknown band).
DEFAULT_REFINE = True
#: Noise-adaptive, edge-preserving smoothing of the foreground colour (no-op on clean images).
DEFAULT_DENOISE = True
#: Width of the border band used to estimate the screen colour, as a fraction of the short side.
DEFAULT_BORDER = 0.04

_SQRT3 = math.sqrt(3.0)
_KERNEL3 = np.ones((3, 3), np.uint8)
_KERNEL5 = np.ones((5, 5), np.uint8)
_FIELD_SIGMA = 0.08  # smoothness of the screen chromaticity field, fraction of the long side
_GQ = True
_GE = 1e-3
_ABS_DIP = 0.08  # colour difference (fraction of the key's) a dark screen region may lack
_FG_SIGMA = 2.5  # px (full resolution) of the local foreground colour average
_PLATE_RES = 128  # long side of the low-resolution plate grid
_MIN_KEY_CHROMA = 20.0  # minimum chroma |K - grey(K)| (0..255 scale) of a key colour


class NoKeyColorWarning(UserWarning):
    """The image holds no pixel of the key colour, so nothing was keyed."""


@dataclass(frozen=True)
class KeyResult:
    """What :func:`key` returns.

    ``rgba``: (H, W, 4) uint8, straight alpha, foreground colour with the screen removed.
    ``alpha``: (H, W) uint8 matte (the same values as ``rgba[..., 3]``).
    ``key_color``: the screen colour used, ``(r, g, b)`` in 0..255, or ``None`` when it had to
    be estimated and no screen colour was found on the border.
    ``keyed``: ``False`` when nothing was keyed out (no key colour in the image).
    """

    rgba: np.ndarray
    alpha: np.ndarray
    key_color: tuple[int, int, int] | None
    keyed: bool


# --------------------------------------------------------------------------------------------
# input handling and validation


def _to_arrays(image: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``(rgb uint8 (H, W, 3), alpha uint8 (H, W) or None)`` without modifying input."""
    if hasattr(image, "mode") and hasattr(image, "convert") and hasattr(image, "size"):
        mode = image.mode
        has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
            mode == "P" and "transparency" in getattr(image, "info", {})
        )
        if has_alpha:
            arr = np.asarray(image.convert("RGBA"))
            return np.ascontiguousarray(arr[..., :3]), np.ascontiguousarray(arr[..., 3])
        return np.asarray(image.convert("RGB")), None
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a PIL image or a numpy uint8 array, not {type(image)!r}")
    if image.dtype != np.uint8:
        raise ValueError(f"image array must have dtype uint8, got {image.dtype}")
    if image.ndim == 2:
        gray = image
        return np.repeat(gray[..., None], 3, axis=2), None
    if image.ndim == 3 and image.shape[2] in (1, 2, 3, 4):
        c = image.shape[2]
        if c == 1:
            return np.repeat(image, 3, axis=2), None
        if c == 2:  # grey + alpha
            return np.repeat(image[..., :1], 3, axis=2), np.ascontiguousarray(image[..., 1])
        if c == 3:
            return np.ascontiguousarray(image), None
        return np.ascontiguousarray(image[..., :3]), np.ascontiguousarray(image[..., 3])
    raise ValueError(
        f"image array must have shape (H, W), (H, W, 1), (H, W, 2), (H, W, 3) or (H, W, 4), "
        f"got {image.shape}"
    )


def _check_unit(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    v = float(value)
    if not (0.0 <= v <= 1.0):  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


def _validate(
    tolerance: Any, clip_white: Any, despill: Any, refine: Any, border: Any
) -> tuple[float, float, float, bool, float]:
    tol = _check_unit("tolerance", tolerance)
    cw = _check_unit("clip_white", clip_white)
    if tol + cw >= 1.0:
        raise ValueError(
            f"tolerance + clip_white must be below 1 (got {tol} + {cw}); "
            "each is a fraction of the 0..1 alpha range"
        )
    sp = _check_unit("despill", despill)
    if not isinstance(refine, (bool, np.bool_)):
        raise ValueError(f"refine must be True or False, got {refine!r}")
    b = _check_unit("border", border)
    if not (0.0 < b <= 0.5):
        raise ValueError(f"border must be in (0, 0.5], got {border!r}")
    return tol, cw, sp, bool(refine), b


def _parse_key(key_color: Any) -> tuple[int, int, int]:
    if isinstance(key_color, np.ndarray):
        key_color = [int(v) for v in key_color.ravel()]
    try:
        rgb = parse_color(key_color)
    except ValueError as exc:
        raise ValueError(f"key_color: {exc}") from None
    if _chroma(np.array(rgb, np.float32)) < _MIN_KEY_CHROMA:
        raise ValueError(
            f"key_color {rgb} is too close to grey to key: it needs a clear hue "
            "(e.g. green, blue, magenta)"
        )
    return rgb


def _chroma(rgb: np.ndarray) -> float:
    """Distance of an RGB colour from the grey axis, |rgb - mean(rgb)|."""
    c = rgb.astype(np.float64) - rgb.mean()
    return float(np.sqrt((c * c).sum()))


# --------------------------------------------------------------------------------------------
# screen colour


def _border_pixels(rgb: np.ndarray, border: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    b = max(1, round(border * min(h, w)))
    if 2 * b >= h or 2 * b >= w:
        px = rgb.reshape(-1, 3)
    else:
        px = np.concatenate(
            [
                rgb[:b].reshape(-1, 3),
                rgb[-b:].reshape(-1, 3),
                rgb[b:-b, :b].reshape(-1, 3),
                rgb[b:-b, -b:].reshape(-1, 3),
            ]
        )
    step = max(1, px.shape[0] // 8000)
    return px[::step].astype(np.float32)


def estimate_key_color(
    image: Any, *, border: float = DEFAULT_BORDER
) -> tuple[int, int, int] | None:
    """Estimate the screen colour from the image border; ``None`` if the border has none.

    The dominant saturated hue of the border band (``border`` x short side wide) is found with a
    saturation-weighted hue histogram; the per-channel median of the border pixels within 20
    degrees of it is returned. ``None`` when fewer than 20 % of the border pixels have that hue
    (no screen, e.g. a photograph or an already transparent image).
    """
    rgb, _ = _to_arrays(image)
    b = _check_unit("border", border)
    if not (0.0 < b <= 0.5):
        raise ValueError(f"border must be in (0, 0.5], got {border!r}")
    return _estimate_key(rgb, b)


def _estimate_key(rgb: np.ndarray, border: float) -> tuple[int, int, int] | None:
    px = _border_pixels(rgb, border)
    if px.shape[0] == 0:
        return None
    c = px - px.mean(axis=1, keepdims=True)
    a = c @ np.array([2.0, -1.0, -1.0], np.float32) / math.sqrt(6.0)
    bb = c @ np.array([0.0, 1.0, -1.0], np.float32) / math.sqrt(2.0)
    sat = np.sqrt(a * a + bb * bb)
    ok = sat >= _MIN_KEY_CHROMA
    if ok.sum() < max(1, 0.2 * px.shape[0]):
        return None
    hue = np.degrees(np.arctan2(bb[ok], a[ok])) % 360.0
    hist = np.bincount((hue // 5).astype(np.int64) % 72, weights=sat[ok], minlength=72)
    kernel = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    smooth = np.convolve(np.concatenate([hist[-2:], hist, hist[:2]]), kernel, mode="valid")
    peak = (int(np.argmax(smooth)) + 0.5) * 5.0
    dist = np.abs((hue - peak + 180.0) % 360.0 - 180.0)
    members = px[ok][dist <= 20.0]
    if members.shape[0] < max(1, 0.2 * px.shape[0]):
        return None
    med = np.median(members, axis=0)
    r, g, b = (int(v) for v in np.rint(med))
    return (r, g, b)


# --------------------------------------------------------------------------------------------
# colour difference, plate


def _basis(key_rgb: tuple[int, int, int]) -> np.ndarray:
    """(2, 3) matrix: rows e1 (towards the key's hue) and e2, both orthogonal to grey."""
    k = np.array(key_rgb, np.float64)
    kc = k - k.mean()
    e1 = kc / np.linalg.norm(kc)
    e2 = np.cross(np.ones(3) / math.sqrt(3.0), e1)
    return np.stack([e1, e2]).astype(np.float32)


def _diff(img: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Colour difference of a float32 (..., 3) image; returns (..., ) float32."""
    pq = cv2.transform(img, m) if img.ndim == 3 else img @ m.T
    p = pq[..., 0]
    q = pq[..., 1]
    return p - np.abs(q) * np.float32(1.0 / _SQRT3)


def _push_pull(csum: np.ndarray, wsum: np.ndarray, default: np.ndarray, w0: float) -> np.ndarray:
    """Fill a masked average ``csum / wsum`` (block means) across empty blocks.

    ``csum`` (h, w, k), ``wsum`` (h, w): per-block sums divided by block size. Coarser levels
    fill where a level has less than ``w0`` weight; with no weight at all, ``default``.
    """
    levels = []
    c, wgt = csum, wsum
    while min(c.shape[:2]) > 1:
        levels.append((c, wgt))
        nh, nw = max(1, (c.shape[0] + 1) // 2), max(1, (c.shape[1] + 1) // 2)
        c = cv2.resize(c, (nw, nh), interpolation=cv2.INTER_AREA)
        wgt = cv2.resize(wgt, (nw, nh), interpolation=cv2.INTER_AREA)
        if c.ndim == 2:
            c = c[..., None]
    total = float(wgt.sum())
    if total > 1e-6:
        est = (c.reshape(-1, c.shape[-1]).sum(0) / total).astype(np.float32)
    else:
        est = default.astype(np.float32)
    est = np.broadcast_to(est, c.shape).astype(np.float32)
    for c_l, w_l in reversed(levels):
        h, w = c_l.shape[:2]
        up = cv2.resize(est, (w, h), interpolation=cv2.INTER_LINEAR)
        if up.ndim == 2:
            up = up[..., None]
        conf = np.clip(w_l / w0, 0.0, 1.0)[..., None]
        mean = c_l / np.maximum(w_l, 1e-6)[..., None]
        est = conf * mean + (1.0 - conf) * up
    return est


def _plate(
    img: np.ndarray, mask: np.ndarray, small: tuple[int, int], default: np.ndarray
) -> np.ndarray:
    """Low-resolution (``small``) clean plate: block means of ``img`` over ``mask``, filled."""
    sw, sh = small
    m = mask.astype(np.float32)
    csum = cv2.resize(img * m[..., None], (sw, sh), interpolation=cv2.INTER_AREA)
    wsum = cv2.resize(m, (sw, sh), interpolation=cv2.INTER_AREA)
    if csum.ndim == 2:
        csum = csum[..., None]
    return _push_pull(csum, wsum, default, w0=0.25)


def _robust_sigma(x: np.ndarray) -> float:
    if x.size < 16:
        return 0.0
    step = max(1, x.size // 50000)
    s = x[::step]
    med = np.median(s)
    return float(1.4826 * np.median(np.abs(s - med)))


def _soft_clip(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``a`` to 0 below ``lo`` and to 1 above ``1 - hi``, linearly in between."""
    scale = 1.0 / max(1e-6, 1.0 - lo - hi)
    out = (a - np.float32(lo)) * np.float32(scale)
    return np.clip(out, 0.0, 1.0, out=out)


# --------------------------------------------------------------------------------------------
# refinement


def _box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def _guided_filter_color(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Colour guided filter (He et al.) coefficients, box-averaged: (h, w, 4) = (a_rgb, b).

    The filtered output is ``a . guide + b``. Only box filters, so no opencv-contrib needed.
    """
    mean_i = _box(guide, r)
    mean_p = _box(src, r)
    mean_ip = _box(guide * src[..., None], r)
    cov_ip = mean_ip - mean_i * mean_p[..., None]
    ir, ig, ib = guide[..., 0], guide[..., 1], guide[..., 2]
    mr, mg, mb = mean_i[..., 0], mean_i[..., 1], mean_i[..., 2]
    var_rr = _box(ir * ir, r) - mr * mr + eps
    var_rg = _box(ir * ig, r) - mr * mg
    var_rb = _box(ir * ib, r) - mr * mb
    var_gg = _box(ig * ig, r) - mg * mg + eps
    var_gb = _box(ig * ib, r) - mg * mb
    var_bb = _box(ib * ib, r) - mb * mb + eps
    inv_rr = var_gg * var_bb - var_gb * var_gb
    inv_rg = var_gb * var_rb - var_rg * var_bb
    inv_rb = var_rg * var_gb - var_gg * var_rb
    inv_gg = var_rr * var_bb - var_rb * var_rb
    inv_gb = var_rb * var_rg - var_rr * var_gb
    inv_bb = var_rr * var_gg - var_rg * var_rg
    det = var_rr * inv_rr + var_rg * inv_rg + var_rb * inv_rb
    det = np.where(np.abs(det) < 1e-12, np.float32(1e-12), det)
    cr, cg, cb = cov_ip[..., 0], cov_ip[..., 1], cov_ip[..., 2]
    inv_det = np.float32(1.0) / det
    a_r = (inv_rr * cr + inv_rg * cg + inv_rb * cb) * inv_det
    a_g = (inv_rg * cr + inv_gg * cg + inv_gb * cb) * inv_det
    a_b = (inv_rb * cr + inv_gb * cg + inv_bb * cb) * inv_det
    b = mean_p - a_r * mr - a_g * mg - a_b * mb
    return _box(cv2.merge([a_r, a_g, a_b, b]), r)


# --------------------------------------------------------------------------------------------
# the keyer


def key(
    image: Any,
    key_color: Any = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    clip_white: float = DEFAULT_CLIP_WHITE,
    despill: float = DEFAULT_DESPILL,
    refine: bool = DEFAULT_REFINE,
    denoise: bool = DEFAULT_DENOISE,
    border: float = DEFAULT_BORDER,
) -> KeyResult:
    """Key ``image`` and return a :class:`KeyResult` (RGBA cut-out, matte, key colour used).

    ``image``: PIL image (RGB, RGBA, L, LA, P, ...) or uint8 array (H, W), (H, W, 1..4). An
    input alpha channel is multiplied into the result. The input is never modified.
    ``key_color``: screen colour (preset name, ``'#RRGGBB'``, ``'#RGB'``, ``'r,g,b'`` or an RGB
    tuple); ``None`` estimates it from the image border (see :func:`estimate_key_color`).
    ``tolerance`` (clip-black) and ``clip_white``: fractions in [0, 1], sum below 1.
    ``despill``: 0..1 spill suppression. ``refine``: edge-aware refinement. ``denoise``:
    smooth the foreground colour as much as the screen's measured noise (a no-op on clean
    images). ``border``: border band width (fraction of the short side) for estimating the key
    colour.

    When the image holds no key colour, alpha is 255 everywhere (times any input alpha) and a
    :class:`NoKeyColorWarning` is emitted.
    """
    tol, cw, sp, ref, bd = _validate(tolerance, clip_white, despill, refine, border)
    if not isinstance(denoise, (bool, np.bool_)):
        raise ValueError(f"denoise must be True or False, got {denoise!r}")
    rgb, alpha_in = _to_arrays(image)
    h, w = rgb.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"image is empty (shape {rgb.shape})")

    if key_color is None:
        kc = _estimate_key(rgb, bd)
        if kc is None:
            warnings.warn(
                "no screen colour found on the image border (no dominant saturated hue); "
                "nothing was keyed, alpha is 255 everywhere. Pass key_color to force one.",
                NoKeyColorWarning,
                stacklevel=2,
            )
            return _unkeyed(rgb, alpha_in, None)
    else:
        kc = _parse_key(key_color)

    result = _key_rgb(rgb, kc, tol, cw, sp, ref, bool(denoise))
    if result is None:
        warnings.warn(
            f"the key colour {kc} does not occur in the image; nothing was keyed, "
            "alpha is 255 everywhere",
            NoKeyColorWarning,
            stacklevel=2,
        )
        return _unkeyed(rgb, alpha_in, kc)
    fg, alpha = result
    if alpha_in is not None:
        alpha = alpha * (alpha_in.astype(np.float32) * np.float32(1.0 / 255.0))
    a8 = cv2.convertScaleAbs(alpha, alpha=255.0)  # rounds and saturates
    rgba = cv2.merge([*cv2.split(fg), a8])
    rgba = cv2.bitwise_and(rgba, rgba, mask=a8)  # colour 0 where fully transparent
    return KeyResult(rgba=rgba, alpha=a8.copy(), key_color=kc, keyed=True)


def _unkeyed(
    rgb: np.ndarray, alpha_in: np.ndarray | None, kc: tuple[int, int, int] | None
) -> KeyResult:
    h, w = rgb.shape[:2]
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255 if alpha_in is None else alpha_in
    return KeyResult(rgba=rgba, alpha=rgba[..., 3].copy(), key_color=kc, keyed=False)


def _quadratic_inliers(val: np.ndarray, ok: np.ndarray, tiny: np.ndarray) -> np.ndarray:
    """Blocks of ``ok`` that a robust quadratic surface through ``val`` does not reject.

    Screen lighting and chromaticity vary smoothly over the frame; a translucent detail is a
    local dip below that surface, however large it is, and is trimmed here. ``tiny`` (per
    block) is a dip small enough to keep whatever the noise: dark screen regions vary more.
    """
    sh, sw = val.shape
    if sh * sw > 40 * 40:  # the surface is smooth: every other block is plenty
        sub = _quadratic_inliers(val[::2, ::2], ok[::2, ::2], tiny[::2, ::2])
        return np.repeat(np.repeat(sub, 2, 0), 2, 1)[:sh, :sw] & ok
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float64)
    u = (xx + 0.5) / sw * 2 - 1
    v = (yy + 0.5) / sh * 2 - 1
    basis = np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], -1).reshape(-1, 6)
    y = val.reshape(-1).astype(np.float64)
    tiny1 = tiny.reshape(-1)
    ok1 = ok.reshape(-1)
    if ok1.sum() < 24:
        return ok
    # start from the upper three quarters: dips are what is to be found, and a least-squares
    # fit through all blocks would bend into a large one
    inl = ok1 & (y >= np.quantile(y[ok1], 0.25))
    for _ in range(4):
        a = basis[inl]
        coef = np.linalg.solve(a.T @ a + 1e-9 * np.eye(6), a.T @ y[inl])
        r = y - basis @ coef
        sig = float(1.4826 * np.median(np.abs(r[inl])))
        new = ok1 & ((r >= -max(0.04, 3.0 * sig)) | (r >= -tiny1))
        if new.sum() < 24 or np.array_equal(new, inl):
            break
        inl = new
    # a dip's rim is a mix of dip and screen: leave it out too
    dip = (ok1 & ~inl).reshape(sh, sw).astype(np.uint8)
    return inl.reshape(sh, sw) & (cv2.dilate(dip, _KERNEL3) == 0)


def _fit_field(val: np.ndarray, ok: np.ndarray, sigma: float, tiny: np.ndarray) -> np.ndarray:
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
        sig = float(1.4826 * np.median(np.abs(sub - np.median(sub))))
        new = ok & ((r >= -max(0.025, 2.5 * sig)) | (r >= -tiny)) & (r <= max(0.1, 4.0 * sig))
        if new.sum() < 8 or np.array_equal(new, inl):
            break
        inl = new
    return field


def _sigma_of(x: np.ndarray, mask: np.ndarray) -> float:
    """Robust sigma of ``x`` over ``mask`` on a 1-in-9 subsample (fast)."""
    sub = x[::3, ::3][mask[::3, ::3]]
    if sub.size < 16:
        sub = x[mask]
    return _robust_sigma(sub)


def _key_rgb(
    rgb: np.ndarray,
    kc: tuple[int, int, int],
    tol: float,
    cw: float,
    despill: float,
    refine: bool,
    denoise: bool = True,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Core keyer on an RGB uint8 image. Returns ``(fg uint8 (H, W, 3), alpha float32 0..1)``.

    ``None`` when no pixel of the key colour is found (nothing to key).
    """
    h, w = rgb.shape[:2]
    img = rgb.astype(np.float32)
    m = _basis(kc)
    key_f = np.array(kc, np.float32)
    d_key = float(_diff(key_f[None, None], m)[0, 0])
    one = np.float32(1.0)

    pq = cv2.transform(img, m)
    q_abs = np.abs(pq[..., 1])
    d = cv2.scaleAdd(q_abs, -1.0 / _SQRT3, np.ascontiguousarray(pq[..., 0]))

    # Background classification and the plate work at half resolution (or full for tiny
    # images): cheaper, and averaging 2x2 pixels halves the noise.
    hs = 2 if min(h, w) >= 64 else 1
    hh, hw = -(-h // hs), -(-w // hs)
    img_h = cv2.resize(img, (hw, hh), interpolation=cv2.INTER_AREA) if hs > 1 else img
    pq_h = cv2.transform(img_h, m)
    d_h = cv2.scaleAdd(np.abs(pq_h[..., 1]), -1.0 / _SQRT3, np.ascontiguousarray(pq_h[..., 0]))
    mx = cv2.max(cv2.max(img_h[..., 0], img_h[..., 1]), img_h[..., 2])
    # classification uses a lightly denoised copy (3x3 box at half resolution): |q| of noisy
    # dark pixels is biased upwards, which would reject deep shadows
    if hs > 1:
        pq_b = _box(pq_h, 1)
        mx = _box(mx, 1)
    else:
        pq_b = pq_h
    p_b = pq_b[..., 0]
    qa_b = np.abs(pq_b[..., 1])
    d_b = cv2.scaleAdd(qa_b, -1.0 / _SQRT3, np.ascontiguousarray(p_b))
    # candidate background: the key's hue (within ~35 degrees), not too dark
    hue_ok = (qa_b <= np.float32(0.7) * p_b) & (d_b >= np.float32(0.1 * d_key))
    if not hue_ok.any():
        return None

    scale = min(1.0, _PLATE_RES / max(hh, hw))
    small = (max(1, round(hw * scale)), max(1, round(hh * scale)))

    # 1. Chromaticity of the screen: the saturation ratio d / max(RGB) survives shadows,
    # vignettes and gradients (they scale RGB) but drops under a veil or a light detail. Its
    # smooth reference surface is fitted robustly over key-hued blocks.
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
    ok_sr = full & (s_sr >= np.float32(0.7 * sr_key))
    tiny = np.float32(_ABS_DIP * d_key) / np.maximum(s_mx / np.maximum(s_w, 1e-3), one)
    ok_sr = _quadratic_inliers(s_sr, ok_sr, tiny)
    if max(small) > 64:  # the field is smooth too: fit it on every other block
        sub = _fit_field(
            s_sr[::2, ::2], ok_sr[::2, ::2], _FIELD_SIGMA * max(small) / 2, tiny[::2, ::2]
        )
        sr_ref_s = cv2.resize(sub, small, interpolation=cv2.INTER_LINEAR)
    else:
        sr_ref_s = _fit_field(s_sr, ok_sr, _FIELD_SIGMA * max(small), tiny)
    sr_ref = cv2.resize(np.maximum(sr_ref_s, 1e-3), (hw, hh), interpolation=cv2.INTER_LINEAR)
    expect = np.maximum(mx, one) * sr_ref  # colour difference of screen this bright
    rel = d_b / expect
    sig_sr = _sigma_of(rel, hue_ok & (rel >= np.float32(0.8)))
    # missing colour difference allowed: relative (noise), and a small absolute amount, which
    # matters in dark regions, where a little flare or hue drift changes the ratio a lot
    allow = np.maximum(expect * np.float32(max(0.05, 3.0 * sig_sr)), np.float32(_ABS_DIP * d_key))
    bg1 = hue_ok & (d_b >= expect - allow)
    if hs > 1:  # drop the rim (mixed by the box filter) of excluded regions, not of speckles
        excl = cv2.morphologyEx((~bg1).view(np.uint8), cv2.MORPH_OPEN, _KERNEL3)
        bg1 &= cv2.dilate(excl, _KERNEL3) == 0
    if not bg1.any():
        bg1 = hue_ok

    # 2. Clean plate. Pass 1 from those pixels; pass 2 keeps only pixels at pass 1's level, so
    # thin dark details (hair) that keep the screen's chromaticity don't darken it.
    d_floor = np.float32(0.1 * d_key)
    plate_s = _plate(img_h, bg1, small, key_f)
    d_plate_s = np.maximum(_diff(plate_s, m), d_floor)
    t_h = d_h / cv2.resize(d_plate_s, (hw, hh), interpolation=cv2.INTER_LINEAR)
    sig = _sigma_of(t_h, bg1)
    bg2 = bg1 & (t_h >= np.float32(1.0 - max(0.06, 4.0 * sig)))
    if bg2.any():
        plate_s = _plate(img_h, bg2, small, key_f)
        d_plate_s = np.maximum(_diff(plate_s, m), d_floor)
    else:
        bg2 = bg1
    t = d / cv2.resize(d_plate_s, (w, h), interpolation=cv2.INTER_LINEAR)
    # full-resolution noise of the screen (pixel (y, x) belongs to half-res (y//2, x//2))
    sig = _sigma_of(t[::hs, ::hs], bg2)

    # 3. Matte: colour difference relative to the plate, clip-black and clip-white raised to
    # the screen's noise level.
    lo = max(tol, 3.0 * sig)
    hi = max(cw, 3.0 * sig)
    alpha = _soft_clip(one - t, lo, hi)
    if float(alpha.min()) >= 1.0:
        return None
    if refine:
        alpha = _refine(rgb, img, img_h, plate_s, alpha, t, hi)

    # 4. Unmix where partial, despill what is left; only pixels that need it are touched.
    fg = rgb.copy()
    if denoise:
        # sensor / VAE noise of the screen, in 8-bit levels per channel
        noise_lv = sig * float(np.median(d_plate_s)) / _SQRT3 * 1.4
        fg, img = _denoise_fg(rgb, img, alpha, noise_lv)
    idx = np.flatnonzero((alpha > 0) & ((alpha < one) | (d > 0)))
    if idx.size:
        a1 = np.take(alpha.reshape(-1), idx)[:, None]
        b1 = _sample(plate_s, idx, w, h)
        f1 = np.take(img.reshape(-1, 3), idx, axis=0) - (one - a1) * b1
        f1 /= np.maximum(a1, np.float32(1e-3))
        np.clip(f1, 0.0, 255.0, out=f1)
        if despill > 0.0:
            pq1 = f1 @ m.T
            d_f = pq1[:, 0] - np.abs(pq1[:, 1]) * np.float32(1.0 / _SQRT3)
            d_b1 = np.maximum(_diff(b1, m), d_floor)
            s1 = np.maximum(d_f, 0.0) / d_b1 * np.float32(despill)
            f1 -= s1[:, None] * b1
            np.clip(f1, 0.0, 255.0, out=f1)
        fg.reshape(-1, 3)[idx] = np.rint(f1).astype(np.uint8)
    return fg, alpha


def _denoise_fg(
    rgb: np.ndarray, img: np.ndarray, alpha: np.ndarray, noise_lv: float
) -> tuple[np.ndarray, np.ndarray]:
    """Edge-preserving smoothing of the subject's colour, as strong as the screen's noise.

    A bilateral filter whose colour sigma is 3.5x the measured noise only averages away
    differences the size of the noise; texture and edges above it stay. Nothing happens on a
    clean image (noise under 0.8 levels). Only the subject's bounding box is filtered.
    """
    if noise_lv <= 0.8:
        return rgb.copy(), img
    ys = np.flatnonzero((alpha > 0).any(axis=1))
    xs = np.flatnonzero((alpha > 0).any(axis=0))
    if ys.size == 0:
        return rgb.copy(), img
    h, w = alpha.shape
    y0, y1 = max(0, int(ys[0]) - 3), min(h, int(ys[-1]) + 4)
    x0, x1 = max(0, int(xs[0]) - 3), min(w, int(xs[-1]) + 4)
    fg = rgb.copy()
    fg[y0:y1, x0:x1] = cv2.bilateralFilter(
        np.ascontiguousarray(rgb[y0:y1, x0:x1]), 5, 3.5 * noise_lv, 1.5
    )
    img = img.copy()
    img[y0:y1, x0:x1] = fg[y0:y1, x0:x1]
    return fg, img


def _refine(
    rgb: np.ndarray,
    img: np.ndarray,
    img_h: np.ndarray,
    plate_s: np.ndarray,
    alpha: np.ndarray,
    t: np.ndarray,
    cw: float,
) -> np.ndarray:
    """Edge-aware refinement of alpha inside the unknown band. Returns a new alpha.

    1. The colour-difference matte assumes the foreground has no key excess (``d(F) = 0``),
       which over-estimates alpha for saturated foregrounds. Near opaque foreground we know
       ``F``: the colour of the nearby opaque pixels. With ``B`` the plate, alpha is the
       projection of ``I - B`` on ``F - B``, trusted where the pixel lies on that line.
       Elsewhere the estimate is moved from the colour-difference value towards the physical
       lower bound (the smallest alpha that keeps the unmixed colour inside the RGB cube), by up
       to 35 % when the colour the colour-difference value implies is saturated (not at all
       when it is grey, where that value is exact): what a prior mixing neutral and uniformly
       distributed foreground colours favours.
    2. A colour guided filter (radius 2 px, box filters, coefficients at half resolution)
       denoises the band, following edges in the image; outside the band nothing changes.
    """
    h, w = alpha.shape
    one = np.float32(1.0)
    # opaque core: opaque pixels, and noisy ones in a mostly opaque neighbourhood
    solid = (alpha >= one) | ((alpha > np.float32(0.5)) & (_box(alpha, 2) >= np.float32(0.9)))
    core = cv2.morphologyEx(solid.astype(np.uint8), cv2.MORPH_CLOSE, _KERNEL3)  # noise holes
    core = cv2.erode(core, _KERNEL5)  # keep away from edge pixels clipped to opaque
    idx = np.flatnonzero((alpha > 0) & (core == 0))
    out = alpha.copy()
    core &= solid.view(np.uint8)  # (closing may have bridged small background holes)
    out[core > 0] = one  # noise speckles inside opaque regions
    if idx.size == 0:
        return out
    hh, hw = img_h.shape[:2]

    # local foreground colour: masked average of the opaque core at half resolution
    c_sum = cv2.bitwise_and(rgb, rgb, mask=core).astype(np.float32)
    c_sum = cv2.resize(c_sum, (hw, hh), interpolation=cv2.INTER_AREA)
    w_sum = cv2.resize(core.astype(np.float32), (hw, hh), interpolation=cv2.INTER_AREA)
    sigma = _FG_SIGMA * hw / w
    c_sum = cv2.GaussianBlur(c_sum, (0, 0), sigma).reshape(hh, hw, 3)
    w_sum = cv2.GaussianBlur(w_sum, (0, 0), sigma).reshape(hh, hw)
    f_loc = c_sum / np.maximum(w_sum, np.float32(1e-4))[..., None]
    fw = _sample(cv2.merge([*cv2.split(f_loc), w_sum]), idx, w, h)
    f_loc, w_loc = fw[:, :3], fw[:, 3]

    i_b = np.take(img.reshape(-1, 3), idx, axis=0)
    b_b = _sample(plate_s, idx, w, h)
    v = i_b - b_b
    u = f_loc - b_b
    uu = _dot3(u, u)
    vv = _dot3(v, v)
    vu = _dot3(v, u)
    a_loc = vu / np.maximum(uu, one)
    cos = vu / np.sqrt(np.maximum(uu * vv, np.float32(1e-6)))
    conf = np.clip((w_loc - 0.02) / 0.1, 0, 1) * np.clip((cos - 0.85) / 0.1, 0, 1)
    conf *= np.clip((np.sqrt(uu) - 30.0) / 30.0, 0, 1)

    a_cd = np.clip(one - np.take(t.reshape(-1), idx), 0, 1)
    up = np.maximum(v, 0) / np.maximum(np.float32(255.0) - b_b, np.float32(32.0))
    dn = np.maximum(-v, 0) / np.maximum(b_b, np.float32(32.0))
    ud = np.maximum(up, dn)
    a_box = np.clip(np.maximum(np.maximum(ud[:, 0], ud[:, 1]), ud[:, 2]), 0, 1)
    lo_b = np.minimum(a_box, a_cd)
    # how far to trust the colour-difference value: fully when the colour it implies is grey
    # (then it is exact), 65 % when that colour is clearly saturated (then it over-estimates)
    f_cd = b_b + v / np.maximum(a_cd, np.float32(0.02))[:, None]
    lam = one - np.float32(0.35) * np.clip(_chroma_rows(f_cd) / _chroma_rows(b_b) / 0.25, 0, 1)
    a_fb = lo_b + lam * (a_cd - lo_b)
    a_fb = np.where(a_cd >= one - np.float32(cw), one, a_fb)
    a_new = conf * np.clip(a_loc, a_box, 1.0) + (1.0 - conf) * a_fb
    out.reshape(-1)[idx] = np.clip(a_new, 0.0, 1.0)

    # guided filter with the image as guide, coefficients at half resolution (radius 1 there,
    # about 2 px here), applied at the band pixels only
    gh, gw = hh, hw
    guide = img_h
    if _GQ and min(hh, hw) >= 64:
        gh, gw = -(-hh // 2), -(-hw // 2)
        guide = cv2.resize(img_h, (gw, gh), interpolation=cv2.INTER_AREA)
    p_s = cv2.resize(out, (gw, gh), interpolation=cv2.INTER_AREA) if gh != h else out
    r = 1 if gh != h else 2
    # only the band's bounding box (plus the filter's reach) is filtered
    iy = idx // w
    ix = idx - iy * w
    y0 = max(0, int(iy.min()) * gh // h - 2 * r - 1)
    y1 = min(gh, int(iy.max()) * gh // h + 2 * r + 2)
    x0 = max(0, int(ix.min()) * gw // w - 2 * r - 1)
    x1 = min(gw, int(ix.max()) * gw // w + 2 * r + 2)
    g = guide[y0:y1, x0:x1] * np.float32(1.0 / 255.0)
    coef = np.zeros((gh, gw, 4), np.float32)
    coef[y0:y1, x0:x1] = _guided_filter_color(g, np.ascontiguousarray(p_s[y0:y1, x0:x1]), r, _GE)
    cs = _sample(coef, idx, w, h)
    q = _dot3(cs, i_b) * np.float32(1.0 / 255.0) + cs[:, 3]
    out.reshape(-1)[idx] = np.clip(q, 0.0, 1.0)
    return out


def _chroma_rows(x: np.ndarray) -> np.ndarray:
    """Chroma of each row of an (N, 3) array, as :func:`_chroma`."""
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    return np.sqrt(np.maximum(r * r + g * g + b * b - r * g - g * b - b * r, 1e-6) * (2.0 / 3.0))


def _dot3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of the first three columns (much faster than ``(a*b).sum(-1)``)."""
    return a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2]


def _sample(arr: np.ndarray, idx: np.ndarray, w: int, h: int) -> np.ndarray:
    """Bilinear lookup of a low-resolution map ``arr`` (sh, sw[, k]) that covers a (h, w)
    image, at the full-resolution pixels with flat indices ``idx``. Returns (N, k) float32."""
    sh, sw = arr.shape[:2]
    k = arr.shape[2] if arr.ndim == 3 else 1
    n = idx.size
    if (sh, sw) == (h, w):
        return np.take(arr.reshape(-1, k), idx, axis=0).astype(np.float32)
    cols = 1024  # cv2.remap maps must stay below 32767 rows and columns
    rows = -(-n // cols)
    iy = idx // w
    ix = idx - iy * w
    mx = np.zeros(rows * cols, np.float32)
    my = np.zeros(rows * cols, np.float32)
    mx[:n] = (ix + np.float32(0.5)) * np.float32(sw / w) - np.float32(0.5)
    my[:n] = (iy + np.float32(0.5)) * np.float32(sh / h) - np.float32(0.5)
    out = cv2.remap(
        arr,
        mx.reshape(rows, cols),
        my.reshape(rows, cols),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out.reshape(-1, k)[:n]


def key_image(image: Any, key_color: Any = None, **options: Any) -> np.ndarray:
    """Key ``image``; return the RGBA cut-out, (H, W, 4) uint8, straight alpha.

    Options are those of :func:`key`: ``tolerance``, ``clip_white``, ``despill``, ``refine``,
    ``denoise``, ``border``.
    """
    return key(image, key_color, **options).rgba


def key_matte(image: Any, key_color: Any = None, **options: Any) -> np.ndarray:
    """Key ``image``; return the matte alone, (H, W) uint8 (255 = foreground)."""
    return key(image, key_color, **options).alpha
