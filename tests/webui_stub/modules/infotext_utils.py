"""modules/infotext_utils.py of v1.10.1, the parts that read ``Script.infotext_fields``:

* ``PasteField`` (line 34) and ``add_paste_fields`` turning plain pairs into it (line 102);
* ``parse_generation_parameters`` (line 234): the last line's ``key: value`` pairs, quoted values
  unquoted (re-implemented here, for the simple cases the tests write);
* ``paste`` = ``connect_paste``'s ``paste_func`` (line 477): a callable key gets the dict, None
  means "leave the component", other values are converted to the component's value type;
* ``send_to`` = the "Send to" binding (line 169): values copied between the fields whose second
  element is in ``paste_field_names``;
* ``api_value`` = ``api.apply_infotext``'s ``get_field_value`` (api.py line 378).
"""

from __future__ import annotations

import json
import re
from typing import Any


class PasteField(tuple):
    def __new__(cls, component, target, *, api=None):
        return super().__new__(cls, (component, target))

    def __init__(self, component, target, *, api=None):
        super().__init__()
        self.api = api
        self.component = component
        self.label = target if isinstance(target, str) else None
        self.function = target if callable(target) else None


def add_paste_fields(fields: list) -> list[PasteField]:
    return [f if isinstance(f, PasteField) else PasteField(*f) for f in fields]


_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def unquote(text: str) -> str:
    if len(text) == 0 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        return json.loads(text)
    except Exception:
        return text


def parse_generation_parameters(text: str) -> dict[str, Any]:
    *lines, lastline = text.strip().split("\n")
    res: dict[str, Any] = {"Prompt": "\n".join(lines)}
    for key, value in _PARAM.findall(lastline):
        res[key.strip()] = unquote(value.strip())
    # bare keys (``k`` when value == key, e.g. "TKG: on" is written as "TKG: on" but a key equal to
    # its value is written alone): add them too
    for part in lastline.split(","):
        part = part.strip()
        if part and ":" not in part and part not in res:
            res[part] = part
    return res


def paste(fields: list, params: dict[str, Any]) -> list[Any]:
    """One update per field, as paste_func returns them (None = gr.update() without value)."""
    res = []
    for output, key in fields:
        if callable(key):
            try:
                v = key(params)
            except Exception:
                v = None
        else:
            v = params.get(key)
        if v is None:
            res.append(None)
            continue
        try:
            valtype = type(output.value)
            if valtype is bool and v == "False":
                val = False
            elif valtype is int:
                val = float(v)
            else:
                val = valtype(v)
            res.append(val)
        except Exception:
            res.append(None)
    return res


def send_to(source_fields: list, dest_fields: list, paste_field_names: list, values: dict) -> dict:
    """{dest component: value} copied by "Send to" from ``values`` {source component: value}."""
    inputs = [field for field, name in source_fields if name in paste_field_names]
    outputs = [field for field, name in dest_fields if name in paste_field_names]
    assert len(inputs) == len(outputs)
    return {out: values[inp] for inp, out in zip(inputs, outputs, strict=True)}


def api_value(field: PasteField, params: dict[str, Any]) -> Any:
    value = field.function(params) if field.function else params.get(field.label)
    if value is None:
        return None
    target_type = type(field.component.value)
    if target_type is type(None):
        return None
    if value is not None and not isinstance(value, target_type):
        value = target_type(value)
    return value
