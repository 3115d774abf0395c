"""Stand-in ComfyUI objects for the node tests (see README.md); self-written."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import torch
from comfy.patcher_extension import WrapperExecutor, WrappersMP


def latent_format(name: str, channels: int = 4, dimensions: int = 2) -> Any:
    """An instance of a class called ``name`` (like ``comfy.latent_formats.<name>``)."""
    cls = type(name, (), {"latent_channels": channels, "latent_dimensions": dimensions})
    return cls()


FORMATS = {
    "SD15": latent_format("SD15"),
    "SDXL": latent_format("SDXL"),
    "SD3": latent_format("SD3", 16),
    "Flux": latent_format("Flux", 16),
    "SDXL_Playground_2_5": latent_format("SDXL_Playground_2_5"),
    "Wan21": latent_format("Wan21", 16, 3),
}


class ModelPatcher:
    """``comfy.model_patcher.ModelPatcher``: the parts the nodes and the guider use."""

    def __init__(self, fmt: Any, sigma_max: float = 14.6146) -> None:
        self.model = SimpleNamespace(latent_format=fmt)
        self.sigma_max = sigma_max
        self.wrappers: dict[str, dict[Any, list]] = {}

    def clone(self) -> ModelPatcher:
        n = ModelPatcher(self.model.latent_format, self.sigma_max)
        n.model = self.model
        n.wrappers = {t: {k: list(v) for k, v in d.items()} for t, d in self.wrappers.items()}
        return n

    def add_wrapper_with_key(self, wrapper_type: str, key: Any, wrapper: Any) -> None:
        self.wrappers.setdefault(wrapper_type, {}).setdefault(key, []).append(wrapper)

    def remove_wrappers_with_key(self, wrapper_type: str, key: Any) -> None:
        self.wrappers.get(wrapper_type, {}).pop(key, None)

    def get_model_object(self, name: str) -> Any:
        assert name == "model_sampling"
        return SimpleNamespace(sigma_max=torch.tensor(self.sigma_max))


def model(name: str = "SD15") -> ModelPatcher:
    return ModelPatcher(FORMATS[name])


class RandomNoise:
    """``Noise_RandomNoise``: one draw per batch position from ``torch.manual_seed(seed)``;
    with ``batch_index``, positions up to the largest index are drawn and picked."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def generate_noise(self, latent: dict) -> torch.Tensor:
        samples = latent["samples"]
        gen = torch.manual_seed(self.seed)
        index = latent.get("batch_index")
        if index is None:
            return torch.randn(samples.shape, generator=gen)
        draws = [torch.randn((1, *samples.shape[1:]), generator=gen) for _ in range(max(index) + 1)]
        return torch.cat([draws[i] for i in index])


class EmptyNoise:
    """``Noise_EmptyNoise`` (DisableNoise): zeros, seed 0."""

    seed = 0

    def generate_noise(self, latent: dict) -> torch.Tensor:
        return torch.zeros(latent["samples"].shape)


def empty_latent(batch: int = 1, channels: int = 4, size: int = 16) -> dict:
    return {"samples": torch.zeros(batch, channels, size, size)}


class Guider:
    """``CFGGuider``: ``sample`` runs the model's OUTER_SAMPLE wrappers around ``outer_sample``,
    which records what it gets and returns the noise."""

    def __init__(self, patcher: ModelPatcher) -> None:
        self.model_patcher = patcher
        self.received: list[tuple] = []

    def outer_sample(self, noise, latent_image, sampler, sigmas, *args, **kwargs):
        self.received.append((noise, latent_image, sampler, sigmas, args, kwargs))
        return noise

    def sample(self, noise, latent_image, sampler, sigmas, denoise_mask=None, seed=None):
        wrappers = [
            w
            for ws in self.model_patcher.wrappers.get(WrappersMP.OUTER_SAMPLE, {}).values()
            for w in ws
        ]
        executor = WrapperExecutor(self.outer_sample, self, wrappers)
        shapes = [latent_image.shape]
        return executor.execute(
            noise,
            latent_image,
            sampler,
            sigmas,
            denoise_mask,
            None,
            False,
            seed,
            latent_shapes=shapes,
        )


def module_name(folder: Path) -> str:
    """The name ``nodes.load_custom_node`` gives a custom-node folder's package: its path with
    dots replaced."""
    return str(folder).replace(".", "_x_")


def load_custom_node(folder: Path) -> ModuleType:
    """Import a custom-node folder the way ``nodes.load_custom_node`` does: a package named
    ``module_name(folder)``, from its ``__init__.py``."""
    name = module_name(folder)
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def join_image_with_alpha(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``JoinImageWithAlpha``: RGB of ``image`` plus ``1 - mask`` as the fourth channel."""
    return torch.cat((image[..., :3], (1.0 - mask).unsqueeze(-1)), dim=-1)


def saved_pixels(image: torch.Tensor) -> np.ndarray:
    """What ``SaveImage`` writes for one IMAGE (H, W, C): ``trunc(255 * x)`` clipped, uint8."""
    return np.clip(255.0 * image.cpu().numpy(), 0, 255).astype(np.uint8)
