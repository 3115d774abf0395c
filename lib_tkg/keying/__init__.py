"""Clean-plate chroma keyer: RGBA cut-outs from images on a flat, keyable colour.

Modules, in the order the keyer uses them: :mod:`~lib_tkg.keying.inputs` (images and option
checks), :mod:`~lib_tkg.keying.detect` (is the border a screen, and of which colour),
:mod:`~lib_tkg.keying.plate` (the clean plate behind the subject),
:mod:`~lib_tkg.keying.matte` (colour difference, neutral distance, clipping, noise),
:mod:`~lib_tkg.keying.core` (one keying pass), :mod:`~lib_tkg.keying.lower_bound` (physical
alpha floor), :mod:`~lib_tkg.keying.interiors` (wide partial regions of a cool hue),
:mod:`~lib_tkg.keying.refine` (edges), :mod:`~lib_tkg.keying.mix_lines` (wide soft
regions of a colour opposite the screen's), :mod:`~lib_tkg.keying.enclosed`
(key-coloured parts the subject encloses), :mod:`~lib_tkg.keying.unmix` (unmixing, despill),
:mod:`~lib_tkg.keying.shadow` (kept shadows),
:mod:`~lib_tkg.keying.tiles` (huge images in bounded memory), :mod:`~lib_tkg.keying.api`
(:func:`key`, :func:`key_image`, :func:`key_matte`).

Everything is numpy and OpenCV on the CPU and works with numpy 1.26 / OpenCV 4.x as well as
numpy 2 / OpenCV 5.
"""

from lib_tkg.keying.api import (
    DEFAULT_CLIP_WHITE,
    DEFAULT_DENOISE,
    DEFAULT_DESPILL,
    DEFAULT_REFINE,
    DEFAULT_TILE,
    DEFAULT_TOLERANCE,
    FORCE_HINT,
    OPTIONS,
    KeyResult,
    NoKeyColorWarning,
    key,
    key_image,
    key_matte,
    key_quietly,
)
from lib_tkg.keying.detect import DEFAULT_BORDER, estimate_key_color
from lib_tkg.keying.inputs import DEFAULT_MAX_PIXELS

__all__ = [
    "DEFAULT_BORDER",
    "DEFAULT_CLIP_WHITE",
    "DEFAULT_DENOISE",
    "DEFAULT_DESPILL",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_REFINE",
    "DEFAULT_TILE",
    "DEFAULT_TOLERANCE",
    "FORCE_HINT",
    "OPTIONS",
    "KeyResult",
    "NoKeyColorWarning",
    "estimate_key_color",
    "key",
    "key_image",
    "key_matte",
    "key_quietly",
]
