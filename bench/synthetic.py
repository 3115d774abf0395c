"""Seeded synthetic chroma-key composites with exact ground truth.

``make_sample(seed, size, key)`` builds a foreground (soft blobs with texture, hair-like thin
strands, semi-transparent veils, a motion-blurred object, small particles), composites it over a
coloured screen with gradients, a vignette, a soft cast shadow, slight hue drift, additive spill
near the subject's edges and sensor noise, and returns the 8-bit image together with the exact
alpha and the clean (spill-free) foreground colour used to make it.

The image is exactly ``alpha * fg_spill + (1 - alpha) * screen + noise`` before 8-bit rounding,
where ``fg_spill`` is ``fg`` plus screen light near the edges. Ground truth is ``alpha`` and
``fg``; a keyer that removes the spill and the screen recovers the composite ``alpha * fg + (1 -
alpha) * new_background``.

Only numpy and OpenCV are used, so the benchmark runs wherever ``lib_tkg`` does.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import cv2
import numpy as np

#: Parameter ranges. "hard" has noisier, less even, more saturated-or-washed-out screens, deeper
#: shadows, more spill and motion blur, foreground hues closer to the key, and JPEG artefacts.
PROFILES: dict[str, dict[str, tuple[float, float]]] = {
    "default": {
        "hue_gap": (75, 75),
        "screen_sat": (0.55, 0.95),
        "screen_val": (0.6, 0.95),
        "gradient": (0.05, 0.35),
        "vignette": (0.0, 0.4),
        "shadow": (0.15, 0.5),
        "drift": (0.03, 0.03),
        "blur_len": (0.02, 0.06),
        "spill": (0.04, 0.25),
        "spill_width": (0.004, 0.02),
        "noise": (0.3, 4.0),
        "jpeg": (0.0, 0.0),
        "veils": (1, 3),
    },
    "hard": {
        "hue_gap": (60, 60),
        "screen_sat": (0.4, 1.0),
        "screen_val": (0.5, 1.0),
        "gradient": (0.1, 0.5),
        "vignette": (0.2, 0.5),
        "shadow": (0.3, 0.6),
        "drift": (0.05, 0.05),
        "blur_len": (0.04, 0.12),
        "spill": (0.1, 0.4),
        "spill_width": (0.01, 0.04),
        "noise": (2.0, 8.0),
        "jpeg": (0.5, 0.5),  # probability of a JPEG round trip (quality 80..95)
        "veils": (1, 4),
    },
}

# Further classes (same generator, other ranges): "sd" mottled SD-like screens, "clean" edges
# without spill, "spilled" edges with strong spill, "keyparts" subjects with key-coloured parts
# (brighter and more saturated than the screen, or of another shade of its hue), "blurred" a
# motion-blurred or defocused subject, dark in half the samples (its wide soft outline has the
# screen's chromaticity, like a soft shadow), "outlined" a subject drawn with an outline as
# cartoons, sprites and die-cut stickers are (black, dark brown or coloured, 1-4 px, or a white
# border 3-8 px).
PROFILES["sd"] = {**PROFILES["default"], "mottle": (0.04, 0.1), "noise": (0.5, 3.0)}
PROFILES["clean"] = {**PROFILES["default"], "spill": (0.0, 0.0)}
PROFILES["spilled"] = {**PROFILES["default"], "spill": (0.3, 0.5), "spill_width": (0.01, 0.03)}
PROFILES["keyparts"] = {
    **PROFILES["default"],
    "screen_sat": (0.55, 0.8),
    "screen_val": (0.55, 0.8),
    "key_parts": (1, 4),
}
PROFILES["blurred"] = {**PROFILES["default"], "body_blur": (0.01, 0.04), "dark_body": (0.5, 0.5)}
PROFILES["outlined"] = {**PROFILES["default"], "outline": (1.0, 4.0)}

#: Nominal screen colours (hue in degrees) the generator jitters around.
KEY_HUES: dict[str, float] = {"green": 120.0, "blue": 225.0, "magenta": 300.0, "cyan": 185.0}
#: Neutral screens (grey level 0..1): soft floor shadows, no hue, no spill.
NEUTRAL_LEVELS: dict[str, float] = {"white": 0.95, "black": 0.05}


@dataclass(frozen=True)
class Sample:
    """One synthetic composite with ground truth (float arrays are in 0..1)."""

    image: np.ndarray  # (H, W, 3) uint8, what a keyer sees
    alpha: np.ndarray  # (H, W) float32 ground-truth alpha
    fg: np.ndarray  # (H, W, 3) float32 clean foreground colour (0 where alpha == 0)
    screen: np.ndarray  # (H, W, 3) float32 noise-free background plate
    key_rgb: tuple[int, int, int]  # the screen's base colour in 0..255
    key: str
    seed: int


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb((h % 360.0) / 360.0, s, v), np.float32)


def _hue_dist(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def _fg_colour(rng: np.random.Generator, key_hue: float, gap: float = 75.0) -> np.ndarray:
    """A foreground colour that a keyer can in principle separate from the screen."""
    kind = rng.random()
    if kind < 0.25:  # neutral: skin-less greys, blacks, whites
        v = rng.uniform(0.03, 0.97)
        return _hsv(rng.uniform(0, 360), rng.uniform(0.0, 0.12), v)
    while True:
        h = rng.uniform(0, 360)
        s = rng.uniform(0.15, 0.95)
        if _hue_dist(h, key_hue) >= gap or s < 0.2:
            return _hsv(h, s, rng.uniform(0.15, 1.0))


def _fg_colour_neutral(rng: np.random.Generator, level: float) -> np.ndarray:
    """A foreground colour clearly apart from a neutral screen of grey ``level``."""
    while True:
        h, sat, v = rng.uniform(0, 360), rng.uniform(0.0, 0.95), rng.uniform(0.05, 1.0)
        c = _hsv(h, sat, v)
        if np.linalg.norm(c - level) * 255 >= 110:
            return c


def _smooth_noise(
    rng: np.random.Generator, h: int, w: int, scale: float, ch: int = 1
) -> np.ndarray:
    """Band-limited noise in about [-1, 1] with features of roughly ``scale`` pixels."""
    sh, sw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
    small = rng.standard_normal((sh, sw, ch)).astype(np.float32)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    if big.ndim == 2:
        big = big[..., None]
    return np.clip(big * 0.6, -1.0, 1.0)


def _blob_mask(rng: np.random.Generator, h: int, w: int, bottom: bool) -> np.ndarray:
    """A character-like union of ellipses, anti-aliased, 0..1."""
    canvas = np.zeros((h, w), np.uint8)
    cx, cy = w * rng.uniform(0.38, 0.62), h * rng.uniform(0.42, 0.58)
    n = int(rng.integers(2, 6))
    s = min(h, w)
    for i in range(n):
        ax = s * rng.uniform(0.06, 0.2)
        ay = s * rng.uniform(0.06, 0.22)
        ox = cx + s * rng.uniform(-0.15, 0.15) * (i > 0)
        oy = cy + s * rng.uniform(-0.18, 0.18) * (i > 0)
        cv2.ellipse(
            canvas,
            (int(ox * 16), int(oy * 16)),
            (int(ax * 16), int(ay * 16)),
            float(rng.uniform(0, 180)),
            0,
            360,
            255,
            -1,
            cv2.LINE_AA,
            4,
        )
    if bottom:  # a torso that leaves the frame at the bottom, like a portrait
        x0 = int(cx - s * rng.uniform(0.12, 0.25))
        x1 = int(cx + s * rng.uniform(0.12, 0.25))
        pts = np.array([[x0, int(cy)], [x1, int(cy)], [x1 + s // 10, h + 5], [x0 - s // 10, h + 5]])
        cv2.fillPoly(canvas, [pts.astype(np.int32)], 255, cv2.LINE_AA)
    # a few polygonal bits (hands, props) with straight edges and corners
    for _ in range(int(rng.integers(0, 3))):
        k = int(rng.integers(3, 7))
        px = cx + s * rng.uniform(-0.3, 0.3)
        py = cy + s * rng.uniform(-0.3, 0.3)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = s * rng.uniform(0.03, 0.1, k)
        pts = np.stack([px + rad * np.cos(ang), py + rad * np.sin(ang)], 1)
        cv2.fillPoly(canvas, [(pts * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    m = canvas.astype(np.float32) / 255.0
    soft = rng.uniform(0.3, 1.6)
    return cv2.GaussianBlur(m, (0, 0), soft)


def _hair(rng: np.random.Generator, h: int, w: int, body: np.ndarray) -> np.ndarray:
    """Thin anti-aliased strands growing out of the body's upper boundary."""
    canvas = np.zeros((h, w), np.uint8)
    edge = (body > 0.5).astype(np.uint8)
    ys, xs = np.nonzero(edge)
    if ys.size == 0:
        return canvas.astype(np.float32)
    top = ys < np.percentile(ys, 35)
    ys, xs = ys[top], xs[top]
    s = min(h, w)
    n = int(rng.integers(25, 120))
    for _ in range(n):
        j = int(rng.integers(0, ys.size))
        x0, y0 = float(xs[j]), float(ys[j])
        length = s * rng.uniform(0.05, 0.22)
        ang = rng.uniform(-np.pi * 0.95, -np.pi * 0.05)  # mostly upwards
        curl = rng.uniform(-2.5, 2.5)
        t = np.linspace(0, 1, 24)
        a = ang + curl * t * t
        dx = np.cumsum(np.cos(a)) * length / t.size
        dy = np.cumsum(np.sin(a)) * length / t.size
        pts = np.stack([x0 + dx, y0 + dy], 1)
        width = 1 if rng.random() < 0.8 else 2
        val = int(rng.uniform(140, 256))
        cv2.polylines(canvas, [(pts * 16).astype(np.int32)], False, val, width, cv2.LINE_AA, 4)
    return canvas.astype(np.float32) / 255.0


def _motion_blur(img: np.ndarray, length: float, angle: float) -> np.ndarray:
    k = int(max(3, round(length))) | 1
    kernel = np.zeros((k, k), np.float32)
    c = k // 2
    dx, dy = math.cos(angle), math.sin(angle)
    cv2.line(
        kernel,
        (int((c - dx * c) * 16), int((c - dy * c) * 16)),
        (int((c + dx * c) * 16), int((c + dy * c) * 16)),
        1.0,
        1,
        cv2.LINE_AA,
        4,
    )
    kernel /= max(kernel.sum(), 1e-6)
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_CONSTANT)


def _body_blur(img: np.ndarray, length: float, angle: float, defocus: bool) -> np.ndarray:
    """Motion blur of ``length`` px along ``angle``, or a defocus blur about as wide."""
    if defocus:
        return cv2.GaussianBlur(img, (0, 0), length / 4).reshape(img.shape)
    return _motion_blur(img, length, angle).reshape(img.shape)


def _screen(
    rng: np.random.Generator, h: int, w: int, key_hue: float, body: np.ndarray, pr: dict
) -> tuple[np.ndarray, tuple[int, int, int]]:
    hue = key_hue + rng.uniform(-10, 10)
    base = _hsv(hue, rng.uniform(*pr["screen_sat"]), rng.uniform(*pr["screen_val"]))
    key_rgb = tuple(int(v) for v in np.rint(base * 255))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy /= h
    xx /= w
    ang = rng.uniform(0, 2 * np.pi)
    grad = (xx - 0.5) * math.cos(ang) + (yy - 0.5) * math.sin(ang)
    light = 1.0 + rng.uniform(*pr["gradient"]) * grad
    r2 = ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 2.0
    light *= 1.0 - rng.uniform(*pr["vignette"]) * r2
    # soft cast shadow: the body's silhouette shifted, squashed and blurred
    s = min(h, w)
    shift = np.float32([[1, rng.uniform(-0.6, 0.6), s * rng.uniform(-0.1, 0.1)], [0, 1, s * 0.08]])
    shadow = cv2.warpAffine(body, shift, (w, h))
    shadow = cv2.GaussianBlur(shadow, (0, 0), s * rng.uniform(0.02, 0.06))
    light *= 1.0 - rng.uniform(*pr["shadow"]) * shadow
    plate = base[None, None, :] * light[..., None]
    # uneven lighting shifts the hue a little, slowly
    plate += pr["drift"][0] * _smooth_noise(rng, h, w, s / 2.0, 3)
    if "mottle" in pr:  # SD-like blotches: brightness and a little hue, several scales
        amp = rng.uniform(*pr["mottle"])
        blot = sum(_smooth_noise(rng, h, w, s / f, 1) / k for k, f in ((1, 6), (2, 16), (3, 40)))
        plate *= 1.0 + amp * blot
        plate += 0.3 * amp * _smooth_noise(rng, h, w, s / 10, 3)
    return np.clip(plate, 0.0, 1.0).astype(np.float32), key_rgb  # type: ignore[return-value]


def _neutral_screen(
    rng: np.random.Generator, h: int, w: int, level: float, body: np.ndarray, pr: dict
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """A white/black floor-and-wall screen with a soft contact shadow below the subject."""
    g = float(np.clip(level + rng.uniform(-0.03, 0.03), 0, 1))
    tint = rng.uniform(-0.01, 0.01, 3)
    base = np.clip(g + tint, 0, 1).astype(np.float32)
    key_rgb = tuple(int(v) for v in np.rint(base * 255))
    yy = np.mgrid[0:h, 0:w][0].astype(np.float32)
    light = 1.0 + rng.uniform(0.02, 0.08) * ((yy / h - 0.5) * rng.choice([-1, 1]))
    s = min(h, w)
    ys = np.flatnonzero(body.any(axis=1))
    foot = float(ys[-1]) if ys.size else h * 0.7
    squash = np.float32([[1, 0, 0], [0, 0.25, foot * 0.75 + s * 0.06]])
    sh = cv2.warpAffine(body, squash, (w, h))
    sh = cv2.GaussianBlur(sh, (0, 0), s * rng.uniform(0.015, 0.04))
    light = light * (1.0 - rng.uniform(0.25, 0.5) * np.clip(sh * 1.5, 0, 1))
    plate = np.clip(base[None, None, :] * light[..., None], 0, 1)
    return plate.astype(np.float32), key_rgb  # type: ignore[return-value]


def _outline(
    rng: np.random.Generator, body: np.ndarray, width: tuple[float, float], key_hue: float
) -> tuple[np.ndarray, np.ndarray]:
    """An outline layer along the inside of the ``body`` mask's edge: black, dark brown or a
    saturated colour at least 90 degrees from ``key_hue``, ``width`` px wide (a range), or a
    white border 3-8 px wide."""
    h, w = body.shape
    inside = cv2.distanceTransform((body > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    kind = rng.random()
    if kind < 0.25:
        col, px = np.float32([0.97, 0.97, 0.96]), rng.uniform(3.0, 8.0)
    else:
        px = rng.uniform(*width)
        if kind < 0.65:
            col = _hsv(rng.uniform(0, 360), rng.uniform(0, 0.3), rng.uniform(0.02, 0.1))
        elif kind < 0.8:
            col = _hsv(rng.uniform(15, 35), rng.uniform(0.5, 0.8), rng.uniform(0.2, 0.35))
        else:
            hues = [x for x in (0.0, 30.0, 60.0, 220.0, 280.0) if _hue_dist(x, key_hue) >= 90]
            col = _hsv(float(rng.choice(hues)), 0.85, 0.8)
    line = np.clip(px + 0.5 - inside, 0, 1) * body
    return line, np.broadcast_to(np.asarray(col, np.float32), (h, w, 3))


def make_sample(
    seed: int, size: int | tuple[int, int] = 768, key: str = "green", profile: str = "default"
) -> Sample:
    """Make one composite. ``size`` is an int (square) or ``(height, width)``."""
    h, w = (size, size) if isinstance(size, int) else size
    neutral = key in NEUTRAL_LEVELS
    key_hue = 0.0 if neutral else KEY_HUES[key]
    pr = PROFILES[profile]
    extra = [int(NEUTRAL_LEVELS[key] * 100)] if neutral else []
    rng = np.random.default_rng(
        [seed, int(key_hue), h, w] + ([7] if profile != "default" else []) + extra
    )
    s = min(h, w)
    gap = pr["hue_gap"][0]

    def fg_colour() -> np.ndarray:
        if neutral:
            return _fg_colour_neutral(rng, NEUTRAL_LEVELS[key])
        return _fg_colour(rng, key_hue, gap)

    layers: list[tuple[np.ndarray, np.ndarray]] = []  # (alpha, colour) back to front

    # 1. body: textured blob
    body = _blob_mask(rng, h, w, bottom=rng.random() < 0.5)
    c1, c2 = fg_colour(), fg_colour()
    if "dark_body" in pr and rng.random() < pr["dark_body"][0]:  # dark clothing, a tyre
        c1, c2 = (
            _hsv(rng.uniform(0, 360), rng.uniform(0, 0.6), rng.uniform(0.02, 0.2)) for _ in "ab"
        )
    mix = 0.5 + 0.5 * _smooth_noise(rng, h, w, s / rng.uniform(3, 12))
    body_col = c1[None, None] * (1 - mix) + c2[None, None] * mix
    if rng.random() < 0.5:  # stripes / print
        stripes = (np.sin(np.arange(w, dtype=np.float32) / rng.uniform(3, 15)) > 0.3)[None, :, None]
        body_col = np.where(stripes, fg_colour()[None, None], body_col)
    body_col = np.clip(body_col + 0.03 * _smooth_noise(rng, h, w, 2.0, 3), 0, 1)
    if "body_blur" in pr:  # the subject moves (or is out of focus): a wide soft outline
        length, ang = s * rng.uniform(*pr["body_blur"]), rng.uniform(0, np.pi)
        defocus = rng.random() < 0.3
        body_b = _body_blur(body, length, ang, defocus)
        prem_b = _body_blur(body[..., None] * body_col, length, ang, defocus)
        layers.append((body_b, np.clip(prem_b / np.maximum(body_b, 1e-6)[..., None], 0, 1)))
    else:
        layers.append((body, body_col))
    if "outline" in pr:
        layers.append(_outline(rng, body, pr["outline"], key_hue))
    if "key_parts" in pr:  # key-coloured parts of the subject, inside it or at its outline
        inner, rim = np.nonzero(body > 0.95), np.nonzero((body > 0.4) & (body < 0.6))
        for _ in range(int(rng.integers(*pr["key_parts"]))):
            ys, xs = rim if rng.random() < 0.5 and rim[0].size else inner
            j = int(rng.integers(0, max(1, ys.size)))
            patch = np.zeros((h, w), np.uint8)
            r = (int(s * rng.uniform(0.02, 0.07)), int(s * rng.uniform(0.02, 0.07)))
            cv2.ellipse(patch, (int(xs[j]), int(ys[j])), r, rng.uniform(0, 180), 0, 360, 255, -1)
            pa = cv2.GaussianBlur(patch.astype(np.float32) / 255, (0, 0), 0.7) * body
            if rng.random() < 0.5:  # brighter and more saturated than the screen
                col = _hsv(
                    key_hue + rng.uniform(-12, 12), rng.uniform(0.92, 1), rng.uniform(0.95, 1)
                )
            else:  # another shade of the key's hue
                col = _hsv(key_hue + rng.choice([-1, 1]) * rng.uniform(28, 40), 0.9, 0.95)
            layers.append((pa, np.broadcast_to(col, (h, w, 3))))

    # 2. hair strands, one colour with slight variation
    hair = _hair(rng, h, w, body)
    hair_col = fg_colour()
    hair_col_f = np.clip(hair_col[None, None] + 0.05 * _smooth_noise(rng, h, w, 8.0, 3), 0, 1)
    layers.append((hair * rng.uniform(0.7, 1.0), hair_col_f))

    # 3. semi-transparent veil(s)
    for _ in range(int(rng.integers(pr["veils"][0], pr["veils"][1]))):
        veil = np.zeros((h, w), np.uint8)
        cv2.ellipse(
            veil,
            (int(w * rng.uniform(0.25, 0.75)), int(h * rng.uniform(0.25, 0.75))),
            (int(s * rng.uniform(0.06, 0.2)), int(s * rng.uniform(0.04, 0.14))),
            float(rng.uniform(0, 180)),
            0,
            360,
            255,
            -1,
            cv2.LINE_AA,
        )
        v = cv2.GaussianBlur(veil.astype(np.float32) / 255, (0, 0), rng.uniform(0.5, 6))
        opacity = rng.uniform(0.2, 0.7) * (1 + 0.3 * _smooth_noise(rng, h, w, s / 6)[..., 0])
        layers.append((np.clip(v * opacity, 0, 1), np.broadcast_to(fg_colour(), (h, w, 3))))

    # 4. motion-blurred ball
    ball = np.zeros((h, w), np.uint8)
    bc = (int(w * rng.uniform(0.15, 0.85)), int(h * rng.uniform(0.15, 0.5)))
    cv2.circle(ball, bc, int(s * rng.uniform(0.03, 0.07)), 255, -1, cv2.LINE_AA)
    ba = ball.astype(np.float32) / 255
    bcol = fg_colour()
    length, ang = s * rng.uniform(*pr["blur_len"]), rng.uniform(0, np.pi)
    pa = _motion_blur(ba, length, ang)
    pc = _motion_blur(ba[..., None] * bcol[None, None], length, ang)
    layers.append((pa, pc / np.maximum(pa, 1e-6)[..., None]))

    # 5. particles
    dots = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(0, 25))):
        cv2.circle(
            dots,
            (int(rng.uniform(0, w) * 16), int(rng.uniform(0, h) * 16)),
            int(rng.uniform(0.6, 3.0) * 16),
            int(rng.uniform(80, 256)),
            -1,
            cv2.LINE_AA,
            4,
        )
    layers.append((dots.astype(np.float32) / 255, np.broadcast_to(fg_colour(), (h, w, 3))))

    alpha = np.zeros((h, w), np.float32)
    prem = np.zeros((h, w, 3), np.float32)
    for a, c in layers:
        a3 = a[..., None]
        prem = a3 * c + (1 - a3) * prem
        alpha = a + (1 - a) * alpha
    alpha = np.clip(alpha, 0, 1)
    # 8-bit exact alpha: the ground truth is what a perfect 8-bit matte would hold
    alpha = np.round(alpha * 255) / 255
    fg = np.where(alpha[..., None] > 0, prem / np.maximum(alpha, 1e-6)[..., None], 0)
    fg = np.clip(fg, 0, 1).astype(np.float32)

    if neutral:
        silhouette = (body > 0.5).astype(np.float32)
        screen, key_rgb = _neutral_screen(rng, h, w, NEUTRAL_LEVELS[key], silhouette, pr)
        spill = np.zeros((h, w), np.float32)
    else:
        screen, key_rgb = _screen(rng, h, w, key_hue, (body > 0.5).astype(np.float32), pr)
        # additive spill: screen light bouncing onto the subject near its silhouette
        inside = (alpha > 0.5).astype(np.uint8)
        dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
        spill = rng.uniform(*pr["spill"]) * np.exp(-dist / (s * rng.uniform(*pr["spill_width"])))
    fg_spill = np.clip(fg + spill[..., None] * screen, 0, 1)

    a3 = alpha[..., None]
    img = a3 * fg_spill + (1 - a3) * screen
    sigma = rng.uniform(*pr["noise"]) / 255
    noise = rng.standard_normal((h, w, 3)).astype(np.float32) * sigma
    if rng.random() < 0.5:  # a little spatial correlation, like demosaicing / VAE decoding
        noise = cv2.GaussianBlur(noise, (0, 0), 0.7) * 1.6
    img = np.clip(np.round((img + noise) * 255), 0, 255).astype(np.uint8)
    if pr["jpeg"][0] > 0 and rng.random() < pr["jpeg"][0]:
        q = int(rng.integers(80, 96))
        _ok, buf = cv2.imencode(
            ".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q]
        )
        img = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return Sample(img, alpha.astype(np.float32), fg, screen, key_rgb, key, seed)


#: Kinds of natural-looking images without any screen (see :func:`make_scene`).
SCENE_KINDS = ("textured", "warm", "vignette", "fur", "skin", "foliage")


def make_scene(seed: int, size: int = 768, kind: str = "textured") -> np.ndarray:
    """A procedural photo-like image with no screen (uint8 (size, size, 3)); a keyer should
    leave it opaque. Kinds: multi-scale texture in a random palette, warm wood-like grain,
    a bright disc on a black vignette (fundus-like), brown fur strokes, smooth skin, foliage."""
    rng = np.random.default_rng([seed, SCENE_KINDS.index(kind), size, 31])
    h = w = size
    s = size

    def octaves(ch: int, scales=(3, 8, 24, 64)) -> np.ndarray:
        return sum(_smooth_noise(rng, h, w, sc, ch) / (i + 1) for i, sc in enumerate(scales))

    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / s
    if kind in ("textured", "foliage"):
        hues = rng.uniform(70, 150, 3) if kind == "foliage" else rng.uniform(0, 360, 3)
        cols = [_hsv(hh, rng.uniform(0.3, 0.9), rng.uniform(0.25, 0.9)) for hh in hues]
        t = octaves(1)[..., 0]
        sel = np.clip((t + 1) * 1.5, 0, 2.999)
        i0 = sel.astype(int)
        frac = (sel - i0)[..., None]
        pal = np.stack([*cols, cols[-1]])
        img = pal[i0] * (1 - frac) + pal[i0 + 1] * frac
        img *= 1 + 0.35 * octaves(1, (2, 5))
    elif kind == "warm":
        base = _hsv(rng.uniform(15, 45), rng.uniform(0.45, 0.85), rng.uniform(0.45, 0.9))
        warp = 6 * octaves(1, (40, 120))[..., 0]
        grain = 0.5 + 0.5 * np.sin((yy * rng.uniform(60, 160) + warp) * 2)
        img = base * (0.7 + 0.3 * grain[..., None]) * (1 + 0.15 * octaves(1, (3, 10)))
        img *= 1 - 0.4 * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2)[..., None]
    elif kind == "vignette":
        r = np.sqrt((xx - 0.5) ** 2 + (yy - 0.5) ** 2)
        disc = np.clip((rng.uniform(0.4, 0.48) - r) / 0.03, 0, 1)[..., None]
        base = _hsv(rng.uniform(0, 40), rng.uniform(0.6, 0.9), rng.uniform(0.6, 0.9))
        vessels = np.abs(octaves(1, (12, 30))) < 0.05
        img = base * (1 - 0.5 * r[..., None]) * (1 + 0.2 * octaves(1, (4, 16)))
        img = np.where(vessels, img * 0.6, img) * disc + rng.uniform(0, 0.04)
    elif kind == "fur":
        base = _hsv(rng.uniform(20, 40), rng.uniform(0.4, 0.7), rng.uniform(0.3, 0.6))
        img = np.broadcast_to(base, (h, w, 3)).copy()
        canvas = (img * 255).astype(np.uint8)
        ang0 = rng.uniform(0, np.pi)
        for _ in range(int(s * s / 60)):
            x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
            ang = ang0 + rng.normal(0, 0.3)
            ln = rng.uniform(6, 20) * s / 768
            col = _hsv(rng.uniform(15, 45), rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.95))
            p1 = (int(x0 * 16), int(y0 * 16))
            p2 = (int((x0 + ln * np.cos(ang)) * 16), int((y0 + ln * np.sin(ang)) * 16))
            cv2.line(canvas, p1, p2, tuple(int(v) for v in col * 255), 1, cv2.LINE_AA, 4)
        img = canvas.astype(np.float32) / 255
    else:  # skin
        base = _hsv(rng.uniform(15, 32), rng.uniform(0.25, 0.5), rng.uniform(0.6, 0.9))
        img = base * (1 + 0.12 * octaves(1, (40, 150)) + 0.03 * octaves(1, (1.5, 3)))
    noise = rng.normal(0, rng.uniform(0.5, 3) / 255, (h, w, 3))
    return np.clip(np.round((img + noise) * 255), 0, 255).astype(np.uint8)


def backgrounds(h: int, w: int) -> list[np.ndarray]:
    """New backgrounds (float 0..1) to composite a cut-out over when scoring."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    grad = np.stack([xx / max(w - 1, 1), yy / max(h - 1, 1), 1 - xx / max(w - 1, 1)], -1) * 0.8
    check = (((yy // 32) + (xx // 32)) % 2)[..., None] * np.float32(0.6) + 0.2
    return [
        np.full((h, w, 3), 1.0, np.float32),
        np.full((h, w, 3), 0.0, np.float32),
        np.broadcast_to(check, (h, w, 3)).astype(np.float32),
        grad.astype(np.float32),
    ]
