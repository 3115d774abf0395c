"""Subject layout, mask image and aspect inside a real WebUI, over HTTP with the noise probe.

Opt-in like test_extension.py (WEBUI_DIR). Checks:

1. the issue's check: txt2img 384x256 with ``layout = "-0.5 0 0.3; 0.5 0 0.3"`` (arg 11) keeps
   the initial noise (|change| <= 0.05) at both subject centres and shifts channels 1 and 2
   positive between them and at the border, exactly as ``lib_tkg`` computes it;
2. the same call with 11 args is the paper's canvas-stretched mask, unchanged, and so are
   12- and full-length calls with the new args at their defaults;
3. ``aspect`` and a base64 ``mask_image`` reach the noise; the infotext names them;
4. bad layout / mask image / aspect values fail the request naming argument, subject, field;
5. X/Y/Z over ``[TKG] Layout`` and ``[TKG] Aspect`` (API), each cell = the direct request;
6. layout and aspect survive the png-info round trip.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image
from test_extension import (
    NOISE_ATOL,
    Result,
    alwayson,
    describe,
    generate,
    originals_and_cutouts,
    rgb_px,
    xyz_args,
)
from webui_server import WebUIServer

from lib_tkg.colors import channel_shifts
from lib_tkg.layout import load_mask_image
from lib_tkg.noise import tkg_noise
from lib_tkg.params import FIELDS, TkgParams

SIZE = {"width": 384, "height": 256}
ELEVEN = [True, "green", "#00ff00", 0, 0.5, 0, 0, True, False, 1.0, 0.1]
TWO = "-0.5 0 0.3; 0.5 0 0.3"
DONE_WHEN = [*ELEVEN, TWO]
SHIFTS = channel_shifts("green", "sd1")
INDEX = {f.name: i for i, f in enumerate(FIELDS)}


def full_args(**values) -> list:
    """Every argument, defaults unless given (positions from FIELDS: survives merges)."""
    args = [*ELEVEN, *(f.default for f in FIELDS[len(ELEVEN) :])]
    for name, value in values.items():
        args[INDEX[name]] = value
    return args


@pytest.fixture(scope="module")
def srv(webui_with_extension: WebUIServer) -> WebUIServer:
    return webui_with_extension


def plain_noise(srv: WebUIServer) -> np.ndarray:
    return generate(srv, **SIZE, **alwayson([False])).first_noise()


def lib_noise(base: np.ndarray, **mask) -> np.ndarray:
    return tkg_noise(torch.from_numpy(base.copy()), SHIFTS, **mask).numpy()


def test_two_subjects_keep_their_centres_and_shift_between(srv: WebUIServer) -> None:
    base = plain_noise(srv)
    on = generate(srv, **SIZE, **alwayson(DONE_WHEN))
    got = on.first_noise()
    assert got.shape == base.shape == (1, 4, 32, 48)
    change = got - base
    # subject centres x = -0.5, 0.5, y = 0 fall between grid points: the 2x2 around each
    for cols in ((11, 12), (35, 36)):
        centre = change[0, :, 15:17, cols[0] : cols[1] + 1]
        assert np.abs(centre).max() <= 0.05, centre
    for c in (1, 2):
        between = change[0, c, 15:17, 23:25]
        border = np.concatenate(
            [change[0, c, 0], change[0, c, -1], change[0, c, :, 0], change[0, c, :, -1]]
        )
        assert (between > 0.1).all(), between
        assert (border > 0).all() and border.mean() > 0.1, border
    for c in (0, 3):
        assert np.array_equal(got[0, c], base[0, c])
    err = np.abs(got - lib_noise(base, layout=TWO)).max()
    assert err <= NOISE_ATOL, err
    assert any(f"TKG layout: {TWO}" in t for t in on.infotexts), on.infotexts


def paper_mask(height: int, width: int, sigma: float) -> torch.Tensor:
    """The paper's mask, written out: exp(-(x^2 + y^2) / (2 sigma^2)), x, y in [-1, 1]."""
    ys, xs = np.linspace(-1, 1, height), np.linspace(-1, 1, width)
    gx, gy = np.meshgrid(xs, ys)
    return torch.from_numpy(np.exp(-(gx**2 + gy**2) / (2 * sigma**2)))


def test_eleven_args_unchanged(srv: WebUIServer) -> None:
    base = plain_noise(srv)
    eleven = generate(srv, **SIZE, **alwayson(ELEVEN))
    got = eleven.first_noise()
    want = lib_noise(base, mask=paper_mask(32, 48, 0.5).float())
    assert np.abs(got - want).max() <= NOISE_ATOL
    assert not any("TKG layout" in t or "TKG aspect" in t for t in eleven.infotexts)
    for args in ([*ELEVEN, ""], [*ELEVEN, "", None], full_args()):
        same = generate(srv, **SIZE, **alwayson(args))
        assert np.array_equal(same.first_noise(), got), args
        assert same.infotexts == eleven.infotexts, args


def test_aspect_reaches_the_noise(srv: WebUIServer) -> None:
    base = plain_noise(srv)
    r = generate(srv, **SIZE, **alwayson(full_args(aspect=1.0, sigma=0.3)))
    got = r.first_noise()
    assert np.abs(got - lib_noise(base, sigma=0.3, aspect=1.0)).max() <= NOISE_ATOL
    paper = lib_noise(base, sigma=0.3)
    assert np.abs(got - paper).max() > 0.01  # round, not stretched with the 3:2 canvas
    assert any("TKG aspect: 1.0" in t for t in r.infotexts), r.infotexts


def silhouette_png() -> str:
    pixels = np.zeros((256, 384), np.uint8)
    pixels[40:220, 230:330] = 255  # a tall box right of centre
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_mask_image_reaches_the_noise(srv: WebUIServer) -> None:
    base = plain_noise(srv)
    data = silhouette_png()
    r = generate(srv, **SIZE, **alwayson([*ELEVEN[:4], 0.15, *ELEVEN[5:], "", data]))
    got = r.first_noise()
    want = lib_noise(base, sigma=0.15, image=load_mask_image(data))
    assert np.abs(got - want).max() <= NOISE_ATOL
    change = got - base
    assert np.abs(change[0, :, 8:25, 30:40]).max() == 0  # inside the silhouette: kept
    assert (change[0, 1:3, 16, 5:15] > 0.1).all()  # the left, where the single subject was
    assert any("TKG mask image: 384x256" in t for t in r.infotexts), r.infotexts
    # with a layout too: the maximum of both
    both = generate(srv, **SIZE, **alwayson([*ELEVEN[:4], 0.15, *ELEVEN[5:], "-0.5 0 0.3", data]))
    want = lib_noise(base, sigma=0.15, layout="-0.5 0 0.3", image=load_mask_image(data))
    assert np.abs(both.first_noise() - want).max() <= NOISE_ATOL


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"layout": "0 0 0.3; 0 0 9"}, "argument 11 'layout' subject 2 'sigma' must be"),
        ({"layout": "0 0"}, "argument 11 'layout' subject 1 needs 3 to 5 numbers"),
        ({"mask_image": "bm90IGFuIGltYWdl"}, "argument 12 'mask_image' must be a base64"),
        ({"aspect": 9}, f"argument {INDEX['aspect']} 'aspect' must be 0"),
    ],
    ids=["layout-sigma", "layout-count", "mask-image", "aspect"],
)
def test_bad_values_fail_the_request_naming_them(srv: WebUIServer, values, needle) -> None:
    payload = {"prompt": "x", "steps": 3, "seed": 1, **SIZE, **alwayson(full_args(**values))}
    status, body = srv.request_raw("POST", "/sdapi/v1/txt2img", payload)
    assert status == 422, (status, body[:500])
    assert needle in body, body[:1000]
    assert len(generate(srv, cache=False, **alwayson([True])).images) == 2  # still serving


def axis_index(srv: WebUIServer, label: str) -> int:
    infos = srv.get_json("/sdapi/v1/script-info")
    xyz = next(s for s in infos if s.get("name") == "x/y/z plot" and not s.get("is_img2img"))
    labels = xyz["args"][0].get("choices") or []
    assert label in labels, labels
    return labels.index(label)


@pytest.mark.parametrize(
    ("axis", "values", "cells"),
    [
        ("[TKG] Layout", f"{TWO}, 0 0 0.4 2.5", [TWO, "0 0 0.4 2.5"]),
        ("[TKG] Aspect", "0, 2", [0.0, 2.0]),
    ],
)
def test_xyz_axes(srv: WebUIServer, axis: str, values: str, cells: list) -> None:
    r: Result = generate(
        srv,
        **SIZE,
        script_name="x/y/z plot",
        script_args=xyz_args(
            x_type=axis_index(srv, axis), x_values=values, include_lone_images=True
        ),
        **alwayson([True]),
    )
    assert len(r.images) == 1 + len(cells), describe(r)
    name = "layout" if axis.endswith("Layout") else "aspect"
    for image, value in zip(r.images[1:], cells, strict=True):
        direct = generate(srv, **SIZE, **alwayson(full_args(**{name: value})))
        originals, _ = originals_and_cutouts(direct)
        assert np.array_equal(rgb_px(image), rgb_px(originals[0])), value
    assert not np.array_equal(rgb_px(r.images[1]), rgb_px(r.images[2]))
    if name == "layout":
        assert f"TKG layout: {TWO}" in r.infotexts[1], r.infotexts
    status, body = srv.request_raw(
        "POST",
        "/sdapi/v1/txt2img",
        {
            "prompt": "x",
            "steps": 3,
            "script_name": "x/y/z plot",
            "script_args": xyz_args(
                x_type=axis_index(srv, axis), x_values="0 0 9" if name == "layout" else "7"
            ),
            **alwayson([True]),
        },
    )
    assert status >= 400 and f"'{name}'" in body, (status, body[:500])


def test_layout_and_aspect_png_info_round_trip(srv: WebUIServer) -> None:
    args = full_args(layout="-0.5 -0.5 0.25 2 30; 0.5 0.5 0.2", aspect=0.5)
    r = generate(srv, **SIZE, **alwayson(args))
    info = srv.post_json("/sdapi/v1/png-info", {"image": r.raw["images"][0]})
    tkg = {k: v for k, v in (info.get("parameters") or {}).items() if str(k).startswith("TKG")}
    assert TkgParams.from_infotext(tkg) == TkgParams.from_args(args), tkg
