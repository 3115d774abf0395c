"""How smooth the border is: local texture, pattern, grain and coarse structure (levels).

A screen's pixels are **smooth**: flat at the reduced scale, local standard deviation within a
5x5 window under ``_TEXTURE_LV + _TEXTURE_REL * chroma`` levels (beside a thin strand crossing
the screen, that of the window's median: :func:`border_texture`): gradients, vignettes, soft
shadows and SD-style mottling pass, fur, foliage, fabric and other texture do not; and within
:data:`PATTERN_LV` levels (5x5 mean) of a smooth surface through them (:func:`pattern_maps`),
so that a pattern smooth at that scale (a green brick wall's mortar lines, planks, tiles) does
not pass either."""

from __future__ import annotations

import cv2
import numpy as np

from lib_tkg.keying.edges import detail, luminance

_TEXTURE_LV = 6.0
#: times a pixel's distance from its 5x5 median that counts as its texture beside a strand
#: (:func:`border_texture`; held-out screens crossed by a web's threads, rain and confetti along the
#: border were refused as textured, SAD 1021, 426 and 137 -> 12, 13 and 1.5; none of 240 held-out
#: photos without a screen found by it)
_STRAND_DEV = 2.0
_TEXTURE_REL = 0.06
_PATTERN_SIGMA = 3.0  # px at the detection resolution
PATTERN_LV = 6.0  # levels of mean brightness difference from the smooth surface
# px: the reach of the pattern test, the farthest any test reads from the border band (the
# Gaussian's kernel radius for float32, OpenCV's cvRound(4 sigma), and the 5x5 window's)
PATTERN_REACH = round(4 * _PATTERN_SIGMA) + 2


def local_texture(x: np.ndarray) -> np.ndarray:
    """Local texture of a float32 (h, w, 3) image, levels: the standard deviation in a 5x5
    window summed over the channels; or, where less, that of the image's 5x5 median there, or
    :data:`_STRAND_DEV` times the pixel's own distance from that median (summed over the
    channels), whichever is more: a pixel beside a thin strand crossing a smooth screen (a web's
    thread, rain, hair, confetti) is smooth, the strand's own pixels are not; texture (fur,
    grass, foliage) is no smoother for it, as its median varies and its pixels lie off it. An
    image under 5 px on a side: 0."""
    if min(x.shape[:2]) < 5:
        return np.zeros(x.shape[:2], np.float32)

    def window_std(y: np.ndarray) -> np.ndarray:
        mean = cv2.blur(y, (5, 5))
        var = cv2.blur(y * y, (5, 5)) - mean * mean
        return np.sqrt(np.maximum(cv2.transform(var, np.ones((1, 3), np.float32)), 0.0))

    med = cv2.medianBlur(np.clip(x, 0, 255).astype(np.uint8), 5).astype(np.float32)
    off = cv2.transform(cv2.absdiff(x, med), np.ones((1, 3), np.float32))
    return np.minimum(window_std(x), np.maximum(window_std(med), _STRAND_DEV * off))


def border_texture(img: np.ndarray, b: int) -> np.ndarray:
    """:func:`local_texture` found only in the band of ``b`` px along the frame (0 inside
    it), from four strips."""
    h, w = img.shape[:2]
    e = b + 4  # the reach of a 5x5 window of the 5x5 median: strips that wide are exact
    if 2 * e >= min(h, w):
        return local_texture(img)
    out = np.zeros((h, w), np.float32)
    out[:b] = local_texture(img[:e])[:b]
    out[-b:] = local_texture(img[-e:])[-b:]
    out[:, :b] = local_texture(np.ascontiguousarray(img[:, :e]))[:, :b]
    out[:, -b:] = local_texture(np.ascontiguousarray(img[:, -e:]))[:, -b:]
    return out


def pattern_maps(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local pattern, grain and coarse structure, levels: the mean absolute difference in a 5x5
    window between the brightness and a smooth version of it (Gaussian, :data:`_PATTERN_SIGMA`
    px), between it and its 3x3 mean, and between two smooth versions of it (Gaussians of 1.5
    and 5 px). Mortar lines, planks and tiles are smooth at 5 px yet far from any smooth
    plate; a screen's gradients, shadows and mottling are not. Grain (noise) has about as much
    of each; a surface's pattern (plaster, stone) more of the first and the last, a fine
    texture (paper, canvas) more of the first only."""
    lum = luminance(img)
    dev, grain = detail(lum, _PATTERN_SIGMA), cv2.absdiff(lum, cv2.blur(lum, (3, 3)))
    coarse = cv2.absdiff(cv2.GaussianBlur(lum, (0, 0), 1.5), cv2.GaussianBlur(lum, (0, 0), 5.0))
    if min(img.shape[:2]) < 5:
        return dev, grain, coarse
    return cv2.blur(dev, (5, 5)), cv2.blur(grain, (5, 5)), cv2.blur(coarse, (5, 5))


def flat(members: np.ndarray, texture: np.ndarray, level: float) -> np.ndarray:
    """Which of the border pixels ``members`` (bool (N,)) are flat: their ``texture`` ((N,)
    levels, :func:`border_texture`) under ``_TEXTURE_LV + _TEXTURE_REL * level`` (their median
    chroma, levels)."""
    return members & (texture <= _TEXTURE_LV + _TEXTURE_REL * level)
