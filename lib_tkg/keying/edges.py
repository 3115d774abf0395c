"""Luminance, gradients and sharp edges of an image, as the screen's analysis reads them."""

from __future__ import annotations

import cv2
import numpy as np


def grad2(x: np.ndarray, sigma: float) -> np.ndarray:
    """Squared gradient magnitude (levels per px) of ``x`` blurred by ``sigma`` px."""
    g = cv2.GaussianBlur(x, (0, 0), sigma)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) * np.float32(0.125)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) * np.float32(0.125)
    return gx * gx + gy * gy


def coherence(lum: np.ndarray, sigma: float) -> np.ndarray:
    """How much the gradients of ``lum`` (levels) share one orientation over ``sigma`` px (the
    structure tensor's ``(l1 - l2) / (l1 + l2)``), float32 0..1: near 0 where they point every
    way (grain, gravel, a pebbled face), near 1 where they run one way (strands, spines, grooves,
    a lone edge)."""
    gx = cv2.Sobel(lum, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lum, cv2.CV_32F, 0, 1, ksize=3)
    xx = cv2.GaussianBlur(gx * gx, (0, 0), sigma)
    yy = cv2.GaussianBlur(gy * gy, (0, 0), sigma)
    xy = cv2.GaussianBlur(gx * gy, (0, 0), sigma)
    return cv2.magnitude(xx - yy, 2 * xy) / np.maximum(xx + yy, np.float32(1e-6))


def luminance(img: np.ndarray) -> np.ndarray:
    """The mean of a float32 RGB image's three channels (levels)."""
    return cv2.transform(img, np.full((1, 3), 1.0 / 3.0, np.float32))


def sharp_edges(
    lum: np.ndarray, least: float = 7.0, g_fine: np.ndarray | None = None
) -> np.ndarray:
    """Sharp luminance edges of ``lum`` (levels): a subject's outline, a veil's rim, with a
    gradient of ``least`` levels per px at least (at 0.8 px; ``g_fine``: ``grad2(lum, 0.8)``
    if already made). A soft shadow's rim is as steep at a coarse scale as at a fine one, such
    an edge is not."""
    if g_fine is None:
        g_fine = grad2(lum, 0.8)
    g_coarse = grad2(lum, 2.5)
    return (g_fine > np.float32(least * least)) & (g_fine > np.float32(1.6**2) * g_coarse)


def detail(lum: np.ndarray, sigma: float, within: np.ndarray | None = None) -> np.ndarray:
    """Fine structure of ``lum`` (levels): ``|lum - lum blurred by sigma px|``. Texture,
    strands, print and mottled cloth have it; a screen's gradients, shadows and SD-style
    mottling, smooth at that scale, hardly do. ``within`` (bool, ``lum``'s shape): the blur is
    taken over those pixels only (a region's rim against what surrounds it is no detail of its
    own), 0 outside them."""
    if within is None:
        return cv2.absdiff(lum, cv2.GaussianBlur(lum, (0, 0), sigma))
    m = within.astype(np.float32)
    lum = lum * m
    weight = cv2.GaussianBlur(m, (0, 0), sigma)
    blur = cv2.GaussianBlur(lum, (0, 0), sigma) / np.maximum(weight, np.float32(1e-3))
    return cv2.absdiff(lum, blur) * m
