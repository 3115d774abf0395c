"""Soft shadows on the screen kept as a translucent black layer (``keep_shadow=True``).

The clean plate follows soft shadows, so they key out. The *lit* plate is the plate without
them: blocks whose luminance dips below a robust quadratic surface through the plate's
luminance are dropped and refilled (push-pull) from the lit screen around them. The shadow's
opacity is ``1 - L(plate) / L(lit plate)`` (minus a 3 % dead zone for noise and uneven light).
It is composited under the subject as black: ``alpha' = a + (1 - a) s``, colour
``F a / alpha'``.
"""

from __future__ import annotations

import numpy as np

from lib_tkg.keying.plate import Screen, lit_plate

_DEAD = 0.03  # shadow opacity below this counts as uneven lighting, not shadow


def shadow_grid(scr: Screen) -> np.ndarray:
    """Shadow opacity (0..1) on the coarse plate grid of ``scr``."""
    lum = scr.plate.mean(axis=2)
    lit = lit_plate(scr.plate, scr.weight)
    if lit is None:
        return np.zeros_like(lum)
    s = 1.0 - lum / np.maximum(lit.mean(axis=2), 1.0)
    return np.clip((s - _DEAD) / (1.0 - _DEAD), 0.0, 1.0).astype(np.float32)


def add_shadow(fg: np.ndarray, alpha: np.ndarray, shadow: np.ndarray) -> np.ndarray:
    """Composite the black shadow layer ``shadow`` (H, W) under the cut-out; ``fg`` is changed
    in place to ``F a / alpha'``; returns ``alpha'``."""
    out = alpha + (np.float32(1.0) - alpha) * shadow
    ratio = alpha / np.maximum(out, np.float32(1e-6))
    part = (ratio < 1.0) & (out > 0)
    if part.any():
        fg[part] = np.rint(fg[part] * ratio[part][:, None]).astype(np.uint8)
    return out
