"""Colour guided filter (He et al.) from box filters only (no opencv-contrib): the matte's
edge-following denoiser in the unknown band (:func:`lib_tkg.keying.refine.refine_band`)."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.resolution import box


def guide_terms(
    guide: np.ndarray, r: int, eps: float
) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray]:
    """What the colour guided filter (:func:`guided_filter_color`) needs of the guide alone:
    its box mean (h, w, 3), the adjugate of its box covariance plus ``eps`` (its six distinct
    entries rr, rg, rb, gg, gb, bb, (h, w) each) and one over that matrix's determinant."""
    mean_i = box(guide, r)
    ir, ig, ib = cv2.split(guide)  # (planes: numpy is slow on strided channels)
    mr, mg, mb = cv2.split(mean_i)
    var_rr = box(ir * ir, r) - mr * mr + eps
    var_rg = box(ir * ig, r) - mr * mg
    var_rb = box(ir * ib, r) - mr * mb
    var_gg = box(ig * ig, r) - mg * mg + eps
    var_gb = box(ig * ib, r) - mg * mb
    var_bb = box(ib * ib, r) - mb * mb + eps
    inv_rr = var_gg * var_bb - var_gb * var_gb
    inv_rg = var_gb * var_rb - var_rg * var_bb
    inv_rb = var_rg * var_gb - var_gg * var_rb
    inv_gg = var_rr * var_bb - var_rb * var_rb
    inv_gb = var_rb * var_rg - var_rr * var_gb
    inv_bb = var_rr * var_gg - var_rg * var_rg
    det = var_rr * inv_rr + var_rg * inv_rg + var_rb * inv_rb
    det = np.where(np.abs(det) < 1e-12, np.float32(1e-12), det)
    inv = (inv_rr, inv_rg, inv_rb, inv_gg, inv_gb, inv_bb)
    return mean_i, inv, np.float32(1.0) / det


def guided_filter_color(
    guide: np.ndarray,
    src: np.ndarray,
    r: int,
    terms: tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray],
) -> np.ndarray:
    """Colour guided filter (He et al.) coefficients: (h, w, 4) = (a_rgb, b), the linear model
    of the window of radius ``r`` centred on each pixel.

    The filtered output is ``a . guide + b``. ``terms``: :func:`guide_terms` of ``guide``
    (with the radius ``r`` and its regularisation). Only box filters, so no opencv-contrib
    needed. The coefficients are not averaged over the windows covering each pixel (He et
    al.'s second step): fitted on a reduced copy, as here, that average takes in windows
    that miss a one-pixel strand next to it, and thinned such strands by about an eighth
    (a dark strand at 0.3-0.5 on a clean screen: -0.06, now -0.02).
    """
    mean_i, (inv_rr, inv_rg, inv_rb, inv_gg, inv_gb, inv_bb), inv_det = terms
    mean_p = box(src, r)
    mean_ip = box(guide * matte.rep3(src), r)
    cov_ip = mean_ip - mean_i * matte.rep3(mean_p)
    mr, mg, mb = cv2.split(mean_i)  # (planes: numpy is slow on strided channels)
    cr, cg, cb = cv2.split(cov_ip)
    a_r = (inv_rr * cr + inv_rg * cg + inv_rb * cb) * inv_det
    a_g = (inv_rg * cr + inv_gg * cg + inv_gb * cb) * inv_det
    a_b = (inv_rb * cr + inv_gb * cg + inv_bb * cb) * inv_det
    b = mean_p - a_r * mr - a_g * mg - a_b * mb
    return cv2.merge([a_r, a_g, a_b, b])
