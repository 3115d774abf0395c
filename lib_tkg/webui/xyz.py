"""The ``[TKG] ...`` axes of the built-in X/Y/Z plot script.

An axis sets ``p.tkg_<field name>`` on the cell's copy of ``p``; ``TkgParams.with_overrides``
reads it back, so a value goes through the same validation as the UI's and the API's. A value
the axis' ``confirm`` rejects (before the grid starts) raises the glue's API error type
(:func:`lib_tkg.webui.state.api_error`): through the API, HTTP 422 with the message and no
traceback, as for a rejected script argument (the host's own axes answer 500).
"""

from __future__ import annotations

import functools
from typing import Any

from lib_tkg.params import ATTR_PREFIX, COLOR_CHOICES, FIELDS, ParamError, TkgParams
from lib_tkg.webui.state import api_error

XYZ_MODULE_NAMES = ("xyz_grid.py", "scripts.xyz_grid")


def find_xyz_module(scripts_data: list) -> Any:
    """The loaded X/Y/Z plot module from ``modules.scripts.scripts_data``, or None."""
    for data in scripts_data:
        if data.script_class.__module__ in XYZ_MODULE_NAMES:
            return data.module
    return None


def _apply(name: str, p: Any, x: Any, xs: Any) -> None:
    setattr(p, ATTR_PREFIX + name, x)


def _confirm(name: str, error_type: type[ParamError], p: Any, xs: Any) -> None:
    for x in xs:
        try:
            TkgParams.from_mapping({name: x}, text=True)
        except ParamError as err:  # (a ValueError, as the host's own confirms raise)
            raise api_error(err, error_type) from None


def _choices(field: Any) -> Any:
    if field.kind is bool:
        return lambda: ["True", "False"]
    if field.name == "color":
        return lambda: list(COLOR_CHOICES)
    return None


def register_xyz_axes(scripts_data: list, error_type: type[ParamError] = ParamError) -> bool:
    """Add the ``[TKG] ...`` axes to the X/Y/Z plot once; True when they are there.
    ``error_type``: what a rejected value raises (the glue's, see the module docstring)."""
    xyz = find_xyz_module(scripts_data)
    if xyz is None:
        return False
    present = {getattr(option, "label", None) for option in xyz.axis_options}
    for f in FIELDS:
        if f.axis is None or f.axis in present:
            continue
        xyz.axis_options.append(
            xyz.AxisOption(
                f.axis,
                float if f.kind is float else str,
                functools.partial(_apply, f.name),
                confirm=functools.partial(_confirm, f.name, error_type),
                choices=_choices(f),
            )
        )
    return True
