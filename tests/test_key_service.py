"""``lib_tkg.key_service``: the framework-free core of the ``/tkg-chroma/v1`` routes."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from lib_tkg import __version__, key_service, keying
from lib_tkg.colors import FAMILIES, PRESETS
from lib_tkg.key_service import (
    DEFAULT_MAX_MEGAPIXELS,
    KEY_FIELDS,
    KeyOptions,
    handle_key,
    info,
    key_with_notes,
    max_pixels_of,
    parse_options,
)
from lib_tkg.params import FIELDS, ParamError, TkgParams

LIMIT = 64_000_000


def screen_image(size: int = 96, screen=(20, 200, 40)) -> np.ndarray:
    """A red-orange disc (radius size/4) on a flat screen colour."""
    img = np.empty((size, size, 3), np.uint8)
    img[:] = screen
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 <= (size / 4) ** 2
    img[disc] = (210, 90, 60)
    return img


def photo_image(size: int = 96) -> np.ndarray:
    """Greys and browns only: no saturated border hue, so no screen."""
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    v = (60 + 120 * (xx + yy) / (2 * size)).astype(np.uint8)
    return np.stack([v, v, (v * 0.9).astype(np.uint8)], axis=-1)


def encode(array: np.ndarray, fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt)
    return base64.b64encode(buf.getvalue()).decode()


def post(payload, max_pixels: int = LIMIT) -> tuple[int, dict]:
    status, answer = handle_key(json.dumps(payload).encode(), max_pixels)
    json.dumps(answer)  # must be JSON-able
    return status, answer


def decode(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def test_keys_a_screen_image_subject_opaque_screen_clear_key_colour_returned():
    status, answer = post({"image": encode(screen_image())})
    assert status == 200, answer
    out = decode(answer["image"])
    assert out.format == "PNG" and out.mode == "RGBA" and out.size == (96, 96)
    alpha = np.asarray(out)[..., 3]
    assert alpha[48, 48] == 255 and alpha[40:56, 40:56].min() == 255
    assert alpha[:8].max() == 0 and alpha[:, :8].max() == 0
    assert answer["key_color"] == "#14c828"
    assert answer["keyed"] is True and answer["matte"] is None
    assert any("#14c828" in n for n in answer["notes"])


@pytest.mark.parametrize(
    ("fmt", "scheme"), [("JPEG", "data:image/x;base64,"), ("WEBP", "DATA:image/webp;BASE64,")]
)
def test_jpeg_and_webp_and_data_urls_are_accepted(fmt, scheme):
    data = scheme + encode(screen_image(), fmt)  # (scheme and token: any case, RFC 2397)
    status, answer = post({"image": data, "key_color": "#14c828", "matte": True})
    assert status == 200, answer
    rgba = np.asarray(decode(answer["image"]))
    matte = decode(answer["matte"])
    assert matte.mode == "L" and np.array_equal(np.asarray(matte), rgba[..., 3])
    assert rgba[48, 48, 3] == 255 and rgba[2, 2, 3] == 0


def test_no_screen_comes_back_unkeyed_opaque_with_a_note():
    img = photo_image()
    status, answer = post({"image": encode(img)})
    assert status == 200, answer
    assert answer["keyed"] is False and answer["key_color"] is None
    out = np.asarray(decode(answer["image"]))
    assert out.shape == (96, 96, 4) and (out[..., 3] == 255).all()
    assert np.array_equal(out[..., :3], img)
    assert answer["notes"] and "nothing was keyed" in answer["notes"][0]


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "TIFF"])
def test_an_animation_is_keyed_on_its_first_frame_with_a_note(fmt):
    first, second = screen_image(), photo_image()
    buf = io.BytesIO()
    Image.fromarray(first).save(buf, fmt, save_all=True, append_images=[Image.fromarray(second)])
    status, answer = post({"image": base64.b64encode(buf.getvalue()).decode("ascii")})
    assert status == 200 and answer["keyed"] is True, answer
    assert "holds 2 frames (an animation or pages): only its first was keyed" in answer["notes"][-1]
    status, answer = post({"image": encode(first, fmt)})
    assert not any("frames" in note for note in answer["notes"])


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "GIF"])
def test_the_formats_the_cli_reads_are_keyed_too(fmt):
    status, answer = post({"image": encode(screen_image(), fmt)})
    assert status == 200 and answer["keyed"] is True, answer
    alpha = np.asarray(decode(answer["image"]))[..., 3]
    assert alpha[0, 0] == 0 and alpha[48, 48] == 255


@pytest.mark.parametrize("mode", ["I;16", "F"])
def test_deep_greyscale_is_scaled_not_clipped_to_white(mode):
    # a 16-bit (0..65535) or float (0..1) grey image: a plain conversion clipped it to white
    # or black; scaled (as tkg-chroma key reads it), its pixels keep their levels
    grey = np.full((64, 64), 100, np.uint8)
    grey[16:48, 16:48] = 200
    deep = grey.astype(np.float32) / 255 if mode == "F" else grey.astype(np.uint16) * 257
    buf = io.BytesIO()
    image = Image.fromarray(deep)
    assert image.mode == mode
    image.save(buf, "TIFF")
    status, answer = post({"image": base64.b64encode(buf.getvalue()).decode()})
    assert status == 200, answer
    out = np.asarray(decode(answer["image"]))
    assert np.array_equal(out[..., 0], grey) and (out[..., 3] == 255).all()


def test_a_given_key_colour_absent_from_the_image_is_named_in_the_note():
    status, answer = post({"image": encode(screen_image()), "key_color": "magenta"})
    assert status == 200 and answer["keyed"] is False
    assert answer["key_color"] == "#ff00ff"
    notes = " | ".join(answer["notes"])
    assert "the key colour #ff00ff does not occur" in notes
    assert "shows a screen of colour #14c828" in notes  # and which colour auto keys


def test_a_noisy_screen_that_is_refused_says_why_in_the_note():
    # the route gives the keyer's own reason, not a fixed one (noise on half of the frame:
    # textured in patches, as a photo is; grain all over a screen is keyed)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 12, (96, 96, 3))
    noise[:, 48:] = 0
    img = np.clip(screen_image() + noise, 0, 255).astype(np.uint8)
    status, answer = post({"image": encode(img)})
    assert status == 200 and answer["keyed"] is False
    assert "textured" in answer["notes"][0] and "key_color" in answer["notes"][0]


def test_an_rgba_input_that_is_not_keyed_keeps_its_alpha_and_the_note_says_so():
    rgba = np.dstack([photo_image(), np.full((96, 96), 255, np.uint8)])
    rgba[:10] = 0
    status, answer = post({"image": encode(rgba)})
    assert status == 200 and answer["keyed"] is False
    assert np.array_equal(np.asarray(decode(answer["image"]))[..., 3], rgba[..., 3])
    assert "the image's own alpha is kept" in answer["notes"][0]


@pytest.mark.parametrize(
    ("given", "note"),
    [
        ("white", "not a white one"),  # a neutral colour on a chroma screen
        ("#00ff80", "key colour measured on the image border: #14c828"),  # a shade of its hue
    ],
)
def test_a_given_colour_that_is_not_the_screens_own_gets_a_note(given, note):
    status, answer = post({"image": encode(screen_image()), "key_color": given})
    assert status == 200
    assert any(note in n for n in answer["notes"]), answer["notes"]


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"image": "not base64 !!"}, "image", "not valid base64"),
        ({"image": "aGVsbG8gd29ybGQ="}, "image", "not a PNG, JPEG, WebP, BMP, TIFF or GIF image"),
        ({"image": 5}, "image", "got 5"),
        ({"image": ["iVBORw0KGgo="] * 3}, "image", "got a JSON array of 3 item(s)"),
        ({"image": {"data": "iVBORw0KGgo="}}, "image", "got a JSON object of 1 item(s)"),
        ({"image": "data:image/png,abc"}, "image", "data: URL"),
        ({}, "image", "required"),
        ({"image": "x", "tolerance": 7}, "tolerance", "[0, 0.85], got 7"),
        ({"image": "x", "despill": "a lot"}, "despill", "[0, 1]"),
        ({"image": "x", "matte": "yes"}, "matte", "true or false"),
        ({"image": "x", "keep_shadow": 1}, "keep_shadow", "true or false"),
        ({"image": "x", "key_color": "nope"}, "key_color", "'auto'"),
        ({"image": "x", "key_color": "custom"}, "key_color", "got 'custom'"),
        ({"image": "x", "colour": "green"}, "colour", "unknown field"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_what_is_accepted(payload, field, words):
    status, answer = post(payload)
    assert status == 422
    assert answer["field"] == field
    assert words in answer["detail"]
    assert f"'{field}'" in answer["detail"] or field in ("colour",)


def test_messages_are_tkgparams_messages():
    """tolerance and despill are checked by TkgParams' own fields: the same text."""
    for name, value in (("tolerance", 7), ("despill", -1), ("tolerance", True)):
        with pytest.raises(ParamError) as err:
            TkgParams.from_mapping({name: value})
        assert post({"image": "x", name: value})[1]["detail"] == str(err.value)


def test_a_white_screen_is_keyed_with_the_white_preset():
    status, answer = post(
        {"image": encode(screen_image(screen=(245, 245, 245))), "key_color": "white"}
    )
    assert status == 200 and answer["keyed"] is True
    rgba = np.asarray(Image.open(io.BytesIO(base64.b64decode(answer["image"]))))
    assert rgba[2, 2, 3] == 0 and rgba[48, 48, 3] == 255


def test_an_exif_rotated_photo_is_keyed_upright():
    # stored sideways (a phone held upright): 64 wide, 96 high, orientation 6 (rotate 90 cw)
    upright = screen_image(96)[:, 16:80]  # 96 high, 64 wide
    upright[:10] = (200, 30, 30)  # a red band along the top of the upright picture
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, format="JPEG", exif=exif, quality=95)
    status, answer = post({"image": base64.b64encode(buf.getvalue()).decode("ascii")})
    assert status == 200
    out = np.asarray(decode(answer["image"]))
    assert out.shape[:2] == (96, 64)
    top = out[:8, 20:44]
    assert top[..., 0].mean() > 150 and top[..., 1].mean() < 80  # the red band is on top


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_tiff_orientation_is_applied_once_as_for_a_png(orientation):
    # Pillow's TIFF reader turns the image itself; Pillow 9.5's (the WebUIs') exif_transpose
    # turned it a second time (CI's oldest-libraries run has Pillow 9.5)
    picture = np.zeros((6, 10, 3), np.uint8)
    picture[0, :3] = 255  # a mark that every turn and flip moves somewhere else
    picture[1:3, 0] = (0, 255, 0)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = {}
    for fmt in ("TIFF", "PNG"):
        buf = io.BytesIO()
        Image.fromarray(picture).save(buf, format=fmt, exif=exif)
        status, answer = post({"image": base64.b64encode(buf.getvalue()).decode()})
        assert status == 200 and answer["keyed"] is False, answer  # (no screen: as it is)
        out[fmt] = np.asarray(decode(answer["image"]))[..., :3]
    assert np.array_equal(out["TIFF"], out["PNG"])
    assert (orientation == 1) == np.array_equal(out["TIFF"], picture)


def test_bodies_that_are_not_json_objects_are_422():
    assert handle_key(b"{not json", LIMIT)[0] == 422
    assert handle_key(b"\xff\xfe", LIMIT)[0] == 422
    status, answer = post([1, 2])
    assert status == 422 and answer["field"] == "body"


def test_other_formats_and_a_truncated_png_are_422():
    buf = io.BytesIO()
    Image.fromarray(screen_image()).save(buf, format="PPM")
    status, answer = post({"image": base64.b64encode(buf.getvalue()).decode()})
    assert status == 422 and "not a PNG, JPEG, WebP, BMP, TIFF or GIF image" in answer["detail"]
    png = base64.b64decode(encode(screen_image()))
    status, answer = post({"image": base64.b64encode(png[: len(png) // 2]).decode()})
    assert status == 422 and "truncated" in answer["detail"]


def test_over_the_size_limit_is_413_before_decoding():
    data = encode(screen_image(96))
    assert post({"image": data}, max_pixels=96 * 96)[0] == 200
    status, answer = post({"image": data}, max_pixels=96 * 96 - 1)
    assert status == 413 and answer["field"] == "image"
    assert "96x96" in answer["detail"] and "tkg_chroma_key_max_megapixels" in answer["detail"]
    # in pixels: rounded to MP, one pixel over read "0.0 MP, over the limit of 0.009215 MP"
    assert "9,216 pixels, over the limit of 9,215" in answer["detail"]


def _png_header(w: int, h: int) -> str:
    """A PNG that declares ``w`` x ``h`` pixels (its header alone: decoding would fail)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png = b"\x89PNG\r\n\x1a\n" + ihdr + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def test_an_image_over_pillows_own_limit_is_our_413_not_pillows_message():
    pillow_limit = 2 * Image.MAX_IMAGE_PIXELS  # Pillow refuses to open larger images
    big = _png_header(20_000, pillow_limit // 20_000 + 1)
    status, answer = post({"image": big}, max_pixels=64_000_000)
    assert status == 413 and answer["field"] == "image"
    assert f"more than {pillow_limit:,} pixels, over the limit of 64,000,000" in answer["detail"]
    assert "decompression" not in answer["detail"].lower()


def test_the_limit_never_passes_what_pillow_opens(monkeypatch):
    pillow_limit = 2 * Image.MAX_IMAGE_PIXELS
    assert max_pixels_of(300) == pillow_limit < 300_000_000  # so a 413 names the real limit
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # a host that lifted Pillow's limit
    assert max_pixels_of(300) == 300_000_000
    assert max_pixels_of(10_000) == keying.DEFAULT_MAX_PIXELS  # never above the keyer's own


def test_max_pixels_of_setting():
    assert max_pixels_of(64) == 64_000_000
    assert max_pixels_of("0.5") == 500_000
    for bad in (None, "x", 0, -3):
        assert max_pixels_of(bad) == int(DEFAULT_MAX_MEGAPIXELS * 1e6)


def test_parse_options_and_key_with_notes_are_what_extras_uses():
    opts = parse_options({"key_color": " Auto ", "tolerance": 0.2, "despill": 0})
    assert opts == KeyOptions(None, 0.2, 0.0, False, False)
    assert parse_options({"keep_shadow": True}).keep_shadow is True
    assert parse_options({"key_color": "#0F0"}).key_color == "#00ff00"
    result, notes = key_with_notes(Image.fromarray(screen_image()), opts)
    assert result.keyed and result.alpha[0, 0] == 0 and notes


def test_info_lists_version_presets_families_and_every_argument():
    data = info(max_pixels_of(DEFAULT_MAX_MEGAPIXELS))
    json.dumps(data)
    assert data["version"] == __version__
    assert data["presets"]["green"] == "#00ff00" and set(data["presets"]) == set(PRESETS)
    assert data["families"] == list(FAMILIES)
    assert data["key_colors"][0] == "auto" and data["key_colors"][1:] == list(PRESETS)
    assert data["max_megapixels"] == DEFAULT_MAX_MEGAPIXELS
    args = data["arguments"]
    assert [a["name"] for a in args] == [f.name for f in FIELDS]
    assert [a["pos"] for a in args] == list(range(len(FIELDS)))
    assert [a["default"] for a in args] == [f.default for f in FIELDS]
    sigma = next(a for a in args if a["name"] == "sigma")
    assert (sigma["min"], sigma["max"], sigma["type"]) == (0.05, 4.0, "number")
    mask = next(a for a in args if a["name"] == "mask_image")
    assert "base64-encoded image" in mask["accepted"] and "null" in mask["accepted"]
    assert [a["name"] for a in data["key_arguments"]] == [f.name for f in KEY_FIELDS]
    assert [a["name"] for a in data["key_arguments"]] == [
        "image",
        "key_color",
        "tolerance",
        "despill",
        "keep_shadow",
        "matte",
    ]
    assert key_service.ROUTE_PREFIX in data["routes"]["key"]


def test_info_gives_the_defaults_a_left_out_argument_takes():
    """The WebUI's settings change what a left-out script argument takes (a trial: colour
    magenta, strength 0.2, save matte set, yet /info said green, 0, false)."""
    from lib_tkg.params import TkgParams

    defaults = TkgParams(color="magenta", strength=0.2, save_matte=True)
    args = {a["name"]: a["default"] for a in info(10**6, defaults)["arguments"]}
    assert (args["color"], args["strength"], args["save_matte"]) == ("magenta", 0.2, True)
    assert args["sigma"] == 0.5 and args["enabled"] is False


def test_keep_shadow_reaches_the_keyer():
    """A soft shadow on the screen: kept as partial alpha only with keep_shadow."""
    img = screen_image(128).astype(np.float32)
    yy, xx = np.mgrid[:128, :128]
    ellipse = ((yy - 100) ** 2 / 14**2 + (xx - 64) ** 2 / 40**2 <= 1).astype(np.float32)
    soft = cv2.GaussianBlur(ellipse, (0, 0), 6)  # (a sharp-edged one is a dark layer)
    on_screen = img[..., 1] > 150
    img[on_screen] *= 1 - 0.45 * soft[on_screen][:, None]
    shadow = soft > 0.5
    data = encode(img.astype(np.uint8))
    alphas = []
    for keep in (False, True):
        status, answer = post({"image": data, "key_color": "#14c828", "keep_shadow": keep})
        assert status == 200, answer
        alphas.append(np.asarray(decode(answer["image"]))[..., 3][shadow & (yy > 100)])
    assert alphas[1].mean() > alphas[0].mean() + 20


def test_the_cut_out_keeps_the_images_rgb_colour_profile():
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    Image.fromarray(screen_image()).save(buf, format="JPEG", quality=95, icc_profile=profile)
    status, answer = post(
        {"image": base64.b64encode(buf.getvalue()).decode("ascii"), "matte": True}
    )
    assert status == 200
    assert decode(answer["image"]).info.get("icc_profile") == profile
    assert "icc_profile" not in decode(answer["matte"]).info
