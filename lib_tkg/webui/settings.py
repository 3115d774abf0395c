"""Settings > TKG chroma background: the options, and the UI defaults they give."""

from __future__ import annotations

import inspect
from typing import Any

from lib_tkg.animation_files import FORMATS
from lib_tkg.params import COLOR_CHOICES, FIELD_BY_NAME, TITLE, ParamError, TkgParams
from lib_tkg.webui import log

SECTION = ("tkg_chroma", TITLE)
OPT_COLOR = "tkg_chroma_default_color"
OPT_CUSTOM_COLOR = "tkg_chroma_default_custom_color"
OPT_STRENGTH = "tkg_chroma_default_strength"
OPT_SAVE_MATTE = "tkg_chroma_save_matte"
OPT_RGBA_SUFFIX = "tkg_chroma_rgba_suffix"
OPT_MATTE_SUFFIX = "tkg_chroma_matte_suffix"
OPT_ANIMATION_FORMATS = "tkg_chroma_animation_formats"
DEFAULT_RGBA_SUFFIX = "-rgba"
#: Transparent animation formats written with AnimateDiff (``lib_tkg.animation_files.FORMATS``)
DEFAULT_ANIMATION_FORMATS = ("webp", "apng")
DEFAULT_MATTE_SUFFIX = "-matte"
# Settings that give a control's default value: field name -> option key
SETTING_FOR_FIELD = {
    "color": OPT_COLOR,
    "custom_color": OPT_CUSTOM_COLOR,
    "strength": OPT_STRENGTH,
    "save_matte": OPT_SAVE_MATTE,
}


def settings_defaults(opts: Any) -> TkgParams:
    """UI defaults: ``TkgParams()`` with the values from the Settings page (``shared.opts``);
    an invalid setting is logged and ignored."""
    params = TkgParams()
    for name, key in SETTING_FOR_FIELD.items():
        value = getattr(opts, key, None)
        if value is None:
            continue
        try:
            params = TkgParams.from_mapping({name: value}, params, text=True)
        except ParamError as err:
            log(f"ignoring setting {key}: {err}")
    return params


def output_suffix(opts: Any, key: str, default: str) -> str:
    """The file name suffix option ``key`` with path characters replaced; ``default`` if empty."""
    value = str(getattr(opts, key, default) or "").strip()
    value = "".join("_" if c in '/\\:*?"<>|' else c for c in value)
    return value or default


def add_settings(shared: Any, gr: Any) -> None:
    """Register the options (``script_callbacks.on_ui_settings``); ``shared`` and ``gr`` are the
    host's ``modules.shared`` and gradio."""
    extra = {}
    if "category_id" in inspect.signature(shared.OptionInfo.__init__).parameters:  # 1.7+
        extra["category_id"] = "sd"

    def add(key: str, default: Any, label: str, component: Any = None, args: Any = None) -> None:
        info = shared.OptionInfo(default, label, component, args, section=SECTION, **extra)
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
    add(
        OPT_ANIMATION_FORMATS,
        list(DEFAULT_ANIMATION_FORMATS),
        "AnimateDiff: transparent animation formats (webm = VP9 and mov = ProRes 4444 need PyAV;"
        " png = a folder of RGBA frames)",
        gr.CheckboxGroup,
        {"choices": list(FORMATS)},
    )
