"""Smooth fields over the coarse plate grid: block averages of masked pixels filled across
empty blocks (push-pull), and robust smooth surfaces (a quadratic, a Gaussian normalised
convolution) that trim the local dips of translucent details and shadows."""

from __future__ import annotations

import functools

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.resolution import KERNEL3

#: largest residual (log brightness) the screen's light fit (:func:`light_surface`) keeps: a
#: large bright part (a vivid shirt of the screen's chromaticity across a fifth of the frame)
#: widens a trim of 2.5 sigma until it stays in, and the fit rises to it
LIGHT_TRIM = 0.35


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


def fit(basis: np.ndarray, y: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of ``y`` on the columns of ``basis`` through ``rows``: (residuals of all
    rows, coefficients)."""
    a = basis[rows]
    coef = np.linalg.solve(a.T @ a + 1e-9 * np.eye(basis.shape[1]), a.T @ y[rows])
    return y - basis @ coef, coef


@functools.lru_cache(maxsize=8)
def polynomial_basis(sh: int, sw: int, degree: int = 2) -> np.ndarray:
    """(sh * sw, k) float64 terms ``u^i v^j`` (``i + j <= degree``: for 2, ``1, u, v, u^2, uv,
    v^2``) of a polynomial surface at the block centres of an (sh, sw) grid, ``u`` and ``v``
    from -1 to 1 across it (read-only: shared)."""
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float64)
    u = ((xx + 0.5) / sw * 2 - 1).reshape(-1)
    v = ((yy + 0.5) / sh * 2 - 1).reshape(-1)
    terms = [u ** (d - i) * v**i for d in range(degree + 1) for i in range(d + 1)]
    basis = np.stack(terms, -1)
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
    basis = polynomial_basis(sh, sw)
    y = val.reshape(-1).astype(np.float64)
    tiny1 = tiny.reshape(-1)
    ok1 = ok.reshape(-1)
    if ok1.sum() < 24:
        return ok
    # start from the upper three quarters: dips are what is to be found, and a least-squares
    # fit through all blocks would bend into a large one
    inl = ok1 & (y >= np.quantile(y[ok1], 0.25))
    for _ in range(4):
        r, _coef = fit(basis, y, inl)
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


def light_surface(
    bg: np.ndarray, level: np.ndarray, small: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The screen's smooth light: a robust quadratic surface of log ``level`` (levels, (h, w))
    through the blocks (``small`` = (w, h)) that ``bg`` (bool) fills; ``(y, surface, full)`` on
    that grid (the blocks' log level, the surface, the blocks fitted on), or ``None`` where
    fewer than 24 blocks are full."""
    wgt = cv2.resize(bg.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    lvl = cv2.resize(level * bg, small, interpolation=cv2.INTER_AREA)
    full = wgt >= 0.9
    if full.sum() < 24:
        return None
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
        r, coef = fit(b_fit, y_fit, inl)
        sig = float(1.4826 * matte.median(np.abs(r[inl])))
        new = np.abs(r) <= max(0.05, min(2.5 * sig, LIGHT_TRIM))
        if new.sum() < 24 or np.array_equal(new, inl):
            break
        inl = new
    u, v = (
        np.linspace(-1 + 1 / sw, 1 - 1 / sw, sw),
        np.linspace(-1 + 1 / sh, 1 - 1 / sh, sh)[:, None],
    )
    c0, cu, cv, cuu, cuv, cvv = coef
    return y, c0 + cu * u + cv * v + cuu * u * u + cuv * u * v + cvv * v * v, full
