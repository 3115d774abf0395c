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
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

from lib_tkg import __version__

#: File extensions picked up when a folder is given to ``key``.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


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
        from lib_tkg.params import ParamError, TkgParams

        try:
            return getattr(TkgParams.from_mapping({name: text}, text=True), name)
        except ParamError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name  # argparse names the type in its messages
    return convert


def _color(text: str) -> str:
    from lib_tkg.colors import parse_color

    try:
        parse_color(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
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
            "OUTDIR/<stem>-rgba.png (and <stem>-matte.png with --mask). Unreadable files are "
            "reported and skipped; the exit status is 1 if any file failed."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="IN", type=Path, help="image files or folders")
    p.add_argument(
        "-o", "--output", dest="outdir", metavar="OUTDIR", type=Path, required=True,
        help="output folder (created if missing)",
    )  # fmt: skip
    p.add_argument("--mask", action="store_true", help="also write the matte, <stem>-matte.png")
    p.add_argument(
        "--key-color", type=_color, default=None, metavar="COLOR",
        help="screen colour: a preset name (green, blue, magenta, ...), '#RRGGBB', '#RGB' or "
        "'r,g,b'; default: estimated from each image's border",
    )  # fmt: skip
    p.add_argument(
        "--tolerance", type=_param("tolerance"), default=keying.DEFAULT_TOLERANCE, metavar="T",
        help="clip-black in [0, 0.85]: how much colour difference still counts as pure "
        f"background (default {keying.DEFAULT_TOLERANCE})",
    )  # fmt: skip
    p.add_argument(
        "--clip-white", type=_unit_float, default=keying.DEFAULT_CLIP_WHITE, metavar="W",
        help=f"clip-white in [0, 1] (default {keying.DEFAULT_CLIP_WHITE})",
    )  # fmt: skip
    p.add_argument(
        "--despill", type=_param("despill"), default=keying.DEFAULT_DESPILL, metavar="S",
        help=f"spill suppression in [0, 1] (default {keying.DEFAULT_DESPILL})",
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
    p.add_argument("-r", "--recursive", action="store_true", help="search folders recursively")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(handler=cmd_key)


def _collect(inputs: Iterable[Path], recursive: bool) -> tuple[list[Path], list[str]]:
    """Expand folders into image files; returns ``(files, errors)`` in a stable order."""
    files: list[Path] = []
    errors: list[str] = []
    for item in inputs:
        if item.is_dir():
            found = item.rglob("*") if recursive else item.iterdir()
            imgs = sorted(f for f in found if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS)
            if not imgs:
                errors.append(f"{item}: no images found in folder")
            files.extend(imgs)
        elif item.exists():
            files.append(item)
        else:
            errors.append(f"{item}: no such file or folder")
    # the same file named twice is keyed once
    seen: set[Path] = set()
    unique = []
    for f in files:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(f)
    return unique, errors


def _out_stems(files: Sequence[Path]) -> list[str]:
    """Output stems; files with the same stem get ``-2``, ``-3``, ... so nothing is overwritten."""
    used: dict[str, int] = {}
    stems = []
    for f in files:
        stem = f.stem
        n = used.get(stem.lower(), 0) + 1
        used[stem.lower()] = n
        stems.append(stem if n == 1 else f"{stem}-{n}")
    return stems


def cmd_key(args: argparse.Namespace) -> int:
    """Handler of ``tkg-chroma key``."""
    import numpy as np
    from PIL import Image, ImageOps

    from lib_tkg import keying

    bar = None

    def report(msg: str) -> None:
        if bar is not None:
            bar.write(msg, file=sys.stderr)
        else:
            print(msg, file=sys.stderr)

    files, errors = _collect(args.inputs, args.recursive)
    for e in errors:
        report(f"tkg-chroma: error: {e}")
    if not files:
        report("tkg-chroma: error: no input images")
        return 1
    try:
        args.outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        report(f"tkg-chroma: error: cannot create output folder {args.outdir}: {exc}")
        return 1

    if len(files) > 1 and not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(files), unit="img", desc="keying", file=sys.stderr)
    failed = len(errors)
    written = 0
    for path, stem in zip(files, _out_stems(files), strict=True):
        try:
            with Image.open(path) as im:
                im.load()
                image = ImageOps.exif_transpose(im) or im
                if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit / float grey
                    arr = np.asarray(image, dtype=np.float64)
                    top = 65535.0 if image.mode != "F" and arr.max() > 255 else 255.0
                    image = np.clip(arr * (255.0 / top), 0, 255).round().astype(np.uint8)
                elif image.mode not in ("RGB", "RGBA", "L", "LA", "P", "PA"):
                    image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", keying.NoKeyColorWarning)
                result = keying.key(
                    image,
                    args.key_color,
                    tolerance=args.tolerance,
                    clip_white=args.clip_white,
                    despill=args.despill,
                    refine=args.refine,
                    denoise=args.denoise,
                )
            for w in caught:
                report(f"tkg-chroma: warning: {path}: {w.message}")
            out = args.outdir / f"{stem}-rgba.png"
            Image.fromarray(np.ascontiguousarray(result.rgba), "RGBA").save(out)
            if args.mask:
                matte = args.outdir / f"{stem}-matte.png"
                Image.fromarray(np.ascontiguousarray(result.alpha), "L").save(matte)
            written += 1
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            failed += 1
            report(f"tkg-chroma: error: cannot key {path}: {exc}")
        finally:
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    if not args.quiet:
        msg = f"keyed {written} image(s) into {args.outdir}"
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
        "-o", "--output", dest="outdir", metavar="OUTDIR", type=Path, required=True,
        help="output folder (created if missing; numbering continues after existing files)",
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
    tkg.add_argument("--sigma", default="0.5", metavar="SIGMA", help="mask sigma (default 0.5)")
    tkg.add_argument(
        "--center", nargs=2, default=("0", "0"), metavar=("X", "Y"),
        help="subject centre in [-1, 1], x right, y down (default 0 0)",
    )  # fmt: skip
    tkg.add_argument("--tolerance", metavar="T", help="keyer tolerance in [0, 1] (default 0.1)")
    tkg.add_argument("--despill", metavar="S", help="despill strength in [0, 1] (default 1)")
    tkg.add_argument("--mask", action="store_true", help="also write the matte, -matte.png")
    gen = p.add_argument_group("sampling")
    gen.add_argument("--steps", default="50", metavar="N", help="sampling steps (default 50)")
    gen.add_argument("--cfg", default="7.5", metavar="SCALE", help="CFG scale (default 7.5)")
    gen.add_argument(
        "--seed", default="-1", metavar="SEED",
        help="seed of the first image, image i gets SEED+i (default -1: random)",
    )  # fmt: skip
    gen.add_argument("--n", default="1", metavar="N", help="number of images (default 1)")
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


def _generate_options(args: argparse.Namespace) -> dict:
    """Check the sampling options of ``generate`` before any model is loaded."""
    import math
    import secrets

    import torch

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
    text = args.device.strip().lower()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise _OptionError(
            f"--device must be auto, cpu, cuda, cuda:N or mps, got {args.device!r}"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise _OptionError(f"--device {args.device}: CUDA is not available in this torch")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise _OptionError(f"--device {args.device}: MPS is not available in this torch")
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
    if args.dtype not in (*dtypes, "auto"):
        raise _OptionError(f"--dtype must be auto, fp16, bf16 or fp32, got {args.dtype!r}")
    dtype = dtypes.get(args.dtype, torch.float16 if device.type == "cuda" else torch.float32)
    return {
        "steps": steps,
        "cfg": cfg,
        "seeds": list(range(seed, seed + n)),
        "batch_size": batch,
        "width": width,
        "height": height,
        "device": device,
        "dtype": dtype,
    }


def _next_index(outdir: Path) -> int:
    """The first free ``NNNNN`` prefix in ``outdir`` (one more than the highest there)."""
    taken = [int(f.name[:5]) for f in outdir.glob("[0-9][0-9][0-9][0-9][0-9]-*.png") if f.is_file()]
    return max(taken, default=-1) + 1


def cmd_generate(args: argparse.Namespace) -> int:
    """Handler of ``tkg-chroma generate``."""

    def fail(msg: str, status: int = 2) -> int:
        print(f"tkg-chroma: error: {msg}", file=sys.stderr)
        return status

    import contextlib

    from lib_tkg.params import ParamError, TkgParams

    values = {
        "enabled": "true",
        "color": args.color,
        "strength": args.strength,
        "sigma": args.sigma,
        "center_x": args.center[0],
        "center_y": args.center[1],
        "make_rgba": "true",
        "save_matte": str(args.mask),
    }
    if args.tolerance is not None:
        values["tolerance"] = args.tolerance
    if args.despill is not None:
        values["despill"] = args.despill
    try:
        import diffusers
        import torch  # noqa: F401  (checked here: _generate_options needs it)
        from PIL import Image, PngImagePlugin

        from lib_tkg import keying
        from lib_tkg import pipeline as tkg_pipeline
    except ImportError as exc:
        return fail(
            "generate needs torch, diffusers and transformers: install the torch build for "
            f'your machine, then pip install -e ".[generate]" ({exc})'
        )
    try:
        params = TkgParams.from_mapping(values, text=True)
        options = _generate_options(args)
    except (ParamError, _OptionError) as exc:
        return fail(str(exc))

    diffusers.utils.logging.set_verbosity_error()  # our own one-line errors say what failed
    if args.quiet:
        diffusers.utils.logging.disable_progress_bar()
    with contextlib.suppress(ImportError):
        import transformers

        transformers.utils.logging.set_verbosity_error()
        if args.quiet:
            transformers.utils.logging.disable_progress_bar()
    try:
        args.outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return fail(f"cannot create output folder {args.outdir}: {exc}")
    try:
        pipe = tkg_pipeline.load_pipeline(
            args.model,
            options["device"],
            options["dtype"],
            config=args.config,
            scheduler=None if args.scheduler == "model" else args.scheduler,
        )
    except (tkg_pipeline.ModelNotFoundError, ValueError) as exc:
        return fail(str(exc))

    model_path = Path(args.model)
    model_name = model_path.stem if model_path.suffix else model_path.name or str(args.model)
    index = _next_index(args.outdir)
    written: list[Path] = []

    def save(result: tkg_pipeline.TkgImage) -> None:
        nonlocal index
        base = args.outdir / f"{index:05d}-{result.seed}"
        index += 1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", keying.NoKeyColorWarning)
            rgba, matte = tkg_pipeline.key_result(result.image, params)
        for w in caught:
            print(f"tkg-chroma: warning: seed {result.seed}: {w.message}", file=sys.stderr)
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", result.infotext)
        outputs: list[tuple[Image.Image, Path]] = [
            (result.image, base.with_name(base.name + ".png")),
            (rgba, base.with_name(base.name + "-rgba.png")),
        ]
        if params.save_matte:
            outputs.append((matte, base.with_name(base.name + "-matte.png")))
        for image, path in outputs:
            image.save(path, pnginfo=info)
            written.append(path)

    try:
        tkg_pipeline.generate(
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
            extra_infotext={"Model": model_name},
            callback=save,
            progress=not args.quiet,
        )
    except ValueError as exc:  # e.g. a size the model cannot take
        return fail(str(exc))
    except (RuntimeError, OSError) as exc:  # out of memory, disk full, ...
        return fail(f"generation failed: {tkg_pipeline._first_line(exc)}", 1)
    if not args.quiet:
        print(f"wrote {len(written)} file(s) into {args.outdir}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tkg-chroma``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
