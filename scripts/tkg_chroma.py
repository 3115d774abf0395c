"""TKG chroma background: WebUI glue (AUTOMATIC1111 1.6-1.10, Forge, reForge).

Generates the subject on a flat keyable colour by shifting the initial noise (TKG-DM,
arXiv 2411.15580) and adds a keyed, transparent PNG of every generated image to the gallery.

Hooks, and why (``modules/processing.py`` of A1111 v1.10.1 and Forge main):
* ``process``: validate the arguments (``lib_tkg.params``), apply X/Y/Z overrides, write infotext.
* ``process_batch``: ``p.rng`` is rebuilt for every batch before ``before_process_batch``; wrap
  whatever it is (it may be ControlNet's wrapper) so only its first ``.next()`` - the initial
  noise - is shifted. Later calls (ancestral samplers' per-step noise) pass through, and the
  hires pass builds its own rng, so it is untouched.
* ``postprocess_image_after_composite`` (A1111 1.8+, Forge, reForge; ``postprocess_image`` on
  1.6/1.7): key the final image of each batch position; the cut-out waits for its original.
* ``script_callbacks.on_image_saved`` (registered once at import): the host saves ``pp.image``
  itself right after that hook (``images.save_image(image, ...)`` with ``image = pp.image``);
  when the saved image *is* one we keyed, save its cut-out and matte beside that file as
  ``<original stem>-rgba.png`` / ``-matte.png`` (``forced_filename``, ``save_to_dirs=False``).
  Saving the cut-out at keying time gave it the next file number before the original got one.
* ``postprocess``: save any cut-out whose original the host did not save as that object (a later
  script replaced ``pp.image``, ...) the old way, numbered, if saving is on; append the cut-outs
  to ``processed.images`` together with their infotexts.

``save_image`` gets a copy of each output, never the gallery image: Forge's stealth infotext
(``modules/stealth_infotext.py``, default "Alpha") rewrites the alpha channel of the image object
it is given, and A1111 sets ``already_saved_as`` on it.

Rejected arguments (HTTP API, X/Y/Z) must fail the request, but the WebUI catches and only logs
exceptions raised in script hooks; so ``process_batch`` installs an rng whose first ``.next()``
raises the ``ParamError`` (with ``status_code`` 422 and ``detail`` for the API's error handler).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import warnings
from typing import Any

import numpy as np
from modules import images, processing, script_callbacks, scripts, shared
from PIL import Image

from lib_tkg import colors, keying
from lib_tkg.noise import tkg_noise
from lib_tkg.params import (
    ATTR_PREFIX,
    COLOR_CHOICES,
    CUSTOM,
    FIELD_BY_NAME,
    FIELDS,
    TITLE,
    ParamError,
    TkgParams,
)
from lib_tkg.rng import FirstNoiseRNG, RaisingRNG, detect_family

LOG_PREFIX = "[TKG chroma]"
STATE_ATTR = "_tkg_chroma_state"  # per-generation state on p (not an X/Y/Z override name)
API_ERROR_STATUS = 422

SETTINGS_SECTION = ("tkg_chroma", TITLE)
OPT_COLOR = "tkg_chroma_default_color"
OPT_CUSTOM_COLOR = "tkg_chroma_default_custom_color"
OPT_STRENGTH = "tkg_chroma_default_strength"
OPT_SAVE_MATTE = "tkg_chroma_save_matte"
OPT_RGBA_SUFFIX = "tkg_chroma_rgba_suffix"
OPT_MATTE_SUFFIX = "tkg_chroma_matte_suffix"
DEFAULT_RGBA_SUFFIX = "-rgba"
DEFAULT_MATTE_SUFFIX = "-matte"
_SETTING_FOR_FIELD = {
    "color": OPT_COLOR,
    "custom_color": OPT_CUSTOM_COLOR,
    "strength": OPT_STRENGTH,
    "save_matte": OPT_SAVE_MATTE,
}

# A1111 1.8+, Forge and reForge call postprocess_image_after_composite (after the inpaint
# composite, on the image that is saved and shown); 1.6/1.7 only know postprocess_image.
HOST_HAS_AFTER_COMPOSITE = hasattr(scripts.Script, "postprocess_image_after_composite")


def log(message: str) -> None:
    print(f"{LOG_PREFIX} {message}")


# ----------------------------------------------------------------------------- settings, UI values


def _hex(color: str) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colors.parse_color(color))


def ui_values(params: TkgParams) -> dict[str, Any]:
    """Component values for ``params`` (a colour outside the presets shows as ``custom``)."""
    values = {f.name: getattr(params, f.name) for f in FIELDS}
    if params.color not in COLOR_CHOICES:
        values["color"] = CUSTOM
        values["custom_color"] = params.color
    values["custom_color"] = _hex(values["custom_color"])
    return values


def settings_defaults(opts: Any = None) -> TkgParams:
    """UI defaults: ``TkgParams()`` with the values from Settings > TKG chroma background."""
    opts = shared.opts if opts is None else opts
    params = TkgParams()
    for name, key in _SETTING_FOR_FIELD.items():
        value = getattr(opts, key, None)
        if value is None:
            continue
        try:
            params = TkgParams.from_mapping({name: value}, params, text=True)
        except ParamError as err:
            log(f"ignoring setting {key}: {err}")
    return params


def _suffix(key: str, default: str) -> str:
    value = str(getattr(shared.opts, key, default) or "").strip()
    value = "".join("_" if c in '/\\:*?"<>|' else c for c in value)
    return value or default


def on_ui_settings() -> None:
    import gradio as gr

    extra = {}
    if "category_id" in inspect.signature(shared.OptionInfo.__init__).parameters:  # 1.7+
        extra["category_id"] = "sd"

    def add(key: str, default: Any, label: str, component: Any = None, args: Any = None) -> None:
        info = shared.OptionInfo(default, label, component, args, section=SETTINGS_SECTION, **extra)
        shared.opts.add_option(key, info)

    strength = FIELD_BY_NAME["strength"]
    add(
        OPT_COLOR,
        "green",
        "Default background colour",
        gr.Dropdown,
        {"choices": list(COLOR_CHOICES)},
    )
    add(OPT_CUSTOM_COLOR, "#00ff00", "Default custom colour", gr.ColorPicker)
    add(
        OPT_STRENGTH,
        0.0,
        "Default shift strength (0 = Auto: the paper's value for the model family)",
        gr.Slider,
        {"minimum": strength.lo, "maximum": strength.hi, "step": 0.01},
    )
    add(OPT_SAVE_MATTE, False, "Also save the matte by default", gr.Checkbox)
    add(OPT_RGBA_SUFFIX, DEFAULT_RGBA_SUFFIX, "File name suffix of saved cut-outs (always PNG)")
    add(OPT_MATTE_SUFFIX, DEFAULT_MATTE_SUFFIX, "File name suffix of saved mattes (always PNG)")


# ----------------------------------------------------------------------------- infotext paste


def _has_tkg(info: dict) -> bool:
    return any(str(key).startswith("TKG") for key in info)


def _paste_value(name: str, info: dict) -> Any:
    """Component value for field ``name`` from parsed infotext ``info`` (None: leave as is)."""
    if not _has_tkg(info):
        return False if name == "enabled" else None
    try:
        params = TkgParams.from_infotext(info)
    except ParamError as err:
        log(f"not pasting TKG parameters: {err}")
        return None
    return ui_values(params)[name]


# One function object per field, shared by the txt2img and img2img instances: the host pastes
# with it (PNG Info, API "infotext"), and "Send to img2img" matches ``paste_field_names`` against
# the second element of each ``infotext_fields`` pair, so the same objects go into both lists.
PASTE_FUNCTIONS = {f.name: functools.partial(_paste_value, f.name) for f in FIELDS}


# ----------------------------------------------------------------------------- X/Y/Z plot


def find_xyz_module() -> Any:
    for data in scripts.scripts_data:
        if data.script_class.__module__ in ("xyz_grid.py", "scripts.xyz_grid"):
            return data.module
    return None


def _xyz_apply(name: str, p: Any, x: Any, xs: Any) -> None:
    setattr(p, ATTR_PREFIX + name, x)


def _xyz_confirm(name: str, p: Any, xs: Any) -> None:
    for x in xs:
        TkgParams.from_mapping({name: x}, text=True)  # ParamError is a ValueError: xyz shows it


def register_xyz_axes() -> bool:
    """Add the ``[TKG] ...`` axes to the X/Y/Z plot once; True when they are there."""
    xyz = find_xyz_module()
    if xyz is None:
        return False
    present = {getattr(option, "label", None) for option in xyz.axis_options}
    for f in FIELDS:
        if f.axis is None or f.axis in present:
            continue
        kind = float if f.kind is float else str
        choices = None
        if f.kind is bool:
            choices = lambda: ["True", "False"]  # noqa: E731
        elif f.name == "color":
            choices = lambda: list(COLOR_CHOICES)  # noqa: E731
        xyz.axis_options.append(
            xyz.AxisOption(
                f.axis,
                kind,
                functools.partial(_xyz_apply, f.name),
                confirm=functools.partial(_xyz_confirm, f.name),
                choices=choices,
            )
        )
    return True


def on_before_ui() -> None:
    try:
        register_xyz_axes()
    except Exception as err:  # never break the UI over an optional integration
        log(f"could not add X/Y/Z plot axes: {err!r}")


# ----------------------------------------------------------------------------- per-generation state


class RunState:
    """What one generation (one ``p``) needs between hooks.

    A plain class, not a dataclass: the WebUI loads scripts with ``spec_from_file_location``
    without putting them in ``sys.modules``, where ``@dataclass`` with string annotations fails.
    """

    def __init__(self, params: TkgParams | None, error: ParamError | None = None) -> None:
        self.params = params
        self.error = error
        self.outputs: list[tuple[Image.Image, str]] = []  # gallery: (image, infotext)
        self.pending: list[PendingSave] = []  # cut-outs waiting for their original's save
        self.saving = False  # our own save_image call is running (its on_image_saved: ignore)
        self.notes: set[str] = set()

    def note(self, p: Any, message: str) -> None:
        """Console warning and a comment on the result, once per generation."""
        if message in self.notes:
            return
        self.notes.add(message)
        log(message)
        comment = getattr(p, "comment", None)
        if callable(comment):
            with contextlib.suppress(Exception):
                comment(f"{TITLE}: {message}")


class PendingSave:
    """The outputs keyed from one picture, to be saved once the host has saved the picture.

    ``source`` is the ``pp.image`` object that was keyed: the host passes that very object to
    ``images.save_image`` (``image = pp.image`` right before it) and ``on_image_saved`` gets it
    back as ``params.image``. Grids, ``-before-highres-fix`` and ``-before-face-restoration``
    saves are other objects, so they never match.
    """

    def __init__(
        self, source: Any, outputs: list[tuple[Image.Image, str]], seed: Any, prompt: Any, info: str
    ) -> None:
        self.source = source
        self.outputs = outputs  # (image, file name suffix)
        self.seed = seed
        self.prompt = prompt
        self.info = info
        self.done = False


def _api_error(err: ParamError) -> ParamError:
    # modules/api/api.py handle_exception: status_code and detail come from vars(e)
    err.status_code = API_ERROR_STATUS
    err.detail = str(err)
    return err


def _enabled_only(args: tuple, p: Any) -> bool | None:
    """The enable flag alone (with its X/Y/Z override); None when it is itself invalid."""
    try:
        return TkgParams.from_args(args[:1]).with_overrides(_EnabledOnly(p)).enabled
    except ParamError:
        return None


class _EnabledOnly:
    def __init__(self, p: Any) -> None:
        name = ATTR_PREFIX + "enabled"
        if hasattr(p, name):
            setattr(self, name, getattr(p, name))


def _drop_stale_infotext(p: Any) -> None:
    # X/Y/Z cells share one extra_generation_params dict (shallow copy of p): give this p its own
    # dict without TKG keys from an earlier cell.
    params = getattr(p, "extra_generation_params", None)
    if params and any(str(k).startswith("TKG") for k in params):
        p.extra_generation_params = {
            k: v for k, v in params.items() if not str(k).startswith("TKG")
        }


# ----------------------------------------------------------------------------- saving

# Suffix of a host save that may pass the very object we keyed without being "the" original:
# on A1111 1.6/1.7 (keying in postprocess_image) the image before colour correction is pp.image
# itself when there is no inpaint overlay.
_NOT_THE_ORIGINAL = ("-before-color-correction",)
FALLBACK_PNG_KEY = "tkg-chroma-parameters"  # PNG text key when "parameters" cannot be written
_PNG_NAME_LIMIT = 255  # NAME_MAX where os.statvfs is missing (the host truncates names to it)
_logged_once: set[str] = set()


def _log_once(message: str) -> None:
    if message not in _logged_once:
        _logged_once.add(message)
        log(message)


def _name_limit(folder: str) -> int:
    try:
        return int(os.statvfs(folder).f_namemax)
    except Exception:  # no statvfs (Windows), or the folder is gone
        return _PNG_NAME_LIMIT


def _save_output(
    state: RunState,
    p: Any,
    entry: PendingSave,
    image: Image.Image,
    suffix: str,
    beside: str | None,
) -> None:
    """Save one output with ``images.save_image``: as ``<stem of beside><suffix>.png`` in the
    folder of ``beside`` (the saved original), or numbered in ``p.outpath_samples`` with
    ``suffix`` when ``beside`` is None. Never raises; failures become a note on the result."""

    def save(path: str, section: str, **kwargs: Any) -> None:
        # a copy: save_image may change the object it is given (Forge's stealth infotext puts
        # alpha 255 and infotext bits into it; A1111 sets already_saved_as on it)
        images.save_image(
            image.copy(),
            path,
            "",
            entry.seed,
            entry.prompt,
            "png",  # JPEG/WEBP would drop the alpha channel
            info=entry.info or None,
            pnginfo_section_name=section,
            p=p,
            **kwargs,
        )

    state.saving = True
    try:
        kwargs: dict[str, Any] = {"suffix": suffix}
        path = None
        if beside is not None:
            folder, name = os.path.split(beside)
            forced = os.path.splitext(name)[0] + suffix
            # a longer name the host would cut to fit, suffix first: it could hit the original's
            if len(forced) + len(".png") <= _name_limit(folder):
                # forced_filename is used as is (no pattern, number or suffix); save_to_dirs=False:
                # no second sub-folder below the original's folder
                path, kwargs = folder, {"forced_filename": forced, "save_to_dirs": False}
        if path is None:
            path = p.outpath_samples
        try:
            save(path, "parameters", **kwargs)
        except Exception as err:
            if not entry.info:
                raise
            # Forge's stealth infotext (Settings: "Alpha", the default, or "RGB") cannot write
            # into a one-channel matte, and "RGB" not into an RGBA cut-out; it raises before
            # anything is written. It only acts on PNG text "parameters": keep the infotext
            # under another PNG text key instead (without infotext the host writes "None").
            _log_once(
                f"the WebUI could not save a {suffix} image with its infotext ({err!r});"
                f" saved it with the infotext under PNG text {FALLBACK_PNG_KEY!r}"
            )
            save(path, FALLBACK_PNG_KEY, **kwargs)
    except Exception as err:
        state.note(p, f"saving the {suffix} image failed ({err!r})")
    finally:
        state.saving = False


def on_image_saved(params: Any) -> None:
    """``script_callbacks.on_image_saved``: the host saved ``params.image`` to
    ``params.filename``; if it is a picture we keyed, save its outputs beside it."""
    try:
        p = getattr(params, "p", None)
        state = getattr(p, STATE_ATTR, None) if p is not None else None
        if not isinstance(state, RunState) or state.saving or not state.pending:
            return
        image = getattr(params, "image", None)
        entry = next((e for e in state.pending if e.source is image and not e.done), None)
        if entry is None:
            return
        # Forge records the name it really used ("-1" added when the file existed) in
        # already_saved_as; A1111 sets it to params.filename.
        filename = getattr(image, "already_saved_as", None)
        if not isinstance(filename, str) or not filename:
            filename = getattr(params, "filename", None)
        if not isinstance(filename, str) or not filename:
            return
        stem = os.path.splitext(os.path.basename(filename))[0]
        if stem.endswith(_NOT_THE_ORIGINAL):
            return
        entry.done = True
        for output, suffix in entry.outputs:
            _save_output(state, p, entry, output, suffix, beside=filename)
    except Exception as err:  # a save callback must never raise
        with contextlib.suppress(Exception):
            log(f"could not save the cut-out beside its original ({err!r})")


# ----------------------------------------------------------------------------- the script


class TkgChromaScript(scripts.Script):
    def title(self) -> str:
        return TITLE

    def show(self, is_img2img: bool) -> Any:
        return scripts.AlwaysVisible

    def ui(self, is_img2img: bool) -> list:
        import gradio as gr
        from modules.ui_components import InputAccordion

        v = ui_values(settings_defaults())
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
        }
        controls = [by_name[f.name] for f in FIELDS]  # script args order == params.FIELDS order
        self.infotext_fields = [(by_name[f.name], PASTE_FUNCTIONS[f.name]) for f in FIELDS]
        self.paste_field_names = [PASTE_FUNCTIONS[f.name] for f in FIELDS]
        return controls

    # -- generation ---------------------------------------------------------------------------

    def process(self, p: Any, *args: Any) -> None:
        setattr(p, STATE_ATTR, None)
        try:
            params = TkgParams.from_args(args).with_overrides(p)
        except ParamError as err:
            if _enabled_only(args, p) is False:
                return  # disabled: the other values don't matter
            log(f"generation stopped: {err}")
            setattr(p, STATE_ATTR, RunState(params=None, error=_api_error(err)))
            return
        if not params.enabled:
            _drop_stale_infotext(p)
            return
        _drop_stale_infotext(p)
        if not isinstance(getattr(p, "extra_generation_params", None), dict):
            p.extra_generation_params = {}
        p.extra_generation_params.update(params.to_infotext())
        setattr(p, STATE_ATTR, RunState(params=params))

    def process_batch(self, p: Any, *args: Any, **kwargs: Any) -> None:
        state: RunState | None = getattr(p, STATE_ATTR, None)
        if state is None:
            return
        rng = getattr(p, "rng", None)
        if rng is None:
            state.note(p, "this WebUI has no p.rng; the initial noise was left unchanged")
            return
        if state.error is not None:
            p.rng = RaisingRNG(rng, state.error)
            return
        params = state.params
        family, channels = detect_family(p.sd_model)
        if family is None:
            state.note(
                p,
                f"unsupported model type ({channels} latent channels, not SD1/SD2/SDXL/SD3/Flux);"
                " the initial noise was left unchanged",
            )
            return
        try:
            expected = colors.latent_channels(family)
            shifts = colors.channel_shifts(params.key_color, family, params.strength_or_auto)
        except (ValueError, KeyError) as err:
            state.note(p, f"no noise shift for {family}: {err}; the noise was left unchanged")
            return
        if channels != expected:
            state.note(
                p,
                f"model reports {channels} latent channels, {family} has {expected};"
                " the initial noise was left unchanged",
            )
            return
        p.rng = FirstNoiseRNG(
            rng, functools.partial(self._shift_noise, state, p, family, expected, shifts)
        )

    @staticmethod
    def _shift_noise(
        state: RunState, p: Any, family: str, expected: int, shifts: list[float], noise: Any
    ) -> Any:
        shape = tuple(getattr(noise, "shape", ()))
        if len(shape) != 4 or shape[1] != expected:
            state.note(
                p,
                f"initial noise of shape {shape} does not have the {expected} latent channels"
                f" of {family}; it was left unchanged",
            )
            return noise
        params = state.params
        try:
            return tkg_noise(noise, shifts, sigma=params.sigma, center=params.center)
        except Exception as err:  # never fail the generation over the noise shift
            state.note(p, f"noise shift failed ({err!r}); the initial noise was left unchanged")
            return noise

    def postprocess_image(self, p: Any, pp: Any, *args: Any) -> None:
        if not HOST_HAS_AFTER_COMPOSITE:
            self._key_image(p, pp)

    def postprocess_image_after_composite(self, p: Any, pp: Any, *args: Any) -> None:
        self._key_image(p, pp)

    def _key_image(self, p: Any, pp: Any) -> None:
        state: RunState | None = getattr(p, STATE_ATTR, None)
        if state is None or state.params is None:
            return
        params = state.params
        if not (params.make_rgba or params.save_matte):
            return
        index = int(getattr(p, "batch_index", 0) or 0)
        try:
            rgb = np.asarray(pp.image.convert("RGB"))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                rgba = keying.key_image(
                    rgb, None, tolerance=params.tolerance, despill=params.despill
                )
            for warning in caught:
                state.note(p, f"keying: {warning.message}")
            rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
            cutout = Image.fromarray(rgba)
            matte = Image.fromarray(np.ascontiguousarray(rgba[..., 3]))
        except Exception as err:  # keep going: the original is kept either way
            state.note(p, f"keying failed ({err!r}); the original image is kept")
            return

        try:
            infotext = processing.create_infotext(
                p,
                p.prompts,
                p.seeds,
                p.subseeds,
                index=index,
                all_negative_prompts=p.negative_prompts,
            )
        except Exception as err:
            state.note(p, f"could not build the infotext of the cut-out ({err!r})")
            infotext = ""

        outputs = []
        if params.make_rgba:
            outputs.append((cutout, _suffix(OPT_RGBA_SUFFIX, DEFAULT_RGBA_SUFFIX)))
        if params.save_matte:
            outputs.append((matte, _suffix(OPT_MATTE_SUFFIX, DEFAULT_MATTE_SUFFIX)))
        for image, _ in outputs:
            if infotext and getattr(shared.opts, "enable_pnginfo", True):
                image.info["parameters"] = infotext
            state.outputs.append((image, infotext))

        save = False
        try:
            save = bool(p.save_samples())
        except Exception as err:
            state.note(p, f"could not tell whether to save ({err!r}); cut-outs not saved")
        if save:
            try:
                seed, prompt = p.seeds[index], p.prompts[index]
            except Exception:
                seed, prompt = None, None
            # saved by on_image_saved when the host saves pp.image, else in postprocess
            state.pending.append(PendingSave(pp.image, outputs, seed, prompt, infotext))

    def postprocess(self, p: Any, processed: Any, *args: Any) -> None:
        state: RunState | None = getattr(p, STATE_ATTR, None)
        if state is None:
            return
        # Outputs whose original the host did not save as the object we keyed (a later script
        # replaced pp.image, a before_image_saved callback swapped it, ...): numbered, as before.
        for entry in state.pending:
            if not entry.done:
                entry.done = True
                for image, suffix in entry.outputs:
                    _save_output(state, p, entry, image, suffix, beside=None)
        state.pending.clear()
        if not state.outputs:
            return
        try:
            infotexts = processed.infotexts
            # Images appended without infotexts (ControlNet detect maps, inpaint masks) would put
            # ours out of step with theirs: pad first, so image k shows infotexts[k].
            if len(infotexts) < len(processed.images):
                filler = processed.info if isinstance(processed.info, str) else ""
                infotexts.extend([filler] * (len(processed.images) - len(infotexts)))
            for image, infotext in state.outputs:
                processed.images.append(image)
                infotexts.append(infotext)
        except Exception as err:
            log(f"could not add the cut-outs to the gallery ({err!r})")
        finally:
            state.outputs.clear()


script_callbacks.on_ui_settings(on_ui_settings)
script_callbacks.on_before_ui(on_before_ui)
script_callbacks.on_image_saved(on_image_saved)
# Also at import: built-in scripts (xyz_grid among them) load before extensions, and with
# --nowebui the API builds its X/Y/Z axis list before on_before_ui callbacks run.
on_before_ui()
