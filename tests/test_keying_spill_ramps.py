"""Spill ramps: an opaque subject's edge lit by the screen keys opaque, while soft edges,
flat veils and fur keep their partial alpha (:mod:`lib_tkg.keying.spill_ramps`)."""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

from lib_tkg.keying import key_image
from lib_tkg.keying.spill_ramps import spill_ramps

GREEN = np.array((30, 180, 90), np.float32)


def _disc_depth(size: int = 256, radius: float = 80.0) -> np.ndarray:
    """Signed distance (px) into a centred disc: positive inside, 4x supersampled edge."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    return radius - np.hypot(yy - size / 2, xx - size / 2)


def _composite(alpha: np.ndarray, fg: np.ndarray, seed: int) -> np.ndarray:
    img = alpha[..., None] * fg + (1 - alpha[..., None]) * GREEN
    img += np.random.default_rng(seed).normal(0, 1.5, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _spilled_disc(seed: int, fg=(50, 70, 110), strength: float = 0.7, reach: float = 28.0):
    """A dark bluish disc whose edge carries the screen's chroma, fading inwards."""
    depth = _disc_depth()
    alpha = np.clip(depth + 0.5, 0, 1)
    spill = strength * np.exp(-np.maximum(depth, 0) / reach)
    chroma = GREEN - GREEN.mean()
    fg_lit = np.array(fg, np.float32) + spill[..., None] * chroma
    return _composite(alpha, fg_lit, seed), depth


@pytest.mark.parametrize("seed", [0, 1])
def test_a_spill_lit_edge_keys_opaque_and_despilled(seed):
    """Without the rule the lit edge keyed 0.65-0.9 opaque (0.75 on average) over 20 px."""
    img, depth = _spilled_disc(seed)
    rgba = key_image(img, key_color="green").astype(np.float32)
    lit = (depth > 1.5) & (depth < 20)
    assert rgba[..., 3][lit].mean() > 0.98 * 255
    excess = rgba[..., 1] - np.maximum(rgba[..., 0], rgba[..., 2])
    assert excess[lit].mean() < 4
    assert (rgba[..., 3][depth < -2] == 0).mean() > 0.999


def test_a_feathered_edge_keeps_its_alpha():
    """A 16 px feather (no spill) fades out to 0: it is no ramp."""
    depth = _disc_depth()
    alpha = np.clip((depth + 8) / 16, 0, 1)
    img = _composite(alpha, np.array((50, 70, 110), np.float32), 2)
    out = key_image(img, key_color="green")[..., 3] / 255.0
    soft = (alpha > 0.1) & (alpha < 0.9)
    assert abs((out - alpha)[soft].mean()) < 0.05


def test_a_flat_veil_with_a_hard_edge_keeps_its_alpha():
    """A veil at 0.6 with a hard edge, around an opaque core: flat, not rising."""
    depth = _disc_depth()
    alpha = np.where(depth > 30, 1.0, 0.6 * np.clip(depth + 0.5, 0, 1)).astype(np.float32)
    img = _composite(alpha, np.array((200, 200, 205), np.float32), 3)
    out = key_image(img, key_color="green")[..., 3] / 255.0
    veil = (depth > 3) & (depth < 25)
    assert abs(out[veil].mean() - 0.6) < 0.06


def _ramp_map(strands: float = 0.0) -> np.ndarray:
    """An alpha map: a disc whose 24 px edge rises from 0.6 at a hard outline to 1; with
    ``strands``, that band is striped across like fur (60 strands around, that amplitude)."""
    depth = _disc_depth()
    a = np.where(depth > 0, 0.6 + 0.4 * np.clip(depth / 24, 0, 1), 0).astype(np.float32)
    if strands:
        yy, xx = np.mgrid[0 : a.shape[0], 0 : a.shape[1]].astype(np.float32) + 0.5
        c = a.shape[0] / 2
        fur = np.clip(a + strands * np.sin(60 * np.arctan2(yy - c, xx - c)), 0.41, 0.99)
        a = np.where((depth > 0) & (depth < 24), fur, a).astype(np.float32)
    return a


def test_the_ramp_of_an_alpha_map_is_found_inside_its_rising_band():
    a = _ramp_map()
    found = spill_ramps(a)
    assert found is not None
    band = (a > 0.6) & (a < 0.99)
    assert found[band].mean() > 0.95
    assert not found[a == 0].any()


@pytest.mark.parametrize(
    "make",
    [
        lambda: _ramp_map(strands=0.2),  # textured: fur
        lambda: np.clip(_disc_depth() / 24 + 0.02, 0, 1).astype(np.float32),  # soft edge
        lambda: np.where(_disc_depth() > 0, 0.6, 0).astype(np.float32),  # flat, no core
        lambda: np.clip(_disc_depth() + 0.5, 0, 1).astype(np.float32),  # hard edge only
    ],
)
def test_no_ramp_where_the_band_is_textured_soft_flat_or_thin(make):
    assert spill_ramps(make()) is None


def test_no_ramp_in_an_opaque_or_clear_map():
    assert spill_ramps(np.ones((64, 64), np.float32)) is None
    assert spill_ramps(np.zeros((64, 64), np.float32)) is None
    assert spill_ramps(np.ones((1, 1), np.float32)) is None
    assert spill_ramps(cv2.resize(_ramp_map(), (129, 131))) is not None  # odd sizes


def test_a_partial_region_with_no_clear_pixel_near_gives_no_warning():
    """A partial region filling the box with no clear pixel (a veil across a tile): OpenCV's
    distance to the nearest clear pixel is FLT_MAX, which doubled overflowed with numpy's
    RuntimeWarning (printed in the user's console)."""
    alpha = np.full((64, 64), 0.6, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert spill_ramps(alpha) is None
