"""Settings > TKG chroma background: the options, and the UI defaults they give."""

from __future__ import annotations

import inspect
from typing import Any

from lib_tkg.animation_files import FORMATS
from lib_tkg.key_service import DEFAULT_MAX_MEGAPIXELS, max_pixels_of
from lib_tkg.outputs import (
    DEFAULT_MATTE_SUFFIX,
    DEFAULT_RGBA_SUFFIX,
    SuffixError,
    check_suffix,
    check_suffixes,
)
from lib_tkg.params import COLOR_CHOICES, FIELD_BY_NAME, TITLE, ParamError, TkgParams
from lib_tkg.webui import log_once

SECTION = ("tkg_chroma", TITLE)
OPT_COLOR = "tkg_chroma_default_color"
OPT_CUSTOM_COLOR = "tkg_chroma_default_custom_color"
OPT_STRENGTH = "tkg_chroma_default_strength"
OPT_SAVE_MATTE = "tkg_chroma_save_matte"
OPT_RGBA_SUFFIX = "tkg_chroma_rgba_suffix"
OPT_MATTE_SUFFIX = "tkg_chroma_matte_suffix"
OPT_KEY_MAX_MEGAPIXELS = "tkg_chroma_key_max_megapixels"
OPT_ANIMATION_FORMATS = "tkg_chroma_animation_formats"
#: Transparent animation formats written with AnimateDiff (``lib_tkg.animation_files.FORMATS``)
DEFAULT_ANIMATION_FORMATS = ("webp", "apng")
# Settings that give a control's default value: field name -> option key
SETTING_FOR_FIELD = {
    "color": OPT_COLOR,
    "custom_color": OPT_CUSTOM_COLOR,
    "strength": OPT_STRENGTH,
    "save_matte": OPT_SAVE_MATTE,
}


def settings_defaults(opts: Any) -> TkgParams:
    """UI defaults: ``TkgParams()`` with the values from the Settings page (``shared.opts``);
    an invalid setting is ignored, and logged once."""
    params = TkgParams()
    for name, key in SETTING_FOR_FIELD.items():
        value = getattr(opts, key, None)
        if value is None:
            continue
        try:
            params = TkgParams.from_mapping({name: value}, params, text=True)
        except ParamError as err:
            log_once(f"ignoring setting {key}: {err}")
    return params


def output_suffixes(opts: Any) -> tuple[str, str, str | None]:
    """``(cut-out suffix, matte suffix, message)`` from the Settings page (``shared.opts``).

    Checked by :func:`lib_tkg.outputs.check_suffixes`: a suffix that is empty, holds a path
    separator or a character file names cannot hold is replaced by its default; two that
    could give one picture's outputs the same name (equal, or one ending with the other) are
    both replaced by the defaults. ``message`` says what was corrected and why (None if
    nothing was).
    """
    values = {}
    problems = []
    for key, default, what in (
        (OPT_RGBA_SUFFIX, DEFAULT_RGBA_SUFFIX, "cut-out"),
        (OPT_MATTE_SUFFIX, DEFAULT_MATTE_SUFFIX, "matte"),
    ):
        try:
            values[key] = check_suffix(getattr(opts, key, default), what)
        except SuffixError as err:
            problems.append(str(err))
            values[key] = default
    rgba, matte = values[OPT_RGBA_SUFFIX], values[OPT_MATTE_SUFFIX]
    try:
        check_suffixes(rgba, matte)
    except SuffixError as err:
        problems.append(str(err))
        rgba, matte = DEFAULT_RGBA_SUFFIX, DEFAULT_MATTE_SUFFIX
    if not problems:
        return rgba, matte, None
    message = (
        f"Settings > {TITLE}: {'; '.join(problems)}. Saving with the suffixes {rgba!r} "
        f"(cut-out) and {matte!r} (matte) instead"
    )
    return rgba, matte, message


def key_max_pixels(opts: Any) -> int:
    """The /tkg-chroma/v1/key size limit in pixels (setting in megapixels, default 64)."""
    return max_pixels_of(getattr(opts, OPT_KEY_MAX_MEGAPIXELS, DEFAULT_MAX_MEGAPIXELS))


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
    rule = 'non-empty, no / \\ : * ? " < > |; the two must differ'
    add(
        OPT_RGBA_SUFFIX,
        DEFAULT_RGBA_SUFFIX,
        f"File name suffix of saved cut-outs (always PNG; {rule})",
    )
    add(
        OPT_MATTE_SUFFIX,
        DEFAULT_MATTE_SUFFIX,
        f"File name suffix of saved mattes (always PNG; {rule})",
    )
    add(
        OPT_KEY_MAX_MEGAPIXELS,
        DEFAULT_MAX_MEGAPIXELS,
        "Largest image the /tkg-chroma/v1/key API route keys, in megapixels (larger: HTTP 413)",
        gr.Number,
    )
    add(
        OPT_ANIMATION_FORMATS,
        list(DEFAULT_ANIMATION_FORMATS),
        "AnimateDiff: transparent animation formats (webm = VP9 and mov = ProRes 4444 need PyAV;"
        " png = a folder of RGBA frames)",
        gr.CheckboxGroup,
        {"choices": list(FORMATS)},
    )
