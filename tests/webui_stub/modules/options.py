"""modules/options.py of v1.10.1: OptionInfo (line 13) and Options.__getattr__ (line 131); and
OptionInfo16, the OptionInfo of v1.6.0, whose __init__ has no infotext, restrict_api or
category_id parameter yet (all added in 1.7.0)."""

from __future__ import annotations

import inspect
from typing import Any


class OptionInfo:
    def __init__(
        self,
        default=None,
        label="",
        component=None,
        component_args=None,
        onchange=None,
        section=None,
        refresh=None,
        comment_before="",
        comment_after="",
        infotext=None,
        restrict_api=False,
        category_id=None,
    ):
        self.default = default
        self.label = label
        self.component = component
        self.component_args = component_args
        self.onchange = onchange
        self.section = section
        self.category_id = category_id
        self.refresh = refresh
        self.infotext = infotext
        self.restrict_api = restrict_api
        self.do_not_save = False


_NEW_IN_17 = ("infotext", "restrict_api", "category_id")


class OptionInfo16(OptionInfo):
    def __init__(self, *args, **kwargs):
        unknown = [name for name in _NEW_IN_17 if name in kwargs]
        if unknown:
            raise TypeError(f"__init__() got an unexpected keyword argument {unknown[0]!r}")
        super().__init__(*args, **kwargs)

    # what inspect.signature shows: OptionInfo's parameters without the ones 1.6 lacks
    __init__.__signature__ = inspect.signature(OptionInfo.__init__).replace(
        parameters=[
            param
            for param in inspect.signature(OptionInfo.__init__).parameters.values()
            if param.name not in _NEW_IN_17
        ]
    )


class Options:
    def __init__(self, data_labels: dict[str, OptionInfo]) -> None:
        object.__setattr__(self, "data_labels", dict(data_labels))
        object.__setattr__(self, "data", {k: v.default for k, v in data_labels.items()})

    def __setattr__(self, key: str, value: Any) -> None:
        self.data[key] = value

    def __getattr__(self, item: str) -> Any:
        data = object.__getattribute__(self, "data")
        if item in data:
            return data[item]
        labels = object.__getattribute__(self, "data_labels")
        if item in labels:
            return labels[item].default
        return object.__getattribute__(self, item)

    def add_option(self, key: str, info: OptionInfo) -> None:
        self.data_labels[key] = info
        if key not in self.data and not info.do_not_save:
            self.data[key] = info.default
