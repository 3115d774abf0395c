"""The input files of ``tkg-chroma key`` and ``key-animation``: folders expanded into images,
this tool's own outputs, animations and other files skipped (with notes), each file once."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from lib_tkg import outputs

#: File extensions picked up when a folder is given to ``key``.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
#: Skipped by folder scans (``key-animation`` keys them), keyed on their first frame if named.
ANIMATION_EXTENSIONS = (".gif", ".apng")
RGBA_SUFFIX = outputs.DEFAULT_RGBA_SUFFIX
MATTE_SUFFIX = outputs.DEFAULT_MATTE_SUFFIX


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
    not_files: list[str] = []  # named like images: broken links, folders, pipes
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
                not_files.append(f.name)
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
            f"skipped {sum(other.values())} file(s) that are not images keyed here ({kinds}); "
            f"accepted: {', '.join(IMAGE_EXTENSIONS)}"
        )
    if not_files:
        names = ", ".join(sorted(not_files)[:5]) + (", ..." if len(not_files) > 5 else "")
        what = (
            "entry named like an image that is not a file (a broken link, folder or pipe)"
            if len(not_files) == 1
            else "entries named like images that are not files (broken links, folders or pipes)"
        )
        notes.append(f"skipped {len(not_files)} {what}: {names}")
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
        elif len(same) > 1:
            notes.append(f"{unique[-1]}: named {len(same)} times, keyed once")
    return unique, errors, notes
