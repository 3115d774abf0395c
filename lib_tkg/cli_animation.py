"""``tkg-chroma key-animation``: key animations and videos to transparent animations.

Each input (GIF, WebP, APNG, or a video PyAV can read: MP4, WebM, MOV, ...) is keyed as one
sequence (:func:`lib_tkg.animation.key_sequence`: one key colour for all frames, temporal matte)
and written as ``OUTDIR/<stem>-rgba<ending>`` in each ``--formats`` format (default: WebP and
APNG; ``webm``/``mov`` need PyAV). Nothing is overwritten; a failed input is reported and the
exit status is 1.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

_SHARED_OPTIONS = {
    "key_color": "screen colour; default: one colour estimated over all frames' borders",
    "tolerance": None,
    "despill": None,
}


def _formats(text: str) -> list[str]:
    from lib_tkg.animation_files import FORMATS

    names = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in names if f not in FORMATS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {bad or text!r}; accepted: {', '.join(FORMATS)} (comma-separated)"
        )
    return names


def _fps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 240.0:
        raise argparse.ArgumentTypeError(f"expected frames per second in (0, 240], got {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``key-animation`` on the ``tkg-chroma`` subparsers (after ``key``)."""
    p = sub.add_parser(
        "key-animation",
        help="key animations and videos on a flat colour to transparent animations",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    p.add_argument("inputs", nargs="+", metavar="IN", type=Path, help="animation or video files")
    p.add_argument(
        "-o", "--output", dest="outdir", metavar="OUTDIR", type=Path, required=True,
        help="output folder (created if missing)",
    )  # fmt: skip
    p.add_argument(
        "--formats", type=_formats, default=["webp", "apng"], metavar="LIST",
        help="comma-separated: webp, apng, webm, mov, png (frames folder); default webp,apng",
    )  # fmt: skip
    p.add_argument("--fps", type=_fps, default=None, help="frame rate; default: the input's")
    # the keyer options of ``key`` (same types, defaults and messages), not a second copy
    for action in sub.choices["key"]._actions:
        if action.dest in _SHARED_OPTIONS:
            shared = copy.copy(action)
            shared.help = _SHARED_OPTIONS[action.dest] or action.help
            p._add_action(shared)
    p.add_argument(
        "--no-temporal", dest="temporal", action="store_false",
        help="no temporal smoothing of the matte",
    )  # fmt: skip
    p.set_defaults(handler=cmd_key_animation)


def cmd_key_animation(args: argparse.Namespace) -> int:
    """Handler of ``tkg-chroma key-animation``."""
    from lib_tkg.animation import key_sequence
    from lib_tkg.animation_files import read_frames, write_animation

    try:
        args.outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"tkg-chroma: error: cannot create output folder {args.outdir}: {exc}"
        print(msg, file=sys.stderr)
        return 1
    failed = 0
    for path in args.inputs:
        try:
            frames, fps = read_frames(str(path))
            result = key_sequence(
                frames,
                args.key_color,
                temporal=args.temporal,
                tolerance=args.tolerance,
                despill=args.despill,
            )
            for note in result.notes:
                print(f"tkg-chroma: warning: {path}: {note}", file=sys.stderr)
            written = write_animation(
                result.frames, str(args.outdir / f"{path.stem}-rgba"), args.formats,
                fps=args.fps or fps,
            )  # fmt: skip
            print(f"{path}: {len(frames)} frames -> {', '.join(written.values())}", file=sys.stderr)
        except (OSError, ValueError, RuntimeError, SyntaxError) as exc:
            failed += 1
            print(f"tkg-chroma: error: cannot key {path}: {exc}", file=sys.stderr)
    return 1 if failed else 0
