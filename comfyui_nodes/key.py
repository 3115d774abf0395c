"""Keying a ComfyUI IMAGE batch with ``lib_tkg.keying``.

ComfyUI conventions (v0.8): an IMAGE is a float tensor (B, H, W, C) in 0..1, C = 3 (or 4 with
alpha); a MASK is (B, H, W) with 1 where the image is *transparent* (``LoadImage`` gives
``1 - alpha``, ``JoinImageWithAlpha`` puts back ``1 - mask``); ``SaveImage`` writes
``trunc(255 * value)`` per channel, so an (H, W, 4) image becomes an RGBA PNG.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from lib_tkg.colors import parse_color
from lib_tkg.keying import key_quietly
from lib_tkg.params import TITLE, ParamError

from . import inputs

log = logging.getLogger(__name__)

#: The keyer's own options that are not TkgParams fields, with their defaults from ``key``.
KEYER_DEFAULTS = {
    name: inspect.signature(key_quietly).parameters[name].default
    for name in ("clip_white", "refine", "denoise", "border")
}
_SWATCH = 8  # px, side of the key-colour swatch the settings are tried on


def settings(values: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """``(key colour or None for auto, keyword options of lib_tkg.keying.key)`` of the widgets.

    ``values`` holds the key node's widgets; ``None`` values (not known yet) take defaults.
    Raises ``ParamError`` (TkgParams text) for colour, tolerance and despill values.
    """
    color = values.get("color")
    word = "" if color is None else str(color).strip().lower()
    auto = color is None or word == inputs.AUTO
    names = (*inputs.KEY_FIELDS, *inputs.KEY_OPTIONAL_FIELDS)
    fields = {k: values.get(k) for k in names if k != "color"}
    if word != "custom":  # (custom_color is read only with custom)
        fields.pop("custom_color")
    checked = inputs.params({**fields, "color": None if auto else color}, auto=True)
    options = {k: values.get(k) for k in KEYER_DEFAULTS}
    options = {k: KEYER_DEFAULTS[k] if v is None else v for k, v in options.items()}
    options.update(
        tolerance=checked.tolerance, despill=checked.despill, keep_shadow=checked.keep_shadow
    )
    return (None if auto else checked.key_color), options


def check(values: Mapping[str, Any]) -> None:
    """Raise ``ParamError`` if the keyer would reject these settings (a grey key colour, ...).

    The keyer itself judges them, on a small swatch of the key colour, so its rules and error
    text apply unchanged; the message names the widget.
    """
    key_color, options = settings(values)
    swatch = np.empty((_SWATCH, _SWATCH, 3), np.uint8)
    swatch[:] = parse_color(key_color or "green")
    try:
        key_quietly(swatch, key_color, **options)
    except ValueError as e:
        name = "custom_color" if values.get("color") == "custom" else "color"
        where = f"'{name}' {key_color!r}" if str(e).startswith("key_color") else "the settings"
        raise ParamError(f"{TITLE}: {where} cannot be keyed: {e}") from None


@functools.cache
def _mask_table() -> np.ndarray:
    """MASK value for each alpha 0..255, float32: ``1 - alpha / 255``, nudged by a few ulps
    where needed so that ``JoinImageWithAlpha`` + ``SaveImage`` (``trunc(255 * (1 - mask))``)
    write exactly ``alpha`` again."""
    alpha = np.arange(256, dtype=np.float32)
    mask = np.float32(1) - alpha / np.float32(255)
    while True:
        low = np.trunc(np.float32(255) * (np.float32(1) - mask)) < alpha
        if not low.any():
            return mask
        mask[low] = np.nextafter(mask[low], np.float32(-1))


def to_uint8(image: np.ndarray) -> np.ndarray:
    """One IMAGE (H, W, C) in 0..1 as uint8, rounded."""
    return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)


def key_batch(
    images: torch.Tensor, key_color: str | None, options: Mapping[str, Any]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Key each image: (foreground IMAGE (B, H, W, 3), MASK (B, H, W), RGBA IMAGE (B, H, W, 4)).

    The foreground is the cut-out's straight colour (black where fully transparent); an image
    without the key colour comes back opaque (and is logged). A pixel the keyer left as it was
    (its 8-bit colour unchanged) keeps its exact input value, so an image without a screen
    comes out unchanged (the keyer works on 8 bits, rounded; *Save Image* truncates).
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[-1] not in (3, 4):
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"TKG chroma key: needs an IMAGE (batch, height, width, 3|4), got {got}")
    if images.shape[0] == 0 or images.shape[1] == 0 or images.shape[2] == 0:
        raise ValueError(f"TKG chroma key: the IMAGE is empty, shape {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(
            f"TKG chroma key: needs an IMAGE of floats in 0..1 (ComfyUI's), got {images.dtype}"
        )
    if not bool(torch.isfinite(images).all()):
        raise ValueError("TKG chroma key: the IMAGE holds NaN or infinite values")
    table = _mask_table()
    out = np.empty((*images.shape[:3], 4), np.float32)
    alpha = np.empty(images.shape[:3], np.uint8)
    for i, image in enumerate(images):
        given = image.detach().cpu().float().numpy()
        source = to_uint8(given)
        rgba = _key_one(i, source, key_color, options)
        kept = (rgba[..., :3] == source[..., :3]).all(-1, keepdims=True)
        out[i, ..., :3] = np.where(kept, np.clip(given[..., :3], 0, 1), rgba[..., :3] / 255.0)
        out[i, ..., 3] = rgba[..., 3] / np.float32(255)
        alpha[i] = rgba[..., 3]
    rgba_t = torch.from_numpy(out)
    return rgba_t[..., :3].contiguous(), torch.from_numpy(table[alpha]), rgba_t


def _key_one(index: int, image: np.ndarray, key_color: str | None, options: Mapping) -> Any:
    result = key_quietly(image, key_color, **options)
    for note in result.notes:
        log.warning("TKG chroma key: image %d: %s", index, note)
    return result.rgba
