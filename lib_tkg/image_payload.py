"""Images sent as text (the API's ``image`` of the key route and ``mask_image`` argument): base64,
bare or as a ``data:<type>;base64,`` URL, of one of :data:`FORMATS`; one reading for both."""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image

#: Pillow formats an image sent as text may have.
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
#: The same, for messages.
FORMAT_NAMES = "PNG, JPEG, WebP, BMP, TIFF or GIF"


def decode_base64(text: str) -> bytes:
    """The bytes of a base64 text or ``data:`` URL (scheme and ``;base64`` in any case, line
    breaks and spaces anywhere, as ``base64`` wraps its output). ``ValueError`` with the
    reason for anything else."""
    text = text.strip()
    if text[:5].lower() == "data:":
        header, sep, text = text.partition(",")
        if not sep or not header.lower().endswith(";base64"):
            raise ValueError("a data: URL must be 'data:<type>;base64,<data>'")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None


def open_image(data: bytes) -> Image.Image:
    """Pillow's lazy image of ``data`` if it is one of :data:`FORMATS` (pixels not decoded yet:
    the caller checks the size first); Pillow's errors otherwise (``UnidentifiedImageError``,
    ``DecompressionBombError``, ``OSError``)."""
    return Image.open(io.BytesIO(data), formats=FORMATS)
