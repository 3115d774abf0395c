"""modules/images.py of v1.10.1: ``save_image`` with the host's signature (line 624); it records
every call in ``saved`` and writes the file (``NNNNN-seed<suffix>.<extension>``)."""

from __future__ import annotations

import os
from typing import Any

from PIL import Image

saved: list[dict[str, Any]] = []


def image_grid(
    imgs: list[Image.Image], batch_size: int = 1, rows: int | None = None
) -> Image.Image:
    w, h = imgs[0].size
    grid = Image.new("RGB", (w * len(imgs), h))
    for i, img in enumerate(imgs):
        grid.paste(img.convert("RGB"), (i * w, 0))
    return grid


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
    os.makedirs(path, exist_ok=True)
    number = len([n for n in os.listdir(path) if n[:5].isdigit()])
    fullfn = os.path.join(path, f"{number:05}-{seed}{suffix}.{extension}")
    image.save(fullfn)
    saved.append(
        {
            "image": image,
            "path": path,
            "basename": basename,
            "seed": seed,
            "prompt": prompt,
            "extension": extension,
            "info": info,
            "p": p,
            "suffix": suffix,
            "fullfn": fullfn,
        }
    )
    return fullfn, None
