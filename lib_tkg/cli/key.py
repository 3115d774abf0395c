"""``tkg-chroma key``: key image files and folders of images to RGBA PNGs, in parallel."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from lib_tkg import outputs
from lib_tkg.cli.inputs import MATTE_SUFFIX, RGBA_SUFFIX, collect_inputs
from lib_tkg.cli.options import (
    accepted,
    add_debug_option,
    add_output_option,
    check_exact_color,
    color_type,
    param_type,
    positive_int,
    unit_float,
)
from lib_tkg.keyjobs import KeyJob, run_jobs


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``key`` on the ``tkg-chroma`` subparsers."""
    from lib_tkg import keying

    p = sub.add_parser(
        "key",
        help="key images on a flat colour background to RGBA PNGs",
        description=(
            "Key images on a flat, keyable colour (green, blue, magenta, ...) to RGBA PNGs "
            "with straight alpha and the screen colour removed from the foreground. Writes "
            f"OUTDIR/<stem>{RGBA_SUFFIX}.png (and <stem>{MATTE_SUFFIX}.png with --mask); inputs "
            "that share a stem get <stem>-<hash of their path> instead, the same on every rerun. "
            "An output never replaces an input; an existing output is skipped with a note "
            f"unless --overwrite is given. Folder scans skip files named *{RGBA_SUFFIX}.png and "
            f"*{MATTE_SUFFIX}.png (this tool's outputs). A file that fails is reported in one "
            "line and the others go on; the exit status is 1 if any file failed."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="IN", type=Path, help="image files or folders")
    add_output_option(p, "output folder (created if missing)")
    p.add_argument(
        "--mask", action="store_true", help=f"also write the matte, <stem>{MATTE_SUFFIX}.png"
    )
    p.add_argument(
        "--overwrite", action="store_true",
        help="replace existing outputs (default: skip the input, with a note)",
    )  # fmt: skip
    p.add_argument(
        "--key-color", type=color_type, default=None, metavar="COLOR",
        help="screen colour: a preset name (green, blue, magenta, ...), '#RRGGBB', '#RGB' or "
        "'r,g,b', or auto (the default: found on each image's border; warm (red to yellow), "
        "white, grey and black screens are never found, yellow-green ones only when lit evenly: "
        "give e.g. orange, white, black, or a grey such as '#808080'). A chroma "
        "colour gives the hue: the screen's real shade of it is measured on the border (see "
        "--exact-color)",
    )  # fmt: skip
    p.add_argument(
        "--exact-color", action="store_true",
        help="key --key-color exactly as given, not the screen's shade of its hue measured on "
        "the border",
    )  # fmt: skip
    p.add_argument(
        "--tolerance", type=unit_float, default=keying.DEFAULT_TOLERANCE, metavar="T",
        help="clip-black in [0, 1], with --tolerance + --clip-white below 1, as the Python API "
        "takes it: how much colour difference still counts as pure background (default "
        f"{keying.DEFAULT_TOLERANCE:g})",
    )  # fmt: skip
    p.add_argument(
        "--clip-white", type=unit_float, default=keying.DEFAULT_CLIP_WHITE, metavar="W",
        help="clip-white in [0, 1], with --tolerance + --clip-white below 1 "
        f"(default {keying.DEFAULT_CLIP_WHITE})",
    )  # fmt: skip
    p.add_argument(
        "--despill", type=param_type("despill"), default=keying.DEFAULT_DESPILL, metavar="S",
        help=f"spill suppression, {accepted('despill')} (default {keying.DEFAULT_DESPILL:g})",
    )  # fmt: skip
    p.add_argument(
        "--no-refine", dest="refine", action="store_false",
        help="skip the edge-aware matte refinement (faster, harder edges)",
    )  # fmt: skip
    p.add_argument(
        "--no-denoise",
        dest="denoise",
        action="store_false",
        help="keep the input's pixel noise in the foreground colour",
    )
    p.add_argument(
        "--keep-shadow", action="store_true",
        help="keep soft shadows on the screen as a translucent black layer (product shots)",
    )  # fmt: skip
    p.add_argument(
        "-j", "--jobs", type=positive_int, default=os.cpu_count() or 1, metavar="N",
        help="images keyed in parallel, at most one per core (default: all cores; use 1 for "
        "several huge images)",
    )  # fmt: skip
    p.add_argument(
        "--max-pixels", type=positive_int, default=keying.DEFAULT_MAX_PIXELS, metavar="N",
        help=f"refuse images with more pixels (default {keying.DEFAULT_MAX_PIXELS})",
    )  # fmt: skip
    p.add_argument("-r", "--recursive", action="store_true", help="search folders recursively")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    add_debug_option(p)
    p.set_defaults(handler=cmd_key, check=_check_key, parser=p)


def _check_key(args: argparse.Namespace) -> str | None:
    """Checks across ``key`` options (argparse checks each alone); an error text or None."""
    if problem := check_exact_color(args):
        return problem
    if args.tolerance + args.clip_white >= 1.0:
        return (
            f"--tolerance + --clip-white must be below 1, got {args.tolerance:g} + "
            f"{args.clip_white:g}"
        )
    return None


def _key_jobs(files: Sequence[Path], args: argparse.Namespace) -> list[KeyJob]:
    """One :class:`KeyJob` per input file, named by :func:`lib_tkg.outputs.output_stems`."""
    suffixes = (RGBA_SUFFIX, MATTE_SUFFIX) if args.mask else (RGBA_SUFFIX,)
    options = {
        "key_color": args.key_color,
        "exact_color": args.exact_color,
        "tolerance": args.tolerance,
        "clip_white": args.clip_white,
        "despill": args.despill,
        "refine": args.refine,
        "denoise": args.denoise,
        "keep_shadow": args.keep_shadow,
        "max_pixels": args.max_pixels,
    }
    jobs = []
    for path, stem in zip(files, outputs.output_stems(files, args.outdir, suffixes), strict=True):
        rgba, *matte = (args.outdir / outputs.output_name(stem, s) for s in suffixes)
        jobs.append(
            KeyJob(path, rgba, matte[0] if matte else None, options, args.debug, args.overwrite)
        )
    return jobs


def cmd_key(args: argparse.Namespace) -> int:
    """Handler of ``tkg-chroma key``: collect inputs, plan the outputs, run :func:`key_file`."""
    bar = None

    def report(msg: str) -> None:
        if bar is not None:
            bar.write(msg, file=sys.stderr)
        else:
            print(msg, file=sys.stderr)

    files, errors, notes = collect_inputs(args.inputs, args.recursive)
    for e in errors:
        report(f"tkg-chroma: error: {e}")
    for n in notes:
        report(f"tkg-chroma: note: {n}")
    if not files:
        report("tkg-chroma: error: no input images")
        return 1
    todo = []
    skipped = 0
    for job in _key_jobs(files, args):
        problem = outputs.name_problem(job.outputs)
        if problem:
            errors.append(problem)
            report(f"tkg-chroma: error: cannot key {job.source}: {problem}")
            continue
        # (lexists: False, not an error, where a name cannot be looked up; writing says why)
        existing = [] if args.overwrite else [o for o in job.outputs if os.path.lexists(o)]
        if existing:
            skipped += 1
            report(f"tkg-chroma: note: {outputs.skip_note(job.source, existing)}")
        else:
            todo.append(job)
    jobs = todo
    made = None
    if jobs:
        try:
            made = outputs.make_output_folder(args.outdir)
        except OSError as exc:
            report(f"tkg-chroma: error: {exc}")
            return 1

    if len(jobs) > 1 and not args.quiet:
        from tqdm import tqdm

        # on a terminal only: in a log its redraws would be lines of carriage returns
        bar = tqdm(total=len(jobs), unit="img", desc="keying", file=sys.stderr, disable=None)
    failed = len(errors)
    keyed = opaque = 0
    workers = min(args.jobs, len(jobs), os.cpu_count() or 1)
    try:
        with contextlib.closing(run_jobs(jobs, workers)) as results:
            for result in results:
                keyed += result.ok and result.keyed
                opaque += result.ok and not result.keyed
                failed += not result.ok
                for message in result.messages:
                    report(f"tkg-chroma: {message}")
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        outputs.remove_made_folders(args.outdir, made)  # (nothing written: no empty folder)
    if not args.quiet:
        msg = f"keyed {keyed} image(s) into {args.outdir}"
        if opaque:
            msg += f"; {opaque} had no screen (written unkeyed)"
        if skipped:
            msg += f"; {skipped} skipped (outputs exist)"
        if failed:
            msg += f"; {failed} failed"
        print(msg, file=sys.stderr)
    return 1 if failed else 0
