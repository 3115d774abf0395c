"""TKG chroma key: key any image in the Extras tab, and the ``/tkg-chroma/v1`` API routes.

Thin WebUI glue (A1111 v1.10.1, Forge main): the gradio controls of the Extras section and the
FastAPI endpoints. The work is in ``lib_tkg.webui.extras`` (keying a postprocessed image; its
outputs are saved as PNG by ``lib_tkg.webui.saving``, whose callback ``scripts/tkg_chroma.py``
registers), ``lib_tkg.webui.routes`` (registration with the host API's auth) and
``lib_tkg.key_service`` (request checking, decoding, answers). The size-limit setting is
registered with the other settings by ``scripts/tkg_chroma.py``.

The routes are added in ``on_app_started`` (after the host built its API, with the UI and with
``--nowebui``); keying runs in the thread pool, outside the event loop.
"""

import contextlib

import gradio as gr
from fastapi import Request
from fastapi.responses import JSONResponse
from modules import script_callbacks, scripts, scripts_postprocessing, shared, ui_components
from starlette.concurrency import run_in_threadpool

from lib_tkg import key_service
from lib_tkg.params import FIELD_BY_NAME, TITLE, ParamError, TkgParams
from lib_tkg.webui import extras, routes, saving
from lib_tkg.webui.settings import key_max_pixels, settings_defaults


def _slider(label: str, name: str, step: float):
    """A slider over the range and default of ``TkgParams`` field ``name``."""
    field = FIELD_BY_NAME[name]
    return gr.Slider(
        label=label,
        minimum=field.lo,
        maximum=field.hi,
        step=step,
        value=field.default,
        elem_id=f"tkg_chroma_extras_{name}",
    )


class ScriptPostprocessingTkgKey(scripts_postprocessing.ScriptPostprocessing):
    name = extras.SECTION
    order = extras.ORDER

    def ui(self):
        with ui_components.InputAccordion(
            False, label=extras.SECTION, elem_id="tkg_chroma_extras"
        ) as enable:
            with gr.Row():
                key_color = gr.Dropdown(
                    label="Key colour",
                    choices=list(extras.KEY_CHOICES),
                    value=key_service.AUTO,
                    elem_id="tkg_chroma_extras_key_color",
                )
                custom_color = gr.ColorPicker(
                    label="Custom key colour",
                    value=extras.DEFAULT_CUSTOM,
                    elem_id="tkg_chroma_extras_custom",
                )
            with gr.Row():
                tolerance = _slider("Key tolerance", "tolerance", 0.01)
                despill = _slider("Despill strength", "despill", 0.05)
            keep_shadow = gr.Checkbox(
                label=FIELD_BY_NAME["keep_shadow"].label,
                value=False,
                elem_id="tkg_chroma_extras_keep_shadow",
            )
            matte = gr.Checkbox(
                label="Also output the matte", value=False, elem_id="tkg_chroma_extras_matte"
            )
        return {
            "enable": enable,
            "key_color": key_color,
            "custom_color": custom_color,
            "tolerance": tolerance,
            "despill": despill,
            "keep_shadow": keep_shadow,
            "matte": matte,
        }

    def process(self, pp: scripts_postprocessing.PostprocessedImage, **controls):
        rgb_matte = saving.stealth_infotext(shared.opts)
        extras.key_postprocessed(pp, rgb_matte=rgb_matte, **controls)


async def key_endpoint(request: Request) -> JSONResponse:
    body = await request.body()
    limit = key_max_pixels(shared.opts)
    status, answer = await run_in_threadpool(key_service.handle_key, body, limit)
    return JSONResponse(answer, status_code=status)


def on_app_started(_demo, app) -> None:
    def info_endpoint() -> dict:
        return key_service.info(key_max_pixels(shared.opts), _left_out_defaults(app))

    routes.register(app, shared.cmd_opts, key_endpoint, info_endpoint)


def _left_out_defaults(app) -> TkgParams:
    """What a script argument left out of an API request takes: the host API's own defaults
    (made at start-up, kept until a restart), else the settings now."""
    ours = (s for s in scripts.scripts_txt2img.alwayson_scripts if s.title() == TITLE)
    cached = routes.api_script_defaults(app, next(ours, None))
    if cached is not None:
        with contextlib.suppress(ParamError):
            return TkgParams.from_args(cached)
    return settings_defaults(shared.opts)


script_callbacks.on_app_started(on_app_started)
