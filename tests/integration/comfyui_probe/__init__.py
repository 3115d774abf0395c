"""Test-only ComfyUI custom node: records noise on its way to the sampler, changes nothing.

``TKGTestNoiseProbe`` wraps a NOISE; every ``generate_noise`` result is saved.
``TKGTestModelProbe`` adds an OUTER_SAMPLE wrapper to a MODEL; the ``noise`` argument the
guider passes on (what the sampler starts from, before sigma scaling) is saved. Wrappers run in
the order they were added, so a probe added after ``TKGChromaModel`` sees its output.

Files: ``$TKG_PROBE_DIR/<name>-<n>.npy`` (float32, (B, C, H, W)), ``n`` counting from 0.
"""

import itertools
import os

import numpy as np
from comfy.patcher_extension import WrappersMP

_COUNT = itertools.count()


def _save(name, tensor):
    path = os.path.join(os.environ["TKG_PROBE_DIR"], f"{name}-{next(_COUNT)}.npy")
    np.save(path, tensor.detach().cpu().float().numpy())


class _RecordingNoise:
    def __init__(self, inner, name):
        self.inner = inner
        self.name = name
        self.seed = inner.seed

    def generate_noise(self, input_latent):
        noise = self.inner.generate_noise(input_latent)
        _save(self.name, noise)
        return noise


class TKGTestNoiseProbe:
    CATEGORY = "testing"
    RETURN_TYPES = ("NOISE",)
    FUNCTION = "apply"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"noise": ("NOISE",), "name": ("STRING", {"default": "noise"})}}

    def apply(self, noise, name):
        return (_RecordingNoise(noise, name),)


class TKGTestModelProbe:
    CATEGORY = "testing"
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "apply"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",), "name": ("STRING", {"default": "sampler"})}}

    def apply(self, model, name):
        def record(executor, noise, *args, **kwargs):
            _save(name, noise)
            return executor(noise, *args, **kwargs)

        patched = model.clone()
        patched.add_wrapper_with_key(WrappersMP.OUTER_SAMPLE, "tkg_test_probe", record)
        return (patched,)


NODE_CLASS_MAPPINGS = {
    "TKGTestNoiseProbe": TKGTestNoiseProbe,
    "TKGTestModelProbe": TKGTestModelProbe,
}
