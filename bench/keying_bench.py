"""Benchmark the clean-plate keyer against FFmpeg ``chromakey``+``despill`` and an HSV keyer.

Usage (from the repository root)::

    .venv/bin/python bench/keying_bench.py                       # default seeds, 768 and 1024
    .venv/bin/python bench/keying_bench.py --seed 5000 --n 6     # a held-out seed set
    .venv/bin/python bench/keying_bench.py --sizes 768 --keys green,magenta --no-ffmpeg
    .venv/bin/python bench/keying_bench.py --profile hard --sizes 768   # harsher generator
    .venv/bin/python bench/keying_bench.py --sizes 768 --n 3 --oracle   # + per-image FFmpeg

Images come from ``bench/synthetic.py`` (seeded, exact ground-truth alpha and foreground).
Scores (lower is better):

* **SAD**: sum of |alpha - gt| over the image, alpha in 0..1, divided by 1000.
* **MSE**: mean squared alpha error over the unknown band (0 < gt < 1, dilated 3 px), x 1000.
* **Grad**: sum of squared differences of Gaussian (sigma 1.4) gradient magnitudes, / 1000.
* **Comp**: the cut-out (straight RGBA, 8 bit) composited over four new backgrounds (white,
  black, checker, colour gradient) vs the ground-truth composite, mean |diff| in 0..255.
* **ms**: wall time per image of the keyer alone (in memory, median), on this machine.

``opencv-hsv`` is a naive keyer: HSV ``inRange`` of +-15 hue steps around the key, binary.

FFmpeg gets the same border-estimated key colour per image, ``format=yuva444p`` (no chroma
subsampling), and its ``similarity``/``blend`` grid-searched on separate tuning seeds (one
setting per key colour, once minimising SAD and once minimising the composite error, both
reported). FFmpeg's despill only knows green and blue, so magenta gets chromakey alone. Its
time is ``-benchmark`` rtime (wall) and utime+stime (CPU) of one process filtering a stream of
``--time-frames`` rawvideo frames, divided by the number of frames: no process start-up, no
PNG coding, which is FFmpeg's best case. Ours is timed on the same frames in memory, in the
same time window (interleaved), best of ``--time-reps`` runs of the per-image median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import Sample, backgrounds, make_sample

from lib_tkg import keying

SIMILARITIES = [0.04, 0.07, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4]
BLENDS = [0.0, 0.02, 0.05, 0.08, 0.12, 0.18, 0.25, 0.35]


# ------------------------------------------------------------------------------------------
# metrics


def _grad_mag(a: np.ndarray) -> np.ndarray:
    b = cv2.GaussianBlur(a, (0, 0), 1.4)
    gx = cv2.Sobel(b, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(b, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return np.sqrt(gx * gx + gy * gy)


def score(sample: Sample, rgba: np.ndarray, bgs: list[np.ndarray]) -> dict[str, float]:
    gt = sample.alpha
    pa = rgba[..., 3].astype(np.float32) / 255.0
    pf = rgba[..., :3].astype(np.float32) / 255.0
    err = pa - gt
    band = ((gt > 0) & (gt < 1)).astype(np.uint8)
    band = cv2.dilate(band, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))) > 0
    comp = []
    for bg in bgs:
        want = gt[..., None] * sample.fg + (1 - gt[..., None]) * bg
        got = pa[..., None] * pf + (1 - pa[..., None]) * bg
        comp.append(float(np.abs(want - got).mean()) * 255.0)
    return {
        "sad": float(np.abs(err).sum()) / 1000.0,
        "mse": float((err[band] ** 2).mean()) * 1000.0 if band.any() else 0.0,
        "grad": float(((_grad_mag(pa) - _grad_mag(gt)) ** 2).sum()) / 1000.0,
        "comp": float(np.mean(comp)),
    }


# ------------------------------------------------------------------------------------------
# methods


def run_ours(img: np.ndarray, **opts) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    rgba = keying.key_image(img, None, **opts)
    return rgba, (time.perf_counter() - t0) * 1000.0


def run_hsv(img: np.ndarray, key_rgb: tuple[int, int, int]) -> tuple[np.ndarray, float]:
    """Naive OpenCV keyer: HSV inRange around the key hue, binary alpha, no despill."""
    t0 = time.perf_counter()
    kh = int(cv2.cvtColor(np.uint8([[key_rgb]]), cv2.COLOR_RGB2HSV)[0, 0, 0])
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    lo, hi = kh - 15, kh + 15
    mask = cv2.inRange(hsv, (max(lo, 0), 70, 40), (min(hi, 179), 255, 255))
    if lo < 0:
        mask |= cv2.inRange(hsv, (180 + lo, 70, 40), (179, 255, 255))
    if hi > 179:
        mask |= cv2.inRange(hsv, (0, 70, 40), (hi - 180, 255, 255))
    rgba = np.dstack([img, 255 - mask])
    return rgba, (time.perf_counter() - t0) * 1000.0


def _ffmpeg_filter(key_rgb: tuple[int, int, int], key: str, sim: float, blend: float) -> str:
    hexc = "0x{:02X}{:02X}{:02X}".format(*key_rgb)
    f = f"format=yuva444p,chromakey=color={hexc}:similarity={sim}:blend={blend}"
    if key in ("green", "blue"):
        f += f",format=gbrap,despill=type={key}"
    return f + ",format=rgba"


def run_ffmpeg(frames: list[np.ndarray], filt: str, tmp: Path) -> tuple[list[np.ndarray], float]:
    """Filter same-size frames in one ffmpeg process; returns (rgba frames, ms per frame)."""
    h, w = frames[0].shape[:2]
    src = tmp / "in.rgb"
    dst = tmp / "out.rgba"
    with open(src, "wb") as fh:
        for f in frames:
            fh.write(np.ascontiguousarray(f).tobytes())
    cmd = [
        "ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-benchmark",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-i", str(src),
        "-vf", filt, "-f", "rawvideo", "-pix_fmt", "rgba", "-y", str(dst),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rtime = cpu = float("nan")
    for line in (out.stdout + out.stderr).splitlines():
        if "rtime=" in line:
            fields = dict(f.split("=") for f in line.split()[1:] if "=" in f)
            rtime = float(fields["rtime"].rstrip("s"))
            cpu = float(fields["utime"].rstrip("s")) + float(fields["stime"].rstrip("s"))
    data = np.fromfile(dst, np.uint8).reshape(len(frames), h, w, 4)
    run_ffmpeg.last_cpu_ms = cpu * 1000.0 / len(frames)  # type: ignore[attr-defined]
    return [data[i] for i in range(len(frames))], rtime * 1000.0 / len(frames)


def tune_ffmpeg(
    keys: list[str], size: int, seeds: list[int], tmp: Path, profile: str = "default"
) -> dict[str, dict[str, tuple[float, float]]]:
    """Grid-search similarity/blend per key colour on tuning seeds; best by SAD and by comp."""
    best: dict[str, dict[str, tuple[float, float]]] = {}
    for key in keys:
        samples = [make_sample(s, size, key, profile) for s in seeds]
        bgs = backgrounds(size, size)
        kcs = [keying.estimate_key_color(s.image) or s.key_rgb for s in samples]
        results = {}
        for sim in SIMILARITIES:
            for blend in BLENDS:
                sc = defaultdict(list)
                for s, kc in zip(samples, kcs, strict=True):
                    (rgba,), _ = run_ffmpeg([s.image], _ffmpeg_filter(kc, key, sim, blend), tmp)
                    r = score(s, rgba, bgs)
                    sc["sad"].append(r["sad"])
                    sc["comp"].append(r["comp"])
                results[(sim, blend)] = {k: float(np.mean(v)) for k, v in sc.items()}
        best[key] = {
            metric: min(results, key=lambda p, m=metric: results[p][m])
            for metric in ("sad", "comp")
        }
        print(
            f"  ffmpeg tuned for {key}: by SAD sim/blend={best[key]['sad']} "
            f"(SAD {results[best[key]['sad']]['sad']:.2f}), by comp {best[key]['comp']} "
            f"(comp {results[best[key]['comp']]['comp']:.2f})",
            file=sys.stderr,
        )
    return best


# ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=4, help="images per key colour (default 4)")
    ap.add_argument("--seed", type=int, default=100, help="first scored seed (default 100)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[768, 1024])
    ap.add_argument("--keys", default="green,blue,magenta")
    ap.add_argument(
        "--profile", default="default", choices=["default", "hard"], help="generator profile"
    )
    ap.add_argument("--tune-seed", type=int, default=9000, help="first FFmpeg tuning seed")
    ap.add_argument("--tune-n", type=int, default=4, help="tuning images per key colour")
    ap.add_argument("--tune-size", type=int, default=512, help="image size for FFmpeg tuning")
    ap.add_argument("--time-frames", type=int, default=24, help="frames per timing run")
    ap.add_argument("--time-reps", type=int, default=3, help="timing runs (the best is kept)")
    ap.add_argument("--no-ffmpeg", action="store_true")
    ap.add_argument(
        "--oracle",
        action="store_true",
        help="also score FFmpeg with similarity/blend picked per image on the scored image "
        "itself (an upper bound for any tuning; slow)",
    )
    ap.add_argument("--per-key", action="store_true", help="also print rows per key colour")
    ap.add_argument("--opt", action="append", default=[], help="keyer option name=value")
    args = ap.parse_args(argv)

    keys = [k.strip() for k in args.keys.split(",") if k.strip()]
    opts = {}
    for o in args.opt:
        name, val = o.split("=", 1)
        opts[name] = {"true": True, "false": False}.get(val.lower())
        if opts[name] is None:
            opts[name] = float(val)
    use_ffmpeg = not args.no_ffmpeg and shutil.which("ffmpeg") is not None
    if not args.no_ffmpeg and not use_ffmpeg:
        print("ffmpeg not found: skipping it (apt-get install ffmpeg)", file=sys.stderr)

    print(f"cpu cores: {os.cpu_count()}, opencv threads: {cv2.getNumThreads()}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        tuned = {}
        if use_ffmpeg:
            tune_seeds = list(range(args.tune_seed, args.tune_seed + args.tune_n))
            print(f"tuning ffmpeg on seeds {tune_seeds} at {args.tune_size}px", file=sys.stderr)
            tuned = tune_ffmpeg(keys, args.tune_size, tune_seeds, tmp, args.profile)

        seeds = list(range(args.seed, args.seed + args.n))
        for size in args.sizes:
            bgs = backgrounds(size, size)
            rows: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(
                lambda: defaultdict(list)
            )
            for key in keys:
                samples = [make_sample(s, size, key, args.profile) for s in seeds]
                run_ours(samples[0].image, **opts)  # warm-up (imports, thread pools)
                for s in samples:
                    kc = keying.estimate_key_color(s.image) or s.key_rgb
                    rgba, ms = run_ours(s.image, **opts)
                    for name, (out, t) in (
                        ("ours", (rgba, ms)),
                        ("opencv-hsv", run_hsv(s.image, kc)),
                    ):
                        r = score(s, out, bgs)
                        if name != "ours":
                            r["ms"] = t
                        for k, v in r.items():
                            rows[(name, key)][k].append(v)
                    if use_ffmpeg and args.oracle:
                        best_r: dict[str, float] = {}
                        for sim in SIMILARITIES:
                            for blend in BLENDS:
                                filt = _ffmpeg_filter(kc, key, sim, blend)
                                (out,), _ = run_ffmpeg([s.image], filt, tmp)
                                r = score(s, out, bgs)
                                for k, v in r.items():
                                    best_r[k] = min(best_r.get(k, float("inf")), v)
                        for k, v in best_r.items():
                            rows[("ffmpeg (oracle, per image)", key)][k].append(v)
                    if use_ffmpeg:
                        for metric in ("sad", "comp"):
                            sim, blend = tuned[key][metric]
                            filt = _ffmpeg_filter(kc, key, sim, blend)
                            (out,), _ = run_ffmpeg([s.image], filt, tmp)
                            r = score(s, out, bgs)
                            for k, v in r.items():
                                rows[(f"ffmpeg ({metric}-tuned)", key)][k].append(v)
                # timing, interleaved so both see the same machine load: FFmpeg filters
                # --time-frames frames in one process; ours keys the same frames in memory.
                frames = [samples[i % len(samples)].image for i in range(args.time_frames)]
                kc = keying.estimate_key_color(samples[0].image) or samples[0].key_rgb
                best = {"ours": [], "ours_cpu": [], "ff": [], "ff_cpu": []}
                for _ in range(args.time_reps):
                    if use_ffmpeg:
                        sim, blend = tuned[key]["sad"]
                        _, ms = run_ffmpeg(frames, _ffmpeg_filter(kc, key, sim, blend), tmp)
                        best["ff"].append(ms)
                        best["ff_cpu"].append(run_ffmpeg.last_cpu_ms)  # type: ignore[attr-defined]
                    walls, cpus = [], []
                    for f in frames:
                        c0 = time.process_time()
                        walls.append(run_ours(f, **opts)[1])
                        cpus.append((time.process_time() - c0) * 1000.0)
                    best["ours"].append(statistics.median(walls))
                    best["ours_cpu"].append(statistics.median(cpus))
                rows[("ours", key)]["ms"] = [min(best["ours"])]
                rows[("ours", key)]["cpu"] = [min(best["ours_cpu"])]
                if use_ffmpeg:
                    for name in ("ffmpeg (sad-tuned)", "ffmpeg (comp-tuned)"):
                        rows[(name, key)]["ms"] = [min(best["ff"])]
                        rows[(name, key)]["cpu"] = [min(best["ff_cpu"])]
            _print_table(size, seeds, keys, rows, args.per_key)
            if use_ffmpeg:
                _print_targets(rows, keys)
    return 0


def _agg(rows, name, keys, metric):
    vals = [v for k in keys for v in rows[(name, k)].get(metric, [])]
    if not vals:
        return float("nan")
    return statistics.median(vals) if metric in ("ms", "cpu") else float(np.mean(vals))


def _print_table(size, seeds, keys, rows, per_key):
    names = list(dict.fromkeys(n for n, _ in rows))
    print(f"\n### {size}x{size}, seeds {seeds[0]}..{seeds[-1]}, keys {', '.join(keys)}\n")
    print("| method | key | SAD | MSE x1e3 | Grad | Comp err | ms/img | CPU ms/img |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        groups = [("all", keys)] + ([(k, [k]) for k in keys] if per_key else [])
        for label, ks in groups:
            vals = [_agg(rows, name, ks, m) for m in ("sad", "mse", "grad", "comp", "ms", "cpu")]
            print(
                f"| {name} | {label} | {vals[0]:.2f} | {vals[1]:.2f} | {vals[2]:.2f} | "
                f"{vals[3]:.2f} | {vals[4]:.1f} | {vals[5]:.1f} |"
            )


def _print_targets(rows, keys):
    print()
    for k in [*keys, "all"]:
        ks = keys if k == "all" else [k]
        sad = _agg(rows, "ours", ks, "sad") / _agg(rows, "ffmpeg (sad-tuned)", ks, "sad")
        comp = _agg(rows, "ours", ks, "comp") / _agg(rows, "ffmpeg (comp-tuned)", ks, "comp")
        ms = _agg(rows, "ours", ks, "ms") / _agg(rows, "ffmpeg (sad-tuned)", ks, "ms")
        cpu = _agg(rows, "ours", ks, "cpu") / _agg(rows, "ffmpeg (sad-tuned)", ks, "cpu")
        print(
            f"- {k}: SAD ratio {sad:.2f} (target <= 0.5), comp ratio {comp:.2f} "
            f"(target <= 0.6), time ratio {ms:.2f} wall / {cpu:.2f} CPU (target <= 2)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
