"""TKG-DM with 🤗 diffusers: initial latents, model loading and a generate-and-key helper.

Standalone use without a WebUI (issue #5)::

    import torch
    from lib_tkg.params import TkgParams
    from lib_tkg.pipeline import generate, key_result, load_pipeline, tkg_latents

    pipe = load_pipeline("path/to/model.safetensors", "cuda", torch.float16, scheduler="ddim")
    params = TkgParams(color="green")

    # your own pipeline call: only the initial latents change
    latents = tkg_latents(pipe, params, height=512, width=512, seeds=[1, 2])
    images = pipe(["a cat"] * 2, latents=latents, num_inference_steps=50).images
    rgba, matte = key_result(images[0], params)

    # or all in one: generate, key, A1111-style infotext
    for result in generate(pipe, "a cat", params, seeds=[1, 2]):
        result.rgba.save(f"cat-{result.seed}.png")

``tkg_latents`` returns the *unit-variance* initial noise with the TKG channel-mean shift
applied: exactly what diffusers' own sampler draws (``randn_tensor`` with one CPU
``torch.Generator`` per seed) before TKG. diffusers' SD/SDXL pipelines multiply ``latents=``
by ``scheduler.init_noise_sigma`` themselves, so the result works with any scheduler as is;
pass ``scaled=True`` only for a hand-written sampling loop that does not.

diffusers and transformers are imported lazily: the WebUI path never needs them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from lib_tkg.colors import channel_shifts
from lib_tkg.noise import tkg_noise

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from lib_tkg.keying import KeyResult
    from lib_tkg.params import TkgParams

FAMILIES = ("sd1", "sd2", "sdxl")  # what detect_family can return
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


# --------------------------------------------------------------------------- family detection


def _config_get(config: Any, key: str, default: Any = None) -> Any:
    if config is None:
        return default
    if isinstance(config, dict):
        return config.get(key, default)
    return getattr(config, key, default)


def detect_family(pipe: Any) -> str:
    """The model family of a diffusers pipeline: ``"sd1"``, ``"sd2"`` or ``"sdxl"``.

    Read from the UNet config: ``addition_embed_type == "text_time"`` (or a 2048-wide cross
    attention, or an SDXL pipeline class) means SDXL; ``cross_attention_dim`` 768 means SD1.x
    and 1024 SD2.x. Anything else (SD3 and Flux are transformer-based) raises ``ValueError``.
    """
    name = type(pipe).__name__
    unet = getattr(pipe, "unet", None)
    config = getattr(unet, "config", None)
    if config is None:
        raise ValueError(
            f"unsupported pipeline {name}: TKG latents need a UNet-based Stable Diffusion "
            "pipeline (SD1.x, SD2.x or SDXL); SD3/Flux transformer pipelines are not supported here"
        )
    cross = _config_get(config, "cross_attention_dim")
    if isinstance(cross, (list, tuple)):
        cross = cross[0] if len(set(cross)) == 1 else None
    if (
        _config_get(config, "addition_embed_type") == "text_time"
        or cross == 2048
        or "StableDiffusionXL" in name
    ):
        return "sdxl"
    if cross == 768:
        return "sd1"
    if cross == 1024:
        return "sd2"
    raise ValueError(
        f"cannot tell the model family of {name}: UNet cross_attention_dim is {cross!r} "
        "(expected 768 for SD1.x, 1024 for SD2.x, or an SDXL UNet with addition_embed_type "
        "'text_time')"
    )


# --------------------------------------------------------------------------- latents


def _latent_geometry(pipe: Any, height: int, width: int) -> tuple[int, int, int]:
    """``(channels, latent height, latent width)`` for an image of ``height`` x ``width``."""
    factor = getattr(pipe, "vae_scale_factor", None)
    if factor is None:
        blocks = _config_get(getattr(pipe.vae, "config", None), "block_out_channels", (0,) * 4)
        factor = 2 ** (len(blocks) - 1)
    for label, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{label} must be a positive integer, got {value!r}")
        if value % factor:
            raise ValueError(f"{label} must be a multiple of {factor} for this model, got {value}")
    channels = int(_config_get(pipe.unet.config, "in_channels"))
    return channels, height // factor, width // factor


def _unet_placement(pipe: Any) -> tuple[torch.device, torch.dtype]:
    """Where and in which dtype the UNet runs, cheaply (one parameter, not the whole model).

    diffusers' ``pipe._execution_device`` and ``unet.dtype`` walk every module (milliseconds);
    with sequential CPU offload the parameters sit on ``meta``, where only the former helps.
    """
    param = next(pipe.unet.parameters(), None)
    if param is None:
        return torch.device("cpu"), torch.float32
    if param.device.type == "meta":
        return torch.device(pipe._execution_device), param.dtype
    return param.device, param.dtype


def _place(
    tensor: torch.Tensor, pipe: Any, device: torch.device | str | None, dtype: torch.dtype | None
) -> torch.Tensor:
    unet_device, unet_dtype = _unet_placement(pipe)
    return tensor.to(
        device=torch.device(device) if device is not None else unet_device,
        dtype=dtype or unet_dtype,
    )


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seeds must be integers, got {seed!r}")
    return seeds


def image_generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One CPU ``torch.Generator`` per image, seeded ``seeds[i]``: every random draw of image
    ``i`` (initial noise, then the per-step noise of ancestral/SDE schedulers) comes from it."""
    return [torch.Generator("cpu").manual_seed(seed) for seed in _check_seeds(seeds)]


def initial_noise(
    pipe: Any,
    *,
    height: int,
    width: int,
    seeds: Sequence[int],
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    generators: Sequence[torch.Generator] | None = None,
) -> torch.Tensor:
    """Plain unit-variance initial noise, shape ``(len(seeds), C, height/f, width/f)``.

    Image ``i`` is drawn (in float32 on the CPU) from ``torch.Generator("cpu").manual_seed(
    seeds[i])`` alone, so it does not depend on its batch position or on the device. These are
    the numbers diffusers draws for ``generator=[torch.Generator().manual_seed(s) for s in
    seeds]`` on a float32 pipeline. ``device``/``dtype`` default to the pipeline's.
    ``generators`` (from :func:`image_generators`): draw from these instead, advancing them,
    so that passing them on as the pipeline's ``generator=`` continues each image's stream as
    diffusers itself would.
    """
    seeds = _check_seeds(seeds)
    if generators is None:
        generators = image_generators(seeds)
    elif len(generators) != len(seeds):
        raise ValueError(f"got {len(generators)} generators for {len(seeds)} seeds")
    channels, lat_h, lat_w = _latent_geometry(pipe, height, width)
    samples = [
        torch.randn((1, channels, lat_h, lat_w), generator=generator, dtype=torch.float32)
        for generator in generators
    ]
    noise = torch.cat(samples)
    return _place(noise, pipe, device, dtype)


def tkg_latents(
    pipe: Any,
    params: TkgParams,
    *,
    height: int,
    width: int,
    seeds: Sequence[int],
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    family: str | None = None,
    scaled: bool = False,
    generators: Sequence[torch.Generator] | None = None,
) -> torch.Tensor:
    """TKG initial latents for ``pipe(..., latents=...)``.

    The plain noise of :func:`initial_noise` (one CPU generator per seed, so image ``i`` is
    reproducible alone; ``generators``: see there), with the channel-mean shift toward
    ``params.key_color`` applied outside the subject mask (``params.mask_kwargs``: sigma,
    centre, aspect, layout, mask image; ``lib_tkg.noise.subject_mask``), using the shifts of the
    pipeline's family (``detect_family`` unless ``family`` is given) at ``params.strength``
    (0 = Auto). TKG is applied whatever ``params.enabled`` says: the name says so.

    The result has unit variance like diffusers' own noise; the pipelines multiply it by
    ``scheduler.init_noise_sigma`` themselves. ``scaled=True`` multiplies by it here instead,
    for hand-written loops (call ``scheduler.set_timesteps`` first: for Euler-type schedulers
    the value depends on it).
    """
    family = family or detect_family(pipe)
    noise = initial_noise(
        pipe,
        height=height,
        width=width,
        seeds=seeds,
        device="cpu",
        dtype=torch.float32,
        generators=generators,
    )
    shifts = list(channel_shifts(params.key_color, family, params.strength_or_auto))
    if len(shifts) != noise.shape[1]:
        raise ValueError(
            f"the {family} colour shifts have {len(shifts)} channels but the UNet takes "
            f"{noise.shape[1]} latent channels (inpainting models are not supported)"
        )
    latents = tkg_noise(noise, shifts, **params.mask_kwargs)
    if scaled:
        latents = latents * float(pipe.scheduler.init_noise_sigma)
    return _place(latents, pipe, device, dtype)


# --------------------------------------------------------------------------- loading


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
            f"that loads ({_first_line(error)})"
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


def _first_line(error: BaseException) -> str:
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
                f"could not load checkpoint {text!r} ({_first_line(error)}); diffusers needs the "
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
                f"cannot load diffusers folder {text!r}: {_first_line(error)}"
            ) from error
    elif _HUB_ID.match(text) and not text.lower().endswith(SINGLE_FILE_SUFFIXES):
        try:
            pipe = diffusers.DiffusionPipeline.from_pretrained(text, **_dtype_kwargs(dtype))
        except Exception as error:  # hub unreachable, unknown repo, gated, ...
            raise ModelNotFoundError(
                f"model not found: {text!r} is no local file or folder and the Hugging Face hub "
                f"could not provide it ({_first_line(error)}); {_GIVE_LOCAL}"
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

    if name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}: expected one of {', '.join(SCHEDULERS)}")
    cls_name, extra, _ = SCHEDULERS[name]
    pipe.scheduler = getattr(diffusers, cls_name).from_config(pipe.scheduler.config, **extra)


# --------------------------------------------------------------------------- generate + key


def _quote(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ',:\n"') else text


def format_infotext(prompt: str, negative_prompt: str, settings: dict[str, Any]) -> str:
    """A1111-style ``parameters`` text: prompt, ``Negative prompt:`` line, ``Key: value, ...``."""
    lines = [prompt]
    if negative_prompt:
        lines.append(f"Negative prompt: {negative_prompt}")
    lines.append(", ".join(f"{k}: {_quote(v)}" for k, v in settings.items() if v is not None))
    return "\n".join(lines)


@dataclass
class TkgImage:
    """One generated image: the original, its keyed cut-out and matte, and its infotext."""

    seed: int
    image: Image.Image
    rgba: Image.Image | None
    matte: Image.Image | None
    infotext: str


def key_generated_image(image: Image.Image, params: TkgParams) -> KeyResult:
    """Chroma-key a generated ``image``: the keyer's whole ``KeyResult`` (cut-out, matte,
    whether anything was keyed, notes).

    The requested colour is the screen prior and the TKG Gaussian mask the subject prior
    (:func:`lib_tkg.keying.priors.key_generated`); ``params.tolerance``, ``despill`` and
    ``keep_shadow`` drive the keyer. An image whose background did not come out as a screen
    comes back opaque, with a ``lib_tkg.keying.NoKeyColorWarning`` saying so.
    """
    from lib_tkg.keying.priors import key_generated

    return key_generated(image.convert("RGB"), params)


def key_result(image: Image.Image, params: TkgParams) -> tuple[Image.Image, Image.Image]:
    """:func:`key_generated_image` as images: ``(RGBA cut-out, matte "L")``."""
    from PIL import Image

    result = key_generated_image(image, params)
    return Image.fromarray(result.rgba, "RGBA"), Image.fromarray(result.alpha, "L")


def scheduler_label(scheduler: Any) -> str:
    """The A1111-style sampler name of a diffusers scheduler (its class name if not known)."""
    name = type(scheduler).__name__
    config = getattr(scheduler, "config", {})
    for cls_name, extra, label in sorted(SCHEDULERS.values(), key=lambda e: -len(e[1])):
        if name == cls_name and all(config.get(k) == v for k, v in extra.items()):
            return label
    return name


def generate(
    pipe: Any,
    prompt: str,
    params: TkgParams,
    *,
    seeds: Sequence[int],
    negative_prompt: str = "",
    height: int | None = None,
    width: int | None = None,
    steps: int = 50,
    cfg: float = 7.5,
    batch_size: int = 1,
    key: bool = True,
    extra_infotext: dict[str, Any] | None = None,
    progress: bool | None = None,
) -> Iterator[TkgImage]:
    """Generate one image per seed with TKG latents and key each one; yields them as made.

    Defaults follow the paper's setting: 50 steps at CFG 7.5 (use a DDIM scheduler for its
    exact setup). ``height``/``width`` default to the model's native size. ``batch_size`` images
    go through the pipeline at a time. Image ``i`` depends on ``seeds[i]`` only, not on its
    batch or batch position, run to run: every random draw (initial noise and the per-step noise
    of ancestral/SDE schedulers) comes from its own CPU generator (:func:`image_generators`),
    and a Brownian-tree SDE scheduler (``DPMSolverSDEScheduler``) gets the batch's seeds as its
    per-image noise seeds. Nothing is kept: memory does not grow with ``len(seeds)``.
    ``key=False`` skips keying. ``progress`` True/False shows/hides diffusers' progress bar
    (None: leave it as set). TKG is applied whatever ``params.enabled`` says; the infotext
    records it as on.
    """
    family = detect_family(pipe)
    factor = getattr(pipe, "vae_scale_factor", 8)
    native = int(_config_get(pipe.unet.config, "sample_size", 64)) * factor
    height = height or native
    width = width or native
    seeds = _check_seeds(seeds)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    params = dataclasses.replace(params, enabled=True)
    sampler = scheduler_label(pipe.scheduler)
    batches = (len(seeds) + batch_size - 1) // batch_size
    for number in range(batches):
        chunk = seeds[number * batch_size : (number + 1) * batch_size]
        if progress is not None:
            desc = f"batch {number + 1}/{batches}" if batches > 1 else "generating"
            pipe.set_progress_bar_config(disable=not progress, desc=desc, leave=False)
        generators = image_generators(chunk)
        latents = tkg_latents(
            pipe,
            params,
            height=height,
            width=width,
            seeds=chunk,
            family=family,
            generators=generators,
        )
        if hasattr(pipe.scheduler, "noise_sampler_seed"):  # its Brownian tree ignores generator
            pipe.scheduler.noise_sampler_seed = list(chunk)
        output = pipe(
            prompt=[prompt] * len(chunk),
            negative_prompt=[negative_prompt] * len(chunk) if negative_prompt else None,
            height=height,
            width=width,
            num_inference_steps=steps,
            guidance_scale=cfg,
            latents=latents,
            generator=generators,
            output_type="pil",
        )
        images, output = output.images, None
        for seed in chunk:
            image = images.pop(0)
            settings = {
                "Steps": steps,
                "Sampler": sampler,
                "CFG scale": cfg,
                "Seed": seed,
                "Size": f"{width}x{height}",
                **(extra_infotext or {}),
                **params.to_infotext(),
            }
            rgba = matte = None
            if key:
                rgba, matte = key_result(image, params)
            info = format_infotext(prompt, negative_prompt, settings)
            yield TkgImage(seed, image.convert("RGB"), rgba, matte, info)
