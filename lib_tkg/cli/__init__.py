"""The ``tkg-chroma`` command line (also ``python -m lib_tkg``).

Subcommands are registered in :func:`build_parser`, each by the ``add_parser`` function of its
module (:mod:`~lib_tkg.cli.key`, :mod:`~lib_tkg.cli.generate`, :mod:`~lib_tkg.cli.animation`),
which sets ``handler`` to that module's ``cmd_<name>(args) -> int``; adding a subcommand is one
more module and one line in :func:`build_parser`. Shared: :mod:`~lib_tkg.cli.options` (option
types), :mod:`~lib_tkg.cli.inputs` (input files and folder scans).

``tkg-chroma key IN [IN ...] -o OUTDIR`` keys images (files, or folders of images) to RGBA
PNGs ``OUTDIR/<stem>-rgba.png`` (and ``<stem>-matte.png`` with ``--mask``).

``tkg-chroma key-animation IN [IN ...] -o OUTDIR`` keys animations and videos as sequences to
transparent animations (:mod:`lib_tkg.cli.animation`).

``tkg-chroma generate --model ID_OR_FILE PROMPT -o OUTDIR`` generates images with 🤗 diffusers
on a TKG colour background and keys them (needs the ``diffusers`` extra).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lib_tkg import __version__
from lib_tkg.cli import animation, generate, key, signals


def build_parser() -> argparse.ArgumentParser:
    """The ``tkg-chroma`` argument parser, one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="tkg-chroma",
        description=(
            "TKG-DM chroma-key tools: key images and animations on a flat colour to "
            "transparent PNGs and animations, and generate such images with diffusers."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    key.add_parser(sub)
    generate.add_parser(sub)
    animation.add_parser(sub)  # (after key: it takes key's keyer options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tkg-chroma``; returns the exit status."""
    args = None
    try:
        with signals.handled():  # (from the start: building the parser imports the keyer)
            parser = build_parser()
            args = parser.parse_args(argv)
            check = getattr(args, "check", None)
            problem = check(args) if check is not None else None
            if problem:
                args.parser.error(problem)  # usage and the message, exit status 2
            return int(args.handler(args))
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM: no traceback, no partial output
        print("tkg-chroma: interrupted", file=sys.stderr)
        return 143 if isinstance(exc, signals.Terminated) else 130
    except OSError as exc:  # a path the handler could not look up (no permission, ...)
        if getattr(args, "debug", False):
            raise
        print(f"tkg-chroma: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
