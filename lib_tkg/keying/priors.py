"""What a TKG generation knows about its own background, as priors for the keyer.

A generation asked for a screen colour and pushed the subject into a Gaussian region of the
frame (``sigma``, ``center`` in [-1, 1] coordinates, as the noise mask). The keyer gets the
colour as ``prior_color`` (the background must have come out as a screen of that colour to be
keyed) and the mask as ``subject_mask``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lib_tkg.keying.api import KeyResult, key_quietly

_MASK_RES = 64


def gaussian_subject_mask(
    sigma: float, center: tuple[float, float], shape: tuple[int, int] = (_MASK_RES, _MASK_RES)
) -> np.ndarray:
    """The TKG Gaussian mask ``exp(-((x - cx)^2 + (y - cy)^2) / (2 sigma^2))`` on an
    (h, w) grid with x, y spanning [-1, 1]; float32 in 0..1 (1 at the subject's centre)."""
    h, w = shape
    ys = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None] - np.float32(center[1])
    xs = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :] - np.float32(center[0])
    return np.exp(-(xs * xs + ys * ys) / np.float32(2.0 * sigma * sigma)).astype(np.float32)


def key_generated(image: Any, params: Any, **options: Any) -> KeyResult:
    """Key an image generated with TKG settings ``params`` (a ``lib_tkg.params.TkgParams``):
    the requested colour as prior, the Gaussian subject mask, the keyer settings
    (``tolerance``, ``despill``, ``keep_shadow``). ``options`` go to :func:`key`.

    An image whose background did not come out as a screen of the requested colour is not
    keyed: ``keyed`` is False and ``notes`` says so (no warning is emitted: callers show the
    notes).
    """
    mask = gaussian_subject_mask(params.sigma, params.center)
    return key_quietly(
        image,
        None,
        prior_color=params.key_color,
        subject_mask=mask,
        tolerance=params.tolerance,
        despill=params.despill,
        keep_shadow=params.keep_shadow,
        **options,
    )
