"""The example ComfyUI workflows: each UI-format file describes the same graph as its
API-format twin (the TKG nodes' inputs in them: tests/test_comfyui_nodes.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "comfyui"
API_FILES = sorted(EXAMPLES.glob("*.api.json"))
CONTROL_VALUES = {"fixed", "increment", "decrement", "randomize"}


def api_from_ui(ui: dict) -> dict:
    """The API-format graph a UI-format workflow stands for (ComfyUI's frontend does this)."""
    links = {lk[0]: lk for lk in ui["links"]}
    graph = {}
    for node in ui["nodes"]:
        inputs, values = {}, list(node["widgets_values"])
        for slot in node["inputs"]:
            if slot["link"] is not None:
                _, src, src_slot, *_ = links[slot["link"]]
                inputs[slot["name"]] = [str(src), src_slot]
            elif "widget" in slot:
                inputs[slot["name"]] = values.pop(0)
                if (
                    slot["name"] in ("seed", "noise_seed")
                    and values
                    and values[0] in CONTROL_VALUES
                ):
                    values.pop(0)
        assert not values, f"node {node['id']}: widget values left over: {values}"
        graph[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return graph


def test_there_are_three_examples():
    names = {p.name.removesuffix(".api.json") for p in API_FILES}
    assert names == {"txt2img_sampler_custom_advanced", "txt2img_ksampler_model_patch", "key_image"}


@pytest.mark.parametrize("api_path", API_FILES, ids=lambda p: p.name)
def test_ui_workflow_matches_api_workflow(api_path):
    api = json.loads(api_path.read_text())
    ui = json.loads(api_path.with_name(api_path.name.replace(".api.json", ".json")).read_text())
    stripped = {k: {"class_type": v["class_type"], "inputs": v["inputs"]} for k, v in api.items()}
    assert api_from_ui(ui) == stripped
    for link in ui["links"]:  # [id, from node, from slot, to node, to slot, type]
        src = next(n for n in ui["nodes"] if n["id"] == link[1])
        dst = next(n for n in ui["nodes"] if n["id"] == link[3])
        assert src["outputs"][link[2]]["type"] == link[5]
        assert dst["inputs"][link[4]]["link"] == link[0]
