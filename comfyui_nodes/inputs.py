"""Widgets of the ComfyUI nodes, built from ``lib_tkg.params.FIELDS``, and their validation.

Every widget that mirrors a WebUI parameter has the parameter's name, default and range, and is
checked by ``TkgParams``, so a value rejected in the WebUI is rejected here with the same text.
The nodes list these widgets in ``VALIDATE_INPUTS``, which makes ComfyUI hand the values to that
function instead of running its own combo and min/max checks; a returned message fails the
prompt at queue time (HTTP 400 from ``POST /prompt``). A widget fed by a link arrives as ``None``
there and is checked when the node runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from lib_tkg.params import (
    COLOR_CHOICES,
    FIELD_BY_NAME,
    TkgParams,
    check_value,
    color_accepted,
)

AUTO = "auto"
CATEGORY = "TKG chroma"

#: The noise shift's widgets (TKGChromaNoise and TKGChromaModel), in display order.
SHIFT_FIELDS = ("color", "custom_color", "strength", "sigma", "center_x", "center_y")
#: The subject-layout widgets of the same nodes, after those: OPTIONAL inputs, so workflows and
#: API prompts saved before they existed still run (a missing one keeps its default: "" = the
#: single subject of sigma and centre, aspect 0 = the paper's mask).
LAYOUT_FIELDS = ("layout", "aspect")
#: The keyer's widgets that are TkgParams fields (the keyer's other options are its own).
KEY_FIELDS = ("color", "custom_color", "tolerance", "despill")
#: Of those, the key node's OPTIONAL ones (added later: prompts saved before still run).
KEY_OPTIONAL_FIELDS = ("keep_shadow",)


def widget(name: str, *, auto: bool = False) -> tuple[Any, dict[str, Any]]:
    """ComfyUI input spec of the ``FIELDS`` entry ``name``; ``auto`` adds "auto" to the colours."""
    field = FIELD_BY_NAME[name]
    options: dict[str, Any] = {"default": field.default, "tooltip": tooltip(name, auto=auto)}
    if field.kind is float:
        step = 0.05 if name == "aspect" else 0.01  # (aspect: 0, then 0.05 and up)
        return "FLOAT", {**options, "min": field.lo, "max": field.hi, "step": step}
    if field.kind is bool:
        return "BOOLEAN", options
    if name == "color":
        choices = [AUTO, *COLOR_CHOICES] if auto else list(COLOR_CHOICES)
        return choices, {**options, "default": AUTO if auto else field.default}
    return "STRING", options


def accepted(name: str, *, auto: bool = False) -> str:
    """What the widget of the ``FIELDS`` entry ``name`` accepts, as it can hold it: the colour
    dropdown holds presets (and "auto" with ``auto``; API prompts may also give '#RRGGBB',
    '#RGB' or 'r,g,b'), the strength widget a number (0 = Auto), not 'auto'."""
    field = FIELD_BY_NAME[name]
    if name == "color":
        found = f"'{AUTO}' (found on the image border), " if auto else ""
        return (
            f"{found}a preset, or custom (then custom_color); API prompts may also give "
            "'#RRGGBB', '#RGB' or 'r,g,b'"
        )
    if name == "strength":
        return f"a number in [{field.lo:g}, {field.hi:g}]; 0 = Auto (the paper's value)"
    return field.describe()


def tooltip(name: str, *, auto: bool = False) -> str:
    """``label: what is accepted`` of a ``FIELDS`` entry (:func:`accepted`)."""
    return f"{FIELD_BY_NAME[name].label}: {accepted(name, auto=auto)}"


def params(values: Mapping[str, Any], *, auto: bool = False) -> TkgParams:
    """``TkgParams`` of the widget values given (``None`` = not known yet, left at default).

    Raises ``ParamError`` naming the widget and what it accepts, in the WebUI's words except
    where the widget accepts other values than the WebUI's control: the strength widget takes
    a number (0 = Auto), not 'auto'; the key node's colour (``auto``) also takes "auto".
    """
    own = {"strength": accepted("strength")}
    if auto:
        own["color"] = color_accepted(AUTO)
    given = {k: v for k, v in values.items() if v is not None}
    checked = {
        k: check_value(dataclasses.replace(FIELD_BY_NAME[k], accepted=own[k]), v)
        for k, v in given.items()
        if k in own
    }
    return TkgParams.from_mapping({**given, **checked})
