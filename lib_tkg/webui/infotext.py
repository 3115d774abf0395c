"""Infotext: writing TKG's parameters into a generation's infotext and pasting them back.

Keys and values come from ``lib_tkg.params`` (``TkgParams.to_infotext`` / ``from_infotext``);
this module adapts them to the WebUI's paste mechanism (``infotext_fields``).
"""

from __future__ import annotations

import functools
from typing import Any

from lib_tkg import colors
from lib_tkg.params import COLOR_CHOICES, CUSTOM, FIELDS, ParamError, TkgParams, check_value
from lib_tkg.webui import log

# the last infotext pasted and its parameters: the host pastes field by field from one dict
_last: list[Any] = [None, None]


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


def _is_tkg_key(key: Any) -> bool:
    return str(key).startswith("TKG")


def pasted_params(info: dict) -> TkgParams:
    """Parameters from parsed infotext ``info``; a value that does not parse (an edited
    ``TKG sigma: 99``) is left at its default, with one console line naming it: the rest is
    pasted and TKG stays on (it was silently off)."""
    tkg = {k: v for k, v in info.items() if _is_tkg_key(k)}
    if _last[0] == tkg:
        return _last[1]
    kept = dict(info)
    for f in FIELDS:
        if f.infotext in kept and f.name not in ("enabled", "mask_image"):
            try:
                check_value(f, kept[f.infotext], text=True)
            except ParamError as err:
                log(f"pasting TKG parameters without '{f.infotext}': {err}")
                del kept[f.infotext]
    params = TkgParams.from_infotext(kept)
    _last[:] = [tkg, params]
    return params


def paste_value(name: str, info: dict) -> Any:
    """Component value for field ``name`` from parsed infotext ``info`` (None: leave as is).

    Infotext without TKG keys unticks the enable box and leaves the other controls alone."""
    if not any(_is_tkg_key(key) for key in info):
        return False if name == "enabled" else None
    try:
        params = pasted_params(info)
    except ParamError as err:  # (values that are each fine but not together)
        log(f"not pasting TKG parameters: {err}")
        return None
    return ui_values(params)[name]


# One function object per field, shared by the txt2img and img2img instances: the host pastes
# with it (PNG Info, API "infotext"), and "Send to img2img" matches ``paste_field_names`` against
# the second element of each ``infotext_fields`` pair, so the same objects go into both lists.
# The mask image is not in the infotext (only a note that one was used): it is not pasted.
PASTE_FUNCTIONS = {
    f.name: functools.partial(paste_value, f.name) for f in FIELDS if f.name != "mask_image"
}


def drop_stale_infotext(p: Any) -> None:
    """Give ``p`` its own ``extra_generation_params`` without TKG keys from an earlier X/Y/Z
    cell (the cells share one dict through a shallow copy of ``p``)."""
    params = getattr(p, "extra_generation_params", None)
    if params and any(_is_tkg_key(k) for k in params):
        p.extra_generation_params = {k: v for k, v in params.items() if not _is_tkg_key(k)}


def write_infotext(p: Any, params: TkgParams) -> None:
    """Add ``params``' infotext keys to ``p.extra_generation_params``."""
    if not isinstance(getattr(p, "extra_generation_params", None), dict):
        p.extra_generation_params = {}
    p.extra_generation_params.update(params.to_infotext())
