"""Key one image file into its output files: the per-file work of ``tkg-chroma key``.

:func:`key_file` takes a picklable :class:`KeyJob` (input path, output paths, keyer options)
and returns a :class:`JobResult` with a one-line status, so a process pool can run it as is.
It never raises for a bad file: decode errors, OpenCV errors, out of memory and Pillow's size
limit all become a failed result. Outputs are written to a temporary name and renamed, so a
failure leaves no half-written file.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib_tkg import outputs

#: What ``tkg-chroma key`` reads, for its messages.
ACCEPTED = (
    "PNG, JPEG, WebP, BMP, TIFF and GIF images (the first frame of an animation; "
    "tkg-chroma key-animation keys animations and videos)"
)


@dataclass(frozen=True)
class KeyJob:
    """One input and where its outputs go.

    ``rgba``: path of the cut-out; ``matte``: path of the matte or ``None``; ``options``:
    keyword arguments of ``lib_tkg.keying.key`` (``key_color``, ``tolerance``, ...);
    ``debug``: put the traceback of a failure into the result's message; ``overwrite``:
    replace existing outputs (else an output that exists when it is written, even one another
    run made meanwhile, fails the job and nothing of it is written).
    """

    source: Path
    rgba: Path
    matte: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)
    debug: bool = False
    overwrite: bool = False

    @property
    def outputs(self) -> list[Path]:
        """The output paths, cut-out first."""
        return [self.rgba] + ([self.matte] if self.matte is not None else [])


@dataclass(frozen=True)
class JobResult:
    """What :func:`key_file` did: ``ok`` False when the file failed; ``messages``: lines to
    show (``"error: ..."`` or ``"warning: ..."``, each naming the file); ``keyed`` False when
    the image had no screen and its cut-out is the image, opaque."""

    ok: bool
    messages: tuple[str, ...] = ()
    keyed: bool = False


def read_image(path: Path, max_pixels: int | None = None) -> tuple[Any, int, bytes | None]:
    """Open an image for keying: ``(image, frames, profile)``, the image a PIL image (EXIF
    orientation applied) or a uint8 array, of the first frame of an animation of ``frames``
    frames; ``profile`` its embedded RGB ICC profile (:func:`lib_tkg.keying.inputs.rgb_profile`).

    16-bit and float greyscale are scaled to 0..255 (:func:`lib_tkg.keying.inputs.keyable`).
    An image over ``max_pixels`` (the keyer's limit, checked before decoding; Pillow's own
    limit is not used), an empty file and one Pillow cannot identify raise ``ValueError``.
    """
    from PIL import Image

    from lib_tkg.keying.inputs import (
        DEFAULT_MAX_PIXELS,
        check_size,
        keyable,
        rgb_profile,
        upright,
    )

    if os.path.getsize(path) == 0:
        raise ValueError("the file is empty")
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        im = Image.open(path)
    except Image.UnidentifiedImageError:
        raise ValueError(f"not an image file that can be read; accepted: {ACCEPTED}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    with im:
        check_size((im.size[1], im.size[0]), max_pixels or DEFAULT_MAX_PIXELS)
        frames = getattr(im, "n_frames", 1)
        im.load()
        profile = rgb_profile(im)
        image = keyable(upright(im))
        if image is im:  # (still the file's image, which is closed on leaving)
            image = im.copy()
        return image, frames, profile


def worker_init() -> None:
    """Initializer of a pool worker: one image per core, so OpenCV uses one thread."""
    import cv2

    cv2.setNumThreads(1)


def run_jobs(jobs: list[KeyJob], workers: int) -> Iterator[JobResult]:
    """:func:`key_file` of each job, in order: here, or with ``workers`` > 1 in as many
    spawned processes (:class:`lib_tkg.worker_pool.WorkerPool`).

    A worker that dies (killed: out of memory) fails the image it was keying, with one line,
    and a new worker takes the rest; an interruption (Ctrl-C, SIGTERM, or the caller closing
    this generator) stops the workers. Either way the temporary files of the stopped workers
    are removed.
    """
    if workers <= 1:
        yield from map(key_file, jobs)
        return
    from lib_tkg.worker_pool import WorkerDied, WorkerPool

    paths = [o for job in jobs for o in job.outputs]
    dead: list[int] = []
    with WorkerPool(key_file, workers, worker_init) as pool:
        try:
            for job, result in zip(jobs, pool.map(jobs), strict=True):
                if isinstance(result, WorkerDied):
                    dead.append(result.pid)
                    result = JobResult(False, (f"error: cannot key {job.source}: {_WORKER_DIED}",))
                yield result
        except BaseException:
            pool.stop(at_once=True)
            dead = pool.pids
            raise
        finally:
            if dead:
                outputs.remove_partials(paths, dead)


_WORKER_DIED = (
    "a worker process stopped before finishing it (killed, often for lack of memory; -j 1 "
    "keys one image at a time)"
)


def save_outputs(files: Sequence[tuple[Any, Path, dict[str, Any]]], overwrite: bool) -> None:
    """Save each ``(image, target, png options)`` as PNG under a temporary name, then put them
    all in place together (:func:`place`); whatever fails or is interrupted, no temporary file
    is left and no earlier file changed. ``png options``: Pillow's (``icc_profile``,
    ``pnginfo``)."""
    written: list[Path] = []
    try:
        for image, target, png in files:
            written.append(Path(outputs.partial_name(target)))  # (named first: cleaned up)
            _save_partial(image, written[-1], **png)
        place(written, [target for _, target, _ in files], overwrite)
    finally:
        for tmp in written:  # (those put in place are gone already)
            with contextlib.suppress(OSError):
                tmp.unlink()


def _save_partial(image: Any, tmp: Path, **png: Any) -> None:
    """Write ``image`` as PNG to the temporary name ``tmp`` (:func:`lib_tkg.outputs.partial_name`),
    with Pillow's PNG options ``png``."""
    level = outputs.png_compress_level(image.width, image.height)
    try:
        image.save(tmp, format="PNG", compress_level=level, **png)
    except BaseException:  # a failed or interrupted (Ctrl-C) write leaves nothing behind
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def place(written: list[Path], targets: list[Path], overwrite: bool) -> None:
    """Give the finished temporary files ``written`` their names ``targets``: all of them or,
    on a failure (``OSError``) or an interruption (Ctrl-C, SIGTERM), none, with every file that
    was there before left as it was.

    With ``overwrite`` an existing output is first moved aside to a hidden name and deleted
    only once all are in place (put back on a failure or an interruption, unless another run
    has written that name meanwhile: then it stays under the hidden name, and the error says
    so); an output name held by a folder is an error. Without it, a name taken meanwhile fails
    (:func:`lib_tkg.outputs.publish`).
    """
    placed: list[Path] = []
    aside: list[tuple[str, Path]] = []
    try:
        for tmp, target in zip(written, targets, strict=True):
            if overwrite and os.path.lexists(target):
                if os.path.isdir(target) and not os.path.islink(target):
                    raise IsADirectoryError(f"{target} is a folder; not replacing it")
                old = outputs.partial_name(target, "old")
                os.replace(target, old)
                aside.append((old, target))
            placed.append(target)  # (before: an interruption inside publish is rolled back)
            outputs.publish(tmp, target)
    except BaseException as exc:  # (Ctrl-C too)
        if placed and not _ours(written[len(placed) - 1], placed[-1]):
            placed.pop()  # (publish refused it: another run's file, left alone)
        for target in placed:  # this job's own new files: all of its outputs or none
            with contextlib.suppress(OSError):
                target.unlink()
        kept = []
        for old, target in aside:
            try:
                outputs.publish(old, target)  # (never over a file another run wrote meanwhile)
            except OSError:
                kept.append(f"{target} is kept as {old}")
        if kept and isinstance(exc, OSError):
            raise OSError(f"{exc}; another run wrote meanwhile: {'; '.join(kept)}") from exc
        raise
    for old, _ in aside:
        with contextlib.suppress(OSError):
            os.remove(old)


def _ours(tmp: Path, target: Path) -> bool:
    """Whether :func:`lib_tkg.outputs.publish` gave ``tmp`` the name ``target``: the temporary
    file is gone (linked and removed, or renamed) or is that same file (linked only)."""
    if not os.path.lexists(target):
        return False
    try:
        return not os.path.lexists(tmp) or os.path.samefile(tmp, target)
    except OSError:
        return False


def key_file(job: KeyJob) -> JobResult:
    """Key ``job.source`` into ``job.outputs``; never raises (except KeyboardInterrupt).

    All outputs are first written to temporary files and then put in place together
    (:func:`place`): a failure to read, key or write leaves no half-written file and no
    existing output touched, with ``job.overwrite`` too. Without it an output name that is
    taken by then (another run writing to the same folder) fails the job, and the outputs it
    had already placed are removed again.
    """
    import numpy as np
    from PIL import Image

    from lib_tkg import keying

    try:
        image, frames, profile = read_image(job.source, job.options.get("max_pixels"))
        result = keying.key_quietly(image, **job.options)
        rgba = Image.fromarray(np.ascontiguousarray(result.rgba), "RGBA")
        files = [(rgba, job.rgba, {"icc_profile": profile})]
        if job.matte is not None:
            matte = Image.fromarray(np.ascontiguousarray(result.alpha), "L")
            files.append((matte, job.matte, {}))
        save_outputs(files, job.overwrite)
    except Exception as exc:  # any per-file failure: decode, OpenCV, memory, size limit
        message = f"error: cannot key {job.source}: {describe_error(exc)}"
        if job.debug:
            message += "\n" + "".join(traceback.format_exception(exc)).rstrip()
        return JobResult(False, (message,))
    notes = [f"warning: {job.source}: {note}" for note in result.notes]
    if frames > 1:
        notes.append(
            f"warning: {job.source}: only the first of its {frames} frames was keyed "
            "(tkg-chroma key-animation keys them all)"
        )
    return JobResult(True, tuple(notes), result.keyed)


def describe_error(exc: BaseException, drop: str = "") -> str:
    """One line: the exception's first line (less a leading ``drop``, such as the file name
    the caller shows anyway), with its type when the text alone is unclear; at most 200
    characters."""
    if isinstance(exc, MemoryError):
        return "out of memory"
    lines = str(exc).strip().splitlines()
    text = lines[0].strip().removeprefix(drop) if lines else ""
    if not text or not isinstance(exc, (OSError, ValueError, RuntimeError)):
        text = f"{type(exc).__name__}: {text}".rstrip(": ")
    return text if len(text) <= 200 else text[:197] + "..."
