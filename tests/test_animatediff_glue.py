"""AnimateDiff glue (``lib_tkg/webui/animatediff.py``) on the stand-in host, both script orders.

``animatediff_class`` is a stand-in for sd-webui-animatediff's script with the behaviour that
matters here (read from its source, master a88e889): its argument is one ``AnimateDiffProcess``
(here a dict, as the API sends it); its ``before_process`` sets ``p.batch_size = video_length``
(done here by ``run``: the stand-in host has no ``before_process`` hook) and
``p.do_not_save_samples`` (done here in ``process``); image-to-video draws ``p.rng.next()`` in
``before_process_batch``;
``postprocess`` writes a GIF of ``res.images[first:first + video_length]`` into
``<outpath_samples>/AnimateDiff/<date>/<seq>-<seed>.gif`` and replaces ``res.images`` with the
paths (UI) or base64 (API).
"""

from __future__ import annotations

import base64
import datetime
import io
import os
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_script import Model, hook_script, make_runner, script_args

from lib_tkg.params import TkgParams
from lib_tkg.webui import animatediff, noise_hook

AD_ARGS = {"enable": True, "video_length": 4, "batch_size": 4, "fps": 5, "loop_number": 0}


@pytest.fixture
def host(tmp_path):
    import test_script

    harness = test_script._harness()
    with harness.webui_host() as h:
        h.shared.sd_model = Model("sd1")
        h.tmp = tmp_path
        yield h


def animatediff_class(h, log: list, **ad_args):
    base = hook_script(h, "AnimateDiff")

    class AnimateDiffStandIn(base):
        def ui(self, is_img2img):
            value = {**AD_ARGS, **ad_args}
            return [types.SimpleNamespace(value=value, label="AnimateDiff")]

        def process(self, p, params):
            if params["enable"]:
                p.do_not_save_samples = True

        def before_process_batch(self, p, params, **kwargs):
            if params["enable"] and hasattr(p, "init_images"):
                log.append(p.rng.next())  # AnimateDiffI2VLatent.randomize

        def postprocess(self, p, res, params):
            if not params["enable"]:
                return
            folder = Path(p.outpath_samples, "AnimateDiff", datetime.date.today().isoformat())
            folder.mkdir(parents=True, exist_ok=True)
            first = res.index_of_first_image
            frames = res.images[first : first + params["video_length"]]
            log.append(len(frames))
            path = folder / f"{len(os.listdir(folder)):05}-{res.all_seeds[0]}.gif"
            frames[0].save(path, save_all=True, append_images=frames[1:], duration=200)
            data = base64.b64encode(path.read_bytes()).decode()
            res.images = [data] if p.is_api else [str(path)]

    return AnimateDiffStandIn


def run(h, order, *, img2img=False, is_api=False, enabled=True, **ad_args):
    log: list = []
    ad = animatediff_class(h, log, **ad_args)
    extra = {"extra_before": [ad]} if order == "animatediff-first" else {"extra_after": [ad]}
    runner, script = make_runner(h, is_img2img=img2img, **extra)
    args = script_args(runner, script, enabled=enabled)
    cls = (
        h.processing.StableDiffusionProcessingImg2Img
        if img2img
        else h.processing.StableDiffusionProcessingTxt2Img
    )
    p = cls(
        scripts=runner,
        script_args=args,
        outpath_samples=str(h.tmp / "out"),
        batch_size=AD_ARGS["video_length"],
    )
    p.is_api = is_api
    processed = h.processing.process_images(p)
    return p, processed, log


def read_animation(data: bytes) -> list[np.ndarray]:
    im = Image.open(io.BytesIO(data))
    frames = []
    for i in range(im.n_frames):
        im.seek(i)
        frames.append(np.asarray(im.convert("RGBA")))
    return frames


ORDERS = ["animatediff-first", "tkg-first"]


@pytest.mark.parametrize("order", ORDERS)
def test_transparent_animation_beside_animatediff_in_either_order(host, order):
    _, processed, log = run(host, order)
    assert log == [4]  # AnimateDiff encoded its 4 frames and nothing of ours
    gif, *ours = processed.images
    assert gif.endswith(".gif")
    stem = gif[: -len(".gif")]
    assert ours == [stem + "-rgba.webp", stem + "-rgba.png"]
    for path in ours:
        frames = read_animation(Path(path).read_bytes())
        assert len(frames) == 4
        for f in frames:  # the stand-in's green screen keyed out, its square kept
            assert f[2, 2, 3] == 0 and f[32, 32, 3] == 255
    assert Image.open(gif).n_frames == 4
    assert processed.infotexts[1].startswith("a cat")
    assert "TKG" in processed.infotexts[1]


def test_both_orders_give_the_same_files(host):
    _, first, _ = run(host, "animatediff-first")
    _, second, _ = run(host, "tkg-first")
    a = [Path(x).read_bytes() for x in first.images[1:]]
    b = [Path(x).read_bytes() for x in second.images[1:]]
    assert a == b and len(a) == 2


@pytest.mark.parametrize("order", ORDERS)
def test_api_returns_base64_animations(host, order):
    _, processed, _ = run(host, order, is_api=True)
    assert len(processed.images) == 3
    gif = base64.b64decode(processed.images[0])
    assert gif[:3] == b"GIF"
    webp = base64.b64decode(processed.images[1])
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP"
    frames = read_animation(webp)
    assert len(frames) == 4 and frames[0][2, 2, 3] == 0
    apng = read_animation(base64.b64decode(processed.images[2]))
    assert len(apng) == 4


@pytest.mark.parametrize("order", ORDERS)
def test_disabled_leaves_animatediff_alone(host, order):
    _, processed, log = run(host, order, enabled=False)
    assert log == [4]
    assert len(processed.images) == 1 and processed.images[0].endswith(".gif")
    folder = Path(processed.images[0]).parent
    assert sorted(os.listdir(folder)) == [Path(processed.images[0]).name]


@pytest.mark.parametrize("order", ORDERS)
def test_image_to_video_noise_is_shifted_in_either_order(host, order):
    from test_script import expected_first

    p, _, log = run(host, order, img2img=True)
    drawn = log[0]  # AnimateDiff's randomisation noise, drawn in its before_process_batch
    plain = host.rng.ImageRNG(tuple(drawn.shape[1:]), p.seeds).next()
    want = expected_first(plain, TkgParams(enabled=True))
    assert np.allclose(drawn.numpy(), want.numpy(), atol=1e-6)
    assert noise_hook.NOT_APPLIED_KEY not in p.extra_generation_params
    assert not p.comments
    ad = next(s for s in p.scripts.alwayson_scripts if s.title() == "AnimateDiff")
    assert "before_process_batch" not in vars(ad)  # the run's wrapper is gone


def test_noise_drawn_before_the_hook_is_reported_not_shifted(host):
    from lib_tkg.webui.state import RunState

    state = RunState(params=TkgParams(enabled=True))
    p = types.SimpleNamespace(
        rng=host.rng.ImageRNG((4, 8, 8), [1]), sd_model=Model("sd1"), extra_generation_params={}
    )
    first = p.rng.next()
    rng = p.rng
    noise_hook.install(state, p)
    assert p.rng is rng  # not wrapped
    assert p.extra_generation_params[noise_hook.NOT_APPLIED_KEY].startswith("not applied")
    assert any("NOT applied" in n for n in state.notes)
    assert first.shape == (1, 4, 8, 8)


def test_detect_reads_dict_and_object_arguments(host):
    runner, _ = make_runner(host, extra_after=[animatediff_class(host, [])])
    ad = next(s for s in runner.alwayson_scripts if s.title() == "AnimateDiff")
    args = list(runner.default_args())
    p = host.processing.StableDiffusionProcessingTxt2Img(
        scripts=runner, script_args=tuple(args), outpath_samples=str(host.tmp)
    )
    found = animatediff.detect(p)
    assert found is not None and found.video_length == 4 and found.fps == 5.0
    args[ad.args_from] = types.SimpleNamespace(**{**AD_ARGS, "enable": False})
    p.script_args = tuple(args)
    assert animatediff.detect(p) is None
    p.scripts = None
    assert animatediff.detect(p) is None


def test_closed_loop_a_adds_the_way_back_like_animatediff(host):
    _, processed, _ = run(host, "animatediff-first", closed_loop="A")
    frames = read_animation(Path(processed.images[1]).read_bytes())
    assert len(frames) == 2 * 4 - 2


def test_animation_named_on_its_own_when_animatediff_wrote_nothing(host, monkeypatch):
    monkeypatch.setattr(animatediff.AnimateDiffRun, "new_outputs", lambda self: [])
    p, processed, _ = run(host, "animatediff-first")
    names = [Path(x).name for x in processed.images[1:]]
    assert names == [f"tkg-{p.all_seeds[0]}-rgba.webp", f"tkg-{p.all_seeds[0]}-rgba.png"]
