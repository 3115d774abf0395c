"""scripts/xyz_grid.py of v1.10.1: AxisOption (line 214), the module-level ``axis_options`` list
(line 238) and helpers extensions use. The host loads it as module ``xyz_grid.py``."""

from __future__ import annotations

from modules import scripts


def apply_field(field):
    def fun(p, x, xs):
        setattr(p, field, x)

    return fun


def boolean_choice(reverse: bool = False):
    def choice():
        return ["False", "True"] if reverse else ["True", "False"]

    return choice


def format_value_add_label(p, opt, x):
    if type(x) is float:
        x = round(x, 8)
    return f"{opt.label}: {x}"


def do_nothing(p, x, xs):
    pass


class AxisOption:
    def __init__(
        self,
        label,
        type,
        apply,
        format_value=format_value_add_label,
        confirm=None,
        cost=0.0,
        choices=None,
        prepare=None,
    ):
        self.label = label
        self.type = type
        self.apply = apply
        self.format_value = format_value
        self.confirm = confirm
        self.cost = cost
        self.prepare = prepare
        self.choices = choices


axis_options = [
    AxisOption("Nothing", str, do_nothing),
    AxisOption("Seed", int, apply_field("seed")),
    AxisOption("Steps", int, apply_field("steps")),
]


class Script(scripts.Script):
    def title(self):
        return "X/Y/Z plot"
