"""The Extras section "TKG chroma key" and the /tkg-chroma/v1 routes on a real WebUI.

Servers: ``webui_with_extension`` (``--nowebui``: the routes exist without the UI),
``webui_ui_with_auth`` (UI and API, ``--api-auth``) and ``webui_without_extension`` (for
"disabled = no extension"). The Extras run path is driven through the test-only runner extension
(``extras_runner_extension/``), which calls ``modules.postprocessing.run_postprocessing`` as the
Extras tab does.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from webui_server import API_AUTH, REPO_ROOT

KEY = "/tkg-chroma/v1/key"
INFO = "/tkg-chroma/v1/info"
RUN = "/tkg-test/extras-run"
SECTION = "TKG chroma key"
SCREEN = (20, 200, 40)


def screen_image(size: int = 96) -> np.ndarray:
    """A red-orange disc (radius size/4) on a flat green screen."""
    img = np.empty((size, size, 3), np.uint8)
    img[:] = SCREEN
    yy, xx = np.mgrid[:size, :size]
    img[(yy - size / 2) ** 2 + (xx - size / 2) ** 2 <= (size / 4) ** 2] = (210, 90, 60)
    return img


def photo_image(size: int = 96) -> np.ndarray:
    """Greys and browns: no screen."""
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    v = (60 + 120 * (xx + yy) / (2 * size)).astype(np.uint8)
    return np.stack([v, v, (v * 0.9).astype(np.uint8)], axis=-1)


def b64png(array: np.ndarray, parameters: str | None = None) -> str:
    """Base64 PNG; ``parameters``: an A1111 infotext chunk, as a generated image carries."""
    buf = io.BytesIO()
    pnginfo = PngImagePlugin.PngInfo()
    if parameters is not None:
        pnginfo.add_text("parameters", parameters)
    Image.fromarray(array).save(buf, format="PNG", pnginfo=pnginfo)
    return base64.b64encode(buf.getvalue()).decode()


def unb64(data: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data)))


def post(srv, path, payload, **kw) -> tuple[int, dict]:
    status, body = srv.request_raw("POST", path, payload, **kw)
    return status, (json.loads(body) if body else {})


def assert_cut_out(rgba: np.ndarray) -> None:
    """Subject opaque, screen clear."""
    h, w = rgba.shape[:2]
    alpha = rgba[..., 3]
    c = slice(h // 2 - h // 12, h // 2 + h // 12)
    assert alpha[c, c].min() == 255, "subject not opaque"
    assert alpha[: h // 12].max() == 0 and alpha[:, : w // 12].max() == 0, "screen not clear"


# ------------------------------------------------------------------------------ key route


def test_key_route_keys_a_screen_image(webui_with_extension):
    status, answer = post(webui_with_extension, KEY, {"image": b64png(screen_image())})
    assert status == 200, answer
    out = unb64(answer["image"])
    assert out.format == "PNG" and out.mode == "RGBA" and out.size == (96, 96)
    assert_cut_out(np.asarray(out))
    assert answer["key_color"] == "#{:02x}{:02x}{:02x}".format(*SCREEN)
    assert answer["keyed"] is True and answer["matte"] is None

    data_url = "data:image/png;base64," + b64png(screen_image())
    status, answer = post(webui_with_extension, KEY, {"image": data_url, "matte": True})
    assert status == 200, answer
    matte = unb64(answer["matte"])
    assert matte.mode == "L"
    assert np.array_equal(np.asarray(matte), np.asarray(unb64(answer["image"]))[..., 3])


def test_key_route_no_screen_is_keyed_false(webui_with_extension):
    img = photo_image()
    status, answer = post(webui_with_extension, KEY, {"image": b64png(img)})
    assert status == 200, answer
    assert answer["keyed"] is False and answer["key_color"] is None and answer["notes"]
    out = np.asarray(unb64(answer["image"]))
    assert (out[..., 3] == 255).all() and np.array_equal(out[..., :3], img)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"image": "this is not base64!"}, "image"),
        ({"tolerance": 7}, "tolerance"),
        ({"key_color": "nope"}, "key_color"),
    ],
)
def test_key_route_bad_input_is_422_and_the_server_keeps_serving(
    webui_with_extension, change, field
):
    srv = webui_with_extension
    status, answer = post(srv, KEY, {"image": b64png(screen_image(32)), **change})
    assert status == 422, answer
    assert answer["field"] == field and f"'{field}'" in answer["detail"]
    assert "must be" in answer["detail"]
    assert srv.proc.poll() is None
    assert srv.get_json("/sdapi/v1/sd-models")
    status, answer = post(srv, KEY, {"image": b64png(screen_image(32))})
    assert status == 200 and answer["keyed"] is True


def test_key_route_info(webui_with_extension):
    info = webui_with_extension.get_json(INFO)
    assert info["version"] and info["script"] == "TKG chroma background"
    assert info["presets"]["green"] == "#00ff00" and "sdxl" in info["families"]
    assert [a["name"] for a in info["arguments"]][:2] == ["enabled", "color"]
    assert info["max_megapixels"] == 64.0


def test_key_route_info_gives_the_defaults_a_left_out_argument_takes(webui_with_extension):
    """/info's defaults are what a left-out script argument takes: the host's API fixes those
    at its first txt2img request until a restart, so /info followed the settings while
    requests did not (a trial: the settings said magenta, /info said magenta, ``[true]`` gave
    green; and after a restart the other way round)."""
    srv = webui_with_extension
    srv.txt2img(prompt="x", width=64, height=64, steps=1)  # the host API's defaults are made
    for color in ("magenta", "green"):
        srv.post_json("/sdapi/v1/options", {"tkg_chroma_default_color": color})
        try:
            said = {a["name"]: a["default"] for a in srv.get_json(INFO)["arguments"]}
            res = srv.txt2img(
                prompt="x",
                width=64,
                height=64,
                steps=1,
                alwayson_scripts={"TKG chroma background": {"args": [True]}},
            )
        finally:
            srv.post_json("/sdapi/v1/options", {"tkg_chroma_default_color": "green"})
        infotext = json.loads(res["info"])["infotexts"][0]
        assert f"TKG color: {said['color']}" in infotext, (color, said["color"], infotext)
        assert said["sigma"] == 0.5


def test_key_route_respects_api_auth(webui_ui_with_auth):
    srv = webui_ui_with_auth
    payload = {"image": b64png(screen_image(32))}
    for creds in (None, (API_AUTH[0], "wrong"), ("nobody", API_AUTH[1])):
        assert post(srv, KEY, payload, auth=creds)[0] == 401
        assert srv.request_raw("GET", INFO, auth=creds)[0] == 401
        assert srv.request_raw("GET", "/sdapi/v1/options", auth=creds)[0] == 401
    status, answer = post(srv, KEY, payload)
    assert status == 200 and answer["keyed"] is True
    assert srv.get_json(INFO)["version"]


def test_key_route_size_limit_setting_gives_413(webui_ui_with_auth):
    srv = webui_ui_with_auth
    opt = "tkg_chroma_key_max_megapixels"
    assert srv.get_json(INFO)["max_megapixels"] == 64.0  # Forge's /options lists set ones only
    srv.post_json("/sdapi/v1/options", {opt: 0.001})  # 1000 pixels
    try:
        assert srv.get_json(INFO)["max_megapixels"] == 0.001
        status, answer = post(srv, KEY, {"image": b64png(screen_image(40))})
        assert status == 413 and answer["field"] == "image" and "40x40" in answer["detail"]
        assert post(srv, KEY, {"image": b64png(screen_image(30))})[0] == 200
    finally:
        srv.post_json("/sdapi/v1/options", {opt: 64.0})


# ------------------------------------------------------------------------------ Extras


def test_extras_section_is_in_the_ui_config(webui_ui_with_auth):
    config = webui_ui_with_auth.get_json("/config")
    labels = {c.get("props", {}).get("label") for c in config["components"]}
    assert SECTION in labels
    assert {"Key colour", "Custom key colour", "Key tolerance", "Despill strength"} <= labels
    assert "Also output the matte" in labels
    elem_ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert "tkg_chroma_extras_keep_shadow" in elem_ids


def test_controls_with_settings_defaults_stay_out_of_ui_config(webui_ui_with_auth):
    """The host saves every control's value into ui-config.json at the first UI start and puts
    it back at every later one, over the default a changed setting gives (colour, custom
    colour, strength, save matte): those controls are kept out of the file; the others (the
    sigma, the tolerance, ...) are in it as before."""
    saved = json.loads((webui_ui_with_auth.data_dir / "ui-config.json").read_text())
    ours = {k for k in saved if k.startswith("customscript/tkg_chroma.py/txt2img/")}
    labels = {k.split("/")[3] for k in ours}
    assert {"Mask sigma", "Key tolerance"} <= labels, labels  # the others are saved
    kept_out = {"Background colour", "Custom colour", "Shift strength (0 = Auto)"}
    kept_out.add("Also save the matte")
    assert not kept_out & labels, sorted(labels)


def run_extras(srv, image: np.ndarray | None = None, parameters=None, **payload) -> dict:
    if image is not None:
        payload["image"] = b64png(image, parameters)
    return srv.post_json(RUN, payload)


def test_extras_keys_after_upscaling_and_saves_png_whatever_the_format(webui_ui_with_auth):
    srv = webui_ui_with_auth
    srv.post_json("/sdapi/v1/options", {"samples_format": "jpg"})
    try:
        res = run_extras(
            srv,
            screen_image(),
            scripts={
                SECTION: {"enable": True, "matte": True},
                "Upscale": {"upscale_enabled": True, "upscaler_1_name": "Lanczos", "upscale_by": 2},
            },
        )
    finally:
        srv.post_json("/sdapi/v1/options", {"samples_format": "png"})
    assert res["order"].index("Upscale") < res["order"].index(SECTION)
    # the matte is RGB where Forge's stealth infotext is on (it fails on one channel)
    assert res["modes"][0] == "RGBA" and res["modes"][1] in ("L", "RGB"), res["modes"]
    cut, matte = (
        np.asarray(unb64(b).convert(m)) for b, m in zip(res["images"], ("RGBA", "L"), strict=True)
    )
    assert cut.shape == (192, 192, 4)  # keyed after the 2x upscale
    assert_cut_out(cut)
    assert np.array_equal(matte, cut[..., 3])
    saved = [Path(p) for p in res["saved"]]
    assert [p.suffix for p in saved] == [".png", ".png"], saved
    assert saved[1].stem.endswith("-matte")
    on_disk = np.asarray(Image.open(saved[0]))
    assert on_disk.shape == (192, 192, 4) and np.array_equal(on_disk, cut)
    assert np.array_equal(np.asarray(Image.open(saved[1]).convert("L")), matte)
    info = res["info"]
    assert info.index("Postprocess upscaler") < info.index(SECTION) and "#" in info


def test_extras_cut_out_of_a_generated_image_keeps_its_alpha(webui_ui_with_auth):
    """An input with ``parameters`` (a generated image) saved as PNG: Forge writes its stealth
    infotext into the alpha channel of such images; the cut-out's alpha must survive, and the
    matte must be saved (a one-channel image failed the whole save there: it comes as RGB)."""
    res = run_extras(
        webui_ui_with_auth,
        screen_image(),
        parameters="a red apple\nSteps: 3, Sampler: Euler, Seed: 1, Size: 96x96",
        scripts={SECTION: {"enable": True, "matte": True}},
    )
    cut = np.asarray(unb64(res["images"][0]))
    assert_cut_out(cut)
    saved = Image.open(res["saved"][0])
    assert saved.info.get("parameters", "").startswith("a red apple")
    assert np.array_equal(np.asarray(saved), cut)
    matte = Image.open(res["saved"][1])
    assert matte.mode in ("L", "RGB") and np.array_equal(
        np.asarray(matte.convert("L")), cut[..., 3]
    )


def test_extras_no_screen_passes_through_with_a_note(webui_ui_with_auth):
    img = photo_image()
    res = run_extras(webui_ui_with_auth, img, scripts={SECTION: {"enable": True}})
    assert len(res["images"]) == 1
    out = np.asarray(unb64(res["images"][0]))
    assert np.array_equal(out[..., :3], img) and (out[..., 3] == 255).all()
    assert "nothing was keyed" in res["info"]


def test_extras_batch_from_directory_never_replaces_the_input(webui_ui_with_auth, tmp_path):
    src = tmp_path / "shot.png"
    Image.fromarray(screen_image()).save(src)
    before = src.read_bytes()
    res = run_extras(
        webui_ui_with_auth,
        mode=2,
        input_dir=str(tmp_path),
        output_dir=str(tmp_path),
        scripts={SECTION: {"enable": True, "key_color": "custom", "custom_color": "#14c828"}},
    )
    assert src.read_bytes() == before
    assert [Path(p).name for p in res["saved"]] == ["shot-1.png"]
    assert_cut_out(np.asarray(Image.open(res["saved"][0])))


def test_extras_batch_never_replaces_an_input_with_an_unkeyed_image(webui_ui_with_auth, tmp_path):
    # a.jpg (no screen) comes first: the host saved it unchanged as a.png, over the input a.png
    # (a screen image) before reading it; now every image the section handles gets a free name
    Image.fromarray(photo_image()).save(tmp_path / "a.jpg", quality=95)
    Image.fromarray(screen_image()).save(tmp_path / "a.png")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    res = run_extras(
        webui_ui_with_auth,
        mode=2,
        input_dir=str(tmp_path),
        output_dir=str(tmp_path),
        scripts={SECTION: {"enable": True}},
    )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name in before} == before
    saved = sorted(Path(p).name for p in res["saved"])
    assert len(saved) == 2 and not set(saved) & set(before), saved
    cut_outs = [np.asarray(Image.open(p)) for p in res["saved"]]
    keyed = [c for c in cut_outs if c.shape[2] == 4 and c[..., 3].min() == 0]
    assert len(keyed) == 1, saved
    assert_cut_out(keyed[0])


def test_extras_disabled_output_is_unchanged(webui_with_extension, webui_without_extension):
    outs = []
    for srv in (webui_with_extension, webui_without_extension):
        res = run_extras(srv, screen_image())
        assert len(res["images"]) == len(res["saved"]) == 1
        with open(res["saved"][0], "rb") as f:
            saved = f.read()
        outs.append(
            (res["images"], res["modes"], res["info"], saved, os.path.splitext(res["saved"][0])[1])
        )
    assert outs[0] == outs[1]
    assert SECTION not in outs[0][2]


def test_readme_curl_example_works(webui_ui_with_auth, tmp_path):
    """The README's curl example, run as printed (server address and credentials substituted)."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index('(printf \'{"image"')
    script = readme[start : readme.index("```", start)]
    script = (
        script.replace("http://127.0.0.1:7860", webui_ui_with_auth.url)
        .replace("user:pass", ":".join(API_AUTH))
        .replace("examples/", f"{REPO_ROOT}/examples/")
        .replace("python -c", f"{sys.executable} -c")
    )
    run = subprocess.run(
        ["bash", "-ec", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[1] == "True", run.stdout
    cut = Image.open(tmp_path / "cutout.png")
    assert cut.mode == "RGBA" and np.asarray(cut)[..., 3].min() == 0
