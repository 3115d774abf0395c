"""Colour parsing and presets.

Colours are 8-bit sRGB triples ``(r, g, b)`` with each value in 0..255.
"""

from __future__ import annotations

PRESETS: dict[str, tuple[int, int, int]] = {
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "red": (255, 0, 0),
    "magenta": (255, 0, 255),
    "cyan": (0, 255, 255),
    "yellow": (255, 255, 0),
    "orange": (255, 128, 0),
    "purple": (128, 0, 255),
    "white": (255, 255, 255),
    "black": (0, 0, 0),
}

_ACCEPTED = (
    f"a preset name ({', '.join(PRESETS)}), '#RRGGBB', '#RGB' or 'r,g,b' with integers 0..255"
)


def parse_color(color: str | tuple[int, int, int] | list[int]) -> tuple[int, int, int]:
    """Parse a colour spec into an ``(r, g, b)`` tuple of ints in 0..255.

    Accepts a preset name (case-insensitive), ``#RRGGBB``, ``#RGB``, ``"r,g,b"`` or a
    3-sequence of ints. Raises ``ValueError`` naming the bad value and what is accepted.
    """
    if isinstance(color, (tuple, list)):
        values = list(color)
    elif isinstance(color, str):
        text = color.strip().lower()
        if text in PRESETS:
            return PRESETS[text]
        if text.startswith("#") and len(text) in (4, 7):
            digits = text[1:]
            if len(digits) == 3:
                digits = "".join(c * 2 for c in digits)
            try:
                return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
            except ValueError:
                pass
            values = None
        elif text.count(",") == 2:
            try:
                values = [int(v) for v in text.split(",")]
            except ValueError:
                values = None
        else:
            values = None
    else:
        values = None
    if (
        values is None
        or len(values) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in values)
    ):
        raise ValueError(f"unknown colour {color!r}: expected {_ACCEPTED}")
    return (values[0], values[1], values[2])
