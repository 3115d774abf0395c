"""TKG with sd-webui-animatediff text-to-video on a real AUTOMATIC1111 (opt-in, like the rest).

Needs AnimateDiff's source: ``$WEBUI_ANIMATEDIFF`` or ``/work/webui/ext/sd-webui-animatediff``
(a checkout of continue-revolution/sd-webui-animatediff; skipped when absent, and on Forge,
where its master branch does not run). Nothing is downloaded: the test makes

* a random full-width SD1.5 checkpoint (``make_tiny_checkpoint.py --profile sd15``: motion
  modules are injected into the real SD1.5 block widths), and
* a random motion module from AnimateDiff's own classes (``make_motion_module.py``),

both cached in ``WEBUI_TEST_CACHE``; each server gets its own copy of AnimateDiff (without
``.git``) with the motion module in its ``model/`` folder.

Servers (one at a time): the host with AnimateDiff alone, then with AnimateDiff and this
extension in two folder orders: AnimateDiff linked as ``sd-webui-animatediff`` (sorts before
``sd-webui-tkg-chroma``; our ``metadata.ini`` names it) and as ``zz-animatediff`` (sorts after
ours, and ``metadata.ini`` does not match it: the runtime order check must do the work).

Checked for 8 frames at 128 px, 2 Euler steps, AnimateDiff formats GIF + Frame (API response:
base64 GIF, then the 8 frames as PNG):

* TKG off = TKG not installed: the initial noise of all 8 frames, the PNG frames, the GIF bytes;
* TKG on: every frame's initial noise shifted exactly as ``lib_tkg`` computes, centre kept;
  AnimateDiff's GIF keeps 8 frames; an 8-frame animated WebP and APNG with alpha come back
  base64 after AnimateDiff's items, equal to ``lib_tkg.animation.key_sequence`` of the returned
  frames, and are on disk beside its GIF as ``<its name>-rgba.*``;
* the order path taken: deferred past AnimateDiff's ``postprocess`` only in the ``tkg-first``
  order (in the other, ``metadata.ini`` or folder order already runs AnimateDiff first);
* image-to-video (img2img with AnimateDiff, ``animatediff-first`` order, where ``metadata.ini``
  must move our ``before_process_batch`` before AnimateDiff's): TKG off = not installed; TKG on
  changes the frames through AnimateDiff's latent randomisation noise (its first ``p.rng``
  draw), leaves the sampler's noise (the second draw) alone and writes no "not applied" note.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from webui_server import EXTENSION_NAME, REPO_ROOT, WebUIServer, prepare_assets

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from lib_tkg.animation import key_sequence
from lib_tkg.params import TITLE, TkgParams

HERE = Path(__file__).resolve().parent
AD_DEFAULT = Path("/work/webui/ext/sd-webui-animatediff")
MM_NAME = "mm_tkg_random_v2.safetensors"
FRAMES = 8
PAYLOAD = {
    "prompt": "a red apple",
    "negative_prompt": "",
    "width": 128,
    "height": 128,
    "steps": 2,
    "seed": 11,
    "cfg_scale": 7,
    "sampler_name": "Euler",
    "batch_size": 1,
    "n_iter": 1,
}
AD_ARGS = {
    "enable": True,
    "model": MM_NAME,
    "video_length": FRAMES,
    "batch_size": FRAMES,
    "fps": 8,
    "loop_number": 0,
    "format": ["GIF", "Frame"],
}
ORDERS = {"animatediff-first": "sd-webui-animatediff", "tkg-first": "zz-animatediff"}


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def _run(cmd: list[str]) -> None:
    import subprocess

    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"{cmd[1]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


@pytest.fixture(scope="module")
def ad_env(webui_config, tmp_path_factory):
    """(AnimateDiff source, sd15 checkpoint, motion module file, HF_HOME)."""
    if webui_config.kind != "a1111":
        pytest.skip("AnimateDiff's master branch targets AUTOMATIC1111 (see README: Forge)")
    src = Path(os.environ.get("WEBUI_ANIMATEDIFF", "") or AD_DEFAULT)
    if not (src / "scripts" / "animatediff.py").is_file():
        pytest.skip(f"no sd-webui-animatediff checkout at {src} (set WEBUI_ANIMATEDIFF)")
    _, hf_home = prepare_assets(webui_config)
    cache = webui_config.cache_dir
    py = str(webui_config.python)
    ckpt_script = HERE / "make_tiny_checkpoint.py"
    ckpt = cache / f"sd15-full-{_digest(ckpt_script)}.safetensors"
    if not ckpt.is_file():
        _run([py, str(ckpt_script), str(ckpt), "--profile", "sd15", "--seed", "0"])
    mm_script = HERE / "make_motion_module.py"
    mm = cache / f"mm-random-{_digest(mm_script, src / 'motion_module.py')}.safetensors"
    if not mm.is_file():
        _run([py, str(mm_script), str(mm), str(src), str(webui_config.webui_dir)])
    return src, ckpt, mm, hf_home


def _server(cfg, env, tmp_path_factory, name: str, ad_link: str, with_tkg: bool):
    src, ckpt, mm, hf_home = env
    data_dir = tmp_path_factory.mktemp(name)
    ad_copy = data_dir / "ad-copy" / ad_link
    shutil.copytree(src, ad_copy, ignore=shutil.ignore_patterns(".git"))
    target = ad_copy / "model" / MM_NAME
    try:
        os.link(mm, target)
    except OSError:
        shutil.copyfile(mm, target)
    probe_dir = data_dir / "noise-probe"
    probe_dir.mkdir()
    extensions = {"tkg-test-noise-probe": HERE / "probe_extension", ad_link: ad_copy}
    if with_tkg:
        extensions[EXTENSION_NAME] = Path(os.environ.get("WEBUI_EXTENSION_SRC") or REPO_ROOT)
    srv = WebUIServer(
        cfg,
        data_dir,
        ckpt,
        hf_home,
        extensions=extensions,
        extra_env={"TKG_PROBE_DIR": str(probe_dir)},
    )
    srv.probe_dir = probe_dir
    return srv


class Video:
    """One txt2img answer with AnimateDiff: its items decoded, the probe's noise records."""

    def __init__(self, srv: WebUIServer, raw: dict) -> None:
        self.raw = raw
        self.items = [base64.b64decode(b) for b in raw["images"]]
        self.info = json.loads(raw["info"])
        self.noise = _probe(srv)

    @property
    def gif(self) -> bytes:
        return self.items[0]

    @property
    def frames(self) -> list[np.ndarray]:
        return [np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for b in self.items[1:9]]

    @property
    def extra(self) -> list[bytes]:
        return self.items[1 + FRAMES :]

    def first_noise(self) -> np.ndarray:
        firsts = [a for m, a in self.noise if m["call"] == 0]
        assert len(firsts) == 1, [m for m, _ in self.noise]
        return firsts[0]


def _probe(srv: WebUIServer) -> list:
    out = []
    for m in sorted(Path(srv.probe_dir).glob("noise-*.json")):
        out.append((json.loads(m.read_text()), np.load(m.with_suffix(".npy"))))
    return out


def _init_image() -> str:
    """A 128 px picture for image-to-video: a red square on green, base64 PNG."""
    img = np.zeros((128, 128, 3), np.uint8)
    img[...] = (40, 180, 60)
    img[40:88, 40:88] = (200, 40, 40)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def video(srv: WebUIServer, tkg: list | None, *, i2v: bool = False) -> Video:
    for f in Path(srv.probe_dir).glob("noise-*"):
        f.unlink()
    scripts = {"animatediff": {"args": [dict(AD_ARGS)]}}
    if tkg is not None:
        scripts[TITLE.lower()] = {"args": tkg}
    payload = {**PAYLOAD, "alwayson_scripts": scripts}
    route = "/sdapi/v1/txt2img"
    if i2v:  # AnimateDiff image-to-video: img2img with AnimateDiff on
        route = "/sdapi/v1/img2img"
        payload.update(init_images=[_init_image()], denoising_strength=0.75)
    return Video(srv, srv.post_json(route, payload, timeout=1500))


def off_equal(a: Video, b: Video) -> bool:
    """Same number of items, same PNG frames' pixels, same GIF bytes."""
    return (
        len(a.items) == len(b.items)
        and all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames, strict=True))
        and a.gif == b.gif
    )


def animation_frames(data: bytes) -> tuple[list[Image.Image], str]:
    im = Image.open(io.BytesIO(data))
    out = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        out.append(im.convert("RGBA") if im.mode in ("RGBA", "LA", "P") else im.copy())
    return out, im.format


@pytest.fixture(scope="module")
def baseline(webui_config, ad_env, tmp_path_factory) -> dict[str, Video]:
    """AnimateDiff without this extension: text-to-video and image-to-video."""
    name = "sd-webui-animatediff"
    with _server(webui_config, ad_env, tmp_path_factory, "ad-only", name, False) as srv:
        return {"t2v": video(srv, None), "i2v": video(srv, None, i2v=True)}


@pytest.mark.parametrize("order", list(ORDERS))
def test_animatediff_with_tkg(webui_config, ad_env, tmp_path_factory, baseline, order):
    import torch

    from lib_tkg.colors import channel_shifts
    from lib_tkg.noise import gaussian_mask, tkg_noise

    plain_i2v = baseline["i2v"]
    baseline = baseline["t2v"]
    assert baseline.first_noise().shape == (FRAMES, 4, 16, 16)
    assert len(baseline.items) == 1 + FRAMES
    gif_frames, fmt = animation_frames(baseline.gif)
    assert fmt == "GIF" and len(gif_frames) == FRAMES

    with _server(webui_config, ad_env, tmp_path_factory, order, ORDERS[order], True) as srv:
        off = video(srv, [False])
        on = video(srv, [True])
        if order == "animatediff-first":  # metadata.ini orders our before_process_batch first
            i2v_off, i2v_on = video(srv, [False], i2v=True), video(srv, [True], i2v=True)
        roots = [srv.data_dir, srv.cfg.webui_dir / "outputs"]
        log = srv.log_text()

    # TKG off = not installed: noise, PNG frames, GIF
    assert len(off.items) == len(baseline.items), "TKG off added or dropped items"
    assert np.array_equal(off.first_noise(), baseline.first_noise())
    assert off_equal(off, baseline)

    # TKG on: every frame's initial noise shifted as lib_tkg does, centre kept
    base, got = baseline.first_noise(), on.first_noise()
    shifts = channel_shifts("green", "sd1")
    want = tkg_noise(torch.from_numpy(base.copy()), shifts, 0.5, (0.0, 0.0)).numpy()
    assert np.abs(got - want).max() <= 1e-5
    mask = gaussian_mask(16, 16, 0.5, (0.0, 0.0)).numpy()[0, 0]
    diff = got - base
    for f in range(FRAMES):
        for c in (1, 2):
            assert np.all(diff[f, c][mask < 0.1] > 0), (f, c)
            assert np.abs(diff[f, c][mask > 0.95]).max() < 0.1 * diff[f, c][mask < 0.1].mean()

    # AnimateDiff's own GIF keeps its 8 frames; our animations follow its items
    gif_frames, fmt = animation_frames(on.gif)
    assert fmt == "GIF" and len(gif_frames) == FRAMES
    assert len(on.extra) == 2, f"expected WebP + APNG after AnimateDiff's items:\n{log[-3000:]}"
    webp, apng = on.extra
    # the frames keyed as one sequence by lib_tkg (here with the test venv's numpy/opencv);
    # whether a random model's frames hold a keyable screen is not what is tested
    params = TkgParams.from_args([True])
    keyed = key_sequence(
        on.frames,
        prior_color=params.key_color,  # (the colour asked for)
        tolerance=params.tolerance,
        despill=params.despill,
    )
    for data, want_fmt in ((webp, "WEBP"), (apng, "PNG")):
        frames, fmt = animation_frames(data)
        assert fmt == want_fmt and len(frames) == FRAMES
        assert all(f.mode == "RGBA" for f in frames)
        for got, want in zip(frames, keyed.frames, strict=True):
            got = np.asarray(got).astype(int)
            d_alpha = np.abs(got[..., 3] - want[..., 3])
            assert d_alpha.max() <= 3 and d_alpha.mean() < 0.5, want_fmt
            seen = (got[..., 3] > 0) & (want[..., 3] > 0)
            assert np.abs(got[..., :3] - want[..., :3])[seen].max() <= 3, want_fmt
    assert any("TKG" in t for t in on.info["infotexts"])

    if order == "animatediff-first":
        # image-to-video: AnimateDiff's latent randomisation draws p.rng's first noise in its
        # before_process_batch; ours, ordered before it, installed the shift there. The probe
        # sees the sampler's noise (the second draw): not shifted, same as without TKG. The
        # frames change (the randomised latents carry the shift) and no "not applied" note.
        assert np.array_equal(i2v_off.first_noise(), plain_i2v.first_noise())
        assert np.array_equal(i2v_on.first_noise(), plain_i2v.first_noise())
        assert off_equal(i2v_off, plain_i2v)
        pairs = zip(i2v_on.frames, i2v_off.frames, strict=True)
        changed = [not np.array_equal(a, b) for a, b in pairs]
        # frames 1..7 get (1 - init_alpha) of the shifted noise (frame 0 none)
        assert all(changed[1:]), f"image-to-video frames unchanged by TKG: {changed}"
        assert not any("TKG noise" in t for t in i2v_on.info["infotexts"])
        assert "NOT applied" not in log
        assert len(i2v_on.extra) == 2

    # order: metadata.ini puts our postprocess after AnimateDiff's when it has its own name;
    # with AnimateDiff after us in folder order the runtime check defers ours
    deferred = "AnimateDiff's postprocess runs after ours" in log
    assert deferred == (order == "tkg-first"), log[-3000:]
    assert "referencing the wrong extension" not in log

    # on disk beside AnimateDiff's GIF, same bytes as returned
    found = {}
    for root in roots:
        for path in root.rglob("*-rgba.*") if root.is_dir() else ():
            found[path.read_bytes()] = path
    for data in (webp, apng):
        assert data in found, f"returned animation not on disk under {roots}"
        path = found[data]
        stem = path.name.split("-rgba.")[0]
        assert (path.parent / f"{stem}.gif").read_bytes() == on.gif
        assert path.parent.parent.name == "AnimateDiff"
