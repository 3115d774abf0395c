"""Loading a diffusers SD1.x/SD2.x/SDXL pipeline from a checkpoint file, a diffusers folder or
the hub, with one of the offered schedulers (:data:`SCHEDULERS`)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

from lib_tkg.pipeline.latents import detect_family

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")

# CLI name -> (diffusers scheduler class, extra config, infotext sampler name)
SCHEDULERS: dict[str, tuple[str, dict[str, Any], str]] = {
    "ddim": ("DDIMScheduler", {}, "DDIM"),
    "euler": ("EulerDiscreteScheduler", {}, "Euler"),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}, "Euler a"),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}, "DPM++ 2M"),
    "dpmpp_2m_karras": (
        "DPMSolverMultistepScheduler",
        {"use_karras_sigmas": True},
        "DPM++ 2M Karras",
    ),
    "unipc": ("UniPCMultistepScheduler", {}, "UniPC"),
    "pndm": ("PNDMScheduler", {}, "PLMS"),
}

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_GIVE_LOCAL = (
    "give a local file or folder: a .safetensors/.ckpt checkpoint or a diffusers folder "
    "(with model_index.json)"
)


class ModelNotFoundError(FileNotFoundError):
    """The model named is neither a local checkpoint/diffusers folder nor loadable from the hub."""


def _checkpoint_keys(path: Path) -> list[str]:
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            return list(handle.keys())
    try:
        state = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except RuntimeError:  # old (non-zip) checkpoints cannot be memory-mapped
        state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    return list(state) if isinstance(state, dict) else []


def single_file_pipeline_class(path: str | os.PathLike) -> str:
    """The diffusers pipeline class name for a single-file checkpoint, from its tensor names."""
    path = Path(path)
    try:
        keys = _checkpoint_keys(path)
    except Exception as error:  # safetensors/pickle errors have no common base class
        raise ValueError(
            f"cannot read checkpoint {path}: not a .safetensors or PyTorch .ckpt checkpoint "
            f"that loads ({first_line(error)})"
        ) from error
    if any(k.startswith("conditioner.embedders.1.") for k in keys):
        return "StableDiffusionXLPipeline"
    if any(k.startswith("conditioner.") for k in keys):
        raise ValueError(f"{path}: an SDXL refiner checkpoint (img2img only), not a txt2img model")
    if any("joint_blocks." in k or "double_blocks." in k for k in keys):
        raise ValueError(
            f"{path}: an SD3/Flux checkpoint; only SD1.x, SD2.x and SDXL are supported"
        )
    if any(k.startswith("model.diffusion_model.input_blocks.") for k in keys):
        return "StableDiffusionPipeline"
    raise ValueError(f"{path}: not a Stable Diffusion checkpoint (no UNet weights recognised)")


def _dtype_kwargs(dtype: torch.dtype) -> dict[str, torch.dtype]:
    """diffusers renamed ``torch_dtype`` to ``dtype`` (0.4x, the old name warns until 1.0)."""
    from diffusers.utils import deprecation_utils

    renamed = hasattr(deprecation_utils, "_TORCH_DTYPE_DEPRECATION_MESSAGE")
    return {"dtype" if renamed else "torch_dtype": dtype}


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return text if len(text) <= 160 else text[:157] + "..."


def load_pipeline(
    model: str | os.PathLike,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
    *,
    config: str | os.PathLike | None = None,
    scheduler: str | None = None,
) -> Any:
    """Load a txt2img pipeline from a checkpoint file, a diffusers folder or a hub id.

    - ``model.safetensors`` / ``model.ckpt``: ``from_single_file`` on the SD or SDXL pipeline
      class (chosen from the tensor names). diffusers needs the architecture's config files for
      this: from the hub cache, or from ``config`` (a diffusers folder or hub id) when offline.
    - a folder with ``model_index.json``: ``DiffusionPipeline.from_pretrained``.
    - ``owner/name``: ``from_pretrained`` from the Hugging Face hub (or its local cache).

    ``dtype`` defaults to float16 on CUDA and float32 elsewhere. ``scheduler`` (a key of
    ``SCHEDULERS``) replaces the model's scheduler. A model that is not there raises
    ``ModelNotFoundError`` with a one-line message; an unsupported one ``ValueError``.
    """
    import diffusers

    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise ValueError(f"dtype must be a torch.dtype (torch.float16, ...) or None, got {dtype!r}")
    if scheduler is not None:  # (before the model loads)
        _check_scheduler(scheduler)
    device = torch.device(device)
    if dtype is None:
        dtype = torch.float16 if device.type == "cuda" else torch.float32
    text = os.fspath(model)
    path = Path(text).expanduser()
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except OSError as error:  # no permission to look it up
        raise ModelNotFoundError(
            f"cannot read model {text!r}: {error.strerror or error}"
        ) from error
    if is_file:
        if path.suffix.lower() not in SINGLE_FILE_SUFFIXES:
            raise ValueError(
                f"unsupported model file {text!r}: expected a .safetensors or .ckpt checkpoint "
                "or a diffusers folder"
            )
        cls = getattr(diffusers, single_file_pipeline_class(path))
        kwargs: dict[str, Any] = _dtype_kwargs(dtype)
        if config is not None:
            kwargs["config"] = os.fspath(config)
        try:
            pipe = cls.from_single_file(str(path), **kwargs)
        except (OSError, ValueError) as error:
            raise ModelNotFoundError(
                f"could not load checkpoint {text!r} ({first_line(error)}); diffusers needs the "
                "model's config files: pass config= (CLI: --config) a local diffusers folder of "
                "the same architecture, or run once online to cache them"
            ) from error
    elif is_dir:
        if not os.path.isfile(path / "model_index.json"):
            raise ModelNotFoundError(
                f"model not found: folder {text!r} has no model_index.json, so it is not a "
                f"diffusers pipeline; {_GIVE_LOCAL}"
            )
        try:
            pipe = diffusers.DiffusionPipeline.from_pretrained(str(path), **_dtype_kwargs(dtype))
        except OSError as error:  # missing or unreadable component files
            raise ValueError(
                f"cannot load diffusers folder {text!r}: {first_line(error)}"
            ) from error
    elif _HUB_ID.match(text) and not text.lower().endswith(SINGLE_FILE_SUFFIXES):
        try:
            pipe = diffusers.DiffusionPipeline.from_pretrained(text, **_dtype_kwargs(dtype))
        except Exception as error:  # hub unreachable, unknown repo, gated, ...
            raise ModelNotFoundError(
                f"model not found: {text!r} is no local file or folder and the Hugging Face hub "
                f"could not provide it ({first_line(error)}); {_GIVE_LOCAL}"
            ) from error
    else:
        raise ModelNotFoundError(f"model not found: {text!r} does not exist; {_GIVE_LOCAL}")
    detect_family(pipe)  # refuse unsupported pipelines before any work
    if scheduler is not None:
        set_scheduler(pipe, scheduler)
    return pipe.to(device)


def set_scheduler(pipe: Any, name: str) -> None:
    """Replace ``pipe.scheduler`` by the ``SCHEDULERS[name]`` one, from the model's config."""
    import diffusers

    cls_name, extra, _ = SCHEDULERS[_check_scheduler(name)]
    pipe.scheduler = getattr(diffusers, cls_name).from_config(pipe.scheduler.config, **extra)


def _check_scheduler(name: str) -> str:
    """``name`` if it is a key of :data:`SCHEDULERS`, else ``ValueError`` listing them."""
    if not isinstance(name, str) or name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}: expected one of {', '.join(SCHEDULERS)}")
    return name
