"""Ctrl-C and SIGTERM for the ``tkg-chroma`` commands: each raises ``KeyboardInterrupt`` (SIGTERM
as :class:`Terminated`, exit status 143) and is remembered, so that one Python swallowed (it
arrived in a ``__del__``, which only prints "Exception ignored") still stops the command at its
next :func:`check`."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

_received: list[BaseException] = []


class Terminated(KeyboardInterrupt):
    """SIGTERM, stopping the command as Ctrl-C does (workers stopped, temporary files
    removed), with exit status 143."""


def _raise(signum: int, _frame: object) -> None:
    stop = Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
    _received.append(stop)
    raise stop


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Handle SIGINT and SIGTERM as above while the block runs, then put the earlier handlers
    back (only the main thread may set them; elsewhere nothing changes)."""
    _received.clear()
    earlier = {}
    with contextlib.suppress(ValueError):
        for sig in (signal.SIGINT, signal.SIGTERM):
            earlier[sig] = signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in earlier.items():
            signal.signal(sig, handler)


def check() -> None:
    """Raise the interruption received so far, if any (one that was swallowed)."""
    if _received:
        raise _received[-1]
