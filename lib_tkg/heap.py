"""glibc heap setting for a process that keys images: keep freed heap for reuse.

The keyer makes many short-lived image-sized arrays. With glibc's default settings, in a
process that has not yet freed a large block, freed heap goes back to the kernel and the next
array faults its pages in again: measured in a fresh process, 14000 page faults and 45 ms of
system time per 768 px image (85 ms in all, against 47 ms with the setting), 20000 and 61 ms
per 1024 px image (150 ms against 76 ms). Keeping :data:`PAD_MIB` of freed heap at the top of
the heap (``M_TOP_PAD``) removes all of them up to 1024 px; 64 MiB is too little there.

The keyer applies it once per process, on its first call (:func:`lib_tkg.keying.key`), never
at import: a WebUI with the extension unticked is untouched. It retains up to that much freed
memory for the process' lifetime. Nothing happens off Linux, on a C library other than glibc,
or when the user set ``MALLOC_TOP_PAD_`` (glibc reads that itself).
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

#: Freed heap kept for reuse, MiB.
PAD_MIB = 256
_M_TOP_PAD = -2  # mallopt parameter number (glibc malloc.h)


@functools.cache
def keep_freed_heap() -> bool:
    """Keep :data:`PAD_MIB` of freed heap in this process (glibc ``mallopt(M_TOP_PAD)``).

    Returns whether it was applied; the first call decides, later ones return the same.
    """
    if not sys.platform.startswith("linux") or "MALLOC_TOP_PAD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_TOP_PAD, PAD_MIB << 20))
    except (OSError, AttributeError):  # not glibc (musl has no libc.so.6 / no mallopt)
        return False
