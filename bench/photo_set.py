"""A second, independent evaluation set: real photographs (scikit-image's ``skimage.data``) as
subjects over SD-like green screens, with exact ground truth; and the photos unmodified as
"no screen" cases. The keyer is not tuned on this set.

``make_photo_sample(name, seed, size)``: the photo, scaled to about 70 % of the frame, is cut
out by a derived matte (a feathered blob with a noisy outline, hair-like strands in the photo's
own colours, a translucent veil, and motion blur in some), composited over a green screen with
gradients, SD-style multi-scale mottling, a soft cast shadow, spill near the outline, noise and
sometimes a JPEG round trip. Photos with saturated greens (colour wheel, deep field) test
key-coloured subject parts.
"""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np
from synthetic import Sample

#: Colour photos of skimage.data that ship with scikit-image (no download).
PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "colorwheel",
    "immunohistochemistry",
    "stereo_motorcycle",
    "retina",
)


def photo(name: str) -> np.ndarray:
    """The photo as uint8 RGB (H, W, 3)."""
    from skimage import data

    img = getattr(data, name)()
    if isinstance(img, tuple):  # stereo pairs
        img = img[0]
    return np.ascontiguousarray(img[..., :3])


def photo_scene(name: str, size: int = 768) -> np.ndarray:
    """The photo unmodified but for scaling its long side to ``size``: a no-screen case."""
    img = photo(name)
    h, w = img.shape[:2]
    f = size / max(h, w)
    return cv2.resize(img, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)


def photo_crop_scene(name: str, seed: int, size: int = 512) -> np.ndarray:
    """A no-screen case made from the photo: a random square crop (40-100 % of its short side,
    so a smooth surface of the photo may fill the border), sometimes mirrored, warmed (white
    balance toward amber), darkened toward the corners (a lens vignette, cos^4-like) and
    JPEG-coded; long side ``size``."""
    rng = np.random.default_rng([seed, PHOTOS.index(name), size, 71])
    img = photo(name)
    h, w = img.shape[:2]
    c = int(min(h, w) * rng.uniform(0.4, 1.0))
    y, x = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
    out = cv2.resize(img[y : y + c, x : x + c], (size, size), interpolation=cv2.INTER_AREA)
    out = out.astype(np.float32) / 255
    if rng.random() < 0.5:
        out = out[:, ::-1]
    if rng.random() < 0.6:
        out = out * np.array([rng.uniform(1.0, 1.2), 1.0, rng.uniform(0.7, 0.95)], np.float32)
    if rng.random() < 0.7:
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
        r2 = (xx * xx + yy * yy) * rng.uniform(1.0, 2.5)
        out = out * (1.0 / (1.0 + r2) ** 2)[..., None]
    out = np.clip(np.round(out * 255), 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        _ok, buf = cv2.imencode(
            ".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(75, 95))]
        )
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(out)


def _noise(rng: np.random.Generator, h: int, w: int, scale: float, ch: int = 1) -> np.ndarray:
    small = rng.standard_normal((max(2, int(h / scale) + 2), max(2, int(w / scale) + 2), ch))
    big = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(big.reshape(h, w, ch) * 0.6, -1.0, 1.0)


def _matte(rng: np.random.Generator, h: int, w: int, box: tuple[int, int, int, int]) -> np.ndarray:
    """A derived subject matte inside ``box`` = (y0, y1, x0, x1), 0..1."""
    y0, y1, x0, x1 = box
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    ry, rx = (y1 - y0) / 2, (x1 - x0) / 2
    r = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
    power = rng.uniform(2.0, 5.0)  # ellipse .. rounded rectangle
    r = (np.abs((yy - cy) / ry) ** power + np.abs((xx - cx) / rx) ** power) ** (1 / power)
    wobble = 0.06 * _noise(rng, h, w, min(h, w) / 8)[..., 0]
    edge = min(rx, ry)
    hard = np.clip((1.0 + wobble - r) * edge, -1, 1) * 0.5 + 0.5
    return cv2.GaussianBlur(hard.astype(np.float32), (0, 0), rng.uniform(0.5, 2.5))


def _strands(rng: np.random.Generator, body: np.ndarray, colours: np.ndarray) -> tuple:
    """Hair-like strands from the upper outline: (alpha, colour) layers, 0..1."""
    h, w = body.shape
    alpha = np.zeros((h, w), np.float32)
    col = np.zeros((h, w, 3), np.float32)
    ys, xs = np.nonzero((body > 0.4) & (body < 0.6))
    if ys.size == 0:
        return alpha, col
    top = ys < np.percentile(ys, 50)
    ys, xs = ys[top], xs[top]
    s = min(h, w)
    for _ in range(int(rng.integers(30, 100))):
        j = int(rng.integers(0, ys.size))
        x, y = float(xs[j]), float(ys[j])
        length = s * rng.uniform(0.04, 0.15)
        ang = math.atan2(y - h / 2, x - w / 2) + rng.normal(0, 0.5)
        t = np.linspace(0, 1, 20)
        a = ang + rng.uniform(-2, 2) * t * t
        pts = np.stack(
            [x + np.cumsum(np.cos(a)) * length / 20, y + np.cumsum(np.sin(a)) * length / 20], 1
        )
        canvas = np.zeros((h, w), np.uint8)
        cv2.polylines(canvas, [(pts * 16).astype(np.int32)], False, 255, 1, cv2.LINE_AA, 4)
        sa = canvas.astype(np.float32) / 255 * rng.uniform(0.5, 1.0)
        c = colours[min(int(y), h - 1), min(int(x), w - 1)]
        col = sa[..., None] * c + (1 - sa[..., None]) * col
        alpha = sa + (1 - sa) * alpha
    return alpha, col / np.maximum(alpha, 1e-6)[..., None]


def make_photo_sample(name: str, seed: int, size: int = 768) -> Sample:
    """One photo-subject composite over an SD-like green screen, with ground truth."""
    rng = np.random.default_rng([seed, PHOTOS.index(name), size, 53])
    h = w = size
    src = photo(name).astype(np.float32) / 255
    ph, pw = src.shape[:2]
    f = size * rng.uniform(0.6, 0.8) / max(ph, pw)
    sub = cv2.resize(src, (round(pw * f), round(ph * f)), interpolation=cv2.INTER_AREA)
    sh, sw = sub.shape[:2]
    y0 = int(rng.uniform(0.08, 1.0) * (h - sh) * 0.9)
    x0 = int(rng.uniform(0.1, 0.9) * (w - sw))
    fg = np.zeros((h, w, 3), np.float32)
    fg[y0 : y0 + sh, x0 : x0 + sw] = sub
    # the photo continues outward (edge pixels replicated) so strands and blur have colour
    fg = cv2.copyMakeBorder(sub, y0, h - y0 - sh, x0, w - x0 - sw, cv2.BORDER_REFLECT)
    body = _matte(rng, h, w, (y0 + 2, y0 + sh - 2, x0 + 2, x0 + sw - 2))
    a_st, c_st = _strands(rng, body, fg)
    alpha = a_st + (1 - a_st) * body
    fg = np.where(
        alpha[..., None] > 0,
        (a_st[..., None] * c_st + (1 - a_st[..., None]) * body[..., None] * fg)
        / np.maximum(alpha, 1e-6)[..., None],
        fg,
    )
    if rng.random() < 0.6:  # a pale translucent veil (fabric) over one side, past the outline
        veil = np.zeros((h, w), np.uint8)
        cy, cx = y0 + sh * rng.uniform(0.0, 1.0), x0 + sw * rng.choice([0.0, 1.0])
        axes = (int(sw * rng.uniform(0.25, 0.45)), int(sh * rng.uniform(0.3, 0.6)))
        cv2.ellipse(veil, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, 255, -1)
        va = cv2.GaussianBlur(veil.astype(np.float32) / 255, (0, 0), rng.uniform(1, 5))
        va *= rng.uniform(0.25, 0.6) * (1 + 0.3 * _noise(rng, h, w, size / 6)[..., 0])
        va = np.clip(va, 0, 1)
        vc = np.array(
            colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0, 0.25), rng.uniform(0.75, 1)),
            np.float32,
        )
        prem = va[..., None] * vc + (1 - va[..., None]) * alpha[..., None] * fg
        alpha = va + (1 - va) * alpha
        fg = prem / np.maximum(alpha, 1e-6)[..., None]
    if rng.random() < 0.4:  # motion blur of the whole subject
        k = int(size * rng.uniform(0.01, 0.03)) | 1
        kernel = np.zeros((k, k), np.float32)
        ang = rng.uniform(0, math.pi)
        c = k // 2
        cv2.line(
            kernel,
            (int(c - c * math.cos(ang)), int(c - c * math.sin(ang))),
            (int(c + c * math.cos(ang)), int(c + c * math.sin(ang))),
            1.0,
            1,
        )
        kernel /= kernel.sum()
        prem = cv2.filter2D(fg * alpha[..., None], -1, kernel)
        alpha = cv2.filter2D(alpha, -1, kernel)
        fg = prem / np.maximum(alpha, 1e-6)[..., None]
    alpha = np.round(np.clip(alpha, 0, 1) * 255) / 255
    fg = np.where(alpha[..., None] > 0, np.clip(fg, 0, 1), 0).astype(np.float32)

    # SD-like green screen
    hue = rng.uniform(100, 140) / 360
    base = np.array(
        colorsys.hsv_to_rgb(hue, rng.uniform(0.45, 0.9), rng.uniform(0.5, 0.9)), np.float32
    )
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / size
    ang = rng.uniform(0, 2 * math.pi)
    light = 1 + rng.uniform(0.05, 0.3) * ((xx - 0.5) * math.cos(ang) + (yy - 0.5) * math.sin(ang))
    light *= 1 - rng.uniform(0, 0.35) * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 2
    mottle = sum(_noise(rng, h, w, size / s)[..., 0] / k for k, s in ((1, 5), (2, 14), (3, 35)))
    light *= 1 + rng.uniform(0.03, 0.1) * mottle
    shadow = cv2.warpAffine(body, np.float32([[1, 0.3, size * 0.05], [0, 1, size * 0.06]]), (w, h))
    light *= 1 - rng.uniform(0.1, 0.45) * cv2.GaussianBlur(shadow, (0, 0), size * 0.04)
    screen = base * light[..., None] + 0.04 * _noise(rng, h, w, size / 3, 3)
    screen = np.clip(screen, 0, 1).astype(np.float32)
    key_rgb = tuple(int(v) for v in np.rint(base * 255))

    inside = (alpha > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    spill = rng.uniform(0.0, 0.3) * np.exp(-dist / (size * rng.uniform(0.005, 0.03)))
    fg_spill = np.clip(fg + spill[..., None] * screen, 0, 1)
    a3 = alpha[..., None]
    img = a3 * fg_spill + (1 - a3) * screen
    img += rng.standard_normal((h, w, 3)).astype(np.float32) * rng.uniform(0.5, 4) / 255
    img = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        _ok, buf = cv2.imencode(
            ".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(85, 96))]
        )
        img = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
    return Sample(img, alpha.astype(np.float32), fg, screen, key_rgb, "green", seed)
