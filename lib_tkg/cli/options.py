"""Option types and shared options of the ``tkg-chroma`` subcommands: argparse types that
check a value as the WebUI does (same ranges, same messages), ``--debug``, ``--exact-color``."""

from __future__ import annotations

import argparse

from lib_tkg import outputs


def unit_float(text: str) -> float:
    """argparse type of a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def param_type(name: str):
    """argparse type for a ``TkgParams`` field: the same validation and message as the WebUI."""

    def convert(text: str) -> float:
        from lib_tkg.params import TITLE, ParamError, TkgParams

        try:
            return getattr(TkgParams.from_mapping({name: text}, text=True), name)
        except ParamError as exc:  # argparse names the option: the WebUI's title is noise here
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{TITLE}: ")) from None

    convert.__name__ = name  # argparse names the type in its messages
    return convert


def accepted(name: str) -> str:
    """What the ``TkgParams`` field ``name`` accepts, for help texts (e.g. a number in [0, 1])."""
    from lib_tkg.params import FIELD_BY_NAME

    return FIELD_BY_NAME[name].describe()


def color_type(text: str) -> str | None:
    """argparse type of ``--key-color``: a colour, or ``auto`` (``None``: found per image)."""
    from lib_tkg.colors import parse_color

    if text.strip().lower() == "auto":
        return None
    try:
        parse_color(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, or auto") from None
    return text


def positive_int(text: str) -> int:
    """argparse type of an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_debug_option(p: argparse.ArgumentParser) -> None:
    """``--debug``: print the full traceback of a failure (``key``, ``generate``,
    ``key-animation``)."""
    p.add_argument("--debug", action="store_true", help="print the full traceback of a failure")


def check_exact_color(args: argparse.Namespace) -> str | None:
    """``--exact-color`` needs ``--key-color`` (``key``, ``key-animation``); an error or None."""
    if args.exact_color and args.key_color is None:
        return "--exact-color needs --key-color (with auto the colour is found on the border)"
    return None


def add_output_option(p: argparse.ArgumentParser, help_text: str) -> None:
    """``-o``/``--output OUTDIR`` (required; checked by :func:`lib_tkg.outputs.folder_arg`)."""
    p.add_argument(
        "-o", "--output", dest="outdir", metavar="OUTDIR", type=outputs.folder_arg,
        required=True, help=help_text,
    )  # fmt: skip
