"""The ``tkg-chroma`` command line (also ``python -m lib_tkg``).

Subcommands are registered in :func:`build_parser`, each by an ``_add_<name>_parser`` function
that sets ``handler`` to a ``cmd_<name>(args) -> int`` function; adding a subcommand is one
more pair of those and one line in :func:`build_parser`.

``tkg-chroma key IN [IN ...] -o OUTDIR`` keys images (files, or folders of images) to RGBA
PNGs ``OUTDIR/<stem>-rgba.png`` (and ``<stem>-matte.png`` with ``--mask``).

``tkg-chroma key-animation IN [IN ...] -o OUTDIR`` keys animations and videos as sequences to
transparent animations (``lib_tkg.cli_animation``).

``tkg-chroma generate --model ID_OR_FILE PROMPT -o OUTDIR`` generates images with 🤗 diffusers
on a TKG colour background and keys them (needs the ``diffusers`` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from lib_tkg import __version__, outputs
from lib_tkg.keyjobs import KeyJob, run_jobs

#: File extensions picked up when a folder is given to ``key``.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
#: Skipped by folder scans (``key-animation`` keys them), keyed on their first frame if named.
ANIMATION_EXTENSIONS = (".gif", ".apng")
RGBA_SUFFIX = outputs.DEFAULT_RGBA_SUFFIX
MATTE_SUFFIX = outputs.DEFAULT_MATTE_SUFFIX


def _unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _param(name: str):
    """argparse type for a ``TkgParams`` field: the same validation and message as the WebUI."""

    def convert(text: str) -> float:
        from lib_tkg.params import TITLE, ParamError, TkgParams

        try:
            return getattr(TkgParams.from_mapping({name: text}, text=True), name)
        except ParamError as exc:  # argparse names the option: the WebUI's title is noise here
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{TITLE}: ")) from None

    convert.__name__ = name  # argparse names the type in its messages
    return convert


def _accepted(name: str) -> str:
    """What the ``TkgParams`` field ``name`` accepts, for help texts (e.g. a number in [0, 1])."""
    from lib_tkg.params import FIELD_BY_NAME

    return FIELD_BY_NAME[name].describe()


def _color(text: str) -> str | None:
    """argparse type of ``--key-color``: a colour, or ``auto`` (``None``: found per image)."""
    from lib_tkg.colors import parse_color

    if text.strip().lower() == "auto":
        return None
    try:
        parse_color(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, or auto") from None
    return text


def build_parser() -> argparse.ArgumentParser:
    """The ``tkg-chroma`` argument parser, one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="tkg-chroma",
        description="TKG-DM chroma-key tools: key images on a flat colour to transparent PNGs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_key_parser(sub)
    _add_generate_parser(sub)
    from lib_tkg import cli_animation

    cli_animation.add_parser(sub)
    return parser


# --------------------------------------------------------------------------------------------
# key


def _add_key_parser(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument(
        "-o", "--output", dest="outdir", metavar="OUTDIR", type=outputs.folder_arg,
        required=True,
        help="output folder (created if missing)",
    )  # fmt: skip
    p.add_argument(
        "--mask", action="store_true", help=f"also write the matte, <stem>{MATTE_SUFFIX}.png"
    )
    p.add_argument(
        "--overwrite", action="store_true",
        help="replace existing outputs (default: skip the input, with a note)",
    )  # fmt: skip
    p.add_argument(
        "--key-color", type=_color, default=None, metavar="COLOR",
        help="screen colour: a preset name (green, blue, magenta, ...), '#RRGGBB', '#RGB' or "
        "'r,g,b', or auto (the default: found on each image's border; warm (red to yellow), "
        "white, grey and black screens are never found: give e.g. orange, white, black, or a "
        "grey such as '#808080'). A chroma "
        "colour gives the hue: the screen's real shade of it is measured on the border (see "
        "--exact-color)",
    )  # fmt: skip
    p.add_argument(
        "--exact-color", action="store_true",
        help="key --key-color exactly as given, not the screen's shade of its hue measured on "
        "the border",
    )  # fmt: skip
    p.add_argument(
        "--tolerance", type=_param("tolerance"), default=keying.DEFAULT_TOLERANCE, metavar="T",
        help=f"clip-black, {_accepted('tolerance')}: how much colour difference still counts "
        f"as pure background (default {keying.DEFAULT_TOLERANCE:g})",
    )  # fmt: skip
    p.add_argument(
        "--clip-white", type=_unit_float, default=keying.DEFAULT_CLIP_WHITE, metavar="W",
        help="clip-white in [0, 1], with --tolerance + --clip-white below 1 "
        f"(default {keying.DEFAULT_CLIP_WHITE})",
    )  # fmt: skip
    p.add_argument(
        "--despill", type=_param("despill"), default=keying.DEFAULT_DESPILL, metavar="S",
        help=f"spill suppression, {_accepted('despill')} (default {keying.DEFAULT_DESPILL:g})",
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
        "-j", "--jobs", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
        help="images keyed in parallel, at most one per core (default: all cores; use 1 for "
        "several huge images)",
    )  # fmt: skip
    p.add_argument(
        "--max-pixels", type=_positive_int, default=keying.DEFAULT_MAX_PIXELS, metavar="N",
        help=f"refuse images with more pixels (default {keying.DEFAULT_MAX_PIXELS})",
    )  # fmt: skip
    p.add_argument("-r", "--recursive", action="store_true", help="search folders recursively")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    add_debug_option(p)
    p.set_defaults(handler=cmd_key, check=_check_key, parser=p)


def add_debug_option(p: argparse.ArgumentParser) -> None:
    """``--debug``: print the full traceback of a failure (``key``, ``generate``,
    ``key-animation``)."""
    p.add_argument("--debug", action="store_true", help="print the full traceback of a failure")


def check_exact_color(args: argparse.Namespace) -> str | None:
    """``--exact-color`` needs ``--key-color`` (``key``, ``key-animation``); an error or None."""
    if args.exact_color and args.key_color is None:
        return "--exact-color needs --key-color (with auto the colour is found on the border)"
    return None


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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _scan(folder: Path, recursive: bool, unreadable: list[str]) -> tuple[list[Path], int]:
    """The entries of ``folder`` (of its subfolders too if ``recursive``, linked ones
    included, each folder once), sorted, and the number of subfolders left out as
    ``key-animation``'s frame outputs (``*-rgba-frames``); a folder that cannot be listed is
    added to ``unreadable`` (the top folder raises ``OSError``)."""
    if not recursive:
        return sorted(folder.iterdir()), 0
    found: list[Path] = []
    seen: set[str] = set()
    frames = 0

    def failed(exc: OSError) -> None:
        if exc.filename == os.fspath(folder):
            raise exc
        unreadable.append(exc.filename)

    for top, dirs, names in os.walk(folder, onerror=failed, followlinks=True):
        seen.add(os.path.realpath(top))
        kept = []
        for name in sorted(dirs):
            if name.lower().endswith(f"{RGBA_SUFFIX}{outputs.FRAMES_ENDING}"):
                frames += 1
            elif os.path.realpath(os.path.join(top, name)) not in seen:  # (no link loops)
                kept.append(name)
        dirs[:] = kept
        found.extend(Path(top, name) for name in names)
    return sorted(found), frames


def collect_inputs(
    inputs: Iterable[Path], recursive: bool
) -> tuple[list[Path], list[str], list[str]]:
    """Expand folders into image files; returns ``(files, errors, notes)`` in a stable order.

    Folder scans skip this tool's own outputs (``*-rgba.png``, ``*-matte.png``), animations
    (``.gif``, ``.apng``: ``key-animation`` keys those), files of other types, hidden files (a
    ``.name.part`` being written) and, unless ``recursive``, subfolders; ``notes`` says how
    many (hidden files aside). Files named explicitly are always taken; one named twice (or
    through a link) once, with a note. A name or subfolder that cannot be looked up or listed
    (no permission) is an error naming it; the others go on.
    """
    files: list[Path] = []
    errors: list[str] = []
    unreadable: list[str] = []
    other: dict[str, int] = {}
    like_output = animations = subfolders = 0
    for item in inputs:
        try:
            if not item.is_dir():
                if item.exists():
                    files.append(item)
                else:
                    errors.append(f"{item}: no such file or folder")
                continue
            entries, frames = _scan(item, recursive, unreadable)
            like_output += frames
        except OSError as exc:
            errors.append(f"{item}: cannot be read ({exc.strerror or exc})")
            continue
        imgs = []
        for f in entries:
            suffix = f.suffix.lower()
            if f.name.startswith("."):
                continue
            if not (suffix in ANIMATION_EXTENSIONS or suffix in IMAGE_EXTENSIONS):
                if os.path.isdir(f):
                    subfolders += not recursive
                else:
                    other[suffix or "(none)"] = other.get(suffix or "(none)", 0) + 1
                continue
            if not os.path.isfile(f):  # a broken link, a folder named like an image, or ...
                try:
                    os.stat(f)
                except PermissionError as exc:  # ... in a folder that cannot be entered
                    errors.append(f"{f}: cannot be read ({exc.strerror})")
                    continue
                except OSError:
                    pass
                other[suffix] = other.get(suffix, 0) + 1
            elif suffix in ANIMATION_EXTENSIONS:
                animations += 1
            elif outputs.is_output_name(f, (RGBA_SUFFIX, MATTE_SUFFIX)):
                like_output += 1
            else:
                imgs.append(f)
        if not imgs:
            errors.append(f"{item}: no images found in folder")
        files.extend(imgs)
    notes = []
    if like_output:
        notes.append(
            f"skipped {like_output} file(s) and folder(s) named like outputs "
            f"(*{RGBA_SUFFIX}.png, *{MATTE_SUFFIX}.png, *{RGBA_SUFFIX}{outputs.FRAMES_ENDING}) "
            "in the folder(s); name a file to key it anyway"
        )
    if animations:
        notes.append(
            f"skipped {animations} animation file(s) (.gif, .apng) in the folder(s): key-animation "
            "keys those; name a file to key its first frame"
        )
    if other:
        kinds = ", ".join(sorted(other)[:5]) + (", ..." if len(other) > 5 else "")
        notes.append(
            f"skipped {sum(other.values())} file(s) that are not images keyed here ({kinds}, "
            f"or broken links); accepted: {', '.join(IMAGE_EXTENSIONS)}"
        )
    if subfolders:
        notes.append(f"skipped {subfolders} subfolder(s): -r (--recursive) searches them too")
    errors.extend(f"{u}: subfolder cannot be read; its images were not keyed" for u in unreadable)
    # the same file named twice (or through a link) is keyed once, under the name that sorts
    # first, whatever the order given: its outputs' names do not depend on that order
    names: dict[Path, list[Path]] = {}
    for f in files:
        names.setdefault(f.resolve(), []).append(f)
    unique = []
    for same in names.values():
        unique.append(min(same, key=str))
        others = sorted({str(f) for f in same} - {str(unique[-1])})
        if others:
            notes.append(f"{', '.join(others)}: the same file as {unique[-1]}, keyed once")
    return unique, errors, notes


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
    made_folder = not os.path.isdir(args.outdir)
    if jobs:
        try:
            outputs.make_output_folder(args.outdir)
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
    with contextlib.closing(run_jobs(jobs, workers)) as results:
        for result in results:
            keyed += result.ok and result.keyed
            opaque += result.ok and not result.keyed
            failed += not result.ok
            for message in result.messages:
                report(f"tkg-chroma: {message}")
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    if made_folder and not keyed + opaque:  # nothing written: leave no empty folder behind
        with contextlib.suppress(OSError):
            os.rmdir(args.outdir)
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


# --------------------------------------------------------------------------------------------
# generate

#: Scheduler names of ``generate --scheduler`` (``lib_tkg.pipeline.SCHEDULERS``, plus ``model``);
#: listed here so that building the parser does not import torch.
GENERATE_SCHEDULERS = ("ddim", "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", "unipc", "pndm")


def _add_generate_parser(sub: argparse._SubParsersAction) -> None:
    from lib_tkg import keying

    p = sub.add_parser(
        "generate",
        help="generate images on a keyable colour background with diffusers, then key them",
        description=(
            "Generate images with a diffusers SD1.x/SD2.x/SDXL model, the initial noise shifted "
            "by TKG-DM so the background comes out a flat colour, and key each image. Writes "
            "OUTDIR/NNNNN-SEED.png (the original), NNNNN-SEED-rgba.png (the cut-out) and, with "
            "--mask, NNNNN-SEED-matte.png; each PNG carries the A1111-style 'parameters' text. "
            "Defaults follow the paper: DDIM, 50 steps, CFG 7.5. Exit status 2 for a bad option "
            "or a missing model, 1 if generation failed."
        ),
    )
    p.add_argument("prompt", metavar="PROMPT", help="the prompt")
    p.add_argument(
        "-m", "--model", required=True, metavar="ID_OR_FILE",
        help="a .safetensors/.ckpt checkpoint, a diffusers folder, or a Hugging Face hub id",
    )  # fmt: skip
    p.add_argument(
        "-o", "--output", dest="outdir", metavar="OUTDIR", type=outputs.folder_arg,
        required=True,
        help="output folder (created once the model has loaded; numbering continues after "
        "existing files, which are never replaced)",
    )  # fmt: skip
    p.add_argument("--negative", default="", metavar="TEXT", help="negative prompt")
    tkg = p.add_argument_group("TKG (checked like the WebUI's settings)")
    tkg.add_argument(
        "--color", default="green", metavar="COLOR",
        help="background colour: a preset (green, blue, magenta, ...), '#RRGGBB', '#RGB' or "
        "'r,g,b' (default green)",
    )  # fmt: skip
    tkg.add_argument(
        "--strength", default="auto", metavar="S",
        help="shift strength in [0, 0.49]; 'auto' or 0: the paper's value for the model "
        "(default auto)",
    )  # fmt: skip
    tkg.add_argument(
        "--sigma", default="0.5", metavar="SIGMA",
        help=f"subject mask sigma, {_accepted('sigma')} (default 0.5)",
    )  # fmt: skip
    tkg.add_argument(
        "--center", nargs=2, default=("0", "0"), metavar=("X", "Y"),
        help="subject centre in [-1, 1], x right, y down (default 0 0)",
    )  # fmt: skip
    tkg.add_argument(
        "--aspect", default="0", metavar="A",
        help=f"shape of the single subject: {_accepted('aspect')} (default 0)",
    )  # fmt: skip
    tkg.add_argument(
        "--layout", default="", metavar="LAYOUT",
        help="several subjects, 'x y sigma[ aspect[ angle]]; ...' (x, y in [-1, 1], aspect = "
        "width/height, angle in degrees clockwise; up to 8); replaces --sigma/--center",
    )  # fmt: skip
    tkg.add_argument(
        "--mask-image", type=Path, metavar="PATH",
        help="free-form subject mask: a greyscale image, white = subject (alpha counts too), "
        "feathered by --sigma; combined with --layout by the maximum",
    )  # fmt: skip
    tkg.add_argument(
        "--tolerance", metavar="T",
        help=f"keyer tolerance, {_accepted('tolerance')} (default {keying.DEFAULT_TOLERANCE:g})",
    )  # fmt: skip
    tkg.add_argument(
        "--despill", metavar="S",
        help=f"despill strength, {_accepted('despill')} (default {keying.DEFAULT_DESPILL:g})",
    )  # fmt: skip
    tkg.add_argument(
        "--keep-shadow", action="store_true",
        help="keep soft shadows on a white, grey or black floor as a translucent black layer",
    )  # fmt: skip
    tkg.add_argument(
        "--mask", action="store_true", help=f"also write the matte, NNNNN-SEED{MATTE_SUFFIX}.png"
    )
    gen = p.add_argument_group("sampling")
    gen.add_argument(
        "--steps", default="50", metavar="N", help="sampling steps in [1, 1000] (default 50)"
    )
    gen.add_argument("--cfg", default="7.5", metavar="SCALE", help="CFG scale (default 7.5)")
    gen.add_argument(
        "--seed", default="-1", metavar="SEED",
        help="seed of the first image, image i gets SEED+i (default -1: random)",
    )  # fmt: skip
    gen.add_argument(
        "--n", default="1", metavar="N", help="number of images in [1, 100000] (default 1)"
    )
    gen.add_argument(
        "--batch-size", default="1", metavar="B",
        help="images per pipeline call (default 1); images do not depend on it",
    )  # fmt: skip
    gen.add_argument(
        "--size", metavar="WxH", help="image size, e.g. 512x768 (default: the model's own)"
    )
    gen.add_argument(
        "--scheduler", default="ddim", metavar="NAME",
        help=f"{', '.join(GENERATE_SCHEDULERS)}, or 'model' to keep the model's (default ddim)",
    )  # fmt: skip
    gen.add_argument(
        "--device", default="auto", metavar="DEV",
        help="auto (CUDA if available, else CPU), cpu, cuda, cuda:1, mps",
    )  # fmt: skip
    gen.add_argument(
        "--dtype", default="auto", metavar="T",
        help="auto (fp16 on CUDA, else fp32), fp16, bf16 or fp32",
    )  # fmt: skip
    gen.add_argument(
        "--config", metavar="DIR",
        help="for a single-file checkpoint offline: a diffusers folder (or hub id) with the "
        "model's config files",
    )  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    add_debug_option(p)
    p.set_defaults(handler=cmd_generate)


class _OptionError(ValueError):
    """A ``generate`` option was rejected (reported in one line, exit status 2)."""


def _int_option(name: str, text: str, lo: int, hi: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _OptionError(f"{name} must be an integer, got {text!r}") from None
    if not lo <= value <= hi:
        raise _OptionError(f"{name} must be in [{lo}, {hi}], got {value}")
    return value


_DTYPES = ("fp16", "bf16", "fp32")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _generate_options(args: argparse.Namespace) -> dict:
    """Check the sampling options of ``generate``, cheaply: no torch, no model, nothing on disk.

    Device and dtype come back as names (``"auto"`` resolved later by :func:`_placement`).
    """
    import math
    import secrets

    steps = _int_option("--steps", args.steps, 1, 1000)
    n = _int_option("--n", args.n, 1, 100_000)
    batch = _int_option("--batch-size", args.batch_size, 1, 1024)
    try:
        cfg = float(args.cfg)
    except ValueError:
        cfg = math.nan
    if not (math.isfinite(cfg) and 0.0 <= cfg <= 100.0):
        raise _OptionError(f"--cfg must be a number in [0, 100], got {args.cfg!r}")
    seed = _int_option("--seed", args.seed, -1, 2**64 - n)
    if seed == -1:
        seed = secrets.randbelow(2**32)
    width = height = None
    if args.size is not None:
        parts = args.size.lower().split("x")
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
            raise _OptionError(f"--size must be WxH (e.g. 512x768), got {args.size!r}")
        width, height = (int(part) for part in parts)
        if not all(8 <= v <= 8192 and v % 8 == 0 for v in (width, height)):
            raise _OptionError(
                f"--size: width and height must be multiples of 8 in [8, 8192], got {args.size!r}"
            )
    if args.scheduler not in (*GENERATE_SCHEDULERS, "model"):
        raise _OptionError(
            f"--scheduler must be one of {', '.join(GENERATE_SCHEDULERS)} or model, "
            f"got {args.scheduler!r}"
        )
    device = args.device.strip().lower()
    if not _DEVICE.match(device):
        raise _OptionError(f"--device must be auto, cpu, cuda, cuda:N or mps, got {args.device!r}")
    if args.dtype not in (*_DTYPES, "auto"):
        raise _OptionError(f"--dtype must be auto, fp16, bf16 or fp32, got {args.dtype!r}")
    return {
        "steps": steps,
        "cfg": cfg,
        "seeds": range(seed, seed + n),
        "batch_size": batch,
        "width": width,
        "height": height,
        "device": device,
        "dtype": args.dtype,
    }


def _placement(device_name: str, dtype_name: str) -> tuple:
    """``(torch.device, torch.dtype)`` for checked ``--device``/``--dtype`` names (needs torch)."""
    import torch

    if device_name == "auto":
        device_name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device_name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise _OptionError(f"--device {device_name}: CUDA is not available in this torch")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise _OptionError(f"--device {device_name}: MPS is not available in this torch")
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
    dtype = dtypes.get(dtype_name, torch.float16 if device.type == "cuda" else torch.float32)
    return device, dtype


_INDEXED = re.compile(r"^(\d{5,})-\d+(-[^.]+)?\.png$", re.IGNORECASE)


def _next_index(outdir: Path) -> int:
    """The first free index of ``generate``'s ``NNNNN-SEED.png`` names in ``outdir``: one more
    than the highest index of such names there (``-rgba``/``-matte`` ones too; five digits or
    more, so 100000 follows 99999; other files' numbers, ``2024-notes.txt``, do not count)."""
    if not outdir.is_dir():
        return 0
    taken = [int(m.group(1)) for f in outdir.iterdir() if (m := _INDEXED.match(f.name))]
    return max(taken, default=-1) + 1


def _model_name(model: str) -> str:
    """The ``Model:`` infotext value: a checkpoint file's stem, else the folder or hub name
    (``sd-v1.5`` stays ``sd-v1.5``)."""
    from lib_tkg.pipeline import SINGLE_FILE_SUFFIXES

    path = Path(model)
    if path.suffix.lower() in SINGLE_FILE_SUFFIXES:
        return path.stem
    return path.name or str(model)


def _fixed_mmap_threshold(size: int = 1 << 20) -> None:
    """Keep memory flat over many images (glibc only; a no-op elsewhere).

    glibc raises its mmap threshold each time a large block is freed (up to 32 MiB); image-sized
    buffers then come from the heap, which fragments, and peak memory creeps up over the first
    images (+120 MiB by 40 images at 512x512 with the tiny test pipeline). A fixed threshold
    turns that adjustment off: blocks of ``size`` bytes and more are mapped and given back to
    the system when freed. This changes the whole process, so only the CLI's own process calls
    it.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (musl, macOS, Windows)
        return
    m_mmap_threshold = -3  # glibc's M_MMAP_THRESHOLD
    mallopt(m_mmap_threshold, size)


def _save_generated(
    images: list[Any], outdir: Path, index: int, seed: int, suffixes: list[str], info: Any
) -> int:
    """Save one seed's original, cut-out (and matte) as ``NNNNN-SEED.png``, ``-rgba.png``
    (``-matte.png``) with the first free index from ``index`` on; returns the next index.

    Written under temporary names and put in place together (:func:`lib_tkg.keyjobs.save_outputs`):
    never over a file (a name another run takes meanwhile moves on to the next index), never
    half-written (Ctrl-C, a full disk)."""
    from lib_tkg.keyjobs import save_outputs

    while True:
        stem = f"{index:05d}-{seed}"
        targets = [outdir / f"{stem}.png"] + [
            outdir / outputs.output_name(stem, s) for s in suffixes
        ]
        index += 1
        if any(os.path.lexists(t) for t in targets):
            continue
        pngs = [(im, t, {"pnginfo": info}) for im, t in zip(images, targets, strict=True)]
        try:
            save_outputs(pngs, overwrite=False)
            return index
        except FileExistsError:  # another run took one of the names meanwhile
            continue


def cmd_generate(args: argparse.Namespace) -> int:
    """Handler of ``tkg-chroma generate``."""

    def fail(msg: str, status: int = 2) -> int:
        print(f"tkg-chroma: error: {msg}", file=sys.stderr)
        return status

    from lib_tkg.params import CUSTOM, ParamError, TkgParams

    if args.color.strip().lower() == CUSTOM:
        return fail("--color custom: give the colour itself, e.g. --color '#12ab34'")
    from lib_tkg.colors import parse_color

    try:
        parse_color(args.color)
    except ValueError as exc:
        return fail(f"--color: {exc}")
    try:  # found now, not after the model
        outputs.check_output_folder(args.outdir)
    except OSError as exc:
        return fail(str(exc))
    values = {
        "enabled": "true",
        "color": args.color,
        "strength": args.strength,
        "sigma": args.sigma,
        "center_x": args.center[0],
        "center_y": args.center[1],
        "make_rgba": "true",
        "save_matte": str(args.mask),
        "layout": args.layout,
        "aspect": args.aspect,
        "keep_shadow": str(args.keep_shadow),
    }
    if args.tolerance is not None:
        values["tolerance"] = args.tolerance
    if args.despill is not None:
        values["despill"] = args.despill
    if args.mask_image is not None:
        from PIL import Image

        try:
            with Image.open(args.mask_image) as mask_image:
                values["mask_image"] = mask_image.copy()
        except (OSError, Image.DecompressionBombError) as exc:
            return fail(f"--mask-image {args.mask_image}: not a readable image ({exc})")
    try:  # before the heavy imports: a bad option fails at once
        params = TkgParams.from_mapping(values, text=True)
        options = _generate_options(args)
    except (ParamError, _OptionError) as exc:
        return fail(str(exc))
    try:
        import diffusers
        from PIL import Image, PngImagePlugin

        from lib_tkg import pipeline as tkg_pipeline
    except ImportError as exc:
        return fail(
            "generate needs torch, diffusers and transformers: install the torch build for "
            f'your machine, then pip install -e ".[generate]" ({exc})'
        )
    try:
        device, dtype = _placement(options["device"], options["dtype"])
    except _OptionError as exc:
        return fail(str(exc))
    _fixed_mmap_threshold()

    diffusers.utils.logging.set_verbosity_error()  # our own one-line errors say what failed
    if args.quiet:
        diffusers.utils.logging.disable_progress_bar()
    with contextlib.suppress(ImportError):
        import transformers

        transformers.utils.logging.set_verbosity_error()
        if args.quiet:
            transformers.utils.logging.disable_progress_bar()
    try:
        pipe = tkg_pipeline.load_pipeline(
            args.model,
            device,
            dtype,
            config=args.config,
            scheduler=None if args.scheduler == "model" else args.scheduler,
        )
    except (tkg_pipeline.ModelNotFoundError, ValueError) as exc:
        return fail(str(exc))
    try:  # only now that the model is there
        outputs.make_output_folder(args.outdir)
    except OSError as exc:
        return fail(str(exc))

    index = _next_index(args.outdir)
    written = 0
    suffixes = [outputs.DEFAULT_RGBA_SUFFIX] + ([outputs.DEFAULT_MATTE_SUFFIX] if args.mask else [])
    results = tkg_pipeline.generate(
        pipe,
        args.prompt,
        params,
        seeds=options["seeds"],
        negative_prompt=args.negative,
        height=options["height"],
        width=options["width"],
        steps=options["steps"],
        cfg=options["cfg"],
        batch_size=options["batch_size"],
        key=False,
        extra_infotext={"Model": _model_name(args.model)},
        progress=not args.quiet,
    )
    try:
        for result in results:
            keyed = tkg_pipeline.key_generated_image(result.image, params)
            for note in keyed.notes:
                print(f"tkg-chroma: warning: seed {result.seed}: {note}", file=sys.stderr)
            info = PngImagePlugin.PngInfo()
            info.add_text("parameters", result.infotext)
            rgba = Image.fromarray(keyed.rgba, "RGBA")
            images = [result.image, rgba, Image.fromarray(keyed.alpha, "L")][: 1 + len(suffixes)]
            try:
                index = _save_generated(images, args.outdir, index, result.seed, suffixes, info)
            except OSError as exc:  # disk full, ...
                return fail(f"cannot write into {args.outdir}: {exc.strerror or exc}", 1)
            written += len(images)
    except ValueError as exc:  # e.g. a size the model cannot take
        return fail(str(exc))
    except (RuntimeError, OSError, MemoryError) as exc:  # out of memory, disk full, ...
        if args.debug:
            raise
        return fail(f"generation failed: {tkg_pipeline._first_line(exc)}", 1)
    if not args.quiet:
        print(f"wrote {written} file(s) into {args.outdir}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------


class _Terminated(KeyboardInterrupt):
    """SIGTERM, stopping the command as Ctrl-C does (workers stopped, temporary files
    removed), with exit status 143."""


def _terminate(_signum: int, _frame: object) -> None:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tkg-chroma``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check = getattr(args, "check", None)
    problem = check(args) if check is not None else None
    if problem:
        args.parser.error(problem)  # usage and the message, exit status 2
    with contextlib.suppress(ValueError):  # (only the main thread may set handlers)
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM: no traceback, no partial output
        print("tkg-chroma: interrupted", file=sys.stderr)
        return 143 if isinstance(exc, _Terminated) else 130
    except OSError as exc:  # a path the handler could not look up (no permission, ...)
        if getattr(args, "debug", False):
            raise
        print(f"tkg-chroma: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
