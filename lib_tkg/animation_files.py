"""Writers of animations with alpha: animated WebP, APNG, WebM (VP9), MOV (ProRes 4444), PNGs.

* ``webp``: animated WebP with alpha (Pillow; lossless by default). Available wherever
  Pillow was built with libwebp (all its wheels).
* ``apng``: animated PNG (Pillow), lossless 8-bit RGBA. Pillow merges identical consecutive
  frames into one longer frame (same timing, fewer stored frames).
* ``webm``: VP9 with alpha (``yuva420p``) through PyAV (``pip install av``, its wheels bundle
  FFmpeg with libvpx). Browsers and FFmpeg's ``libvpx-vp9`` decoder show the alpha; FFmpeg's
  built-in ``vp9`` decoder ignores it. Width and height must be even.
* ``mov``: Apple ProRes 4444 with alpha (``yuva444p10le``) through PyAV, for video editors.
* ``png``: one RGBA PNG per frame in a folder ``<stem>-frames/`` (``00000.png``, ...).

Nothing is ever overwritten and no file is ever half-written: each output is written under a
hidden temporary name beside it (``.<name>.<pid>.part``) and only then put in place, refusing
an existing name with ``FileExistsError`` naming it; a failed write removes its temporary file.
"""

from __future__ import annotations

import contextlib
import itertools
import numbers
import os
import shutil
import warnings
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from lib_tkg import outputs
from lib_tkg.keying.inputs import check_flag, keyable, rgb_profile, to_arrays, upright

__all__ = [
    "FORMATS",
    "available_formats",
    "format_problem",
    "read_frames",
    "read_profile",
    "write_animation",
]

#: Format names, in the order they are written, and the file name ending of each.
#: The most plays a WebP can hold (16 bits; 0 = for ever).
WEBP_MAX_LOOP = 65535
FORMATS: dict[str, str] = {
    "webp": ".webp",
    "apng": ".png",
    "webm": ".webm",
    "mov": ".mov",
    "png": outputs.FRAMES_ENDING,
}
_VIDEO = ("webm", "mov")


def _have_av() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _have_webp_anim() -> bool:
    from PIL import features

    # Pillow < 11 reports animation support as a feature; newer Pillow always has it with WebP
    if "webp_anim" in features.features:
        return bool(features.check_feature("webp_anim"))
    return bool(features.check_module("webp"))


def format_problem(fmt: str) -> str | None:
    """Why ``fmt`` (a name from :data:`FORMATS`) cannot be written here, or ``None`` if it can."""
    if fmt not in FORMATS:
        return f"unknown animation format {fmt!r}; accepted: {', '.join(FORMATS)}"
    if fmt in _VIDEO and not _have_av():
        return f"{fmt} needs PyAV: pip install av (or .[video])"
    if fmt == "webp" and not _have_webp_anim():
        return "webp: this Pillow has no WebP animation support (libwebp >= 0.5 needed)"
    return None


def available_formats() -> list[str]:
    """The formats this Python can write: ``webm``/``mov`` need PyAV, ``webp`` Pillow's libwebp."""
    return [f for f in FORMATS if format_problem(f) is None]


def _check(
    frames: Sequence[np.ndarray], fps: Any, loop: Any
) -> tuple[list[np.ndarray], float, int]:
    """The frames (contiguous), the frame rate and the loop count as Python numbers;
    ``ValueError`` naming what is wrong."""
    if len(frames) == 0:  # (a 4-D array of frames too)
        raise ValueError("no frames to write")
    out = []
    for i, f in enumerate(frames):
        a = np.asarray(f)
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 4:
            raise ValueError(f"frames[{i}]: expected uint8 RGBA (H, W, 4), got {a.dtype} {a.shape}")
        if out and a.shape != out[0].shape:
            raise ValueError(f"frames[{i}] has shape {a.shape}, frames[0] {out[0].shape}")
        out.append(np.ascontiguousarray(a))
    check_fps("fps", fps)
    if isinstance(loop, bool) or not isinstance(loop, numbers.Integral) or not 0 <= loop < 2**32:
        raise ValueError(f"loop must be a whole number in [0, 2**32) (0 = forever), got {loop!r}")
    return out, float(fps), int(loop)


def check_fps(name: str, fps: Any) -> float:
    """A frame rate in [0.1, 240] (numpy numbers too); ``ValueError`` naming ``name`` else."""
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not (0.1 <= fps <= 240):
        raise ValueError(f"{name} must be a number in [0.1, 240], got {fps!r}")
    return float(fps)


def _check_options(lossless: Any, quality: Any, comment: Any) -> None:
    """``lossless`` True or False, ``quality`` a whole number in [0, 100], ``comment`` text or
    None: ``ValueError`` naming the one that is not."""
    check_flag("lossless", lossless)
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral):
        raise ValueError(f"quality must be a whole number in [0, 100], got {quality!r}")
    if not 0 <= quality <= 100:
        raise ValueError(f"quality must be a whole number in [0, 100], got {quality!r}")
    if comment is not None and not isinstance(comment, str):
        raise ValueError(f"comment must be text (str) or None, got {type(comment).__name__}")


def _remove(path: str) -> None:
    """Remove a temporary file or folder of this module, if it is there."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.remove(path)


def _pil_frames(frames: Sequence[np.ndarray]) -> list[Image.Image]:
    return [Image.fromarray(f, "RGBA") for f in frames]


def frame_durations(n: int, fps: float) -> list[int]:
    """Whole milliseconds per frame (WebP and APNG store those) whose running sum stays within
    half a millisecond of ``i / fps``: the animation lasts ``n / fps`` (a plain rounded
    duration drifts: 33 ms per frame at 29.97 fps loses 1 % of the length)."""
    ends = [round(1000.0 * (i + 1) / fps) for i in range(n)]
    return [max(1, b - a) for a, b in zip([0, *ends], ends, strict=False)]


def _write_pillow(path: str, frames, fps, loop, fmt: str, **kwargs: Any) -> None:
    """Save ``frames`` as an animation of Pillow's format ``fmt``; with ``default_image=True``
    (APNG) the first frame is also stored as the image shown where animation is not."""
    images = _pil_frames(frames)
    first, rest = images[0], images if kwargs.get("default_image") else images[1:]
    with open(path, "xb") as fh:
        first.save(
            fh,
            format=fmt,
            save_all=True,
            append_images=rest,
            duration=frame_durations(len(frames), fps),
            loop=loop,
            **kwargs,
        )


def _write_webp(
    path, frames, fps, loop, *, lossless=True, quality=90, comment=None, icc_profile=None
):
    extra = _profile(icc_profile)
    if comment:
        extra["exif"] = _exif_comment(comment)
    loop = min(loop, WEBP_MAX_LOOP)  # (more is 65535 plays: for ever, as far as anyone sees)
    _write_pillow(
        path, frames, fps, loop, "WEBP", lossless=lossless, quality=quality, exact=False, **extra
    )
    if any(cv2.countNonZero(cv2.compare(f[..., 3], 255, cv2.CMP_LT)) for f in frames):
        _mark_alpha(path)


#: where an extended WebP's header (RIFF, size, WEBP, then the VP8X chunk: tag, size, flags)
#: holds its flags, and the flag that says its frames carry transparency
_VP8X_FLAGS = 20
_ALPHA_FLAG = 0x10


def _mark_alpha(path: str) -> None:
    """Set the alpha flag of the animated WebP at ``path`` (written just now) if libwebp left it
    unset. Its animation encoder stores each frame as the smallest rectangle around what
    changed, and the first as the one around its visible pixels: where every pixel is either
    clear or opaque (a hard-edged sprite), no stored rectangle holds a clear pixel, the flag
    says there is no transparency, and readers that trust it (Pillow, Chromium) show the clear
    canvas around them as black."""
    with open(path, "r+b") as fh:
        head = fh.read(_VP8X_FLAGS + 1)
        if len(head) > _VP8X_FLAGS and head[12:16] == b"VP8X":
            flags = head[_VP8X_FLAGS]
            if not flags & _ALPHA_FLAG:
                fh.seek(_VP8X_FLAGS)
                fh.write(bytes([flags | _ALPHA_FLAG]))


def _profile(icc_profile: bytes | None) -> dict[str, Any]:
    """Pillow's save option for an ICC profile (WebP, PNG), none without one."""
    return {"icc_profile": icc_profile} if icc_profile else {}


def _exif_comment(comment: str) -> bytes:
    exif = Image.Exif()
    exif[0x9286] = comment  # UserComment
    return exif.tobytes()


def _write_apng(path, frames, fps, loop, *, comment=None, icc_profile=None, **_: Any):
    extra: dict[str, Any] = _profile(icc_profile)
    if comment:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", comment)
        extra["pnginfo"] = info
    if len(frames) > 1 and all(np.array_equal(f, frames[0]) for f in frames[1:]):
        # Pillow merges identical frames into one and writes a single one as a plain PNG (no
        # length, no loop): with a default image, one frame is still an animation
        extra["default_image"] = True
    level = outputs.png_compress_level(frames[0].shape[1], frames[0].shape[0])
    _write_pillow(path, frames, fps, loop, "PNG", compress_level=level, **extra)


def size_problem(fmt: str, width: int, height: int) -> str | None:
    """Why ``fmt`` cannot hold frames of ``width`` x ``height`` px, or None: WebM's VP9 with
    alpha (``yuva420p``) stores colour at half resolution and needs even sizes."""
    if fmt == "webm" and (width % 2 or height % 2):
        return f"webm (libvpx-vp9) needs an even width and height, got {width}x{height}"
    return None


#: Colour tags of the video formats (FFmpeg's numbers): sRGB frames converted to YUV as
#: BT.601 limited range (``reformat``'s 6 and 1); BT.709 primaries, sRGB transfer. Untagged, players
#: guess (an editor assuming BT.709 shows yellow (255, 200, 0) as (255, 238, 0)).
_COLOUR_TAGS = {"colorspace": 6, "color_range": 1, "color_primaries": 1, "color_trc": 13}


def _write_av(path, frames, fps, codec, pix_fmt, container, options, comment):
    import av

    h, w = frames[0].shape[:2]
    problem = size_problem(container, w, h)
    if problem:
        raise ValueError(problem)
    with open(path, "xb"):  # (made here, never over a file; FFmpeg writes it by its path, so
        pass  # that a full disk is FFmpeg's plain error, not one of PyAV's file callbacks)
    with av.open(_file_url(path), "w", format=container) as out:
        if comment:
            out.metadata["comment"] = comment
        stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        stream.options = options
        _tag_colours(stream.codec_context)  # (the container's tags: WebM's)
        for f in frames:
            frame = av.VideoFrame.from_ndarray(f, format="rgba")
            frame = frame.reformat(format=pix_fmt, dst_colorspace=6, dst_color_range=1)
            out.mux(stream.encode(_tag_colours(frame)))  # (the frames': ProRes' own headers)
        out.mux(stream.encode(None))


def _tag_colours(target: Any) -> Any:
    """Set :data:`_COLOUR_TAGS` on a PyAV codec context or frame (those older PyAV lacks are
    left out); returns it."""
    for name, value in _COLOUR_TAGS.items():
        with contextlib.suppress(AttributeError, ValueError, TypeError):
            setattr(target, name, value)
    return target


def _write_webm(path, frames, fps, loop, *, comment=None, **_: Any):
    # crf 20 with b:v 0 is libvpx's constant-quality mode; auto-alt-ref must be off for alpha
    opts = {"crf": "20", "b": "0", "auto-alt-ref": "0"}
    _write_av(path, frames, fps, "libvpx-vp9", "yuva420p", "webm", opts, comment)


def _write_mov(path, frames, fps, loop, *, comment=None, **_: Any):
    opts = {"profile": "4444", "alpha_bits": "16", "vendor": "apl0"}
    _write_av(path, frames, fps, "prores_ks", "yuva444p10le", "mov", opts, comment)


def _write_pngs(folder, frames, fps, loop, *, comment=None, icc_profile=None, **_: Any):
    os.mkdir(folder)
    extra = _profile(icc_profile)
    if comment:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", comment)
        extra["pnginfo"] = info
    level = outputs.png_compress_level(frames[0].shape[1], frames[0].shape[0])
    for i, img in enumerate(_pil_frames(frames)):
        with open(os.path.join(folder, f"{i:05d}.png"), "xb") as fh:
            img.save(fh, format="PNG", compress_level=level, **extra)


_WRITERS: dict[str, Callable[..., None]] = {
    "webp": _write_webp,
    "apng": _write_apng,
    "webm": _write_webm,
    "mov": _write_mov,
    "png": _write_pngs,
}


def write_animation(
    frames: Sequence[np.ndarray],
    stem: str | os.PathLike,
    formats: Iterable[str] | str = ("webp",),
    *,
    fps: float = 8.0,
    loop: int = 0,
    lossless: bool = True,
    quality: int = 90,
    comment: str | None = None,
    all_or_nothing: bool = False,
    icc_profile: bytes | None = None,
) -> dict[str, str]:
    """Write ``frames`` (uint8 RGBA (H, W, 4), one size) as ``stem`` + each format's ending.

    ``formats``: names from :data:`FORMATS` (or one name). ``fps``: frames per second, [0.1,
    240]. ``loop``: times to play, 0 = forever (WebP, APNG). ``lossless`` (True or False) and
    ``quality`` (a whole number 0..100): WebP only. ``comment``: text stored in each file (WebP
    EXIF UserComment, PNG text "parameters", container comment), or None. ``icc_profile``:
    an RGB ICC profile (:func:`read_profile`) stored in WebP, APNG and PNG frames, so that
    they show the input's colours (WebM and MOV carry none). Returns ``{format:
    path written}``. Raises ``ValueError`` for an unknown format, bad frames or a bad option,
    ``FileNotFoundError`` when the folder of ``stem`` does not exist, ``RuntimeError`` when a
    format needs a missing library (``webm``/``mov``: ``pip install av``), ``FileExistsError``
    rather than overwrite. Every
    format is attempted; the first error is raised after the others were written (the
    error's ``written`` attribute holds them), or, with ``all_or_nothing``, none is put in
    place unless all could be written.
    """
    formats = list(dict.fromkeys([formats] if isinstance(formats, str) else formats))
    if not formats:
        raise ValueError(f"no format given; accepted: {', '.join(FORMATS)}")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown animation format(s) {unknown}; accepted: {', '.join(FORMATS)}")
    checked, fps, loop = _check(frames, fps, loop)
    _check_options(lossless, quality, comment)
    stem = os.fspath(stem)
    if not os.path.basename(stem):
        raise ValueError(f"stem must name a file (each format adds its ending), got {stem!r}")
    folder = os.path.dirname(stem) or "."
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {stem}*: the folder {folder} does not exist")
    staged: dict[str, tuple[str, str]] = {}
    errors: list[BaseException] = []
    for fmt in formats:
        path = stem + FORMATS[fmt]
        tmp = outputs.partial_name(path)
        try:
            problem = format_problem(fmt)
            if problem:
                raise RuntimeError(problem)
            if os.path.lexists(path):  # before encoding: fail fast
                raise outputs.exists_error(path)
            _WRITERS[fmt](
                tmp,
                checked,
                fps,
                loop,
                lossless=lossless,
                quality=quality,
                comment=comment,
                icc_profile=icc_profile,
            )
        except (OSError, ValueError, RuntimeError) as err:
            _remove(tmp)
            if isinstance(err, OSError) and err.strerror and err.filename in (tmp, None):
                named = OSError(f"cannot write {path}: {err.strerror}")  # (not tmp)
                named.errno = err.errno
                err = named
            errors.append(err)
            continue
        except BaseException:
            _remove(tmp)
            for staged_tmp, _ in staged.values():
                _remove(staged_tmp)
            raise
        staged[fmt] = (tmp, path)
    if errors and all_or_nothing:
        for tmp, _ in staged.values():
            _remove(tmp)
        staged.clear()
    written: dict[str, str] = {}
    try:
        for fmt, (tmp, path) in staged.items():
            try:
                outputs.publish(tmp, path)
            except OSError as err:
                _remove(tmp)
                errors.append(err)
                continue
            written[fmt] = path
    except BaseException:  # interrupted (Ctrl-C): no temporary file left, all or nothing
        for tmp, _ in staged.values():
            _remove(tmp)
        if all_or_nothing:
            for path in written.values():
                _remove(path)
        raise
    if errors:
        err = errors[0]
        err.written = written  # what did get written, for callers that carry on
        raise err
    return written


#: Pillow formats read as animations or still frames (by their content, whatever the name);
#: anything else goes to PyAV.
PILLOW_FORMATS = ("GIF", "PNG", "WEBP", "TIFF", "JPEG", "BMP")
#: Endings of raw Motion-JPEG streams: Pillow reads their first JPEG only, PyAV all of them.
MJPEG_ENDINGS = (".mjpeg", ".mjpg")
#: A GIF frame delay browsers play as 100 ms (a delay of 0 or 10 ms, ms).
_GIF_SLOW_DELAY = 10


def read_frames(path: str, *, default_fps: float = 8.0) -> tuple[list[np.ndarray], float, int]:
    """All frames of an animation or video as uint8 RGB (H, W, 3) arrays (an input's own alpha
    is dropped), its frame rate and its loop count (0 = forever, the writers' ``loop``).

    Files Pillow reads as GIF, WebP, (A)PNG, TIFF (its pages), JPEG or BMP, whatever their
    name, are read with Pillow as ``tkg-chroma key`` reads images (EXIF orientation applied,
    16-bit and float greyscale scaled to 8 bits; an APNG's default image, which is not part
    of its animation, left out): the frame rate keeps the total length (frames over the sum
    of their durations, a GIF's delays of 0 or 10 ms counted as the 100 ms browsers play;
    varying durations are evened out), else ``default_fps``; the loop count is the file's,
    as times to play (a GIF's repeat count plus one; a GIF without one plays once; a TIFF's pages
    loop for ever, as videos do); frames
    (TIFF pages) must share one size. Other files (MP4, WebM, MOV, MKV, ...) are read with
    PyAV, first video stream, as players show it (its rotation and pixel aspect applied),
    the frame rate from the frames' own times (frames over the time from the first to the end
    of the file: variable-rate videos keep their length); they loop forever.
    Every frame is held in memory. Raises ``ValueError`` (no frames, no video stream, frames
    over Pillow's size limit ``PIL.Image.MAX_IMAGE_PIXELS``, also applied to videos),
    ``RuntimeError`` (PyAV missing) or ``OSError`` (unreadable).
    """
    limit = Image.MAX_IMAGE_PIXELS
    too_large = ValueError(
        f"{path}: frames too large; accepted: at most {limit} pixels per frame "
        "(Pillow's decompression-bomb limit, PIL.Image.MAX_IMAGE_PIXELS)"
    )
    default_fps = check_fps("default_fps", default_fps)
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise ValueError(f"{path}: the file is empty")
    try:
        with warnings.catch_warnings():  # over the limit: Pillow warns, over twice: raises
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path, formats=PILLOW_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except UnidentifiedImageError:
        im = None
    except FileNotFoundError:
        raise
    except (OSError, EOFError, SyntaxError) as err:  # (a damaged file Pillow knows the type of)
        raise OSError(_damaged(path, "its header", err)) from None
    if im is None or os.path.splitext(path)[1].lower() in MJPEG_ENDINGS:
        if im is not None:
            im.close()
        frames, fps = _read_video(path, limit, too_large, default_fps)
        return frames, fps, 0
    with im:
        frames, fps, loop = _read_pillow(im, path, default_fps)
    return frames, fps, loop


def read_profile(path: str) -> bytes | None:
    """The RGB ICC colour profile embedded in the animation at ``path`` (a phone's Display P3),
    for :func:`write_animation`: ``None`` without one, for a grey or CMYK one, and for a file
    Pillow does not read (videos)."""
    try:
        with Image.open(path, formats=PILLOW_FORMATS) as im:
            return rgb_profile(im)
    except (OSError, EOFError, SyntaxError, Image.DecompressionBombError):
        return None


def _read_pillow(im: Image.Image, path: str, default_fps: float) -> tuple[list, float, int]:
    """:func:`read_frames` of a file Pillow opened."""
    n = getattr(im, "n_frames", 1)
    first = 1 if im.format == "PNG" and n > 1 and getattr(im, "default_image", False) else 0
    frames, total = [], 0.0
    for i in range(first, n):
        try:
            im.seek(i)
            frames.append(to_arrays(keyable(upright(im)))[0])
        except (OSError, EOFError, SyntaxError) as err:  # (Pillow's "Truncated File Read")
            raise OSError(_damaged(path, f"frame {i + 1 - first} of {n - first}", err)) from None
        duration = float(im.info.get("duration") or 0)  # (known once the frame is read)
        if im.format == "GIF" and duration <= _GIF_SLOW_DELAY:
            duration = 100.0
        total += duration
        if frames[-1].shape != frames[0].shape:
            h0, w0 = frames[0].shape[:2]
            h, w = frames[-1].shape[:2]
            raise ValueError(
                f"{path}: frame {i + 1} is {w}x{h}, the first {w0}x{h0}; accepted: frames "
                "(pages) of one size"
            )
    loop = 0
    if n > 1 and im.format != "TIFF":  # (a TIFF's pages have no loop count: for ever, as videos)
        loop = int(im.info.get("loop", 1))  # (a GIF without a loop count plays once)
        if im.format == "GIF" and "loop" in im.info and loop:
            loop += 1  # a GIF's count is of repeats after the first play
    if not frames:
        raise ValueError(f"{path}: no frames")
    fps = 1000.0 * len(frames) / total if total > 0 else default_fps
    return frames, min(max(fps, 0.1), 240.0), loop


def _damaged(path: str, part: str, err: BaseException) -> str:
    """The message for a file Pillow recognises but cannot read ``part`` of."""
    return (
        f"{path}: {part} cannot be read ({err or type(err).__name__}): the file is damaged or "
        "cut short; accepted: complete GIF, WebP, APNG, PNG or TIFF files, or a video FFmpeg "
        "decodes"
    )


def _read_video(path: str, limit: Any, too_large: Exception, default_fps: float):
    """:func:`read_frames` of a file Pillow does not read: its first video stream through
    PyAV, as players show it, and its frame rate from the frames' times."""
    if not _have_av():
        raise RuntimeError(
            f"{path}: not an image Pillow reads; videos need PyAV: pip install av (or .[video])"
        )
    import av

    frames, times, ends = [], [], []
    last_end = 0.0
    try:
        with av.open(_file_url(path)) as container:
            if not container.streams.video:
                raise ValueError(f"{path}: no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            sar = getattr(stream, "sample_aspect_ratio", None)
            if limit and _shown_width(width, sar) * height > limit:  # (as shown: SAR applied)
                raise too_large
            rate = stream.average_rate or stream.guessed_rate
            for f in container.decode(stream):
                frames.append(_as_shown(f.to_ndarray(format="rgb24"), sar, _rotation(f, stream)))
                if f.time is not None:
                    times.append(f.time)
                    if f.duration and f.time_base:  # (where it ends, if the file says)
                        last_end = f.time + float(f.duration * f.time_base)
            if stream.duration and stream.time_base:  # (s) where the video stream ends
                start = stream.start_time or 0
                ends.append(float((start + stream.duration) * stream.time_base))
            ends.append(last_end)  # where its last frame ends
            if container.duration:  # (s) the file's length, all streams (an edit list's too)
                ends.append(float(container.duration / av.time_base))
    except av.FFmpegError as err:
        raise OSError(
            f"{path}: not an animation or video that can be read ({err.strerror}); accepted: "
            f"GIF, WebP, APNG, PNG, a multi-page TIFF, or a video FFmpeg decodes (MP4, WebM, "
            "MOV, MKV, ...)"
        ) from None
    if not frames:
        raise ValueError(f"{path}: no frames")
    fps = float(rate) if rate else default_fps
    if len(times) == len(frames) > 1:
        first, last = min(times), max(times)
        steps = sorted(b - a for a, b in itertools.pairwise(sorted(times)))
        step = steps[len(steps) // 2]  # the typical frame's duration
        # the last frame ends where the video stream does, else where the file says that
        # frame ends, else where the file does (its longest stream), the first of these after
        # it and within two frames; else it lasts a typical frame
        end = next((e for e in ends if last < e <= last + 2 * step), last + step)
        if end > first:
            fps = len(frames) / (end - first)
    return frames, min(max(fps, 0.1), 240.0)


def _file_url(path: str) -> str:
    """``path`` as FFmpeg's ``file:`` URL: a name such as ``2024-05-01T12:30.mp4`` or
    ``file:x.mp4`` is otherwise taken for a protocol (an error, or another file read)."""
    return "file:" + os.path.abspath(path)


def _rotation(frame: Any, stream: Any) -> int:
    """Quarter turns (counter-clockwise, ``np.rot90``'s) a player applies to a decoded frame:
    the display matrix' rotation (PyAV's ``frame.rotation``), else the stream's ``rotate``
    tag (older PyAV; FFmpeg shows a file tagged ``rotate=90`` as ``np.rot90(frame, 1)``)."""
    degrees = getattr(frame, "rotation", None)
    if degrees is None:
        with contextlib.suppress(ValueError, TypeError):
            degrees = float(stream.metadata.get("rotate", 0))
    return round((degrees or 0) / 90) % 4


def _shown_width(width: int, sar: Any) -> int:
    """The width (px) a frame ``width`` px wide is shown at, its sample aspect ratio ``sar``
    (``Fraction``, or None: square pixels) applied."""
    if not sar or float(sar) <= 0:
        return width
    return max(1, round(width * float(sar)))


def _as_shown(rgb: np.ndarray, sar: Any, turns: int) -> np.ndarray:
    """A decoded frame as players show it: widened or narrowed to square pixels by the sample
    aspect ratio ``sar`` (``Fraction`` or None), then turned ``turns`` quarter turns."""
    if sar and float(sar) > 0 and float(sar) != 1.0:
        h, w = rgb.shape[:2]
        new_w = _shown_width(w, sar)
        resample = cv2.INTER_AREA if new_w < w else cv2.INTER_CUBIC
        rgb = cv2.resize(rgb, (new_w, h), interpolation=resample)
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb
