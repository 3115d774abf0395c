"""Bounded memory for huge images: analyse a reduced copy once, key tiles with overlap.

The screen (key colour, clean plate grid, noise) is found once on a copy reduced to at most
:data:`ANALYSIS_RES` px on the long side (and at least by 2). The image is then keyed in
``tile`` x ``tile`` tiles with :data:`OVERLAP` px of context on each side (refinement, guided
filter and denoising reach less than that), each with the part of the global plate grid that
covers it. Working memory is that of one tile; cost per pixel does not grow with the image.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from lib_tkg.keying import core, matte, plate
from lib_tkg.keying.outline import solid_mask
from lib_tkg.keying.plate import Screen

ANALYSIS_RES = 2048
#: px of context around each tile (a multiple of 4: quarter-res grids align); the longest reach
#: is despill's with a key-coloured part's own colour (:data:`lib_tkg.keying.unmix.DEEP_CAP`)
OVERLAP = 64
_NOISE_CROP = 256


def needs_tiles(h: int, w: int, tile: int) -> bool:
    """Whether an (h, w) image is keyed in tiles of ``tile`` px (0 = never)."""
    return tile > 0 and h * w > 1.5 * tile * tile


def reduce(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """Float32 copy reduced by an integer factor (>= 2) to at most ANALYSIS_RES px."""
    h, w = rgb.shape[:2]
    f = max(2, math.ceil(max(h, w) / ANALYSIS_RES))
    small = cv2.resize(rgb, (-(-w // f), -(-h // f)), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32), f


def sub_grid(scr: Screen, grid: np.ndarray, shape: tuple[int, int], box: tuple[int, ...]):
    """The part of a coarse grid (covering an image of ``shape``) that covers ``box`` =
    (y0, y1, x0, x1), resampled to that box's own grid size."""
    h, w = shape
    y0, y1, x0, x1 = box
    gw, gh = plate.grid_size(y1 - y0, x1 - x0)
    sh, sw = grid.shape[:2]
    ys = (y0 + (np.arange(gh, dtype=np.float32) + 0.5) * (y1 - y0) / gh) * sh / h - 0.5
    xs = (x0 + (np.arange(gw, dtype=np.float32) + 0.5) * (x1 - x0) / gw) * sw / w - 0.5
    mx, my = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
    return cv2.remap(grid, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def noise(rgb: np.ndarray, scr: Screen) -> core.Noise:
    """The screen's noise (:class:`lib_tkg.keying.core.Noise`) as
    :func:`lib_tkg.keying.core.key_pixels` measures it on a whole image, from
    full-resolution crops on a 3x3 grid, over their pixels that the analysis found clean
    background (``scr.background``, mapped onto them). Where no crop has any, over their
    pixels within :data:`lib_tkg.keying.matte.SCREEN_BAND` of the screen's ``t``.

    (A very noisy screen's ``t`` spreads past that band: measured within it alone, the
    darker half's noise read half of the whole image's, and tiles left speckles of alpha 0.1
    all over the screen.)"""
    h, w = rgb.shape[:2]
    c = min(_NOISE_CROP, h, w)
    bh, bw = scr.background.shape
    ts, smooth, d_plates, bgs = [], [], [], []
    for fy in (0.0, 0.5, 1.0):
        for fx in (0.0, 0.5, 1.0):
            y0, x0 = int(fy * (h - c)), int(fx * (w - c))
            grid = sub_grid(scr, scr.plate, (h, w), (y0, y0 + c, x0, x0 + c))
            crop = rgb[y0 : y0 + c, x0 : x0 + c].astype(np.float32)
            d_plate = None if scr.neutral else core.plate_difference(scr, grid)
            t = core.screen_ratio(crop, scr, grid, d_plate_s=d_plate)
            ys = np.minimum(np.arange(y0, y0 + c) * bh // h, bh - 1)
            xs = np.minimum(np.arange(x0, x0 + c) * bw // w, bw - 1)
            bgs.append(scr.background[np.ix_(ys, xs)])
            ts.append(t)
            if d_plate is not None:
                d_plates.append(cv2.resize(d_plate, (c, c), interpolation=cv2.INTER_LINEAR))
                smooth.append(core.smoothed(t))
    # (the crops stacked: (9 c, c) arrays)
    allt, bg = np.concatenate(ts), np.concatenate(bgs)
    if not bg.any():
        bg = np.abs(allt - 1.0) <= matte.SCREEN_BAND
    if scr.neutral:
        return core.Noise(matte.neutral_noise(allt[bg]), 0.0)
    d_plate = np.concatenate(d_plates)
    return core.Noise(
        *core.measure_noise(allt, d_plate, bg),
        *core.measure_noise(np.concatenate(smooth), d_plate, bg),
    )


def key_tiles(rgb, scr: Screen, opts: core.Options, tile: int, sink) -> bool:
    """Key ``rgb`` tile by tile; ``sink(box, fg, alpha)`` receives each tile's inner part
    (box = (y0, y1, x0, x1)). Returns whether any pixel was screen."""
    h, w = rgb.shape[:2]
    screen_noise = noise(rgb, scr)
    tile = max(64, tile // 4 * 4)
    keyed = False
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
            oy0, ox0 = max(0, y0 - OVERLAP), max(0, x0 - OVERLAP)
            oy1, ox1 = min(h, y1 + OVERLAP), min(w, x1 + OVERLAP)
            bx = (oy0, oy1, ox0, ox1)
            grid = sub_grid(scr, scr.plate, (h, w), bx)
            solid = solid_mask(scr.solid, (h, w), bx)
            res = core.key_pixels(
                rgb[oy0:oy1, ox0:ox1], scr, grid, opts, screen_noise, whole=False, solid=solid
            )
            inner = (slice(y0 - oy0, y1 - oy0), slice(x0 - ox0, x1 - ox0))
            if res is None:
                fg = rgb[y0:y1, x0:x1]
                alpha = np.ones((y1 - y0, x1 - x0), np.float32)
            else:
                keyed = True
                fg, alpha = res[0][inner], res[1][inner]
            sink((y0, y1, x0, x1), fg, alpha)
    return keyed
