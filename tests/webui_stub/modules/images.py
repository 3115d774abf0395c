"""modules/images.py of v1.10.1, reduced: ``image_grid`` and ``save_image`` (line 624).

``save_image`` follows the host's steps: ``save_to_dirs`` (None: ``opts.save_to_dirs``, or
``grid_save_to_dirs`` for grids) adds a sub-folder named by ``opts.directories_filename_pattern``;
without ``forced_filename`` the name is ``NNNNN-<pattern><suffix>.<extension>`` (pattern
``opts.samples_filename_pattern``, else ``[seed]`` with sub-folders and ``[seed]-[prompt_spaces]``
without; the number from ``get_next_sequence_number``, line 543); with ``forced_filename`` it is
``<path>/<forced_filename>.<extension>`` and ``basename``, the pattern, the number and ``suffix``
are ignored (line 699). Then ``ImageSaveParams`` and ``before_image_saved_callback`` (which may
replace the image and the name), the name cut to the file system's limit, the file written (PNG
text chunks; JPEG/WEBP drop alpha; "Add number suffix" adds ``-1``... to an existing name,
"Replace" overwrites), ``image.already_saved_as`` set on the image, and last
``image_saved_callback`` with the same params (line 765). Only the filename pattern tags
``[seed]``, ``[prompt_spaces]``, ``[prompt_words]`` and ``[date]`` are known here. Every call is
recorded in ``saved`` (arguments, the image object passed, ``fullfn``) before
``image_saved_callback`` runs.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
from typing import Any

from PIL import Image, PngImagePlugin

from modules import script_callbacks, shared

saved: list[dict[str, Any]] = []


def image_grid(
    imgs: list[Image.Image], batch_size: int = 1, rows: int | None = None
) -> Image.Image:
    w, h = imgs[0].size
    grid = Image.new("RGB", (w * len(imgs), h))
    for i, img in enumerate(imgs):
        grid.paste(img.convert("RGB"), (i * w, 0))
    return grid


def _apply_pattern(pattern: str, seed: Any, prompt: Any) -> str:
    values = {
        "seed": "" if seed is None else str(seed),
        "prompt_spaces": str(prompt or ""),
        "prompt_words": " ".join(str(prompt or "").split()[:8]),
        "date": datetime.date.today().isoformat(),
    }
    text = re.sub(r"\[(\w+)\]", lambda m: values.get(m.group(1), m.group(0)), pattern)
    return "".join("_" if c in '/\\:*?"<>|' else c for c in text)


def get_next_sequence_number(path: str, basename: str) -> int:
    result = -1
    if basename != "":
        basename = f"{basename}-"
    for name in os.listdir(path):
        if name.startswith(basename):
            parts = os.path.splitext(name[len(basename) :])[0].split("-")
            with contextlib.suppress(ValueError):
                result = max(int(parts[0]), result)
    return result + 1


def _write(
    image: Image.Image, info: Any, filename: str, extension: str, pnginfo: dict, section: str
) -> None:
    """save_image_with_geninfo (line 565), without EXIF for JPEG/WEBP."""
    opts = shared.opts
    if extension.lower() == ".png":
        data = None
        if opts.enable_pnginfo:
            pnginfo[section] = info
            data = PngImagePlugin.PngInfo()
            for k, v in pnginfo.items():
                data.add_text(k, str(v))
        image.save(filename, format="PNG", pnginfo=data)
    else:
        if image.mode == "RGBA":
            image = image.convert("RGB")
        fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(extension.lower())
        image.save(filename, format=fmt)


def save_image(
    image,
    path,
    basename,
    seed=None,
    prompt=None,
    extension="png",
    info=None,
    short_filename=False,
    no_prompt=False,
    grid=False,
    pnginfo_section_name="parameters",
    p=None,
    existing_info=None,
    forced_filename=None,
    suffix="",
    save_to_dirs=None,
):
    opts = shared.opts
    given = {"path": path, "save_to_dirs": save_to_dirs}
    if save_to_dirs is None:
        save_to_dirs = (grid and opts.grid_save_to_dirs) or (
            not grid and opts.save_to_dirs and not no_prompt
        )
    if save_to_dirs:
        pattern = opts.directories_filename_pattern or "[prompt_words]"
        path = os.path.join(path, _apply_pattern(pattern, seed, prompt).strip(" \\/"))
    os.makedirs(path, exist_ok=True)

    if forced_filename is None:
        if short_filename or seed is None:
            decoration = ""
        elif opts.save_to_dirs:
            decoration = opts.samples_filename_pattern or "[seed]"
        else:
            decoration = opts.samples_filename_pattern or "[seed]-[prompt_spaces]"
        decoration = _apply_pattern(decoration, seed, prompt) + suffix
        add_number = opts.save_images_add_number or decoration == ""
        if decoration != "" and add_number:
            decoration = f"-{decoration}"
        if add_number:
            basecount = get_next_sequence_number(path, basename)
            fullfn = None
            for i in range(500):
                fn = f"{basecount + i:05}" if basename == "" else f"{basename}-{basecount + i:04}"
                fullfn = os.path.join(path, f"{fn}{decoration}.{extension}")
                if not os.path.exists(fullfn):
                    break
        else:
            fullfn = os.path.join(path, f"{decoration}.{extension}")
    else:
        fullfn = os.path.join(path, f"{forced_filename}.{extension}")

    pnginfo = existing_info or {}
    if info is not None:
        pnginfo[pnginfo_section_name] = info

    params = script_callbacks.ImageSaveParams(image, p, fullfn, pnginfo)
    script_callbacks.before_image_saved_callback(params)
    image = params.image
    info = params.pnginfo.get(pnginfo_section_name, None)

    without_extension, ext = os.path.splitext(params.filename)
    if hasattr(os, "statvfs"):
        max_name_len = os.statvfs(path).f_namemax
        without_extension = without_extension[: max_name_len - max(4, len(ext))]
        params.filename = without_extension + ext
    fullfn = params.filename
    target = fullfn
    if opts.save_images_replace_action != "Replace":
        n = 0
        while os.path.exists(target):
            n += 1
            target = f"{without_extension}-{n}{ext}"
    _write(image, info, target, ext, params.pnginfo, pnginfo_section_name)

    image.already_saved_as = fullfn
    saved.append(
        {
            "image": image,
            "path": given["path"],
            "basename": basename,
            "seed": seed,
            "prompt": prompt,
            "extension": extension,
            "info": info,
            "p": p,
            "suffix": suffix,
            "forced_filename": forced_filename,
            "save_to_dirs": given["save_to_dirs"],
            "grid": grid,
            "fullfn": fullfn,
            "written": target,
        }
    )
    script_callbacks.image_saved_callback(params)
    return fullfn, None
