"""Keying as a service: the host-free core of the ``/tkg-chroma/v1`` routes and the Extras section.

``handle_key(body, max_pixels)`` takes the raw JSON body of ``POST /tkg-chroma/v1/key`` and
returns ``(HTTP status, JSON-able dict)``; ``info(max_pixels)`` is ``GET /tkg-chroma/v1/info``.
No web framework is imported here: the WebUI glue (``scripts/tkg_chroma_extras.py``) only
passes bytes in and the dict out.

Request fields (all but ``image`` optional; values are checked like ``TkgParams``, with the same
messages): ``image`` (base64 PNG, JPEG, WebP, BMP, TIFF or GIF; a ``data:`` URL is accepted),
``key_color`` (``"auto"``: estimated from the image border, or a colour spec), ``tolerance``
(0..0.85), ``despill`` (0..1), ``keep_shadow`` (bool: keep soft shadows as partial alpha),
``matte`` (bool). Answer: ``image`` (base64 RGBA PNG), ``matte`` (base64 greyscale PNG or
null), ``key_color`` (``"#rrggbb"`` or null), ``keyed`` (false when the image holds no key
colour: then ``image`` is the input unchanged, its own alpha or opaque) and
``notes`` (list of str: the colour estimated or measured, why nothing was keyed, a screen of
another colour than the one given).
Errors: 422 (a field is wrong; ``detail`` names it and what is accepted), 413 (the image has more
pixels than the limit), both as ``{"detail": message, "field": name}``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from lib_tkg import __version__, outputs
from lib_tkg.colors import FAMILIES, PRESETS, hex_color, parse_color
from lib_tkg.image_payload import FORMAT_NAMES, decode_base64, open_image
from lib_tkg.keying import DEFAULT_MAX_PIXELS, KeyResult, key_quietly
from lib_tkg.keying.inputs import keyable, rgb_profile, upright
from lib_tkg.params import FIELD_BY_NAME, FIELDS, TITLE, Field, ParamError, TkgParams, check_value

ROUTE_PREFIX = "/tkg-chroma/v1"
AUTO = "auto"
#: Default size limit of a keyed image, in megapixels (width x height / 1e6).
DEFAULT_MAX_MEGAPIXELS = 64.0
#: Presets the route accepts as key colours: all (white and black are keyed by luminance).
KEY_PRESETS = tuple(PRESETS)

IMAGE_FIELD = Field(
    "image",
    str,
    None,
    "Image",
    "",
    accepted=f"a base64-encoded {FORMAT_NAMES} image ('data:image/...;base64,' URLs accepted)",
)
KEY_COLOR_FIELD = Field(
    "key_color",
    str,
    AUTO,
    "Key colour",
    "",
    accepted=f"'{AUTO}' (estimated from the image border), one of {', '.join(KEY_PRESETS)}, "
    "'#RRGGBB', '#RGB' or 'r,g,b'",
)
#: The route's fields in request order; tolerance and despill are TkgParams' own.
KEY_FIELDS: tuple[Field, ...] = (
    IMAGE_FIELD,
    KEY_COLOR_FIELD,
    FIELD_BY_NAME["tolerance"],
    FIELD_BY_NAME["despill"],
    FIELD_BY_NAME["keep_shadow"],
    dataclasses.replace(FIELD_BY_NAME["save_matte"], name="matte", label="Also output the matte"),
)
KEY_FIELD_BY_NAME = {f.name: f for f in KEY_FIELDS}


class RequestError(ValueError):
    """A request was refused: ``status`` (422 or 413), the ``field`` at fault and the message."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field

    def payload(self) -> dict[str, str]:
        return {"detail": str(self), "field": self.field}


@dataclass(frozen=True)
class KeyOptions:
    """Validated keying options: ``key_color`` None = estimate from the border; ``tolerance``
    (clip-black) in [0, 0.85] and ``despill`` in [0, 1] are fractions; ``matte`` adds the matte."""

    key_color: str | None = None
    tolerance: float = FIELD_BY_NAME["tolerance"].default
    despill: float = FIELD_BY_NAME["despill"].default
    keep_shadow: bool = False
    matte: bool = False


def _invalid(field: Field, value: Any, reason: str = "") -> RequestError:
    shown = repr(value)
    if isinstance(value, (list, tuple, dict)):
        shown = f"a JSON {'object' if isinstance(value, dict) else 'array'} of {len(value)} item(s)"
    elif len(shown) > 60:
        shown = f"a {type(value).__name__} of {len(shown)} characters"
    why = f": {reason}" if reason else ""
    return RequestError(
        422, field.name, f"{TITLE}: '{field.name}' must be {field.describe()}, got {shown}{why}"
    )


def parse_key_color(value: Any) -> str | None:
    """``None``/``"auto"`` -> None (estimate); else the normalised colour (preset name or hex)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == AUTO):
        return None
    try:
        return check_value(KEY_COLOR_FIELD, value)
    except ParamError as err:
        raise RequestError(422, KEY_COLOR_FIELD.name, str(err)) from None


def parse_options(values: Mapping[str, Any]) -> KeyOptions:
    """Check the optional request fields (``key_color``, ``tolerance``, ``despill``, ``matte``)."""
    checked: dict[str, Any] = {}
    for name in ("tolerance", "despill", "keep_shadow", "matte"):
        if name in values:
            try:
                checked[name] = check_value(KEY_FIELD_BY_NAME[name], values[name])
            except ParamError as err:
                raise RequestError(422, name, str(err)) from None
    return KeyOptions(key_color=parse_key_color(values.get("key_color")), **checked)


def decode_image(value: Any, max_pixels: int) -> tuple[Any, int, bytes | None]:
    """Decode a base64 image (:mod:`lib_tkg.image_payload`) for the keyer: return it (as
    :func:`lib_tkg.keying.inputs.keyable` gives it: 16-bit and float greyscale scaled), the
    number of frames the file holds (an animated PNG, WebP or GIF, a multi-page TIFF: only the
    first is decoded) and its embedded RGB colour profile or ``None``.

    ``RequestError`` 422 for anything that is not such an image, 413 when it has more than
    ``max_pixels`` pixels (checked from the header, before the pixels are decoded). An EXIF
    orientation is applied: the image comes back upright, as viewers show it.
    """
    if not isinstance(value, str) or not value.strip():
        raise _invalid(IMAGE_FIELD, value)
    try:
        raw = decode_base64(value)
    except ValueError as err:
        raise _invalid(IMAGE_FIELD, value, str(err)) from None
    try:
        image = open_image(raw)
    except Image.DecompressionBombError:  # Pillow's limit, before the size is known
        bomb = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise RequestError(
            413, IMAGE_FIELD.name, _too_large(f"more than {bomb:,}", max_pixels)
        ) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise _invalid(IMAGE_FIELD, value, f"not a {FORMAT_NAMES} image") from None
    w, h = image.size
    if w * h > max_pixels:
        raise RequestError(413, IMAGE_FIELD.name, _too_large(f"{w}x{h} = {w * h:,}", max_pixels))
    try:
        image.load()
    except (OSError, ValueError, SyntaxError):
        raise _invalid(IMAGE_FIELD, value, "the image data is truncated or corrupt") from None
    frames = int(getattr(image, "n_frames", 1))
    # upright as viewers show it (a phone photo's EXIF orientation), as the CLI keys it
    return keyable(upright(image)), frames, rgb_profile(image)


def _too_large(pixels: str, max_pixels: int) -> str:
    """The 413 message for an image of ``pixels`` (text) pixels."""
    return (
        f"{TITLE}: 'image' has {pixels} pixels, over the limit of {max_pixels:,} "
        f"({max_pixels / 1e6:g} MP, setting 'tkg_chroma_key_max_megapixels')"
    )


def key_with_notes(image: Any, options: KeyOptions) -> tuple[KeyResult, list[str]]:
    """Key ``image`` with ``options``; return the result and notes for the user.

    Notes say which colour was estimated or measured, when nothing was keyed and why (the
    keyer's own reason), and when the border shows a screen of another colour than the one
    given. A key colour the keyer refuses is a ``RequestError`` on ``key_color``.
    """
    try:
        result = key_quietly(
            image,
            options.key_color,
            tolerance=options.tolerance,
            despill=options.despill,
            keep_shadow=options.keep_shadow,
        )
    except ValueError as err:
        if str(err).startswith("key_color"):
            raise RequestError(422, KEY_COLOR_FIELD.name, f"{TITLE}: {err}") from None
        raise
    notes: list[str] = []
    given = None if options.key_color is None else parse_color(options.key_color)
    if result.keyed and given is None:
        notes.append(f"key colour estimated from the image border: {hex_color(result.key_color)}")
    elif result.keyed and result.key_color != given:
        notes.append(
            f"key colour measured on the image border: {hex_color(result.key_color)}, the "
            f"screen's shade of the hue of {hex_color(given)}"
        )
    # why nothing was keyed (with the border's own reason), or that the colour given is not
    # the one of the screen on the border
    notes.extend(result.notes)
    return result, notes


def _png_base64(array: np.ndarray, mode: str, profile: bytes | None = None) -> str:
    buf = io.BytesIO()
    level = outputs.png_compress_level(array.shape[1], array.shape[0])
    Image.fromarray(array, mode).save(buf, format="PNG", compress_level=level, icc_profile=profile)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def key_request(body: Any, max_pixels: int) -> dict[str, Any]:
    """Answer a parsed ``POST /key`` body (a dict); ``RequestError`` on bad input."""
    if not isinstance(body, Mapping):
        raise RequestError(
            422,
            "body",
            f"{TITLE}: the request body must be a JSON object, got {type(body).__name__}",
        )
    unknown = sorted(set(body) - set(KEY_FIELD_BY_NAME))
    if unknown:
        raise RequestError(
            422,
            unknown[0],
            f"{TITLE}: unknown field(s) {', '.join(unknown)}; accepted: "
            + ", ".join(KEY_FIELD_BY_NAME),
        )
    if "image" not in body:
        raise RequestError(422, "image", f"{TITLE}: 'image' is required: {IMAGE_FIELD.describe()}")
    options = parse_options(body)
    image, frames, profile = decode_image(body["image"], max_pixels)
    result, notes = key_with_notes(image, options)
    if frames > 1:
        notes.append(
            f"the image holds {frames} frames (an animation or pages): only its first was keyed "
            "(tkg-chroma key-animation keys every frame)"
        )
    return {
        "image": _png_base64(result.rgba, "RGBA", profile),
        "matte": _png_base64(result.alpha, "L") if options.matte else None,
        "key_color": hex_color(result.key_color),
        "keyed": bool(result.keyed),
        "notes": notes,
    }


def handle_key(body: bytes, max_pixels: int) -> tuple[int, dict[str, Any]]:
    """``POST /key`` from the raw request body: ``(status, JSON-able answer)``; never raises for
    bad input (422/413 with ``{"detail", "field"}``)."""
    try:
        try:
            parsed = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RequestError(
                422, "body", f"{TITLE}: the request body is not valid JSON ({err})"
            ) from None
        return 200, key_request(parsed, max_pixels)
    except RequestError as err:
        return err.status, err.payload()


def max_pixels_of(megapixels: Any) -> int:
    """The pixel limit for a megapixel setting (falls back to the default when unusable); at most
    the keyer's own limit (``lib_tkg.keying.DEFAULT_MAX_PIXELS``) and what Pillow opens (twice
    ``PIL.Image.MAX_IMAGE_PIXELS``, about 179 MP unless the host changed it), so a larger image
    is a 413 naming this limit, never an error from the keyer or Pillow."""
    try:
        mp = float(megapixels)
    except (TypeError, ValueError):
        mp = DEFAULT_MAX_MEGAPIXELS
    limit = min(int((mp if mp > 0 else DEFAULT_MAX_MEGAPIXELS) * 1_000_000), DEFAULT_MAX_PIXELS)
    return min(limit, 2 * Image.MAX_IMAGE_PIXELS) if Image.MAX_IMAGE_PIXELS else limit


def _describe(field: Field, pos: int | None = None, default: Any = None) -> dict[str, Any]:
    kind = {bool: "bool", float: "number", str: "string", object: "string or null"}[field.kind]
    default = field.default if default is None else default
    entry: dict[str, Any] = {"name": field.name, "type": kind, "default": default}
    if pos is not None:
        entry["pos"] = pos
    if field.lo is not None:
        entry.update(min=field.lo, max=field.hi)
    entry.update(accepted=field.describe(), label=field.label)
    if field.infotext:
        entry["infotext"] = field.infotext
    if field.axis:
        entry["xyz_axis"] = field.axis
    return entry


def info(max_pixels: int, defaults: TkgParams | None = None) -> dict[str, Any]:
    """``GET /info``: what a client needs to build a UI for both the key route and txt2img.

    ``defaults``: the values a script argument left out of a request takes (the WebUI's
    settings, :func:`lib_tkg.webui.settings.settings_defaults`); ``TkgParams()`` if None."""
    defaults = defaults or TkgParams()
    return {
        "version": __version__,
        "script": TITLE,
        "presets": {name: hex_color(rgb) for name, rgb in PRESETS.items()},
        "key_colors": [AUTO, *KEY_PRESETS],
        "families": list(FAMILIES),
        "max_megapixels": max_pixels / 1e6,
        "routes": {
            "key": f"POST {ROUTE_PREFIX}/key",
            "info": f"GET {ROUTE_PREFIX}/info",
        },
        # alwayson_scripts[TITLE]["args"] of txt2img/img2img, by position
        "arguments": [_describe(f, i, getattr(defaults, f.name)) for i, f in enumerate(FIELDS)],
        # fields of POST /key
        "key_arguments": [_describe(f) for f in KEY_FIELDS],
    }
