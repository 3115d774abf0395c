"""The process pool of ``tkg-chroma key -j N`` (lib_tkg.worker_pool)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from lib_tkg.worker_pool import WorkerDied, WorkerPool


def _square(item: int) -> int:
    return item * item


def _pid(_item: object) -> int:
    return os.getpid()


def _die_while_sending(item: str) -> bytes:
    """For "die": return a large result, of which the worker writes half and is killed."""
    if item == "die":
        from multiprocessing.connection import Connection

        def half_then_killed(conn, buf):
            os.write(conn.fileno(), bytes(buf)[: len(buf) // 2])
            os.kill(os.getpid(), signal.SIGKILL)

        Connection._send = half_then_killed  # (in this worker only)
    return item.encode() * 50_000


def _within(seconds: float, run):
    """``run()``'s value, failing the test (not hanging it) when it takes longer."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(run()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert out, f"still waiting after {seconds} s"
    return out[0]


def _wait_until_dead(pid: int) -> bool:
    """Until ``pid`` has exited (a zombie, not yet waited for, or gone)."""
    while True:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in "ZX":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.01)


def test_results_come_in_order_from_several_workers():
    with WorkerPool(_square, 3, None) as pool:
        assert list(pool.map(range(20))) == [i * i for i in range(20)]
        assert len(pool.pids) == 3


def test_a_worker_killed_while_sending_fails_only_its_item():
    """With concurrent.futures' ProcessPoolExecutor a worker killed partway through writing
    its result hung the whole batch for good (the pool waited for the rest of the message)."""
    items = ["a", "b", "die", "c", "d"]
    with WorkerPool(_die_while_sending, 2, None) as pool:
        results = _within(60, lambda: list(pool.map(items)))
    died = [i for i, r in enumerate(results) if isinstance(r, WorkerDied)]
    assert died == [2], results
    assert results[2].exitcode == -signal.SIGKILL
    assert [r for i, r in enumerate(results) if i != 2] == [s.encode() * 50_000 for s in "abcd"]


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_a_worker_killed_between_items_is_replaced():
    with WorkerPool(_pid, 1, None) as pool:
        first = next(iter(pool.map([0])))
        os.kill(first, signal.SIGKILL)
        _within(10, lambda: _wait_until_dead(first))
        second = _within(60, lambda: list(pool.map([1, 2])))
    assert second[0] != first and set(second) == {second[0]}, (first, second)


def test_leaving_by_an_exception_stops_the_workers_at_once():
    with pytest.raises(KeyboardInterrupt), WorkerPool(_square, 2, None) as pool:
        next(iter(pool.map([1, 2, 3, 4])))
        processes = list(pool.pids)
        raise KeyboardInterrupt
    for pid in processes:
        with pytest.raises(ProcessLookupError):  # (joined: gone, not a zombie)
            os.kill(pid, 0)


def test_workers_dead_before_taking_an_item_fail_it_instead_of_respawning_for_ever(monkeypatch):
    """A worker found dead when given an item was replaced and the item given again, without
    end if every new worker was dead by then (a broken start-up)."""
    from lib_tkg import worker_pool

    def dead_on_arrival(self, item):
        self.process.kill()
        self.close()
        return False

    monkeypatch.setattr(worker_pool._Worker, "give", dead_on_arrival)
    with WorkerPool(_square, 2, None) as pool:
        results = _within(60, lambda: list(pool.map([1, 2, 3])))
        started = len(pool.pids)
    assert all(isinstance(r, WorkerDied) for r in results), results
    assert started == worker_pool._REFUSALS + 2  # (then one new worker per item)
