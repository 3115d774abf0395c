"""The ComfyUI nodes in a real ComfyUI (v0.8) on the CPU, over its HTTP API (opt-in).

    COMFYUI_DIR=/path/to/ComfyUI COMFYUI_PYTHON=/path/to/its/venv/bin/python \
    python -m pytest tests/integration/test_comfyui.py

ComfyUI gets a temporary ``--base-directory`` with this repository and the test-only noise
probe (``comfyui_probe/``) linked into its ``custom_nodes/``, and a tiny random SD1.5
checkpoint. The workflows are the examples in ``examples/comfyui/`` (API format), shrunk to
72x72 pixels (a 9x9 latent, whose middle element is the mask centre) and 3 steps, with probes
spliced in. See ``comfyui_server.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from comfyui_server import SKIP_REASON, ComfyUIConfig, ComfyUIError, ComfyUIServer, tiny_checkpoint
from PIL import Image
from webui_server import EXTENSION_NAME, REPO_ROOT

from lib_tkg.colors import channel_shifts
from lib_tkg.noise import tkg_noise

HERE = Path(__file__).resolve().parent
EXAMPLES = REPO_ROOT / "examples" / "comfyui"
SIZE = 72  # pixels; latent 9x9
SEED = 1234


@pytest.fixture(scope="module")
def comfyui(tmp_path_factory):
    try:
        cfg = ComfyUIConfig.from_env()
    except ComfyUIError as e:
        pytest.fail(str(e), pytrace=False)
    if cfg is None:
        pytest.skip(SKIP_REASON)
    base = tmp_path_factory.mktemp("comfyui-base")
    probes = tmp_path_factory.mktemp("comfyui-probe")
    server = ComfyUIServer(
        cfg,
        base,
        {EXTENSION_NAME: REPO_ROOT, "tkg_test_probe": HERE / "comfyui_probe"},
        tiny_checkpoint(cfg),
        inputs=[REPO_ROOT / "examples" / "green_screen.png"],
        env={"TKG_PROBE_DIR": str(probes)},
    )
    server.start()
    server.probe_dir = probes
    try:
        yield server
    finally:
        server.stop()
    assert not (base / "custom_nodes" / EXTENSION_NAME).exists()  # unlinked again


def example(
    name: str, server: ComfyUIServer, batch: int = 1, size: int = SIZE, width: int | None = None
) -> dict:
    """An example workflow (API format) made small: tiny checkpoint, ``size`` (``width`` x
    ``size`` when given), 3 steps."""
    graph = json.loads((EXAMPLES / f"{name}.api.json").read_text())
    for node in graph.values():
        inputs = node["inputs"]
        if node["class_type"] == "CheckpointLoaderSimple":
            inputs["ckpt_name"] = server.checkpoint.name
        if node["class_type"] == "EmptyLatentImage":
            inputs.update(width=width or size, height=size, batch_size=batch)
        if "steps" in inputs:
            inputs["steps"] = 3
    return graph


def node_id(graph: dict, class_type: str) -> str:
    (found,) = [k for k, v in graph.items() if v["class_type"] == class_type]
    return found


def splice(graph: dict, target: str, input_name: str, class_type: str, through: str, **widgets):
    """Put a new node on the link into ``graph[target][input_name]`` (its input ``through``)."""
    new = f"probe{len(graph)}"
    graph[new] = {
        "class_type": class_type,
        "inputs": {through: graph[target]["inputs"][input_name], **widgets},
    }
    graph[target]["inputs"][input_name] = [new, 0]


def probed(server: ComfyUIServer, name: str) -> np.ndarray:
    (path,) = server.probe_dir.glob(f"{name}-*.npy")
    return np.load(path)


def expected(plain: np.ndarray) -> np.ndarray:
    noise = torch.from_numpy(plain)
    return tkg_noise(noise, channel_shifts("green", "sd1"), 0.5, (0.0, 0.0)).numpy()


def pixels(path: Path) -> tuple[str, np.ndarray]:
    with Image.open(path) as im:
        return im.mode, np.asarray(im).copy()


def run_custom_advanced(
    server: ComfyUIServer,
    tag: str,
    batch: int = 1,
    size: int = SIZE,
    width: int | None = None,
    **tkg_inputs,
) -> tuple[dict, dict]:
    """Run the SamplerCustomAdvanced example with probes; ``tkg_inputs`` replace TKG Chroma
    Noise's inputs (``None`` removes one, as in a prompt saved before it existed)."""
    graph = example("txt2img_sampler_custom_advanced", server, batch, size, width)
    tkg = node_id(graph, "TKGChromaNoise")
    for name, value in tkg_inputs.items():
        graph[tkg]["inputs"][name] = value
        if value is None:
            del graph[tkg]["inputs"][name]
    splice(graph, tkg, "noise", "TKGTestNoiseProbe", "noise", name=f"plain-{tag}")
    sampler = node_id(graph, "SamplerCustomAdvanced")
    splice(graph, sampler, "noise", "TKGTestNoiseProbe", "noise", name=f"tkg-{tag}")
    guider = node_id(graph, "CFGGuider")
    splice(graph, guider, "model", "TKGTestModelProbe", "model", name=f"sampler-{tag}")
    return graph, server.run(graph)


def test_nodes_are_registered(comfyui):
    info = comfyui.request("GET", "/object_info")
    for name in ("TKGChromaNoise", "TKGChromaModel", "TKGChromaKey"):
        assert info[name]["python_module"].startswith("custom_nodes.")
    assert info["TKGChromaKey"]["output"] == ["IMAGE", "MASK", "IMAGE"]
    assert "color" in info["TKGChromaNoise"]["input"]["required"]


def test_noise_node_shift_and_sampler_input(comfyui):
    run_custom_advanced(comfyui, "b2", 2)
    plain, tkg, sampler = (probed(comfyui, f"{k}-b2") for k in ("plain", "tkg", "sampler"))
    assert tkg.shape == (2, 4, 9, 9)
    assert np.array_equal(tkg[:, [0, 3]], plain[:, [0, 3]])  # channels 0 and 3 untouched
    assert np.array_equal(tkg[:, :, 4, 4], plain[:, :, 4, 4])  # mask centre kept
    border = np.concatenate([(tkg - plain)[:, [1, 2], 0, :], (tkg - plain)[:, [1, 2], :, 0]], -1)
    assert (border > 0).all()  # channels 1 and 2 shifted up at the border
    np.testing.assert_allclose(tkg, expected(plain), rtol=0, atol=1e-6)
    assert np.array_equal(sampler, tkg)  # SamplerCustomAdvanced starts from exactly that


def test_batch_position_0_equals_a_batch_of_1(comfyui):
    # 64 px: a 4x8x8 latent. ComfyUI draws a batch's noise with one torch.randn, whose CPU
    # normals come in blocks of 16 values, so its own noise is batch-independent only when a
    # latent holds a multiple of 16 values (not for the 4x9x9 one of the other tests).
    first, one = (run_custom_advanced(comfyui, f"{b}x64", b, 64) for b in (2, 1))
    assert np.array_equal(probed(comfyui, "plain-2x64")[0], probed(comfyui, "plain-1x64")[0])
    tkg2, tkg1 = probed(comfyui, "tkg-2x64"), probed(comfyui, "tkg-1x64")
    assert not np.array_equal(tkg2[0], tkg2[1])
    assert np.array_equal(tkg2[0], tkg1[0])
    assert np.array_equal(probed(comfyui, "sampler-2x64")[0], probed(comfyui, "sampler-1x64")[0])
    (graph, entry), (_, entry1) = first, one
    save = saves(graph)[0]
    images = [pixels(p)[1] for p in comfyui.saved(entry, save)]
    assert len(images) == 2
    # the same starting noise; the UNet on a batch of 2 may round differently on the CPU
    diff = np.abs(images[0].astype(int) - pixels(comfyui.saved(entry1, save)[0])[1]).max()
    print(f"max |batch 2 image 0 - batch 1 image| = {diff} (0-255)")
    assert diff <= 2


def test_two_subject_layout_keeps_both_centres_and_shifts_between(comfyui):
    # 136x72 px: a 9x17 latent, x = -0.5, 0, 0.5 on columns 4, 8, 12 and y = 0 on row 4
    two = "-0.5 0 0.3; 0.5 0 0.3"
    run_custom_advanced(comfyui, "two", 1, SIZE, 136, layout=two)
    plain, tkg, sampler = (probed(comfyui, f"{k}-two") for k in ("plain", "tkg", "sampler"))
    assert tkg.shape == (1, 4, 9, 17)
    change = tkg - plain
    assert np.array_equal(tkg[:, [0, 3]], plain[:, [0, 3]])
    for col in (4, 12):
        assert np.array_equal(tkg[:, :, 4, col], plain[:, :, 4, col])  # both centres kept
    assert (change[:, [1, 2], 4, 8] > 0.1).all()  # shifted between the subjects
    assert (change[:, [1, 2], 0, :] > 0).all()  # and at the border
    want = tkg_noise(torch.from_numpy(plain), channel_shifts("green", "sd1"), layout=two)
    np.testing.assert_allclose(tkg, want.numpy(), rtol=0, atol=1e-6)
    assert np.array_equal(sampler, tkg)


def test_prompt_without_layout_inputs_runs_as_before(comfyui):
    run_custom_advanced(comfyui, "old", layout=None, aspect=None)
    plain, tkg = probed(comfyui, "plain-old"), probed(comfyui, "tkg-old")
    np.testing.assert_allclose(tkg, expected(plain), rtol=0, atol=1e-6)


def saves(graph: dict) -> list[str]:
    """The SaveImage node ids of ``graph``, in id order."""
    return sorted((k for k, v in graph.items() if v["class_type"] == "SaveImage"), key=int)


def test_ksampler_with_model_patch_equals_custom_advanced_with_noise_node(comfyui):
    graph, entry = run_custom_advanced(comfyui, "same", 1)
    ks = example("txt2img_ksampler_model_patch", comfyui)
    splice(ks, node_id(ks, "KSampler"), "model", "TKGTestModelProbe", "model", name="ks-sampler")
    ks_entry = comfyui.run(ks)
    assert np.array_equal(probed(comfyui, "ks-sampler"), probed(comfyui, "sampler-same"))
    # the same image, and the same RGBA cut-out
    for a, b in zip(saves(graph), saves(ks), strict=True):
        (pa,), (pb,) = comfyui.saved(entry, a), comfyui.saved(ks_entry, b)
        (mode_a, img_a), (mode_b, img_b) = pixels(pa), pixels(pb)
        assert mode_a == mode_b and np.array_equal(img_a, img_b), (pa.name, pb.name)
    # without the patch, KSampler gives another image: the patch did something
    plain = example("txt2img_ksampler_model_patch", comfyui)
    patch = node_id(plain, "TKGChromaModel")
    plain[node_id(plain, "KSampler")]["inputs"]["model"] = plain.pop(patch)["inputs"]["model"]
    plain_entry = comfyui.run(plain)
    first = saves(plain)[0]
    unpatched = pixels(comfyui.saved(plain_entry, first)[0])[1]
    assert not np.array_equal(unpatched, pixels(comfyui.saved(ks_entry, first)[0])[1])


def test_key_node_writes_rgba_png_directly_and_through_join_image_with_alpha(comfyui):
    graph = example("key_image", comfyui)
    entry = comfyui.run(graph)
    direct, joined = (comfyui.saved(entry, k)[0] for k in saves(graph))
    mode, rgba = pixels(direct)
    assert mode == "RGBA" and rgba.shape == (512, 512, 4)
    alpha = rgba[..., 3]
    assert (alpha[:8] == 0).all() and (alpha[:, -8:] == 0).all()  # screen clear
    assert (alpha[236:276, 236:276] == 255).all()  # subject opaque
    joined_mode, joined_rgba = pixels(joined)
    assert joined_mode == "RGBA" and np.array_equal(joined_rgba, rgba)


@pytest.mark.parametrize(
    ("workflow", "node", "values", "text"),
    [
        (
            "txt2img_sampler_custom_advanced",
            "TKGChromaNoise",
            {"color": "not-a-colour"},
            "TKG chroma background: 'color' must be one of",
        ),
        (
            "txt2img_ksampler_model_patch",
            "TKGChromaModel",
            {"sigma": 9.0},
            "TKG chroma background: 'sigma' must be a number in [0.05, 4], got 9.0",
        ),
        (
            "txt2img_sampler_custom_advanced",
            "TKGChromaNoise",
            {"layout": "-0.5 0 0.3; 0.5 0 9"},
            "TKG chroma background: 'layout' subject 2 'sigma' must be a number in [0.05, 4]",
        ),
        (
            "txt2img_ksampler_model_patch",
            "TKGChromaModel",
            {"aspect": 0.01},
            "TKG chroma background: 'aspect' must be 0 (stretch with the canvas) or a number",
        ),
        (
            "key_image",
            "TKGChromaKey",
            {"despill": 2.0},
            "TKG chroma background: 'despill' must be a number in [0, 1], got 2.0",
        ),
    ],
)
def test_bad_widget_values_are_rejected_at_queue_time(comfyui, workflow, node, values, text):
    graph = example(workflow, comfyui)
    target = node_id(graph, node)
    graph[target]["inputs"].update(values)
    status, answer = comfyui.queue(graph)
    assert status == 400
    errors = answer["node_errors"][target]["errors"]
    assert any(text in e["details"] for e in errors), errors
    assert {next(iter(values))} <= {e["extra_info"]["input_name"] for e in errors}


def test_a_rejected_branch_leaves_the_other_outputs_running(comfyui):
    # ComfyUI's own rule: a prompt is refused only when no output is left without errors
    graph = example("txt2img_sampler_custom_advanced", comfyui)
    key = node_id(graph, "TKGChromaKey")
    graph[key]["inputs"].update(despill=2.0)
    status, answer = comfyui.queue(graph)
    assert status == 200
    errors = answer["node_errors"][key]["errors"]
    assert any("'despill' must be a number in [0, 1], got 2.0" in e["details"] for e in errors)
