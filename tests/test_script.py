"""The WebUI script (``scripts/tkg_chroma.py``) against the stand-in host in ``tests/webui_stub``.

Every test gets a fresh stand-in host (``host`` fixture): nothing of it stays in ``sys.modules``
or on ``sys.path`` afterwards, so other test files never see a ``modules`` package.
"""

from __future__ import annotations

import os
import sys
import types
from copy import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lib_tkg import colors
from lib_tkg.keying import priors
from lib_tkg.noise import tkg_noise
from lib_tkg.params import FIELD_BY_NAME, FIELDS, TITLE, ParamError, TkgParams
from lib_tkg.webui import cutouts, saving
from lib_tkg.webui.rng import FirstNoiseRNG, RaisingRNG, detect_family, model_latent_channels
from lib_tkg.webui.state import STATE_ATTR, PendingSave, RunState
from lib_tkg.webui.xyz import register_xyz_axes

STUB_DIR = Path(__file__).resolve().parent / "webui_stub"
REPO_DIR = Path(__file__).resolve().parent.parent
NAMES = [f.name for f in FIELDS]


def _harness():
    sys.path.insert(0, str(STUB_DIR))
    try:
        import harness
    finally:
        sys.path.remove(str(STUB_DIR))
    return harness


class Model:
    """A loaded model as the host exposes it (flags, latent channels, Forge objects)."""

    def __init__(self, family: str | None = "sd1", channels: int | None = None, forge=False):
        self.is_sd1 = family == "sd1"
        self.is_sd2 = family == "sd2"
        self.is_sdxl = family == "sdxl"
        self.is_sd3 = family == "sd3"
        if forge:
            vae = types.SimpleNamespace(latent_channels=channels or 4)
            self.forge_objects = types.SimpleNamespace(vae=vae)
        elif channels is not None:
            self.latent_channels = channels


@pytest.fixture
def host(tmp_path, monkeypatch):
    harness = _harness()
    with harness.webui_host() as h:
        h.shared.sd_model = Model("sd1")
        h.images.saved.clear()
        h.errors.reported.clear()
        h.tmp = tmp_path
        yield h
    sys.modules.pop("harness", None)


@pytest.fixture
def host_without_xyz(tmp_path):
    harness = _harness()
    with harness.webui_host(load_xyz=False) as h:
        h.shared.sd_model = Model("sd1")
        yield h
    sys.modules.pop("harness", None)


def make_runner(h, *, is_img2img=False, extra_before=(), extra_after=()):
    with h.gr.Blocks():
        runner = h.scripts.ScriptRunner(
            [*extra_before, h.script_class, *extra_after], is_img2img=is_img2img
        )
        runner.setup_ui()
    script = next(s for s in runner.alwayson_scripts if isinstance(s, h.script_class))
    return runner, script


def hook_script(h, title="probe"):
    """Base of another extension's script run beside ours: always visible, no controls. A
    subclass adds the hooks it needs."""

    class HookScript(h.scripts.Script):
        def title(self):
            return title

        def show(self, is_img2img):
            return h.scripts.AlwaysVisible

        def ui(self, is_img2img):
            return []

    return HookScript


def script_args(runner, script, **values):
    args = runner.default_args()
    for name, value in values.items():
        args[script.args_from + NAMES.index(name)] = value
    return tuple(args)


def generate(h, *, img2img=False, runner=None, args=None, p_kwargs=None, **values):
    if runner is None:
        runner, script = make_runner(h, is_img2img=img2img)
    else:
        script = next(s for s in runner.alwayson_scripts if isinstance(s, h.script_class))
    if args is None:
        args = script_args(runner, script, **values)
    cls = (
        h.processing.StableDiffusionProcessingImg2Img
        if img2img
        else h.processing.StableDiffusionProcessingTxt2Img
    )
    kwargs = {"outpath_samples": str(h.tmp / "out"), **(p_kwargs or {})}
    p = cls(scripts=runner, script_args=args, **kwargs)
    return p, h.processing.process_images(p)


def plain_noise(h, seeds, shape, calls=1):
    g = h.rng.ImageRNG(shape, seeds)
    return [g.next() for _ in range(calls)]


def expected_first(noise, params: TkgParams, family="sd1"):
    shifts = colors.channel_shifts(params.key_color, family, params.strength_or_auto)
    return tkg_noise(noise, shifts, **params.mask_kwargs)


def saved_names(h, *, grids=False):
    """Names of the files the stand-in host wrote, in save order (grids only when asked)."""
    return [Path(s["written"]).name for s in h.images.saved if grids or not s["grid"]]


# ----------------------------------------------------------------------------- script basics, UI


def test_title_show_and_controls_follow_params_fields(host):
    runner, script = make_runner(host)
    assert script.title() == TITLE == "TKG chroma background"
    assert script.show(False) is host.scripts.AlwaysVisible
    assert script.show(True) is host.scripts.AlwaysVisible
    assert script.name == "tkg chroma background"  # the API's alwayson_scripts key
    controls = runner.inputs[script.args_from : script.args_to]
    assert [c.label for c in controls] == [f.label for f in FIELDS]
    assert isinstance(controls[0], host.ui_components.InputAccordion)
    assert controls[0].accordion.label == TITLE
    ids = [c.accordion.elem_id if i == 0 else c.elem_id for i, c in enumerate(controls)]
    assert ids == [f"script_txt2img_tkg_chroma_background_{n}" for n in NAMES]
    assert TkgParams.from_args(tuple(c.value for c in controls)) == TkgParams()


def test_script_loads_like_the_host_loads_it(host):
    # script_loading.load_module: spec_from_file_location(basename), not put in sys.modules
    assert host.module.__name__ == "tkg_chroma.py"
    assert "tkg_chroma.py" not in sys.modules
    assert host.script_class.__module__ == "tkg_chroma.py"


def test_img2img_shows_the_same_controls(host):
    runner, script = make_runner(host, is_img2img=True)
    controls = runner.inputs[script.args_from : script.args_to]
    assert [c.label for c in controls] == [f.label for f in FIELDS]
    assert controls[1].elem_id == "script_img2img_tkg_chroma_background_color"


def test_every_control_has_a_tooltip_and_labels_are_unique(host):
    js = (REPO_DIR / "javascript" / "tkg_chroma.js").read_text()
    runner, _script = make_runner(host)
    labels = [c.label for c in runner.inputs[1:]]
    assert len(labels) == len(set(labels))
    for f in FIELDS:
        assert f"        {f.name}: " in js, f"no tooltip for {f.name}"
        assert f'"{f.label}": TITLES.' in js, f"no label tooltip for {f.label}"
    assert "tkg-chroma-active" in js
    assert "tkg-chroma-active" in (REPO_DIR / "style.css").read_text()


def test_ui_reads_settings_and_has_no_side_effects(host):
    opts = host.shared.opts
    host.script_callbacks.ui_settings_callback()
    opts.tkg_chroma_default_color = "blue"
    opts.tkg_chroma_default_strength = 0.2
    opts.tkg_chroma_save_matte = True
    before = (dict(opts.data), len(host.xyz.axis_options), len(host.scripts.scripts_data))
    runner, script = make_runner(host)
    make_runner(host)
    after = (dict(opts.data), len(host.xyz.axis_options), len(host.scripts.scripts_data))
    assert before == after
    values = dict(zip(NAMES, (c.value for c in runner.inputs[script.args_from :]), strict=True))
    assert values["color"] == "blue"
    assert values["strength"] == 0.2
    assert values["save_matte"] is True
    # those controls stay out of ui-config.json, whose saved values the host would put back
    # over a changed setting (modules/ui_loadsave.py skips do_not_save_to_config); others in
    kept_out = {
        n
        for n, c in zip(NAMES, runner.inputs[script.args_from :], strict=True)
        if getattr(c, "do_not_save_to_config", False)
    }
    assert kept_out == {"color", "custom_color", "strength", "save_matte"}

    opts.tkg_chroma_default_color = "#FF8800"  # not a preset: shown as custom + picker
    opts.tkg_chroma_default_strength = 7  # invalid: falls back to the default
    runner, script = make_runner(host)
    values = dict(zip(NAMES, (c.value for c in runner.inputs[script.args_from :]), strict=True))
    assert (values["color"], values["custom_color"], values["strength"]) == (
        "custom",
        "#ff8800",
        0.0,
    )


def test_a_bad_setting_is_logged_once_however_often_the_ui_is_built(host, capsys):
    """The host builds the scripts' UIs (txt2img, img2img) and the API's defaults at start-up:
    each "ignoring setting" line came 6 times."""
    host.script_callbacks.ui_settings_callback()
    host.shared.opts.tkg_chroma_default_strength = 0.93  # out of range: ignored
    for _ in range(3):
        make_runner(host)
    lines = [x for x in capsys.readouterr().out.splitlines() if "tkg_chroma_default_strength" in x]
    assert len(lines) == 1 and "ignoring setting" in lines[0]


def test_every_slider_position_is_a_value_the_script_accepts(host):
    """The aspect slider (0..5, step 0.05) offered 0.05-0.15, which generation refused."""
    runner, script = make_runner(host)
    controls = dict(zip(NAMES, runner.inputs[script.args_from :], strict=True))
    for name, control in controls.items():
        if not hasattr(control, "step"):
            continue
        steps = round((control.maximum - control.minimum) / control.step)
        for k in range(steps + 1):
            value = round(control.minimum + k * control.step, 6)
            TkgParams.from_mapping({name: value})  # raises ParamError if refused


def test_custom_colour_picker_follows_the_dropdown(host):
    runner, script = make_runner(host)
    color = runner.inputs[script.args_from + NAMES.index("color")]
    picker = runner.inputs[script.args_from + NAMES.index("custom_color")]
    assert picker.visible is False
    (_, fn, inputs, outputs, _) = color.events[0]
    assert inputs == [color] and outputs == [picker]
    assert fn("custom") == {"__type__": "generic_update", "visible": True}
    assert fn("green") == {"__type__": "generic_update", "visible": False}


def test_settings_section(host, monkeypatch):
    host.script_callbacks.ui_settings_callback()
    labels = host.shared.opts.data_labels
    keys = [k for k in labels if k.startswith("tkg_chroma_")]
    assert sorted(keys) == sorted(
        [
            "tkg_chroma_default_color",
            "tkg_chroma_default_custom_color",
            "tkg_chroma_default_strength",
            "tkg_chroma_save_matte",
            "tkg_chroma_rgba_suffix",
            "tkg_chroma_matte_suffix",
            "tkg_chroma_key_max_megapixels",
            "tkg_chroma_animation_formats",
        ]
    )
    for key in keys:
        assert labels[key].section == ("tkg_chroma", "TKG chroma background")
        assert labels[key].category_id == "sd"
    assert host.shared.opts.tkg_chroma_rgba_suffix == "-rgba"
    assert host.shared.opts.tkg_chroma_matte_suffix == "-matte"
    assert host.shared.opts.tkg_chroma_key_max_megapixels == 64
    assert host.shared.opts.tkg_chroma_animation_formats == ["webp", "apng"]

    OptionInfo16 = host.shared.options.OptionInfo16  # A1111 1.6: no category_id parameter
    monkeypatch.setattr(host.shared, "OptionInfo", OptionInfo16)
    host.script_callbacks.ui_settings_callback()
    assert isinstance(host.shared.opts.data_labels["tkg_chroma_save_matte"], OptionInfo16)


# ----------------------------------------------------------------------------- disabled


def test_disabled_is_a_no_op(host):
    seen = {}

    class Probe(hook_script(host)):
        def before_process_batch(self, p, *args, **kwargs):
            seen["before"] = p.rng

        def process_batch(self, p, *args, **kwargs):
            seen["after"] = p.rng

    runner, _ = make_runner(host, extra_after=[Probe])
    p, processed = generate(host, runner=runner, p_kwargs={"batch_size": 2, "ancestral_steps": 2})
    assert seen["after"] is seen["before"]
    assert type(seen["after"]) is host.rng.ImageRNG
    assert not any(k.startswith("TKG") for k in p.extra_generation_params)
    assert all("TKG" not in t for t in processed.infotexts)
    assert len(processed.images) == len(processed.infotexts) == 3  # grid + 2
    assert all(im.mode == "RGB" for im in processed.images)
    assert saved_names(host) == ["00000-1.png", "00001-2.png"]
    expected = plain_noise(host, [1, 2], (4, 8, 8), calls=3)
    for got, want in zip(p.noise_log, expected, strict=True):
        assert torch.equal(got, want)


def test_disabled_ignores_other_invalid_values(host):
    runner, script = make_runner(host)
    p, processed = generate(host, runner=runner, args=script_args(runner, script, sigma=99.0))
    assert not any(k.startswith("TKG") for k in p.extra_generation_params)
    assert len(processed.images) == 1


# ----------------------------------------------------------------------------- noise


def test_enabled_shifts_only_the_first_noise(host):
    p, _ = generate(host, enabled=True, color="blue", p_kwargs={"ancestral_steps": 3})
    plain = plain_noise(host, [1], (4, 8, 8), calls=4)
    params = TkgParams(enabled=True, color="blue")
    assert torch.allclose(p.noise_log[0], expected_first(plain[0], params))
    assert not torch.allclose(p.noise_log[0], plain[0])
    # ancestral per-step noise untouched
    for got, want in zip(p.noise_log[1:], plain[1:], strict=True):
        assert torch.equal(got, want)
    assert p.noise_log[0].shape == plain[0].shape and p.noise_log[0].dtype == plain[0].dtype


def test_layout_mask_image_and_aspect_reach_tkg_noise(host):
    pixels = np.zeros((64, 64), np.uint8)
    pixels[8:24, 40:56] = 255
    values = {"layout": "-0.5 0 0.3 0.5; 0 -0.5 0.2", "aspect": 2.0, "sigma": 0.2}
    for extra in ({}, {"mask_image": Image.fromarray(pixels)}):
        p, processed = generate(host, enabled=True, **values, **extra)
        params = TkgParams(enabled=True, **values, **extra)
        want = expected_first(plain_noise(host, [1], (4, 8, 8))[0], params)
        assert torch.equal(p.noise_log[0], want)
        assert "TKG layout: -0.5 0 0.3 0.5; 0 -0.5 0.2" in processed.infotexts[0]
        assert ("TKG mask image: 64x64" in processed.infotexts[0]) == bool(extra)
    assert not torch.equal(
        want, expected_first(plain_noise(host, [1], (4, 8, 8))[0], TkgParams(**values))
    )


def test_parameters_reach_tkg_noise(host):
    values = {"strength": 0.3, "sigma": 1.5, "center_x": 0.5, "center_y": -0.25}
    p, _ = generate(host, enabled=True, color="red", **values)
    params = TkgParams(enabled=True, color="red", **values)
    assert torch.allclose(
        p.noise_log[0], expected_first(plain_noise(host, [1], (4, 8, 8))[0], params)
    )


def test_hires_pass_noise_is_untouched(host):
    p, _ = generate(host, enabled=True, p_kwargs={"enable_hr": True})
    assert torch.equal(p.hr_noise, plain_noise(host, [1], (4, 8, 8))[0])


def test_img2img_noise_is_shifted_and_result_keyed(host):
    p, processed = generate(
        host, img2img=True, enabled=True, p_kwargs={"init_images": [Image.new("RGB", (64, 64))]}
    )
    params = TkgParams(enabled=True)
    assert torch.allclose(
        p.noise_log[0], expected_first(plain_noise(host, [1], (4, 8, 8))[0], params)
    )
    assert [im.mode for im in processed.images] == ["RGB", "RGBA"]


def test_same_seed_same_first_noise_at_any_batch_position(host):
    p0, _ = generate(host, enabled=True, p_kwargs={"seed": 5, "batch_size": 2})  # seeds 5, 6
    p1, _ = generate(host, enabled=True, p_kwargs={"seed": 4, "batch_size": 2})  # seeds 4, 5
    assert torch.allclose(p0.noise_log[0][0], p1.noise_log[0][1], atol=1e-6)
    assert not torch.allclose(p0.noise_log[0][0], p1.noise_log[0][0])


def test_fresh_wrapper_for_every_batch(host):
    wrapped = []

    class Probe(hook_script(host)):
        def process_batch(self, p, *args, **kwargs):
            wrapped.append(p.rng)

    runner, script = make_runner(host, extra_after=[Probe])
    p, _processed = generate(
        host, runner=runner, args=script_args(runner, script, enabled=True), p_kwargs={"n_iter": 2}
    )
    assert len(wrapped) == 2 and wrapped[0] is not wrapped[1]
    assert all(isinstance(w, FirstNoiseRNG) for w in wrapped)
    assert wrapped[0].wrapped is not wrapped[1].wrapped
    params = TkgParams(enabled=True)
    assert torch.allclose(
        p.noise_log[0], expected_first(plain_noise(host, [1], (4, 8, 8))[0], params)
    )
    assert torch.allclose(
        p.noise_log[1], expected_first(plain_noise(host, [2], (4, 8, 8))[0], params)
    )


def controlnet_like(host):
    class HackedImageRNG:  # Mikubill sd-webui-controlnet scripts/hook.py: no __getattr__
        def __init__(self, rng):
            self.rng = rng

        def next(self):
            return self.rng.next() + 1.0

    class ControlNet(hook_script(host, "ControlNet")):
        def before_process_batch(self, p, *args, **kwargs):
            p.rng = HackedImageRNG(p.rng)

        def postprocess(self, p, processed, *args):
            processed.images.append(Image.new("RGB", (64, 64)))  # detect map, no infotext

    return ControlNet, HackedImageRNG


def test_composes_with_another_extensions_rng_wrapper(host):
    ControlNet, Hacked = controlnet_like(host)
    runner, script = make_runner(host, extra_before=[ControlNet])
    p, _ = generate(
        host,
        runner=runner,
        args=script_args(runner, script, enabled=True),
        p_kwargs={"ancestral_steps": 1},
    )
    assert isinstance(p.rng, FirstNoiseRNG) and isinstance(p.rng.wrapped, Hacked)
    plain = plain_noise(host, [1], (4, 8, 8), calls=2)
    params = TkgParams(enabled=True)
    assert torch.allclose(p.noise_log[0], expected_first(plain[0] + 1.0, params))
    assert torch.equal(p.noise_log[1], plain[1] + 1.0)


# ----------------------------------------------------------------------------- rng wrapper (pure)


class FakeRNG:
    def __init__(self):
        self.calls = 0
        self.shape = (4, 2, 2)
        self.is_first = True

    def next(self):
        self.calls += 1
        self.is_first = False
        return torch.full((1, 4, 2, 2), float(self.calls))


def test_wrapper_first_call_only_and_attribute_pass_through():
    inner = FakeRNG()
    w = FirstNoiseRNG(inner, lambda x: x * 10)
    assert w.shape == (4, 2, 2) and w.is_first is True and w.wrapped is inner
    assert float(w.next()[0, 0, 0, 0]) == 10.0
    assert float(w.next()[0, 0, 0, 0]) == 2.0
    assert float(w.next()[0, 0, 0, 0]) == 3.0
    w.shape = (4, 3, 3)  # writes go to the wrapped rng too
    assert inner.shape == (4, 3, 3)
    with pytest.raises(AttributeError):
        _ = w.no_such_attribute
    assert w.transformed


def test_wrapper_of_an_already_used_rng_changes_nothing():
    inner = FakeRNG()
    inner.next()
    w = FirstNoiseRNG(inner, lambda x: x * 10)
    assert float(w.next()[0, 0, 0, 0]) == 2.0


def test_wrappers_compose():
    inner = FakeRNG()
    w = FirstNoiseRNG(FirstNoiseRNG(inner, lambda x: x + 100), lambda x: x * 2)
    assert float(w.next()[0, 0, 0, 0]) == 202.0
    assert float(w.next()[0, 0, 0, 0]) == 2.0
    assert w.shape == (4, 2, 2)


def test_raising_rng():
    err = ParamError("bad")
    w = RaisingRNG(FakeRNG(), err)
    with pytest.raises(ParamError) as info:
        w.next()
    assert info.value is err
    assert float(w.next()[0, 0, 0, 0]) == 1.0


@pytest.mark.parametrize(
    ("model", "family", "channels"),
    [
        (Model("sd1"), "sd1", 4),
        (Model("sd2"), "sd2", 4),
        (Model("sdxl"), "sdxl", 4),
        (Model("sd3", channels=16), "sd3", 16),  # A1111 1.10: sd_model.latent_channels
        (Model("sdxl", channels=4, forge=True), "sdxl", 4),
        (Model(None, channels=16, forge=True), "flux", 16),  # new Forge: Flux, Chroma
        (Model(None), None, 4),
        (Model(None, channels=16), None, 16),  # 16 channels but not Forge: unknown
        (Model(None, channels=4, forge=True), None, 4),
        (object(), None, 4),
    ],
)
def test_detect_family(model, family, channels):
    assert detect_family(model) == (family, channels)
    assert model_latent_channels(model) == channels


def test_flux_noise_is_shifted_with_16_channels(host):
    host.shared.sd_model = Model(None, channels=16, forge=True)
    host.shared.sd_model.latent_channels = 16  # the stand-in host builds its rng from this
    p, _ = generate(host, enabled=True)
    plain = plain_noise(host, [1], (16, 8, 8))[0]
    assert p.noise_log[0].shape == (1, 16, 8, 8)
    assert torch.allclose(p.noise_log[0], expected_first(plain, TkgParams(enabled=True), "flux"))


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        (Model(None), "unsupported model type"),
        (Model("sd1", channels=16), "latent channels"),
    ],
)
def test_unsupported_model_leaves_noise_alone_with_warning(host, capsys, model, needle):
    host.shared.sd_model = model
    p, processed = generate(host, enabled=True)
    channels = getattr(model, "latent_channels", 4)
    assert torch.equal(p.noise_log[0], plain_noise(host, [1], (channels, 8, 8))[0])
    assert needle in processed.comments
    assert needle in capsys.readouterr().out
    assert "TKG noise: unchanged (" in processed.infotexts[0]
    assert len(processed.images) == 2  # the generation went on, and was keyed


def test_colour_without_a_shift_direction_leaves_noise_alone(host):
    # mid grey is what a zero SD1 latent decodes to: colors.channel_shifts rejects it
    p, processed = generate(host, enabled=True, color="custom", custom_color="#808080")
    assert torch.equal(p.noise_log[0], plain_noise(host, [1], (4, 8, 8))[0])
    assert "left unchanged" in processed.comments and "neutral" in processed.comments
    # ... and in the infotext, which API clients get (A1111's API answer has no comments)
    assert all(
        "TKG noise: unchanged (no shift of this colour for sd1)" in t for t in processed.infotexts
    )


def test_noise_of_unexpected_shape_is_left_alone(host):
    class Squeeze(hook_script(host, "squeeze")):  # an rng that hands out 3-channel noise
        def before_process_batch(self, p, *args, **kwargs):
            inner = p.rng
            p.rng = types.SimpleNamespace(next=lambda: inner.next()[:, :3])

    runner, script = make_runner(host, extra_before=[Squeeze])
    p, processed = generate(host, runner=runner, args=script_args(runner, script, enabled=True))
    assert p.noise_log[0].shape[1] == 3
    assert torch.equal(p.noise_log[0], plain_noise(host, [1], (4, 8, 8))[0][:, :3])
    assert "left unchanged" in processed.comments


# ----------------------------------------------------------------------------- infotext and paste


def test_infotext_keys(host):
    values = {"enabled": True, "color": "magenta", "sigma": 0.75}
    p, processed = generate(host, **values)
    expected = TkgParams(**values).to_infotext()
    assert {k: v for k, v in p.extra_generation_params.items() if k.startswith("TKG")} == expected
    assert "TKG: on" in processed.infotexts[0] and "TKG sigma: 0.75" in processed.infotexts[0]


NON_DEFAULT = {
    "enabled": True,
    "color": "custom",
    "custom_color": "#123456",
    "strength": 0.2,
    "sigma": 1.25,
    "center_x": 0.25,
    "center_y": -0.5,
    "make_rgba": True,
    "save_matte": True,
    "despill": 0.5,
    "tolerance": 0.2,
    "layout": "-0.5 0 0.3; 0.5 0 0.3 2 30",
    "keep_shadow": True,
    "aspect": 2.0,
}
PASTED = [n for n in NAMES if n != "mask_image"]  # the mask image is not in the infotext


def test_paste_round_trip_restores_every_control(host):
    runner, script = make_runner(host)
    _, processed = generate(host, runner=runner, args=script_args(runner, script, **NON_DEFAULT))
    for text in processed.infotexts:  # the original, the cut-out and the matte
        parsed = host.infotext_utils.parse_generation_parameters(text)
        pasted = host.infotext_utils.paste(script.infotext_fields, parsed)
        assert dict(zip(PASTED, pasted, strict=True)) == NON_DEFAULT


def test_paste_without_tkg_turns_it_off_and_leaves_the_rest(host):
    _runner, script = make_runner(host)
    parsed = host.infotext_utils.parse_generation_parameters("a cat\nSteps: 20, Seed: 1")
    pasted = host.infotext_utils.paste(script.infotext_fields, parsed)
    assert pasted == [False] + [None] * (len(PASTED) - 1)


def test_paste_of_auto_strength_and_hex_colour(host):
    _runner, script = make_runner(host)
    text = "a cat\nSeed: 1, TKG: on, TKG color: #00FF80, TKG strength: auto, TKG RGBA: False"
    parsed = host.infotext_utils.parse_generation_parameters(text)
    pasted = host.infotext_utils.paste(script.infotext_fields, parsed)
    values = dict(zip(PASTED, pasted, strict=True))
    assert values["enabled"] is True
    assert (values["color"], values["custom_color"]) == ("custom", "#00ff80")
    assert values["strength"] == 0.0 and values["make_rgba"] is False


def test_paste_with_one_bad_value_keeps_the_rest_and_says_which(host, capsys):
    # an edited "TKG sigma: 99" left every TKG control alone (TKG off through the API) with
    # only "not pasting TKG parameters"; now the value is left at its default, by name
    _runner, script = make_runner(host)
    text = "a cat\nSeed: 1, TKG: on, TKG color: blue, TKG strength: 0.2, TKG sigma: 99"
    parsed = host.infotext_utils.parse_generation_parameters(text)
    pasted = host.infotext_utils.paste(script.infotext_fields, parsed)
    values = dict(zip(PASTED, pasted, strict=True))
    assert values["enabled"] is True and values["color"] == "blue" and values["strength"] == 0.2
    assert values["sigma"] == TkgParams().sigma
    out = capsys.readouterr().out
    assert out.count("without 'TKG sigma'") == 1 and "must be a number in [0.05, 4]" in out


def test_api_infotext_gives_typed_values(host):
    _runner, script = make_runner(host)
    fields = host.infotext_utils.add_paste_fields(list(script.infotext_fields))
    text = "a cat\nSeed: 1, TKG: on, TKG RGBA: False, TKG matte: True, TKG sigma: 2"
    parsed = host.infotext_utils.parse_generation_parameters(text)
    values = {
        name: host.infotext_utils.api_value(field, parsed)
        for name, field in zip(PASTED, fields, strict=True)
    }
    assert values["enabled"] is True and values["make_rgba"] is False
    assert values["save_matte"] is True and values["sigma"] == 2.0


def test_send_to_img2img_copies_every_control(host):
    t2i, s_t2i = make_runner(host)
    i2i, s_i2i = make_runner(host, is_img2img=True)
    src = t2i.inputs[s_t2i.args_from : s_t2i.args_to]
    dst = i2i.inputs[s_i2i.args_from : s_i2i.args_to]
    values = {c: f"value {i}" for i, c in enumerate(src)}
    copied = host.infotext_utils.send_to(
        t2i.infotext_fields, i2i.infotext_fields, t2i.paste_field_names, values
    )
    pasted = [c for c, f in zip(src, FIELDS, strict=True) if f.name in PASTED]
    assert copied == {
        d: values[s] for s, d, f in zip(src, dst, FIELDS, strict=True) if f.name in PASTED
    }
    assert len(copied) == len(pasted) == len(FIELDS) - 1


# ----------------------------------------------------------------------------- X/Y/Z plot


AXES = [f.axis for f in FIELDS if f.axis]


def test_xyz_axes_registered_once(host):
    labels = [o.label for o in host.xyz.axis_options]
    assert [lbl for lbl in labels if lbl.startswith("[TKG]")] == AXES
    assert AXES == [
        "[TKG] Enabled",
        "[TKG] Colour",
        "[TKG] Shift strength",
        "[TKG] Mask sigma",
        "[TKG] Centre X",
        "[TKG] Centre Y",
        "[TKG] Layout",
        "[TKG] Aspect",
    ]
    host.script_callbacks.before_ui_callback()
    host.module.on_before_ui()
    labels = [o.label for o in host.xyz.axis_options]
    assert len(labels) == len(set(labels))


def test_xyz_axes_registered_in_before_ui_when_missing_at_import(host_without_xyz):
    h = host_without_xyz
    assert register_xyz_axes(h.scripts.scripts_data) is False
    xyz = _harness()._load("xyz_grid.py", STUB_DIR / "xyz_grid.py")
    h.scripts.scripts_data.append(h.scripts.ScriptClassData(xyz.Script, "xyz_grid.py", "", xyz))
    h.script_callbacks.before_ui_callback()
    h.script_callbacks.before_ui_callback()
    assert [o.label for o in xyz.axis_options if o.label.startswith("[TKG]")] == AXES


def test_xyz_apply_and_confirm(host):
    options = {o.label: o for o in host.xyz.axis_options}
    p = types.SimpleNamespace()
    options["[TKG] Mask sigma"].apply(p, 1.5, [1.5])
    options["[TKG] Colour"].apply(p, "blue", ["blue"])
    options["[TKG] Enabled"].apply(p, "True", ["True", "False"])
    assert (p.tkg_sigma, p.tkg_color, p.tkg_enabled) == (1.5, "blue", "True")
    assert TkgParams().with_overrides(p) == TkgParams(enabled=True, sigma=1.5, color="blue")
    assert options["[TKG] Enabled"].choices() == ["True", "False"]
    assert "custom" in options["[TKG] Colour"].choices()
    assert options["[TKG] Mask sigma"].type is float and options["[TKG] Colour"].type is str
    options["[TKG] Mask sigma"].confirm(p, [0.5, 2.0])
    with pytest.raises(ValueError, match="sigma"):
        options["[TKG] Mask sigma"].confirm(p, [0.5, 9.0])
    with pytest.raises(ValueError, match="color") as info:
        options["[TKG] Colour"].confirm(p, ["blue", "plaid"])
    # the glue's error: the API answers 422 with the message, and prints no traceback
    assert isinstance(info.value, host.fastapi_exceptions.HTTPException)
    assert vars(info.value)["status_code"] == 422 and "plaid" in vars(info.value)["detail"]


def test_xyz_overrides_drive_the_generation(host):
    runner, script = make_runner(host)
    p = host.processing.StableDiffusionProcessingTxt2Img(
        scripts=runner, script_args=script_args(runner, script), outpath_samples=str(host.tmp)
    )
    # X/Y/Z cells are shallow copies of p: they share one extra_generation_params dict

    cells = []
    for enabled in ("True", "False", "True"):
        pc = copy(p)
        options = {o.label: o for o in host.xyz.axis_options}
        options["[TKG] Enabled"].apply(pc, enabled, [])
        options["[TKG] Mask sigma"].apply(pc, 1.5, [])
        cells.append(host.processing.process_images(pc))
    on, off, on_again = cells
    assert "TKG sigma: 1.5" in on.infotexts[0] and len(on.images) == 2
    assert "TKG" not in off.infotexts[0] and len(off.images) == 1
    assert "TKG sigma: 1.5" in on_again.infotexts[0]


# ----------------------------------------------------------------------------- outputs


def test_gallery_gets_cutouts_with_infotexts_and_originals_are_unchanged(host):
    seen = []

    # runs after ours: sees what the host will save
    probe = _probe_after(host, lambda p, pp: seen.append((pp.image, pp.image.copy())))
    runner, script = make_runner(host, extra_after=[probe])
    args = script_args(runner, script, enabled=True, save_matte=True)
    _p, processed = generate(host, runner=runner, args=args, p_kwargs={"batch_size": 2})
    images, infotexts = processed.images, processed.infotexts
    assert len(images) == len(infotexts) == 1 + 2 + 4  # grid, originals, (cut-out, matte) x 2
    assert processed.index_of_first_image == 1
    for k, (original, copy_before) in enumerate(seen):
        assert images[1 + k] is original and original.mode == "RGB"
        assert np.array_equal(np.asarray(original), np.asarray(copy_before))
    assert [im.mode for im in images[3:]] == ["RGBA", "L", "RGBA", "L"]
    assert infotexts[3] == infotexts[4] == infotexts[1] and infotexts[5] == infotexts[2]
    assert "Seed: 1" in infotexts[3] and "Seed: 2" in infotexts[5]
    assert "TKG cut-out" not in infotexts[3]
    rgba = np.asarray(images[3])
    assert rgba[0, 0, 3] < 32 and rgba[32, 32, 3] > 220  # screen keyed out, subject kept
    assert np.array_equal(np.asarray(images[4]), rgba[..., 3])


def test_a_cut_out_of_a_picture_without_a_screen_says_so_in_its_infotext(host):
    # an API client sees no console note: the cut-out's own infotext tells it nothing was keyed
    class NoScreen(hook_script(host)):  # runs before ours: the picture holds no screen
        def postprocess_image_after_composite(self, p, pp, *args):
            noise = np.random.default_rng(0).integers(0, 256, (*pp.image.size[::-1], 3))
            pp.image = Image.fromarray(noise.astype(np.uint8))

    runner, script = make_runner(host, extra_before=[NoScreen])
    args = script_args(runner, script, enabled=True, save_matte=True)
    _, processed = generate(host, runner=runner, args=args)
    original, cutout, matte = processed.infotexts[-3:]
    assert "TKG cut-out: not keyed" not in original
    assert cutout == matte == f"{original}, TKG cut-out: not keyed"
    assert [im.mode for im in processed.images[-3:]] == ["RGB", "RGBA", "L"]
    assert (np.asarray(processed.images[-2])[..., 3] == 255).all()
    assert processed.images[-2].info["parameters"] == cutout  # what a saved file carries


def test_make_rgba_off_adds_nothing(host):
    _, processed = generate(host, enabled=True, make_rgba=False)
    assert len(processed.images) == 1
    assert saved_names(host) == ["00000-1.png"]


def test_cutouts_stay_aligned_after_images_without_infotexts(host):
    ControlNet, _ = controlnet_like(host)
    runner, script = make_runner(host, extra_before=[ControlNet])
    _, processed = generate(host, runner=runner, args=script_args(runner, script, enabled=True))
    images, infotexts = processed.images, processed.infotexts
    assert len(images) == len(infotexts) == 3  # original, detect map, cut-out
    assert images[2].mode == "RGBA" and infotexts[2] == infotexts[0]


@pytest.mark.parametrize("samples_format", ["png", "jpg", "webp"])
def test_save_image_arguments(host, samples_format):
    host.script_callbacks.ui_settings_callback()
    host.shared.opts.samples_format = samples_format
    host.shared.opts.tkg_chroma_matte_suffix = "-alpha"
    p, _ = generate(host, enabled=True, save_matte=True, p_kwargs={"seed": 7})
    original, *ours = host.images.saved
    assert original["extension"] == samples_format and original["forced_filename"] is None
    folder, name = os.path.split(original["fullfn"])
    assert name == f"00000-7.{samples_format}"
    assert [(s["forced_filename"], s["suffix"], s["extension"]) for s in ours] == [
        ("00000-7-rgba", "", "png"),
        ("00000-7-alpha", "", "png"),
    ]
    for s in ours:
        # beside the original: its folder (with the date sub-folder), and no second sub-folder
        assert (s["path"], s["save_to_dirs"], s["basename"], s["seed"], s["prompt"]) == (
            folder,
            False,
            "",
            7,
            "a cat",
        )
        assert s["p"] is p and s["info"] == original["info"] and "TKG: on" in s["info"]
        assert os.path.dirname(s["fullfn"]) == folder
    with Image.open(ours[0]["fullfn"]) as saved:
        assert saved.format == "PNG" and saved.mode == "RGBA"
        assert saved.info["parameters"] == original["info"]
    with Image.open(ours[1]["fullfn"]) as saved:
        assert saved.format == "PNG" and saved.mode == "L"


def test_saved_cutouts_are_named_after_their_originals(host):
    runner, script = make_runner(host)
    args = script_args(runner, script, enabled=True, save_matte=True)
    _p, processed = generate(
        host, runner=runner, args=args, p_kwargs={"batch_size": 2, "n_iter": 2}
    )
    assert saved_names(host) == [
        f"{n:05}-{seed}{suffix}.png"
        for n, seed in enumerate([1, 2, 3, 4])
        for suffix in ("", "-rgba", "-matte")
    ]
    folders = {os.path.dirname(s["written"]) for s in host.images.saved if not s["grid"]}
    assert len(folders) == 1  # all beside each other, in the host's date sub-folder
    # the grid is saved too (to the grids folder), but no cut-out is named after it
    grids = [Path(s["written"]).name for s in host.images.saved if s["grid"]]
    assert grids == ["grid-0000.png"]
    # the files hold what the gallery shows, with each picture's own infotext
    start = processed.index_of_first_image
    gallery = processed.images[start + 4 :]
    files = [s["written"] for s in host.images.saved if not s["grid"]]
    for k in range(4):
        for j, image in enumerate(gallery[2 * k : 2 * k + 2]):
            with Image.open(files[3 * k + 1 + j]) as f:
                assert f.mode == image.mode
                assert np.array_equal(np.asarray(f), np.asarray(image))
                assert f.info["parameters"] == processed.infotexts[start + k]
                assert f"Seed: {k + 1}," in f.info["parameters"]


def test_before_highres_fix_saves_and_grids_do_not_take_the_cutouts(host):
    host.shared.opts.save_images_before_highres_fix = True
    generate(host, enabled=True, p_kwargs={"batch_size": 2, "enable_hr": True})
    assert saved_names(host) == [
        "00000-1-before-highres-fix.png",
        "00001-2-before-highres-fix.png",
        "00002-1.png",
        "00002-1-rgba.png",
        "00003-2.png",
        "00003-2-rgba.png",
    ]
    assert [Path(s["written"]).name for s in host.images.saved if s["grid"]] == ["grid-0000.png"]


def test_own_saves_do_not_go_through_our_callback_again(host, monkeypatch):
    calls = []
    real = saving.save_output

    def counting(*args, **kwargs):
        calls.append(kwargs["beside"])
        return real(*args, **kwargs)

    monkeypatch.setattr(saving, "save_output", counting)
    seen = []
    host.script_callbacks.on_image_saved(lambda params: seen.append(params.filename))
    generate(host, enabled=True, save_matte=True)
    assert len(calls) == 2 and all(c.endswith("00000-1.png") for c in calls)
    # ours run inside the host's image_saved callbacks, before the one registered after ours
    names = [Path(f).name for f in seen]
    assert names == ["00000-1-rgba.png", "00000-1-matte.png", "00000-1.png"]
    assert host.errors.reported == []

    # on_image_saved for an image we keyed, while our own save is running: ignored
    state = RunState(TkgParams(enabled=True))
    source = Image.new("RGB", (8, 8))
    entry = PendingSave(source, [(Image.new("RGBA", (8, 8)), "-rgba")], 1, "a", "")
    state.pending.append(entry)
    state.saving = True
    p = types.SimpleNamespace(**{STATE_ATTR: state})
    params = host.script_callbacks.ImageSaveParams(source, p, str(host.tmp / "x.png"), {})
    host.module.on_image_saved(params)
    assert not entry.done and len(calls) == 2


def _probe_after(host, hook):
    class Probe(hook_script(host)):  # runs after ours
        def postprocess_image_after_composite(self, p, pp, *args):
            hook(p, pp)

    return Probe


def test_cutout_saved_in_postprocess_when_the_host_saves_another_object(host):
    # a later script replaces pp.image: the host saves that, not the picture we keyed
    def replace(p, pp):
        pp.image = pp.image.copy()

    runner, script = make_runner(host, extra_after=[_probe_after(host, replace)])
    args = script_args(runner, script, enabled=True, save_matte=True)
    _, processed = generate(host, runner=runner, args=args, p_kwargs={"batch_size": 2})
    # numbered the old way, after the originals, with the suffix; nothing lost
    assert saved_names(host) == [
        "00000-1.png",
        "00001-2.png",
        "00002-1-rgba.png",
        "00003-1-matte.png",
        "00004-2-rgba.png",
        "00005-2-matte.png",
    ]
    ours = [s for s in host.images.saved if s["suffix"]]
    assert all(s["forced_filename"] is None and s["extension"] == "png" for s in ours)
    with Image.open(ours[0]["written"]) as f:
        assert np.array_equal(np.asarray(f), np.asarray(processed.images[3]))
    assert host.errors.reported == [] and "failed" not in processed.comments


def test_cutout_saved_in_postprocess_when_a_save_callback_swaps_the_image(host):
    def swap(params):  # before_image_saved may replace what is written (and passed on)
        params.image = params.image.copy()

    host.script_callbacks.on_before_image_saved(swap)
    generate(host, enabled=True)
    assert saved_names(host) == ["00000-1.png", "00001-1-rgba.png"]


def test_callback_ignores_other_saves_and_never_raises(host, monkeypatch):
    on_image_saved = host.module.on_image_saved
    Params = host.script_callbacks.ImageSaveParams
    for params in (None, object(), Params(None, None, None, None)):
        on_image_saved(params)

    class Exploding:
        def __getattr__(self, name):
            raise RuntimeError("no attributes here")

    on_image_saved(Params(Image.new("RGB", (4, 4)), Exploding(), "x.png", {}))

    state = RunState(TkgParams(enabled=True))
    source = Image.new("RGB", (8, 8))
    entry = PendingSave(source, [(Image.new("RGBA", (8, 8)), "-rgba")], 1, "a", "")
    state.pending.append(entry)
    comments = []
    p = types.SimpleNamespace(
        outpath_samples=str(host.tmp), comment=comments.append, **{STATE_ATTR: state}
    )
    # A1111 1.6/1.7 key in postprocess_image: the image saved before colour correction may be
    # the object we keyed; it is not the original
    before_cc = str(host.tmp / "00000-1-before-color-correction.png")
    on_image_saved(Params(source, p, before_cc, {}))
    assert not entry.done and host.images.saved == []

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(host.images, "save_image", broken)
    on_image_saved(Params(source, p, str(host.tmp / "00000-1.png"), {}))
    assert entry.done and not state.saving
    assert any("disk full" in c for c in comments)


def test_name_of_the_file_the_host_really_wrote(host):
    # Forge (modules/images.py) records the name it used in already_saved_as ("-1" added when
    # "Add number suffix" found the file there); A1111 sets it to params.filename
    state = RunState(TkgParams(enabled=True))
    source = Image.new("RGB", (8, 8))
    entry = PendingSave(source, [(Image.new("RGBA", (8, 8)), "-rgba")], 1, "a", "i")
    state.pending.append(entry)
    p = types.SimpleNamespace(outpath_samples=str(host.tmp), **{STATE_ATTR: state})
    source.already_saved_as = str(host.tmp / "00000-1-1.png")
    params = host.script_callbacks.ImageSaveParams(source, p, str(host.tmp / "00000-1.png"), {})
    host.module.on_image_saved(params)
    assert [Path(s["written"]).name for s in host.images.saved] == ["00000-1-1-rgba.png"]


def test_an_existing_cutout_of_the_same_name_is_kept(host):
    # numbers off: a run in another format names its original 7.webp, whose cut-out would
    # replace the 7-rgba.png of an earlier run's 7.png
    host.shared.opts.save_images_add_number = False
    host.shared.opts.samples_filename_pattern = "[seed]"
    generate(host, enabled=True, p_kwargs={"seed": 7})
    (first,) = (host.tmp / "out").rglob("7-rgba.png")
    before = first.read_bytes()
    host.shared.opts.samples_format = "webp"
    generate(host, enabled=True, p_kwargs={"seed": 7, "prompt": "another"})
    assert first.read_bytes() == before
    assert saved_names(host) == ["7.png", "7-rgba.png", "7.webp", "7-rgba-1.png"]


@pytest.mark.parametrize("matte", [False, True])
def test_a_path_too_long_for_the_host_never_costs_the_original(host, monkeypatch, matte):
    # the host cuts the whole path (folder included) to f_namemax - 4 after the callbacks: a
    # long prompt in the name cut "-rgba" and "-matte" off, and the cut-out, then the matte,
    # replaced the original; the stem is now shortened before the suffix
    real = os.statvfs
    host.shared.opts.save_to_dirs = False
    room = len(str(host.tmp / "out" / "00000-")) + 4 + 20  # 20 characters of the prompt

    class Small:
        def __init__(self, path):
            self.f_namemax = room if str(path).startswith(str(host.tmp)) else real(path).f_namemax

    monkeypatch.setattr(os, "statvfs", Small)
    host.shared.opts.samples_filename_pattern = "[prompt_spaces]"
    generate(host, enabled=True, save_matte=matte, p_kwargs={"prompt": "a cat " * 30})
    written = [Path(s["written"]) for s in host.images.saved if not s["grid"]]
    assert len(written) == (3 if matte else 2), written
    assert len(set(written)) == len(written) and all(w.exists() for w in written), written
    assert all(len(str(w)) - 4 <= room - 4 for w in written)  # as the host keeps them
    assert Image.open(written[0]).mode == "RGB"  # still the original
    assert Image.open(written[1]).mode == "RGBA" and written[1].name.endswith("-rgba.png")
    if matte:
        assert written[2].name.endswith("-matte.png") and Image.open(written[2]).mode == "L"


def test_a_folder_too_deep_for_the_suffix_never_costs_an_original(host, monkeypatch):
    # the folder leaves room for five characters of a name: the host cuts "00000-1234" to
    # "00000", and "00000-rgba" to "00000" too, so the cut-out replaced the original, and
    # "0-rgba"/"0-matte" of the next image the first's (a trial on A1111); each output now
    # gets a short free name the host keeps whole
    real = os.statvfs
    host.shared.opts.save_to_dirs = False
    room = len(str(host.tmp / "out")) + 1 + 5 + 4  # the folder, "/", five characters, ".png"

    class Small:
        def __init__(self, path):
            self.f_namemax = room if str(path).startswith(str(host.tmp)) else real(path).f_namemax

    monkeypatch.setattr(os, "statvfs", Small)
    generate(host, enabled=True, save_matte=True, p_kwargs={"batch_size": 2})
    written = [Path(s["written"]) for s in host.images.saved if not s["grid"]]
    assert len(written) == 6 and len(set(written)) == 6, written
    assert all(w.exists() and len(w.stem) <= 5 for w in written), written
    modes = sorted(Image.open(w).mode for w in written)
    assert modes == ["L", "L", "RGB", "RGB", "RGBA", "RGBA"], modes


def forge_like_save_image(real, mode="Alpha"):
    """save_image with Forge's "Stealth infotext" (modules/stealth_infotext.py, called inside
    Forge's save_image before the callbacks, exceptions not caught). "Alpha", the default, puts
    alpha 255 into the very image object it was given and writes the infotext into the alpha
    low bits; on a one-channel image putalpha gives "LA" and unpacking 4 values raises
    ValueError. "RGB" writes into the colour low bits; unpacking 3 values raises ValueError on
    RGBA, TypeError on a one-channel image. It acts only on PNG files whose PNG info has
    "parameters"."""

    def save_image(image, path, basename, *args, **kwargs):
        extension = kwargs.get("extension", args[2] if len(args) > 2 else "png")
        pnginfo = dict(kwargs.get("existing_info") or {})
        if kwargs.get("info") is not None:
            pnginfo[kwargs.get("pnginfo_section_name", "parameters")] = kwargs["info"]
        if "parameters" in pnginfo and extension == "png":
            if mode == "Alpha":
                image.putalpha(255)
            pixels = image.load()
            for x in range(image.width):
                if mode == "Alpha":
                    r, g, b, a = pixels[x, 0]
                    pixels[x, 0] = (r, g, b, a & ~1 | x % 2)
                else:
                    r, g, b = pixels[x, 0]
                    pixels[x, 0] = (r & ~1 | x % 2, g, b)
        return real(image, path, basename, *args, **kwargs)

    return save_image


@pytest.mark.parametrize("mode", ["Alpha", "RGB"])
def test_a_save_image_that_changes_its_image_leaves_the_gallery_alone(host, monkeypatch, mode):
    _, unsaved = generate(
        host, enabled=True, save_matte=True, p_kwargs={"seed": 7, "do_not_save_samples": True}
    )
    stealthy = forge_like_save_image(host.images.save_image, mode)
    monkeypatch.setattr(host.images, "save_image", stealthy)
    _, processed = generate(host, enabled=True, save_matte=True, p_kwargs={"seed": 7})
    cutout, matte = processed.images[1:]
    assert (cutout.mode, matte.mode) == ("RGBA", "L")
    assert np.array_equal(np.asarray(cutout), np.asarray(unsaved.images[1]))
    assert np.array_equal(np.asarray(matte), np.asarray(unsaved.images[2]))
    assert not hasattr(cutout, "already_saved_as")  # A1111 marks the object it saved
    # both files written; the matte's infotext under another PNG key (Forge acts on "parameters"
    # only, and cannot hide it in a one-channel image)
    assert saved_names(host) == ["00000-7.png", "00000-7-rgba.png", "00000-7-matte.png"]
    rgba_file, matte_file = (s["written"] for s in host.images.saved[1:])
    with Image.open(rgba_file) as f:
        # the cut-out as keyed, alpha too ("Alpha" made it opaque on disk); its infotext under
        # "parameters" where stealth could write it (else under the other key, as the matte's)
        assert f.mode == "RGBA" and np.array_equal(np.asarray(f), np.asarray(cutout))
        assert "TKG: on" in f.info["parameters" if mode == "Alpha" else saving.FALLBACK_PNG_KEY]
        assert 0 < np.asarray(f)[..., 3].mean() < 250
    with Image.open(matte_file) as f:
        assert f.mode == "L" and np.array_equal(np.asarray(f), np.asarray(matte))
        assert "parameters" not in f.info
        assert f.info[saving.FALLBACK_PNG_KEY] == processed.infotexts[0]
    assert "failed" not in processed.comments


@pytest.mark.parametrize(
    "setup",
    [
        lambda h: {"p_kwargs": {"do_not_save_samples": True}},  # the API without save_images
        lambda h: setattr(h.shared.opts, "samples_save", False) or {},
        lambda h: setattr(h.shared.state, "interrupted", True) or {},
    ],
)
def test_nothing_saved_when_the_host_would_not_save(host, setup):
    kwargs = setup(host)
    p, processed = generate(host, enabled=True, save_matte=True, **kwargs)
    assert host.images.saved == []
    assert len(processed.images) == 3  # still in the gallery
    assert getattr(p, STATE_ATTR).pending == []  # nothing left to save later


def test_keying_failure_keeps_the_originals(host, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("keyer exploded")

    monkeypatch.setattr(cutouts, "key_generated", broken)
    _, processed = generate(host, enabled=True, p_kwargs={"batch_size": 2})
    assert len(processed.images) == len(processed.infotexts) == 3
    assert all(im.mode == "RGB" for im in processed.images)
    assert "keyer exploded" in capsys.readouterr().out
    assert "keying failed" in processed.comments
    assert saved_names(host) == ["00000-1.png", "00001-2.png"]


def test_older_hosts_key_in_postprocess_image(host, monkeypatch):
    runner, script = make_runner(host)
    p = host.processing.StableDiffusionProcessingTxt2Img(
        scripts=runner,
        script_args=script_args(runner, script, enabled=True),
        outpath_samples=str(host.tmp),
    )
    args = p.script_args[script.args_from : script.args_to]
    script.process(p, *args)
    p.prompts, p.seeds, p.subseeds, p.negative_prompts = ["a"], [1], [0], [""]
    p.all_seeds, p.all_prompts, p.all_negative_prompts = [1], ["a"], [""]
    image = Image.new("RGB", (64, 64), (0, 255, 0))
    pp = host.scripts.PostprocessImageArgs(image)
    script.postprocess_image(p, pp, *args)  # 1.8+: after_composite does it
    assert getattr(p, STATE_ATTR).outputs == []
    monkeypatch.setattr(host.module, "HOST_HAS_AFTER_COMPOSITE", False)
    script.postprocess_image(p, pp, *args)  # 1.6/1.7
    assert len(getattr(p, STATE_ATTR).outputs) == 1
    assert pp.image is image


# ----------------------------------------------------------------------------- HTTP API arguments


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("strength", "strong", "argument 3 'strength'"),
        ("sigma", 9.0, "argument 4 'sigma'"),
        ("center_x", -2, "argument 5 'center_x'"),
        ("color", "plaid", "argument 1 'color'"),
        ("make_rgba", "yes", "argument 7 'make_rgba'"),
        ("tolerance", None, "argument 10 'tolerance'"),
        ("layout", "0 0 0.3; 2 0 0.3", "argument 11 'layout' subject 2 'x' must be"),
        ("mask_image", "not an image", "argument 12 'mask_image' must be a base64-encoded"),
        ("aspect", 0.01, f"argument {NAMES.index('aspect')} 'aspect' must be 0 (stretch"),
    ],
)
def test_api_rejects_bad_arguments_with_a_message(host, name, value, needle):
    runner, script = make_runner(host)
    args = script_args(runner, script, enabled=True, **{name: value})
    with pytest.raises(ParamError) as info:
        generate(host, runner=runner, args=args)
    assert str(info.value).startswith("TKG chroma background: argument")
    assert needle in str(info.value)
    assert info.value.status_code == 422  # modules/api/api.py handle_exception reads these
    assert info.value.detail == str(info.value)
    # ... and prints no traceback for an HTTPException; the answer's "error" is the class name
    assert isinstance(info.value, host.fastapi_exceptions.HTTPException)
    assert type(info.value).__name__ == "ParamError"
    assert host.errors.reported == []  # not a swallowed hook error: the request fails
    # ... and the next request is served
    _, processed = generate(host, runner=runner, args=script_args(runner, script, enabled=True))
    assert len(processed.images) == 2


def test_api_omitted_arguments_keep_ui_defaults(host):
    runner, script = make_runner(host)
    args = list(runner.default_args())  # api.py init_script_args: defaults from ui()
    args[script.args_from] = True  # "args": [true]
    _p, processed = generate(host, runner=runner, args=tuple(args))
    assert TkgParams.from_infotext(
        host.infotext_utils.parse_generation_parameters(processed.infotexts[0])
    ) == TkgParams(enabled=True)


def test_install_py_uses_launch_helpers(monkeypatch):
    calls = []
    for installed in (True, False):
        launch = types.ModuleType("launch")
        launch.is_installed = lambda name, installed=installed: (
            calls.append(("is", name)) or installed
        )
        launch.run_pip = lambda command, desc=None: calls.append(("pip", command))
        monkeypatch.setitem(sys.modules, "launch", launch)
        source = (REPO_DIR / "install.py").read_text()
        exec(compile(source, "install.py", "exec"), {"__name__": "__main__"})
    assert calls == [("is", "cv2"), ("is", "cv2"), ("pip", "install opencv-python")]


def test_params_field_order_is_the_script_argument_order():
    assert NAMES == [
        "enabled",
        "color",
        "custom_color",
        "strength",
        "sigma",
        "center_x",
        "center_y",
        "make_rgba",
        "save_matte",
        "despill",
        "tolerance",
        "layout",
        "mask_image",
        "keep_shadow",
        "aspect",
    ]
    assert FIELD_BY_NAME["strength"].hi == 0.49


# ----------------------------------------------------------------------------- output safety


def test_equal_suffixes_do_not_lose_the_cutout(host):
    host.script_callbacks.ui_settings_callback()
    host.shared.opts.tkg_chroma_rgba_suffix = "-x"
    host.shared.opts.tkg_chroma_matte_suffix = "-X"
    _, processed = generate(host, enabled=True, save_matte=True, p_kwargs={"seed": 3})
    assert saved_names(host) == ["00000-3.png", "00000-3-rgba.png", "00000-3-matte.png"]
    for s in host.images.saved[1:]:
        assert Path(s["written"]).is_file()
    with Image.open(host.images.saved[1]["written"]) as cut:
        assert cut.mode == "RGBA"
    assert "would give outputs names that collide" in processed.comments
    assert "'-rgba' (cut-out) and '-matte' (matte)" in processed.comments


@pytest.mark.parametrize(
    ("rgba", "matte", "names", "needle"),
    [
        ("", "-m", ["00000-3-rgba.png", "00000-3-m.png"], "must not be empty"),
        ("/../x", "-m", ["00000-3-rgba.png", "00000-3-m.png"], "'/'"),
        ("-c", "sub\\m", ["00000-3-c.png", "00000-3-matte.png"], "'\\\\'"),
    ],
)
def test_unusable_suffixes_are_corrected_with_a_message(host, rgba, matte, names, needle):
    host.script_callbacks.ui_settings_callback()
    host.shared.opts.tkg_chroma_rgba_suffix = rgba
    host.shared.opts.tkg_chroma_matte_suffix = matte
    _, processed = generate(host, enabled=True, save_matte=True, p_kwargs={"seed": 3})
    assert saved_names(host) == ["00000-3.png", *names]
    assert needle in processed.comments and "Settings > " in processed.comments


def test_a_failed_save_is_logged_with_path_and_reason_never_as_saved(host, monkeypatch, capsys):
    real = host.images.save_image

    def save_image(image, path, basename, *args, **kwargs):
        if kwargs.get("forced_filename") or kwargs.get("suffix"):
            raise OSError(28, "No space left on device")
        return real(image, path, basename, *args, **kwargs)

    monkeypatch.setattr(host.images, "save_image", save_image)
    _, processed = generate(host, enabled=True, p_kwargs={"seed": 3})
    out = capsys.readouterr().out
    assert saved_names(host) == ["00000-3.png"]
    want = os.path.splitext(host.images.saved[0]["written"])[0] + "-rgba.png"
    assert want in processed.comments and "No space left on device" in processed.comments
    assert want in out and "No space left on device" in out
    assert "saved" not in out.replace("could not save", "")
    assert len(processed.images) == 2  # the cut-out is still in the gallery


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keying_notes_without_touching_warning_filters(host, monkeypatch):
    import warnings

    real = priors.key_quietly
    outer = warnings.filters
    seen = []

    def key(*args, **kwargs):
        seen.append(warnings.filters is outer)
        warnings.warn("an unrelated library warning", DeprecationWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(priors, "key_quietly", key)
    _, processed = generate(host, enabled=True)
    assert seen == [True]  # keyed with the process's own filters, not a swapped copy
    assert "unrelated" not in processed.comments
    # a picture without a screen: the keyer's own note, from its result
    grey = [Image.new("RGB", (64, 64), (128, 128, 128))]
    monkeypatch.setattr(host.processing, "decode", lambda p, latents: list(grey))
    _, processed = generate(host, enabled=True)
    assert "keying: " in processed.comments
