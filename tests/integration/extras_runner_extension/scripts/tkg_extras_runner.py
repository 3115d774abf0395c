"""Test-only WebUI extension: runs the Extras tab's real run path over HTTP (integration tests).

Linked into every test server by ``tests/integration/conftest.py``. It adds
``POST /tkg-test/extras-run``, which calls ``modules.postprocessing.run_postprocessing`` - the
function the Extras tab's Generate button calls (through ``run_postprocessing_webui``, under the
queue lock) - with the arguments the UI would send: every postprocessing script's controls at
their UI default values (``component.value``), then the values given per section name. The
WebUI's own ``/sdapi/v1/extra-single-image`` cannot do this: it builds the arguments of the
built-in sections only.

Body: ``{"mode": 0 | 2, "image": "<base64>" (mode 0), "input_dir": ..., "output_dir": ...
(mode 2), "scripts": {"<section name>": {"<control>": value}}}``. Answer: ``images`` (the
returned outputs as base64 PNG, mode preserved), ``modes``, ``saved`` (files that appeared in
the output folder, sorted) and ``info`` (the HTML info text).
"""

import base64
import io
import os

import gradio as gr
from modules import postprocessing, script_callbacks, scripts, shared
from modules.call_queue import queue_lock
from PIL import Image


def _files(folder):
    found = set()
    for root, _dirs, names in os.walk(folder):
        found.update(os.path.join(root, n) for n in names)
    return found


def _args(sections):
    runner = scripts.scripts_postproc
    if not runner.ui_created:  # --nowebui: build the section controls, as the API does
        with gr.Blocks(analytics_enabled=False):
            runner.setup_ui()
    order = runner.scripts_in_preferred_order()
    args = [None] * max(s.args_to for s in order)
    for script in order:
        given = sections.get(script.name, {})
        for i, (name, component) in enumerate(script.controls.items()):
            args[script.args_from + i] = given.get(name, component.value)
    return args, [s.name for s in order]


def run(payload: dict):
    mode = int(payload.get("mode", 0))
    image = None
    if mode == 0:
        raw = base64.b64decode(payload["image"])
        image = Image.open(io.BytesIO(raw)).convert("RGBA")  # the UI's gr.Image(image_mode="RGBA")
    input_dir = payload.get("input_dir", "")
    output_dir = payload.get("output_dir", "")
    opts = shared.opts
    outdir = (
        output_dir
        if mode == 2 and output_dir
        else opts.outdir_samples or opts.outdir_extras_samples
    )
    os.makedirs(outdir, exist_ok=True)
    before = _files(outdir)
    args, order = _args(payload.get("scripts", {}))
    with queue_lock:
        outputs, info, _ = postprocessing.run_postprocessing(
            mode, image, None, input_dir, output_dir, True, *args, save_output=True
        )
    encoded = []
    for out in outputs:
        buf = io.BytesIO()
        out.save(buf, format="PNG")
        encoded.append(base64.b64encode(buf.getvalue()).decode())
    return {
        "images": encoded,
        "modes": [out.mode for out in outputs],
        "saved": sorted(_files(outdir) - before),
        "info": info,
        "order": order,
    }


def on_app_started(_demo, app):
    app.add_api_route("/tkg-test/extras-run", run, methods=["POST"])


script_callbacks.on_app_started(on_app_started)
