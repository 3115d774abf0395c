"""TKG chroma background: WebUI glue (AUTOMATIC1111 1.6-1.10, Forge, reForge).

Generates the subject on a flat keyable colour by shifting the initial noise (TKG-DM,
arXiv 2411.15580) and adds a keyed, transparent PNG of every generated image to the gallery.
The work is done by host-free helpers in ``lib_tkg.webui``; this file holds the gradio UI and
the hooks (``modules/processing.py`` of A1111 v1.10.1 and Forge main):

* ``process``: validate the arguments (``lib_tkg.params``), apply X/Y/Z overrides, write
  infotext (``state.start``).
* ``process_batch``: wrap this batch's ``p.rng`` so its first ``.next()`` is shifted
  (``noise_hook``); with AnimateDiff image-to-video already in ``before_process_batch`` or
  right before AnimateDiff's, whichever comes first (``animatediff``).
* ``postprocess_image_after_composite`` (A1111 1.8+, Forge, reForge; ``postprocess_image`` on
  1.6/1.7): key the final image of each batch position (``cutouts``).
* ``script_callbacks.on_image_saved``: save each cut-out beside its original once the host has
  saved it (``saving``); ``on_before_image_saved``: the host's saver writes our outputs (these
  and the Extras tab's) with the pixels we made, as PNG, under an unused name.
* ``postprocess``: save any cut-out whose original was not saved as that object, numbered;
  append the cut-outs to the gallery with their infotexts. With AnimateDiff on, frames are
  collected instead and keyed per video into transparent animations after AnimateDiff's own
  ``postprocess`` (``animatediff``; ``metadata.ini`` orders ours after it, with a runtime check).

Rejected arguments (HTTP API, X/Y/Z) must fail the request, but the WebUI catches and only logs
exceptions raised in script hooks; so ``process_batch`` installs an rng whose first ``.next()``
raises the ``ParamError`` (with ``status_code`` 422 and ``detail`` for the API's error handler;
an ``HTTPException`` too, so the server console shows our one line, not a traceback).
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import HTTPException
from modules import images, processing, script_callbacks, scripts, shared

from lib_tkg.params import COLOR_CHOICES, CUSTOM, FIELD_BY_NAME, FIELDS, TITLE
from lib_tkg.params import ParamError as ArgumentError
from lib_tkg.webui import animatediff, cutouts, log, noise_hook, saving, settings, state
from lib_tkg.webui.infotext import PASTE_FUNCTIONS, ui_values
from lib_tkg.webui.preview import preview_html
from lib_tkg.webui.settings import SETTING_FOR_FIELD, settings_defaults
from lib_tkg.webui.xyz import register_xyz_axes

# A1111 1.8+, Forge and reForge call postprocess_image_after_composite (after the inpaint
# composite, on the image that is saved and shown); 1.6/1.7 only know postprocess_image.
HOST_HAS_AFTER_COMPOSITE = hasattr(scripts.Script, "postprocess_image_after_composite")
LAYOUT_PLACEHOLDER = "x y sigma [aspect [angle]]; ...   e.g. -0.5 0 0.3; 0.5 0 0.3"


class ParamError(ArgumentError, HTTPException):
    """A rejected argument, as the API's error (``state.api_error``): the host's handler
    (``modules/api/api.py`` ``handle_exception``) answers an ``HTTPException`` with its
    ``status_code`` and ``detail`` and prints no traceback for it. The message reads as
    ``lib_tkg.params.ParamError``'s, and the answer's ``"error"`` stays ``"ParamError"``."""

    __str__ = ArgumentError.__str__


def on_ui_settings() -> None:
    import gradio as gr

    settings.add_settings(shared, gr)


def on_image_saved(params: Any) -> None:
    saving.on_image_saved(images, params)


def on_before_ui() -> None:
    try:
        register_xyz_axes(scripts.scripts_data, ParamError)
    except Exception as err:  # never break the UI over an optional integration
        log(f"could not add X/Y/Z plot axes: {err!r}")


class TkgChromaScript(scripts.Script):
    def title(self) -> str:
        return TITLE

    def show(self, is_img2img: bool) -> Any:
        return scripts.AlwaysVisible

    def ui(self, is_img2img: bool) -> list:
        import gradio as gr
        from modules.ui_components import InputAccordion

        v = ui_values(settings_defaults(shared.opts))
        F = FIELD_BY_NAME

        def slider(name: str, step: float) -> Any:
            f = F[name]
            return gr.Slider(
                label=f.label,
                minimum=float(f.lo),
                maximum=float(f.hi),
                step=step,
                value=float(v[name]),
                elem_id=self.elem_id(name),
            )

        with InputAccordion(
            bool(v["enabled"]), label=TITLE, elem_id=self.elem_id("enabled")
        ) as enabled:
            with gr.Row(elem_id=self.elem_id("color_row")):
                color = gr.Dropdown(
                    label=F["color"].label,
                    choices=list(COLOR_CHOICES),
                    value=v["color"],
                    elem_id=self.elem_id("color"),
                )
                custom_color = gr.ColorPicker(
                    label=F["custom_color"].label,
                    value=v["custom_color"],
                    visible=v["color"] == CUSTOM,
                    elem_id=self.elem_id("custom_color"),
                )
            with gr.Row(elem_id=self.elem_id("noise_row")):
                strength = slider("strength", 0.01)
                sigma = slider("sigma", 0.05)
            with gr.Row(elem_id=self.elem_id("center_row")):
                center_x = slider("center_x", 0.05)
                center_y = slider("center_y", 0.05)
                aspect = slider("aspect", 0.05)
            with gr.Row(elem_id=self.elem_id("layout_row")):
                with gr.Column(scale=3):
                    layout = gr.Textbox(
                        label=F["layout"].label,
                        value=v["layout"],
                        lines=1,
                        placeholder=LAYOUT_PLACEHOLDER,
                        elem_id=self.elem_id("layout"),
                    )
                    mask_image = gr.Image(
                        label=F["mask_image"].label,
                        type="pil",
                        image_mode="RGBA",
                        height=160,
                        elem_id=self.elem_id("mask_image"),
                    )
                with gr.Column(scale=2, min_width=160):
                    gr.HTML(preview_html(), elem_id=self.elem_id("mask_preview"))
            with gr.Group(elem_id=self.elem_id("keying")):
                with gr.Row():
                    make_rgba = gr.Checkbox(
                        label=F["make_rgba"].label,
                        value=bool(v["make_rgba"]),
                        elem_id=self.elem_id("make_rgba"),
                    )
                    save_matte = gr.Checkbox(
                        label=F["save_matte"].label,
                        value=bool(v["save_matte"]),
                        elem_id=self.elem_id("save_matte"),
                    )
                with gr.Row():
                    despill = slider("despill", 0.05)
                    tolerance = slider("tolerance", 0.01)
                keep_shadow = gr.Checkbox(
                    label=F["keep_shadow"].label,
                    value=bool(v["keep_shadow"]),
                    elem_id=self.elem_id("keep_shadow"),
                )

        color.change(
            fn=lambda c: gr.update(visible=c == CUSTOM),
            inputs=[color],
            outputs=[custom_color],
        )

        by_name = {
            "enabled": enabled,
            "color": color,
            "custom_color": custom_color,
            "strength": strength,
            "sigma": sigma,
            "center_x": center_x,
            "center_y": center_y,
            "make_rgba": make_rgba,
            "save_matte": save_matte,
            "despill": despill,
            "tolerance": tolerance,
            "layout": layout,
            "mask_image": mask_image,
            "keep_shadow": keep_shadow,
            "aspect": aspect,
        }
        # the controls whose defaults are settings: kept out of ui-config.json, whose values
        # the host would otherwise put back over a changed setting at every later start
        for name in SETTING_FOR_FIELD:
            by_name[name].do_not_save_to_config = True
        controls = [by_name[f.name] for f in FIELDS]  # script args order == params.FIELDS order
        self.infotext_fields = [(by_name[name], PASTE_FUNCTIONS[name]) for name in PASTE_FUNCTIONS]
        self.paste_field_names = list(PASTE_FUNCTIONS.values())
        return controls

    # -- generation ---------------------------------------------------------------------------

    def process(self, p: Any, *args: Any) -> None:
        animatediff.clear_deferred(p)
        run = state.start(p, args, ParamError)
        if run is not None and run.params is not None:
            run.animatediff = animatediff.detect(p)
            animatediff.hook_before_animatediff(run, run.animatediff)

    def before_process_batch(self, p: Any, *args: Any, **kwargs: Any) -> None:
        run = state.get_state(p)
        if run is not None and animatediff.early_noise_hook(
            run.animatediff, kwargs.get("batch_number")
        ):
            noise_hook.install(run, p)

    def process_batch(self, p: Any, *args: Any, **kwargs: Any) -> None:
        run = state.get_state(p)
        if run is not None and not animatediff.noise_hooked(
            run.animatediff, kwargs.get("batch_number")
        ):
            noise_hook.install(run, p)

    def postprocess_image(self, p: Any, pp: Any, *args: Any) -> None:
        if not HOST_HAS_AFTER_COMPOSITE:
            self._key_image(p, pp)

    def postprocess_image_after_composite(self, p: Any, pp: Any, *args: Any) -> None:
        self._key_image(p, pp)

    @staticmethod
    def _key_image(p: Any, pp: Any) -> None:
        run = state.get_state(p)
        if run is None:
            return
        if run.animatediff is not None:  # keyed as one sequence per video in postprocess
            if run.params.make_rgba:
                animatediff.collect_frame(
                    run.animatediff, p, pp, lambda: cutouts.picture_infotext(run, p, processing)
                )
            return
        cutouts.key_picture(run, p, pp, processing, shared.opts)

    def postprocess(self, p: Any, processed: Any, *args: Any) -> None:
        run = state.get_state(p)
        if run is None:
            return
        saving.save_unsaved(images, run, p)
        if run.animatediff is not None:
            animatediff.release(run.animatediff)
            if run.params.make_rgba:
                animatediff.postprocess(run, run.animatediff, p, processed, shared.opts)
        cutouts.add_to_gallery(run, processed)


script_callbacks.on_ui_settings(on_ui_settings)
script_callbacks.on_before_ui(on_before_ui)
script_callbacks.on_image_saved(on_image_saved)
script_callbacks.on_before_image_saved(saving.before_image_saved)
# Also at import: built-in scripts (xyz_grid among them) load before extensions, and with
# --nowebui the API builds its X/Y/Z axis list before on_before_ui callbacks run.
on_before_ui()
