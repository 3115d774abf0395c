"""modules/errors.py: ``report`` logs and swallows (v1.10.1 errors.py)."""

from __future__ import annotations

import sys
import traceback

reported: list[str] = []


def report(message: str, *, exc_info: bool = False) -> None:
    text = message + ("\n" + traceback.format_exc() if exc_info else "")
    reported.append(text)
    print(text, file=sys.stderr)
