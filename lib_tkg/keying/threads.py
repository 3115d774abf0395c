"""The keyer's second core: per-pixel row arithmetic split over OpenCV's threads, and work
started in the background to overlap what the caller does next (numpy and OpenCV release the
GIL)."""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import cv2

_MIN_ROWS = 8192  # band pixels per thread below which the row arithmetic is not split
T = TypeVar("T")


def in_parallel(fn: Callable[[slice], None], n: int) -> None:
    """Run ``fn`` on consecutive slices of ``range(n)`` rows, one per OpenCV thread.

    The band's row arithmetic is numpy, which releases the GIL inside each operation: split
    in as many parts as OpenCV has threads (one in a worker of ``tkg-chroma key --jobs``),
    it uses the cores OpenCV's own calls use. Small bands stay in this thread.
    """
    k = min(cv2.getNumThreads(), n // _MIN_ROWS)
    if k <= 1:
        fn(slice(0, n))
        return
    bounds = [n * i // k for i in range(k + 1)]
    parts = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    pending = [_pool().submit(fn, p) for p in parts[1:]]
    fn(parts[0])
    for f in pending:
        f.result()


def in_background(fn: Callable[[], T]) -> Future[T]:
    """Start ``fn`` on :func:`in_parallel`'s threads, to overlap work the caller does next
    (numpy and OpenCV release the GIL); with one OpenCV thread it runs here, at once."""
    if cv2.getNumThreads() > 1:
        return _pool().submit(fn)
    done: Future[T] = Future()
    done.set_result(fn())
    return done


def _pool() -> ThreadPoolExecutor:
    """The threads of :func:`in_parallel`, made on first use (never at import)."""
    return _pool_of(os.getpid())


@functools.cache
def _pool_of(pid: int) -> ThreadPoolExecutor:
    """One pool per process: a forked child has none of its parent's threads."""
    return ThreadPoolExecutor(max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="tkg-rows")
