"""``tkg-chroma generate``: generate images with diffusers on a TKG colour background, key
them, and write the original, the cut-out (and the matte) of each seed."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from pathlib import Path
from typing import Any

from lib_tkg import outputs
from lib_tkg.cli import signals
from lib_tkg.cli.inputs import MATTE_SUFFIX, RGBA_SUFFIX
from lib_tkg.cli.options import accepted, add_debug_option, add_output_option

#: The most sampling steps: diffusers' DDIM, PNDM, DPM++ and UniPC fail (or give NaN) near the
#: model's 1000 training steps.
MAX_STEPS = 500


#: Scheduler names of ``generate --scheduler`` (``lib_tkg.pipeline.SCHEDULERS``, plus ``model``);
#: listed here so that building the parser does not import torch.
GENERATE_SCHEDULERS = ("ddim", "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", "unipc", "pndm")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``generate`` on the ``tkg-chroma`` subparsers."""
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
    add_output_option(
        p,
        "output folder (created once the model has loaded; numbering continues after existing "
        "files, which are never replaced)",
    )
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
        help=f"subject mask sigma, {accepted('sigma')} (default 0.5)",
    )  # fmt: skip
    tkg.add_argument(
        "--center", nargs=2, default=("0", "0"), metavar=("X", "Y"),
        help="subject centre in [-1, 1], x right, y down (default 0 0)",
    )  # fmt: skip
    tkg.add_argument(
        "--aspect", default="0", metavar="A",
        help=f"shape of the single subject: {accepted('aspect')} (default 0)",
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
        help=f"keyer tolerance, {accepted('tolerance')} (default {keying.DEFAULT_TOLERANCE:g})",
    )  # fmt: skip
    tkg.add_argument(
        "--despill", metavar="S",
        help=f"despill strength, {accepted('despill')} (default {keying.DEFAULT_DESPILL:g})",
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
        "--steps", default="50", metavar="N",
        help=f"sampling steps in [1, {MAX_STEPS}] (default 50)",
    )  # fmt: skip
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

    steps = _int_option("--steps", args.steps, 1, MAX_STEPS)
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
        if len(parts) != 2 or not all(re.fullmatch(r"[0-9]+", part.strip()) for part in parts):
            raise _OptionError(f"--size must be WxH (e.g. 512x768), got {args.size!r}")
        width, height = (int(part) for part in parts)
        if not all(8 <= v <= 8192 and v % 8 == 0 for v in (width, height)):
            raise _OptionError(
                f"--size: width and height must be multiples of 8 in [8, 8192], got {args.size!r}"
            )
    scheduler = args.scheduler.strip().lower()
    if scheduler not in (*GENERATE_SCHEDULERS, "model"):
        raise _OptionError(
            f"--scheduler must be one of {', '.join(GENERATE_SCHEDULERS)} or model, "
            f"got {args.scheduler!r}"
        )
    device = args.device.strip().lower()
    if not _DEVICE.match(device):
        raise _OptionError(f"--device must be auto, cpu, cuda, cuda:N or mps, got {args.device!r}")
    dtype = args.dtype.strip().lower()
    if dtype not in (*_DTYPES, "auto"):
        raise _OptionError(f"--dtype must be auto, fp16, bf16 or fp32, got {args.dtype!r}")
    return {
        "steps": steps,
        "cfg": cfg,
        "seeds": range(seed, seed + n),
        "batch_size": batch,
        "width": width,
        "height": height,
        "device": device,
        "dtype": dtype,
        "scheduler": None if scheduler == "model" else scheduler,
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
    images: list[Any], outdir: Path, index: int, seed: int, suffixes: list[str], infos: list
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
        pngs = [
            (im, t, {"pnginfo": info}) for im, t, info in zip(images, targets, infos, strict=True)
        ]
        try:
            save_outputs(pngs, overwrite=False)
            return index
        except FileExistsError:  # another run took one of the names meanwhile
            continue


#: The ``TkgParams`` fields of ``generate``'s options, for messages naming the option.
_FIELD_OPTIONS = {
    "color": "--color",
    "strength": "--strength",
    "sigma": "--sigma",
    "center_x": "--center X",
    "center_y": "--center Y",
    "layout": "--layout",
    "aspect": "--aspect",
    "tolerance": "--tolerance",
    "despill": "--despill",
    "mask_image": "--mask-image",
}


def _tkg_params(args: argparse.Namespace) -> Any:
    """The ``TkgParams`` of ``generate``'s options; ``_OptionError`` naming the option."""
    from lib_tkg.colors import parse_color
    from lib_tkg.params import CUSTOM, TITLE, ParamError, TkgParams

    if args.color.strip().lower() == CUSTOM:
        raise _OptionError("--color custom: give the colour itself, e.g. --color '#12ab34'")
    try:
        parse_color(args.color)
    except ValueError as exc:
        raise _OptionError(f"--color: {exc}") from None
    values: dict[str, Any] = {
        "color": args.color,
        "strength": args.strength,
        "sigma": args.sigma,
        "center_x": args.center[0],
        "center_y": args.center[1],
        "layout": args.layout,
        "aspect": args.aspect,
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
            raise _OptionError(
                f"--mask-image {args.mask_image}: not a readable image ({exc})"
            ) from None
    flags = {"save_matte": args.mask, "keep_shadow": args.keep_shadow}
    params = TkgParams(enabled=True, make_rgba=True, **flags)
    for name, value in values.items():  # one at a time: the message names the option
        try:
            params = TkgParams.from_mapping({name: value}, params, text=True)
        except ParamError as exc:
            text = str(exc).removeprefix(f"{TITLE}: ").removeprefix(f"'{name}' ")
            raise _OptionError(f"{_FIELD_OPTIONS[name]}: {text}") from None
    return params


def _quiet_libraries(quiet: bool) -> None:
    """diffusers' and transformers' own logging off (our one-line errors say what failed), and
    their progress bars with ``-q``."""
    import diffusers

    diffusers.utils.logging.set_verbosity_error()
    if quiet:
        diffusers.utils.logging.disable_progress_bar()
    with contextlib.suppress(ImportError):
        import transformers

        transformers.utils.logging.set_verbosity_error()
        if quiet:
            transformers.utils.logging.disable_progress_bar()


def cmd_generate(args: argparse.Namespace) -> int:
    """Handler of ``tkg-chroma generate``: options checked, the model loaded, one probe of the
    TKG latents (a colour or size this model cannot take fails here), then the images,
    written as they are made. Nothing is created on disk before that probe passed; a run that
    wrote nothing leaves no folder."""

    def fail(msg: str, status: int = 2) -> int:
        print(f"tkg-chroma: error: {msg}", file=sys.stderr)
        return status

    try:  # before the heavy imports: a bad option fails at once
        outputs.check_output_folder(args.outdir)
        params = _tkg_params(args)
        options = _generate_options(args)
    except (OSError, _OptionError) as exc:
        return fail(str(exc))
    try:
        from lib_tkg import pipeline as tkg_pipeline

        _quiet_libraries(args.quiet)
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
    try:
        pipe = tkg_pipeline.load_pipeline(
            args.model,
            device,
            dtype,
            config=args.config,
            scheduler=options["scheduler"],
        )
    except (tkg_pipeline.ModelNotFoundError, ValueError) as exc:
        return fail(str(exc))
    except Exception as exc:  # a model diffusers cannot put together (wrong or missing parts)
        if args.debug:
            raise
        return fail(f"cannot load {args.model}: {tkg_pipeline.first_line(exc)}")
    signals.check()  # (a Ctrl-C while the tokenizer loaded can be swallowed in a __del__)
    try:  # the colour, the size and the model's latents agree (cheap: no sampling)
        native = tkg_pipeline.native_size(pipe)
        size = {"height": options["height"] or native, "width": options["width"] or native}
        tkg_pipeline.tkg_latents(pipe, params, seeds=[options["seeds"][0]], **size)
    except ValueError as exc:
        return fail(str(exc))
    made = None
    try:  # only now that the model is there
        made = outputs.make_output_folder(args.outdir)
    except OSError as exc:
        return fail(str(exc))
    try:
        return _generate_into(args, pipe, params, options, fail)
    finally:
        outputs.remove_made_folders(args.outdir, made)  # (nothing written: no empty folder)


def _generate_into(args: argparse.Namespace, pipe: Any, params: Any, options: dict, fail) -> int:
    """:func:`cmd_generate`'s images: generated, keyed and written one seed at a time."""
    from PIL import Image, PngImagePlugin

    from lib_tkg import pipeline as tkg_pipeline
    from lib_tkg.params import NOT_KEYED

    index = _next_index(args.outdir)
    written = 0
    suffixes = [RGBA_SUFFIX] + ([MATTE_SUFFIX] if args.mask else [])
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
            signals.check()
            keyed = tkg_pipeline.key_generated_image(result.image, params)
            for note in keyed.notes:
                print(f"tkg-chroma: warning: seed {result.seed}: {note}", file=sys.stderr)
            texts = [result.infotext] * (1 + len(suffixes))
            if not keyed.keyed:  # the cut-out and matte say so, as the WebUI's do
                texts[1:] = [f"{result.infotext}, {NOT_KEYED}"] * len(suffixes)
            infos = []
            for text in texts:
                infos.append(PngImagePlugin.PngInfo())
                infos[-1].add_text("parameters", text)
            rgba = Image.fromarray(keyed.rgba, "RGBA")
            images = [result.image, rgba, Image.fromarray(keyed.alpha, "L")][: 1 + len(suffixes)]
            try:
                index = _save_generated(images, args.outdir, index, result.seed, suffixes, infos)
            except OSError as exc:  # disk full, ...
                return fail(f"cannot write into {args.outdir}: {exc.strerror or exc}", 1)
            written += len(images)
    except Exception as exc:  # out of memory, a step count the scheduler cannot take, ...
        if args.debug:
            raise
        return fail(f"generation failed: {tkg_pipeline.first_line(exc)}", 1)
    if not args.quiet:
        print(f"wrote {written} file(s) into {args.outdir}", file=sys.stderr)
    return 0
