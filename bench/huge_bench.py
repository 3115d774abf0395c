"""Huge images: ``tkg-chroma key`` on N x N composites, peak memory and wall time.

Usage (from the repository root)::

    python bench/huge_bench.py                    # 10000 x 10000 (100 MP)
    python bench/huge_bench.py --sizes 2000 5000 10000

Each image is a ``bench/synthetic.py`` composite made at 1/10 of the size and enlarged (bilinear,
so edges stay soft), written as PNG; its ground-truth alpha is enlarged the same way. The CLI
runs under ``/usr/bin/time -v`` in a fresh process: exit status, wall time, maximum resident set
size (the whole process: Python, PNG decoding and encoding included), seconds per megapixel,
and the cut-out's mean alpha error against the enlarged ground truth.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import make_sample

ROOT = Path(__file__).resolve().parent.parent


def make_huge(n: int, path: Path, seed: int = 100) -> np.ndarray:
    """Write an n x n composite to ``path`` (PNG); return its ground-truth alpha (uint8)."""
    s = make_sample(seed, max(64, n // 10), "green")
    big = cv2.resize(s.image, (n, n), interpolation=cv2.INTER_LINEAR)
    cv2.imwrite(str(path), cv2.cvtColor(big, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    del big
    return cv2.resize(np.round(s.alpha * 255).astype(np.uint8), (n, n), cv2.INTER_LINEAR)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000])
    args = ap.parse_args(argv)
    print("| size | MP | exit | wall s | s/MP | peak RSS MiB | alpha MAE |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmpd:
            tmp = Path(tmpd)
            src = tmp / "huge.png"
            gt = make_huge(n, src)
            cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "lib_tkg", "key", str(src)]
            cmd += ["-o", str(tmp / "out"), "--mask", "-q"]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            err = proc.stderr
            rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1))
            wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", err)
            parts = [float(x) for x in wall.group(1).split(":")]
            secs = sum(v * 60**i for i, v in enumerate(reversed(parts)))
            mae = float("nan")
            matte_path = tmp / "out" / "huge-matte.png"
            if matte_path.exists():
                matte = cv2.imread(str(matte_path), cv2.IMREAD_GRAYSCALE)
                mae = float(np.abs(matte.astype(np.float32) - gt).mean()) / 255.0
            mp = n * n / 1e6
            print(
                f"| {n}x{n} | {mp:.0f} | {proc.returncode} | {secs:.1f} | {secs / mp:.2f} | "
                f"{rss / 1024:.0f} | {mae:.4f} |",
                flush=True,
            )
            if proc.returncode:
                print(err[-2000:], file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
