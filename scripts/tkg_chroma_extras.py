"""TKG chroma key: key any image in the Extras tab, and the ``/tkg-chroma/v1`` API routes.

WebUI glue only; the work is in ``lib_tkg.key_service`` (validation, decoding, keying, answers).

Extras section (``modules/scripts_postprocessing.py``, A1111 v1.10.1 and Forge main):
* ``ScriptPostprocessingRunner.run`` calls ``process(pp, **controls)`` in the order of the
  setting *Postprocessing operation order*, then ``order``. ``order = 20000`` puts keying after
  Upscale (1000), GFPGAN (2000), CodeFormer (3000) and the training-prep steps (4000-4040), so an
  upscaled, restored image is keyed, and no later step sees an alpha channel.
* ``pp.image`` becomes the RGBA cut-out; the matte is added as ``pp.extra_images`` with the
  ``matte`` name tag (Extras' usual naming: ``00012.png``, ``00013-matte.png``); ``pp.info``
  carries the key colour or the note that nothing was keyed (no screen: ``pp.image`` unchanged).
* ``modules/postprocessing.py`` saves every output with ``extension=opts.samples_format``. The
  ``on_before_image_saved`` callback gets the file name that ``images.save_image`` built and
  turns its extension into ``.png`` for the images keyed here, so they keep their alpha whatever
  the format. Forge's stealth infotext (``modules/stealth_infotext.py``, run just before that
  callback when the input carried ``parameters``) overwrites the alpha channel in place; the
  callback hands ``save_image`` a pristine copy and puts the alpha back on the shown image.

Routes (``script_callbacks.on_app_started(demo, app)``, which fires after the host's own API is
built in ``webui.py``, with the UI and with ``--nowebui``): ``POST /tkg-chroma/v1/key`` and
``GET /tkg-chroma/v1/info``, registered when the API is on (``--api`` or ``--nowebui``), with the
very ``dependencies`` of the host's ``/sdapi/v1/`` routes, so ``--api-auth`` applies exactly as
there. Keying runs in the thread pool, outside the event loop.
"""

import os
import weakref

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from modules import script_callbacks, scripts_postprocessing, shared, ui_components
from PIL import Image
from starlette.concurrency import run_in_threadpool

from lib_tkg import key_service
from lib_tkg.params import FIELD_BY_NAME, TITLE, ParamError

SECTION = "TKG chroma key"
LOG_PREFIX = "[TKG chroma]"
SETTINGS_SECTION = ("tkg_chroma", TITLE)
OPT_MAX_MEGAPIXELS = "tkg_chroma_key_max_megapixels"
CUSTOM = "custom"
KEY_CHOICES = [key_service.AUTO, *key_service.KEY_PRESETS, CUSTOM]


def log(message: str) -> None:
    print(f"{LOG_PREFIX} {message}")


# ------------------------------------------------------------------------------------ Extras

# id(image) -> (weak reference to the PIL image, pristine copy to save). PIL images are not
# hashable, hence ids; the weak reference drops the entry when the image goes away.
_SAVE_AS_PNG: dict[int, tuple[weakref.ref, Image.Image]] = {}


def _save_as_png(image: Image.Image) -> Image.Image:
    key = id(image)
    _SAVE_AS_PNG[key] = (weakref.ref(image, lambda _ref: _SAVE_AS_PNG.pop(key, None)), image.copy())
    return image


def _unused_png_name(filename: str) -> str:
    """``<stem>.png``; ``<stem>-1.png``, ``-2``, ... if that file exists (never replace one)."""
    stem = os.path.splitext(filename)[0]
    candidate, n = f"{stem}.png", 0
    while os.path.exists(candidate):
        n += 1
        candidate = f"{stem}-{n}.png"
    return candidate


def on_before_image_saved(params) -> None:
    """Images keyed here are saved as PNG (Extras passes ``opts.samples_format``), unaltered,
    under a name no existing file has (an input in the output folder is never replaced)."""
    image = getattr(params, "image", None)
    entry = _SAVE_AS_PNG.get(id(image))
    if entry is None or entry[0]() is not image:
        return
    pristine = entry[1]
    params.filename = _unused_png_name(params.filename)
    if image.mode != pristine.mode or image.tobytes() != pristine.tobytes():
        if image.mode == "RGBA" and pristine.mode == "RGBA":
            image.putalpha(pristine.getchannel("A"))  # undo Forge's stealth alpha on the gallery
        params.image = pristine.copy()


class ScriptPostprocessingTkgKey(scripts_postprocessing.ScriptPostprocessing):
    name = SECTION
    order = 20000

    def ui(self):
        with ui_components.InputAccordion(
            False, label=SECTION, elem_id="tkg_chroma_extras"
        ) as enable:
            with gr.Row():
                key_color = gr.Dropdown(
                    label="Key colour",
                    choices=KEY_CHOICES,
                    value=key_service.AUTO,
                    elem_id="tkg_chroma_extras_key_color",
                )
                custom_color = gr.ColorPicker(
                    label="Custom key colour", value="#00ff00", elem_id="tkg_chroma_extras_custom"
                )
            with gr.Row():
                tolerance = gr.Slider(
                    label="Key tolerance",
                    minimum=FIELD_BY_NAME["tolerance"].lo,
                    maximum=FIELD_BY_NAME["tolerance"].hi,
                    step=0.01,
                    value=FIELD_BY_NAME["tolerance"].default,
                    elem_id="tkg_chroma_extras_tolerance",
                )
                despill = gr.Slider(
                    label="Despill strength",
                    minimum=0.0,
                    maximum=1.0,
                    step=0.05,
                    value=FIELD_BY_NAME["despill"].default,
                    elem_id="tkg_chroma_extras_despill",
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
            "matte": matte,
        }

    def process(
        self,
        pp: scripts_postprocessing.PostprocessedImage,
        enable=False,
        key_color=key_service.AUTO,
        custom_color="#00ff00",
        tolerance=FIELD_BY_NAME["tolerance"].default,
        despill=FIELD_BY_NAME["despill"].default,
        matte=False,
    ):
        if not enable:
            return
        values = {
            "key_color": custom_color if key_color == CUSTOM else key_color,
            "tolerance": tolerance,
            "despill": despill,
            "matte": bool(matte),
        }
        try:
            options = key_service.parse_options(values)
            result, notes = key_service.key_with_notes(pp.image, options)
        except (key_service.RequestError, ParamError) as err:
            log(f"Extras: not keyed: {err}")
            pp.info[SECTION] = f"not keyed: {err}"
            return
        if not result.keyed:
            log(f"Extras: {notes[0]}")
            pp.info[SECTION] = notes[0]
            return
        pp.info[SECTION] = key_service.hex_color(result.key_color)
        pp.info["TKG tolerance"] = options.tolerance
        pp.info["TKG despill"] = options.despill
        pp.image = _save_as_png(Image.fromarray(result.rgba, "RGBA"))
        if options.matte:
            matte_image = _save_as_png(Image.fromarray(result.alpha, "L"))
            pp.extra_images.append(
                pp.create_copy(matte_image, nametags=["matte"], disable_processing=True)
            )


# ------------------------------------------------------------------------------------ settings


def on_ui_settings() -> None:
    shared.opts.add_option(
        OPT_MAX_MEGAPIXELS,
        shared.OptionInfo(
            key_service.DEFAULT_MAX_MEGAPIXELS,
            "Largest image the /tkg-chroma/v1/key API route keys, in megapixels (larger: HTTP 413)",
            gr.Number,
            section=SETTINGS_SECTION,
        ),
    )


def max_pixels() -> int:
    return key_service.max_pixels_of(
        getattr(shared.opts, OPT_MAX_MEGAPIXELS, key_service.DEFAULT_MAX_MEGAPIXELS)
    )


# ------------------------------------------------------------------------------------ routes


def _host_api_dependencies(app: FastAPI) -> list:
    """The ``dependencies`` of the host's own API routes (``Depends(api.auth)`` with
    ``--api-auth``, none without)."""
    for route in app.routes:
        if getattr(route, "path", "").startswith("/sdapi/v1/"):
            return list(getattr(route, "dependencies", []))
    return []


async def key_route(request: Request) -> JSONResponse:
    body = await request.body()
    status, answer = await run_in_threadpool(key_service.handle_key, body, max_pixels())
    return JSONResponse(answer, status_code=status)


def info_route() -> dict:
    return key_service.info(max_pixels())


def on_app_started(_demo, app: FastAPI) -> None:
    opts = shared.cmd_opts
    if not (getattr(opts, "api", False) or getattr(opts, "nowebui", False)):
        return  # like /sdapi/v1/: no API routes without --api
    prefix = key_service.ROUTE_PREFIX
    if any(getattr(r, "path", "").startswith(prefix) for r in app.routes):
        return
    dependencies = _host_api_dependencies(app)
    if getattr(opts, "api_auth", None) and not dependencies:
        log(f"{prefix} routes not added: --api-auth is set but the host's API auth was not found")
        return
    app.add_api_route(f"{prefix}/key", key_route, methods=["POST"], dependencies=dependencies)
    app.add_api_route(f"{prefix}/info", info_route, methods=["GET"], dependencies=dependencies)


script_callbacks.on_before_image_saved(on_before_image_saved)
script_callbacks.on_ui_settings(on_ui_settings)
script_callbacks.on_app_started(on_app_started)
