"""The browser's mask preview (``TkgMask`` in javascript/tkg_chroma.js) against lib_tkg, via node.

The preview recomputes the subject mask client-side; these tests run the JS with node on the
same inputs and compare with ``lib_tkg.noise`` (skipped without node).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from lib_tkg.layout import MaskImage, parse_layout
from lib_tkg.noise import gaussian_mask, shape_mask, subject_mask

NODE = shutil.which("node")
JS = Path(__file__).resolve().parent.parent / "javascript" / "tkg_chroma.js"
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_js(calls: list[list]) -> list:
    """Evaluate ``TkgMask[name](*args)`` for each ``[name, *args]`` in one node process."""
    script = (
        f"const m = require({json.dumps(str(JS))});"
        "const calls = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const out = calls.map(([name, ...args]) => {"
        "  const r = m[name](...args); return ArrayBuffer.isView(r) ? Array.from(r) : r; });"
        "process.stdout.write(JSON.stringify(out));"
    )
    done = subprocess.run(
        [NODE, "-e", script], input=json.dumps(calls), capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


LAYOUTS = [
    "0 0 0.5 0",
    "-0.5 0 0.3; 0.5 0 0.3",
    "0 0.1 0.35 0.4",
    "0.2 -0.3 0.4 2.5 30",
    "-0.5 -0.5 0.2; 0.5 -0.5 0.2 1 -45; -0.5 0.5 0.2 0 10; 0.5 0.5 0.2 4 90",
]
SIZES = [(64, 64), (32, 48), (48, 32), (96, 40), (7, 5)]


def test_layout_parse_agrees():
    results = run_js([["parseLayout", text] for text in LAYOUTS])
    for text, got in zip(LAYOUTS, results, strict=True):
        want = [vars(e) for e in parse_layout(text)]
        assert [{k: e[k] for k in want[0]} for e in got["ellipses"]] == want, text
    errors = run_js([["parseLayout", t] for t in ("0 0 9", "0 0", "1 2 3 4 5 6", "0 0 .3 0.01")])
    assert all("error" in e for e in errors)


@pytest.mark.parametrize(("height", "width"), SIZES)
def test_ellipse_masks_agree(height, width):
    calls = [["ellipseMask", width, height, [vars(e) for e in parse_layout(t)]] for t in LAYOUTS]
    for text, got in zip(LAYOUTS, run_js(calls), strict=True):
        want = gaussian_mask(height, width, layout=text)[0, 0].double().numpy()
        np.testing.assert_allclose(np.reshape(got, (height, width)), want, atol=2e-6, err_msg=text)


@pytest.mark.parametrize(("height", "width"), [(32, 48), (40, 40), (9, 13)])
def test_free_form_and_whole_mask_agree(height, width):
    rng = np.random.default_rng(height * width)
    pixels = np.zeros((height * 4, width * 4), np.uint8)
    pixels[height : height * 3, width // 2 : width * 2] = 255
    pixels[5:9, -9:-5] = rng.integers(0, 255, (4, 4))
    image = MaskImage(pixels)
    grey = image.resized(width, height).astype(np.float64).ravel().tolist()
    single = {"sigma": 0.3, "cx": 0.1, "cy": -0.2, "aspect": 0, "ellipses": []}
    two = {**single, "ellipses": [vars(e) for e in parse_layout("0.5 0.5 0.2 2 20")]}
    got_shape, got_image, got_both, got_single = run_js(
        [
            ["shapeMask", grey, width, height, 0.3],
            ["subjectMask", width, height, {**single, "grey": grey}],
            ["subjectMask", width, height, {**two, "grey": grey}],
            ["subjectMask", width, height, single],
        ]
    )
    want_shape = shape_mask(image, height, width, 0.3)[0, 0].double().numpy()
    for got, want in (
        (got_shape, want_shape),
        (got_image, want_shape),
        (got_both, subject_mask(height, width, 0.3, image=image, layout="0.5 0.5 0.2 2 20")),
        (got_single, subject_mask(height, width, 0.3, (0.1, -0.2))),
    ):
        want = want[0, 0].double().numpy() if isinstance(want, torch.Tensor) else want
        np.testing.assert_allclose(np.reshape(got, (height, width)), want, atol=1e-5)
