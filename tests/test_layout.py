"""``lib_tkg.layout`` and the layout/mask/aspect parameters of ``TkgParams``."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from lib_tkg.layout import (
    MAX_SUBJECTS,
    Ellipse,
    LayoutError,
    MaskImage,
    format_layout,
    load_mask_image,
    parse_layout,
)
from lib_tkg.params import FIELDS, TITLE, ParamError, TkgParams

INDEX = {f.name: i for i, f in enumerate(FIELDS)}


def png_base64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_parse_full_and_defaults():
    assert parse_layout("-0.5 0 0.3; 0.5 0.25 0.4 2 30") == (
        Ellipse(-0.5, 0.0, 0.3),
        Ellipse(0.5, 0.25, 0.4, 2.0, 30.0),
    )
    assert parse_layout(" 0 0 1 0.5\n0.1 -0.2 0.3 ;") == (
        Ellipse(0.0, 0.0, 1.0, 0.5),
        Ellipse(0.1, -0.2, 0.3),
    )
    for empty in ("", "  ", "none", "Default"):
        assert parse_layout(empty) == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 0 0.3; 1.5 0 0.3", "subject 2 'x' must be a number in [-1, 1], got '1.5'"),
        ("0 -2 0.3", "subject 1 'y' must be a number in [-1, 1], got '-2'"),
        ("0 0 9", "subject 1 'sigma' must be a number in [0.05, 4], got '9'"),
        ("0 0 0.01", "subject 1 'sigma' must be a number in [0.05, 4]"),
        ("0 0 0.3; 0 0 0.3; 0 0 .3 0.01", "subject 3 'aspect' must be 0 (stretch with the canvas)"),
        (
            "0 0 0.3 6",
            "subject 1 'aspect' must be 0 (stretch with the canvas) or a number in [0.05, 5]",
        ),
        ("0 0 0.3 1 400", "subject 1 'angle' must be a number in [-360, 360], got '400'"),
        ("0 0 0.3 1 nan", "subject 1 'angle' must be a number in [-360, 360], got 'nan'"),
        ("0 0", "subject 1 needs 3 to 5 numbers"),
        ("0 0 0.3 1 0 7", "subject 1 needs 3 to 5 numbers"),
        ("0 0 0.3;; 0 0 0.3", "subject 2 is empty"),
        ("0 zero 0.3", "subject 1 'y' must be a number in [-1, 1], got 'zero'"),
        ("; ".join(["0 0 0.3"] * (MAX_SUBJECTS + 1)), f"at most {MAX_SUBJECTS} subjects, got 9"),
    ],
)
def test_parse_errors_name_subject_and_field(text, message):
    with pytest.raises(LayoutError) as info:
        parse_layout(text)
    assert message in str(info.value)
    # the same text through every entry point, prefixed with the argument
    with pytest.raises(ParamError) as api:
        TkgParams.from_args(
            [True] + [None] * 0 + [FIELDS[i].default for i in range(1, 11)] + [text]
        )
    assert str(api.value) == f"{TITLE}: argument 11 'layout' {info.value}"
    with pytest.raises(ParamError) as named:
        TkgParams.from_mapping({"layout": text}, text=True)
    assert str(named.value) == f"{TITLE}: 'layout' {info.value}"


def test_layout_must_be_a_string():
    with pytest.raises(ParamError, match="'layout' must be a string"):
        TkgParams(layout=3)


numbers = st.floats(-1, 1, allow_nan=False)
subjects = st.builds(
    Ellipse,
    numbers,
    numbers,
    st.floats(0.05, 4),
    st.just(0.0) | st.floats(0.05, 5),
    st.floats(-360, 360),
)


@given(st.lists(subjects, max_size=MAX_SUBJECTS))
def test_format_parse_round_trip(ellipses):
    text = format_layout(tuple(ellipses))
    assert parse_layout(text) == tuple(ellipses)
    assert "," not in text  # X/Y/Z splits its values on commas
    assert TkgParams(layout=text).ellipses == tuple(ellipses)


def test_canonical_layout_drops_trailing_defaults():
    assert TkgParams(layout=" -0.50 0 .3 1 0 ;0.5 0 0.3 2").layout == "-0.5 0 0.3; 0.5 0 0.3 2"
    assert TkgParams(layout="0 0 0.3 1 -0").layout == "0 0 0.3"
    assert TkgParams(layout="none").layout == ""


def test_aspect_field():
    assert TkgParams().aspect == 0.0
    assert TkgParams.from_mapping({"aspect": "2.5"}, text=True).aspect == 2.5
    for bad in (0.01, -1.0, 5.5, math.inf):
        with pytest.raises(ParamError, match=r"'aspect' must be 0 \(stretch with the canvas\)"):
            TkgParams(aspect=bad)


def test_infotext_and_new_defaults():
    """Defaults write no new keys (old infotext unchanged); layout/aspect round trip."""
    base = TkgParams(enabled=True).to_infotext()
    assert not any(k in base for k in ("TKG layout", "TKG aspect", "TKG mask image"))
    params = TkgParams(enabled=True, layout="-0.5 0 0.3; 0.5 0 0.3", aspect=2.0)
    info = params.to_infotext()
    assert info["TKG layout"] == "-0.5 0 0.3; 0.5 0 0.3" and info["TKG aspect"] == "2.0"
    assert TkgParams.from_infotext(info) == params


def test_mask_image_sources_agree_and_note_in_infotext():
    grey = np.zeros((40, 60), np.uint8)
    grey[10:30, 20:40] = 255
    image = Image.fromarray(grey)
    expected = MaskImage(grey)
    rgba = Image.new("RGBA", (60, 40), (255, 255, 255, 0))
    rgba.paste((255, 255, 255, 255), (20, 10, 40, 30))
    for value in (
        png_base64(image),
        "data:image/png;base64," + png_base64(image),
        "DATA:image/png;BASE64," + png_base64(image),  # (any case, as the key route reads it)
        png_base64(Image.fromarray(grey.astype(np.uint16) * 257)),  # 16 bit: scaled, not clipped
        image,
        image.convert("RGB"),
        rgba,  # transparent = background
        grey,
        grey.astype(np.float32) / 255,
        np.repeat(grey[..., None], 3, axis=2),
    ):
        assert load_mask_image(value) == expected, type(value)
    for empty in (None, "", "  "):
        assert load_mask_image(empty) is None
    params = TkgParams.from_args([True, *[f.default for f in FIELDS[1:11]], "", png_base64(image)])
    assert params.mask_image == expected and hash(params.mask_image) == hash(expected)
    info = params.to_infotext()
    assert info["TKG mask image"].startswith("60x40")
    back = TkgParams.from_infotext(info)  # the image itself is not in the infotext
    assert back.mask_image is None and back.layout == params.layout


def test_a_cut_out_or_silhouette_on_transparency_is_subject_whatever_its_colour():
    """README: white (or opaque) = subject. An opaque dark or coloured subject on a
    transparent ground counted only by its brightness (black: no subject at all)."""
    expected = np.zeros((40, 60), np.uint8)
    expected[10:30, 20:40] = 255
    for colour in ((0, 0, 0), (200, 60, 40), (20, 20, 20)):
        cut_out = Image.new("RGBA", (60, 40), (0, 0, 0, 0))
        cut_out.paste((*colour, 255), (20, 10, 40, 30))
        assert load_mask_image(cut_out) == MaskImage(expected), colour
        assert load_mask_image(png_base64(cut_out)) == MaskImage(expected), colour
    opaque = Image.new("RGBA", (60, 40), (0, 0, 0, 255))  # no transparency: luminance
    opaque.paste((255, 255, 255, 255), (20, 10, 40, 30))
    assert load_mask_image(opaque) == MaskImage(expected)
    opaque.putpixel((0, 0), (0, 0, 0, 254))  # one stray pixel is no transparent ground
    assert load_mask_image(opaque) == MaskImage(expected)
    keyed = Image.new("RGB", (60, 40), (255, 255, 255))  # white is transparent (tRNS)
    keyed.paste((0, 0, 0), (20, 10, 40, 30))
    buf = io.BytesIO()
    keyed.save(buf, format="PNG", transparency=(255, 255, 255))
    assert load_mask_image(base64.b64encode(buf.getvalue()).decode()) == MaskImage(expected)


def test_a_mask_reads_base64_as_the_key_route_does():
    """Wrapped base64 (the ``base64`` command's 76-character lines) was refused, though the
    key route takes it; a data: URL without ';base64' and an ICO file were taken."""
    grey = np.zeros((40, 60), np.uint8)
    grey[10:30, 20:40] = 255
    text = png_base64(Image.fromarray(grey))
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    assert load_mask_image(wrapped) == MaskImage(grey)
    for bad in ("data:image/png," + text, base64.b64encode(_ico_bytes(grey)).decode()):
        with pytest.raises(ValueError):
            load_mask_image(bad)


def _ico_bytes(grey: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="ICO")
    return buf.getvalue()


@pytest.mark.parametrize(
    "value", ["bm90IGFuIGltYWdl", "%%%", 3, np.zeros((4, 4, 2), np.uint8), np.full((2, 2), np.nan)]
)
def test_bad_mask_image_is_a_clear_error(value):
    args = [True, *[f.default for f in FIELDS[1:11]], "", value]
    with pytest.raises(ParamError) as info:
        TkgParams.from_args(args)
    assert str(info.value).startswith(f"{TITLE}: argument 12 'mask_image' must be a base64")


def test_a_mask_over_the_image_readers_limit_is_a_clear_error(monkeypatch):
    # a 14000x14000 mask is about 300 KB of base64; Pillow refuses to open it (it crashed the
    # WebUI's process hook with a traceback, and the generation ran without TKG)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    args = [True, *[f.default for f in FIELDS[1:11]], "", png_base64(Image.new("L", (50, 50)))]
    with pytest.raises(ParamError) as info:
        TkgParams.from_args(args)
    assert "argument 12 'mask_image'" in str(info.value) and "at most 2,000 pixels" in str(
        info.value
    )


def test_mask_image_is_immutable():
    mask = MaskImage(np.zeros((2, 3), np.uint8))
    assert mask.size == (3, 2)
    with pytest.raises(ValueError):
        mask.pixels[0, 0] = 1
    with pytest.raises(AttributeError):
        mask.pixels = None
