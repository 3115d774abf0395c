"""glibc heap setting for the processes this project owns (the ``tkg-chroma`` command and its
workers), never applied to a host process such as the WebUI.

The keyer makes many short-lived image-sized arrays. With glibc's default settings freed heap
is handed back to the kernel and the next array faults its pages in again: in a fresh process
about 7700 page faults and 17-50 ms of system time per 768 px image, and 14000 at 1024 px, as
much as a third of the keying time. Keeping :data:`PAD_MIB` of freed heap (``M_TOP_PAD``)
removes them up to 1024 px (measured: none left; 64 MiB is too little there). It is a process-wide
setting, so only a process started for this work (or a script that opts in) calls
:func:`keep_freed_heap`.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: Freed heap kept for reuse, MiB.
PAD_MIB = 256
_M_TOP_PAD = -2  # mallopt parameter number (glibc malloc.h)


def keep_freed_heap(pad_mib: int = PAD_MIB) -> bool:
    """Keep ``pad_mib`` MiB of freed heap in this process instead of returning it to the kernel.

    Applies glibc's ``mallopt(M_TOP_PAD)``; returns whether it was applied. Nothing happens off
    Linux, on a C library other than glibc, or when the user set ``MALLOC_TOP_PAD_`` (glibc
    reads that itself).
    """
    if not sys.platform.startswith("linux") or "MALLOC_TOP_PAD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_TOP_PAD, int(pad_mib) << 20))
    except (OSError, AttributeError):  # not glibc (musl has no libc.so.6 / no mallopt)
        return False
