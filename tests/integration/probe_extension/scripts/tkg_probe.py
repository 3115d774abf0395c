"""Test-only WebUI extension: records the sampler's initial noise (integration tests only).

Linked into a test server's ``extensions/`` by ``tests/integration/conftest.py``. When the
environment variable ``TKG_PROBE_DIR`` is set, every ``process_before_every_sampling`` call
saves ``kwargs['noise']`` to ``<TKG_PROBE_DIR>/noise-<NNNNN>.npy`` (float32) with a
``noise-<NNNNN>.json`` beside it (shape, original dtype, seeds, the class of ``p.rng``, ...).

Why this hook (A1111 v1.10.1 and Forge main, ``modules/processing.py``): in
``StableDiffusionProcessingTxt2Img.sample`` the host does ``x = self.rng.next()`` and then calls
``process_before_every_sampling(p, x=x, noise=x, c=..., uc=...)`` before ``sampler.sample``.
So the tensor is the unit-variance initial noise exactly as ``p.rng`` returned it - after any
``p.rng`` wrapper installed in ``process_batch`` (the extension under test) has been consumed,
and before the sampler scales it by ``sigmas[0]``. The hires pass and img2img call the hook
again with a fresh rng's noise; those calls are recorded too (``call`` counts them per batch).
Forge lets scripts replace the noise through ``p.modified_noise``; the record says whether
one was set when this hook ran (scripts ordered after this one could still set it).

The probe changes nothing: it only reads ``kwargs['noise']``. Not called on A1111 < 1.10.
"""

from __future__ import annotations

import itertools
import json
import os
import threading

import numpy as np
import torch
from modules import scripts

ENV_VAR = "TKG_PROBE_DIR"
_counter = itertools.count()
_lock = threading.Lock()


def _save(directory: str, noise: torch.Tensor, meta: dict) -> None:
    os.makedirs(directory, exist_ok=True)
    with _lock:
        n = next(_counter)
        # Never overwrite files a test may still be reading: skip numbers already on disk.
        while os.path.exists(os.path.join(directory, f"noise-{n:05d}.json")):
            n = next(_counter)
    base = os.path.join(directory, f"noise-{n:05d}")
    array = noise.detach().to(device="cpu", dtype=torch.float32).contiguous().numpy()
    with open(base + ".npy.tmp", "wb") as f:  # a file object: np.save adds no suffix
        np.save(f, array, allow_pickle=False)
    os.replace(base + ".npy.tmp", base + ".npy")
    meta = dict(meta, index=n)
    with open(base + ".json.tmp", "w", encoding="utf-8") as f:
        json.dump(meta, f)
    os.replace(base + ".json.tmp", base + ".json")  # the .json appears last: the record is complete


class TkgNoiseProbe(scripts.Script):
    def title(self) -> str:
        return "TKG test noise probe"

    def show(self, is_img2img: bool):
        return scripts.AlwaysVisible

    def ui(self, is_img2img: bool) -> list:
        return []

    def process_batch(self, p, *args, **kwargs) -> None:
        p._tkg_probe_calls = 0

    def process_before_every_sampling(self, p, *args, **kwargs) -> None:
        directory = os.environ.get(ENV_VAR)
        noise = kwargs.get("noise")
        if not directory or not isinstance(noise, torch.Tensor):
            return
        call = getattr(p, "_tkg_probe_calls", 0)
        p._tkg_probe_calls = call + 1
        rng = getattr(p, "rng", None)
        meta = {
            "call": call,  # 0: first sampling of this batch (txt2img: the initial noise)
            "iteration": getattr(p, "iteration", None),
            "seeds": [int(s) for s in (getattr(p, "seeds", None) or [])],
            "prompt": str(getattr(p, "prompt", "")),
            "shape": list(noise.shape),
            "dtype": str(noise.dtype),
            "device": str(noise.device),
            "x_is_noise": kwargs.get("x") is noise,
            "rng_class": type(rng).__name__ if rng is not None else None,
            "rng_transformed": getattr(rng, "transformed", None) if rng is not None else None,
            "modified_noise_set": getattr(p, "modified_noise", None) is not None,
        }
        _save(directory, noise, meta)
