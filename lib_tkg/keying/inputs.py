"""Input images and option checks of the keyer: arrays from PIL/numpy, validated options."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from lib_tkg.colors import parse_color

#: Default pixel limit (width x height) of one image; larger images raise a clear ValueError.
DEFAULT_MAX_PIXELS = 400_000_000


def to_arrays(image: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``(rgb uint8 (H, W, 3), alpha uint8 (H, W) or None)`` without modifying input.

    A PIL image is first made :func:`keyable` (16-bit and float greyscale scaled, as files
    are read everywhere else; a plain conversion clips them to white or black)."""
    if hasattr(image, "mode") and hasattr(image, "convert") and hasattr(image, "size"):
        image = keyable(image)
        if isinstance(image, np.ndarray):
            return to_arrays(image)
        mode = image.mode
        palette = getattr(getattr(image, "palette", None), "mode", None)
        has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
            mode == "P" and ("transparency" in getattr(image, "info", {}) or palette == "RGBA")
        )
        if has_alpha:
            arr = np.asarray(image.convert("RGBA"))
            return np.ascontiguousarray(arr[..., :3]), np.ascontiguousarray(arr[..., 3])
        return np.asarray(image.convert("RGB")), None
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a PIL image or a numpy uint8 array, not {type(image)!r}")
    if image.dtype != np.uint8:
        raise ValueError(f"image array must have dtype uint8, got {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2), None
    if image.ndim == 3 and image.shape[2] in (1, 2, 3, 4):
        c = image.shape[2]
        if c == 1:
            return np.repeat(image, 3, axis=2), None
        if c == 2:  # grey + alpha
            return np.repeat(image[..., :1], 3, axis=2), np.ascontiguousarray(image[..., 1])
        if c == 3:
            return np.ascontiguousarray(image), None
        return np.ascontiguousarray(image[..., :3]), np.ascontiguousarray(image[..., 3])
    raise ValueError(
        f"image array must have shape (H, W), (H, W, 1), (H, W, 2), (H, W, 3) or (H, W, 4), "
        f"got {image.shape}"
    )


def upright(image: Any) -> Any:
    """A decoded PIL ``image`` as viewers show it: its EXIF orientation applied (Pillow's
    ``ImageOps.exif_transpose``). A TIFF is returned as loaded: Pillow's TIFF reader applies
    the orientation itself, and Pillow 9.5 (the WebUIs') applied it a second time in
    ``exif_transpose`` (a TIFF of orientation 6 or 8 came out upside down)."""
    from PIL import ImageOps

    if getattr(image, "format", None) == "TIFF":
        return image
    return ImageOps.exif_transpose(image) or image


#: The largest value of a float greyscale image read as 0..1 (bicubic resampling overshoots 1
#: by a few per cent; a 0..255 image that dark is black anyway).
_FLOAT_ONE = 1.25
#: Pillow modes of 16-bit greyscale (0..65535): "I" is how older Pillow opens 16-bit PNGs.
_GREY16_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")


def keyable(image: Any) -> Any:
    """A decoded, loaded PIL image as the keyer takes it: a PIL image or a uint8 array.

    16-bit greyscale (Pillow modes ``I;16*`` and ``I``) is scaled from 0..65535 to 0..255,
    however dark the image; 32-bit float greyscale (``F``) is taken as 0..1 when no value is
    above :data:`_FLOAT_ONE` (a resampled 0..1 image overshoots 1 a little), else as 0..255 (a
    plain conversion would clip both to white); CMYK, YCbCr, LAB
    and HSV images are converted to RGB (RGBA if they have alpha); RGB comes back as an array
    (one copy of the pixels, not a second image as well: huge images).
    """
    if image.mode in _GREY16_MODES or image.mode == "F":
        arr = np.nan_to_num(np.asarray(image, dtype=np.float64))
        if image.mode != "F":
            arr = arr * (255.0 / 65535.0)
        elif arr.size and arr.max() <= _FLOAT_ONE:  # a float image in 0..1
            arr = arr * 255.0
        return np.clip(arr, 0, 255).round().astype(np.uint8)
    if image.mode == "La":  # (premultiplied: Pillow converts it only to LA)
        image = image.convert("LA")
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "PA"):
        alpha = any(band in ("A", "a") for band in image.getbands())  # (RGBa too)
        return image.convert("RGBA" if alpha else "RGB")
    if image.mode == "RGB" and "transparency" in image.info:  # (a colour key: tRNS)
        return image.convert("RGBA")
    if image.mode == "RGB":  # one copy of the pixels, not two (huge images)
        return np.asarray(image)
    return image


def rgb_profile(image: Any) -> bytes | None:
    """The ICC colour profile embedded in a PIL ``image`` if it describes RGB colours (a phone
    photo's Display P3, Adobe RGB), else ``None``: a grey or CMYK one does not fit an RGBA
    cut-out. The keyer works on the stored values, so the cut-out keeps the input's colours
    only if it carries the same profile."""
    icc = getattr(image, "info", {}).get("icc_profile")
    return icc if isinstance(icc, bytes) and icc[16:20] == b"RGB " else None


def check_size(shape: tuple[int, ...], max_pixels: Any) -> None:
    """Reject empty images and images over ``max_pixels`` (a positive int) with a clear message."""
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)):
        raise ValueError(f"max_pixels must be a positive integer, got {max_pixels!r}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be a positive integer, got {max_pixels!r}")
    h, w = shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"image is empty (shape {tuple(shape)})")
    if h * w > max_pixels:
        raise ValueError(
            f"image is {w}x{h} = {_pixels(h * w)}, over the keyer's limit of "
            f"{_pixels(max_pixels)}; pass a larger max_pixels (CLI: --max-pixels) or "
            "downscale the image"
        )


def _pixels(n: int) -> str:
    """A pixel count for messages: in megapixels from 0.1 MP up, else as a plain count."""
    return f"{n / 1e6:.1f} MP" if n >= 100_000 else f"{n:,} pixels"


def check_unit(name: str, value: Any, hi: float = 1.0, open_lo: bool = False) -> float:
    """A number in [0, ``hi``] (in (0, ``hi``] with ``open_lo``); bools and NaN rejected."""
    span = f"{'(' if open_lo else '['}0, {hi:g}]"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in {span}, got {value!r}")
    v = float(value)
    if not ((v > 0.0 if open_lo else v >= 0.0) and v <= hi):  # also rejects NaN
        raise ValueError(f"{name} must be in {span}, got {value!r}")
    return v


def check_flag(name: str, value: Any) -> bool:
    """True or False (numpy bools too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_exact_color(exact: Any, key_color: Any) -> bool:
    """``exact_color`` (True or False); True needs a ``key_color`` to key exactly."""
    if check_flag("exact_color", exact) and key_color is None:
        raise ValueError(
            "exact_color needs a key_color: with key_color None (auto) the colour is found on "
            "the image border"
        )
    return bool(exact)


def check_border(border: Any) -> float:
    """Border band width, a fraction of the short side in (0, 0.5]."""
    return check_unit("border", border, hi=0.5, open_lo=True)


def check_clips(tolerance: Any, clip_white: Any) -> tuple[float, float]:
    """Clip-black and clip-white, each in [0, 1], their sum below 1."""
    tol = check_unit("tolerance", tolerance)
    cw = check_unit("clip_white", clip_white)
    if tol + cw >= 1.0:
        raise ValueError(
            f"tolerance + clip_white must be below 1 (got {tol} + {cw}); "
            "each is a fraction of the 0..1 alpha range"
        )
    return tol, cw


def auto_is_none(key_color: Any) -> Any:
    """``None`` for ``"auto"`` (any case: the CLI's, the HTTP API's and ComfyUI's word for
    it), else ``key_color`` as it is."""
    if isinstance(key_color, str) and key_color.strip().lower() == "auto":
        return None
    return key_color


def parse_key(name: str, key_color: Any) -> tuple[int, int, int]:
    """An RGB colour from any form :func:`lib_tkg.colors.parse_color` takes (or an array of
    three integers 0..255, or one string: values that are not integers are refused, not cut)."""
    if isinstance(key_color, np.ndarray):
        key_color = key_color.tolist()
    try:
        return parse_color(key_color)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def check_subject_mask(mask: Any, shape: tuple[int, int]) -> np.ndarray | None:
    """``None``, or a float32 (H, W) map in 0..1 (any size: it is resized to the image).

    Float arrays are taken as 0..1, integer arrays and 'L' images as 0..255.
    """
    if mask is None:
        return None
    if hasattr(mask, "mode") and hasattr(mask, "convert"):
        mask = np.asarray(mask.convert("L"), np.float32) / 255.0
    m = np.asarray(mask)
    if m.ndim != 2 or m.size == 0 or not np.issubdtype(m.dtype, np.number):
        raise ValueError(
            f"subject_mask must be a 2-D array of numbers in [0, 1] (or an 'L' image), got "
            f"shape {m.shape} dtype {m.dtype}"
        )
    integer = np.issubdtype(m.dtype, np.integer)
    m = m.astype(np.float32) / (255.0 if integer else 1.0)
    if not np.isfinite(m).all() or m.min() < 0.0 or m.max() > 1.0:
        raise ValueError("subject_mask values must be finite and in [0, 1]")
    if m.shape != shape:
        m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return m
