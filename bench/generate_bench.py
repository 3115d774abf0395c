"""``tkg-chroma generate``: bad-option exit time, seed reproducibility and peak memory in --n.

Runs the CLI in fresh processes on the tiny random SD1.x-shaped pipeline of
``tests/tiny_pipeline.py`` (built offline into a temporary folder) and prints:

1. the wall time of ``generate --steps 0`` (a bad option: exit status 2, before torch loads);
2. for each scheduler given, the largest pixel difference (0..255) of image ``i`` between two
   runs of the same seeds, and between ``--batch-size 1`` and ``--batch-size 2``;
3. the peak resident memory (``ru_maxrss`` of the child) of ``--n 1``, ``--n 10`` and ``--n N``
   (flat memory: N images peak where 10 do; the first few raise the peak a little as torch's and
   malloc's pools warm up, with or without keying).

    nice -n 10 python bench/generate_bench.py            # defaults: euler_a, 1024x1024, N=40
    python bench/generate_bench.py --schedulers euler_a ddim --size 512x512 --n 20

``--src DIR`` runs another checkout's ``lib_tkg`` (e.g. an export of main) for comparison.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def run(src: Path, args: list[str]) -> tuple[int, float, float, str]:
    """Run ``python -m lib_tkg ARGS`` from ``src``: (exit status, seconds, peak MiB, stderr)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lib_tkg", *args],
        cwd=src,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    stderr = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, seconds, usage.ru_maxrss / 1024.0, stderr


def images(folder: Path) -> dict[str, np.ndarray]:
    """The originals in ``folder`` by seed."""
    out = {}
    for path in sorted(folder.glob("*.png")):
        if path.stem.endswith(("-rgba", "-matte")):
            continue
        with Image.open(path) as im:
            out[path.stem.split("-", 1)[1]] = np.asarray(im.convert("RGB"), np.int16)
    return out


def max_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> int:
    assert a.keys() == b.keys() and a, (sorted(a), sorted(b))
    return max(int(np.abs(a[k] - b[k]).max()) for k in a)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schedulers", nargs="+", default=["euler_a"])
    ap.add_argument("--size", default="1024x1024", help="image size of the memory runs")
    ap.add_argument("--n", type=int, default=40, help="images of the large memory run")
    ap.add_argument("--steps", type=int, default=3, help="steps of the reproducibility runs")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--src", type=Path, default=ROOT, help="checkout whose lib_tkg to run")
    opts = ap.parse_args()

    sys.path.insert(0, str(ROOT / "tests"))
    import tiny_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = tiny_pipeline.save_pipeline(tmp / "model")
        base = ["generate", "-m", str(model), "a cat", "--device", "cpu", "-q"]

        times = []
        for _ in range(3):
            code, seconds, _, err = run(opts.src, [*base, "-o", str(tmp / "bad"), "--steps", "0"])
            times.append(seconds)
        print(f"generate --steps 0: exit {code}, {min(times):.2f} s (best of 3); {err.strip()}")
        print(f"  output folder created: {(tmp / 'bad').exists()}")

        for name in opts.schedulers:
            common = [*base, "--scheduler", name, "--seed", str(opts.seed), "--n", "2"]
            common += ["--steps", str(opts.steps)]
            runs = {}
            for label, extra in (("a", []), ("b", []), ("batch2", ["--batch-size", "2"])):
                out = tmp / f"{name}-{label}"
                code, _, _, err = run(opts.src, [*common, *extra, "-o", str(out)])
                if code:
                    print(f"{name}: exit {code}: {err.strip()}")
                    break
                runs[label] = images(out)
            else:
                print(
                    f"{name}: seeds {opts.seed}..{opts.seed + 1}, {opts.steps} steps: max diff "
                    f"run to run {max_diff(runs['a'], runs['b'])}, batch 1 vs 2 "
                    f"{max_diff(runs['a'], runs['batch2'])} (levels of 255)"
                )

        peaks = {}
        for n in sorted({1, min(10, opts.n), opts.n}):  # 10: the first images warm up allocators
            out = tmp / f"mem-{n}"
            args = [*base, "--steps", "1", "--size", opts.size, "--n", str(n), "--mask"]
            code, seconds, peak, err = run(opts.src, [*args, "-o", str(out)])
            peaks[n] = peak
            print(f"--n {n} at {opts.size}: exit {code}, {seconds:.1f} s, peak RSS {peak:.0f} MiB")
        print(f"peak RSS --n {opts.n} minus --n 1: {peaks[opts.n] - peaks[1]:+.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
