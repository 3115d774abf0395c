"""Write the UI-format twin (``NAME.json``) of each API-format workflow (``NAME.api.json``).

The UI format (what ComfyUI's "Save" writes and what can be dragged onto the canvas) needs each
node's input and output slots and widget order, which come from a running ComfyUI's
``/object_info``; nodes are placed in columns by their depth in the graph.

    python examples/comfyui/ui_from_api.py http://127.0.0.1:8188   (or a saved /object_info)
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
WIDTH, GAP_X, GAP_Y = 320, 60, 40
TITLE_H, ROW_H, WIDGET_H = 30, 22, 26
WIDGET_TYPES = ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")
CONTROL = "fixed"  # value of the "control after generate" widget ComfyUI adds after seeds


def is_link(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def depth(graph: dict, node: str, memo: dict) -> int:
    if node not in memo:
        ups = [v[0] for v in graph[node]["inputs"].values() if is_link(v)]
        memo[node] = 1 + max((depth(graph, u, memo) for u in ups), default=-1)
    return memo[node]


def convert(graph: dict, info: dict) -> dict:
    links, nodes, memo = [], [], {}
    columns: dict[int, float] = {}
    out_links: dict[tuple[str, int], list[int]] = {}
    for to_id, node in graph.items():
        for name, value in node["inputs"].items():
            if is_link(value):
                links.append([len(links) + 1, value[0], value[1], to_id, name])
                out_links.setdefault((value[0], value[1]), []).append(len(links))
    for node_id in sorted(graph, key=lambda k: (depth(graph, k, memo), int(k))):
        node, spec = graph[node_id], info[graph[node_id]["class_type"]]
        declared = {**spec["input"].get("required", {}), **spec["input"].get("optional", {})}
        inputs, widgets = [], []
        for name, (kind, *opts) in declared.items():
            value = node["inputs"].get(name)
            link = next((lk[0] for lk in links if lk[3] == node_id and lk[4] == name), None)
            is_widget = isinstance(kind, list) or kind in WIDGET_TYPES
            entry = {"name": name, "type": "COMBO" if isinstance(kind, list) else kind}
            if is_widget:
                entry["widget"] = {"name": name}
                if link is None:
                    widgets.append(value)
                    if opts and opts[0].get("control_after_generate"):
                        widgets.append(CONTROL)
            if link is not None or is_widget:
                inputs.append({**entry, "link": link})
        outputs = [
            {"name": n, "type": t, "links": out_links.get((node_id, i), []), "slot_index": i}
            for i, (t, n) in enumerate(zip(spec["output"], spec["output_name"], strict=True))
        ]
        col = depth(graph, node_id, memo)
        height = TITLE_H + ROW_H * max(len(outputs), sum("widget" not in i for i in inputs))
        height += WIDGET_H * sum("widget" in i for i in inputs if i["link"] is None)
        y = columns.get(col, 0.0)
        columns[col] = y + height + GAP_Y
        nodes.append({
            "id": int(node_id), "type": node["class_type"],
            "title": node.get("_meta", {}).get("title", spec["display_name"]),
            "pos": [col * (WIDTH + GAP_X), y], "size": [WIDTH, height], "flags": {},
            "order": len(nodes), "mode": 0, "inputs": inputs, "outputs": outputs,
            "properties": {"Node name for S&R": node["class_type"]}, "widgets_values": widgets,
        })  # fmt: skip
    for lk in links:  # [id, from node, from slot, to node, to slot, type]
        to = next(n for n in nodes if n["id"] == int(lk[3]))
        slot = next(i for i, s in enumerate(to["inputs"]) if s["name"] == lk[4])
        frm = next(n for n in nodes if n["id"] == int(lk[1]))
        lk[1:] = [int(lk[1]), lk[2], int(lk[3]), slot, frm["outputs"][lk[2]]["type"]]
    return {
        "last_node_id": max(n["id"] for n in nodes), "last_link_id": len(links),
        "nodes": nodes, "links": links, "groups": [], "config": {}, "extra": {}, "version": 0.4,
    }  # fmt: skip


def main(source: str) -> None:
    """``source``: a running ComfyUI's URL, or a file holding its ``/object_info`` answer."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source.rstrip("/") + "/object_info") as r:
            info = json.load(r)
    else:
        info = json.loads(Path(source).read_text())
    for api in sorted(HERE.glob("*.api.json")):
        ui = convert(json.loads(api.read_text()), info)
        out = api.with_name(api.name.replace(".api.json", ".json"))
        out.write_text(json.dumps(ui, indent=2) + "\n")
        print(out)


if __name__ == "__main__":
    main(sys.argv[1])
