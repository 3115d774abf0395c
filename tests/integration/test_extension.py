"""The extension inside a real WebUI, over HTTP (opt-in: WEBUI_DIR, see conftest.py).

Two servers per session: ``webui_with_extension`` (this repository linked into extensions/)
and ``webui_without_extension``; both also carry the test-only noise probe
(``probe_extension/``), which saves the sampler's initial noise (the tensor ``p.rng.next()``
returned, before the sampler scales it) to ``srv.probe_dir`` for every sampling.

Checks (numbered as in the brief):

1. disabled (``args [false]``, or no ``alwayson_scripts``) = the host without the extension:
   same pixels, same initial noise, one image, no TKG infotext;
2. ``args [true]`` changes the initial noise exactly as ``lib_tkg`` computes it;
3. the response has the original (unchanged) and an RGBA cut-out; the infotext names TKG;
4. ``save_images`` writes the original and a ``-rgba.png``; without it nothing ``-rgba`` is saved;
   the cut-out and matte are named after the original (``<stem>-rgba.png``, ``<stem>-matte.png``);
   saving leaves the returned cut-out exactly as keyed;
5. the ``TKG ...`` infotext keys (through ``/sdapi/v1/png-info``) give back the same parameters;
6. an X/Y/Z plot over "[TKG] Shift strength" gives a grid and cells that differ;
7. the first image of a batch of 2 = a batch of 1 with the same seed;
8. invalid arguments fail the request with an error naming the argument; the server lives on.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image
from webui_server import REPO_ROOT, TXT2IMG_DEFAULTS, WebUIServer, decode_image

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from lib_tkg.params import FIELDS, TITLE, TkgParams

SCRIPT_KEY = TITLE.lower()  # alwayson_scripts key (the API compares titles lower-case)
STRENGTH_AXIS = next(f.axis for f in FIELDS if f.name == "strength")
BASE: dict[str, Any] = {
    **TXT2IMG_DEFAULTS,
    "sampler_name": "Euler",  # not ancestral: p.rng is used once, for the initial noise
}
NOISE_ATOL = 1e-5


# ------------------------------------------------------------------------------------ helpers


@dataclass
class Result:
    """One txt2img answer: decoded images (PNG bytes kept), parsed info, probe records."""

    payload: dict
    raw: dict = field(repr=False)
    info: dict = field(repr=False)
    png: list[bytes] = field(repr=False)
    images: list[Image.Image] = field(repr=False)
    noise: list[tuple[dict, np.ndarray]] = field(default_factory=list, repr=False)
    seconds: float = 0.0

    @property
    def infotexts(self) -> list[str]:
        return list(self.info.get("infotexts") or [])

    def first_noise(self) -> np.ndarray:
        """The initial noise of the (only) batch: the probe's call 0."""
        firsts = [a for m, a in self.noise if m.get("call") == 0]
        assert len(firsts) == 1, (
            f"expected one initial-noise record from the probe, got {len(firsts)}: "
            f"{[m for m, _ in self.noise]}"
        )
        return firsts[0]


def alwayson(args: list | str | None) -> dict:
    return {} if args is None else {"alwayson_scripts": {SCRIPT_KEY: {"args": args}}}


def read_probe(srv: WebUIServer) -> list[tuple[dict, np.ndarray]]:
    out = []
    for meta_path in sorted(Path(srv.probe_dir).glob("noise-*.json")):
        meta = json.loads(meta_path.read_text())
        out.append((meta, np.load(meta_path.with_suffix(".npy"), allow_pickle=False)))
    return out


def clear_probe(srv: WebUIServer) -> None:
    for f in Path(srv.probe_dir).glob("noise-*"):
        f.unlink()


_CACHE: dict[tuple[int, str], Result] = {}


def generate(srv: WebUIServer, *, cache: bool = True, **overrides: Any) -> Result:
    """txt2img with BASE + overrides; identical requests to the same server are sent once."""
    payload = {**BASE, **overrides}
    key = (id(srv), json.dumps(payload, sort_keys=True))
    if cache and key in _CACHE:
        return _CACHE[key]
    clear_probe(srv)
    t0 = time.monotonic()
    raw = srv.post_json("/sdapi/v1/txt2img", payload)
    seconds = time.monotonic() - t0
    png = [decode_image(b) for b in raw.get("images") or []]
    images = []
    for data in png:
        img = Image.open(io.BytesIO(data))
        img.load()
        images.append(img)
    info = json.loads(raw["info"]) if isinstance(raw.get("info"), str) else (raw.get("info") or {})
    result = Result(payload, raw, info, png, images, read_probe(srv), seconds)
    if cache:
        _CACHE[key] = result
    return result


def px(img: Image.Image) -> np.ndarray:
    return np.asarray(img)


def rgb_px(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"))


def describe(r: Result) -> str:
    return (
        f"request={json.dumps(r.payload)}\n"
        f"images={[(im.mode, im.size) for im in r.images]}\ninfotexts={r.infotexts}"
    )


def originals_and_cutouts(r: Result) -> tuple[list[Image.Image], list[Image.Image]]:
    """(the host's images, what follows them) after ``index_of_first_image`` (skips a grid).

    By position, not by mode: when it saves a PNG, Forge writes "stealth infotext" into the
    alpha channel of the very image object it then returns (``modules/stealth_infotext.py``
    ``putalpha(255)``), so with ``save_images`` the host's own originals come back RGBA too.
    """
    start = int(r.info.get("index_of_first_image", 0) or 0)
    n = int(r.payload.get("batch_size", 1)) * int(r.payload.get("n_iter", 1))
    return r.images[start : start + n], r.images[start + n :]


def outputs_roots(srv: WebUIServer) -> list[Path]:
    """Where the host may save txt2img images: its options, else <data-dir>/outputs."""
    roots = [srv.data_dir / "outputs", srv.cfg.webui_dir / "outputs"]
    try:
        opts = srv.get_json("/sdapi/v1/options")
        for key in ("outdir_samples", "outdir_txt2img_samples"):
            value = (opts or {}).get(key)
            if value:
                p = Path(value)
                roots.insert(0, p if p.is_absolute() else srv.cfg.webui_dir / p)
    except Exception:
        pass
    return roots


def saved_pngs(srv: WebUIServer) -> set[Path]:
    found: set[Path] = set()
    for root in outputs_roots(srv):
        if root.is_dir():
            found.update(p.resolve() for p in root.rglob("*.png"))
    return found


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def srv(webui_with_extension: WebUIServer) -> WebUIServer:
    return webui_with_extension


@pytest.fixture(scope="module")
def plain(webui_without_extension: WebUIServer) -> WebUIServer:
    return webui_without_extension


# ------------------------------------------------------------------------------------ 0. probe


def test_probe_records_initial_noise(plain: WebUIServer) -> None:
    """The probe itself: one record per sampling, unit-variance noise of the latent's shape,
    the same for the same seed and different for another seed."""
    a = generate(plain, width=128, height=128)
    b = generate(plain, width=128, height=128, seed=2)
    na, nb = a.first_noise(), b.first_noise()
    assert na.shape == (1, 4, 16, 16), [m for m, _ in a.noise]
    assert 0.6 < float(na.std()) < 1.4 and abs(float(na.mean())) < 0.3
    assert not np.array_equal(na, nb)
    again = generate(plain, cache=False, width=128, height=128)
    assert np.array_equal(again.first_noise(), na)


# ------------------------------------------------------------------------------------ 1. disabled


@pytest.mark.parametrize("args", [[False], None], ids=["args-false", "no-alwayson"])
def test_disabled_is_identical_to_host_without_extension(
    srv: WebUIServer, plain: WebUIServer, args: list | None
) -> None:
    want = generate(plain)
    got = generate(srv, **alwayson(args))
    assert len(got.images) == len(want.images) == 1, describe(got)
    assert not any("TKG" in t for t in got.infotexts), got.infotexts
    assert np.array_equal(got.first_noise(), want.first_noise()), "initial noise changed"
    assert got.images[0].mode == want.images[0].mode
    diff = np.abs(px(got.images[0]).astype(int) - px(want.images[0]).astype(int))
    assert diff.max() == 0, f"pixels differ from the host without the extension: max {diff.max()}"


# ------------------------------------------------------------------------------------ 2. noise


def test_enabled_shifts_initial_noise_as_lib_tkg(srv: WebUIServer) -> None:
    import torch

    from lib_tkg.colors import channel_shifts
    from lib_tkg.noise import gaussian_mask, tkg_noise

    off = generate(srv, width=128, height=128, **alwayson([False]))
    on = generate(srv, width=128, height=128, **alwayson([True]))
    base, got = off.first_noise(), on.first_noise()
    assert got.shape == base.shape == (1, 4, 16, 16)

    shifts = channel_shifts("green", "sd1")
    want = tkg_noise(torch.from_numpy(base.copy()), shifts, 0.5, (0.0, 0.0)).numpy()
    diff = got - base
    mask = gaussian_mask(16, 16, 0.5, (0.0, 0.0)).numpy()[0, 0]
    border, centre = mask < 0.1, mask > 0.95
    assert border.any() and centre.any()
    for c in (1, 2):  # green on SD1: channels 1 and 2 shifted positive outside the centre
        assert diff[0, c][border].mean() > 0.05, (c, diff[0, c])
        assert np.all(diff[0, c][border] > 0), (c, diff[0, c])
        assert np.abs(diff[0, c][centre]).max() < 0.1 * diff[0, c][border].mean(), (c, diff[0, c])
    for c, s in enumerate(shifts):
        if s == 0:
            assert np.array_equal(got[0, c], base[0, c]), f"channel {c} has no shift but changed"
    err = np.abs(got - want).max()
    assert err <= NOISE_ATOL, (
        f"initial noise differs from tkg_noise(noise, {shifts}, 0.5, (0, 0)) by {err:.3g}; "
        f"probe: {[m for m, _ in on.noise]}"
    )
    # and it reaches the picture
    assert not np.array_equal(rgb_px(on.images[0]), rgb_px(off.images[0]))


# ------------------------------------------------------------------------------------ 3. RGBA


def test_rgba_cutout_in_response(srv: WebUIServer) -> None:
    r = generate(srv, **alwayson([True]))
    originals, cutouts = originals_and_cutouts(r)
    assert len(originals) == 1 and len(cutouts) == 1, describe(r)
    assert r.images[0] is originals[0], "the original should come first"
    assert originals[0].mode == "RGB" and cutouts[0].mode == "RGBA", describe(r)
    assert cutouts[0].size == originals[0].size == (64, 64)
    assert len(r.infotexts) == len(r.images), describe(r)
    assert all("TKG" in t for t in r.infotexts), r.infotexts

    # The original is not altered by keying: same pixels as with make_rgba off.
    args_no_rgba = [True, "green", "#00ff00", 0.0, 0.5, 0.0, 0.0, False]
    plain_run = generate(srv, **alwayson(args_no_rgba))
    assert len(plain_run.images) == 1, describe(plain_run)
    assert np.array_equal(rgb_px(plain_run.images[0]), rgb_px(r.images[0]))


def test_rgba_cutout_is_lib_keyer_output(srv: WebUIServer) -> None:
    """The cut-out is lib_tkg.keying.priors.key_generated of the original with the request's
    parameters (computed here with the test venv's numpy/opencv, so allow a little rounding)."""
    from lib_tkg.keying.priors import key_generated

    r = generate(srv, **alwayson([True]))
    originals, cutouts = originals_and_cutouts(r)
    params = TkgParams.from_args([True])
    want = key_generated(rgb_px(originals[0]), params).rgba
    got = px(cutouts[0]).astype(int)
    d = np.abs(got - np.asarray(want).astype(int))
    assert d.max() <= 3 and d.mean() < 0.5, f"cut-out differs from key_generated: max {d.max()}"


# ------------------------------------------------------------------------------------ 4. saving


def test_save_images_writes_original_and_rgba(srv: WebUIServer) -> None:
    before = saved_pngs(srv)
    generate(srv, cache=False, seed=4242, **alwayson([True]))  # save_images off (API default)
    unsaved = saved_pngs(srv) - before
    assert not unsaved, f"files written although save_images is off: {sorted(unsaved)}"

    r = generate(srv, cache=False, seed=4242, save_images=True, **alwayson([True]))
    new = sorted(saved_pngs(srv) - before)
    rgba = [p for p in new if p.name.endswith("-rgba.png")]
    other = [p for p in new if not p.name.endswith("-rgba.png")]
    assert len(rgba) == 1, (
        f"expected one -rgba.png, new files: {new} (searched {outputs_roots(srv)})"
    )
    assert len(other) == 1, f"expected the original saved too, new files: {new}"
    originals, cutouts = originals_and_cutouts(r)
    assert len(originals) == 1 and len(cutouts) == 1 and cutouts[0].mode == "RGBA", describe(r)
    with Image.open(rgba[0]) as f:
        assert f.mode == "RGBA" and f.size == (64, 64)
        saved, sent = px(f).astype(int), px(cutouts[0]).astype(int)
        # exactly, alpha too (Forge's stealth infotext rewrites the alpha of what it saves)
        assert np.array_equal(saved, sent), "saved cut-out != returned cut-out"
        assert "TKG" in (f.info.get("parameters") or ""), f.info
    with Image.open(other[0]) as f:
        assert np.array_equal(rgb_px(f), rgb_px(originals[0])), "saved original != returned"
        assert "TKG" in (f.info.get("parameters") or ""), f.info
    assert rgba[0].parent == other[0].parent, "cut-out saved to another folder than the original"


# what makes the test screen painter (screen_extension/) paint a subject on green
SCREEN_MARKER = "TKG_TEST_SCREEN"
# make_rgba and save_matte on, the rest defaults
RGBA_AND_MATTE = [True, "green", "#00ff00", 0.0, 0.5, 0.0, 0.0, True, True]


def test_saved_cutout_is_named_after_its_original(srv: WebUIServer) -> None:
    """``<original stem>-rgba.png`` and ``-matte.png`` beside the original, whatever number the
    host gave it (the cut-out used to be saved first and take the next number)."""
    before = saved_pngs(srv)
    generate(srv, cache=False, seed=4343, save_images=True, **alwayson(RGBA_AND_MATTE))
    new = sorted(saved_pngs(srv) - before)
    rgba = [p for p in new if p.name.endswith("-rgba.png")]
    matte = [p for p in new if p.name.endswith("-matte.png")]
    other = [p for p in new if p not in rgba and p not in matte]
    assert len(rgba) == len(matte) == len(other) == 1, new
    assert rgba[0].name == other[0].stem + "-rgba.png", [p.name for p in new]
    assert matte[0].name == other[0].stem + "-matte.png", [p.name for p in new]
    assert rgba[0].parent == matte[0].parent == other[0].parent, new
    with Image.open(matte[0]) as f:
        assert f.mode == "L" and f.size == (64, 64), (f.mode, f.size)
        # Forge's stealth infotext cannot go into a one-channel image: there the extension keeps
        # the infotext under another PNG text key
        text = f.info.get("parameters") or f.info.get("tkg-chroma-parameters") or ""
        assert "TKG: on" in text, f.info


def test_a_keyed_cutout_is_saved_as_returned(srv: WebUIServer) -> None:
    """A picture that is keyed (the test screen painter's subject on green): the saved cut-out
    and matte are the returned ones, alpha and all. On Forge the default "Stealth infotext =
    Alpha" made every saved cut-out opaque (alpha 254/255); unkeyed ones (alpha 255) hid it."""
    before = saved_pngs(srv)
    r = generate(
        srv, cache=False, seed=11, prompt=f"{SCREEN_MARKER} apple", save_images=True,
        **alwayson(RGBA_AND_MATTE),
    )  # fmt: skip
    new = sorted(saved_pngs(srv) - before)
    _, (cutout, matte) = originals_and_cutouts(r)
    alpha = px(cutout)[..., 3]
    assert (alpha == 0).mean() > 0.5 and (alpha == 255).mean() > 0.1, "the painted disc is keyed"
    (rgba,) = (p for p in new if p.name.endswith("-rgba.png"))
    (matte_file,) = (p for p in new if p.name.endswith("-matte.png"))
    with Image.open(rgba) as f:
        assert np.array_equal(px(f), px(cutout)), "saved cut-out != returned cut-out"
        assert "TKG: on" in (f.info.get("parameters") or ""), f.info
    with Image.open(matte_file) as f:
        assert np.array_equal(px(f.convert("L")), px(matte)) and f.mode == "L", f.mode


def test_saving_leaves_the_returned_cutout_as_keyed(srv: WebUIServer) -> None:
    """What the API returns with ``save_images`` is exactly what it returns without: on Forge
    the default "Stealth infotext = Alpha" rewrites the alpha channel of the very object given
    to ``save_image`` (``modules/stealth_infotext.py``), so the extension must save a copy.
    And the returned cut-out is the keyer's output of the returned original."""
    from lib_tkg.keying.priors import key_generated

    unsaved = generate(srv, seed=7, **alwayson(RGBA_AND_MATTE))
    saved = generate(srv, cache=False, seed=7, save_images=True, **alwayson(RGBA_AND_MATTE))
    originals, outputs = originals_and_cutouts(saved)
    _, unsaved_outputs = originals_and_cutouts(unsaved)
    assert [im.mode for im in outputs] == ["RGBA", "L"], describe(saved)
    assert [im.mode for im in unsaved_outputs] == ["RGBA", "L"], describe(unsaved)
    for name, got, want in zip(("cut-out", "matte"), outputs, unsaved_outputs, strict=True):
        d = np.abs(px(got).astype(int) - px(want).astype(int))
        assert d.max() == 0, f"{name} changed by saving: {int((d > 0).sum())} values differ"
    assert np.array_equal(px(outputs[1]), px(outputs[0])[..., 3]), "matte != cut-out alpha"

    params = TkgParams.from_args(RGBA_AND_MATTE)
    want = np.asarray(key_generated(rgb_px(originals[0]), params).rgba)
    d = np.abs(px(outputs[0]).astype(int) - want.astype(int))
    assert d.max() == 0, (
        f"returned cut-out != key_generated of the returned original: {int((d > 0).sum())} values "
        f"differ, max {d.max()}"
    )


# ------------------------------------------------------------------------------------ 5. infotext


ROUND_TRIP_ARGS = {
    "defaults": [True],
    "all-set": [True, "custom", "#ff00ff", 0.2, 0.7, 0.3, -0.2, True, False, 0.5, 0.2],
    "preset": [True, "blue", "#00ff00", 0.15, 1.25, -0.5, 0.25, True, False, 0.0, 0.05],
}


@pytest.mark.parametrize("name", list(ROUND_TRIP_ARGS))
def test_infotext_round_trip(srv: WebUIServer, name: str) -> None:
    args = ROUND_TRIP_ARGS[name]
    want = TkgParams.from_args(args)
    r = generate(srv, **alwayson(args))
    originals, cutouts = originals_and_cutouts(r)
    assert originals and cutouts, describe(r)
    for label, index in (
        ("original", r.images.index(originals[0])),
        ("cut-out", r.images.index(cutouts[0])),
    ):
        info = srv.post_json("/sdapi/v1/png-info", {"image": r.raw["images"][index]})
        parameters = info.get("parameters") or {}
        tkg = {k: v for k, v in parameters.items() if str(k).startswith("TKG")}
        assert tkg, f"{label}: no TKG keys in png-info: {info.get('info')!r}"
        assert TkgParams.from_infotext(tkg) == want, (label, tkg, info.get("info"))
        assert r.infotexts[index] == info.get("info"), "PNG text != response infotext"


# ------------------------------------------------------------------------------------ 6. X/Y/Z


# scripts/xyz_grid.py ui() return value, in order (same on A1111 v1.10.1 and Forge main)
XYZ_ARGS = {
    "x_type": 0,
    "x_values": "",
    "x_values_dropdown": [],
    "y_type": 0,
    "y_values": "",
    "y_values_dropdown": [],
    "z_type": 0,
    "z_values": "",
    "z_values_dropdown": [],
    "draw_legend": True,
    "include_lone_images": False,
    "include_sub_grids": False,
    "no_fixed_seeds": False,
    "vary_seeds_x": False,
    "vary_seeds_y": False,
    "vary_seeds_z": False,
    "margin_size": 0,
    "csv_mode": False,
}


def xyz_args(**values: Any) -> list:
    unknown = set(values) - set(XYZ_ARGS)
    assert not unknown, unknown
    return list({**XYZ_ARGS, **values}.values())


def test_xyz_plot_over_shift_strength(srv: WebUIServer) -> None:
    infos = srv.get_json("/sdapi/v1/script-info")
    xyz = [s for s in infos if s.get("name") == "x/y/z plot" and not s.get("is_img2img")]
    assert xyz, [s.get("name") for s in infos]
    labels = xyz[0]["args"][0].get("choices") or []
    assert STRENGTH_AXIS in labels, f"{STRENGTH_AXIS!r} not among X/Y/Z axes: {labels}"
    axis = labels.index(STRENGTH_AXIS)

    r = generate(
        srv,
        script_name="x/y/z plot",
        script_args=xyz_args(x_type=axis, x_values="0.05, 0.3", include_lone_images=True),
        **alwayson([True]),
    )
    assert len(r.images) == 3, describe(r)  # grid, then the two cells (include_lone_images)
    grid, cells = r.images[0], r.images[1:]
    assert grid.size[0] >= 2 * 64 and grid.size[1] >= 64, grid.size
    assert all(c.size == (64, 64) for c in cells)
    assert not np.array_equal(rgb_px(cells[0]), rgb_px(cells[1])), "cells are identical"
    texts = r.infotexts
    assert "TKG strength: 0.05" in texts[1] and "TKG strength: 0.3" in texts[2], texts
    # The axis sets exactly the strength a direct request with that strength uses.
    direct = generate(srv, **alwayson([True, "green", "#00ff00", 0.3]))
    assert np.array_equal(rgb_px(direct.images[0]), rgb_px(cells[1]))


def test_xyz_plot_over_enabled(srv: WebUIServer) -> None:
    """X/Y/Z cells are shallow copies of one p (one extra_generation_params dict): a cell with
    TKG turned off must neither be shifted nor inherit the TKG infotext of an earlier cell."""
    infos = srv.get_json("/sdapi/v1/script-info")
    xyz = next(s for s in infos if s.get("name") == "x/y/z plot" and not s.get("is_img2img"))
    labels = xyz["args"][0].get("choices") or []
    enabled_axis = next(f.axis for f in FIELDS if f.name == "enabled")
    assert enabled_axis in labels, labels
    args = xyz_args(
        x_type=labels.index(enabled_axis),
        x_values_dropdown=["True", "False"],
        include_lone_images=True,
    )
    r = generate(srv, script_name="x/y/z plot", script_args=args, **alwayson([True]))
    assert len(r.images) == 3, describe(r)
    on, off = generate(srv, **alwayson([True])), generate(srv, **alwayson([False]))
    assert np.array_equal(rgb_px(r.images[1]), rgb_px(on.images[0])), "enabled cell"
    assert np.array_equal(rgb_px(r.images[2]), rgb_px(off.images[0])), "disabled cell"
    assert "TKG: on" in r.infotexts[1], r.infotexts
    assert "TKG" not in r.infotexts[2], f"disabled cell has TKG infotext: {r.infotexts[2]}"


# ------------------------------------------------------------------------------------ 7. batch


def test_first_of_batch_equals_single(srv: WebUIServer) -> None:
    single = generate(srv, **alwayson([True]))
    batch = generate(srv, batch_size=2, **alwayson([True]))
    originals, cutouts = originals_and_cutouts(batch)
    assert len(originals) == 2 and len(cutouts) == 2, describe(batch)
    n1, n2 = single.first_noise(), batch.first_noise()
    assert n2.shape[0] == 2
    assert np.abs(n2[:1] - n1).max() <= 1e-6, "initial noise of batch item 0 != batch of 1"
    d = np.abs(rgb_px(originals[0]).astype(int) - rgb_px(single.images[0]).astype(int))
    if d.max() > 1:
        off1 = generate(srv, **alwayson([False]))
        off2 = generate(srv, batch_size=2, **alwayson([False]))
        host = np.abs(rgb_px(off2.images[0]).astype(int) - rgb_px(off1.images[0]).astype(int))
        pytest.fail(
            f"batch item 0 differs from batch of 1 by up to {d.max()}/255 "
            f"(host alone, disabled: {host.max()}/255)"
        )
    # each cut-out is its own batch item keyed, and carries that item's infotext (seed)
    from lib_tkg.keying.priors import key_generated

    assert all(c.mode == "RGBA" for c in cutouts), describe(batch)
    assert not np.array_equal(rgb_px(originals[0]), rgb_px(originals[1]))
    for k in range(2):
        want = np.asarray(key_generated(rgb_px(originals[k]), TkgParams(enabled=True)).rgba)
        assert np.abs(px(cutouts[k]).astype(int) - want.astype(int)).max() <= 3, k
    start = int(batch.info.get("index_of_first_image", 0) or 0)
    texts = batch.infotexts[start:]
    seeds = batch.info.get("all_seeds") or []
    assert len(texts) == 4 and len(seeds) >= 2, describe(batch)
    for k in range(2):
        assert f"Seed: {seeds[k]}," in texts[k], texts[k]
        assert f"Seed: {seeds[k]}," in texts[2 + k], (k, texts[2 + k])


# ------------------------------------------------------------------------------------ 8. validation


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ([True, "notacolour"], "color"),
        ([True, "green", "#00ff00", 5.0], "strength"),
        ("true", "JSON list"),  # the host copies a string letter by letter into the args
    ],
    ids=["bad-colour", "strength-out-of-range", "args-a-string"],
)
def test_invalid_arguments_fail_request(srv: WebUIServer, args: list, name: str) -> None:
    mark = srv.log_size()
    status, body = srv.request_raw("POST", "/sdapi/v1/txt2img", {**BASE, **alwayson(args)})
    log = srv.log_since(mark)
    assert status == 422, f"HTTP {status} for args {args}: {body[:500]}"
    assert re.search(rf"\b{name}\b", body), (
        f"error body does not name {name!r}: HTTP {status} {body[:1000]}\n--- server log:\n{log}"
    )
    # the console has our one line, not the API handler's traceback
    assert "generation stopped: TKG chroma background: argument" in log, log
    assert "Traceback" not in log, log
    # the server keeps answering, and gives the same image as before
    ok = generate(srv, cache=False, **alwayson([True]))
    ref = generate(srv, **alwayson([True]))
    assert len(ok.images) == 2
    assert np.array_equal(rgb_px(ok.images[0]), rgb_px(ref.images[0]))


def test_a_bad_xyz_value_on_a_tkg_axis_fails_the_request_with_422(srv: WebUIServer) -> None:
    infos = srv.get_json("/sdapi/v1/script-info")
    xyz = next(s for s in infos if s.get("name") == "x/y/z plot" and not s.get("is_img2img"))
    labels = xyz["args"][0].get("choices") or []
    args = xyz_args(x_type=labels.index(STRENGTH_AXIS), x_values="0.05, 9")
    mark = srv.log_size()
    payload = {**BASE, "script_name": "x/y/z plot", "script_args": args, **alwayson([True])}
    status, body = srv.request_raw("POST", "/sdapi/v1/txt2img", payload)
    log = srv.log_since(mark)
    assert status == 422 and "'strength'" in body and "got 9" in body, (status, body[:1000])
    assert "Traceback" not in log, log


# ------------------------------------------------------------------------------ 9. output safety


class _Options:
    """Set host options for one test and put the old values back afterwards."""

    def __init__(self, srv: WebUIServer, **values: Any) -> None:
        self.srv, self.values = srv, values

    # A1111's GET /sdapi/v1/options leaves out the options extensions add (it lists those it
    # had before they were added): those are put back to their defaults
    OWN_DEFAULTS: ClassVar[dict[str, Any]] = {
        "tkg_chroma_rgba_suffix": "-rgba",
        "tkg_chroma_matte_suffix": "-matte",
    }

    def __enter__(self) -> _Options:
        current = self.srv.get_json("/sdapi/v1/options") or {}
        self.old = {k: current.get(k, self.OWN_DEFAULTS.get(k)) for k in self.values}
        self.srv.post_json("/sdapi/v1/options", self.values)
        return self

    def __exit__(self, *exc: object) -> None:
        self.srv.post_json(
            "/sdapi/v1/options", {k: v for k, v in self.old.items() if v is not None}
        )


def test_equal_suffix_settings_do_not_lose_the_cutout(srv: WebUIServer) -> None:
    """Both suffix settings equal: the matte used to overwrite the cut-out. Now the defaults
    are used, with a message, and both outputs are saved beside the original."""
    before = saved_pngs(srv)
    mark = srv.log_size()
    same = {"tkg_chroma_rgba_suffix": "-same", "tkg_chroma_matte_suffix": "-same"}
    with _Options(srv, **same):
        r = generate(srv, cache=False, seed=4545, save_images=True, **alwayson(RGBA_AND_MATTE))
    new = sorted(saved_pngs(srv) - before)
    names = [p.name for p in new]
    original = [p for p in new if not p.stem.endswith(("-rgba", "-matte", "-same"))]
    assert len(original) == 1, names
    stem = original[0].stem
    assert sorted(names) == sorted([f"{stem}.png", f"{stem}-rgba.png", f"{stem}-matte.png"])
    with Image.open(original[0].with_name(f"{stem}-rgba.png")) as cut:
        assert cut.mode == "RGBA"
    with Image.open(original[0].with_name(f"{stem}-matte.png")) as matte:
        assert matte.mode == "L"
    log = srv.log_since(mark)
    assert "collide" in log, log[-3000:]
    assert len(r.images) == 3, describe(r)  # original, cut-out, matte


def _fixed_names(outdir: Path) -> dict[str, Any]:
    """Options: txt2img samples in ``outdir`` named ``<seed>.png``, without numbers."""
    return {
        "outdir_txt2img_samples": str(outdir),
        "save_to_dirs": False,
        "samples_filename_pattern": "[seed]",
        "save_images_add_number": False,
    }


def test_an_existing_file_of_the_cutouts_name_is_kept(srv: WebUIServer, tmp_path: Path) -> None:
    """File numbers off: ``<seed>-rgba.png`` may be another run's cut-out (of the same seed in
    another format); it is kept, and this cut-out is saved as ``<seed>-rgba-1.png``."""
    seed = 4747
    outdir = tmp_path / "samples"
    outdir.mkdir()
    earlier = outdir / f"{seed}-rgba.png"
    earlier.write_bytes(b"an earlier cut-out")
    mark = srv.log_size()
    with _Options(srv, **_fixed_names(outdir)):
        generate(srv, cache=False, seed=seed, save_images=True, **alwayson([True]))
    assert earlier.read_bytes() == b"an earlier cut-out"
    names = sorted(p.name for p in outdir.iterdir())
    assert names == [f"{seed}-rgba-1.png", f"{seed}-rgba.png", f"{seed}.png"], names
    with Image.open(outdir / f"{seed}-rgba-1.png") as f:
        assert f.mode == "RGBA" and "TKG: on" in (f.info.get("parameters") or ""), f.info
    assert f"{seed}-rgba.png exists and is kept" in srv.log_since(mark)


def test_a_path_too_long_for_the_host_never_costs_the_original(
    srv: WebUIServer, tmp_path: Path
) -> None:
    """The host cuts a saved file's whole path to ``f_namemax - 4`` characters after the
    callbacks. With the prompt in the name and a deep output folder, the original's name is
    cut, and "-rgba" and "-matte" were cut off the outputs' names: the cut-out, then the matte,
    replaced the original (one file left, the matte). The outputs' stems are now shortened
    before the suffix; all three files are kept."""
    limit = os.statvfs(tmp_path).f_namemax - 4
    deep = tmp_path / ("d" * 100)
    outdir = deep / ("e" * (limit - len(str(deep)) - 1 - len("4949-") - 6))  # 6 prompt letters
    outdir.mkdir(parents=True)
    options = {**_fixed_names(outdir), "samples_filename_pattern": "[seed]-[prompt_spaces]"}
    with _Options(srv, **options):
        r = generate(srv, cache=False, seed=4949, save_images=True, **alwayson(RGBA_AND_MATTE))
    files = sorted(outdir.iterdir())
    assert len(files) == 3, [f.name for f in files]
    assert all(len(str(f)) - len(".png") <= limit for f in files)
    by_end = {
        end: [f for f in files if f.name.endswith(end)] for end in ("-rgba.png", "-matte.png")
    }
    assert len(by_end["-rgba.png"]) == 1 and len(by_end["-matte.png"]) == 1, files
    (original,) = set(files) - set(by_end["-rgba.png"]) - set(by_end["-matte.png"])
    with Image.open(original) as im:  # (RGBA, alpha 254-255, with Forge's stealth infotext)
        assert np.asarray(im.convert("RGBA"))[..., 3].min() >= 254, original.name
    with Image.open(by_end["-rgba.png"][0]) as im:
        assert im.mode == "RGBA"
    with Image.open(by_end["-matte.png"][0]) as im:
        assert im.mode in ("L", "RGB")
    assert len(r.images) == 3, describe(r)


def test_a_folder_too_deep_for_the_suffix_never_costs_an_original(
    srv: WebUIServer, tmp_path: Path
) -> None:
    """The output folder leaves room for five characters of a file name: the host cuts
    "4950-rgba" to "4950-" and, the next image, "4951-rgba" to "4951-", ... and with one
    character less the cut-out replaced the original (a trial on A1111: one file left of
    three; with two images, one "0-rgb" and one "0-mat" for both). Each output now gets a
    short free name the host keeps whole: six files for two images with mattes."""
    limit = os.statvfs(tmp_path).f_namemax - 4
    deep = tmp_path / ("d" * 100)
    outdir = deep / ("e" * (limit - len(str(deep)) - 1 - 1 - 5))  # room for 5 characters
    outdir.mkdir(parents=True)
    with _Options(srv, **_fixed_names(outdir)):
        r = generate(
            srv, cache=False, seed=4950, batch_size=2, save_images=True, **alwayson(RGBA_AND_MATTE)
        )
    files = sorted(outdir.iterdir())
    assert len(files) == 6, [f.name for f in files]
    assert all(len(str(f)) - len(".png") <= limit for f in files)
    originals = [outdir / "4950.png", outdir / "4951.png"]
    assert all(f in files for f in originals), [f.name for f in files]
    modes = {}
    for f in sorted(set(files) - set(originals)):
        with Image.open(f) as im:
            modes[f.name] = "matte" if im.mode in ("L", "RGB") else im.mode
    assert sorted(modes.values()) == ["RGBA", "RGBA", "matte", "matte"], modes
    assert len(r.images) >= 6, describe(r)  # (and the grid, where the host returns it)


def test_a_failed_save_is_logged_with_path_and_reason(srv: WebUIServer, tmp_path: Path) -> None:
    """The host's saver writes ``<name>.tmp`` first, and that name is taken by a folder: the
    cut-out's save fails, and the log says where and why, never that it was saved; the original
    is saved and the cut-out is still returned."""
    seed = 4646
    outdir = tmp_path / "samples"
    outdir.mkdir()
    blocker = outdir / f"{seed}-rgba.tmp"
    blocker.mkdir()
    mark = srv.log_size()
    with _Options(srv, **_fixed_names(outdir)):
        r = generate(srv, cache=False, seed=seed, save_images=True, **alwayson([True]))
    log = srv.log_since(mark)
    assert (outdir / f"{seed}.png").is_file(), sorted(p.name for p in outdir.iterdir())
    assert blocker.is_dir() and not (outdir / f"{seed}-rgba.png").exists()
    lines = [line for line in log.splitlines() if "could not save" in line]
    assert len(lines) == 1 and str(outdir / f"{seed}-rgba.png") in lines[0], log[-3000:]
    assert "Error" in lines[0], lines[0]  # the reason (IsADirectoryError, ...)
    assert "saved it" not in log and "saving such images" not in log, log[-3000:]
    originals, cutouts = originals_and_cutouts(r)
    assert len(originals) == 1 and len(cutouts) == 1 and cutouts[0].mode == "RGBA"
