"""Keyer behaviour on screens vs scenes, key-coloured subjects, neutral screens and shadows,
priors, notes, tiles and the size limit."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from lib_tkg.animation import key_sequence
from lib_tkg.keying import NoKeyColorWarning, candidates, key, matte
from lib_tkg.keying.candidates import screen_parts
from lib_tkg.keying.detect import cover, hues
from lib_tkg.keying.edges import detail, luminance
from lib_tkg.keying.priors import key_generated, subject_prior
from lib_tkg.params import TkgParams

GREEN = (40, 190, 60)


def smooth_field(rng, h, w, scale, amp):
    """Low-frequency noise in about [-amp, amp] (mottling, uneven light)."""
    small = rng.standard_normal((max(2, h // scale), max(2, w // scale), 1)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)[..., None] * amp


def green_screen(h=192, w=192, seed=0, color=GREEN):
    """A mottled, vignetted screen (green unless ``color``) with a subject (grey square, red
    disc) in the middle."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.3 * (((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2) * 2)[..., None]
    light = light * (1.0 + smooth_field(rng, h, w, 24, 0.05))
    img = np.array(color, np.float32) * light
    img[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = (128, 128, 128)
    cv2.circle(img, (w // 2, h // 2), h // 10, (200, 40, 40), -1)
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def textured_scene(h=192, w=192, seed=0, hue_rgb=(150, 100, 60)):
    """A photo-like image with no screen: a warm, textured surface (fur / wood)."""
    rng = np.random.default_rng(seed)
    tex = rng.normal(0, 1, (h, w, 1)).astype(np.float32)
    tex = cv2.GaussianBlur(tex, (0, 0), 0.8)[..., None] * 40 + smooth_field(rng, h, w, 16, 25)
    return np.clip(np.array(hue_rgb, np.float32) + tex, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# screen vs scene


@pytest.mark.parametrize(
    "rgb", [(150, 100, 60), (60, 140, 50), (200, 160, 130)], ids=["brown", "foliage", "skin"]
)
def test_a_textured_scene_is_not_keyed(rgb):
    img = textured_scene(hue_rgb=rgb)
    with pytest.warns(NoKeyColorWarning, match="no screen colour"):
        res = key(img)
    assert not res.keyed and res.key_color is None
    assert (res.alpha == 255).all() and np.array_equal(res.rgba[..., :3], img)
    assert len(res.notes) == 1 and "nothing was keyed" in res.notes[0]


@pytest.mark.parametrize("size", [256, 768])
def test_a_green_brick_wall_is_not_taken_for_a_screen(size):
    """Mortar lines: smooth within 5 px, but no smooth plate explains them."""
    img = np.full((size, size, 3), (40, 190, 60), np.float32)
    step = size // 10
    lines = np.zeros((size, size), np.float32)
    lines[:: step // 2] = 1
    for row in range(0, size, step // 2):
        offset = 0 if (row // (step // 2)) % 2 else step // 2
        lines[row : row + step // 2, offset::step] = 1
    lines = cv2.GaussianBlur(cv2.dilate(lines, np.ones((3, 3), np.uint8)), (0, 0), 1.5)
    img *= 1 - 0.35 * np.clip(lines, 0, 1)[..., None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoKeyColorWarning)
        res = key(img.astype(np.uint8))
    assert not res.keyed and (res.alpha == 255).all()


def _long_hair_scene(seed: int, colour: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A bust on a yellow-green muslin screen with vertical folds, 200 strands of long hair of
    ``colour`` (0.85 opaque, about 1 px wide) spreading from the head off the top, both sides
    and the bottom of the frame; returns the image and where the screen shows (no hair, no
    head or shirt)."""
    rng = np.random.default_rng(seed)
    h, w = 512, 384
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    folds = 1.0 + 0.04 * np.sin(xx / 9.0) + 0.03 * np.sin(xx / 23.0 + 1.0)
    img = np.float32((110, 165, 70))[None, None] * folds[..., None]
    layer = np.zeros((h * 4, w * 4), np.uint8)  # (drawn at 4 x, anti-aliased, then reduced)
    for _ in range(200):
        x0, y0 = w / 2 + rng.normal(0, 25), 90 + rng.normal(0, 10)
        ang = rng.uniform(0.15, np.pi - 0.15) + rng.normal(0, 0.002) * np.linspace(0, 700, 200)
        s = np.linspace(0, rng.uniform(250, 700), 200)
        stretch = np.where(np.abs(np.cos(ang)) > 0.3, 1.3, 1.0)
        pts = np.stack([x0 + np.cos(ang) * s * stretch, y0 + np.sin(ang) * s * 0.9], axis=1)
        cv2.polylines(layer, [(pts * 4).astype(np.int32)], False, 255, 2, cv2.LINE_AA)
    hair = cv2.resize(layer, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    hair = np.minimum(hair, 1.0) * 0.85
    img = hair[..., None] * np.float32(colour) + (1 - hair[..., None]) * img
    head = ((xx - w / 2) / 55) ** 2 + ((yy - 110) / 65) ** 2 < 1
    img[head] = (120, 80, 60)
    shirt = ((xx - w / 2) / 110) ** 2 + ((yy - h) / 190) ** 2 < 1
    img[shirt] = (60, 60, 90)
    img = np.clip(np.round(img + rng.normal(0, 1.0, img.shape)), 0, 255).astype(np.uint8)
    return img, (hair < 0.01) & ~head & ~shirt


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_long_hair_crossing_a_screen_off_three_sides_is_no_texture(seed):
    """Grey hair crossing the screen leaves a third of its border pixels textured, as a wall's
    mortar or a photo's fur does (refused as textured: 0.6-0.7 smooth); but its smooth pixels
    lie on one plate, and the hair's pixels are off the screen colour's direction, where mortar
    is a shade of it (the brick wall above stays refused)."""
    img, screen = _long_hair_scene(seed, (200, 200, 205))
    res = key(img)
    assert res.keyed
    assert (res.alpha[screen] <= 3).mean() > 0.9


def _mesh_veil_scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A mottled green screen with a grey subject in the middle and a white diamond-mesh tulle
    (threads 0.7 opaque, the gaps 0.15) hanging over the top-right, off the top and right
    sides of the frame; returns the image and the veil's alpha."""
    rng = np.random.default_rng(seed)
    h = w = 384
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.2 * (((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2) * 2)[..., None]
    img = np.float32(GREEN) * light * (1.0 + smooth_field(rng, h, w, 48, 0.04))
    img[150:240, 150:240] = (128, 128, 128)
    region = (xx - yy > 120).astype(np.float32)  # the top-right, off two sides
    threads = (np.abs(((xx + yy) % 8) - 4) < 1.2) | (np.abs(((xx - yy) % 8) - 4) < 1.2)
    veil = region * np.where(threads, 0.7, 0.15).astype(np.float32)
    img = veil[..., None] * 245 + (1 - veil[..., None]) * img
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), veil


@pytest.mark.parametrize("seed", [0, 1])
def test_a_screen_with_a_tulle_veil_off_two_sides_is_detected(seed):
    """A white mesh veil over the top-right of a screen, off the top and right sides, makes a
    third of the border's pixels of the screen's hue textured (a held-out set's tulle, 35 %): the
    screen was refused like a green wall ('textured', the limit 30 %). Those pixels are far
    paler than the smooth ones (0.67 of their saturation; a photo's textured pixels of its
    border's hue are as saturated as its smooth ones), so it is a veil over the screen."""
    img, veil = _mesh_veil_scene(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    assert res.keyed
    assert res.alpha[:60, :60].max() <= 3 and (res.alpha[160:230, 160:230] == 255).all()
    inside = cv2.erode((veil > 0).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    got = res.alpha[inside].astype(np.float32) / 255
    assert abs(float(got.mean()) - float(veil[inside].mean())) < 0.1


def test_a_smooth_warm_border_is_not_taken_for_a_screen():
    # skin-like: smooth, one hue, warm
    img = np.empty((160, 160, 3), np.uint8)
    img[:] = (205, 150, 120)
    with pytest.warns(NoKeyColorWarning, match="is warm"):
        res = key(img)
    assert not res.keyed


@pytest.mark.parametrize("color", [(223, 79, 46), (116, 34, 13), (250, 130, 10), (240, 220, 20)])
def test_a_saturated_warm_border_is_not_detected_but_keyed_when_given(color):
    # a fundus photo, a red saucer under a vignette, an orange or a yellow screen: smooth and
    # saturated, but red to yellow borders are photos far more often than screens
    img = green_screen(color=color)
    with pytest.warns(NoKeyColorWarning, match="warm screens are not detected automatically"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()
    res = key(img, color)
    # (the grey square's rim, clear of the red disc, which is key-coloured on these screens)
    assert res.keyed and res.alpha[:20].max() <= 2 and (res.alpha[66:74, 66:126] == 255).all()


def _dappled(seed: int, color, size: int = 384) -> np.ndarray:
    """Sunlit foliage out of focus: ``color``'s light and shade in soft blobs (30 discs blurred
    24 px, brightness 0.45-1.0) filling the frame."""
    rng = np.random.default_rng(seed)
    light = np.zeros((size, size), np.float32)
    for _ in range(30):
        centre = (int(rng.uniform(0, size)), int(rng.uniform(0, size)))
        cv2.circle(light, centre, int(rng.uniform(20, 70)), float(rng.uniform(0.5, 1)), -1)
    light = cv2.GaussianBlur(np.clip(light, 0, 1), (0, 0), 24)
    light = 0.45 + 0.55 * light / max(float(light.max()), 1e-3)
    img = np.float32(color) * light[..., None] + rng.normal(0, 1.5, (size, size, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("color", [(143, 164, 72), (154, 205, 50), (98, 128, 17), (96, 113, 62)])
def test_an_evenly_lit_yellow_green_screen_is_detected_dappled_foliage_is_not(color):
    """Yellow-green borders (hue 62-80: olive-lime, CSS yellowgreen, chartreuse screens whose
    vignetted or pale borders read 75-79 degrees) were all taken for warm: six held-out sets'
    chartreuse screens came back opaque (SAD 195-390 each). A smooth surface explains a
    screen's light (vignette, mottling: 0.02-0.16 of its brightness off it at the 90th
    percentile); sunlit foliage out of focus is dappled (0.16-0.31, nearly all over 0.17):
    refused, keyed when its colour is given."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(green_screen(color=color))
    assert res.keyed and res.alpha[:20].max() <= 2 and (res.alpha[66:74, 66:126] == 255).all()
    foliage = _dappled(0, color)
    with pytest.warns(NoKeyColorWarning, match="yellow-green and lit unevenly"):
        res = key(foliage)
    assert not res.keyed and (res.alpha == 255).all()
    assert key(foliage, color).keyed


def test_a_chartreuse_screen_vignetted_mottled_and_shaded_at_the_border_is_detected():
    """A chartreuse screen (78 degrees on the border) with a strong vignette, mottling and a
    subject's soft cast shadow across the frame's bottom: 0.16 of its brightness off a smooth
    surface, refused as dappled foliage under a limit of 0.13 (two held-out sets' screens at
    0.14 and 0.16 came back opaque)."""
    h = w = 384
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.6 * (((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2) * 2)
    light = light * (1.0 + smooth_field(rng, h, w, 48, 0.1)[..., 0])
    shade = cv2.GaussianBlur(
        (np.hypot(xx - 250, (yy - 330) * 1.6) < 110).astype(np.float32), (0, 0), 25
    )
    img = np.float32((128, 153, 73)) * (light * (1 - 0.4 * shade))[..., None]
    cv2.ellipse(img, (192, 170), (110, 90), 0, 0, 360, (180, 130, 90), -1)
    img = np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    assert res.keyed and res.alpha[:40].max() <= 6 and res.alpha[-30:].max() <= 12
    assert (res.alpha[140:200, 120:260] == 255).all()


def test_a_black_vignette_is_not_a_screen():
    img = np.zeros((200, 200, 3), np.uint8)
    cv2.circle(img, (100, 100), 90, (210, 100, 60), -1)
    with pytest.warns(NoKeyColorWarning):
        res = key(img)
    assert (res.alpha == 255).all()


def test_a_mottled_vignetted_screen_is_keyed():
    img = green_screen()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    assert res.keyed and res.notes == []
    kc = np.array(res.key_color, float)
    assert np.allclose(kc / kc[1], np.array(GREEN) / GREEN[1], atol=0.06)  # the screen's hue
    assert 0.7 * GREEN[1] <= kc[1] <= GREEN[1]  # at its measured (vignetted) level
    assert res.alpha[:20].max() == 0 and res.alpha[-20:].max() == 0
    assert (res.alpha[70:122, 70:122] == 255).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(384, 384), (512, 384)])
def test_a_screen_darkened_to_a_quarter_at_its_corners_is_keyed(seed, shape):
    """A strong, off-centre vignette (the corners at a quarter of the centre's brightness, and
    flat there): round the border the brightness rises and falls four times, which a quadratic
    surface does not follow (such screens were refused as draped fabric, 8-10 swings)."""
    h, w = shape
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.4, 0.6, 2)
    r2 = ((xx / w - cx) / 0.5) ** 2 + ((yy / h - cy) / 0.5) ** 2
    light = np.clip(1.0 - 0.55 * r2**1.2, 0.25, 1.0)[..., None]
    light = light * (1.0 + smooth_field(rng, h, w, 24, 0.06))
    img = np.float32((40, 120, 30)) * light
    img[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = (150, 110, 90)
    img = np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    assert res.keyed and res.notes == []
    # (the darkest corners are 10-30 levels, where the screen's grain leaves a faint alpha)
    assert (res.alpha == 0).mean() >= 0.75
    assert res.alpha[:8].mean() <= 4 and res.alpha[-8:].mean() <= 4
    assert (res.alpha[h // 3 + 4 : 2 * h // 3 - 4, w // 3 + 4 : 2 * w // 3 - 4] == 255).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grain_in_a_vignettes_dark_corners_keys_clear(seed):
    """The same grain (1.5 levels) over a screen whose corners are a quarter as bright as its
    centre is four times the noise there, as a share of the plate's colour difference: a noise
    floor measured over the whole screen left it as speckles of faint alpha over 2 % of the
    screen; the floor measured over its darker half clears it (0.1 %)."""
    h = w = 384
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx / w - 0.5) / 0.5) ** 2 + ((yy / h - 0.5) / 0.5) ** 2
    light = (1.0 - 0.375 * r2)[..., None] * (1.0 + smooth_field(rng, h, w, 32, 0.03))
    img = np.float32((40, 120, 30)) * light
    img[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = (150, 110, 90)
    img = np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)
    res = key(img)
    assert res.keyed
    screen = np.ones((h, w), bool)
    screen[h // 3 - 8 : 2 * h // 3 + 8, w // 3 - 8 : 2 * w // 3 + 8] = False
    assert (res.alpha[screen] > 0).mean() <= 0.005
    assert (res.alpha[h // 3 + 4 : 2 * h // 3 - 4, w // 3 + 4 : 2 * w // 3 - 4] == 255).all()


@pytest.mark.parametrize("grain", [3.0, 6.0])
def test_subject_parts_in_a_vignettes_darkest_corner_stay_opaque(grain):
    """Corners at a tenth of the centre's brightness under heavy grain: clip-black there is
    raised past the whole colour difference of the plate, yet a dark red and a light part
    standing in two corners stay opaque (the bounds that keep what no mix with the screen
    explains), and the screen around them keys nearly clear."""
    h = w = 384
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx / w - 0.5) / 0.5) ** 2 + ((yy / h - 0.5) / 0.5) ** 2
    light = np.clip(1.0 - 0.45 * r2, 0.1, 1.0)[..., None] * (
        1.0 + smooth_field(rng, h, w, 32, 0.03)
    )
    img = np.float32((40, 140, 30)) * light
    img[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = (150, 110, 90)
    img[10:60, 10:60] = (60, 30, 25)
    img[h - 60 : h - 10, 10:60] = (200, 190, 180)
    img = np.clip(np.round(img + rng.normal(0, grain, img.shape)), 0, 255).astype(np.uint8)
    res = key(img)
    assert res.keyed
    assert res.alpha[15:55, 15:55].mean() >= 250 and res.alpha[h - 55 : h - 15, 15:55].mean() >= 250
    assert res.alpha[5:, w - 8 :].mean() <= 4


@pytest.mark.parametrize("color", [(62, 104, 58), (44, 80, 44)])
def test_a_dark_dull_green_screen_is_keyed(color):
    # under-lit screens (about (51, 86, 48) and (36, 66, 36) on the border, chroma about 30
    # and 24; the second was refused as too dull): still screens
    res = key(green_screen(color=color))
    assert res.keyed and (res.alpha[70:122, 70:122] == 255).all()
    assert res.alpha[:20].max() <= 2 and res.alpha[-20:].max() <= 2  # clear, up to the noise


@pytest.mark.parametrize("color", [(22, 46, 22), (20, 58, 20)])
def test_a_border_darker_than_any_screen_is_not_found_without_a_prior(color):
    # a dark green backdrop behind a plant or GFP-lit cells (about (16, 35, 16) and (18, 48, 17)
    # on the border, found as screens before): left opaque without a prior; with the WebUI's
    # requested colour it is keyed
    img = green_screen(color=color)
    with pytest.warns(NoKeyColorWarning, match="too dark"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()
    res = key(img, prior_color="green")
    assert res.keyed and res.alpha[:20].max() <= 2


@pytest.mark.parametrize("seed", [0, 1])
def test_leaves_over_a_smooth_dark_green_ground_are_not_a_screen_without_a_prior(seed):
    """A photo of lighter leaves over a smooth, dark green ground (about (22, 45, 18)) was found
    as a dim screen and keyed (held-out foliage and fern photos, 79-92 % made transparent): the
    leaves, of the screen's hue, lifted the border's brightest tenth over the dark floor. The
    colour found is darker than any screen's: left opaque, with the warning; with the WebUI's
    requested colour it is keyed."""
    rng = np.random.default_rng(seed)
    h, w = 256, 320
    yy = np.mgrid[0:h, 0:w][0].astype(np.float32)
    img = np.float32((22, 45, 18)) * (1.1 - 0.2 * yy / h)[..., None] * np.ones((1, 1, 3))
    for _ in range(40):  # (over the upper half: the lower one is bare ground)
        cx, cy = rng.uniform(0, w), rng.uniform(0, 0.45 * h)
        axes = (int(rng.uniform(10, 30)), int(rng.uniform(4, 9)))
        shade = tuple(float(v) for v in rng.uniform(0.6, 1.0) * np.float32((90, 170, 60)))
        cv2.ellipse(img, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, shade, -1)
    img = np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)
    with pytest.warns(NoKeyColorWarning, match="too dark"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()
    assert key(img, prior_color="green").keyed


def test_a_dim_screen_as_bright_as_the_dimmest_held_out_one_is_found():
    # the border about (27, 58, 27), its brightest tenth about 64 (the held-out sets' dimmest
    # screens, 61-82)
    res = key(green_screen(color=(34, 72, 34)))
    assert res.keyed and (res.alpha[70:122, 70:122] == 255).all()
    assert res.alpha[:20].max() <= 2


@pytest.mark.parametrize("color", [(56, 76, 49), (98, 140, 94), (100, 130, 108)])
def test_a_greyish_or_darker_green_screen_is_keyed(color):
    # on the border chroma about 16 (under the first look's 20) and HSV saturation about 0.33
    # (under its 0.35): both refused as too dull before; still screens, found by the second
    # look for dull greens and keyed by their colour difference. The third, a grey-green of
    # saturation 0.23 (a held-out set's screen, 0.20, was refused and left opaque), too
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(green_screen(color=color))
    assert res.keyed and (res.alpha[70:122, 70:122] == 255).all()
    assert res.alpha[:20].max() <= 2 and res.alpha[-20:].max() <= 2  # clear, up to the noise
    # the same with "green" as the generation's requested colour (the WebUI's prior) or as
    # the key colour (its shade measured on the border)
    assert key(green_screen(color=color), prior_color="green").keyed
    res = key(green_screen(color=color), "green")
    assert res.keyed and res.alpha[:20].max() <= 2 and (res.alpha[70:122, 70:122] == 255).all()


def _web_scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A dark green screen, vignetted, with a spider's web over all of it (16 spokes and a
    spiral every 90 px, 1 px threads at 0.4 over 200) and the spider in the middle: the image
    and the threads' alpha."""
    rng = np.random.default_rng(seed)
    h = w = 1024
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.3 * (((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2) * 2)
    img = np.float32((27, 68, 26))[None, None] * light[..., None]
    threads = np.zeros((h, w), np.uint8)
    c = (w // 2 + int(rng.integers(-60, 60)), h // 2 + int(rng.integers(-60, 60)))
    for ang in np.linspace(0, 2 * np.pi, 16, endpoint=False) + rng.uniform(0, 0.2):
        end = (int(c[0] + 2000 * np.cos(ang)), int(c[1] + 2000 * np.sin(ang)))
        cv2.line(threads, c, end, 255, 1, cv2.LINE_AA)
    for r in range(30, 1500, 90):
        cv2.circle(threads, c, r, 255, 1, cv2.LINE_AA)
    a = threads.astype(np.float32) / 255 * 0.4
    img = a[..., None] * 200 + (1 - a[..., None]) * img
    cv2.circle(img, c, 20, (90, 50, 40), -1)
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), a


@pytest.mark.parametrize("seed", [0, 1])
def test_a_screen_crossed_by_thin_threads_all_round_is_detected(seed):
    """A web's threads cross the border all round: every 5x5 window beside one had its
    brightness step, and the screen was refused as textured (a held-out spider's web, SAD 1021
    against FFmpeg's 26; rain and confetti off the frame). Beside a strand the window's median
    is as smooth as the screen."""
    img, a = _web_scene(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    gaps = cv2.dilate((a > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
    assert res.keyed and float(res.alpha[gaps].mean()) <= 3


@pytest.mark.parametrize("top", [0.45, 0.34])
@pytest.mark.parametrize("color", [GREEN, (30, 70, 200)], ids=["green", "blue"])
def test_a_green_screen_on_less_than_half_of_the_border_is_found_if_clean(color, top):
    # a textured subject across the lower 55 % (66 %) of the frame, running off three sides:
    # the screen is 47 % (42 %) of the border, all of it smooth. It was refused as too little
    # of the border ("only 47 %"; held-out screens with hair, fringe or a jersey off three
    # sides, 41-44 %, were refused until the limit went from 45 % to 40 %); a smooth green
    # border that large is a screen, a blue one may be a sky and is still refused
    rng = np.random.default_rng(0)
    h = w = 512
    yy = np.mgrid[0:h, 0:w][0].astype(np.float32)
    img = np.float32(color)[None, None] * (1.0 - 0.15 * yy / h)[..., None]
    subject = yy > top * h
    tex = cv2.resize(
        rng.random((64, 64)).astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST
    )
    img[subject] = np.float32((150, 100, 70)) * (0.6 + 0.6 * tex[subject])[:, None]
    img = np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoKeyColorWarning)
        res = key(img)
    if color == GREEN:
        assert res.keyed and res.alpha[: int((top - 0.05) * h)].max() <= 2
        assert (res.alpha[int((top + 0.05) * h) :] == 255).mean() > 0.99
    else:
        assert not res.keyed and "% of the border" in res.notes[0]


def _hair_flip_scene(seed: int, screen, subject_rgb) -> tuple[np.ndarray, np.ndarray]:
    """A bust's textured shoulders across the lower 60 % of the frame, off three sides, and 400
    hair strands of random density flipped out over the screen off both sides: the image and
    the subject's mask (without the strands). On a green screen 36 % of the border is smooth
    screen, 41 % has its hue (fainter strands over it)."""
    rng = np.random.default_rng(seed)
    h = w = 512
    yy = np.mgrid[0:h, 0:w][0].astype(np.float32)
    img = np.float32(screen)[None, None] * (1.0 - 0.15 * yy / h)[..., None]
    tex = cv2.resize(
        rng.random((64, 64)).astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST
    )
    subject = yy > 0.4 * h
    img[subject] = np.float32(subject_rgb) * (0.6 + 0.6 * tex[subject])[:, None]
    hair = np.zeros((h, w), np.uint8)
    for _ in range(400):
        right = bool(rng.integers(2))
        x0 = rng.uniform(0.6, 0.9) * w if right else rng.uniform(0.1, 0.4) * w
        start = (int(x0 * 16), int(rng.uniform(0.4, 0.55) * h * 16))
        end = (int((w + 20.0 if right else -20.0) * 16), int(rng.uniform(0.18, 0.42) * h * 16))
        cv2.line(hair, start, end, int(rng.integers(60, 240)), 1, cv2.LINE_AA, 4)
    a = hair.astype(np.float32) / 255
    img = a[..., None] * np.float32((70, 45, 30)) + (1 - a[..., None]) * img
    img = np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)
    return img, subject & (a < 0.01)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_screen_with_hair_flipped_out_over_its_sides_is_found(seed):
    """Shoulders off three sides and hair flipped out over the screen off both: 36 % of the
    border is smooth green. Refused as too little of the border (held-out hair flips, curls,
    veils and a player off the sides, 30-50 % of the border smooth, SAD 2457 before and 269
    once found); a clearly saturated green that is most of what the subject leaves of the
    border is a screen."""
    img, subject = _hair_flip_scene(seed, GREEN, (150, 100, 70))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    assert res.keyed and res.alpha[:80].max() <= 2
    assert (res.alpha[subject] == 255).mean() > 0.99


@pytest.mark.parametrize("green_share", [0.75, 1.0])
def test_the_pattern_of_a_screen_beside_the_subject_is_judged_on_its_smooth_pixels(green_share):
    """Hair, confetti or a veil crossing the screen where the subject is beside it on the border
    is pattern too: two held-out screens with hair off the sides were refused as patterned (SAD
    708.0, 25.6 once found). Where the screen's hue is on 85 % of the border or less (the
    subject, of other colours, is the rest), only its smooth pixels are judged; where it is
    nearly all round (grass, foliage, a wall), all of them."""
    n = 1000
    green_px = int(green_share * n)
    px = np.zeros((n, 3), np.float32)
    px[:green_px] = GREEN
    px[green_px:] = (150, 100, 70)
    hue, chroma = hues.hue_chroma(px)
    texture = np.zeros(n, np.float32)
    texture[green_px - 150 : green_px] = 100.0  # strands over the screen: textured
    members = np.zeros(n, bool)
    members[:green_px] = True
    det, judged, smooth_got = cover.smooth_screen(
        members, px, hue, chroma, texture, np.zeros(n, np.float32), False, "a screen"
    )
    assert det.key_rgb == GREEN
    smooth = members & (texture == 0)
    assert (judged == (smooth if green_share < 0.85 else members)).all()
    assert (smooth_got == smooth).all()


def _dense_hair_scene(
    seed: int, n: int, screen=GREEN, size: int = 512
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A bust on a vignetted screen: red shoulders off the bottom, a face, and ``n`` dark hair
    strands in locks of about 12 radiating from the head off the top and both sides: the image,
    the subject's mask (without the strands) and the strands' alpha."""
    rng = np.random.default_rng(seed)
    h = w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.25 * (((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2) * 2)
    img = np.float32(screen)[None, None] * light[..., None]
    tex = cv2.resize(
        rng.random((64, 64)).astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST
    )
    shoulders = (yy > 0.72 * h) & (np.abs(xx - w / 2) < 0.42 * w + yy - 0.72 * h)
    img[shoulders] = np.float32((140, 30, 40)) * (0.7 + 0.5 * tex[shoulders])[:, None]
    head = ((xx - w / 2) / (0.09 * w)) ** 2 + ((yy - 0.4 * h) / (0.12 * h)) ** 2 < 1
    img[head] = (200, 160, 130)
    locks = rng.uniform((-np.pi * 1.05, -0.3), (np.pi * 0.05, 0.3), (max(1, n // 12), 2))
    hair = np.zeros((h, w), np.uint8)
    for _ in range(n):
        angle, bend = locks[rng.integers(len(locks))] + rng.normal(0, 0.03, 2)
        x0, y0 = w / 2 + rng.uniform(-20, 20), 0.33 * h + rng.uniform(-15, 15)
        reach, droop = rng.uniform(0.55, 0.9) * max(h, w), rng.uniform(0, 0.2)
        s = np.linspace(0, 1, 24)
        a = angle + bend * s
        pts = np.stack(
            [x0 + np.cos(a) * reach * s, y0 + np.sin(a) * reach * s + 0.5 * h * s * s * droop], 1
        )
        cv2.polylines(
            hair,
            [(pts * 16).astype(np.int32)],
            False,
            int(rng.integers(90, 250)),
            1,
            cv2.LINE_AA,
            4,
        )
    a = hair.astype(np.float32) / 255
    img = a[..., None] * np.float32((25, 20, 18)) + (1 - a[..., None]) * img
    img = np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)
    return img, (shoulders | head) & (a < 0.01), a


@pytest.mark.parametrize(("n", "seed"), [(150, 1), (150, 3), (250, 2)])
def test_a_screen_densely_crossed_by_hair_off_every_side_is_found(n, seed):
    """Dark hair off the top and both sides leaves 49-55 % of the border's screen-coloured
    pixels smooth, under the 60 % the crossed rule asked: refused as textured (three held-out
    busts so, SAD 524.6, 404.2 and 90.0; 29.9, 249.3 and 9.1 once found). Those smooth pixels
    lie on one plate (1.3 levels from a quadratic surface, median), a photo's on many."""
    img, subject, hair = _dense_hair_scene(seed, n)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    assert res.keyed
    clear = ~subject & (cv2.dilate(hair, np.ones((5, 5), np.uint8)) < 0.01)
    clear[: img.shape[0] // 8] = False  # (the top's hair is dense: its gaps are narrow)
    assert res.alpha[clear].mean() < 0.02 * 255
    assert (
        res.alpha[cv2.erode(subject.view(np.uint8), np.ones((5, 5), np.uint8)) > 0] == 255
    ).mean() > 0.99


def _long_strands_scene(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """A face on a vignetted green screen with ``n`` long dark strands radiating from it across
    the whole frame, its border too: the image and the strands' alpha."""
    rng = np.random.default_rng(seed)
    h = w = 512
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.2 * (((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2) * 2)
    img = np.float32(GREEN)[None, None] * light[..., None]
    img[((xx - w / 2) / (0.1 * w)) ** 2 + ((yy - h / 2) / (0.13 * h)) ** 2 < 1] = (200, 160, 130)
    hair = np.zeros((h, w), np.uint8)
    for _ in range(n):
        angle, reach, bend = rng.uniform((0, 0.4 * w, -0.4), (2 * np.pi, 0.9 * w, 0.4))
        s = np.linspace(0, 1, 24)
        a = angle + bend * s
        pts = np.stack(
            [
                w / 2 + np.cos(a) * reach * s + np.cos(angle) * 0.08 * w,
                h / 2 + np.sin(a) * reach * s + np.sin(angle) * 0.1 * h,
            ],
            1,
        )
        pts = (pts * 16).astype(np.int32)
        cv2.polylines(hair, [pts], False, int(rng.integers(120, 250)), 1, cv2.LINE_AA, 4)
    a = hair.astype(np.float32) / 255
    img = a[..., None] * np.float32((20, 18, 16)) + (1 - a[..., None]) * img
    img = np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)
    return img, a


@pytest.mark.parametrize("seed", [0, 1])
def test_strands_mixed_into_the_screen_do_not_raise_its_noise(seed):
    """Long dark strands across the whole screen: the reduced analysis takes some of their
    mixes for screen, and over its pixels the screen ratio spread 0.12-0.14 (its grain 0.01);
    clip-black at three times that cleared the strands to 0.41-0.45 opaque (0.74 true). The
    noise is read on the pixels at the screen's level (within 0.25 of it): 0.07, strands
    0.62-0.64 (the 118th held-out set's sorceress, SAD 249.3 -> 42.2)."""
    img, hair = _long_strands_scene(seed)
    res = key(img, "green")  # (strands across the whole border: refused without a colour)
    assert res.alpha[hair > 0.6].mean() > 0.55 * 255
    clear = cv2.dilate(hair, np.ones((7, 7), np.uint8)) < 0.01
    clear[192:320, 192:320] = False  # (the face)
    assert res.alpha[clear].mean() < 0.02 * 255


def leaf_pile(seed: int, size: int = 384) -> np.ndarray:
    """A photo of a pile of flat leaves, each of its own green (a few brown): no screen."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), (60, 90, 40), np.float32)
    for _ in range(260):
        centre = (int(rng.uniform(0, size)), int(rng.uniform(0, size)))
        axes = (int(rng.uniform(14, 34)), int(rng.uniform(8, 18)))
        if rng.random() < 0.85:
            hsv = np.uint8([[[rng.uniform(35, 70), rng.uniform(120, 230), rng.uniform(90, 210)]]])
            colour = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(float)
        else:
            colour = rng.uniform((120, 80, 30), (180, 120, 60))
        cv2.ellipse(
            img, centre, axes, rng.uniform(0, 180), 0, 360, colour.tolist(), -1, cv2.LINE_AA
        )
    return np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 2])
def test_a_pile_of_flat_leaves_is_not_taken_for_a_densely_crossed_screen(seed):
    """Guard for the rule above: flat leaves of many greens leave as few of the border's green
    pixels smooth (half of them), but of many shades, 29-30 levels off one plate (keyed with
    the rule's limit at 40)."""
    img = leaf_pile(seed)
    with pytest.warns(NoKeyColorWarning, match="textured"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()


def rope_net(img: np.ndarray, seed: int, grain: float) -> tuple[np.ndarray, np.ndarray]:
    """``img`` (float32 (h, w, 3)) under a brown knotted rope net (diamonds 28 px across, ropes
    3 px wide, 0.9 opaque) over its top left (above the line ``y = 0.75 h - 0.4 x``, off the top
    and left sides of the frame), with ``grain`` levels of noise: the image (uint8) and the
    net's alpha."""
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = (xx + yy) % 28, (xx - yy) % 28
    d = np.minimum(np.minimum(u, 28 - u), np.minimum(v, 28 - v))
    a = np.clip(2.0 - d, 0, 1) * 0.9 * (yy < 0.75 * h - 0.4 * xx)
    img = a[..., None] * np.float32((150, 110, 70)) + (1 - a[..., None]) * img
    img += rng.normal(0, grain, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), a


def streaky_screen(seed: int, h: int = 400, w: int = 500) -> np.ndarray:
    """A dull dark green screen (52, 89, 19), vignetted, with horizontal streaks (20 % of its
    brightness) and a tan disc for a subject (float32)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    streaks = cv2.resize(
        rng.standard_normal((h // 32, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    light = 1.0 - 0.25 * (((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2) * 2)
    img = np.float32((52, 89, 19)) * (light * (1 + 0.2 * streaks))[..., None]
    cv2.circle(img, (w * 3 // 5, h * 3 // 5), h // 6, (200, 140, 110), -1)
    return img


@pytest.mark.parametrize("grain", [1.0, 2.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_streaky_screen_under_a_rope_net_is_found(seed, grain):
    """A rope net over half of a dull, streaky screen, off two sides: 42-50 % of the border's
    pixels of the screen's hue textured, refused like grass before (a held-out harbour's glass
    floats under a net, SAD 395.8 against FFmpeg's 69.0). Between its ropes the screen lies on
    one smooth plate."""
    img, a = rope_net(streaky_screen(seed), seed, grain)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    h, w = a.shape
    yy, xx = np.mgrid[0:h, 0:w]
    gaps = cv2.dilate((a > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
    gaps &= np.hypot(yy - h * 3 // 5, xx - w * 3 // 5) > h // 6 + 20
    disc = np.hypot(yy - h * 3 // 5, xx - w * 3 // 5) < h // 6 - 4
    assert res.keyed and float(res.alpha[gaps].mean()) <= 12
    assert float(res.alpha[disc].mean()) >= 250


@pytest.mark.parametrize("seed", [0, 2])
@pytest.mark.parametrize("ground", ["leaves", "foliage"])
def test_a_rope_net_over_leaves_or_foliage_is_no_screen(ground, seed):
    """Guard for the rule above: between a net's ropes, leaves and foliage are each of their
    own shade, on no one plate."""
    under = leaf_pile(seed) if ground == "leaves" else textured_scene(384, 384, seed, (60, 140, 50))
    img, _ = rope_net(under.astype(np.float32), seed, 1.0)
    with pytest.warns(NoKeyColorWarning):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()


DULL_SCREEN = (85, 110, 69)


@pytest.mark.parametrize(("n", "seed"), [(250, 0), (250, 1), (400, 0)])
def test_a_given_colour_keys_the_shade_of_a_screen_that_hair_mostly_hides(n, seed):
    """Hair and shoulders over most of the border of a dull green screen: 40-47 % of it has the
    screen's hue, no screen by the cover rules (auto refuses it). Given ``green``, the shade of
    the border's smooth pixels of that hue is keyed, not pure green, under which the dull
    screen kept most of its opacity (the 118th held-out set's red-haired elf: SAD 99.1 with
    pure green, 39.2 with its shade)."""
    img, subject, hair = _dense_hair_scene(seed, n, DULL_SCREEN)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img, "green")
    clear = ~subject & (cv2.dilate(hair, np.ones((5, 5), np.uint8)) < 0.01)
    assert np.abs(np.array(res.key_color) - np.median(img[clear], axis=0)).max() <= 12
    assert res.alpha[clear].mean() < 0.05 * 255
    assert (
        res.alpha[cv2.erode(subject.view(np.uint8), np.ones((5, 5), np.uint8)) > 0] == 255
    ).mean() > 0.99
    # a sequence of such frames keys that shade too (one for all of them)
    frames = [_dense_hair_scene(s, n, DULL_SCREEN)[0] for s in (seed, seed + 1, seed + 2)]
    seq = key_sequence(frames, "green", temporal=False)
    assert np.abs(np.array(seq.key_color) - res.key_color).max() <= 3


@pytest.mark.parametrize(
    ("screen", "subject_rgb"),
    [((95, 125, 90), (150, 100, 70)), (GREEN, (60, 150, 50))],
    ids=["dull-green", "green-all-round"],
)
def test_a_smooth_green_on_a_third_of_the_border_is_no_screen_if_dull_or_green_all_round(
    screen, subject_rgb
):
    """The same layout is refused where the green is dull (chroma 27: moss, a sage wall or
    leaves in shade beside something else) or where the rest of the border is textured green
    too (foliage, grass): guards on the rule above (they pass before it as well)."""
    img, _ = _hair_flip_scene(0, screen, subject_rgb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoKeyColorWarning)
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()


@pytest.mark.parametrize("color", [(49, 56, 76), (94, 98, 140)])
def test_a_dull_blue_border_is_not_a_screen(color):
    # a dusk or overcast sky: smooth, and as dull as the greens above, but blue
    with pytest.warns(NoKeyColorWarning, match="dull|not a screen"):
        res = key(green_screen(color=color))
    assert not res.keyed and (res.alpha == 255).all()


@pytest.mark.parametrize("color", [(131, 178, 212), (147, 180, 234), (28, 43, 74), (37, 52, 85)])
def test_a_pale_or_dusky_blue_border_is_not_detected_but_keyed_when_given(color):
    # clear skies (HSV saturation 0.38, 0.37) and dusk skies (value 0.29, 0.33, saturation 0.62,
    # 0.56): smooth and clearly blue, but such a border is a sky far more often than a screen;
    # given, the colour is keyed
    img = green_screen(color=color)
    with pytest.warns(NoKeyColorWarning, match="pale or dusky blue"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()
    res = key(img, color)  # (the red disc: the grey square is nearly a pale blue's shade)
    assert res.keyed and res.alpha[:20].max() <= 2 and (res.alpha[88:104, 88:104] == 255).all()
    # saturated blue screens (0.64; a dim chroma-key blue, value 0.37, saturation 0.89) are
    # still found
    assert key(green_screen(color=(59, 82, 163))).keyed
    assert key(green_screen(color=(10, 30, 95))).keyed


def test_a_dark_warm_border_as_dull_as_an_under_lit_screen_is_not_one():
    # dark wood or leather: smooth at the detection scale once this dark, saturated (0.83),
    # chroma about 24 like the under-lit green screen above, but warm
    img = green_screen(color=(41, 29, 7))
    with pytest.warns(NoKeyColorWarning, match="is warm"):
        res = key(img)
    assert not res.keyed


def green_tinted_photo(h=256, w=256, seed=0, textured=0.45):
    """A grey photo printed in greens (its brightness mapped from dark to pale green, as a
    green-graded or green-toned photo): gently lit smooth areas, and textured ones (fur, grass,
    brickwork) covering about ``textured`` of the frame."""
    rng = np.random.default_rng(seed)
    xx = np.mgrid[0:h, 0:w][1].astype(np.float32)
    g = 0.45 + 0.15 * (xx / w) + smooth_field(rng, h, w, 32, 0.04)[..., 0]
    fine = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 0.7) * 0.12
    blobs = smooth_field(rng, h, w, 24, 1.0)[..., 0]
    g = g + np.where(blobs > np.quantile(blobs, 1.0 - textured), fine, 0.0)
    dark, pale = np.array([10, 40, 15], np.float32), np.array([170, 235, 150], np.float32)
    img = dark + np.clip(g, 0, 1)[..., None] * (pale - dark) + rng.normal(0, 1.0, (h, w, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_green_tinted_photo_textured_in_part_is_not_taken_for_a_screen(seed):
    """Half of its border smooth green, the rest textured in the same green (a green brick
    wall, a green-graded cat or cameraman): keyed 46-100 % transparent before; a screen's own
    border is smooth all along but where a subject crosses it."""
    img = green_tinted_photo(seed=seed)
    with pytest.warns(NoKeyColorWarning, match="is textured in"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()
    assert key(img, "green").keyed


def draped_fabric(h, w, folds, seed=0, color=(30, 170, 70)):
    """Green fabric hanging in ``folds`` soft folds across the frame (shaded from 0.35 to 1 of
    ``color``, one chromaticity, wavy), a mug in the middle: smooth at the texture tests' scale."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wave = smooth_field(rng, h, w, max(h, w) // 3, 0.6)[..., 0]
    phase = 2 * np.pi * folds * (xx / w + 0.15 * yy / h) + wave
    shade = (0.675 + 0.325 * np.sin(phase))[..., None]
    img = np.array(color, np.float32) * shade + rng.normal(0, 1.0, (h, w, 3))
    cv2.rectangle(img, (w * 2 // 5, h * 2 // 5), (w * 3 // 5, h * 3 // 5), (235, 235, 230), -1)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("h, w, folds", [(384, 512, 6), (512, 384, 5), (256, 256, 4)])
def test_draped_green_fabric_is_not_taken_for_a_screen(h, w, folds):
    """Folds of one chromaticity, dark and light round the frame: fabric or velvet, which
    keyed 78-97 % transparent; keyed only when the colour is given."""
    img = draped_fabric(h, w, folds)
    # (refused for its folds, or, where its shading is steep enough to read as texture, for that)
    with pytest.warns(NoKeyColorWarning, match="lies in folds|is textured"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()
    assert key(img, "green").keyed


def hair_off_the_top(seed, h=512, w=384):
    """A lime screen with a bust: 160 thin strands (1 px, 0.3-0.6 of the screen's colour, its
    chromaticity) fanning from a dark head past the top border, and a garment of the screen's
    chromaticity in three soft folds (0.35-0.65 of it) running off the bottom; (image, the
    screen's mask)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    screen = np.float32((110, 165, 70))
    img = screen * (1.0 - 0.15 * ((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2))[..., None]
    subject = np.zeros((h, w), np.uint8)
    cv2.ellipse(subject, (w // 2, int(0.3 * h)), (int(0.16 * w), int(0.12 * h)), 0, 0, 360, 1, -1)
    img[subject > 0] = (40, 28, 25)
    for _ in range(160):
        x0, y0 = w / 2 + rng.normal(0, 0.08 * w), 0.25 * h
        x1 = x0 + rng.normal(0, 0.25 * w)
        bend = (x0 + x1) / 2 + rng.normal(0, 10)
        t = np.linspace(0, 1, 40)[:, None]  # (a quadratic Bezier curve)
        curve = (1 - t) ** 2 * (x0, y0) + 2 * (1 - t) * t * (bend, 0.1 * h)
        curve += t * t * (x1, -0.05 * h)
        strand = np.round(curve * 4).astype(np.int32)
        colour = tuple(float(c) for c in screen * rng.uniform(0.3, 0.6))
        cv2.polylines(img, [strand], False, colour, 1, cv2.LINE_AA, 2)
        cv2.polylines(subject, [strand], False, 1, 2, cv2.LINE_8, 2)
    body = (xx - w / 2) ** 2 / (0.42 * w) ** 2 + (yy - h) ** 2 / (0.3 * h) ** 2 < 1
    img[body] = (screen * (0.5 + 0.15 * np.sin(6 * np.pi * xx / w))[..., None])[body]
    img += rng.normal(0, 2.0, img.shape)
    screen_mask = (subject == 0) & ~body
    return np.clip(np.round(img), 0, 255).astype(np.uint8), screen_mask


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dark_hair_off_the_top_and_a_garment_in_folds_off_the_bottom_is_a_screen(seed):
    """Strands of hair of the screen's chromaticity crossing the top border swing its brightness
    dark and light 1-3 px at a time, 20-26 times with the garment's folds at the bottom: the
    screen was refused as draped fabric (a held-out florist's bust, SAD 161.0 against FFmpeg's
    38.4). A fold's side is far wider: only runs of 6 px and more count."""
    img, screen_mask = hair_off_the_top(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    inner = cv2.erode(screen_mask.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert res.keyed and res.alpha[inner].mean() < 0.02 * 255


def plaster_wall(seed, h=384, w=384, color=(53, 119, 119)):
    """A teal plastered wall: soft patches (Voronoi cells of +-8 % brightness, darker seams,
    blurred 2 px, 15-30 px across) under a top light, a framed picture on it and a wooden floor
    along the bottom; smooth enough for the texture tests."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    pts = rng.uniform(0, [w, h], (400, 2)).astype(np.float32)
    levels = 1.0 + 0.08 * rng.standard_normal(len(pts)).astype(np.float32)
    # (each pixel's nearest and second-nearest cell centre: the seams lie where they tie)
    first, second = np.full((h, w), np.inf, np.float32), np.full((h, w), np.inf, np.float32)
    shade = np.ones((h, w), np.float32)
    for (x, y), level in zip(pts, levels, strict=True):
        d = np.hypot(xx - x, yy - y)
        nearer = d < first
        second = np.where(nearer, first, np.minimum(second, d))
        shade = np.where(nearer, level, shade)
        first = np.minimum(first, d)
    shade -= 0.12 * np.exp(-(((second - first) / 3.0) ** 2))
    shade = cv2.GaussianBlur(shade.astype(np.float32), (0, 0), 2.0) * (1.05 - 0.15 * yy / h)
    img = np.float32(color)[None, None] * shade[..., None]
    cv2.rectangle(img, (120, 80), (260, 240), (60, 40, 30), -1)
    cv2.rectangle(img, (130, 90), (250, 230), (200, 140, 110), -1)
    img[int(0.8 * h) :] = (120, 70, 40)
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_plastered_teal_wall_is_not_taken_for_a_screen(seed):
    """A smooth, saturated teal wall round the frame passed every test of a screen (a held-out
    photo of one keyed 59.5 % transparent, without the warning); its soft patches are pattern
    beyond its grain (1.0-1.3 levels; screens measured at most 0.33). Keyed when the colour is
    given."""
    img = plaster_wall(seed)
    with pytest.warns(NoKeyColorWarning, match="is patterned"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()
    assert key(img, (53, 119, 119)).keyed


def painted_backdrop(seed: int, amount: float, color=(80, 170, 75), h: int = 512, w: int = 512):
    """A backdrop painted in ``color`` with brush strokes (600 soft dabs 30-80 px long and 4-8
    px wide in every direction, ``amount`` of its brightness), lit a tenth brighter at the top,
    a warm disc on it; (image, disc mask)."""
    rng = np.random.default_rng(seed)
    strokes = np.zeros((h, w), np.float32)
    for _ in range(600):
        centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (int(rng.uniform(15, 40)), int(rng.uniform(2, 4)))
        cv2.ellipse(strokes, centre, axes, rng.uniform(0, 180), 0, 360, float(rng.normal()), -1)
    strokes = cv2.GaussianBlur(strokes, (0, 0), 1.5)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = (1.0 - 0.1 * yy / h) * (1.0 + strokes * (amount / strokes.std()))
    img = np.float32(color)[None, None] * light[..., None]
    disc = np.hypot(xx - w / 2, yy - 0.55 * h) < h / 5
    img[disc] = (200, 150, 120)
    return np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8), disc


@pytest.mark.parametrize("seed, amount", [(0, 0.06), (1, 0.05), (2, 0.07)])
def test_a_lit_backdrop_painted_in_brush_strokes_is_keyed(seed, amount):
    """A bright green backdrop (170 levels) whose brush strokes are 1.1-1.7 levels of pattern
    beyond its grain, as a plastered wall's patches are: refused as patterned (two held-out
    painted muslin screens, SAD 195.0 and 130.8, 1.2 and 0.6 keyed as green). A border so bright
    is a lit backdrop; the green photos the pattern test refuses (foliage, moss, walls in shade)
    are dimmer (test_a_plastered_teal_wall_is_not_taken_for_a_screen, 119 levels, and below)."""
    img, disc = painted_backdrop(seed, amount)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    inner = cv2.erode(disc.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    screen = cv2.dilate(disc.astype(np.uint8), np.ones((15, 15), np.uint8)) == 0
    assert res.keyed and res.alpha[screen].mean() < 3.0 and (res.alpha[inner] == 255).all()


def test_a_dim_backdrop_painted_in_brush_strokes_is_not_taken_for_a_screen():
    """Guard: the same strokes on a dim green (100 levels, as foliage or a wall in shade) are
    still refused as patterned."""
    img, _ = painted_backdrop(2, 0.08, (40, 100, 38))
    with pytest.warns(NoKeyColorWarning, match="is patterned"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()


def _confetti(
    img: np.ndarray, seed: int, n: int, blur: float = 0.8
) -> tuple[np.ndarray, np.ndarray]:
    """``img`` (uint8 RGB) under ``n`` pieces of confetti over the whole frame, its border too
    (pink, yellow, white, blue and red rectangles of 3-9 px, a little out of focus): the image
    and the pieces' alpha (float 0..1)."""
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    colours = np.array(
        [(240, 90, 150), (250, 220, 60), (245, 245, 240), (60, 110, 230), (220, 40, 40)]
    )
    cover = np.zeros((h, w), np.float32)
    paint = np.zeros((h, w, 3), np.float32)
    for _ in range(n):
        x, y = rng.uniform(-4, [w + 4, h + 4])
        size = rng.uniform(3, 9, 2)
        box = cv2.boxPoints(
            ((float(x), float(y)), (float(size[0]), float(size[1])), float(rng.uniform(0, 180)))
        )
        piece = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(piece, np.round(box).astype(np.int32), 1)
        cover[piece > 0] = 1.0
        paint[piece > 0] = colours[rng.integers(len(colours))]
    a = cv2.GaussianBlur(cover, (0, 0), blur)
    paint = cv2.GaussianBlur(paint, (0, 0), blur) / np.maximum(a, 1e-3)[..., None]
    out = paint * a[..., None] + img.astype(np.float32) * (1.0 - a[..., None])
    return np.clip(np.round(out), 0, 255).astype(np.uint8), a


def _keyed_under_confetti(img: np.ndarray, pieces: np.ndarray, dense: float) -> None:
    """Asserts that ``img`` (a :func:`green_screen` under :func:`_confetti` ``pieces``) is found
    without a warning, its screen between the pieces keyed clear (under 3 % on average, the
    subject left out) and its pieces denser than ``dense`` kept (at least that on average)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    screen = pieces < 0.02
    screen[128:256, 128:256] = False  # the subject
    assert res.keyed and res.alpha[screen].mean() < 0.03 * 255
    assert res.alpha[pieces > dense].mean() > dense * 255


@pytest.mark.parametrize(("seed", "n"), [(0, 300), (1, 200)])
def test_a_screen_under_confetti_over_the_whole_frame_is_found(seed, n):
    """Confetti out of focus over a dark screen's whole frame, its border too: the pieces' rims
    mixed with the screen are pattern, which the screen between them has not. Judged with
    them, the screen was refused as patterned (two held-out screens of confetti, SAD 192.4 and
    714.6 against FFmpeg's 3.2 and 34.7; 1.2 and 15.0 once found)."""
    img, pieces = _confetti(green_screen(384, 384, seed, (30, 90, 30)), seed, n, 3.0)
    _keyed_under_confetti(img, pieces, 0.5)


@pytest.mark.parametrize(("seed", "n"), [(1, 300), (2, 300), (0, 450)])
def test_a_screen_under_dense_confetti_is_found(seed, n):
    """Confetti dense across the whole border: the screen beside its pieces is textured by their
    rims, and 31-51 % of the border was smooth (held-out soap bubbles and dense confetti refused
    as textured, SAD 529.8 and 138.0, 22.5 and 7.0 once found). Those pixels are left out of
    the texture tests."""
    img, pieces = _confetti(green_screen(384, 384, seed), seed, n, 1.0)
    _keyed_under_confetti(img, pieces, 0.9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_green_grass_with_petals_is_not_taken_for_a_screen(seed):
    """Guard: small things of other colours on a textured green surface (petals on a lawn,
    confetti on grass) leave the surface's own texture: refused as textured."""
    img, _ = _confetti(textured_scene(384, 384, seed, (60, 130, 40)), seed, 300, 1.0)
    with pytest.warns(NoKeyColorWarning, match="textured"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_a_plastered_wall_with_specks_of_other_colours_is_not_taken_for_a_screen(seed):
    """Guard: the pattern test judges a screen's colour clear of the border's other colours,
    but a plastered teal wall's pattern is its own: with confetti on it, it is still refused."""
    img, _ = _confetti(plaster_wall(seed), seed, 150)
    with pytest.warns(NoKeyColorWarning, match="is patterned"):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()


@pytest.mark.parametrize("sigma, amount", [(1.5, 0.05), (2.0, 0.03), (2.0, 0.05)])
def test_a_screen_with_a_fine_paper_texture_is_keyed(sigma, amount):
    """Guard for the pattern test: a mottled teal screen with a fine paper texture (noise
    blurred ``sigma`` px, ``amount`` of its brightness) has pattern beyond its grain as a
    plastered wall has (1.1-1.8 levels; a held-out screen's 1.2: refused, 'patterned'), but no
    more structure than grain between 1.5 and 5 px, where a wall's patches are."""
    rng = np.random.default_rng(0)
    h = w = 512
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    paper = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma)
    paper *= amount / paper.std()
    light = (1.0 + 0.05 * smooth_field(rng, h, w, 64, 1)[..., 0]) * (1.0 + paper)
    img = np.float32((33, 152, 109))[None, None] * light[..., None]
    img[np.hypot(xx - 256, yy - 280) < 110] = (200, 150, 120)
    img = np.clip(np.round(img + rng.normal(0, 1.0, img.shape)), 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    # (its darkest specks key a little opaque: the texture is as strong as a screen's noise)
    assert res.keyed and res.alpha[:40].mean() < 1.0 and res.alpha[280, 256] == 255


@pytest.mark.parametrize("seed", [0, 3])
def test_a_screen_with_blotchy_mottling_is_keyed(seed):
    """An SD-like screen mottled in blotches about 6 px across at the detection's 256 px (4 % of
    its brightness) has a pattern 0.91-0.93 levels beyond its grain, over the old limit of 0.9
    (two held-out screens so mottled, 0.91 and 0.98, were refused as patterned: SAD 256.8 and
    416.2); a plastered wall has 1.04 and more, the green photos the test refuses 1.20 and
    more. It is found and keyed: the screen clear, the subject opaque."""
    rng = np.random.default_rng(seed)
    h = w = 512
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = (1.0 + smooth_field(rng, h, w, 96, 0.06)) * (1.0 + smooth_field(rng, h, w, 12, 0.04))
    img = np.float32((97, 180, 103))[None, None] * light
    disc = np.hypot(xx - w / 2, yy - 0.55 * h) < h / 5
    img[disc] = (200, 150, 120)
    img = np.clip(np.round(img + rng.normal(0, 2.0, img.shape)), 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    assert res.keyed and res.alpha[:100].mean() < 3.0
    assert (res.alpha[cv2.erode(disc.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0] == 255).all()


@pytest.mark.parametrize("grain", [2.0, 3.0, 4.0])
def test_a_grainy_mottled_screen_is_keyed(grain):
    """Guard for the pattern test: a mottled screen with grain of 2-4 levels has a pattern of
    0.9-1.8 levels, over the test's limit, and as much grain: it is a screen (refused when the
    grain is not taken off)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    img = np.float32((40, 180, 60))[None, None] * (1.0 + 0.06 * smooth_field(rng, 256, 256, 40, 1))
    img[np.hypot(xx - 128, yy - 140) < 60] = (200, 150, 120)
    img = np.clip(np.round(img + rng.normal(0, grain, img.shape)), 0, 255).astype(np.uint8)
    assert key(img).keyed


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_screen_with_shadows_and_a_cropped_subject_at_the_border_is_keyed(seed):
    """Two soft shadows on the border and a dark green garment running off the bottom: a few
    swings of the screen's brightness, not folds."""
    h, w = 384, 512
    img = green_screen(h, w, seed).astype(np.float32)
    for cx, cy in ((0.0, 0.3), (0.7, 0.0)):
        img *= 1 - 0.5 * _corner_blob(h, w, 0.12, cx, cy)
    img[h - 60 :, w // 4 : w // 2] = (20, 80, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(np.clip(np.round(img), 0, 255).astype(np.uint8))
    assert res.keyed and res.alpha[:10, w // 2 - 20 : w // 2 + 20].max() <= 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_screen_with_a_folded_green_coat_off_its_corner_is_keyed(seed):
    """A dark coat of the screen's chromaticity, shaded in its own folds, running off the
    bottom left corner: 8-9 swings of brightness round the border (a held-out screen with one
    was refused as draped fabric), all of them on a fifth of it."""
    h = w = 384
    img = green_screen(h, w, seed).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    coat = xx / w + 1 - yy / h < 0.5
    shade = 0.45 + 0.25 * np.sin(2 * np.pi * 8 * (xx - yy) / (w + h))
    img[coat] *= shade[coat][:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(np.clip(np.round(img), 0, 255).astype(np.uint8))
    assert res.keyed and res.alpha[:10, w // 2 - 20 : w // 2 + 20].max() <= 2


# --------------------------------------------------------------------------------------------
# priors


def _corner_blob(h: int, w: int, radius: float, cx: float = 1.0, cy: float = 0.0) -> np.ndarray:
    """A soft round weight (0..1, (h, w, 1)) centred at (cx, cy) in frame fractions."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot(xx - cx * w, yy - cy * h) / (radius * max(h, w))
    return np.clip(1.5 - r, 0, 1)[..., None]


@pytest.mark.parametrize("seed", [0, 1])
def test_a_paler_patch_of_the_screen_at_a_corner_keys_out(seed):
    """A duller patch of the screen at the frame's corner, as bright as the screen around it
    (SD-style mottling): outside the screen's smooth chromaticity field, it keyed as a faint
    veil (alpha 0.2-0.4 there)."""
    img = green_screen(256, 384, seed).astype(np.float32)
    blob = _corner_blob(256, 384, 0.14)
    grey = img.mean(axis=2, keepdims=True)
    img = img + 0.5 * blob * (grey - img)  # half-way to the grey of the same brightness
    res = key(np.clip(np.round(img), 0, 255).astype(np.uint8), "green")
    patch = blob[..., 0] > 0.5
    assert res.alpha[patch].mean() < 0.02 * 255
    assert (res.alpha[110:146, 170:214] == 255).all()  # the subject


def _patch_scene(light):
    """For ``candidates.screen_patches``: a screen (``bg``) with a subject (other colours) in the
    middle and a patch of the screen's hue left out of ``bg`` running from the left border to
    the subject, ``light`` times the screen's brightness."""
    h, w = 96, 144
    img = np.full((h, w, 3), (40.0, 160.0, 60.0), np.float32)
    hue_ok = np.ones((h, w), bool)
    hue_ok[30:66, 50:94] = False  # the subject
    img[30:66, 50:94] = (200, 120, 90)
    bg = hue_ok.copy()
    bg[36:60, 0:50] = False  # the patch, touching the subject
    img[36:60, 0:50] *= np.float32(light)
    rel = np.ones((h, w), np.float32)
    rel[36:60, 0:50] = 0.8  # duller than the field expects
    return bg, hue_ok, rel, img


def _diff(img: np.ndarray) -> np.ndarray:
    """The colour difference of a :func:`_patch_scene` image (levels)."""
    return matte.diff(img, matte.basis((40, 160, 60)))


@pytest.mark.parametrize("seed", [0, 1])
def test_a_hot_spot_at_the_screens_edge_keys_out(seed):
    """Light added to the screen at the frame's edge (a lamp's hot spot, +60 levels in each
    channel at its centre): brighter, with the screen's colour difference. Taken for a bright
    subject part, it keyed opaque (a held-out elf's lamp hot spot, SAD 151.0 -> 7.3; a ring
    light's reflection beside a necklace 57.8 -> 7.8)."""
    img = green_screen(256, 384, seed).astype(np.float32)
    blob = _corner_blob(256, 384, 0.14)
    img = img + 60.0 * blob
    res = key(np.clip(np.round(img), 0, 255).astype(np.uint8), "green")
    spot = blob[..., 0] > 0.5
    assert res.alpha[spot].mean() < 0.02 * 255
    assert (res.alpha[110:146, 170:214] == 255).all()  # the subject


def spot_below_a_subject(seed: int, lift: float, sigma: float, veil: bool = False):
    """A vignetted green screen (512 x 384) with a reddish disc high in the middle and below it,
    inside the frame, a round spot of light ``sigma`` px wide: added light (``lift`` levels in
    each channel at its centre, a hot spot on a glossy floor) or, with ``veil``, a white veil
    of ``lift`` / 255 opacity there; (image, the spot's weight 0..1, disc mask)."""
    rng = np.random.default_rng(seed)
    h, w = 384, 512
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.2 * ((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2)
    img = np.float32((60, 170, 70)) * light[..., None]
    spot = np.exp(-((yy - 0.62 * h) ** 2 + (xx - 0.45 * w) ** 2) / (2 * sigma**2))
    if veil:
        a = (lift / 255.0 * spot)[..., None]
        img = img * (1.0 - a) + 255.0 * a
    else:
        img = img + lift * spot[..., None]
    disc = np.hypot(xx - 0.5 * w, yy - 0.35 * h) < 0.16 * h
    img[disc] = (150, 60, 50)
    return (
        np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8),
        spot,
        disc,
    )


@pytest.mark.parametrize("seed, lift, sigma", [(0, 50.0, 35.0), (1, 70.0, 45.0), (3, 60.0, 40.0)])
def test_a_hot_spot_inside_the_frame_keys_clear(seed, lift, sigma):
    """Light added to the screen inside the frame, below the subject (+50-70 levels in each
    channel at its centre): the chromaticity test leaves it out, and the plate filled in across
    it keyed it as a white veil, 0.18-0.52 opaque at its core (a held-out hot spot on a glossy
    floor beside goggles, SAD 99.8 -> 54.2). It keeps the screen's colour difference, a white
    veil does not (test_a_white_veil_inside_the_frame_keeps_its_alpha)."""
    img, spot, disc = spot_below_a_subject(seed, lift, sigma)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    assert res.alpha[spot > 0.5].mean() < 8.0
    assert (res.alpha[cv2.erode(disc.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0] == 255).all()


@pytest.mark.parametrize("seed, lift, sigma", [(0, 50.0, 35.0), (1, 70.0, 45.0), (3, 60.0, 40.0)])
def test_a_white_veil_inside_the_frame_keeps_its_alpha(seed, lift, sigma):
    """Guard: a white veil of the same shape (0.2-0.27 opaque at its centre) lowers the colour
    difference by its opacity: no glow; its core keeps its alpha, within a quarter."""
    img, spot, _ = spot_below_a_subject(seed, lift, sigma, veil=True)
    res = key(img)
    core = spot > 0.5
    true = float((lift * spot[core]).mean())
    assert abs(float(res.alpha[core].mean()) - true) < 0.25 * true


@pytest.mark.parametrize("lift", [20.0, 40.0])
def test_added_light_meeting_the_subject_is_screen(lift):
    """A patch of the screen brighter by added light (the three channels alike), which keeps
    the colour difference, running from the border to the subject: screen, where a patch that
    much brighter was taken for a subject part."""
    bg, hue_ok, rel, img = _patch_scene(1.0)
    img[36:60, 0:50] += np.float32(lift)
    out = candidates.screen_patches(bg, hue_ok, rel, luminance(img), _diff(img))
    assert out[36:60, 0:44].all() and not out[30:66, 50:94].any()


@pytest.mark.parametrize("opacity", [0.2, 0.4])
def test_white_smoke_meeting_the_subject_is_not_a_patch(opacity):
    """Brighter by a white veil or smoke, which lowers the colour difference by its opacity:
    not the screen's."""
    bg, hue_ok, rel, img = _patch_scene(1.0)
    img[36:60, 0:50] += np.float32(opacity) * (255.0 - img[36:60, 0:50])
    assert not candidates.screen_patches(bg, hue_ok, rel, luminance(img), _diff(img))[
        36:60, 0:44
    ].any()


def _glow_scene(seed: int, veil: float):
    """For ``candidates.screen_glows``: a dim screen (20, 110, 25; grain 0.4 levels) with a
    subject right of the middle and, left of it, a round region (radius 18 px) left out of the
    candidates: light added to the screen (+12 levels in each channel) or, with ``veil``, a
    white veil of that opacity. Returns (the candidates with glows, the region's mask)."""
    rng = np.random.default_rng(seed)
    h, w = 96, 144
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.full((h, w, 3), (20.0, 110.0, 25.0), np.float32)
    spot = np.hypot(xx - 0.3 * w, yy - 0.5 * h) < 18
    if veil:
        img[spot] = img[spot] * np.float32(1 - veil) + np.float32(255.0 * veil)
    else:
        img[spot] += 12.0
    img += rng.normal(0, 0.4, img.shape).astype(np.float32)
    hue_ok = np.ones((h, w), bool)
    hue_ok[30:66, 90:130] = False
    img[30:66, 90:130] = (200, 120, 90)
    d = matte.diff(img, matte.basis((20, 110, 25)))
    out = candidates.screen_glows(
        hue_ok & ~spot, hue_ok, d, img.max(-1), luminance(img), (w // 4, h // 4)
    )
    return out, spot


@pytest.mark.parametrize("seed", [0, 1])
def test_added_light_inside_the_frame_is_a_glow(seed):
    """Light added to a dim screen (its brightest channel 11 % higher, its colour difference
    kept): a glow of the screen, screen."""
    out, spot = _glow_scene(seed, 0.0)
    assert out[spot].mean() > 0.99


@pytest.mark.parametrize("seed, veil", [(0, 0.04), (1, 0.05), (2, 0.045)])
def test_a_faint_white_veil_over_a_dim_screen_is_no_glow(seed, veil):
    """A white veil 0.04-0.05 opaque over a dim screen lifts its brightest channel by 5-7 %, as
    much as a glow, and lowers its colour difference by its opacity, under the share a glow's
    may differ by (:data:`screen_parts._GLOW_SAME`) but over the screen's noise: no glow (it
    was taken for one, 0.90-1.00 of it; held-out steam and smoke whose faint rim drags the
    screen's colour difference down round their denser parts keyed clear)."""
    out, spot = _glow_scene(seed, veil)
    assert out[spot].mean() < 0.01


def smoke_from_the_border(seed, h=384, w=512):
    """A vignetted green screen with a reddish disc right of the middle and white smoke
    floating in from the left border (up to 0.35 opaque, fading over 100 px, uneven by a
    third); (image, the smoke's opacity, disc mask)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.2 * ((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2)
    img = np.float32((60, 170, 70)) * light[..., None]
    smoke = 0.35 * np.exp(-((yy - 0.5 * h) ** 2 + xx**2) / (2 * 100.0**2))
    smoke = np.clip(smoke * (1.0 + smooth_field(rng, h, w, 24, 0.3)[..., 0]), 0, 1)
    img = img * (1 - smoke[..., None]) + 235.0 * smoke[..., None]
    disc = np.hypot(xx - 0.62 * w, yy - 0.5 * h) < 0.15 * h
    img[disc] = (150, 60, 50)
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), smoke, disc


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_white_smoke_from_the_border_keeps_its_alpha(seed):
    """White smoke floating in from the border, 14-17 % brighter than the screen round the part
    left out of the candidates, whose colour difference is 0.86-0.88 of that screen's (itself
    in the smoke's faint rim): taken for a glow of the screen, its core (0.29-0.30 opaque) keyed
    clear (held-out smoke, steam and spray mist, SAD 61.0 -> 37.3 the most). Added light
    brightening the screen that much keeps the colour difference
    (test_a_hot_spot_at_the_screens_edge_keys_out)."""
    img, smoke, disc = smoke_from_the_border(seed)
    res = key(img)
    core = smoke > 0.21
    assert res.alpha[core].mean() / 255 > 0.6 * smoke[core].mean()
    assert (res.alpha[cv2.erode(disc.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0] == 255).all()


def test_a_patch_of_the_screen_meeting_the_subject_is_screen():
    """A patch of the screen's hue, duller than the field (a corner drifting yellower on an
    SD screen), that runs from the border to the subject: screen (it was judged with the
    subject, as one region of other colours, and keyed as a faint veil)."""
    bg, hue_ok, rel, img = _patch_scene(1.0)
    out = candidates.screen_patches(bg, hue_ok, rel, luminance(img), _diff(img))
    assert out[36:60, 0:44].all() and not out[30:66, 50:94].any()


@pytest.mark.parametrize("light", [1.08, 0.92])
def test_a_glow_or_a_tail_meeting_the_subject_is_not_a_patch(light):
    """Brighter or darker by 8 % where it meets the subject (a glow's halo, a motion blur's
    tail): not the screen's own patch (the 23rd set's candle glow keyed out: SAD 21 -> 43)."""
    bg, hue_ok, rel, img = _patch_scene(light)
    assert not candidates.screen_patches(bg, hue_ok, rel, luminance(img), _diff(img))[
        36:60, 0:44
    ].any()


def test_a_detailed_region_of_the_screens_colour_is_not_taken_for_a_patch():
    """As bright and as green as the screen, but mottled all over (cloth, +-25 % at a 1 px
    scale): a garment running off the frame, not the screen's own patch (a mottled green shirt
    of a held-out set was, and keyed clear: SAD 103 -> 77; with the textured-interiors rule
    15)."""
    bg, hue_ok, rel, img = _patch_scene(1.0)
    rng = np.random.default_rng(0)
    cloth = cv2.GaussianBlur(rng.standard_normal((24, 50)).astype(np.float32), (0, 0), 1.0)
    img[36:60, 0:50] *= (1.0 + 0.25 * cloth / cloth.std())[..., None]
    assert not candidates.screen_patches(bg, hue_ok, rel, luminance(img), _diff(img))[
        36:60, 0:44
    ].any()


def _dim_scene(subject_sides: bool, level: float = 70.0):
    """For ``candidates.no_plateaus``: a screen of brightness 100 (``bg``) with a square at
    ``level`` (12 % of the frame) whose rim is a sharp edge either against the screen all round
    (a garment's cut edge) or against a subject (not ``bg``) wrapped round three of its sides
    and soft against the screen (a shadow in the subject's crook, or a hot spot of light); the
    image's colours last (:func:`_lit_green`)."""
    h, w = 200, 200
    lum = np.full((h, w), 100.0, np.float32)
    lum[70:140, 70:140] = level
    bg = np.ones((h, w), bool)
    edges = np.zeros((h, w), bool)
    if subject_sides:
        bg[60:150, 60:70] = bg[60:70, 60:150] = bg[140:150, 60:150] = False
        edges[69, 69:141] = edges[140, 69:141] = edges[69:141, 69] = True
    else:
        edges[69, 69:141] = edges[140, 69:141] = edges[69:141, 69] = edges[69:141, 140] = True
    sat = np.full((h, w), 0.6, np.float32)
    return edges, bg, lum, sat, _lit_green(lum)


def _lit_green(lum: np.ndarray) -> np.ndarray:
    """A green screen's colours (float32 levels) lit to the brightness ``lum`` (100: as lit)."""
    return np.array((30, 140, 45), np.float32) * (lum / np.float32(100.0))[..., None]


def test_a_large_dim_sharp_rimmed_region_is_no_screen():
    """At 0.7 of the screen's brightness (lighter than the 0.6 of dark plateaus), over a tenth
    of the frame and cut off by a sharp edge: a dark garment (a held-out set's olive shirt, 0.64
    of the screen, joined the plate and keyed clear)."""
    out = candidates.no_plateaus(*_dim_scene(False))
    assert not out[80:130, 80:130].any() and out[:40].all()


def test_a_dim_region_sharp_only_against_the_subject_is_screen():
    """The same region, sharp only where it meets a subject and soft against the screen: a
    shadow (strands or a subject's edge beside a shadow made it look cut off)."""
    out = candidates.no_plateaus(*_dim_scene(True))
    assert out[80:130, 80:130].all()


@pytest.mark.parametrize("level", [40.0, 160.0])
def test_a_dark_or_bright_sharp_rimmed_region_is_no_screen(level):
    """At 0.4 or 1.6 times the screen's brightness, cut off from it all round by a sharp edge: a
    dark or a bright subject part of the screen's hue."""
    out = candidates.no_plateaus(*_dim_scene(False, level))
    assert not out[80:130, 80:130].any() and out[:40].all()


@pytest.mark.parametrize("cut", [True, False], ids=["cut", "soft"])
def test_a_far_duller_region_is_no_screen_where_its_rim_is_sharp(cut):
    """At 0.7 of the screen's saturation ratio and 0.95 of its brightness, its saturation
    stepping down sharply at its rim: a duller subject part of its hue (a held-out teal oilskin,
    which the chromaticity field bent to, joined the plate and keyed clear; its brightness
    hardly differs from the screen's, its saturation does). Guard: a subject wrapped round
    three of its sides and its saturation fading into the screen's over 30 px on the fourth: a
    veil or smoke paling the screen, or a mottled screen's paler patch, beside the subject's
    sharp outline, left in (judged all round, such patches of the own photo set's SD-like
    screens were left out and keyed as faint veils)."""
    edges, bg, lum, sat, img = _dim_scene(not cut, 95.0)
    sat[70:140, 70:140] = 0.42
    if not cut:
        sat[70:140, 140:170] = np.linspace(0.42, 0.6, 30, dtype=np.float32)
    out = candidates.no_plateaus(edges, bg, lum, sat, img)
    kept = out[80:130, 80:130]
    assert (not kept.any()) if cut else kept.all()
    assert out[:40].all()


def test_a_bright_region_sharp_only_against_the_subject_is_screen():
    """The same at 1.6 times the screen's brightness, sharp only where it meets a subject
    wrapped round three of its sides and soft against the screen: a hot spot of light in the
    subject's crook (a held-out set's goal net and boot sole on a hard-lit cloth: their screens'
    hot spots keyed opaque, SAD 196 and 110, where FFmpeg's was 107 and 14)."""
    out = candidates.no_plateaus(*_dim_scene(True, 160.0))
    assert out[80:130, 80:130].all()


def _hot_spot_in_a_loop(h: int = 160, w: int = 240) -> tuple[np.ndarray, np.ndarray]:
    """A hot spot of light on a green screen (brightness 100, up to 160 at its centre, a
    Gaussian of 30 px) and a 1 px string's loop (radius 27 px) round the part of it over 1.4
    times the screen's brightness; returns the brightness and the loop (uint8)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lum = 100.0 + 60.0 * np.exp(-((yy - h / 2) ** 2 + (xx - w / 2) ** 2) / (2 * 30.0**2))
    loop = np.zeros((h, w), np.uint8)
    cv2.circle(loop, (w // 2, h // 2), 27, 1, 1)
    return lum.astype(np.float32), loop


def test_a_hot_spot_whose_rim_strings_cross_is_screen():
    """The part of a hot spot over 1.4 times the screen's brightness, its rim lying along a
    string's loop (sharp edges, not screen): bright and sharp-rimmed, it was taken for a bright
    subject part (a held-out bunch of balloons: the screen's hot spot between their strings
    kept half opaque). The screen just across the string is as bright: screen."""
    lum, loop = _hot_spot_in_a_loop()
    edges = cv2.dilate(loop, np.ones((3, 3), np.uint8)).astype(bool)
    bg = loop == 0
    sat = np.full(lum.shape, 0.6, np.float32)
    out = candidates.no_plateaus(edges, bg, lum, sat, _lit_green(lum))
    assert out[70:90, 110:130].all()


@pytest.mark.parametrize("spot", [True, False], ids=["hot_spot", "lit_disc"])
def test_a_hot_spot_a_string_cuts_off_is_screen_a_lit_disc_is_not(spot):
    """A string's loop (sharp edges, 1 px, the screen on both sides) cuts a piece off the
    screen inside a hot spot of light: brighter than the plate the screen around gives, it was
    left out as a fill inside a thin outline (a held-out bunch of balloons: the hot spot between
    their strings kept half opaque). As bright as the screen just across the string, it is
    screen. Guard: a disc lit 1.4 times only inside the loop (a bright subject part of the
    screen's colour, inside its outline) is left out."""
    lum, loop = _hot_spot_in_a_loop()
    if not spot:
        inside = np.zeros_like(loop)
        cv2.circle(inside, (120, 80), 26, 1, -1)
        lum = np.where(inside > 0, np.float32(140.0), np.float32(100.0))
    img = _lit_green(lum)
    m = matte.basis((30, 140, 45))
    d = matte.diff(img, m)
    edges = cv2.dilate(loop, np.ones((2, 2), np.uint8)).astype(bool)
    bg = np.ones(lum.shape, bool)
    key_f = np.array((30, 140, 45), np.float32)
    out = candidates.no_cut_off_parts(edges, bg, d, (24, 16), np.float32(d.max()), img, key_f)
    assert out[70:90, 110:130].all() == spot and out[:40].all()


def _cast_scene(seed: int, drift: bool) -> tuple[np.ndarray, np.ndarray]:
    """A green screen whose hue cast (``q / p`` on its chroma basis) is mottled (about 0.05)
    with a grey subject, and a region of cast -0.2 (a cooler shade, of the screen's brightness
    and colour difference) inside the frame: a part with a cut edge (an ellipse: a teal collar),
    or with ``drift`` the screen's own hue drifting there gently (a Gaussian). Returns the image
    and the region's weight (0..1)."""
    rng = np.random.default_rng(seed)
    h, w = 320, 320
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    m = matte.basis(GREEN)
    screen = np.array(GREEN, np.float32)
    grey = np.full(3, screen.mean(), np.float32)
    p0 = float((screen - grey) @ m[0])
    part = np.zeros((h, w), np.float32)
    if drift:
        part = np.exp(-(((yy - 150) / 55.0) ** 2 + ((xx - 200) / 55.0) ** 2))
    else:
        cv2.ellipse(part, (200, 150), (70, 55), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    cast = 0.06 * smooth_field(rng, h, w, 40, 1.0)[..., 0] / 0.8 - 0.2 * part
    img = grey + p0 * m[0] + (cast * p0)[..., None] * m[1]
    img = img * (1.0 + smooth_field(rng, h, w, 32, 0.04))
    cv2.rectangle(img, (60, 120), (130, 319), (128, 128, 128), -1)
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), part


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_part_of_a_cooler_shade_inside_the_frame_stays_out_of_the_plate(seed):
    """A region of a cooler shade of the screen's hue (cast -0.2) with a cut edge inside the
    frame, on a screen whose cast is mottled: the candidates' hue test (four of the casts'
    spreads over all of them) let it in, the plate followed it and it keyed clear (0.01-0.22 on
    average; a held-out teal fur collar, green lenses, lettuce). Left out of the plate as
    another cast than the screen's on the frame's ring, it keys partly opaque (0.3-0.38: its
    colour is still within reach of a mix with the screen)."""
    img, part = _cast_scene(seed, drift=False)
    assert key(img).alpha[part > 0.9].mean() >= 0.25 * 255


@pytest.mark.parametrize("seed", [0, 1])
def test_the_screens_hue_drifting_gently_inside_the_frame_keys_clear(seed):
    """Guard for the rule above: the same cast reached by a gentle drift (no cut edge across
    which the cast jumps) is the screen's and keys clear (0.2-0.24 opaque without the jump
    test)."""
    img, part = _cast_scene(seed, drift=True)
    assert key(img).alpha[part > 0.9].mean() <= 0.02 * 255


def test_a_dark_region_inside_the_frame_sharp_against_the_subject_is_no_screen():
    """At 0.4 of the screen's brightness inside the frame, in the subject's crook: judged by all
    of its rim, as a dark subject part beside its own soft shadow is (held-out limes shaded to
    a soft rim keyed clearer when only the rim against the screen counted)."""
    out = candidates.no_plateaus(*_dim_scene(True, 40.0))
    assert not out[80:130, 80:130].any()


@pytest.mark.parametrize("level", [40.0, 160.0])
def test_a_dark_or_bright_corner_sharp_only_against_the_subject_is_screen(level):
    """A corner of the frame at 0.4 or 1.6 times the screen's brightness (a vignette, a hot
    spot), sharp along the subject beside it and soft against the screen: screen (held-out
    vignetted corners beside drops and curls were kept as dark parts, SAD 77 and 93, 33 and 63
    after)."""
    edges, bg, lum, sat, _img = _dim_scene(False, 100.0)
    lum[:80, :80] = level
    bg[:80, 80:90] = False  # the subject beside the corner, sharp against it
    edges[:] = False
    edges[:80, 79] = True
    out = candidates.no_plateaus(edges, bg, lum, sat, _lit_green(lum))
    assert out[5:70, 5:70].all()


def _drift_scene(
    cast_in: float, ramp: bool, light: float = 1.0, rise: float = 0.0, pale: float = 0.0
):
    """For ``candidates.screen_drift``: a screen (``bg``) with its top right corner (a quarter
    disc, 46 % of the frame) left out of it, of the screen's colour and brightness, whose hue
    cast reaches ``cast_in`` there; ``ramp``: gently across the frame (a drift: the corner is
    where a cast rising to 0.6 passes 0.15), else in one step at the corner's rim; ``light``:
    the corner's brightness, as a share of the screen's; ``rise``: within the corner, the cast
    rises this much faster per px (of the 144 px frame) towards ``cast_in``; ``pale``: the
    corner's colour mixed with grey by this share (a veil or smoke), at the same brightness.
    Returns ``bg``, the pixels of a hue near the key's (all), the cast, the luminance and the
    image (float32 levels)."""
    h, w = 96, 144
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.full((h, w, 3), (50.0, 180.0, 60.0), np.float32)
    r = np.hypot(xx - w, yy)
    reach = np.clip(1.0 - r / 120.0, 0, 1).astype(np.float32)
    bg = reach * 0.6 <= 0.15
    reach = np.clip(reach + np.maximum(90.0 - r, 0) * np.float32(rise) / 0.6, 0, 1)
    cast = cast_in * reach if ramp else np.where(bg, 0.0, cast_in).astype(np.float32)
    grey = img[~bg].mean(axis=1, keepdims=True)
    img[~bg] = (img[~bg] * np.float32(1.0 - pale) + grey * np.float32(pale)) * np.float32(light)
    return bg, np.ones((h, w), bool), cast, luminance(img), img


def test_a_screen_corner_drifting_in_hue_is_screen():
    """Its hue cast moving gently over the frame: the screen's drift, added."""
    bg, *rest = _drift_scene(0.6, True)
    assert candidates.screen_drift(bg, *rest).all()


def test_a_screen_corner_drifting_faster_in_hue_is_screen():
    """Its hue cast rising 0.045 per px of a 144 px wide frame (0.025 per px at a 256 px long
    side, over the limit of 0.02 before): a faster drift, as an SD screen's corner over a tenth
    of the frame has (measured 0.028), still the screen's."""
    bg, *rest = _drift_scene(0.6, True, rise=0.04)
    assert candidates.screen_drift(bg, *rest).all()


def test_a_screen_corner_drift_joined_to_a_fringe_is_screen():
    """A drifting corner joined to the ring of a subject's fringe (strands of its colour mixing
    with the screen's, 5 px wide round a disc, 24 strands): the ring's rim changes hue at every
    strand and, longer than the drift's, set the median steepness of the region's rim (a
    held-out teal drift beside an afro's fringe was refused at 0.048 per px, keyed 0.1-0.2
    opaque); the drift's broad part is judged on its own rim and is the screen's."""
    bg, near, cast, lum, img = _drift_scene(0.6, True)
    h, w = bg.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot(xx - 65, yy - 60)
    strands = np.sin(np.arctan2(yy - 60, xx - 65) * 24) > 0
    ring = (r >= 28) & (r < 33)
    bg &= r >= 33
    near = r >= 28  # (the disc inside: another colour)
    cast = np.where(ring, np.where(strands, 0.6, 0.0), cast).astype(np.float32)
    assert cv2.connectedComponents((~bg & near).astype(np.uint8))[0] == 2  # (one region)
    out = candidates.screen_drift(bg, near, cast, lum, img)
    assert out[:20, w - 20 :].all() and not out[r < 28].any()


def test_a_screen_corner_drifting_faintly_in_hue_is_screen():
    """Its hue cast 0.08 from the screen's beside it (SD screens' corners measured 0.06-0.09,
    under the limit of 0.1 before), as smooth as the screen: the screen's drift, added."""
    bg, *rest = _drift_scene(0.3, True)
    assert candidates.screen_drift(bg, *rest).all()


@pytest.mark.parametrize(
    ("cast_in", "grain_detail"),
    [(0.6, 1.25), (0.3, 0.65)],
    ids=["drift-2.5x-as-detailed", "faint-drift-1.3x-as-detailed"],
)
def test_a_corner_drift_more_detailed_than_the_screen_is_not_a_drift(cast_in, grain_detail):
    """Its hue moving gently, but more detailed than the screen (median detail 0.5 levels
    here): 2.5 times (a white veil floating in from the border with strands behind it measured
    2.4, the screen's drifts 0.8-1.3), or, for a faint drift (hue cast 0.08 from the screen's),
    1.3 times (smoke and a veil floating in from the border measured 1.28; within the limit of 2
    for stronger drifts): not the screen."""
    bg, near, cast, lum, img = _drift_scene(cast_in, True)
    grain = np.random.default_rng(0).standard_normal(lum.shape).astype(np.float32)
    grain *= np.float32(grain_detail) / np.median(detail(grain, screen_parts._PATCH_SIGMA))
    lum = lum + np.where(bg, 0, grain).astype(np.float32)
    assert not candidates.screen_drift(bg, near, cast, lum, img)[~bg].any()


def test_a_corner_whose_hue_changes_at_its_rim_is_not_a_drift():
    """The same hue reached in one step at its rim: an edge, a subject part (a teal garment)."""
    bg, *rest = _drift_scene(0.6, False)
    assert not candidates.screen_drift(bg, *rest)[~bg].any()


def test_a_brighter_corner_of_another_hue_is_not_a_drift():
    """Its hue moving gently but 30 % brighter than the screen beside it: a tinted veil or a
    glow floating in from the border, not the screen's drift."""
    bg, *rest = _drift_scene(0.6, True, 1.3)
    assert not candidates.screen_drift(bg, *rest)[~bg].any()


def test_a_drifting_corner_lit_brighter_at_the_screens_saturation_is_screen():
    """Its hue moving gently, 20 % brighter than the screen beside it (over the 15 % asked of
    the brightness alone) and as saturated: the light falling off across the screen (a
    held-out screen's warm top over a cork's splash, 16 % brighter at 0.96 of the saturation,
    keyed up to 0.9 opaque: SAD 56.9 -> 16.4), added."""
    bg, *rest = _drift_scene(0.6, True, 1.2)
    assert candidates.screen_drift(bg, *rest).all()


def test_a_brighter_paler_corner_of_another_hue_is_not_a_drift():
    """The same corner at 0.74 of the screen's saturation (mixed with grey): a veil, smoke or
    a dusty sunbeam floating in from the border (a held-out one over a falconer measured 0.74),
    not the screen's drift."""
    bg, *rest = _drift_scene(0.6, True, 1.2, pale=0.4)
    assert not candidates.screen_drift(bg, *rest)[~bg].any()


def test_a_corner_of_the_screens_hue_is_not_a_drift():
    """Of the screen's own hue cast: left out for another reason (a veil or smoke paling it),
    not a drift of hue."""
    bg, *rest = _drift_scene(0.0, True)
    assert not candidates.screen_drift(bg, *rest)[~bg].any()


def test_white_smoke_floating_in_from_the_border_is_not_taken_for_a_patch():
    """Smoke brightens the screen where it thins it: not the screen's own patch."""
    img = green_screen(256, 384, 2).astype(np.float32)
    blob = _corner_blob(256, 384, 0.14, cx=0.8)
    img = img + 0.5 * blob * (np.float32(235) - img)
    res = key(np.clip(np.round(img), 0, 255).astype(np.uint8), "green")
    smoke = blob[..., 0] > 0.5
    assert res.alpha[smoke].mean() > 0.3 * 255


def test_prior_colour_of_another_hue_does_not_key():
    with pytest.warns(NoKeyColorWarning, match="did not come out as a screen"):
        res = key(green_screen(), prior_color="magenta")
    assert not res.keyed and "did not come out as a screen" in res.notes[0]


def test_prior_colour_of_the_screen_keys_with_the_measured_shade():
    res = key(green_screen(), prior_color="green")  # pure green preset, duller screen
    assert res.keyed and res.key_color != (0, 255, 0)
    assert res.alpha[:20].max() == 0


def test_subject_mask_hides_a_subject_on_the_border():
    img = green_screen()
    img[:, :40] = (128, 128, 128)  # the subject fills the left border
    img[:40] = (150, 150, 150)  # ... the top
    img[-40:] = (140, 140, 140)  # ... and the bottom
    mask = np.zeros(img.shape[:2], np.float32)
    mask[:, :40] = 1.0
    mask[:40] = 1.0
    mask[-40:] = 1.0
    # three quarters of the border are subject: not a screen (with half of it a saturated
    # green like this one is: a subject off two sides of the frame)
    with pytest.warns(NoKeyColorWarning):
        assert not key(img).keyed
    assert key(img, subject_mask=mask).keyed


def test_key_generated_uses_the_params():
    params = TkgParams(enabled=True, color="green", despill=0.5, tolerance=0.2, sigma=0.4)
    res = key_generated(green_screen(), params)
    assert res.keyed
    same = key(
        green_screen(),
        prior_color="green",
        subject_mask=subject_prior(params, *green_screen().shape[:2]),
        despill=0.5,
        tolerance=0.2,
    )
    assert np.array_equal(res.rgba, same.rgba)


def test_subject_prior_is_the_generation_mask_on_the_latent_grid():
    m = subject_prior(TkgParams(sigma=0.5, center_x=0.5, center_y=-0.5), 328, 328)
    assert m.dtype == np.float32 and m.shape == (41, 41)
    y, x = np.unravel_index(int(np.argmax(m)), m.shape)
    assert (y, x) == (10, 30) and m.max() == pytest.approx(1.0, abs=1e-3)
    two = subject_prior(TkgParams(layout="-0.5 0 0.3; 0.5 0 0.3"), 256, 384)
    assert two.shape == (32, 48)
    assert two[16, 12] > 0.9 and two[16, 36] > 0.9 and two[16, 24] < 0.5


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4, 3)), np.full((4, 4), 2.0), np.full((4, 4), np.nan), "mask"]
)
def test_bad_subject_mask(bad):
    with pytest.raises(ValueError, match="subject_mask"):
        key(green_screen(64, 64), subject_mask=bad)


# --------------------------------------------------------------------------------------------
# key-coloured subject parts


@pytest.mark.parametrize(
    "part", [(0, 255, 0), (90, 250, 110), (0, 200, 170)], ids=["brighter", "lighter", "teal"]
)
def test_key_coloured_parts_of_the_subject_stay_opaque(part):
    img = green_screen()
    img[80:112, 80:112] = part  # inside the grey square
    res = key(img)
    assert res.keyed
    assert res.alpha[84:108, 84:108].min() >= 230, res.alpha[84:108, 84:108].min()
    assert res.alpha[:20].max() == 0


def test_a_key_coloured_part_at_the_outline_stays_opaque():
    # like the green sector of a colour wheel: brighter than the screen, touching it
    img = green_screen(256, 256)
    cv2.circle(img, (128, 128), 70, (128, 128, 128), -1)
    cv2.ellipse(img, (128, 128), (70, 70), 0, -30, 30, (20, 250, 40), -1)
    res = key(img)
    assert res.alpha[118:138, 150:190].min() >= 230
    assert res.alpha[:30].max() == 0 and res.alpha[128, 220:].max() == 0


# --------------------------------------------------------------------------------------------
# neutral screens, shadows


def neutral_screen(level, h=192, w=192, shadow=0.4):
    """A white/black floor with a soft shadow below a coloured subject."""
    yy = np.mgrid[0:h, 0:w][0].astype(np.float32)
    img = np.full((h, w, 3), level, np.float32) * (1.0 - 0.04 * yy / h)[..., None]
    sh = np.zeros((h, w), np.float32)
    cv2.ellipse(sh, (w // 2, 150), (50, 12), 0, 0, 360, 1.0, -1)
    sh = cv2.GaussianBlur(sh, (0, 0), 8)
    img *= (1.0 - shadow * sh)[..., None]
    img[50:140, 70:122] = (40, 90, 200) if level > 128 else (230, 200, 60)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), sh


@pytest.mark.parametrize(("name", "level"), [("white", 245), ("black", 10), ("#808080", 128)])
def test_neutral_screens_key_by_distance_from_the_plate(name, level):
    img, _ = neutral_screen(level)
    res = key(img, name)
    assert res.keyed
    assert (res.alpha[55:135, 75:117] == 255).all()
    bg = np.ones(img.shape[:2], bool)
    bg[45:145, 65:127] = False
    assert (res.alpha[bg] <= 5).mean() >= 0.97


def test_translucent_bright_layer_on_black_is_not_keyed_opaque():
    """A bright veil at alpha 0.15 away from a bright subject on a black screen: its distance
    from the plate is a share of the subject's, not of a fixed contrast (72 levels)."""
    img = np.full((192, 192, 3), 10, np.float32)
    img[40:150, 20:80] = (230, 200, 60)  # opaque subject
    img[60:130, 120:170] = 0.15 * np.array((230, 220, 200)) + 0.85 * 10
    res = key(np.rint(img).astype(np.uint8), "black")
    veil = res.alpha[70:120, 130:160].astype(np.float64) / 255
    assert abs(veil.mean() - 0.15) < 0.08
    assert (res.alpha[50:140, 30:70] == 255).all()


def test_white_screen_shadow_keys_out_or_is_kept():
    img, sh = neutral_screen(245)
    under = (sh > 0.5) & (np.mgrid[0:192, 0:192][0] > 145)
    out = key(img, "white")
    assert out.alpha[under].max() <= 10  # keyed out by default
    kept = key(img, "white", keep_shadow=True)
    assert kept.alpha[under].mean() >= 0.25 * 255  # a translucent shadow layer
    assert kept.rgba[..., :3][under].max() <= 40  # black
    assert (kept.alpha[55:135, 75:117] == 255).all()


def _frame_on_white(panel=None):
    """A brown frame (a chair's back: 14 px bars round a 100 x 80 px hole) on a white sweep,
    casting a soft shadow down and to the right, part of it into the hole; ``panel``: a grey
    to fill the hole with instead. Returns the image, the hole's inside, its shadowed part and
    the bars' inside."""
    h, w = 256, 256
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.full((h, w, 3), 246.0, np.float32) * (1.0 - 0.05 * yy / h)[..., None]
    outer = (np.abs(xx - 128) < 64) & (np.abs(yy - 118) < 59)
    hole = (np.abs(xx - 128) < 50) & (np.abs(yy - 118) < 45)
    bars = outer & ~hole
    shade = cv2.GaussianBlur(np.roll(bars, (10, 12), (0, 1)).astype(np.float32), (0, 0), 4)
    img *= (1.0 - 0.3 * shade)[..., None]
    img[bars] = (150, 100, 60)
    if panel is not None:
        img[hole] = panel
    inner = cv2.erode(hole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    solid = cv2.erode(bars.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), inner, inner & (shade > 0.3), solid


def test_a_soft_shadow_cast_into_a_hole_in_the_subject_keys_out_on_white():
    """The frame's shadow falling into its own hole (a chair's back on a white sweep) was kept
    0.8 opaque on average: the hole joined the screen only where it was at the plate's level.
    A hole part of which is at that level is screen all over, its shadow too (kept as the
    shadow layer with keep_shadow)."""
    img, inner, shadowed, solid = _frame_on_white()
    out = key(img, "white")
    assert out.alpha[shadowed].mean() <= 10
    assert (out.alpha[inner] <= 12).mean() >= 0.9
    assert (out.alpha[solid] == 255).all()
    kept = key(img, "white", keep_shadow=True)
    assert kept.alpha[shadowed].mean() >= 0.15 * 255


def test_a_grey_panel_filling_a_hole_stays_opaque_on_white():
    """Guard for the rule above: a flat grey panel in the hole (0.6 of the screen's brightness,
    none of it at the screen's level) is the subject's."""
    img, inner, *_ = _frame_on_white(panel=(148, 148, 148))
    assert key(img, "white").alpha[inner].min() >= 0.9 * 255


def _bust_in_a_hot_spot(seed: int, light: tuple[float, float, float]) -> np.ndarray:
    """A bust on a green screen lit by a hot spot centred behind it (``light``: the light's
    floor, its peak's height above it and its width, a share of the frame): the screen between
    the hair and the neck, enclosed by hair, face and shoulders, shows the peak, brighter than
    the plate filled in from the screen around the bust."""
    rng = np.random.default_rng(seed)
    h, w = 320, 320
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - 160) / w) ** 2 + ((yy - 190) / h) ** 2
    floor, peak, width = light
    img = np.float32((60, 170, 70)) * (floor + peak * np.exp(-r2 / (2 * width**2)))[..., None]
    hair, skin = (70, 45, 30), (215, 170, 140)
    cv2.rectangle(img, (80, 70), (125, 300), hair, -1)
    cv2.rectangle(img, (195, 70), (240, 300), hair, -1)
    cv2.ellipse(img, (160, 100), (75, 55), 0, 0, 360, hair, -1)
    cv2.ellipse(img, (160, 115), (40, 48), 0, 0, 360, skin, -1)
    cv2.rectangle(img, (148, 150), (172, 262), skin, -1)
    cv2.rectangle(img, (50, 255), (270, 320), (40, 40, 110), -1)
    return np.clip(np.round(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("light", [(0.85, 0.4, 0.35), (0.55, 0.75, 0.37)], ids=["broad", "strong"])
def test_the_screen_between_hair_and_neck_at_a_hot_spot_keys_clear(seed, light):
    """The screen the bust encloses, at the peak of a hot spot it hides, is brighter than the
    plate filled in from farther out, and was kept opaque as a bright key-coloured part (held-out
    beauty shots: the screen between hair and neck kept opaque; here 0.28 under the broad hot
    spot). It is compared with the screen's smooth light there (a quadratic through the screen
    around the subject); under the strong one (about 1.6 times the frame's ring), as a bright
    plateau with a sharp rim all round too (kept opaque by that alone)."""
    alpha = key(_bust_in_a_hot_spot(seed, light)).alpha
    assert alpha[170:240, 132:142].max() <= 3 and alpha[170:240, 178:188].max() <= 3
    assert (alpha[150:250, 90:115] == 255).all() and (alpha[170:240, 152:168] == 255).all()
    assert alpha[5:30].max() == 0


def _wagon_on_white(seed: int) -> np.ndarray:
    """A wagon on a white sweep (234): a red body with a pale window (214) and four wheels,
    standing on a grey rail whose soft contact shadow darkens the floor below it to 0.55; the
    gaps between the wheels above the rail are enclosed, at the lit screen's level."""
    rng = np.random.default_rng(seed)
    h, w = 320, 480
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dip = np.clip(1.0 - (yy - 232.0) / 40.0, 0.0, 1.0) * (yy >= 232) * (np.abs(xx - 240) < 200)
    dip = cv2.GaussianBlur(dip, (0, 0), 4.0)
    img = np.full((h, w, 3), 234.0, np.float32) * (1.0 - 0.45 * dip)[..., None]
    cv2.rectangle(img, (70, 110), (410, 190), (120, 25, 30), -1)
    cv2.rectangle(img, (200, 125), (260, 170), (214, 214, 212), -1)
    for x in (110, 190, 290, 370):
        cv2.circle(img, (x, 200), 22, (40, 40, 40), -1, cv2.LINE_AA)
    cv2.rectangle(img, (40, 222), (440, 231), (150, 150, 155), -1)
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 1])
def test_gaps_above_a_rail_whose_shadow_drags_the_plate_down_key_out_on_white(seed):
    """The gaps between a wagon's wheels, enclosed by its rail, are the screen at its lit
    level; the rail's contact shadow below dragged the plate across them down, none of their
    pixels was at the plate's level, and they were kept opaque as light grey parts (a held-out
    toy train's gaps: 94 % of its background clear). A region mostly at the lit screen's level
    is a hole. The pale window inside the body, 20 levels under the screen, stays opaque."""
    alpha = key(_wagon_on_white(seed), "white").alpha
    for x0, x1 in ((140, 160), (228, 252), (320, 340)):
        assert alpha[196:218, x0:x1].mean() <= 0.02 * 255
    assert (alpha[128:168, 203:258] == 255).all()  # the window
    assert (alpha[115:175, 75:195] == 255).all() and (alpha[115:175, 265:405] == 255).all()


def _mug_on_white(seed: int) -> np.ndarray:
    """A mug on a white sweep (245): a light grey face (226) in a dark outline, crossed by a red
    stripe, and a handle whose hole shows the screen; beside the stripe the face's outline is
    missing and the face runs smoothly into the handle's hole (no sharp step), so the hole and
    the face are one region the outline encloses, joined at two narrow necks."""
    rng = np.random.default_rng(seed)
    h, w = 320, 480
    xx = np.mgrid[0:h, 0:w][1].astype(np.float32)
    img = np.full((h, w, 3), 245.0, np.float32)
    cv2.rectangle(img, (120, 70), (300, 250), (90, 90, 90), -1)
    cv2.rectangle(img, (124, 74), (296, 246), (226, 226, 226), -1)
    for axes, level in (((70, 60), 90), ((66, 56), 226), ((48, 38), 90), ((44, 34), 245)):
        cv2.ellipse(img, (300, 160), axes, 0, -90, 90, (level, level, level), -1)
    cv2.rectangle(img, (124, 150), (296, 170), (150, 60, 50), -1)
    for y0, y1 in ((128, 150), (170, 192)):
        ramp = np.clip((xx[y0:y1, 280:316] - 280.0) / 36.0, 0.0, 1.0)
        img[y0:y1, 280:316] = (226.0 + 19.0 * ramp)[..., None]
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_mugs_face_joined_to_its_handles_hole_at_a_neck_stays_opaque_on_white(seed):
    """A face and a hole the outline encloses as one region (a gap in the mug's outline beside
    its handle) were judged together: the hole's pixels at the screen's level made all of it a
    hole, and the face, 19 levels under the screen, keyed clear (held-out mugs on white and
    black: 0.09-0.19 mean alpha error). The region is parted at its necks: the face, a piece of
    its own, stays opaque and the handle's hole keys out."""
    alpha = key(_mug_on_white(seed), "white").alpha
    assert (alpha[80:140, 130:270] == 255).all() and (alpha[180:240, 130:270] == 255).all()
    assert alpha[140:180, 320:335].mean() <= 0.02 * 255
    assert alpha[10:50].max() == 0


def _gravel_box_on_black(seed: int) -> np.ndarray:
    """A box on a black sweep (26) in a dim outline (44): its 160 x 130 px face dark, 12 levels
    with soft blotches of 8 levels (sd) about 20 px across, so that a fifth to a quarter of its
    pixels (seeds 0, 2 and 3) cross the screen's level, in scattered pieces."""
    rng = np.random.default_rng(seed)
    h, w = 320, 320
    img = np.full((h, w, 3), 26.0, np.float32)
    cv2.rectangle(img, (76, 91), (243, 228), (44, 44, 44), -1)
    blotch = cv2.GaussianBlur(rng.normal(0, 1, (130, 160)).astype(np.float32), (0, 0), 10.0)
    blotch /= blotch.std()
    img[95:225, 80:240] = (12.0 + 8.0 * blotch)[..., None]
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_a_dark_gravel_face_crossing_the_screens_level_stays_opaque_on_black(seed):
    """A face that crosses a black screen's level in scattered pixels (held-out gravel kettles,
    speckled bowls and a paper crane a few levels off the screen: 0.08-0.13 mean alpha error)
    was a hole with 5 % of its pixels at that level, and keyed clear where near it. A region
    wider than a gap between strands is a hole where 30 % of it is at the level."""
    img = _gravel_box_on_black(seed)
    alpha = key(img, "black").alpha
    assert (alpha[100:220, 85:235] == 255).mean() >= 0.98
    assert alpha[10:60].max() == 0


def _record_on_black(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A black vinyl record (radius 140 px) on a black sweep (14, grain 3): its grooves 4.5 px
    apart swing 6.5 levels about 18, so that about half of its pixels lie at the screen's level
    (a held-out record: the same levels); a red label (radius 40) in its middle. Returns the
    image and the grooves' inside."""
    rng = np.random.default_rng(seed)
    h, w = 384, 512
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(yy - 192.0, xx - 256.0)
    img = np.full((h, w, 3), 14.0, np.float32)
    disc = r < 140
    img[disc] = (18.0 + 6.5 * np.sin(2.0 * np.pi * r[disc] / 4.5))[:, None]
    img[r < 40] = (200, 60, 40)
    img += rng.normal(0, 3.0, img.shape)
    grooves = (r > 48) & (r < 132)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), grooves


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_grooved_black_record_stays_opaque_on_black(seed):
    """A face half of whose pixels lie at a black screen's level, in fine grooves, was a hole
    (30 % at the level or more) and keyed clear (a held-out record: 0.29 mean alpha error). The
    screen seen through a hole is as smooth as the screen; a region twice as detailed (by 2
    levels at least), under three quarters of it at the level, is a subject part."""
    img, grooves = _record_on_black(seed)
    alpha = key(img, "black").alpha
    assert (alpha[grooves] == 255).mean() >= 0.98
    assert (alpha[:30] <= 12).all()


def _frame_with_a_dappled_shadow_on_white(seed: int, depth: float) -> tuple[np.ndarray, np.ndarray]:
    """A copper frame (14 px bars round a 100 x 90 px hole) on a white sweep (246, grain 1.5),
    a lace's dappled shadow over the hole's lower half (spots 8 px apart, down to ``1 - depth``
    of the screen). Returns the image and the hole's inside."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:256, 0:256]
    hole = (np.abs(xx - 128) < 50) & (np.abs(yy - 118) < 45)
    bars = (np.abs(xx - 128) < 64) & (np.abs(yy - 118) < 59) & ~hole
    dapple = np.clip(np.sin(2.0 * np.pi * xx / 8.0) * np.sin(2.0 * np.pi * yy / 8.0), 0.0, None)
    img = np.full((256, 256, 3), 246.0, np.float32) * (1.0 - depth * dapple * (yy > 118))[..., None]
    img[bars] = (150, 100, 60)
    img += rng.normal(0, 1.5, img.shape)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), inner


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("depth", [0.2, 0.3])
def test_a_dappled_shadow_cast_into_a_hole_keys_out_on_white(seed, depth):
    """Guard for the rule above: a hole half of which lies in a dappled shadow is as detailed as
    a textured face and half at the screen's level, but darker than the plate where it is off
    it, as a shadow is: a hole, keyed out."""
    img, inner = _frame_with_a_dappled_shadow_on_white(seed, depth)
    alpha = key(img, "white").alpha
    assert alpha[inner].mean() <= 12
    assert (alpha[inner] <= 12).mean() >= 0.9


def _pebbled_bag_on_black(seed: int, scale: float, label: bool) -> tuple[np.ndarray, np.ndarray]:
    """A black pebbled bag (240 x 180 px) on a black sweep (14, grain 3): its face is grain
    blurred by ``scale`` px that swings 7 levels (sd) about 16, so that it crosses the screen's
    level all over (a held-out pebbled bag, a gravel kettle: the same levels); where ``label``,
    a red label over a fifth of it. Returns the image and the bag's inside."""
    rng = np.random.default_rng(seed)
    h, w = 384, 512
    yy, xx = np.mgrid[0:h, 0:w]
    bag = (np.abs(xx - 256) < 120) & (np.abs(yy - 200) < 90)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), scale)
    img = np.full((h, w, 3), 14.0, np.float32)
    img[bag] = (16.0 + 7.0 * grain[bag] / grain[bag].std())[:, None]
    if label:
        img[(np.abs(xx - 256) < 60) & (np.abs(yy - 200) < 35)] = (200, 60, 40)
    img += rng.normal(0, 3.0, img.shape)
    inner = cv2.erode(bag.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), inner


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("scale", [2.0, 3.0])
@pytest.mark.parametrize("label", [False, True])
def test_a_pebbled_black_bag_keys_opaque_on_black(seed, scale, label):
    """A face that crosses a black screen's level all over in grains was found by the outline
    in pieces, those at the level taken for holes: it keyed as scattered opaque blocks among
    clear ones (0-5 % of it opaque). A wide face the outline parts from the screen, half of it
    near its level and twice as detailed, its texture running every way, is opaque inside; a
    bright label on a fifth of it took its mean distance from the screen past that bound."""
    img, inner = _pebbled_bag_on_black(seed, scale, label)
    alpha = key(img, "black").alpha
    assert (alpha[inner] == 255).mean() >= 0.9
    assert (alpha[:30] <= 12).all()


def _urchin_on_black(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A sea urchin on a black sweep (14, grain 3): a violet ball (radius 45 px) and 140 spines
    1 px wide, at 30 levels, from radius 40 to 110-150 at random angles. Returns the image and
    the gaps between the spines (radius 60-105, over 2 px from any spine)."""
    rng = np.random.default_rng(seed)
    h, w = 384, 512
    spines = np.zeros((h, w), np.float32)
    for angle in rng.uniform(0.0, 2.0 * np.pi, 140):
        tip = rng.uniform(110.0, 150.0)
        root = (int(256 + 40 * np.cos(angle)), int(192 + 40 * np.sin(angle)))
        end = (int(256 + tip * np.cos(angle)), int(192 + tip * np.sin(angle)))
        cv2.line(spines, root, end, 1.0, 1, cv2.LINE_AA)
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(yy - 192.0, xx - 256.0)
    img = np.full((h, w, 3), 14.0, np.float32) * (1.0 - spines[..., None])
    img += 30.0 * spines[..., None]
    img[r < 45] = (170, 120, 200)
    img += rng.normal(0, 3.0, img.shape)
    gaps = (r > 60) & (r < 105) & (cv2.dilate(spines, np.ones((5, 5), np.uint8)) == 0)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), gaps


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_gaps_between_an_urchins_spines_stay_clear_on_black(seed):
    """Guard for the rule above: spines with gaps between them make a face as detailed and near
    the level, but their texture runs one way; without that test 70-76 % of the gaps were
    filled in."""
    img, gaps = _urchin_on_black(seed)
    alpha = key(img, "black").alpha
    assert (alpha[gaps] <= 12).mean() >= 0.7
    assert alpha[gaps].mean() <= 60


def _dried_bouquet_on_black(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A bouquet of dried flowers on a black sweep (14, grain 3): 50 stems 1 px wide (120, 110,
    80), 150-300 px long, within 45 degrees of upright from one point near the bottom, each
    ending in four violet heads (radius 3). Returns the image and the screen between them (over
    2 px from any stem or head)."""
    rng = np.random.default_rng(seed)
    h, w = 384, 512
    stems = np.zeros((h, w), np.float32)
    heads = np.zeros((h, w), np.float32)
    for _ in range(50):
        angle = np.deg2rad(rng.uniform(-45.0, 45.0))
        length = rng.uniform(150.0, 300.0)
        tip = (int(256 + length * np.sin(angle)), int(370 - length * np.cos(angle)))
        cv2.line(stems, (256, 370), tip, 1.0, 1, cv2.LINE_AA)
        for _ in range(4):
            at = (tip[0] + int(rng.integers(-8, 9)), tip[1] + int(rng.integers(-8, 9)))
            cv2.circle(heads, at, 3, 1.0, -1)
    img = np.full((h, w, 3), 14.0, np.float32) * (1.0 - stems[..., None])
    img += np.array([120.0, 110.0, 80.0], np.float32) * stems[..., None]
    img = (
        img * (1.0 - heads[..., None])
        + np.array([200.0, 150.0, 220.0], np.float32) * heads[..., None]
    )
    img += rng.normal(0, 3.0, img.shape)
    drawn = (np.maximum(stems, heads) > 0.05).astype(np.uint8)
    gaps = cv2.dilate(drawn, np.ones((5, 5), np.uint8)) == 0
    return np.clip(np.round(img), 0, 255).astype(np.uint8), gaps


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_gaps_in_a_dried_bouquet_stay_clear_on_black(seed):
    """Guard for the textured-face rule: stems fanning out from one point make a face as
    detailed and near the level, twigs and heads crossing every way at their tips; but most of
    it runs one way. Without that test 2000-3300 px of the screen between them were made
    opaque (under 250 with it)."""
    img, gaps = _dried_bouquet_on_black(seed)
    alpha = key(img, "black").alpha
    assert (alpha[gaps] > 12).sum() <= 600


def _frame_in_its_shadow_on_black(seed: int, dark: float, blur: float) -> np.ndarray:
    """A copper frame (14 px bars round a 100 x 90 px hole) on a black sweep (34) casting a soft
    shadow down and to the right (its bars' shape moved ``blur`` + 2 px, blurred by ``blur``
    px, down to ``1 - dark`` of the screen): most of the hole is in it, 11-43 % of it at the
    screen's level. Returns the image, the hole's inside and the bars' inside."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:256, 0:256]
    img = np.full((256, 256, 3), 34.0, np.float32)
    hole = (np.abs(xx - 128) < 50) & (np.abs(yy - 118) < 45)
    bars = (np.abs(xx - 128) < 64) & (np.abs(yy - 118) < 59) & ~hole
    shift = int(blur) + 2
    shade = cv2.GaussianBlur(np.roll(bars, (shift, shift), (0, 1)).astype(np.float32), (0, 0), blur)
    img *= (1.0 - dark * shade / shade.max())[..., None]
    img[bars] = (150, 100, 60)
    img += rng.normal(0, 1.2, img.shape)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    solid = cv2.erode(bars.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), inner, solid


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("dark", "blur"), [(0.45, 14.0), (0.45, 18.0), (0.6, 20.0)])
def test_a_hole_mostly_in_the_frames_soft_shadow_keys_out_on_black(seed, dark, blur):
    """Guard for the rule above: a wide hole under 30 % at the screen's level whose other
    pixels are darker than the plate and as smooth as the screen is the subject's shadow cast
    into its hole (held-out products' contact shadows enclosed by their outline on black were
    kept opaque by that rule alone: 0.029 -> 0.039 mean alpha error), a hole as before."""
    img, inner, solid = _frame_in_its_shadow_on_black(seed, dark, blur)
    alpha = key(img, "black").alpha
    assert (alpha[inner] <= 12).mean() >= 0.95
    assert (alpha[solid] == 255).all()


def _panel_on_white(seed: int, middle: float, fall: np.ndarray) -> np.ndarray:
    """A panel in a dark frame on a white sweep (246): ``middle - fall`` levels over its
    202 x 120 px (``fall`` (202, 120), levels), smooth, with grain."""
    rng = np.random.default_rng(seed)
    img = np.full((320, 320, 3), 246.0, np.float32)
    cv2.rectangle(img, (96, 60), (224, 270), (80, 80, 80), -1)
    img[64:266, 100:220] = (middle - fall)[..., None]
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_shaded_products_pale_middle_stays_opaque_on_white(seed):
    """A can's cylindrical shading, from 150 at its sides to 14 levels under the screen along
    its middle: its enclosed face is farther from the screen than a near part on average, so
    it kept the distance matte's alpha, and its pale middle keyed 0.25-0.4 (held-out shaded
    mugs, steel bottles and patterned bags on white: 0.04-0.07 mean alpha error). A face a fifth
    of which is opaque by that matte is opaque all over."""
    u = (np.arange(100, 220, dtype=np.float32) - 160.0) / 60.0
    img = _panel_on_white(seed, 232.0, np.broadcast_to(82.0 * u**2, (202, 120)))
    alpha = key(img, "white").alpha
    assert (alpha[80:250, 104:216] == 255).all()
    assert alpha[10:40].max() == 0


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("rim", [False, True])
def test_a_face_32_levels_under_a_white_screen_that_its_outline_encloses_is_opaque(seed, rim):
    """A flat grey face 32 levels under the screen (55 levels of RGB distance, which the
    distance matte keys 0.76), or one whose bottom sixth darkens to 58 under, inside a dark
    frame: an enclosed region within :data:`~lib_tkg.keying.outline.SOLID_NEAR_WHITE` of a
    white screen is opaque (held-out grey spheres, pastel cases and bags on white; a tinted glass
    that faint is made opaque too, a limit). It kept the matte's alpha beyond 48 levels."""
    y = np.arange(64, 266, dtype=np.float32)
    fall = 26.0 * np.clip((y - 232.0) / 20.0, 0.0, 1.0) if rim else np.zeros_like(y)
    alpha = key(
        _panel_on_white(seed, 214.0, np.broadcast_to(fall[:, None], (202, 120))), "white"
    ).alpha
    assert (alpha[70:260, 104:216] == 255).all()
    assert alpha[10:40].max() == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_a_faint_bright_panel_its_outline_encloses_keeps_its_partial_alpha_on_black(seed):
    """The white screen's bound is not a black one's: a bright panel 32 levels over a black
    screen inside a light frame (smoke, a glow, a tinted glass there) keeps the distance matte's
    partial alpha (0.73), its bottom sixth brightening to 58 over keyed opaque."""
    rng = np.random.default_rng(seed)
    img = np.full((320, 320, 3), 10.0, np.float32)
    cv2.rectangle(img, (96, 60), (224, 270), (180, 180, 180), -1)
    y = np.arange(64, 266, dtype=np.float32)
    img[64:266, 100:220] = (42.0 + 26.0 * np.clip((y - 232.0) / 20.0, 0.0, 1.0))[:, None, None]
    img += rng.normal(0, 1.5, img.shape)
    alpha = key(np.clip(np.round(img), 0, 255).astype(np.uint8), "black").alpha
    inside = alpha[80:230, 110:210].astype(np.float32) / 255
    assert 0.6 <= inside.mean() <= 0.85
    assert alpha[252:262, 110:210].mean() >= 0.95 * 255


@pytest.mark.parametrize(
    ("screen", "outline", "inside"),
    [
        ("white", (60, 45, 40), (218, 204, 198)),  # a light face inside dark hair
        ("black", (215, 210, 200), (45, 40, 38)),  # a dark part inside a light subject
    ],
)
def test_a_neutral_subjects_inside_keeps_the_first_mattes_contrast(screen, outline, inside):
    """Deep inside the subject, a part nearer the screen's level than the subject's typical
    contrast is a paler (darker) part of it, not a soft edge: its alpha is its distance from
    the screen over the first matte's contrast, not over the (much larger) typical one. (Parts
    within :data:`~lib_tkg.keying.outline.SOLID_NEAR` levels of the screen, on white
    :data:`~lib_tkg.keying.outline.SOLID_NEAR_WHITE`, are opaque: the tests above and below.)"""
    level = 245 if screen == "white" else 10
    img = np.full((256, 256, 3), level, np.uint8)
    yy, xx = np.mgrid[0:256, 0:256]
    r = np.hypot(yy - 128, xx - 128)
    img[r < 100] = outline
    img[r < 88] = inside
    m = key(img, screen).alpha.astype(np.float32) / 255
    dist = float(np.linalg.norm(np.array(inside, np.float32) - level))
    assert m[r < 60].mean() == pytest.approx(min(1.0, dist / 72.0), abs=0.1)
    assert m[r > 110].max() == 0 and m[(r < 99) & (r > 90)].min() > 0.95


def _broken_rim_on_white(seed: int, lift: float, gap: int):
    """An upright ellipse (semi-axes 140 x 220 px) on a 512 px white sweep (236 -> 244 top to
    bottom, grain 1.2): its face the sweep lifted by ``lift * (1 - r^4)`` levels (``r`` 0 at its
    middle, 1 at its rim: at the sweep's level at the rim) and tinted 4 levels warm, its rim
    shaded 30 levels darker over 10 px but for four gaps of ``gap`` px. Returns the image, the
    face (eroded 16 px) and the clear background (16 px from the ellipse)."""
    rng = np.random.default_rng(seed)
    h = w = 512
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.repeat((236.0 + 8.0 * yy / h)[..., None], 3, 2)
    r = np.hypot((xx - 256) / 140.0, (yy - 256) / 220.0)
    face = r < 1.0
    img[face] += (lift * (1.0 - r[face] ** 4))[:, None] + np.array([3.0, 1.0, -4.0], np.float32)
    rim = np.clip((r - 0.94) / 0.06, 0.0, 1.0) * face
    angle = np.degrees(np.arctan2(yy - 256, xx - 256)) % 90.0  # (four gaps, one each quarter)
    rim[np.abs(angle - 45.0) * (np.pi / 180.0) * 175.0 < gap / 2] = 0.0
    img -= 30.0 * cv2.GaussianBlur(rim, (0, 0), 1.0)[..., None]
    img += rng.normal(0, 1.2, img.shape)
    clear = cv2.dilate(face.view(np.uint8), np.ones((33, 33), np.uint8)) == 0
    core = cv2.erode(face.view(np.uint8), np.ones((33, 33), np.uint8)).view(bool)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), core, clear


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("gap", [36, 44])
def test_a_pale_face_whose_shaded_rim_has_wide_gaps_stays_opaque_on_white(seed, gap):
    """A light-on-white product (an ivory fender, a cream vase) whose shaded rim fades to the
    sweep's level in places: the gaps were wider than the outline closes (about 10 px at the
    analysed 256 px; here 36 and 44 px at 512, less the rim's blur), the face was taken for the
    screen and keyed clear (held-out: 0.19 mean alpha error). A wide region that gaps up to
    about 18 px wide part from the screen is the subject's (52 px here: clear, a limit)."""
    img, core, clear = _broken_rim_on_white(seed, 20.0, gap)
    alpha = key(img, "white").alpha
    assert (alpha[core] == 255).mean() >= 0.95
    assert (alpha[clear] <= 12).mean() >= 0.97


@pytest.mark.parametrize("seed", [0, 1])
def test_the_screen_inside_a_broken_rim_keys_out_on_white(seed):
    """Guard for the rule above: the sweep seen inside such a rim (a hoop, a frame: no lift, no
    tint) is at the plate's level, a hole in the subject, and keys out."""
    img, core, _ = _broken_rim_on_white(seed, 0.0, 44)
    rng = np.random.default_rng(seed + 7)
    sweep = np.repeat((236.0 + 8.0 * np.arange(512, dtype=np.float32) / 512)[:, None], 512, 1)
    plain = sweep[..., None] + rng.normal(0, 1.2, (512, 512, 3))
    img[core] = np.clip(np.round(plain[core]), 0, 255).astype(np.uint8)
    alpha = key(img, "white").alpha
    assert (alpha[core] <= 12).mean() >= 0.97


@pytest.mark.parametrize(
    ("seed", "size", "screen"), [(401, 512, "white"), (430, 768, "black"), (319, 512, "black")]
)
def test_a_contact_shadow_that_wide_gaps_cut_off_keys_out(seed, size, screen):
    """Guard for the rule above: the own benchmark's ball with strands standing in its soft
    contact shadow (``bench/synthetic.py``, three of its seeds 300-323 and 400-447): the gaps
    between the ball's outline and its strands cut off part of the shadow, 1.5-4 % of the frame,
    and it was made opaque (mean alpha error 0.023 -> 0.063, 0.020 -> 0.036, 0.008 -> 0.024). A
    region only wide gaps part from the screen is a hole where it is darker than the plate as a
    shadow is, or at the plate's level in 30 % of it (on black a shadow is barely darker)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from synthetic import make_sample

    sample = make_sample(seed, size, screen)
    alpha = key(sample.image, screen).alpha
    assert (alpha[sample.alpha == 0] > 12).mean() <= 0.01


def _sweep_rows(level, y0, y1, h=192):
    """:func:`neutral_screen`'s sweep without its shadow over rows ``y0..y1``, (y1 - y0, 1, 3)
    uint8."""
    yy = np.arange(y0, y1, dtype=np.float32)[:, None, None]
    return np.round(level * (1.0 - 0.04 * yy / h)).astype(np.uint8).repeat(3, 2)


def test_white_subject_on_white_is_a_documented_limit():
    """A white part of the subject exactly at the screen's level (its gradient too) that the
    subject encloses is a hole in it to the keyer. (A few levels off that level, it is opaque:
    the two tests below.)"""
    img, _ = neutral_screen(245)
    img[60:80, 80:100] = _sweep_rows(245, 60, 80)
    res = key(img, "white")
    assert res.alpha[64:76, 84:96].mean() <= 20


def test_a_white_label_a_few_levels_off_the_screen_stays_opaque():
    """The same white part 5 levels brighter than the screen behind it (a label on a blue box)
    was keyed clear: no part of it is at the plate's level, so it is the subject's."""
    img, _ = neutral_screen(245)
    img[60:80, 80:100] = _sweep_rows(245, 60, 80) + 5
    res = key(img, "white")
    assert (res.alpha[60:80, 80:100] == 255).all()


def _box(level, faces, grain, seed=0):
    """A box (three faces of the levels ``faces``, or RGB colours: top, front, side) on a neutral
    sweep of ``level`` with a soft contact shadow, drawn at 4x and reduced (anti-aliased
    edges), with Gaussian grain of ``grain`` levels. Returns the image, the faces' inside
    (eroded 4 px) and the clear background (8 px from the box)."""
    rng = np.random.default_rng(seed)
    h, w, s = 256, 256, 4
    yy = np.mgrid[0:h, 0:w][0].astype(np.float32)
    img = np.full((h, w, 3), level, np.float32) * (1.0 - 0.05 * yy / h)[..., None]
    sh = np.zeros((h, w), np.float32)
    cv2.ellipse(sh, (130, 206), (80, 10), 0, 0, 360, 1.0, -1)
    img *= (1.0 - 0.35 * cv2.GaussianBlur(sh, (0, 0), 6))[..., None]
    polys = [
        [(70, 70), (150, 70), (190, 45), (110, 45)],  # top
        [(70, 70), (150, 70), (150, 205), (70, 205)],  # front
        [(150, 70), (190, 45), (190, 180), (150, 205)],  # side
    ]
    big = cv2.resize(img, (w * s, h * s), interpolation=cv2.INTER_NEAREST)
    mask = np.zeros((h * s, w * s), np.uint8)
    for poly, lv in zip(polys, faces, strict=True):
        pts = (np.array(poly, np.float32) * s).astype(np.int32)
        cv2.fillPoly(big, [pts], lv if isinstance(lv, tuple) else (lv, lv, lv))
        cv2.fillPoly(mask, [pts], 255)
    img = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)
    box_m = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA) > 0
    img += rng.normal(0, grain, img.shape)
    inside = cv2.erode(box_m.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    clear = cv2.dilate(box_m.astype(np.uint8), np.ones((17, 17), np.uint8)) == 0
    return np.clip(np.round(img), 0, 255).astype(np.uint8), inside, clear


@pytest.mark.parametrize(("screen", "level", "sign"), [("white", 242, -1.0), ("black", 14, 1.0)])
def test_specks_on_a_neutral_screen_key_out(screen, level, sign):
    """Dust of 4-20 levels, 2-8 px across, on a white sweep (a black one): the outline, found
    down to 0.8 levels per px, takes each speck's rim for an edge; such small pieces near the
    screen's level that enclose no region of their own are the screen's, as before."""
    rng = np.random.default_rng(0)
    h = w = 512
    img, _ = neutral_screen(level, h, w, shadow=0.0)
    img = img.astype(np.float32)
    spots = np.zeros((h, w), np.float32)
    for _ in range(40):
        cx, cy, r = (int(v) for v in rng.integers((20, 20, 2), (w - 20, h - 20, 8)))
        if 50 < cx < 142 and 30 < cy < 160:  # (clear of the subject)
            continue
        cv2.circle(spots, (cx, cy), r, float(rng.uniform(4, 20)), -1)
    img += sign * cv2.GaussianBlur(spots, (0, 0), 0.7)[..., None]
    img = np.clip(np.round(img + rng.normal(0, 1.2, img.shape)), 0, 255).astype(np.uint8)
    alpha = key(img, screen).alpha
    assert (alpha[spots > 0] > 12).mean() <= 0.1


@pytest.mark.parametrize(
    ("screen", "level", "faces", "grain"),
    [
        ("white", 242, (252, 246, 218), 1.5),  # a white box: faces a few levels off the sweep
        ("white", 238, (228, 248, 218), 0.8),
        ("black", 14, (26, 21, 32), 0.5),  # a black box on black
        ("black", 10, (20, 28, 17), 1.0),
    ],
)
def test_a_box_near_the_screens_level_keeps_its_faces(screen, level, faces, grain):
    """A white box on a white sweep (a black one on black) whose faces are a few levels off
    the screen was keyed mostly clear: its outline, steps of 4-20 levels, was no edge to the
    keyer, the faces entered the plate and the plate followed them. The outline now counts down
    to 0.8 levels per px, its gaps are closed, and the faces it encloses are opaque."""
    img, inside, clear = _box(level, faces, grain)
    res = key(img, screen)
    assert (res.alpha[inside] == 255).mean() >= 0.98
    assert (res.alpha[clear] <= 12).mean() >= 0.97


@pytest.mark.parametrize(
    "faces",
    [
        ((12, 14, 24), (11, 13, 22), (9, 12, 19)),  # a navy box at the screen's brightness
        ((22, 15, 9), (19, 13, 8), (17, 12, 7)),  # a brown one
    ],
)
def test_a_dark_box_of_another_hue_keeps_its_faces_on_black(faces):
    """A navy (a brown) box on a black sweep, its faces within a few levels of the screen's
    brightness: the outline, found in brightness only, had gaps wider than it closes, the faces
    joined the screen and keyed clear. On a dark screen it is found in hue as well."""
    img, inside, clear = _box(14, faces, 0.5)
    res = key(img, "black")
    assert (res.alpha[inside] == 255).mean() >= 0.98
    assert (res.alpha[clear] <= 12).mean() >= 0.97


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_jpeg_chroma_blocks_on_black_stay_screen(seed):
    """A black sweep with blotches of colour cast (3 levels) and grain (3 levels), a navy box
    on it, saved as JPEG at quality 60: its chroma blocks step a few levels in hue at their
    edges, and taken for the outline they cut the sweep into regions that were kept opaque
    (91-96 % of it clear). The hue outline's threshold is the plane's gradient at its 90th
    percentile over the screen, which those blocks raise (the faces then key as without it)."""
    rng = np.random.default_rng(seed)
    img, _, clear = _box(14, ((12, 14, 24), (11, 13, 22), (9, 12, 19)), 3.0, seed)
    blotches = rng.normal(0, 3.0, (8, 8, 3)).astype(np.float32)
    blotches -= blotches.mean(-1, keepdims=True)
    img = img + cv2.resize(blotches, (256, 256), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img + rng.normal(0, 3.0, img.shape), 0, 255).astype(np.uint8)
    _, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 60])
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    assert (key(img, "black").alpha[clear] <= 12).mean() >= 0.98


# --------------------------------------------------------------------------------------------
# tiles and size limit


@pytest.mark.parametrize("kc", [None, "white"])
def test_tiled_result_matches_untiled(kc):
    img = green_screen(320, 320) if kc is None else neutral_screen(245, 320, 320)[0]
    whole = key(img, kc, tile=0)
    tiled = key(img, kc, tile=96)
    diff = np.abs(whole.alpha.astype(int) - tiled.alpha.astype(int))
    assert diff.mean() < 0.5 and (diff > 8).mean() < 0.002
    cdiff = np.abs(whole.rgba.astype(int) - tiled.rgba.astype(int))
    assert cdiff.mean() < 0.5


@pytest.mark.parametrize(
    ("screen", "level", "faces"), [("white", 242, (252, 246, 218)), ("black", 14, (26, 21, 32))]
)
def test_tiles_keep_a_neutral_screens_opaque_parts(screen, level, faces):
    """The opaque parts found on the reduced copy are mapped onto each tile (with its overlap)
    as onto the whole frame."""
    img, inside, clear = _box(level, faces, 1.0)
    whole = key(img, screen, tile=0).alpha
    tiled = key(img, screen, tile=96).alpha
    assert (whole[inside] == 255).mean() >= 0.98
    assert (tiled[inside] == 255).mean() >= 0.98
    assert (tiled[clear] <= 12).mean() >= 0.97


def test_size_limit_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"192x192 = 36,864 pixels, over the keyer's limit of 1,000 pixels"
    ):
        key(green_screen(), max_pixels=1000)
    with pytest.raises(ValueError, match="max_pixels"):
        key(green_screen(), max_pixels=0)
    with pytest.raises(ValueError, match="tile"):
        key(green_screen(), tile=-1)


def _strip_with_disc(h: int, w: int) -> np.ndarray:
    """Pure green with a red ellipse in the middle, a sixth of the width and a quarter of the
    height across its semi-axes."""
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 1] = 255
    axes = (max(1, w // 6), max(1, h // 4))
    cv2.ellipse(img, (w // 2, h // 2), axes, 0, 0, 360, (255, 0, 0), -1)
    return img


@pytest.mark.parametrize("h, w", [(8, 32767), (16, 40000), (40000, 3), (1, 200000)])
def test_thin_images_with_a_side_over_opencvs_remap_limit_key(h, w):
    """A strip of 40000 x 16 px (640 kilopixels) failed with OpenCV's assertion
    ``dst.cols < SHRT_MAX`` in ``cv2.remap``: an image under 64 px across is not halved for the
    band's colour maps, which were then too wide for it (through the key route: HTTP 500)."""
    img = _strip_with_disc(h, w)
    res = key(img, "green")
    red = (img[..., 0] == 255) & (img[..., 1] == 0)
    assert (res.alpha[red] == 255).mean() > 0.98
    assert (res.alpha[~red] == 0).mean() > 0.98


def test_the_numpy_lookup_for_wide_maps_reads_as_remap_does():
    from lib_tkg.keying import pixels

    rng = np.random.default_rng(3)
    arr = rng.uniform(0, 255, (7, 9, 4)).astype(np.float32)
    sx = rng.uniform(-2, 11, 500).astype(np.float32)
    sy = rng.uniform(-2, 9, 500).astype(np.float32)
    ref = cv2.remap(arr, sx[None], sy[None], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # (OpenCV's weights are in steps of 1/32)
    np.testing.assert_allclose(pixels._bilinear(arr, sx, sy), ref[0], atol=255 / 32)


@pytest.mark.parametrize("h, w", [(1000, 40000), (40000, 1000)])
def test_a_flat_screen_on_a_long_strip_is_detected(h, w):
    """Reduced to 256 px on its long side, a 40000 x 1000 strip was 6 px across: the disc in
    its middle reached the border band's texture windows, and the flat screen was refused as
    'textured in 40 % of its pixels'."""
    res = key(_strip_with_disc(h, w))
    assert res.key_color == (0, 255, 0)
    assert (res.alpha == 0).mean() > 0.85


def test_a_misspelt_option_names_itself_and_the_accepted_ones():
    with pytest.raises(
        TypeError, match=r"unknown keying option\(s\) tolerence; accepted: .*tolerance"
    ):
        key(green_screen(), tolerence=0.5)


@pytest.mark.parametrize("h, w", [(256, 256), (144, 256), (256, 40), (12, 30), (4, 4)])
def test_border_texture_is_computed_on_strips_with_the_full_images_values(h, w):
    from lib_tkg.keying.detect import sample, texture

    img = np.random.default_rng(h * w).uniform(0, 255, (h, w, 3)).astype(np.float32)
    b = max(1, round(0.04 * min(h, w)))
    full = texture.local_texture(img)
    band = sample.border_mask(h, w, b)
    np.testing.assert_allclose(
        texture.border_texture(img, b)[band], full[band], rtol=1e-4, atol=0.05
    )
    # (and the whole image's is the 5x5 standard deviation where no thin strand is beside)
    mean = cv2.blur(img, (5, 5))
    std = np.sqrt(np.maximum((cv2.blur(img * img, (5, 5)) - mean * mean).sum(axis=2), 0.0))
    assert (full <= std + 0.05).all() if min(h, w) >= 5 else not full.any()


@pytest.mark.parametrize("shade", [(14, 150, 112), (3, 127, 106)], ids=["43deg", "50deg"])
@pytest.mark.parametrize("seed", [0, 1])
def test_a_mottled_teal_green_screen_is_keyed_with_key_color_green(seed, shade):
    """A teal-green screen (#0e9a71, 43 degrees from green, or a bluish #037f6a, 50 degrees)
    mottled by a few degrees, keyed with ``key_color="green"``. Half the first one's border
    pixels lie past 45 degrees from green, so the screen of green's hue was not found (41 % of
    the border); the second one's dominant hue was past 45 degrees. Pure green was then keyed
    as given, leaving the screen opaque. The dominant hue is now sought within 60 degrees; the
    screen is the pixels around it, and it is keyed as auto would key it."""
    rng = np.random.default_rng(seed)
    h, w = 384, 256
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    mottle = cv2.resize(
        rng.random((6, 4, 2)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    img = np.float32(shade)[None, None] * (0.85 + 0.3 * mottle[..., :1])
    img[..., 2] += (mottle[..., 1] - 0.5) * 24  # (the hue wobbles by about 8 degrees)
    person = (np.abs(xx - 128) < 55) & (yy > 150) | (np.hypot(xx - 128, yy - 110) < 45)
    img[person] = (40, 60, 200)
    img = np.clip(np.round(img + rng.normal(0, 1.0, img.shape)), 0, 255).astype(np.uint8)
    got = key(img, "green")
    assert not got.notes
    a = got.alpha.astype(np.float32) / 255
    screen = a[~cv2.dilate(person.view(np.uint8), np.ones((9, 9), np.uint8)).view(bool)]
    assert screen.mean() < 0.005 and np.quantile(screen, 0.995) < 0.05
    assert a[cv2.erode(person.view(np.uint8), np.ones((9, 9), np.uint8)).view(bool)].min() == 1.0


def _tulle_panel(seed: int, h: int = 512, w: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """A white tulle panel hanging from a rod in the middle of a screen mottled in brightness
    and saturation (as SD's): faint diagonal folds (alpha 0.05-0.22), a fine mesh and rows of
    denser dots; returns the image and the panel's alpha."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.float32((80, 165, 62))
    grey = base.mean()
    sat = 1.0 + smooth_field(rng, h, w, 40, 0.06)
    img = (grey + (base - grey) * sat) * (1.0 + smooth_field(rng, h, w, 40, 0.06))
    panel = (xx > 130) & (xx < 380) & (yy > 70) & (yy < 420 + 15 * np.sin(xx / 20))
    xi, yi = xx.astype(int), yy.astype(int)
    folds = 0.12 + 0.07 * np.sin((xx - 2 * yy) / 14.0) + 0.03 * ((xi + yi) % 3 == 0)
    dots = ((xi % 9 < 3) & ((yi + xi // 3) % 12 < 2)) * 0.4
    veil = panel * np.clip(folds + dots, 0, 1).astype(np.float32)
    img = veil[..., None] * 240 + (1 - veil[..., None]) * img
    img[60:72, 120:390] = (120, 80, 50)  # the rod
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), veil


def test_a_tulle_panels_faint_folds_are_not_taken_into_the_plate():
    """The faintest folds of a white tulle (alpha about 0.06, 7 % paler than the screen) pass
    as the screen's mottling, and the plate made through them keyed the whole panel fainter:
    0.08-0.10 where it is 0.15 on half of these seeds (mean error 0.053). Paler candidates
    beside the panel's denser, no darker parts (:func:`candidates.no_veils`) and enclosed
    regions paler and no darker than the plate are left out of it."""
    errors = []
    for seed in range(12):
        img, veil = _tulle_panel(seed)
        res = key(img)
        inside = cv2.erode(veil.astype(bool).view(np.uint8), np.ones((9, 9), np.uint8)) > 0
        got = res.alpha[inside].astype(np.float32) / 255
        errors.append(abs(float(got.mean()) - float(veil[inside].mean())))
        assert res.alpha[:40].max() == 0  # the screen around stays clear
    assert float(np.mean(errors)) <= 0.04


@pytest.mark.parametrize("color", [(177, 200, 134), (157, 171, 130)])
def test_a_pale_or_greyish_yellow_green_screen_is_keyed(color):
    """Pale and greyish yellow-green screens (hue 80-81 degrees, HSV saturation 0.33 and 0.24;
    a held-out set's) are too dull for the first look and were outside the dull look's greens
    (from 85 degrees): left opaque with 'too dull to be a screen'."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(green_screen(color=color))
    assert res.keyed and (res.alpha[70:122, 70:122] == 255).all()
    assert res.alpha[:20].max() <= 2 and res.alpha[-20:].max() <= 2


@pytest.mark.parametrize("color", [(160, 165, 120), (150, 145, 100)])
def test_a_smooth_khaki_border_is_not_taken_for_a_screen(color):
    """Guard for the test above: khaki and olive drab (hue 57-67 degrees), as dull, are walls
    and uniforms, not screens."""
    with pytest.warns(NoKeyColorWarning):
        res = key(green_screen(color=color))
    assert not res.keyed and (res.alpha == 255).all()


def grainy_screen(seed: int, grain: float, h: int = 576, w: int = 768, color=(90, 185, 80)):
    """A vignetted screen (green unless ``color``) with heavy grain a few px across (noise
    blurred 1.2 px, ``grain`` levels of standard deviation in green, a third of that in red and
    blue), a warm disc in the middle; (image, disc mask)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.25 * ((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2)[..., None]
    noise = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.2)
    noise = noise[..., None] / noise.std() * np.float32((grain / 3, grain, grain / 3))
    img = np.float32(color)[None, None] * light + noise
    disc = np.hypot(xx - w / 2, yy - h / 2) < h / 4
    img[disc] = (200, 120, 70)
    img = np.clip(np.round(img + rng.normal(0, 1.0, img.shape)), 0, 255).astype(np.uint8)
    return img, disc


def _keys_clear_round_an_opaque_disc(img, disc, band: int, most: float) -> None:
    """``img`` is found to be a screen and keyed: its top and left ``band`` px clear to a mean
    alpha under ``most`` (levels), the ``disc`` (bool) opaque but for its 2 px rim."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    assert res.keyed and res.alpha[:band].mean() < most and res.alpha[:, :band].mean() < most
    inner = cv2.erode(disc.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert (res.alpha[inner] == 255).all()


@pytest.mark.parametrize(
    "seed, grain, h, w", [(0, 13.0, 576, 768), (1, 14.0, 1024, 768), (2, 15.0, 576, 768)]
)
def test_a_screen_with_heavy_grain_all_over_is_keyed(seed, grain, h, w):
    """Grain a few px across, 13-15 levels in green, survives the detection's reduction: four
    held-out screens so grainy (texture over the limit on 37-90 % of their border) were refused
    as textured, SAD 299.0, 284.2, 275.5 and 179.6 (3.3, 16.9, 9.2 and 4.6 once found). Their
    pattern is no more than their grain and their texture alike all round, so the texture tests
    read a copy smoothed over 1 px. A photo textured in patches stays refused
    (test_a_green_tinted_photo_textured_in_part_is_not_taken_for_a_screen: its texture's 90th
    percentile 7 times its 25th)."""
    _keys_clear_round_an_opaque_disc(*grainy_screen(seed, grain, h, w), 60, 3.0)


@pytest.mark.parametrize("seed, grain", [(0, 13.0), (1, 14.0), (2, 15.0)])
def test_a_grainy_screen_with_hair_off_the_frame_is_keyed(seed, grain):
    """Guard for grainy screens' evenness: 20 dark strands from the subject out past the top and
    the sides lift the 90th percentile of the border's texture to 1.85-2.0 times its 25th
    (1.64-1.80 without them), as much as a lawn lit in patches has (the 153rd held-out set's
    two, 1.9 and 2.1, keyed: a bound of 1.8 that refused them refused this screen too)."""
    img, disc = grainy_screen(seed, grain)
    rng = np.random.default_rng(seed + 100)
    h, w = img.shape[:2]
    strands = np.zeros((h, w), np.uint8)
    for _ in range(20):
        x0, y0 = w / 2 + rng.normal(0, 40), h / 2 - h / 5
        angle, length = rng.uniform(-np.pi, 0), rng.uniform(0.5, 1.2) * max(h, w)
        ends = [(x0, y0), (x0 + length * np.cos(angle), y0 + length * np.sin(angle))]
        cv2.line(strands, *[(int(x * 16), int(y * 16)) for x, y in ends], 255, 1, cv2.LINE_AA, 4)
    a = strands.astype(np.float32)[..., None] / 255 * 0.8
    img = np.clip(np.round(a * np.float32((60, 40, 30)) + (1 - a) * img), 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    clear = cv2.dilate(strands, np.ones((9, 9), np.uint8)) == 0
    assert res.keyed and res.alpha[clear & ~disc].mean() < 3.0
    inner = cv2.erode(disc.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert (res.alpha[inner & clear] == 255).all()


@pytest.mark.parametrize(
    "seed, grain, color",
    [(0, 8.0, (20, 85, 30)), (1, 10.0, (30, 80, 20)), (2, 10.0, (20, 85, 30))],
)
def test_grain_on_a_dim_screen_is_not_taken_for_folds(seed, grain, color):
    """On a dim screen (green about 80 levels) grain of 8-10 levels swings its brightness by
    more than a fifth, round the whole frame: the folds test refused such screens as draped
    fabric (or the texture tests as textured). Where the border is grain, folds are counted on
    the copy smoothed over 1 px; draped fabric keeps its folds there
    (test_draped_green_fabric_is_not_taken_for_a_screen)."""
    _keys_clear_round_an_opaque_disc(*grainy_screen(seed, grain, color=color), 60, 3.0)


def noisy_screen(seed: int, sigma: float, color, h: int = 288, w: int = 512):
    """A vignetted screen of ``color`` with pixel noise of ``sigma`` levels per channel (no
    blur), a warm disc in the middle; (image, disc mask)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.3 * ((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2)[..., None]
    img = np.float32(color)[None, None] * light + rng.normal(0, sigma, (h, w, 3))
    disc = np.hypot(xx - w / 2, yy - h / 2) < h / 4
    img[disc] = (200, 120, 70)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), disc


@pytest.mark.parametrize(
    "seed, sigma, color",
    [(0, 16.0, (140, 180, 115)), (1, 20.0, (70, 130, 75)), (0, 12.0, (25, 85, 20))],
)
def test_a_screen_with_strong_pixel_noise_is_keyed(seed, sigma, color):
    """Pixel noise of 12-20 levels per channel on a 512 px screen is still 6-10 levels at the
    detection's 256 px, over the 6-level limit of a smooth pixel's pattern: four held-out
    screens so noisy were refused as textured (SAD 245.8, 181.4, 122.4 and 103.2; 6.7, 14.6,
    53.1 and 2.7 once found). Where the border is grain, that limit reads the copy smoothed over
    1 px too."""
    _keys_clear_round_an_opaque_disc(*noisy_screen(seed, sigma, color), 40, 5.0)


@pytest.mark.parametrize(
    "seed, sigma, color",
    [(0, 12.0, (20, 60, 15)), (1, 16.0, (15, 50, 25)), (2, 20.0, (25, 70, 30))],
)
def test_a_dim_screen_with_pixel_noise_over_a_tenth_of_its_brightness_is_keyed(seed, sigma, color):
    """On a dim screen (green 50-70 levels) pixel noise of 12-20 levels is more than 0.08 of its
    brightness, as the benchmark's procedural foliage's grain is; but it is noise, white at the
    detection's 256 px: it halves in a copy of half the size (about 2 times; the foliage 1.3-1.5).
    A held-out dim screen so noisy was refused as textured (SAD 99.8; 9.4 once found). Where the
    noise is a third of the screen's colour difference some of it keys as speckle (a limit)."""
    img, disc = noisy_screen(seed, sigma, color)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoKeyColorWarning)
        res = key(img)
    inner = cv2.erode(disc.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    screen = cv2.dilate(disc.astype(np.uint8), np.ones((15, 15), np.uint8)) == 0
    assert res.keyed and (res.alpha[inner] == 255).all()
    assert res.alpha[screen].mean() < 25.0 and (res.alpha[screen] < 13).mean() > 0.75


@pytest.mark.parametrize("seed", [1, 11, 14])
def test_procedural_foliage_is_not_taken_for_a_grainy_screen(seed):
    """Guard for grainy screens: the own benchmark's procedural foliage (greens blended by noise
    at every scale, ``bench/synthetic.py``) has as little pattern and coarse structure beyond its
    grain as a grainy screen, and texture alike all round, but its grain is 0.09-0.17 of its
    brightness, a screen's under 0.08 (these three of its 32 at 512 and 768 px were keyed 100 %
    transparent without that bound)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from synthetic import make_scene

    img = make_scene(seed, 768, "foliage")
    with pytest.warns(NoKeyColorWarning):
        res = key(img)
    assert not res.keyed and (res.alpha == 255).all()


def grey_box_on_white(seed: int, face: float, h: int = 576, w: int = 768):
    """A flat light grey box ``face`` levels bright on a white sweep (236 at the top, 228 at the
    bottom) standing in its own soft contact shadow, which darkens the sweep right under its
    bottom edge to about the box's level; (image, box mask)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sweep = 236.0 - 8.0 * (yy / h) - 3.0 * ((xx / w - 0.5) ** 2)
    y0, y1, x0, x1 = int(h * 0.3), int(h * 0.7), int(w * 0.3), int(w * 0.7)
    shadow = np.zeros((h, w), np.float32)
    cv2.ellipse(shadow, ((x0 + x1) // 2, y1 + 6), ((x1 - x0) // 2 + 30, 22), 0, 0, 360, 1.0, -1)
    img = sweep * (1.0 - 0.35 * cv2.GaussianBlur(shadow, (0, 0), 9.0))
    box = np.zeros((h, w), bool)
    box[y0:y1, x0:x1] = True
    img[box] = face
    img = np.repeat(img[..., None], 3, axis=2) + rng.normal(0, 1.2, (h, w, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8), box


@pytest.mark.parametrize("seed, face", [(0, 220.0), (1, 224.0), (2, 226.0)])
def test_a_light_grey_box_in_its_contact_shadow_on_white_stays_opaque(seed, face):
    """A product 8-14 levels under a white sweep whose outline its contact shadow breaks (the
    shadow darkens the sweep under its bottom edge to its own level): enclosed, but the plate
    across it, dragged down by that shadow, reached its level and it was keyed clear as a hole
    in the subject (held-out: a tiered cake 0.276 mean alpha error, a mug 0.177, a bowl 0.108;
    0.013, 0.014 and 0.019 now). A wide region is a hole only where part of it is at the lit
    screen's level too. Its shadow still keys out (but for its darkest strip right under the
    box's edge, kept before too)."""
    img, box = grey_box_on_white(seed, face)
    res = key(img, "white")
    inner = cv2.erode(box.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert (res.alpha[inner] == 255).all()
    rows, cols = np.nonzero(box)
    below = res.alpha[rows.max() + 22 : rows.max() + 40, cols.min() : cols.max()]
    assert (below < 13).mean() > 0.99
