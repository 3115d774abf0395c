"""Draw a UI-format ComfyUI workflow (``NAME.json``) as a PNG with Pillow.

A schematic in the style of ComfyUI's canvas (node boxes, input and output slots, widget values,
links coloured by type), drawn from the JSON alone: not a screenshot of ComfyUI.

    cd examples/comfyui && python draw_workflow.py key_image.json key_image.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

TITLE_H, ROW_H, WIDGET_H, PAD = 30, 22, 26, 40
BACKGROUND, NODE, TITLE, TEXT, DIM = "#202020", "#353535", "#2a2a2a", "#dddddd", "#999999"
TKG = "#2f5d3a"  # title colour of this repository's nodes
TYPE_COLOURS = {
    "MODEL": "#b39ddb", "CLIP": "#ffd500", "VAE": "#ff6e6e", "CONDITIONING": "#ffa931",
    "LATENT": "#ff9cf9", "IMAGE": "#64b5f6", "MASK": "#81c784", "NOISE": "#b0b0b0",
    "GUIDER": "#66ffff", "SAMPLER": "#ecb4b4", "SIGMAS": "#cdffcd",
}  # fmt: skip


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    text = str(v).replace("\n", " ")
    return text if len(text) <= 24 else text[:23] + "…"


def _bezier(a, b, steps=40):
    (x0, y0), (x1, y1) = a, b
    dx = max(40.0, abs(x1 - x0) * 0.5)
    c0, c1 = (x0 + dx, y0), (x1 - dx, y1)
    pts = []
    for i in range(steps + 1):
        t = i / steps
        u = 1 - t
        pts.append((
            u**3 * x0 + 3 * u * u * t * c0[0] + 3 * u * t * t * c1[0] + t**3 * x1,
            u**3 * y0 + 3 * u * u * t * c0[1] + 3 * u * t * t * c1[1] + t**3 * y1,
        ))  # fmt: skip
    return pts


def draw(workflow: dict, scale: float = 1.0) -> Image.Image:
    nodes = workflow["nodes"]
    x0 = min(n["pos"][0] for n in nodes) - PAD
    y0 = min(n["pos"][1] for n in nodes) - PAD
    w = max(n["pos"][0] + n["size"][0] for n in nodes) - x0 + PAD
    h = max(n["pos"][1] + n["size"][1] for n in nodes) - y0 + PAD
    img = Image.new("RGB", (int(w * scale), int(h * scale)), BACKGROUND)
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=int(14 * scale))
    bold = ImageFont.load_default(size=int(15 * scale))

    def at(x, y):
        return ((x - x0) * scale, (y - y0) * scale)

    slots_in, slots_out = {}, {}
    for n in nodes:
        x, y = n["pos"]
        linked = [s for s in n["inputs"] if "widget" not in s or s["link"] is not None]
        for i, s in enumerate(linked):
            slots_in[(n["id"], n["inputs"].index(s))] = (x, y + TITLE_H + ROW_H * (i + 0.5))
        for i, _ in enumerate(n["outputs"]):
            slots_out[(n["id"], i)] = (x + n["size"][0], y + TITLE_H + ROW_H * (i + 0.5))
    for _, src, src_slot, dst, dst_slot, kind in workflow["links"]:
        pts = [at(*p) for p in _bezier(slots_out[(src, src_slot)], slots_in[(dst, dst_slot)])]
        d.line(pts, fill=TYPE_COLOURS.get(kind, DIM), width=max(2, int(3 * scale)))
    for n in nodes:
        x, y = n["pos"]
        nw, nh = n["size"]
        d.rounded_rectangle([at(x, y), at(x + nw, y + nh)], radius=8 * scale, fill=NODE)
        head = TKG if n["type"].startswith("TKGChroma") else TITLE
        d.rounded_rectangle([at(x, y), at(x + nw, y + TITLE_H)], radius=8 * scale, fill=head)
        d.text(at(x + 12, y + 7), n.get("title") or n["type"], fill=TEXT, font=bold)
        linked = [s for s in n["inputs"] if "widget" not in s or s["link"] is not None]
        for i, s in enumerate(linked):
            cy = y + TITLE_H + ROW_H * (i + 0.5)
            _dot(d, at(x, cy), TYPE_COLOURS.get(s["type"], DIM), scale)
            d.text(at(x + 12, cy - 8), s["name"], fill=DIM, font=font)
        for i, s in enumerate(n["outputs"]):
            cy = y + TITLE_H + ROW_H * (i + 0.5)
            _dot(d, at(x + nw, cy), TYPE_COLOURS.get(s["type"], DIM), scale)
            d.text(at(x + nw - 12, cy - 8), s["name"], fill=DIM, font=font, anchor="ra")
        rows = max(len(linked), len(n["outputs"]))
        widgets = [s["name"] for s in n["inputs"] if "widget" in s and s["link"] is None]
        values = list(n["widgets_values"])
        for i, name in enumerate(widgets):
            wy = y + TITLE_H + ROW_H * rows + WIDGET_H * i + 3
            d.rounded_rectangle(
                [at(x + 10, wy), at(x + nw - 10, wy + WIDGET_H - 6)], radius=6 * scale, fill=TITLE
            )
            value = values.pop(0) if values else ""
            if name in ("seed", "noise_seed") and values and values[0] == "fixed":
                values.pop(0)
            d.text(at(x + 18, wy + 3), name, fill=DIM, font=font)
            d.text(at(x + nw - 18, wy + 3), _value(value), fill=TEXT, font=font, anchor="ra")
    return img


def _dot(d: ImageDraw.ImageDraw, c, colour: str, scale: float) -> None:
    r = 5 * scale
    d.ellipse([c[0] - r, c[1] - r, c[0] + r, c[1] + r], fill=colour)


def main(src: str, dst: str) -> None:
    draw(json.loads(Path(src).read_text())).save(dst, optimize=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
