"""``tkg-chroma key-animation``: key animations and videos to transparent animations.

Each input file is keyed as one sequence by :func:`lib_tkg.animation.key_sequence` and written
by :func:`lib_tkg.animation_files.write_animation`; the command's help (:data:`DESCRIPTION`)
states the rules for names, existing outputs and failures.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import traceback
from pathlib import Path

from lib_tkg import outputs
from lib_tkg.cli.inputs import RGBA_SUFFIX, collect_inputs
from lib_tkg.cli.options import add_debug_option, add_output_option, check_exact_color
from lib_tkg.keyjobs import describe_error

#: What ``key-animation`` reads, for its help and error messages.
ACCEPTED_INPUTS = (
    "animation or video files (GIF, WebP, APNG, the pages of a TIFF, or MP4, WebM, MOV, ... "
    "with PyAV)"
)
DESCRIPTION = (
    "Key animations and videos on a flat colour to transparent animations. Each input (GIF, "
    "WebP, APNG, a multi-page TIFF, or a video PyAV can read: MP4, WebM, MOV, ...) is keyed "
    "as one sequence (one key colour for all frames, temporal matte) and written as "
    f"OUTDIR/<stem>{RGBA_SUFFIX}<ending> in each --formats format (default: WebP and APNG; "
    "webm and mov need PyAV); inputs that share a stem get <stem>-<hash of their path> "
    "instead, the same on every rerun. Folders are not accepted: name the files. An input "
    "whose outputs (any of them) exist is skipped with a note; nothing is overwritten. A file "
    "that fails is reported in one line and the others go on; the exit status is 1 if any "
    "file failed."
)
_SHARED_OPTIONS = {
    "key_color": "screen colour; default: one colour estimated over all frames' borders (a "
    "chroma colour: one shade of its hue, measured over them)",
    "exact_color": None,
    "tolerance": "clip-black, a number in [0, 1) that with the keyer's clip-white (0.1) sums "
    "below 1",
    "despill": None,
    "quiet": "no line per keyed file (warnings and errors are still shown)",
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
    if not 0.1 <= value <= 240.0:  # (below 0.1 a frame's duration overflows APNG's 16 bits)
        raise argparse.ArgumentTypeError(f"expected frames per second in [0.1, 240], got {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``key-animation`` on the ``tkg-chroma`` subparsers (after ``key``)."""
    p = sub.add_parser(
        "key-animation",
        help="key animations and videos on a flat colour to transparent animations",
        description=DESCRIPTION,
    )
    p.add_argument("inputs", nargs="+", metavar="IN", type=Path, help=ACCEPTED_INPUTS)
    add_output_option(p, "output folder (created if missing)")
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
    add_debug_option(p)
    p.set_defaults(handler=cmd_key_animation, check=_check_args, parser=p)


def _check_args(args: argparse.Namespace) -> str | None:
    """The arguments' problem, before any file is read, or ``None``: a ``--formats`` format
    that cannot be written here, :func:`lib_tkg.cli.options.check_exact_color`, ``--tolerance``
    with the keyer's clip-white."""
    from lib_tkg.animation_files import available_formats, format_problem
    from lib_tkg.keying import DEFAULT_CLIP_WHITE

    if problem := check_exact_color(args):
        return problem
    if args.tolerance + DEFAULT_CLIP_WHITE >= 1.0:
        return (
            f"--tolerance must be below {1.0 - DEFAULT_CLIP_WHITE:g} (it and the keyer's "
            f"clip-white, {DEFAULT_CLIP_WHITE:g}, must sum below 1), got {args.tolerance:g}"
        )

    problems = [problem for f in args.formats if (problem := format_problem(f))]
    if problems:
        have = ", ".join(available_formats())
        return f"--formats: {'; '.join(problems)}; formats available here: {have}"
    return None


def _plan(args: argparse.Namespace) -> tuple[list[tuple[Path, str]], int]:
    """The inputs to key with their output stems (``OUTDIR/<stem>-rgba``, each format adds its
    ending), and the number of inputs that failed already (reported).

    Folders, missing and unreadable files and output names too long fail; a file named twice
    is keyed once, with a note; an input with an existing output is skipped with a note
    (nothing is overwritten). No two outputs share a name and none is an input, in any format.
    """
    from lib_tkg.animation_files import FORMATS

    folders = [p for p in args.inputs if os.path.isdir(p)]  # (False where it cannot be read)
    for item in folders:
        _report("error", f"{item} is a folder; key-animation takes {ACCEPTED_INPUTS}")
    files, errors, notes = collect_inputs([p for p in args.inputs if p not in folders], False)
    for e in errors:
        _report("error", e)
    for n in notes:
        _report("note", n)
    failed = len(folders) + len(errors)
    cut_outs = sorted({e for e in FORMATS.values() if e.startswith(".")})  # (not a folder's)
    files = [f for f in files if not _earlier_output(f, args.outdir, cut_outs)]
    endings = [FORMATS[f] for f in args.formats]
    plan = []
    for path, stem in zip(
        files, outputs.output_stems(files, args.outdir, (RGBA_SUFFIX,), endings), strict=True
    ):
        base = str(args.outdir / f"{stem}{RGBA_SUFFIX}")
        targets = [base + ending for ending in endings]
        problem = outputs.name_problem(targets)
        existing = [t for t in targets if os.path.lexists(t)]
        if problem:
            failed += 1
            _report("error", f"cannot key {path}: {problem}")
        elif existing:
            _report("note", outputs.skip_note(path, existing, overwrite=False))
        else:
            plan.append((path, base))
    return plan, failed


def _earlier_output(path: Path, outdir: Path, endings: list[str]) -> bool:
    """Whether ``path`` (named explicitly) is in the output folder and named like a cut-out this
    command writes there (``*-rgba`` + one of ``endings``: ``.webp``, ``.png``, ...): a rerun
    with a glob (``*.webp`` with ``-o .``) would key the last run's outputs and give their
    inputs new names. Skipped with a note."""
    if path.suffix.lower() not in endings or not path.stem.lower().endswith(RGBA_SUFFIX):
        return False
    try:
        here = os.path.samefile(path.parent, outdir)
    except OSError:  # (the output folder does not exist yet)
        return False
    if here:
        _report(
            "note",
            f"skipping {path}: named like a cut-out key-animation writes "
            f"({', '.join(f'*{RGBA_SUFFIX}{e}' for e in endings)}) in the output "
            "folder; rename it or use another -o to key it",
        )
    return here


def _report(kind: str, message: str) -> None:
    print(f"tkg-chroma: {kind}: {message}", file=sys.stderr)


def cmd_key_animation(args: argparse.Namespace) -> int:
    """Handler of ``tkg-chroma key-animation``: plan the outputs, then key each input."""
    from lib_tkg.animation import key_sequence
    from lib_tkg.animation_files import read_frames, read_profile, size_problem, write_animation

    plan, failed = _plan(args)
    made = None
    if plan:
        try:
            made = outputs.make_output_folder(args.outdir)
        except OSError as exc:
            _report("error", str(exc))
            return 1
    try:
        for path, base in plan:
            try:
                frames, fps, loop = read_frames(str(path))
                h, w = frames[0].shape[:2]
                for fmt in args.formats:  # before keying: a format that cannot hold this size
                    problem = size_problem(fmt, w, h)
                    if problem:
                        raise ValueError(problem)
                result = key_sequence(
                    frames,
                    args.key_color,
                    exact_color=args.exact_color,
                    temporal=args.temporal,
                    tolerance=args.tolerance,
                    despill=args.despill,
                )
                for note in result.notes:
                    _report("warning", f"{path}: {note}")
                written = write_animation(
                    result.frames,
                    base,
                    args.formats,
                    fps=args.fps or fps,
                    loop=loop,
                    all_or_nothing=True,
                    icc_profile=read_profile(str(path)),
                )
                n = len(frames)
                if not args.quiet:
                    files = ", ".join(written.values())
                    print(f"{path}: {n} frame{'' if n == 1 else 's'} -> {files}", file=sys.stderr)
            except Exception as exc:  # any per-file failure: decode, size limit, memory, writing
                failed += 1
                text = describe_error(exc, f"{path}: ")  # read_frames names the file too
                message = f"cannot key {path}: {text}"
                if args.debug:
                    message += "\n" + "".join(traceback.format_exception(exc)).rstrip()
                _report("error", message)
    finally:
        outputs.remove_made_folders(args.outdir, made)  # (nothing written: no empty folder)
    return 1 if failed else 0
