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

from lib_tkg.pipeline.generation import (
    TkgImage,
    format_infotext,
    generate,
    key_generated_image,
    key_result,
    scheduler_label,
)
from lib_tkg.pipeline.latents import (
    FAMILIES,
    detect_family,
    image_generators,
    initial_noise,
    native_size,
    tkg_latents,
)
from lib_tkg.pipeline.loading import (
    SCHEDULERS,
    SINGLE_FILE_SUFFIXES,
    ModelNotFoundError,
    first_line,
    load_pipeline,
    set_scheduler,
    single_file_pipeline_class,
)

__all__ = [
    "FAMILIES",
    "SCHEDULERS",
    "SINGLE_FILE_SUFFIXES",
    "ModelNotFoundError",
    "TkgImage",
    "detect_family",
    "first_line",
    "format_infotext",
    "generate",
    "image_generators",
    "initial_noise",
    "key_generated_image",
    "key_result",
    "load_pipeline",
    "native_size",
    "scheduler_label",
    "set_scheduler",
    "single_file_pipeline_class",
    "tkg_latents",
]
