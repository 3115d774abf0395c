"""modules/processing.py of v1.10.1, reduced to what the script touches.

``StableDiffusionProcessing.save_samples`` (line 511) has the host's condition;
``create_infotext`` (line 705) the host's signature; ``process_images`` follows
``process_images_inner`` (line 863): fresh ``p.rng`` per batch, then ``before_process_batch``,
``process_batch``, sampling (``p.rng.next()`` for the initial noise, one more call per step for
an ancestral sampler), per image ``postprocess_image`` / ``postprocess_image_after_composite``,
saving with ``opts.samples_format`` (``images.save_image(image, ...)`` with the very object the
last ``postprocess_image_after_composite`` left in ``pp.image``, line 1085), infotexts, the grid
at index 0 (saved with ``opts.grid_save``, line 1130), and ``postprocess``. The hires pass saves
its first-pass images with ``-before-highres-fix`` when ``opts.save_images_before_highres_fix``
(line 1382).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image

from modules import images, rng, scripts, shared

opt_C = 4
opt_f = 8


class StableDiffusionProcessing:
    def __init__(
        self,
        *,
        prompt="a cat",
        negative_prompt="",
        seed=1,
        batch_size=1,
        n_iter=1,
        width=64,
        height=64,
        steps=3,
        sampler_name="Euler",
        ancestral_steps=0,
        do_not_save_samples=False,
        outpath_samples="outputs",
        outpath_grids=None,
        do_not_save_grid=False,
        scripts=None,
        script_args=None,
    ):
        self.prompt = prompt
        self.negative_prompt = negative_prompt
        self.seed = seed
        self.subseed = -1
        self.subseed_strength = 0.0
        self.seed_resize_from_h = 0
        self.seed_resize_from_w = 0
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.width = width
        self.height = height
        self.steps = steps
        self.sampler_name = sampler_name
        self.ancestral_steps = ancestral_steps  # extra p.rng.next() calls while sampling
        self.do_not_save_samples = do_not_save_samples
        self.outpath_samples = outpath_samples
        self.outpath_grids = outpath_grids or f"{outpath_samples}-grids"
        self.do_not_save_grid = do_not_save_grid
        self.scripts = scripts
        self.script_args = script_args or ()
        self.extra_generation_params: dict[str, Any] = {}
        self.comments: dict[str, int] = {}
        self.rng: rng.ImageRNG | None = None
        self.is_api = False
        self.iteration = 0
        self.batch_index = 0
        self.all_prompts: list[str] = []
        self.all_negative_prompts: list[str] = []
        self.all_seeds: list[int] = []
        self.all_subseeds: list[int] = []
        self.prompts: list[str] = []
        self.negative_prompts: list[str] = []
        self.seeds: list[int] = []
        self.subseeds: list[int] = []
        self.noise_log: list[torch.Tensor] = []  # test aid: every tensor the sampler drew

    @property
    def sd_model(self):
        return shared.sd_model

    @sd_model.setter
    def sd_model(self, value):
        pass

    def comment(self, text: str) -> None:
        self.comments[text] = 1

    def save_samples(self) -> bool:
        return (
            shared.opts.samples_save
            and not self.do_not_save_samples
            and (
                shared.opts.save_incomplete_images
                or (not shared.state.interrupted and not shared.state.skipped)
            )
        )

    def sample_noise(self) -> torch.Tensor:
        x = self.rng.next()
        self.noise_log.append(x)
        for _ in range(self.ancestral_steps):
            self.noise_log.append(self.rng.next())
        return x


class StableDiffusionProcessingTxt2Img(StableDiffusionProcessing):
    def __init__(self, *, enable_hr=False, **kwargs):
        super().__init__(**kwargs)
        self.enable_hr = enable_hr
        self.hr_noise: torch.Tensor | None = None

    def sample(self) -> torch.Tensor:
        x = self.sample_noise()
        if self.enable_hr:  # sample_hr_pass (line 1429): its own new ImageRNG, one .next()
            if self.save_samples() and shared.opts.save_images_before_highres_fix:
                for index, image in enumerate(decode(self, x)):  # save_intermediate, line 1374
                    images.save_image(
                        image,
                        self.outpath_samples,
                        "",
                        self.seeds[index],
                        self.prompts[index],
                        shared.opts.samples_format,
                        info=create_infotext(
                            self, self.prompts, self.seeds, self.subseeds, index=index
                        ),
                        p=self,
                        suffix="-before-highres-fix",
                    )
            self.rng = rng.ImageRNG(
                x.shape[1:],
                self.seeds,
                subseeds=self.subseeds,
                subseed_strength=self.subseed_strength,
            )
            self.hr_noise = self.rng.next()
        return x


class StableDiffusionProcessingImg2Img(StableDiffusionProcessing):
    def __init__(self, *, init_images=None, initial_noise_multiplier=1.0, **kwargs):
        super().__init__(**kwargs)
        self.init_images = init_images or []
        self.initial_noise_multiplier = initial_noise_multiplier

    def sample(self) -> torch.Tensor:
        x = self.sample_noise()
        if self.initial_noise_multiplier != 1.0:
            x = x * self.initial_noise_multiplier
        return x


class Processed:
    def __init__(
        self,
        p,
        images_list,
        seed=-1,
        info="",
        subseed=None,
        all_prompts=None,
        all_negative_prompts=None,
        all_seeds=None,
        all_subseeds=None,
        index_of_first_image=0,
        infotexts=None,
        comments="",
    ):
        self.images = images_list
        self.info = info
        self.seed = seed
        self.comments = "".join(f"{comment}\n" for comment in p.comments)
        self.extra_generation_params = p.extra_generation_params
        self.index_of_first_image = index_of_first_image
        self.all_seeds = all_seeds or p.all_seeds
        self.infotexts = infotexts or [info] * len(images_list)


def _quote(value: Any) -> str:
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def create_infotext(
    p,
    all_prompts,
    all_seeds,
    all_subseeds,
    comments=None,
    iteration=0,
    position_in_batch=0,
    use_main_prompt=False,
    index=None,
    all_negative_prompts=None,
):
    if use_main_prompt:
        index = 0
    elif index is None:
        index = position_in_batch + iteration * p.batch_size
    if all_negative_prompts is None:
        all_negative_prompts = p.all_negative_prompts
    generation_params = {
        "Steps": p.steps,
        "Sampler": p.sampler_name,
        "Seed": p.all_seeds[0] if use_main_prompt else all_seeds[index],
        "Size": f"{p.width}x{p.height}",
        **p.extra_generation_params,
    }
    text = ", ".join(
        k if k == v else f"{k}: {_quote(v)}" for k, v in generation_params.items() if v is not None
    )
    prompt = p.prompt if use_main_prompt else all_prompts[index]
    negative = all_negative_prompts[index] if all_negative_prompts else ""
    negative_text = f"\nNegative prompt: {negative}" if negative else ""
    return f"{prompt}{negative_text}\n{text}".strip()


def decode(p: StableDiffusionProcessing, latents: torch.Tensor) -> list[Image.Image]:
    """Stand-in VAE: a green screen with a noise-tinted square subject in the middle."""
    out = []
    for latent in latents:
        h, w = p.height, p.width
        arr = np.zeros((h, w, 3), np.uint8)
        arr[...] = (20, 200, 30)
        tint = int(abs(float(latent.mean())) * 400) % 100
        arr[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = (200, 60 + tint, 60)
        out.append(Image.fromarray(arr))
    return out


def process_images(p: StableDiffusionProcessing) -> Processed:
    p.all_prompts = [p.prompt] * (p.batch_size * p.n_iter)
    p.all_negative_prompts = [p.negative_prompt] * (p.batch_size * p.n_iter)
    p.all_seeds = [int(p.seed) + x for x in range(len(p.all_prompts))]
    p.all_subseeds = [x for x in range(len(p.all_prompts))]
    if p.scripts is not None:
        p.scripts.process(p)

    infotexts: list[str] = []
    output_images: list[Image.Image] = []
    for n in range(p.n_iter):
        p.iteration = n
        p.prompts = p.all_prompts[n * p.batch_size : (n + 1) * p.batch_size]
        p.negative_prompts = p.all_negative_prompts[n * p.batch_size : (n + 1) * p.batch_size]
        p.seeds = p.all_seeds[n * p.batch_size : (n + 1) * p.batch_size]
        p.subseeds = p.all_subseeds[n * p.batch_size : (n + 1) * p.batch_size]

        latent_channels = getattr(shared.sd_model, "latent_channels", opt_C)
        p.rng = rng.ImageRNG(
            (latent_channels, p.height // opt_f, p.width // opt_f),
            p.seeds,
            subseeds=p.subseeds,
            subseed_strength=p.subseed_strength,
            seed_resize_from_h=p.seed_resize_from_h,
            seed_resize_from_w=p.seed_resize_from_w,
        )
        if p.scripts is not None:
            p.scripts.before_process_batch(
                p, batch_number=n, prompts=p.prompts, seeds=p.seeds, subseeds=p.subseeds
            )
            p.scripts.process_batch(
                p, batch_number=n, prompts=p.prompts, seeds=p.seeds, subseeds=p.subseeds
            )

        samples = p.sample()
        save_samples = p.save_samples()

        def infotext(index=0, use_main_prompt=False):
            return create_infotext(
                p,
                p.prompts,
                p.seeds,
                p.subseeds,
                use_main_prompt=use_main_prompt,
                index=index,
                all_negative_prompts=p.negative_prompts,
            )

        for i, image in enumerate(decode(p, samples)):
            p.batch_index = i
            if p.scripts is not None:
                pp = scripts.PostprocessImageArgs(image)
                p.scripts.postprocess_image(p, pp)
                image = pp.image
                pp = scripts.PostprocessImageArgs(image)
                p.scripts.postprocess_image_after_composite(p, pp)
                image = pp.image
            if save_samples:
                images.save_image(
                    image,
                    p.outpath_samples,
                    "",
                    p.seeds[i],
                    p.prompts[i],
                    shared.opts.samples_format,
                    info=infotext(i),
                    p=p,
                )
            text = infotext(i)
            infotexts.append(text)
            if shared.opts.enable_pnginfo:
                image.info["parameters"] = text
            output_images.append(image)

    index_of_first_image = 0
    unwanted_grid = len(output_images) < 2 and shared.opts.grid_only_if_multiple
    if (shared.opts.return_grid or shared.opts.grid_save) and not (
        p.do_not_save_grid or unwanted_grid
    ):
        grid = images.image_grid(output_images, p.batch_size)
        if shared.opts.return_grid:
            infotexts.insert(0, infotext(use_main_prompt=True))
            output_images.insert(0, grid)
            index_of_first_image = 1
        if shared.opts.grid_save:
            images.save_image(
                grid,
                p.outpath_grids,
                "grid",
                p.all_seeds[0],
                p.all_prompts[0],
                shared.opts.grid_format,
                info=infotext(use_main_prompt=True),
                short_filename=not shared.opts.grid_extended_filename,
                p=p,
                grid=True,
            )

    res = Processed(
        p,
        output_images,
        seed=p.all_seeds[0],
        info=infotexts[0] if infotexts else "",
        index_of_first_image=index_of_first_image,
        infotexts=infotexts,
    )
    if p.scripts is not None:
        p.scripts.postprocess(p, res)
    return res
