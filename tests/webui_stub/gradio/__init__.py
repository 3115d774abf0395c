"""The few gradio 3.41 pieces the script uses: components with value/label/elem_id, layout blocks,
events that must be declared inside ``gr.Blocks`` (as in gradio), and ``update``."""

from __future__ import annotations

from typing import Any

__version__ = "3.41.2-stub"

_stack: list[Block] = []


class Block:
    def __init__(
        self,
        *,
        elem_id: str | None = None,
        elem_classes: Any = None,
        visible: bool = True,
        **kwargs: Any,
    ) -> None:
        self.elem_id = elem_id
        self.elem_classes = elem_classes
        self.visible = visible
        self.kwargs = kwargs
        self.children: list[Block] = []
        self.parent = _stack[-1] if _stack else None
        if self.parent is not None:
            self.parent.children.append(self)

    def __enter__(self) -> Block:
        _stack.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _stack.pop()


class Blocks(Block):
    pass


class Row(Block):
    pass


class Column(Block):
    pass


class Group(Block):
    pass


class Accordion(Block):
    def __init__(self, label: str = "", *, open: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.label = label
        self.open = open


class Component(Block):
    def __init__(self, value: Any = None, *, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = value
        self.label = label
        self.events: list[tuple] = []

    def change(
        self,
        fn: Any = None,
        inputs: Any = None,
        outputs: Any = None,
        _js: Any = None,
        **kwargs: Any,
    ) -> None:
        if not any(isinstance(b, Blocks) for b in _stack):
            raise AttributeError("Cannot call change outside of a gradio.Blocks context.")
        self.events.append(("change", fn, inputs, outputs, _js))


class Checkbox(Component):
    pass


class Dropdown(Component):
    def __init__(
        self, label: str | None = None, choices: Any = None, value: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(value, label=label, **kwargs)
        self.choices = list(choices or [])


class CheckboxGroup(Dropdown):
    pass


class ColorPicker(Component):
    pass


class Textbox(Component):
    pass


class Number(Component):
    pass


class Markdown(Component):
    pass


class HTML(Component):
    pass


class Image(Component):
    pass


class Slider(Component):
    def __init__(
        self,
        minimum: float = 0,
        maximum: float = 100,
        value: Any = None,
        step: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(minimum if value is None else value, **kwargs)
        self.minimum = minimum
        self.maximum = maximum
        self.step = step


def update(**kwargs: Any) -> dict:
    return {**kwargs, "__type__": "generic_update"}  # gradio 3.41 update()
