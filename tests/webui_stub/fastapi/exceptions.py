"""``fastapi.exceptions.HTTPException`` as the host has it (fastapi subclasses starlette's
``HTTPException``: ``__init__(status_code, detail=None, headers=None)``, ``str()`` reads
``"<status>: <detail>"``). A1111's ``modules/api/api.py`` ``handle_exception`` prints no
traceback for instances of it."""

from __future__ import annotations

from typing import Any


class HTTPException(Exception):
    def __init__(self, status_code: int, detail: Any = None, headers: Any = None) -> None:
        self.status_code = status_code
        self.detail = detail
        self.headers = headers

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"
