"""What a TKG generation knows about its own background, as priors for the keyer.

A generation asked for a screen colour and kept the subject's noise inside its subject mask
(the single Gaussian of ``sigma``/``center``/``aspect``, a layout of several ellipses, a mask
image: ``lib_tkg.noise.subject_mask``). The keyer gets the colour as ``prior_color`` (the
background must have come out as a screen of that colour to be keyed) and the mask as
``subject_mask`` (screen detection ignores the border under it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lib_tkg.keying.api import KeyResult, key_quietly
from lib_tkg.keying.inputs import to_arrays

#: The subject mask is drawn on the latent grid: image pixels per mask cell.
LATENT_SCALE = 8


def subject_prior(params: Any, height: int, width: int) -> np.ndarray:
    """The subject mask of ``params`` (a ``TkgParams``) for an image of ``height`` x ``width``
    pixels, on its latent grid (about (height/8, width/8)); float32 0..1, 1 = subject.

    Needs torch (``lib_tkg.noise``), as generating did."""
    from lib_tkg.noise import subject_mask

    h, w = max(1, round(height / LATENT_SCALE)), max(1, round(width / LATENT_SCALE))
    return subject_mask(h, w, **params.mask_kwargs)[0, 0].numpy()


def key_generated(image: Any, params: Any, **options: Any) -> KeyResult:
    """Key an image generated with TKG settings ``params`` (a ``lib_tkg.params.TkgParams``):
    the requested colour as prior, the generation's subject mask (:func:`subject_prior`), the
    keyer settings (``tolerance``, ``despill``, ``keep_shadow``). ``options`` go to
    :func:`lib_tkg.keying.key`.

    An image whose background did not come out as a screen of the requested colour is not
    keyed: ``keyed`` is False and ``notes`` says so (no warning is emitted: callers show the
    notes).
    """
    h, w = to_arrays(image)[0].shape[:2]
    mask = subject_prior(params, h, w)
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
