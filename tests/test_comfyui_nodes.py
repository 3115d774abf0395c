"""ComfyUI nodes (``comfyui_nodes/``) against the stand-in ComfyUI in ``tests/comfyui_stub``.

The repository is loaded the way ComfyUI loads a custom-node folder; the real ComfyUI is
covered by ``tests/integration/test_comfyui.py``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lib_tkg.colors import channel_shifts
from lib_tkg.keying import KeyResult
from lib_tkg.noise import tkg_noise
from lib_tkg.params import FIELD_BY_NAME, ParamError, TkgParams

REPO = Path(__file__).resolve().parent.parent
STUB = Path(__file__).resolve().parent / "comfyui_stub"


@pytest.fixture(scope="module")
def comfy():
    """(harness module, the loaded custom-node package), with the stand-in ``comfy`` importable.

    pytest itself imports the repository's root ``__init__.py`` as a package named after the
    checkout's folder (a folder called ``comfy`` would hide the stand-in), so any ``comfy``
    module is set aside meanwhile; everything is put back afterwards.
    """
    ours = ("comfy", "harness")
    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k.split(".")[0] in ours}
    sys.path.insert(0, str(STUB))
    before = set(sys.modules)
    try:
        import harness

        path = list(sys.path)
        package = harness.load_custom_node(REPO)
        package.sys_path_kept = sys.path == path
        yield harness, package
    finally:
        sys.path.remove(str(STUB))
        for name in set(sys.modules) - before:
            if name.split(".")[0] in ours or name.startswith(harness.module_name(REPO)):
                del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture(scope="module")
def nodes(comfy):
    return comfy[1].NODE_CLASS_MAPPINGS


def green_params(**kw) -> TkgParams:
    return TkgParams(color="green", **kw)


def expected(noise: torch.Tensor, family: str = "sd1", params: TkgParams | None = None):
    p = params or green_params()
    return tkg_noise(
        noise, channel_shifts(p.key_color, family, p.strength_or_auto), **p.mask_kwargs
    )


def noise_inputs(**kw):
    values = dict(color="green", custom_color="#00ff00", strength=0.0, sigma=0.5)
    return {**values, "center_x": 0.0, "center_y": 0.0, **kw}


# ---------------------------------------------------------------------------------------------
# loading


def test_loads_like_a_comfyui_custom_node_and_leaves_sys_path(comfy):
    _harness, package = comfy
    assert package.sys_path_kept
    assert set(package.NODE_CLASS_MAPPINGS) == {"TKGChromaNoise", "TKGChromaModel", "TKGChromaKey"}
    assert package.NODE_DISPLAY_NAME_MAPPINGS["TKGChromaKey"] == "TKG Chroma Key"
    for cls in package.NODE_CLASS_MAPPINGS.values():
        assert callable(getattr(cls(), cls.FUNCTION))
        assert len(cls.RETURN_TYPES) >= 1
        assert "required" in cls.INPUT_TYPES()


def test_widgets_mirror_the_webui_parameters(nodes):
    spec = nodes["TKGChromaNoise"].INPUT_TYPES()["required"]
    assert list(spec)[:2] == ["noise", "model"]
    for name in ("strength", "sigma", "center_x", "center_y"):
        kind, opts = spec[name]
        field = FIELD_BY_NAME[name]
        assert (kind, opts["default"], opts["min"], opts["max"]) == (
            "FLOAT",
            field.default,
            field.lo,
            field.hi,
        )
    assert "custom" in spec["color"][0] and "auto" not in spec["color"][0]
    every = {**spec, **nodes["TKGChromaNoise"].INPUT_TYPES().get("optional", {})}
    for name, (kind, opts) in every.items():  # every widget position is accepted
        if kind == "FLOAT":
            for k in range(round((opts["max"] - opts["min"]) / opts["step"]) + 1):
                TkgParams.from_mapping({name: round(opts["min"] + k * opts["step"], 6)})
    key_spec = nodes["TKGChromaKey"].INPUT_TYPES()["required"]
    assert key_spec["color"][0][0] == "auto" and key_spec["color"][1]["default"] == "auto"
    # tooltips say what each widget can hold: the FLOAT strength widget cannot hold 'auto',
    # the key node's dropdown can; links say what they take
    assert "'auto'" not in spec["strength"][1]["tooltip"]
    assert "0 = Auto" in spec["strength"][1]["tooltip"]
    assert "'auto'" in key_spec["color"][1]["tooltip"]
    assert "'auto'" not in spec["color"][1]["tooltip"]
    for inputs in (spec, key_spec):
        assert all(opts.get("tooltip") for _kind, opts in inputs.values()), inputs
    assert nodes["TKGChromaModel"].INPUT_TYPES()["required"].keys() - {"model"} == (
        spec.keys() - {"noise", "model"}
    )


@pytest.mark.parametrize("node", ["TKGChromaNoise", "TKGChromaModel"])
def test_layout_widgets_are_optional_inputs(nodes, node):
    spec = nodes[node].INPUT_TYPES()
    assert not {"layout", "aspect"} & spec["required"].keys()
    optional = spec["optional"]
    assert list(optional) == ["layout", "aspect"]
    assert optional["layout"] == (
        "STRING",
        {"default": "", "tooltip": optional["layout"][1]["tooltip"]},
    )
    assert "x y sigma[ aspect[ angle]]" in optional["layout"][1]["tooltip"]
    kind, opts = optional["aspect"]
    assert (kind, opts["default"], opts["min"], opts["max"]) == ("FLOAT", 0.0, 0.0, 5.0)


# ---------------------------------------------------------------------------------------------
# queue-time validation (VALIDATE_INPUTS)


@pytest.mark.parametrize("node", ["TKGChromaNoise", "TKGChromaModel"])
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("color", "not-a-colour"),
        ("custom_color", "#12"),
        ("sigma", 9.0),
        ("strength", 0.6),
        ("center_x", -1.5),
        ("layout", "-0.5 0 0.3; 0.5 0"),
        ("layout", "0 0 9"),
        ("aspect", 0.01),
        ("aspect", 6.0),
    ],
)
def test_shift_widgets_rejected_with_tkgparams_text(nodes, node, name, value):
    with pytest.raises(ParamError) as err:
        TkgParams.from_mapping({name: value})
    message = nodes[node].VALIDATE_INPUTS(**noise_inputs(**{name: value}))
    if name == "strength":  # the widget takes a number, not 'auto' as the WebUI's text offers
        assert message == (
            "TKG chroma background: 'strength' must be a number in [0, 0.49]; 0 = Auto "
            "(the paper's value), got 0.6"
        )
    else:
        assert message == str(err.value)
    assert f"'{name}'" in message


def test_valid_and_linked_widgets_pass(nodes):
    assert nodes["TKGChromaNoise"].VALIDATE_INPUTS(**noise_inputs()) is True
    assert nodes["TKGChromaNoise"].VALIDATE_INPUTS(**noise_inputs(color="#ff00ff")) is True
    # a widget fed by a link arrives as None at queue time
    assert nodes["TKGChromaNoise"].VALIDATE_INPUTS(**noise_inputs(sigma=None)) is True
    assert nodes["TKGChromaKey"].VALIDATE_INPUTS(color="auto", custom_color="#00ff00") is True
    assert nodes["TKGChromaKey"].VALIDATE_INPUTS(color="custom", custom_color="#00b140") is True


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"color": "not-a-colour"}, "'color'"),
        ({"color": "green", "tolerance": 0.5, "clip_white": 0.6}, "clip_white"),
        ({"color": "auto", "border": 0.0}, "border"),
        ({"color": "green", "despill": 2.0}, "'despill'"),
    ],
)
def test_key_widgets_rejected(nodes, values, names):
    message = nodes["TKGChromaKey"].VALIDATE_INPUTS(**values)
    assert isinstance(message, str)
    assert message.startswith("TKG chroma background: ")
    assert names in message


# ---------------------------------------------------------------------------------------------
# TKGChromaNoise


def test_noise_node_shifts_channels_1_2_at_the_border_only(comfy, nodes):
    harness, _ = comfy
    (noise,) = nodes["TKGChromaNoise"]().apply(
        harness.RandomNoise(7), harness.model(), **noise_inputs()
    )
    latent = harness.empty_latent(1, size=17)
    plain = harness.RandomNoise(7).generate_noise(latent)
    out = noise.generate_noise(latent)
    assert noise.seed == 7
    torch.testing.assert_close(out, expected(plain), rtol=0, atol=0)
    assert torch.equal(out[:, [0, 3]], plain[:, [0, 3]])
    assert torch.equal(out[:, :, 8, 8], plain[:, :, 8, 8])  # mask centre kept exactly
    border = (out - plain)[:, [1, 2], 0, :]
    assert (border > 0.1).all()  # green on SD1: channels 1 and 2 shifted up


def test_noise_node_is_per_sample_and_honours_batch_index(comfy, nodes):
    harness, _ = comfy
    (noise,) = nodes["TKGChromaNoise"]().apply(
        harness.RandomNoise(3), harness.model(), **noise_inputs()
    )
    one = noise.generate_noise(harness.empty_latent(1))
    four = noise.generate_noise(harness.empty_latent(4))
    assert torch.equal(four[:1], one)
    picked = noise.generate_noise({**harness.empty_latent(2), "batch_index": [2, 0]})
    assert torch.equal(picked[0], four[2]) and torch.equal(picked[1], four[0])


@pytest.mark.parametrize(("fmt", "family"), [("SDXL", "sdxl"), ("SD3", "sd3"), ("Flux", "flux")])
def test_noise_node_uses_the_model_family(comfy, nodes, fmt, family):
    harness, _ = comfy
    values = noise_inputs(color="magenta", strength=0.1)
    (noise,) = nodes["TKGChromaNoise"]().apply(harness.RandomNoise(1), harness.model(fmt), **values)
    channels = harness.FORMATS[fmt].latent_channels
    latent = harness.empty_latent(2, channels)
    params = TkgParams.from_mapping(values)
    want = expected(harness.RandomNoise(1).generate_noise(latent), family, params)
    assert torch.equal(noise.generate_noise(latent), want)


def test_disabled_noise_stays_zero(comfy, nodes):
    harness, _ = comfy
    (noise,) = nodes["TKGChromaNoise"]().apply(
        harness.EmptyNoise(), harness.model(), **noise_inputs()
    )
    assert noise.seed == 0
    assert not noise.generate_noise(harness.empty_latent(2)).any()


@pytest.mark.parametrize("fmt", ["SDXL_Playground_2_5", "Wan21"])
@pytest.mark.parametrize("node", ["TKGChromaNoise", "TKGChromaModel"])
def test_unsupported_models_fail_clearly(comfy, nodes, fmt, node):
    harness, _ = comfy
    args = (harness.RandomNoise(1),) if node == "TKGChromaNoise" else ()
    with pytest.raises(ValueError, match=f"latent format is {fmt}.*supported are"):
        nodes[node]().apply(*args, harness.model(fmt), **noise_inputs())


def test_neutral_colour_of_the_family_fails_at_run_time(comfy, nodes):
    harness, _ = comfy
    table = json.loads((REPO / "lib_tkg" / "data" / "latent_rgb_factors.json").read_text())
    grey = "#" + "".join(f"{round((b + 1) * 127.5):02x}" for b in table["preview"]["sd1"]["bias"])
    values = noise_inputs(color="custom", custom_color=grey)
    assert nodes["TKGChromaNoise"].VALIDATE_INPUTS(**values) is True  # depends on the model
    (noise,) = nodes["TKGChromaNoise"]().apply(harness.RandomNoise(1), harness.model(), **values)
    with pytest.raises(ValueError, match=r"^TKG chroma: .*neutral colour"):
        noise.generate_noise(harness.empty_latent())


TWO = "-0.5 0 0.3; 0.5 0 0.3"


def wide_latent() -> dict:
    """A 9x17 latent: x = -0.5, 0, 0.5 fall on columns 4, 8, 12 and y = 0 on row 4."""
    return {"samples": torch.zeros(1, 4, 9, 17)}


def test_two_subject_layout_keeps_both_centres_and_shifts_between(comfy, nodes):
    harness, _ = comfy
    values = noise_inputs(layout=TWO, aspect=0.0)
    assert nodes["TKGChromaNoise"].VALIDATE_INPUTS(**values) is True
    (noise,) = nodes["TKGChromaNoise"]().apply(harness.RandomNoise(4), harness.model(), **values)
    latent = wide_latent()
    plain = harness.RandomNoise(4).generate_noise(latent)
    out = noise.generate_noise(latent)
    change = out - plain
    assert torch.equal(out[:, [0, 3]], plain[:, [0, 3]])
    for col in (4, 12):  # both subject centres: the noise kept exactly
        assert torch.equal(out[:, :, 4, col], plain[:, :, 4, col])
    assert (change[:, [1, 2], 4, 8] > 0.1).all()  # shifted between the two subjects
    assert (change[:, [1, 2], 0, :] > 0.1).all()  # and at the border
    params = TkgParams.from_mapping(values)
    assert torch.equal(out, expected(plain, params=params))
    # the single subject at the same sigma would keep the middle column instead
    (single,) = nodes["TKGChromaNoise"]().apply(
        harness.RandomNoise(4), harness.model(), **noise_inputs(sigma=0.3)
    )
    middle = single.generate_noise(latent)
    assert torch.equal(middle[:, :, 4, 8], plain[:, :, 4, 8])
    assert (middle - plain)[:, [1, 2], 4, 4].min() > 0.1


def test_model_patch_uses_the_layout_and_aspect(comfy, nodes):
    harness, _ = comfy
    _, _, guider = patched(comfy, nodes, layout=TWO)
    latent = wide_latent()
    noise = harness.RandomNoise(6).generate_noise(latent)
    got = guider.sample(noise, latent["samples"], "euler", torch.tensor([14.6146, 0.0]))
    assert torch.equal(got, expected(noise, params=green_params(layout=TWO)))
    _, _, round_guider = patched(comfy, nodes, aspect=1.0)
    round_ = round_guider.sample(noise, latent["samples"], "euler", torch.tensor([14.6, 0.0]))
    assert torch.equal(round_, expected(noise, params=green_params(aspect=1.0)))
    assert not torch.equal(round_, expected(noise))  # aspect 1 is round on a wide canvas


def test_prompt_without_the_layout_inputs_still_works(comfy, nodes):
    harness, _ = comfy
    old = noise_inputs()  # a workflow saved before layout and aspect existed
    assert not {"layout", "aspect"} & old.keys()
    assert nodes["TKGChromaNoise"].VALIDATE_INPUTS(**old) is True
    latent = wide_latent()
    plain = harness.RandomNoise(8).generate_noise(latent)
    (without,) = nodes["TKGChromaNoise"]().apply(harness.RandomNoise(8), harness.model(), **old)
    (with_defaults,) = nodes["TKGChromaNoise"]().apply(
        harness.RandomNoise(8), harness.model(), **old, layout="", aspect=0.0
    )
    got = without.generate_noise(latent)
    assert torch.equal(got, with_defaults.generate_noise(latent))
    # the single subject of sigma and centre, as before
    shifts = channel_shifts("green", "sd1")
    assert torch.equal(got, tkg_noise(plain, shifts, 0.5, (0.0, 0.0)))


# ---------------------------------------------------------------------------------------------
# TKGChromaModel (OUTER_SAMPLE wrapper)


def patched(comfy, nodes, fmt="SD15", **kw):
    harness, _ = comfy
    base = harness.model(fmt)
    (model,) = nodes["TKGChromaModel"]().apply(base, **noise_inputs(**kw))
    return base, model, harness.Guider(model)


def test_model_patch_gives_the_noise_node_s_noise(comfy, nodes):
    harness, _ = comfy
    base, model, guider = patched(comfy, nodes)
    assert base.wrappers == {} and model is not base  # the input MODEL is not changed
    latent = harness.empty_latent(2)
    plain = harness.RandomNoise(5).generate_noise(latent)
    sigmas = torch.tensor([14.6146, 1.0, 0.0])
    got = guider.sample(plain, latent["samples"], "euler", sigmas, seed=5)
    (noise,) = nodes["TKGChromaNoise"]().apply(harness.RandomNoise(5), base, **noise_inputs())
    assert torch.equal(got, noise.generate_noise(latent))
    assert not torch.equal(got, plain)
    # the other arguments reach the sampler untouched (v0.8 passes latent_shapes too)
    _, lat, sampler, sig, args, kwargs = guider.received[0]
    assert lat is latent["samples"] and sampler == "euler" and sig is sigmas
    assert args == (None, None, False, 5) and kwargs == {"latent_shapes": [lat.shape]}


def test_model_patch_skips_passes_that_do_not_start_from_noise(comfy, nodes):
    harness, _ = comfy
    _, _, guider = patched(comfy, nodes)
    noise = harness.RandomNoise(1).generate_noise(harness.empty_latent())
    image_latent = torch.randn(noise.shape, generator=torch.manual_seed(9))
    low = torch.tensor([6.0, 1.0, 0.0])  # img2img / hires / refiner: denoise < 1
    assert torch.equal(guider.sample(noise, image_latent, "euler", low), noise)
    zeros = torch.zeros_like(noise)  # KSamplerAdvanced with add_noise disabled
    assert torch.equal(guider.sample(zeros, torch.zeros_like(noise), "euler", low), zeros)
    full = torch.tensor([14.6146, 1.0, 0.0])  # img2img at denoise 1 starts from pure noise
    assert torch.equal(guider.sample(noise, image_latent, "euler", full), expected(noise))
    # an empty latent is a fresh generation whatever the schedule's first sigma
    assert torch.equal(guider.sample(noise, torch.zeros_like(noise), "euler", low), expected(noise))


def test_patching_twice_replaces_the_first_patch(comfy, nodes):
    harness, _ = comfy
    _, once, _ = patched(comfy, nodes)
    (twice,) = nodes["TKGChromaModel"]().apply(once, **noise_inputs(color="blue"))
    latent = harness.empty_latent()
    noise = harness.RandomNoise(2).generate_noise(latent)
    got = harness.Guider(twice).sample(noise, latent["samples"], "euler", torch.tensor([14.6, 0.0]))
    assert torch.equal(got, expected(noise, params=TkgParams(color="blue")))


# ---------------------------------------------------------------------------------------------
# TKGChromaKey


def green_screen() -> torch.Tensor:
    image = np.asarray(Image.open(REPO / "examples" / "green_screen.png").convert("RGB"))
    return torch.from_numpy(image.astype(np.float32) / 255.0)[None]


@pytest.mark.parametrize("color", ["auto", "green"])
def test_key_node_outputs_rgba_mask_and_foreground(comfy, nodes, color):
    harness, _ = comfy
    image = green_screen()
    fg, mask, rgba = nodes["TKGChromaKey"]().apply(image, color=color, custom_color="#00ff00")
    b, h, w, _ = image.shape
    assert fg.shape == (b, h, w, 3) and mask.shape == (b, h, w) and rgba.shape == (b, h, w, 4)
    assert fg.dtype == mask.dtype == rgba.dtype == torch.float32
    png = harness.saved_pixels(rgba[0])
    assert (png[:8, :, 3] == 0).all() and (png[:, -8:, 3] == 0).all()  # screen clear
    assert png[h // 2, w // 2, 3] == 255  # subject opaque
    assert mask[0, 0, 0] == 1.0 and mask[0, h // 2, w // 2] == 0.0  # 1 = transparent
    assert np.array_equal(harness.saved_pixels(fg[0]), png[..., :3])
    # JoinImageWithAlpha(foreground, mask) saves the very same RGBA PNG
    joined = harness.join_image_with_alpha(fg, mask)
    assert np.array_equal(harness.saved_pixels(joined[0]), png)


def test_key_node_keys_each_image_of_a_batch_and_takes_rgba_input(nodes):
    image = green_screen()
    alpha = torch.ones((*image.shape[:3], 1))
    alpha[:, :, : image.shape[2] // 2] = 0.5
    batch = torch.cat(
        [torch.cat([image, alpha], -1), torch.cat([image, torch.ones_like(alpha)], -1)]
    )
    _, _, rgba = nodes["TKGChromaKey"]().apply(batch, color="green", custom_color="#00ff00")
    half = image.shape[2] // 2
    opaque = rgba[1, :, :half, 3] == 1  # subject pixels of the left half
    assert opaque.sum() > 1000
    halved = rgba[0, :, :half, 3][opaque]  # the input alpha is multiplied in
    assert torch.allclose(halved, torch.full_like(halved, 0.5), atol=1 / 255)
    assert torch.equal(rgba[0, :, half:], rgba[1, :, half:])


def test_mask_round_trips_every_alpha_level_through_join_image_with_alpha(
    comfy, nodes, monkeypatch
):
    harness, package = comfy
    rgba = np.zeros((1, 256, 4), np.uint8)
    rgba[..., 3] = np.arange(256)
    result = KeyResult(rgba=rgba, alpha=rgba[..., 3], key_color=(0, 255, 0), keyed=True)
    monkeypatch.setattr(package.comfyui_nodes.key, "key_quietly", lambda *a, **k: result)
    fg, mask, out = nodes["TKGChromaKey"]().apply(torch.zeros(1, 1, 256, 3), color="green")
    assert np.array_equal(harness.saved_pixels(out[0]), rgba)
    assert np.array_equal(harness.saved_pixels(harness.join_image_with_alpha(fg, mask)[0]), rgba)
    assert torch.allclose(mask[0, 0], 1 - out[0, 0, :, 3], rtol=0, atol=1e-6)


def test_key_node_run_time_errors(comfy, nodes):
    with pytest.raises(ValueError, match=r"needs an IMAGE \(batch, height, width, 3\|4\)"):
        nodes["TKGChromaKey"]().apply(torch.zeros(2, 8, 8), color="auto")
    with pytest.raises(ValueError, match=r"the IMAGE is empty, shape \(0, 8, 8, 3\)"):
        nodes["TKGChromaKey"]().apply(torch.zeros(0, 8, 8, 3), color="auto")
    with pytest.raises(ParamError, match="'custom_color'"):
        nodes["TKGChromaKey"]().apply(green_screen(), color="custom", custom_color="nope")


def test_key_colour_messages_offer_auto_and_auto_takes_any_case(nodes):
    message = nodes["TKGChromaKey"].VALIDATE_INPUTS(color="not-a-colour")
    assert message.startswith("TKG chroma background: 'color' must be one of auto, green, blue")
    for auto in ("AUTO", " Auto "):
        assert nodes["TKGChromaKey"].VALIDATE_INPUTS(color=auto) is True
    # custom_color is read only with custom: an unused bad one does not block the prompt
    assert nodes["TKGChromaKey"].VALIDATE_INPUTS(color="green", custom_color="zzz") is True
    assert "'custom_color'" in nodes["TKGChromaKey"].VALIDATE_INPUTS(
        color="custom", custom_color="zzz"
    )


def test_untouched_pixels_keep_their_exact_input_values(comfy, nodes):
    """A decoded image is not on the 1/255 grid: the keyer rounds to 8 bits, Save Image
    truncates, so rounded pixels came out a level brighter (3463 of 4096 in a trial) where
    nothing was keyed. Pixels the keyer leaves as they were keep their input value."""
    harness, _ = comfy
    rng = np.random.default_rng(3)
    photo = torch.from_numpy(rng.uniform(0.2, 0.8, (1, 48, 48, 3)).astype(np.float32))
    fg, mask, rgba = nodes["TKGChromaKey"]().apply(photo, color="auto")
    assert (mask == 0).all()
    assert torch.equal(fg, photo) and torch.equal(rgba[..., :3], photo)
    assert np.array_equal(harness.saved_pixels(rgba[0])[..., :3], harness.saved_pixels(photo[0]))
    # on a keyed image too, where the subject's colour is left as it was
    image = green_screen() * 0.999 + 0.0004  # off the 1/255 grid
    fg, _, rgba = nodes["TKGChromaKey"]().apply(image, color="green", denoise=False)
    h, w = image.shape[1:3]
    centre = (slice(h // 2 - 4, h // 2 + 4), slice(w // 2 - 4, w // 2 + 4))
    assert torch.equal(fg[0][centre], image[0][centre])


def test_keep_shadow_is_an_optional_key_input(nodes):
    spec = nodes["TKGChromaKey"].INPUT_TYPES()
    assert spec["optional"]["keep_shadow"][0] == "BOOLEAN"
    assert spec["optional"]["keep_shadow"][1]["default"] is False
    import cv2

    floor = np.full((192, 192, 3), 245 / 255, np.float32)  # a product on a white floor
    floor[40:120, 60:132] = (40 / 255, 90 / 255, 200 / 255)
    shadow = np.zeros((192, 192), np.float32)
    cv2.ellipse(shadow, (96, 140), (50, 12), 0, 0, 360, 1.0, -1)
    floor *= 1 - 0.4 * cv2.GaussianBlur(shadow, (0, 0), 8)[..., None]
    image = torch.from_numpy(floor)[None]
    _, _, out = nodes["TKGChromaKey"]().apply(image, color="white")
    _, _, kept = nodes["TKGChromaKey"]().apply(image, color="white", keep_shadow=True)
    assert out[0, 136:146, 70:122, 3].max() <= 10 / 255
    assert kept[0, 136:146, 70:122, 3].min() >= 40 / 255


def test_image_without_the_key_colour_stays_opaque(comfy, nodes, caplog):
    grey = torch.full((1, 32, 32, 3), 0.5)
    _, mask, rgba = nodes["TKGChromaKey"]().apply(grey, color="auto")
    assert (rgba[..., 3] == 1).all() and (mask == 0).all()
    assert "image 0: no screen colour found" in caplog.text


def test_install_py_does_nothing_outside_a_webui(monkeypatch):
    monkeypatch.setitem(sys.modules, "launch", None)  # import launch -> ImportError
    source = (REPO / "install.py").read_text()
    exec(compile(source, "install.py", "exec"), {"__name__": "__main__"})


def test_missing_opencv_says_how_to_install_it(comfy, monkeypatch):
    harness, _ = comfy
    ours = ("cv2", "lib_tkg", harness.module_name(REPO))
    for name in [m for m in sys.modules if m.startswith(ours)]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 -> ModuleNotFoundError
    with pytest.raises(ImportError, match="need OpenCV: run `python -m pip install -r requirem"):
        harness.load_custom_node(REPO)


@pytest.mark.parametrize(
    "name", ["txt2img_sampler_custom_advanced", "txt2img_ksampler_model_patch", "key_image"]
)
def test_example_workflows_give_tkg_nodes_every_input(nodes, name):
    graph = json.loads((REPO / "examples" / "comfyui" / f"{name}.api.json").read_text())
    used = [n for n in graph.values() if n["class_type"] in nodes]
    assert used
    for node in used:
        cls = nodes[node["class_type"]]
        spec = cls.INPUT_TYPES()
        assert set(node["inputs"]) == set(spec["required"]) | set(spec.get("optional", {}))
        widgets = {k: v for k, v in node["inputs"].items() if not isinstance(v, list)}
        assert cls.VALIDATE_INPUTS(**widgets) is True


def test_root_init_read_as_a_loose_module_registers_nothing():
    # what pytest does when the checkout's folder name is not a valid module name
    spec = importlib.util.spec_from_file_location("__init__", REPO / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert not hasattr(module, "NODE_CLASS_MAPPINGS")


def test_key_node_refuses_integer_and_nan_images(nodes):
    """A uint8 IMAGE came out all white, a NaN one NaN, without an error."""
    with pytest.raises(ValueError, match=r"needs an IMAGE of floats in 0\.\.1"):
        nodes["TKGChromaKey"]().apply((green_screen() * 255).to(torch.uint8), color="auto")
    image = green_screen().clone()
    image[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="holds NaN or infinite values"):
        nodes["TKGChromaKey"]().apply(image, color="auto")
