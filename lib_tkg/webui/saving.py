"""Save cut-outs and mattes beside their original through the host's ``images.save_image``.

The host saves ``pp.image`` itself right after ``postprocess_image_after_composite``; when the
saved image *is* one we keyed (``on_image_saved``), its outputs are saved beside that file as
``<original stem><suffix>.png`` (``forced_filename``, ``save_to_dirs=False``). Saving them at
keying time gave them the next file number before the original got one. Outputs whose original
was not saved as that object are saved numbered in ``postprocess`` (``save_unsaved``).

``save_image`` gets a copy of each output, never the gallery image: Forge's stealth infotext
(``modules/stealth_infotext.py``, default "Alpha") rewrites the alpha channel of the image
object it is given, and A1111 sets ``already_saved_as`` on it.

Every image we hand to the host's saver (these copies, and the Extras tab's outputs, which the
host saves itself) is marked (:func:`mark_ours`); :func:`before_image_saved`, which the host
calls after the stealth infotext has run, gives the saver the marked pixels again (alpha 255
otherwise: a fully opaque cut-out on disk) and a ``.png`` name that is not taken (no file is
ever replaced: with numbers off, a run in another format would overwrite an earlier run's
cut-out of the same name). After that callback the host cuts the whole path (folder included,
extension not) to the file system's name limit less 4 (``f_namemax - max(4, len(ext))``): a
long prompt in the name pattern, or a long output folder, cut ``-rgba`` off a cut-out's name,
which then replaced its original. So the name chosen is one the host keeps as it is: a longer
stem is shortened before the suffix (:func:`unused_png_name`).
"""

from __future__ import annotations

import contextlib
import os
import weakref
from typing import Any

from PIL import Image

from lib_tkg.webui import log, log_once
from lib_tkg.webui.state import PendingSave, RunState, get_state

# Suffix of a host save that may pass the very object we keyed without being "the" original:
# on A1111 1.6/1.7 (keying in postprocess_image) the image before colour correction is pp.image
# itself when there is no inpaint overlay.
_NOT_THE_ORIGINAL = ("-before-color-correction",)
FALLBACK_PNG_KEY = "tkg-chroma-parameters"  # PNG text key when "parameters" cannot be written
_PNG_NAME_LIMIT = 255  # NAME_MAX where os.statvfs is missing (the host truncates names to it)
_EXT_ROOM = 4  # what the host's cut leaves for the extension: max(4, len(".png"))
#: Forge's setting "Stealth infotext mode" ("Alpha", its default, "RGB" or "None"); A1111 has none.
_STEALTH_OPTION = "stealth_pnginfo_option"
# id(image) -> (weak reference to the PIL image, its pixels when marked, the name's suffix to
# keep). PIL images are not hashable, hence ids; the weak reference drops the entry when the
# image goes away.
_MARKED: dict[int, tuple[weakref.ref, Image.Image, str]] = {}


def mark_ours(image: Image.Image, keep: str = "") -> Image.Image:
    """Mark ``image`` (returned) as one of ours for :func:`before_image_saved`: the host's saver
    will write these very pixels as PNG under an unused name (a cut-out, a matte, or an image
    the Extras section left unkeyed, which must not replace an input either). ``keep``: the
    end of the name (``-rgba``) that a too long name is not shortened into."""
    key = id(image)
    ref = weakref.ref(image, lambda _ref: _MARKED.pop(key, None))
    _MARKED[key] = (ref, image.copy(), keep)
    return image


def unused_png_name(filename: str, keep: str = "") -> str:
    """``<stem>.png``, or ``<stem>-1.png``, ``-2``, ... if that exists (never replace a file,
    nor a link, even a broken one: the host's saver would replace the link itself).

    Each candidate is the name the host will write: a path (without ``.png``) longer than
    the host keeps (:func:`_path_limit`) is shortened in the stem, before ``keep`` (the end
    of the stem to keep, such as ``-rgba``) and the number. Where the folder's path leaves
    no room for one character of the stem and that end, the name is a short one of its own
    (``0``, ``1``, ... ``z``, ``10``, ...); ``OSError`` if the folder leaves no room at all.
    """
    folder = os.path.dirname(filename)
    stem = os.path.splitext(os.path.basename(filename))[0]
    tail = keep if keep and stem.endswith(keep) else ""
    base = stem[: len(stem) - len(tail)]
    room = _path_limit(folder) - len(os.path.join(folder, ""))  # for the name, less ".png"
    n = 0
    while True:
        end = tail + (f"-{n}" if n else "")
        if len(end) < room:
            name = base[: room - len(end)] + end
        else:  # a folder too deep for the end: any free name the host keeps whole
            name = _base36(n)
            if len(name) > room:
                raise OSError(
                    f"the folder {folder} leaves no room for a file name the WebUI keeps "
                    f"(it cuts a saved file's whole path to {_path_limit(folder)} characters)"
                )
        candidate = os.path.join(folder, name + ".png")
        if not os.path.lexists(candidate):
            return candidate
        n += 1


def _base36(n: int) -> str:
    """``n`` >= 0 in digits and lower-case letters: the shortest names first."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = digits[n % 36]
    while n >= 36:
        n //= 36
        text = digits[n % 36] + text
    return text


def before_image_saved(params: Any) -> None:
    """``script_callbacks.on_before_image_saved``: an image marked by :func:`mark_ours` is
    saved as PNG, under an unused name, with the pixels it was marked with; the image object
    itself (shown in the gallery) gets them back too. Other images are left alone."""
    image = getattr(params, "image", None)
    entry = _MARKED.get(id(image))
    if entry is None or entry[0]() is not image:
        return
    pristine, keep = entry[1], entry[2]
    wanted = os.path.splitext(params.filename)[0] + ".png"
    params.filename = unused_png_name(params.filename, keep)
    if len(params.filename) < len(wanted):
        log(
            f"saving {params.filename} for {os.path.basename(wanted)}: the name is shortened "
            "to the length the WebUI keeps"
        )
    elif params.filename != wanted:
        log(f"saving {os.path.basename(params.filename)}: {wanted} exists and is kept")
    if image.mode != pristine.mode or image.tobytes() != pristine.tobytes():
        # Forge's stealth infotext: alpha 255 (an RGB image turned RGBA) plus data bits
        image.paste(pristine if image.mode == pristine.mode else pristine.convert(image.mode))
        params.image = pristine.copy()


def stealth_infotext(opts: Any) -> bool:
    """Whether the host (``opts``: its ``shared.opts``) writes the infotext into the pixels of
    the PNGs it saves: Forge's "Stealth infotext", "Alpha" by default. It fails the save of a
    one-channel image (the Extras tab gives the matte as RGB then)."""
    if _STEALTH_OPTION not in (getattr(opts, "data_labels", None) or {}):
        return False
    mode = (getattr(opts, "data", None) or {}).get(_STEALTH_OPTION, "Alpha")
    return bool(getattr(opts, "enable_pnginfo", True)) and mode not in (None, "", "None")


def _name_limit(folder: str) -> int:
    try:
        return int(os.statvfs(folder or ".").f_namemax)
    except Exception:  # no statvfs (Windows), or the folder is gone
        return _PNG_NAME_LIMIT


def _path_limit(folder: str) -> int:
    """Length of a file path without its extension that the host's ``save_image`` keeps: it
    cuts the whole path to ``f_namemax`` less 4 (Windows: no cut; the usual 255 is assumed)."""
    return _name_limit(folder) - _EXT_ROOM


def save_output(
    images: Any,
    state: RunState,
    p: Any,
    entry: PendingSave,
    image: Image.Image,
    suffix: str,
    beside: str | None,
) -> None:
    """Save one output with the host's ``images.save_image``: as ``<stem of beside><suffix>.png``
    in the folder of ``beside`` (the saved original), or numbered in ``p.outpath_samples`` with
    ``suffix`` when ``beside`` is None. Never raises: a failed save is logged (console and a
    comment on the result) with the path and the reason, and never as saved."""

    def save(path: str, section: str, **kwargs: Any) -> Any:
        # a copy: save_image may change the object it is given (Forge's stealth infotext puts
        # alpha 255 and infotext bits into it; A1111 sets already_saved_as on it)
        return images.save_image(
            mark_ours(image.copy(), keep=suffix),
            path,
            "",
            entry.seed,
            entry.prompt,
            "png",  # JPEG/WEBP would drop the alpha channel
            info=entry.info or None,
            pnginfo_section_name=section,
            p=p,
            **kwargs,
        )

    state.saving = True
    target = "?"
    try:
        kwargs: dict[str, Any] = {"suffix": suffix}
        path = None
        if beside is not None:
            folder, name = os.path.split(beside)
            forced = os.path.splitext(name)[0] + suffix
            # forced_filename is used as is (no pattern, number or suffix; a name too long for
            # the host is shortened before the suffix by before_image_saved); save_to_dirs=False:
            # no second sub-folder below the original's folder
            path, kwargs = folder, {"forced_filename": forced, "save_to_dirs": False}
            target = os.path.join(folder, forced + ".png")
        if path is None:
            path = p.outpath_samples
            target = os.path.join(str(path), f"<next number>{suffix}.png")
        try:
            save(path, "parameters", **kwargs)
        except (ValueError, TypeError) as err:
            if not entry.info:
                raise
            # Forge's stealth infotext (Settings: "Alpha", the default, or "RGB") cannot write
            # into a one-channel matte, and "RGB" not into an RGBA cut-out: unpacking the pixel
            # raises ValueError ("RGB" on a matte: TypeError) before anything is written. It
            # only acts on PNG text "parameters": keep the infotext under another PNG text key
            # instead (without infotext the host writes "None"). Said only once this worked.
            save(path, FALLBACK_PNG_KEY, **kwargs)
            log_once(
                f"the WebUI could not write the infotext into a {suffix} image ({err!r}); "
                f"saving such images with the infotext under PNG text {FALLBACK_PNG_KEY!r}"
            )
    except Exception as err:
        state.note(
            p,
            f"could not save the {suffix} image as {target}: {type(err).__name__}: {err}; "
            "it is only in the gallery",
        )
    finally:
        state.saving = False


def on_image_saved(images: Any, params: Any) -> None:
    """``script_callbacks.on_image_saved`` (bind ``images``, the host's ``modules.images``): the
    host saved ``params.image`` to ``params.filename``; if it is a picture we keyed, save its
    outputs beside it. Never raises."""
    try:
        p = getattr(params, "p", None)
        state = get_state(p) if p is not None else None
        if state is None or state.saving or not state.pending:
            return
        image = getattr(params, "image", None)
        entry = next((e for e in state.pending if e.source is image and not e.done), None)
        if entry is None:
            return
        # Forge records the name it really used ("-1" added when the file existed) in
        # already_saved_as; A1111 sets it to params.filename.
        filename = getattr(image, "already_saved_as", None)
        if not isinstance(filename, str) or not filename:
            filename = getattr(params, "filename", None)
        if not isinstance(filename, str) or not filename:
            return
        stem = os.path.splitext(os.path.basename(filename))[0]
        if stem.endswith(_NOT_THE_ORIGINAL):
            return
        entry.done = True
        for output, suffix in entry.outputs:
            save_output(images, state, p, entry, output, suffix, beside=filename)
    except Exception as err:  # a save callback must never raise
        with contextlib.suppress(Exception):
            log(f"could not save the cut-out beside its original ({err!r})")


def save_unsaved(images: Any, state: RunState, p: Any) -> None:
    """Save, numbered, the outputs whose original the host did not save as the object we keyed
    (a later script replaced ``pp.image``, a before_image_saved callback swapped it, ...)."""
    for entry in state.pending:
        if not entry.done:
            entry.done = True
            for image, suffix in entry.outputs:
                save_output(images, state, p, entry, image, suffix, beside=None)
    state.pending.clear()
