"""The foreground colour of the cut-out: edge-preserving denoising as strong as the screen's
noise, and, where alpha is partial, unmixing ``F = (I - (1 - alpha) * B) / alpha`` followed by
despill as chroma only, ``F -= s * (B - grey(B))`` with ``s = max(d(F), 0) / d(B)``, which keeps
the pixel's luminance (no dark fringe). Opaque pixels are despilled near the subject's edge only
(:func:`spill_reach`): screen light falls on an outline, not deep inside a green garment."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying import matte
from lib_tkg.keying.pixels import pixel_xy, sample

NOISE_MIN = 0.8  # levels of screen noise up to which the colour is not denoised
_SAVED_OPAQUE = 254.5 / 255.0  # the least alpha saved as 255
#: px from the nearest pixel that is not opaque within which an opaque pixel is despilled fully,
#: and from which not at all (linear between). Spill is light from the screen on the subject's
#: outline, fading inwards over a few px; farther in, a key excess is the subject's own colour
#: (a lime suit, the green of a colour wheel), which despill turned yellow or grey (measured
#: over ten held-out sets: composite error 1.4 % lower in all, no image worse by over 0.05
#: levels; 4-12 px 1.8 %, 16-48 px 0.9 %). Within the tiles' overlap
#: (:data:`lib_tkg.keying.tiles.OVERLAP`), so a tiled image gets what the whole would.
SPILL_REACH = (8.0, 24.0)


def denoised(
    rgb: np.ndarray, seen: np.ndarray, noise_lv: float
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """Edge-preserving smoothing of the subject's colour, as strong as the screen's noise.

    A bilateral filter whose colour sigma is 3.5x the measured noise (``noise_lv``, levels)
    only averages away differences the size of the noise; texture and edges above it stay.
    Only the subject's bounding box (``seen``: uint8 (H, W), nonzero where alpha > 0; 3 px
    wider) of ``rgb`` (uint8) is filtered: returns that box (rows, columns) and its filtered
    colours, or ``None`` without a subject. Worth it only over :data:`NOISE_MIN` of noise.
    """
    x, y, bw, bh = cv2.boundingRect(seen)
    if bw == 0:
        return None
    h, w = seen.shape
    box = slice(max(0, y - 3), min(h, y + bh + 3)), slice(max(0, x - 3), min(w, x + bw + 3))
    return box, cv2.bilateralFilter(rgb[box], 3, 3.5 * noise_lv, 1.5)


def spill_reach(alpha: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(N,) float32 0..1: the share of the despill each pixel ``idx`` of ``alpha`` (float32
    0..1, (H, W)) gets: 1 where it is partial or within :data:`SPILL_REACH`'s first distance
    of a pixel that is, 0 past its second."""
    near, far = SPILL_REACH
    solid = cv2.compare(alpha, float(np.float32(_SAVED_OPAQUE)), cv2.CMP_GE)
    dist = np.take(cv2.distanceTransform(solid, cv2.DIST_L2, 3).reshape(-1), idx)
    return np.clip((np.float32(far) - dist) / np.float32(far - near), 0, 1)


def unmix(
    fg: np.ndarray,
    rgba: np.ndarray,
    alpha: np.ndarray,
    idx: np.ndarray,
    plate: np.ndarray,
    m: np.ndarray | None,
    d_floor: float,
    despill: float,
    fmap: np.ndarray | None,
    reach: np.ndarray | None = None,
) -> None:
    """Unmix (and, for a chroma screen ``m``, despill) the pixels ``idx`` of ``fg`` in place.

    ``rgba``: the image's colours (as denoised), RGBA uint8; ``plate``: the clean plate at
    full resolution, (H, W, 3) float32 levels.

    Despill removes the screen's chroma only. Opaque pixels (those saved as 255) lose their key
    excess (``d > 0``), times ``reach`` ((N,) 0..1, :func:`spill_reach`; all of it if
    ``None``). Partial ones also lose any chroma toward the screen (component along ``e1``)
    beyond that of the nearby opaque subject (``fmap``, see :func:`refine_band`; below zero for
    a subject of a colour opposite the screen's; zero if unknown): an alpha a little too high
    leaves screen colour in the unmixed edge, which this takes out. Pixels are independent:
    parts of ``idx`` may be unmixed in parallel (:func:`in_parallel`).
    """
    h, w = alpha.shape
    one = np.float32(1.0)
    a1 = np.take(alpha.reshape(-1), idx)
    b1 = np.take(plate.reshape(-1, 3), idx, axis=0)
    f1 = matte.colours_at(rgba, idx) - matte.rep3(one - a1) * b1
    f1 /= matte.rep3(np.maximum(a1, np.float32(1e-3)))
    np.clip(f1, 0.0, 255.0, out=f1)
    if despill > 0.0 and m is not None:
        p1 = matte.rows_dot(f1, m[0])
        d_f = matte.diff(f1, m)
        d_b1 = np.maximum(matte.diff(b1, m), np.float32(d_floor))
        s1 = np.maximum(d_f, 0.0) / d_b1
        b_chroma = matte.chroma_part(b1)
        p_b = np.maximum(matte.rows_dot(b_chroma, m[0]), np.float32(1.0))
        # (a pixel saved opaque, alpha over 254.5 / 255, is despilled as one: the band's
        # filter leaves pixels beside an outline a hair under 1, and the partial rule below
        # would take an opaque orange's green, above its neighbours', for screen chroma)
        partial = a1 < np.float32(_SAVED_OPAQUE)
        if partial.any():
            cap = np.zeros(idx.size, np.float32)
            if fmap is not None:
                fw = sample(fmap, pixel_xy(idx[partial], w, h), w, h)
                p_loc = matte.rows_dot(matte.rgb_rows(fw), m[0])
                p_loc *= np.clip(fw[:, 3] / np.float32(0.1), 0, 1)
                cap[partial] = p_loc
            excess = np.maximum(p1 - cap, 0) / p_b
            s1 = np.where(partial, np.maximum(s1, excess), s1)
        s1 *= np.float32(despill)
        if reach is not None:
            s1 = np.where(partial, s1, s1 * reach)
        # remove the screen's chroma only: the pixel keeps its luminance
        f1 -= matte.rep3(s1) * b_chroma
        np.clip(f1, 0.0, 255.0, out=f1)
    # rounds (f1 is in 0..255); written as 3-byte items: far faster than assigning rows
    rows = np.dtype((np.void, 3))
    np.put(
        fg.reshape(-1, 3).view(rows).reshape(-1),
        idx,
        cv2.convertScaleAbs(f1).view(rows).reshape(-1),
    )
