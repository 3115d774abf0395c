"""Wide soft regions mixing one colour opposite the screen's with it key at their alpha; regions
that are no such mix keep the matte's; thin and scattered mixes key at the share of the
farthest colour on their line nearby (:mod:`lib_tkg.keying.mix_lines`)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lib_tkg.keying import key_matte, matte
from lib_tkg.keying.mix_lines import Maps, lower_on_lines, lower_to_far_ends
from lib_tkg.keying.resolution import half

GREEN = np.array((40, 190, 60), np.float32)
#: the green screen's (2, 3) basis, as the keyer analyses it
M = matte.basis((40, 190, 60))


def _ramp(width: int, h: int = 160, w: int = 320) -> np.ndarray:
    """Alpha: clear on the left, a linear ramp ``width`` px wide, then opaque (a subject's spin
    blur)."""
    a = np.zeros((h, w), np.float32)
    start = 40
    a[16:-16, start : start + width] = np.linspace(0, 1, width + 2, dtype=np.float32)[1:-1]
    a[16:-16, start + width :] = 1.0
    return a


def _composite(a: np.ndarray, fg, seed: int = 0, noise: float = 1.0) -> np.ndarray:
    fg = np.broadcast_to(np.asarray(fg, np.float32), (*a.shape, 3))
    img = a[..., None] * fg + (1 - a[..., None]) * GREEN
    img = img + np.random.default_rng(seed).normal(0, noise, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("fg", [(200, 30, 40), (60, 60, 200), (190, 40, 180)])
def test_a_wide_spin_blur_opposite_the_screen_keys_at_its_alpha(fg):
    """A red, blue or magenta subject fading into a green screen over 160 px (a twirling skirt's
    spin blur): the colour difference of the mix is zero from a third of the way in, and the
    core beside most of the ramp is itself a mix, so the ramp keyed nearly opaque (about
    +0.3 on average over it); its colours lie on the line from the screen to the subject's."""
    a = _ramp(160)
    m = key_matte(_composite(a, fg)).astype(np.float64) / 255
    soft = (a > 0.05) & (a < 0.95)
    assert abs((m - a)[soft].mean()) < 0.05
    assert np.abs(m - a)[soft].mean() < 0.06
    assert (m[24:-24, 210:310] == 1).all()  # the opaque part stays opaque


def _maps(img: np.ndarray, a0: np.ndarray):
    """The keyer's inputs to :func:`lower_on_lines` for a flat green plate: the matte ``a0``,
    the image and plate and their quarter-resolution copies."""
    f = img.astype(np.float32)
    plate = np.broadcast_to(GREEN, f.shape).copy()
    q = half(half(f)[0])[0]
    return a0.copy(), f, plate, q, np.broadcast_to(GREEN, q.shape).copy()


def _lowered(fg, a: np.ndarray, seed: int = 0) -> tuple[bool, np.ndarray]:
    """Run :func:`lower_on_lines` on a composite whose first matte called every pixel of alpha
    over 0.3 opaque (as the colour difference does for colours opposite the screen)."""
    img = _composite(a, fg, seed)
    alpha, f, plate, q, plate_q = _maps(img, (a > 0.3).astype(np.float32))
    found = lower_on_lines(alpha, Maps(f, plate, q, plate_q), M, 0.1)
    return found, alpha


def test_a_red_ramp_is_lowered_to_its_projection():
    a = _ramp(160)
    found, alpha = _lowered((200, 30, 40), a)
    assert found
    ramp = (a > 0.35) & (a < 0.9)
    assert np.abs(alpha - a)[ramp].mean() < 0.03


@pytest.mark.parametrize(
    "fg, why",
    [
        ((150, 230, 40), "a lime: the screen's side, keyed partial already"),
        ((250, 240, 235), "a warm white: lighter than the plate, not a colour"),
    ],
)
def test_a_ramp_toward_no_opposite_colour_is_left(fg, why):
    a = _ramp(160)
    found, alpha = _lowered(fg, a)
    assert not found, why
    assert (alpha == (a > 0.3)).all()


def test_a_finely_textured_subject_is_left():
    """A textured red subject (print, fabric: light and dark a few px across) has sharp changes
    inside: no region wide enough to judge."""
    a = _ramp(160)
    tex = cv2.GaussianBlur(np.random.default_rng(3).normal(0, 1, a.shape), (0, 0), 2.0)
    tex = (tex / tex.std()).astype(np.float32)[..., None]
    fg = np.array((200, 30, 40), np.float32) * (1.0 + 0.25 * tex)
    found, alpha = _lowered(np.clip(fg, 0, 255), a)
    assert not found
    assert (alpha == (a > 0.3)).all()


def test_a_subject_of_changing_colour_off_any_one_line_is_left():
    """A subject whose colour changes smoothly from red to blue down the frame: no edge inside,
    but its colours lie on many lines from the plate, not one."""
    a = _ramp(160)
    k = np.linspace(0, 1, a.shape[0], dtype=np.float32)[:, None, None]
    fg = (1 - k) * np.array((200, 30, 40), np.float32) + k * np.array((60, 60, 200), np.float32)
    found, alpha = _lowered(np.broadcast_to(fg, (*a.shape, 3)), a)
    assert not found
    assert (alpha == (a > 0.3)).all()


def test_an_even_translucent_region_is_left():
    """A red film of even density over the screen has no spread along its line (its alpha is
    not known from its colours)."""
    a = np.zeros((160, 320), np.float32)
    a[16:-16, 40:280] = 0.5
    found, alpha = _lowered((200, 30, 40), a)
    assert not found
    assert (alpha == (a > 0.3)).all()


# --------------------------------------------------------------------------------------------
# thin and scattered mixes: the farthest colour on their line nearby


def _scattered(kind: str, seed: int, colours) -> tuple[np.ndarray, np.ndarray]:
    """A composite over the green screen and its alpha: 24 thin blurred streaks from the middle
    (a firework, spinning sparks) or 14 blurred discs (a cloud of powder), alternating between
    ``colours``, each over those before it."""
    rng = np.random.default_rng(seed)
    h = w = 256
    premul = np.zeros((h, w, 3), np.float32)
    a = np.zeros((h, w), np.float32)
    for k in range(24 if kind == "streaks" else 14):
        m = np.zeros((h, w), np.float32)
        if kind == "streaks":
            ang, r = rng.uniform(0, np.pi), rng.uniform(30, 90)
            sx, sy = (1 if k % 2 else -1), (1 if k % 3 else -1)
            end = (int(128 + sx * r * np.cos(ang)), int(128 + sy * r * np.sin(ang)))
            cv2.line(m, (128, 128), end, 1.0, 3)
            m = cv2.GaussianBlur(m, (0, 0), 2.0)
        else:
            centre = (int(rng.uniform(70, 186)), int(rng.uniform(70, 186)))
            cv2.circle(m, centre, int(rng.uniform(6, 16)), 1.0, -1)
            m = np.clip(cv2.GaussianBlur(m, (0, 0), 10.0) * 1.6, 0, 1)
        col = np.array(colours[k % len(colours)], np.float32)
        premul = premul * (1 - m[..., None]) + col * m[..., None]
        a = a + m * (1 - a)
    img = premul + (1 - a[..., None]) * GREEN
    img = img + np.random.default_rng(seed + 1).normal(0, 1.0, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), a


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "kind, colours, most",
    [
        ("streaks", [(200, 30, 40), (190, 40, 180)], 0.12),
        ("discs", [(200, 30, 40), (230, 90, 170)], 0.1),
    ],
    ids=["red-and-magenta-streaks", "red-and-pink-powder"],
)
def test_thin_or_scattered_mixes_of_two_colours_key_near_their_alpha(seed, kind, colours, most):
    """Streaks 3 px wide and a powder cloud of two colours opposite the screen: no wide region
    on one line, so the colour difference's excess stood (soft-band bias +0.14 to +0.16 over
    the streaks, +0.13 to +0.19 over the cloud); each pixel's line reaches the streak's or the
    cloud's own colour within a few px."""
    img, a = _scattered(kind, seed, colours)
    m = key_matte(img).astype(np.float64) / 255
    soft = (a > 0.05) & (a < 0.95)
    assert (m - a)[soft].mean() < most


def _far_lowered(fg, a: np.ndarray, first: np.ndarray) -> tuple[bool, np.ndarray]:
    """Run :func:`lower_to_far_ends` on a composite of ``fg`` (a colour or an (H, W, 3) image)
    with alpha ``a`` over the flat plate, from the first matte ``first``."""
    img = _composite(a, fg)
    alpha, f, plate, q, plate_q = _maps(img, first)
    found = lower_to_far_ends(alpha, Maps(f, plate, q, plate_q), M, 0.1)
    return found, alpha


@pytest.mark.parametrize(
    "fg, why",
    [
        ((150, 230, 40), "a lime: the screen's side, keyed partial already"),
        ((250, 240, 235), "a warm white: lighter than the plate, not a colour"),
        ((240, 200, 220), "a pale lilac: mostly lighter than the plate (a highlight)"),
    ],
)
def test_scattered_mixes_toward_no_opposite_colour_are_left(fg, why):
    _, a = _scattered("discs", 0, [(0, 0, 0)])
    found, alpha = _far_lowered(fg, a, (a > 0.3).astype(np.float32))
    assert not found, why
    assert (alpha == (a > 0.3)).all()


def test_an_opaque_edge_lit_by_the_screen_stays_opaque():
    """A red square whose outer 6 px carry 12 % of the screen's light (spill): the same colours
    as a mix at 0.88 of the red, but under the knee's top they stay opaque."""
    h = w = 160
    a = np.zeros((h, w), np.float32)
    a[40:120, 40:120] = 1.0
    k = np.zeros((h, w), np.float32)
    k[40:120, 40:120] = 1.0
    k[46:114, 46:114] = 0.0
    red = np.array((200, 30, 40), np.float32)
    fg = np.broadcast_to(red, (h, w, 3)) * (1 - 0.12 * k[..., None]) + 0.12 * k[..., None] * GREEN
    _, alpha = _far_lowered(fg, a, a.copy())
    assert (alpha[40:120, 40:120] == 1.0).all()
