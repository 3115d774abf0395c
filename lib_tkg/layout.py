"""Subject layout: the ``layout`` string of ellipses and the free-form mask image (no torch).

Geometry of a subject (the one definition; ``lib_tkg.noise`` evaluates it on the latent grid
and ``javascript/tkg_chroma.js`` draws the same formula for the WebUI's live preview):

* Positions follow the canvas: ``x``, ``y`` in [-1, 1] span the width and the height
  (x right, y down), so ``x = 1`` is the right edge on any canvas.
* Shapes are true to the pixels: with ``r = width / height`` of the canvas, offsets are measured
  in units of half the canvas' geometric-mean side ``sqrt(width * height) / 2``:
  ``X = (x - cx) * sqrt(r)``, ``Y = (y - cy) / sqrt(r)``. ``sigma`` is in those units (on a
  square canvas: half the side, as in the paper), so a round subject looks round and covers
  about the same area on a 1024x512 canvas as on 724x724.
* An ellipse turns by ``angle`` degrees clockwise on screen (``u = X cos + Y sin``,
  ``v = -X sin + Y cos``) and has ``aspect`` = its width / height (``u`` stretched by
  ``sqrt(aspect)``, ``v`` shrunk by it, so the area does not depend on the aspect):
  ``g = exp(-(u^2 / aspect + v^2 * aspect) / (2 sigma^2))``, 1 at the centre.
* ``aspect = 0`` means "the canvas' own ratio" (``aspect = r``): the mask stretches with the
  canvas exactly like the paper's and today's single subject (``q = (x-cx)^2 + (y-cy)^2``). It is
  the single subject's default, so existing settings give the same noise as before.
* Several subjects, and the free-form mask, combine by the maximum.

The free-form mask image is greyscale, white = subject (an RGBA image's alpha multiplies it, so
a transparent cut-out works as a silhouette). On the latent grid it is area-resized to ``g`` and
feathered by ``sigma``: ``max(g, exp(-d^2 / (2 sigma^2)))`` with ``d`` the distance to the
nearest pixel with ``g >= 0.5`` in the units above; a point silhouette gives the Gaussian.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from lib_tkg.image_payload import FORMAT_NAMES, decode_base64, open_image
from lib_tkg.keying.inputs import keyable, upright

MAX_SUBJECTS = 8
SIGMA_RANGE = (0.05, 4.0)
ASPECT_RANGE = (0.05, 5.0)  # (every position of the WebUI slider and ComfyUI widget, step 0.05)
ANGLE_RANGE = (-360.0, 360.0)
EMPTY_WORDS = ("", "none", "default")  # an empty layout: the single subject of args 4-6
SYNTAX = "'x y sigma[ aspect[ angle]]' per subject, subjects separated by ';'"


class LayoutError(ValueError):
    """A layout or mask image was rejected; the message names the subject and field."""


def aspect_ok(value: float) -> bool:
    """Whether ``value`` is an accepted aspect: 0 (follow the canvas) or in ``ASPECT_RANGE``."""
    return value == 0 or ASPECT_RANGE[0] <= value <= ASPECT_RANGE[1]


ASPECT_ACCEPTED = (
    f"0 (stretch with the canvas) or a number in [{ASPECT_RANGE[0]:g}, {ASPECT_RANGE[1]:g}] "
    "(the subject's width / height)"
)


@dataclass(frozen=True)
class Ellipse:
    """One subject: centre ``x``, ``y`` in [-1, 1]; ``sigma`` in [0.05, 4]; ``aspect`` (width /
    height) 0 or in [0.05, 5]; ``angle`` in degrees clockwise, [-360, 360]. Module docstring:
    units."""

    x: float
    y: float
    sigma: float
    aspect: float = 1.0
    angle: float = 0.0


_PARTS = (
    ("x", (-1.0, 1.0)),
    ("y", (-1.0, 1.0)),
    ("sigma", SIGMA_RANGE),
    ("aspect", ASPECT_RANGE),
    ("angle", ANGLE_RANGE),
)

#: what a layout argument accepts, with its limits (``/tkg-chroma/v1/info`` lists it)
LAYOUT_ACCEPTED = (
    f"{SYNTAX}, up to {MAX_SUBJECTS} subjects ("
    + ", ".join(f"{name} in [{lo:g}, {hi:g}]" for name, (lo, hi) in _PARTS)
    + "), or empty"
)


def _number(subject: int, name: str, bounds: tuple[float, float], text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    ok = math.isfinite(value) and bounds[0] <= value <= bounds[1]
    if name == "aspect":
        ok = math.isfinite(value) and aspect_ok(value)
    if not ok:
        accepted = (
            ASPECT_ACCEPTED if name == "aspect" else f"a number in [{bounds[0]:g}, {bounds[1]:g}]"
        )
        raise LayoutError(f"subject {subject} '{name}' must be {accepted}, got {text!r}")
    return value


def parse_layout(text: str) -> tuple[Ellipse, ...]:
    """Ellipses of a layout string: ``"x y sigma[ aspect[ angle]]; ..."`` (``;`` or newlines
    between subjects, spaces or tabs within), at most ``MAX_SUBJECTS``. ``""``, ``"none"`` and
    ``"default"`` give ``()``. Raises ``LayoutError`` naming the subject (1-based) and field."""
    if not isinstance(text, str):
        raise LayoutError(f"must be a string ({SYNTAX}), got {type(text).__name__}")
    if text.strip().lower() in EMPTY_WORDS:
        return ()
    chunks = [c.strip() for c in re.split(r"[;\n]", text)]
    if chunks and not chunks[-1]:
        chunks.pop()  # a trailing ';'
    if len(chunks) > MAX_SUBJECTS:
        raise LayoutError(f"at most {MAX_SUBJECTS} subjects, got {len(chunks)}")
    out = []
    for i, chunk in enumerate(chunks, 1):
        words = chunk.split()
        if not 3 <= len(words) <= len(_PARTS):
            raise LayoutError(
                f"subject {i} needs 3 to 5 numbers ({SYNTAX}), got {chunk!r}"
                if chunk
                else f"subject {i} is empty ({SYNTAX})"
            )
        values = [_number(i, name, b, w) for (name, b), w in zip(_PARTS, words, strict=False)]
        out.append(Ellipse(*values))
    return tuple(out)


def format_layout(ellipses: tuple[Ellipse, ...]) -> str:
    """The canonical layout string (``parse_layout`` inverse): defaults at the end dropped."""
    parts = []
    for e in ellipses:
        values = [e.x, e.y, e.sigma, e.aspect, e.angle]
        while len(values) > 3 and values[-1] == (1.0 if len(values) == 4 else 0.0):
            values.pop()
        parts.append(" ".join(_short(v) for v in values))
    return "; ".join(parts)


def _short(value: float) -> str:
    """Shortest text that parses back to ``value`` exactly ("1", not "1.0"; never "-0")."""
    text = repr(float(value) + 0.0)
    return text[:-2] if text.endswith(".0") else text


def normalise_layout(text: str) -> str:
    """Validated, canonical form of a layout string ("" when empty)."""
    return format_layout(parse_layout(text))


class MaskImage:
    """An immutable greyscale mask (uint8 ``(H, W)``, white = subject); compares by content."""

    __slots__ = ("pixels",)

    def __init__(self, pixels: np.ndarray) -> None:
        pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        pixels.setflags(write=False)
        object.__setattr__(self, "pixels", pixels)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("MaskImage is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MaskImage) and np.array_equal(self.pixels, other.pixels)

    def __hash__(self) -> int:
        return hash((self.pixels.shape, self.pixels.tobytes()))

    def __repr__(self) -> str:
        height, width = self.pixels.shape
        return f"MaskImage({width}x{height})"

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self.pixels.shape[1], self.pixels.shape[0]

    def resized(self, width: int, height: int) -> np.ndarray:
        """Area-resized to ``(height, width)`` float32 values in [0, 1]."""
        image = Image.fromarray(self.pixels, "L").resize((width, height), Image.Resampling.BOX)
        return np.asarray(image, dtype=np.float32) / 255.0

    def touched(self, width: int, height: int) -> np.ndarray:
        """bool ``(height, width)``: the cells of that grid holding a pixel at least half
        white (a subject too small to reach half of any cell by its area)."""
        half = ((self.pixels >= 128) * np.uint8(255)).astype(np.uint8)
        image = Image.fromarray(half, "L").resize((width, height), Image.Resampling.BOX)
        return np.asarray(image) > 0


MASK_ACCEPTED = f"a base64-encoded image ({FORMAT_NAMES}; a data: URL works too) or null"


def _greyscale(image: Image.Image) -> np.ndarray:
    """The subject mask of an image: where it has transparency (a pixel under half opaque),
    its alpha (opaque = subject, whatever its colour: a cut-out or a silhouette on a
    transparent ground); else its luminance (white = subject). Its EXIF orientation is
    applied and 16-bit and float greyscale are scaled to 8 bits first
    (:func:`lib_tkg.keying.inputs.keyable`)."""
    pixels = keyable(upright(image))  # (a colour-keyed RGB image comes back RGBA)
    image = Image.fromarray(pixels) if isinstance(pixels, np.ndarray) else pixels
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        alpha = np.asarray(image.convert("RGBA"))[..., 3]
        if alpha.min() < 128:  # (a clearly transparent part; a stray 254 is still opaque)
            return np.ascontiguousarray(alpha)
    return np.asarray(image.convert("L"), dtype=np.uint8)


def load_mask_image(value: Any) -> MaskImage | None:
    """A mask from what the API (base64 string or None), the UI (PIL image or numpy array) or
    the CLI (PIL image) gives; ``None``/``""`` mean no mask. Raises ``LayoutError``, also for
    an image with no subject (no pixel at least half white, or half opaque where it has
    transparency: all black, all transparent), which would shift the whole canvas, or with no
    background (every pixel so), which would shift nothing."""
    if value is None or isinstance(value, MaskImage):
        return value
    mask = _read_mask_image(value)
    if mask is not None and (int(mask.pixels.max()) < 128 or int(mask.pixels.min()) >= 128):
        some = "no pixel" if int(mask.pixels.max()) < 128 else "every pixel"
        raise LayoutError(
            f"has {some} at least half white (or, where it has transparency, half opaque): "
            "it needs a subject and a background around it (white = subject)"
        )
    return mask


def _read_mask_image(value: Any) -> MaskImage | None:
    """:func:`load_mask_image` of a value that is not a ``MaskImage`` or None."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            data = decode_base64(text)
        except ValueError as err:
            raise LayoutError(
                f"must be {MASK_ACCEPTED}, got a string of {len(value)} characters that is not "
                f"one ({err}; from Python, give a PIL image: a file path is not read)"
            ) from None
        try:
            with open_image(data) as image:
                image.load()
                return MaskImage(_greyscale(image))
        except Image.DecompressionBombError:
            raise LayoutError(
                f"must be {MASK_ACCEPTED}, at most {2 * Image.MAX_IMAGE_PIXELS:,} pixels (the "
                "image reader's limit); got a larger image"
            ) from None
        except (ValueError, UnidentifiedImageError, OSError):
            raise LayoutError(
                f"must be {MASK_ACCEPTED}, got base64 of {len(data)} bytes that are not a "
                f"{FORMAT_NAMES} image"
            ) from None
    if isinstance(value, Image.Image):
        return MaskImage(_greyscale(value))
    if isinstance(value, np.ndarray) and value.ndim in (2, 3) and value.size:
        array = value
        if array.dtype != np.uint8:
            if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
                raise LayoutError(f"must be {MASK_ACCEPTED}, got a {array.dtype} array")
            scale = 255.0 if array.max() <= 1.0 else 1.0
            array = np.clip(np.rint(array * scale), 0, 255).astype(np.uint8)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[..., 0]
        if array.ndim == 3 and array.shape[2] not in (3, 4):
            raise LayoutError(f"must be {MASK_ACCEPTED}, got an array of shape {value.shape}")
        return MaskImage(_greyscale(Image.fromarray(array)))
    raise LayoutError(f"must be {MASK_ACCEPTED}, got {type(value).__name__}")
