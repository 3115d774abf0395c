"""A process pool that a killed worker cannot hang: the workers of ``tkg-chroma key -j N``.

``concurrent.futures.ProcessPoolExecutor`` hangs for good when a worker is killed (the
out-of-memory killer) while it writes its result: all workers share one result pipe, which
the parent also holds open, so the pool's thread waits for the rest of a message that never
comes, and interpreter exit waits for that thread. Here each worker has a pipe of its own,
of which the parent holds only its end: a worker's death, whatever it was doing, reads as the
end of its pipe (or its process sentinel), and the item it held fails alone.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

#: Workers in a row found dead before taking an item, after which that item fails
_REFUSALS = 3


@dataclass(frozen=True)
class WorkerDied:
    """What :meth:`WorkerPool.map` gives for an item whose worker died before returning its
    result: ``pid`` the worker's process id, ``exitcode`` as ``multiprocessing`` reports it
    (negative: killed by that signal)."""

    pid: int
    exitcode: int | None


class WorkerPool:
    """``workers`` spawned processes running ``func`` (a picklable module-level function) on
    items, each process first running ``initializer`` once; a context manager that stops them
    on leaving (terminated at once when leaving by an exception, Ctrl-C included).

    Spawned, not forked: a forked worker can inherit OpenCV's thread pool mid-use and hang.
    Workers ignore Ctrl-C (the terminal sends it to them too); the parent stops them.
    """

    def __init__(
        self, func: Callable[[Any], Any], workers: int, initializer: Callable[[], None] | None
    ):
        self._func, self._workers, self._initializer = func, max(1, workers), initializer
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._busy: dict[_Worker, int] = {}
        #: Process ids of every worker started, for cleaning up after them.
        self.pids: list[int] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.stop(at_once=kind is not None)

    def map(self, items: Iterable[Any]) -> Iterator[Any]:
        """``func(item)`` for each item, in order, or a :class:`WorkerDied` for an item whose
        worker died on it; a dead worker is replaced while items remain (an item fails too
        when :data:`_REFUSALS` new workers in a row are dead before taking it)."""
        queue = list(items)
        results: dict[int, Any] = {}
        sent = done = refused = 0
        while done < len(queue):
            while sent < len(queue) and len(self._busy) < self._workers:
                worker = self._idle.pop() if self._idle else self._start()
                if worker.give(queue[sent]):
                    self._busy[worker] = sent
                    sent, refused = sent + 1, 0
                    continue
                refused += 1
                if refused >= _REFUSALS:  # (workers dying as they start: fail, not respawn)
                    results[sent] = WorkerDied(worker.process.pid, worker.process.exitcode)
                    sent += 1
            if self._busy:
                self._collect(results)
            while done in results:
                yield results.pop(done)
                done += 1

    def _collect(self, results: dict[int, Any]) -> None:
        """Wait until at least one busy worker returned its result or died; file each."""
        ends = {w.conn: w for w in self._busy} | {w.process.sentinel: w for w in self._busy}
        for worker in {ends[end] for end in wait(list(ends))}:
            index = self._busy.pop(worker)
            try:
                results[index] = worker.conn.recv()  # (a result sent before dying is kept)
            except (EOFError, OSError):  # died, maybe partway through sending
                worker.close()
                results[index] = WorkerDied(worker.process.pid, worker.process.exitcode)
            else:
                if worker.process.is_alive():
                    self._idle.append(worker)
                else:
                    worker.close()

    def _start(self) -> _Worker:
        mine, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(theirs, self._func, self._initializer), daemon=True
        )
        process.start()
        theirs.close()  # (only the worker holds its end: its death ends the pipe)
        self.pids.append(process.pid)
        return _Worker(process, mine)

    def stop(self, at_once: bool = False) -> None:
        """Stop all workers: with ``at_once`` terminated (their current items abandoned), else
        told to finish; waits up to 5 s for each to exit, then kills it."""
        workers, self._idle, self._busy = [*self._idle, *self._busy], [], {}
        for worker in workers:
            if at_once:
                with contextlib.suppress(OSError):
                    worker.process.terminate()
            worker.conn.close()  # (a worker waiting for an item reads the end and exits)
        for worker in workers:
            worker.process.join(5)
            if worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join(5)


@dataclass(frozen=True, eq=False)
class _Worker:
    process: Any  # multiprocessing's SpawnProcess
    conn: Connection

    def give(self, item: Any) -> bool:
        """Send ``item``; False (and the worker discarded) when it has died meanwhile."""
        if self.process.is_alive():
            with contextlib.suppress(OSError):  # (it died just now)
                self.conn.send(item)
                return True
        self.close()
        return False

    def close(self) -> None:
        self.conn.close()
        self.process.join(5)


def _serve(conn: Connection, func: Callable[[Any], Any], initializer: Callable[[], None] | None):
    """A worker's loop: ``func`` of each item received, sent back, until the pipe ends.
    ``func`` should not raise: an exception ends the worker, and its item reads as died."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer()
    while True:
        try:
            item = conn.recv()
        except EOFError:
            return
        conn.send(func(item))
