"""Flicker and accuracy of sequence keying on synthetic moving-subject sequences.

Usage (from the repository root)::

    nice -n 10 /work/venv/bin/python bench/animation_bench.py                  # tuning set
    nice -n 10 /work/venv/bin/python bench/animation_bench.py --seed 9100 --key magenta \
        --profile hard --noise 6 --frames 12                                   # untuned set

Each sequence takes one ``bench/synthetic.py`` composite's foreground (alpha and colour) and its
noise-free screen, moves the foreground ``--speed`` px per frame (holding still for the middle
third of the frames) and composites every frame over the same screen with fresh Gaussian noise
(``--noise`` 8-bit levels), so the true alpha of each frame is known.

Scores per method (lower is better), alpha in 0..255:

* **flicker**: mean |alpha_t - alpha_t+1| over pixels whose true alpha is the same in both
  frames (still screen, still subject): matte change that the picture does not explain.
* **MAE**: mean |alpha - true alpha| over all pixels and frames.
* **unkeyed**: frames where nothing was keyed.

With ``--write``, the first sequence's cut-outs are also written in every format this Python
can write, with the time and file size of each.

Methods: ``per-frame`` (each frame keyed alone, its own border key colour: the old behaviour),
``one-colour`` (``key_sequence(temporal=False)``), ``temporal`` (``key_sequence``, default).
Every method gets the screen's preset (``--key``) as ``prior_color``, as the WebUI keys
AnimateDiff's frames (the colour asked for); ``--auto`` leaves it out, as ``tkg-chroma
key-animation`` does by default.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from synthetic import make_sample

from lib_tkg import keying
from lib_tkg.animation import key_sequence


def make_sequence(seed, size, key, profile, frames, speed, noise):
    """``(rgb frames uint8, true alphas float 0..1)`` of one moving-subject sequence."""
    s = make_sample(seed, size, key, profile)
    rng = np.random.default_rng(seed)
    hold = range(frames // 3, 2 * frames // 3)
    x, rgbs, alphas = 0.0, [], []
    for t in range(frames):
        if t > 0 and t not in hold:
            x += speed
        shift = x - speed * frames / 3.0  # centred around the sample's own position
        m = np.float32([[1, 0, shift], [0, 1, 0]])
        a = cv2.warpAffine(s.alpha, m, (size, size), flags=cv2.INTER_LINEAR)
        f = cv2.warpAffine(s.fg, m, (size, size), flags=cv2.INTER_LINEAR)
        img = a[..., None] * f + (1 - a[..., None]) * s.screen
        img = img * 255.0 + rng.normal(0.0, noise, img.shape)
        rgbs.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
        alphas.append(a)
    return rgbs, alphas


def scores(pred, truth):
    pred = [p.astype(np.float32) for p in pred]
    true = [t * 255.0 for t in truth]
    flick = []
    for t in range(len(pred) - 1):
        same = np.abs(true[t] - true[t + 1]) < 0.5
        flick.append(float(np.abs(pred[t] - pred[t + 1])[same].mean()))
    mae = float(np.mean([np.abs(p - t).mean() for p, t in zip(pred, true, strict=True)]))
    return float(np.mean(flick)), mae


def run(args):
    prior = None if args.auto else args.key
    methods = {"per-frame": [], "one-colour": [], "temporal": []}
    unkeyed = dict.fromkeys(methods, 0)
    times = dict.fromkeys(methods, 0.0)
    for i in range(args.n):
        rgbs, truth = make_sequence(
            args.seed + i, args.size, args.key, args.profile, args.frames, args.speed, args.noise
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", keying.NoKeyColorWarning)
            t0 = time.perf_counter()
            per = [keying.key(f, prior_color=prior) for f in rgbs]
            times["per-frame"] += time.perf_counter() - t0
            unkeyed["per-frame"] += sum(not r.keyed for r in per)
            methods["per-frame"].append(scores([r.alpha for r in per], truth))
            for name, temporal in (("one-colour", False), ("temporal", True)):
                t0 = time.perf_counter()
                res = key_sequence(rgbs, temporal=temporal, prior_color=prior)
                times[name] += time.perf_counter() - t0
                unkeyed[name] += res.keyed.count(False)
                methods[name].append(scores([f[..., 3] for f in res.frames], truth))
    total = args.n * args.frames
    print(
        f"{args.n} sequences x {args.frames} frames, {args.size}px, key {args.key}, "
        f"profile {args.profile}, noise {args.noise}, seeds {args.seed}..{args.seed + args.n - 1}"
    )
    print(f"{'method':<12} {'flicker':>8} {'MAE':>7} {'unkeyed':>8} {'ms/frame':>9}")
    for name, rows in methods.items():
        fl, mae = np.mean(rows, axis=0)
        ms = 1000.0 * times[name] / total
        print(f"{name:<12} {fl:8.3f} {mae:7.3f} {unkeyed[name]:>5}/{total:<3} {ms:8.1f}")


def write_formats(frames):
    import tempfile

    from lib_tkg.animation_files import available_formats, write_animation

    with tempfile.TemporaryDirectory() as d:
        for fmt in available_formats():
            t0 = time.perf_counter()
            path = write_animation(frames, os.path.join(d, fmt), [fmt], fps=8)[fmt]
            dt = time.perf_counter() - t0
            is_dir = os.path.isdir(path)
            names = [os.path.join(path, f) for f in os.listdir(path)] if is_dir else [path]
            size = sum(os.path.getsize(f) for f in names)
            print(f"write {fmt:<5} {len(frames)} frames: {dt:6.2f} s, {size / 1e6:6.2f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=9000)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--key", default="green", choices=["green", "blue", "magenta", "cyan"])
    ap.add_argument("--auto", action="store_true", help="no prior colour (key-animation's auto)")
    ap.add_argument("--profile", default="default", choices=["default", "hard"])
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--speed", type=float, default=3.0, help="px per frame")
    ap.add_argument("--noise", type=float, default=3.0, help="8-bit levels (Gaussian sigma)")
    ap.add_argument("--write", action="store_true", help="also time the animation writers")
    args = ap.parse_args()
    run(args)
    if args.write:
        rgbs, _ = make_sequence(
            args.seed, args.size, args.key, args.profile, args.frames, args.speed, args.noise
        )
        write_formats(key_sequence(rgbs).frames)


if __name__ == "__main__":
    main()
