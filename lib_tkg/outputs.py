"""Names of the files this project writes beside (or instead of next to) a user's image.

One rule, shared by ``tkg-chroma key`` and the WebUI's saving (host-free, no heavy imports):

- An output is ``<stem><suffix>.png``: the input's stem plus a suffix (``-rgba`` for the cut-out,
  ``-matte`` for the matte by default).
- Suffixes are checked by :func:`check_suffixes`: not empty, no path separator or character a
  file name cannot hold, and the cut-out and matte suffixes differ (case-insensitively) and
  neither ends with the other, so two outputs of one image never share a name.
- When several inputs of one run share a stem (case-insensitively: ``x/a.png`` and
  ``y/A.jpg``), or an input's natural output name would be the path of another input, every
  one of those inputs gets ``<stem>-<hash><suffix>.png``, ``<hash>`` being the first hex digits
  (6, more if needed) of the SHA-1 of the input's absolute path: the names are unique, and
  the same on every rerun with the same inputs, whatever their order.
- Files whose stem ends with an output suffix are this tool's outputs: folder scans never take
  them as inputs (:func:`is_output_name`), so reruns never key ``-rgba`` files again.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

DEFAULT_RGBA_SUFFIX = "-rgba"
DEFAULT_MATTE_SUFFIX = "-matte"
OUTPUT_EXTENSION = ".png"
#: The ending of ``key-animation``'s folders of frames (``<stem>-rgba-frames``).
FRAMES_ENDING = "-frames"
#: Characters a suffix may not hold: path separators and what Windows file names cannot hold.
FORBIDDEN_CHARS = '/\\:*?"<>|'
MAX_SUFFIX_LENGTH = 40


def png_compress_level(width: int, height: int) -> int:
    """The zlib level (0..9) this project writes a ``width`` x ``height`` PNG with: 4, which
    writes a 768 px cut-out in less than half the time of Pillow's default 6 for files under
    1 % larger; 1 above 16 MP, where a 100 MP cut-out is then written in seconds instead of
    a minute."""
    return 1 if width * height > 16_000_000 else 4


class SuffixError(ValueError):
    """An output suffix setting was rejected; the message says which and what is accepted."""


def check_suffix(value: str, what: str) -> str:
    """``value`` stripped, if it is a usable file name suffix; else :class:`SuffixError`.

    Accepted: 1 to ``MAX_SUFFIX_LENGTH`` characters, none of ``FORBIDDEN_CHARS`` nor control
    characters, at least one letter: a suffix of digits, dots, dashes or spaces reads as part
    of the original's name (the cut-out of ``00131-11.png`` as ``00131-115.png``, which is
    the name of seed 115's picture, or ``-1``, the number a taken name gets).
    """
    text = str(value if value is not None else "").strip()
    accepted = (
        f"1 to {MAX_SUFFIX_LENGTH} characters with a letter, without path separators or any "
        f"of {FORBIDDEN_CHARS}, e.g. -rgba"
    )
    if not text:
        raise SuffixError(f"the {what} suffix must not be empty (got {value!r}); use {accepted}")
    if not any(c.isalpha() for c in text):
        raise SuffixError(
            f"the {what} suffix must hold a letter (got {value!r}: it would read as part of "
            f"the original's name or number); use {accepted}"
        )
    if len(text) > MAX_SUFFIX_LENGTH:
        raise SuffixError(f"the {what} suffix {text!r} is too long; use {accepted}")
    bad = sorted({c for c in text if c in FORBIDDEN_CHARS or ord(c) < 32})
    if bad:
        raise SuffixError(f"the {what} suffix {text!r} holds {''.join(bad)!r}; use {accepted}")
    return text


def check_suffixes(rgba: str, matte: str) -> tuple[str, str]:
    """Checked ``(cut-out suffix, matte suffix)``; :class:`SuffixError` if either is unusable
    or if they could give two outputs of one image the same name (equal, case-insensitively, or
    one ending with the other, which would also make one look like an output of the other)."""
    rgba = check_suffix(rgba, "cut-out")
    matte = check_suffix(matte, "matte")
    a, b = rgba.lower(), matte.lower()
    if a.endswith(b) or b.endswith(a):
        raise SuffixError(
            f"the cut-out suffix {rgba!r} and the matte suffix {matte!r} would give outputs "
            "names that collide: use two different suffixes, neither ending with the other"
        )
    return rgba, matte


def output_name(stem: str, suffix: str) -> str:
    """The file name of the ``suffix`` output of an image called ``stem``."""
    return f"{stem}{suffix}{OUTPUT_EXTENSION}"


#: The longest file name (bytes) most file systems take (ext4, APFS, NTFS in UTF-16 units).
NAME_MAX = 255


def partial_name(path: str | os.PathLike, kind: str = "part") -> str:
    """A hidden name to write an output under beside ``path`` before it is put in place,
    ``.<name>.<pid>-<random>.<kind>`` (folder scans skip hidden names; the random part keeps
    runs apart whose process ids are equal, in containers sharing a folder); where that is
    longer than :data:`NAME_MAX` bytes, ``.tkg-<hash of name>.<pid>-<random>.<kind>``, so that
    a name that fits is never refused for its temporary one."""
    folder, name = os.path.split(os.fspath(path))
    unique = f"{os.getpid()}-{secrets.token_hex(4)}"
    tmp = f".{name}.{unique}.{kind}"
    if len(os.fsencode(tmp)) > NAME_MAX:
        tmp = f"{_short_start(name)}.{unique}.{kind}"
    return os.path.join(folder, tmp)


def _short_start(name: str) -> str:
    """The start of :func:`partial_name`'s names for an output name too long to repeat."""
    return f".tkg-{hashlib.sha1(os.fsencode(name)).hexdigest()[:16]}"


def remove_partials(paths: Iterable[str | os.PathLike], pids: Iterable[int]) -> None:
    """Remove the temporary files (:func:`partial_name`) that the processes ``pids`` (stopped,
    or dead) left beside ``paths``; those of other processes are left alone."""
    pids = list(pids)
    for path in paths:
        folder, name = os.path.split(os.fspath(path))
        for pid in pids:
            for start in (f".{glob.escape(name)}", _short_start(name)):
                pattern = os.path.join(glob.escape(folder), f"{start}.{pid}-*.part")
                for leftover in glob.glob(pattern):
                    with contextlib.suppress(OSError):
                        os.remove(leftover)


def name_problem(paths: Iterable[str | os.PathLike]) -> str | None:
    """Why no file can be named as the first of ``paths`` that cannot (its name is over
    :data:`NAME_MAX` bytes), or None."""
    for path in paths:
        name = os.path.basename(os.fspath(path))
        if len(os.fsencode(name)) > NAME_MAX:
            return (
                f"the output name {name[:40]}...{name[-20:]} is longer than file systems allow "
                f"({len(os.fsencode(name))} bytes, at most {NAME_MAX}); give the input a "
                "shorter name"
            )
    return None


def is_output_name(path: str | os.PathLike, suffixes: Iterable[str]) -> bool:
    """Whether ``path`` is named like one of this tool's outputs (stem ends with a suffix)."""
    p = Path(path)
    if p.suffix.lower() != OUTPUT_EXTENSION:
        return False
    stem = p.stem.lower()
    return any(stem.endswith(s.lower()) for s in suffixes)


def _key(path: Path) -> str:
    """A comparison key for paths: links resolved (an output reached through a linked folder or
    a link named as an input is the file it points to), normalised, case-folded (safe on any
    file system)."""
    return os.path.normcase(os.path.realpath(path)).lower()


def _path_hash(path: Path) -> str:
    return hashlib.sha1(os.path.abspath(path).encode("utf-8", "surrogatepass")).hexdigest()


def output_stems(
    inputs: Sequence[Path],
    outdir: Path,
    suffixes: Sequence[str],
    endings: Sequence[str] = (OUTPUT_EXTENSION,),
) -> list[str]:
    """The output stem of each input (see the module docstring for the rule).

    ``inputs`` must be distinct files. For each input ``i``, suffix ``s`` and ending ``e``
    (``.png`` for images; ``key-animation`` has one per format), the output is
    ``outdir / f"{stems[i]}{s}{e}"``; no two are equal (case-insensitively) and none is the
    path of an input, links resolved.
    """
    input_keys = {_key(p) for p in inputs}
    groups: dict[str, list[int]] = {}
    for i, path in enumerate(inputs):
        groups.setdefault(path.stem.lower(), []).append(i)
    natural_taken = set(groups)

    def clashes_with_input(stem: str) -> bool:
        return any(_key(outdir / f"{stem}{s}{e}") in input_keys for s in suffixes for e in endings)

    stems = [p.stem for p in inputs]
    hashed = [i for i, s in enumerate(stems) if len(groups[s.lower()]) > 1 or clashes_with_input(s)]
    taken = {s.lower() for i, s in enumerate(stems) if i not in hashed}
    for i in hashed:
        digest = _path_hash(inputs[i])
        for length in range(6, len(digest) + 1):
            stem = f"{stems[i]}-{digest[:length]}"
            low = stem.lower()
            if low not in taken and low not in natural_taken and not clashes_with_input(stem):
                break
        taken.add(low)
        stems[i] = stem
    return stems


def exists_error(path: str | os.PathLike) -> FileExistsError:
    """The error for an output whose name is taken: this project never replaces a file."""
    return FileExistsError(f"{path} already exists; not overwriting it")


def publish(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Give the finished ``tmp`` (a file, or a folder) its name ``path``, never replacing
    anything: :func:`exists_error` if ``path`` exists, even when another process creates it
    in the meantime (a hard link is atomic and fails rather than replace)."""
    if not os.path.isdir(tmp):
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise exists_error(path) from None
        except (OSError, AttributeError):  # a file system without hard links: rename below
            pass
        else:
            os.remove(tmp)
            return
    if os.path.lexists(path):
        raise exists_error(path)
    os.rename(tmp, path)  # a folder: fails on an existing non-empty one


def skip_note(
    source: str | os.PathLike, existing: Sequence[str | os.PathLike], overwrite: bool = True
) -> str:
    """Why ``source`` is skipped: its outputs ``existing`` are there already, which may be an
    earlier run's or another input's of the same name; ``overwrite``: the command has
    ``--overwrite``."""
    names = ", ".join(str(p) for p in existing)
    verb = "exists" if len(existing) == 1 else "exist"
    fix = "--overwrite replaces, -o writes elsewhere" if overwrite else "-o writes elsewhere"
    return f"skipping {source}: {names} {verb} (an earlier run's, or another input's: {fix})"


def folder_arg(text: str) -> Path:
    """The ``-o`` folder of the command line tools: any non-blank path (an empty ``-o ''``
    would otherwise mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the folder name is empty (give a folder; it is created if missing)"
        )
    return Path(text)


def check_output_folder(path: Path) -> None:
    """``NotADirectoryError`` if ``path`` exists and is not a folder."""
    if os.path.exists(path) and not os.path.isdir(path):  # (False where it cannot be looked up)
        raise NotADirectoryError(f"output folder {path} is a file; give a folder")


def make_output_folder(path: Path) -> Path | None:
    """Create the output folder ``path`` (and its parents) and check that files can be
    written into it; ``OSError`` with a one-line message naming the folder otherwise (a
    file of that name, no permission, a read-only or full file system). Returns the first
    folder it created (the one nearest the root; for :func:`remove_made_folders`), None when
    ``path`` was there."""
    check_output_folder(path)
    made = None
    for folder in [path, *path.parents]:
        if os.path.lexists(folder):
            break
        made = folder
    try:
        path.mkdir(parents=True, exist_ok=True)
        # a hidden file, as the outputs' temporary ones, removed at once: a folder that
        # exists but cannot be written fails here, once, and not once per image
        with tempfile.NamedTemporaryFile(dir=path, prefix=".tkg-chroma-", suffix=".part"):
            pass
    except BaseException as exc:  # (Ctrl-C too): the folders made here go again
        remove_made_folders(path, made)
        if isinstance(exc, OSError):
            why = exc.strerror or exc
            raise OSError(f"cannot write into output folder {path}: {why}") from None
        raise
    return made


def remove_made_folders(path: Path, made: Path | None) -> None:
    """Remove ``path`` and its parents up to ``made`` (:func:`make_output_folder`'s answer)
    where they are empty: a run that wrote nothing (a failure, Ctrl-C) leaves no folder it
    made behind, and never removes one it did not make."""
    if made is None:
        return
    for folder in [path, *path.parents]:
        try:
            os.rmdir(folder)
        except OSError:
            return
        if folder == made:
            return
