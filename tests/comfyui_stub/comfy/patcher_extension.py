"""Stand-in for ``comfy/patcher_extension.py`` (ComfyUI v0.8.0): wrapper types and executor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class WrappersMP:
    OUTER_SAMPLE = "outer_sample"


class WrapperExecutor:
    """Runs ``wrappers[idx]`` as ``wrapper(self, *args, **kwargs)``; ``self(...)`` moves on to
    the next wrapper, after the last one to ``original``."""

    def __init__(self, original: Callable, class_obj: Any, wrappers: list, idx: int = 0) -> None:
        self.original = original
        self.class_obj = class_obj
        self.wrappers = list(wrappers)
        self.idx = idx

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return WrapperExecutor(self.original, self.class_obj, self.wrappers, self.idx + 1).execute(
            *args, **kwargs
        )

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        if self.idx == len(self.wrappers):
            return self.original(*args, **kwargs)
        return self.wrappers[self.idx](self, *args, **kwargs)
