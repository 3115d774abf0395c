"""Time the subject masks: the browser preview's JS (with node) and ``lib_tkg.noise`` masks.

Prints median ms per mask for the WebUI preview grid (96x64 cells, a 1024x683 canvas) and for
SDXL-sized latents (128x128) on the CPU: the single subject, a 4-subject layout, a mask image,
and both. Asserts nothing. Usage: ``python bench/mask_bench.py [--reps 50]``; the JS part is
skipped without node.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from lib_tkg.layout import MaskImage
from lib_tkg.noise import subject_mask

JS = Path(__file__).resolve().parent.parent / "javascript" / "tkg_chroma.js"
LAYOUT = "-0.5 -0.5 0.2; 0.5 -0.5 0.2 1 -45; -0.5 0.5 0.2 2; 0.5 0.5 0.2 0.5 30"
CASES = {
    "single subject": {"layout": "", "image": False},
    "4-subject layout": {"layout": LAYOUT, "image": False},
    "mask image": {"layout": "", "image": True},
    "layout + mask image": {"layout": LAYOUT, "image": True},
}


def silhouette(height: int, width: int) -> np.ndarray:
    pixels = np.zeros((height, width), np.uint8)
    pixels[height // 5 : height * 4 // 5, width // 3 : width * 2 // 3] = 255
    return pixels


def js_ms(width: int, height: int, reps: int) -> dict[str, float]:
    grey = (silhouette(height, width) / 255.0).ravel().tolist()
    script = f"""
const m = require({json.dumps(str(JS))});
const grey = {json.dumps(grey)};
const cases = {json.dumps(CASES)};
const out = {{}};
for (const [name, c] of Object.entries(cases)) {{
  const o = {{sigma: 0.3, cx: 0, cy: 0, aspect: 0, ellipses: m.parseLayout(c.layout).ellipses,
             grey: c.image ? grey : null}};
  const times = [];
  for (let i = 0; i < {reps}; i++) {{
    const t = process.hrtime.bigint();
    m.subjectMask({width}, {height}, o);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }}
  times.sort((a, b) => a - b);
  out[name] = times[Math.floor(times.length / 2)];
}}
process.stdout.write(JSON.stringify(out));
"""
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def py_ms(width: int, height: int, reps: int) -> dict[str, float]:
    image = MaskImage(silhouette(height * 8, width * 8))
    out = {}
    for name, case in CASES.items():
        kwargs = {"layout": case["layout"], "image": image if case["image"] else None}
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            subject_mask(height, width, 0.3, **kwargs)
            times.append((time.perf_counter() - t) * 1e3)
        out[name] = float(np.median(times))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    if shutil.which("node"):
        rows.append(("browser preview (node), 96x64 grid", js_ms(96, 64, args.reps)))
    rows.append(("lib_tkg.noise (CPU, 1 thread), 96x64", py_ms(96, 64, args.reps)))
    rows.append(("lib_tkg.noise (CPU, 1 thread), 128x128", py_ms(128, 128, args.reps)))
    print("| median ms | " + " | ".join(CASES) + " |")
    print("| --- |" + " ---: |" * len(CASES))
    for label, values in rows:
        print(f"| {label} | " + " | ".join(f"{values[c]:.2f}" for c in CASES) + " |")


if __name__ == "__main__":
    main()
