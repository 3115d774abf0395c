"""diffusers integration (lib_tkg.pipeline) and the ``tkg-chroma generate`` command, end to end.

A tiny randomly initialised SD1.x-shaped pipeline (tests/tiny_pipeline.py) is built from
configs, saved with ``save_pretrained`` and loaded back through ``load_pipeline``; nothing is
downloaded. The end-to-end test runs the CLI for 2 steps and checks, with a forward pre-hook on
the UNet, that the first UNet input is exactly the TKG latents as the scheduler scales them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))

import tiny_pipeline

from lib_tkg import pipeline as tkp
from lib_tkg.colors import channel_shifts
from lib_tkg.noise import tkg_noise
from lib_tkg.params import TkgParams


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """The tiny pipeline saved as a diffusers folder (built once per module)."""
    return tiny_pipeline.save_pipeline(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def pipe(model_dir):
    loaded = tkp.load_pipeline(model_dir, "cpu")
    loaded.set_progress_bar_config(disable=True)
    return loaded


class UNetInputs:
    """Records the ``sample`` and ``timestep`` of every UNet call (forward pre-hook)."""

    def __init__(self, unet) -> None:
        self.calls: list[tuple[torch.Tensor, float]] = []
        self.handle = unet.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs) -> None:
        sample = args[0] if args else kwargs["sample"]
        timestep = args[1] if len(args) > 1 else kwargs["timestep"]
        self.calls.append((sample.detach().clone(), float(torch.as_tensor(timestep).flatten()[0])))

    def first_step(self, t0: float) -> list[torch.Tensor]:
        return [sample for sample, t in self.calls if t == t0]

    def remove(self) -> None:
        self.handle.remove()


def expected_unet_input(pipe, latents: torch.Tensor, steps: int) -> tuple[torch.Tensor, float]:
    """What a diffusers pipeline feeds the UNet at step 0 for ``latents=`` (one CFG half)."""
    scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config)
    scheduler.set_timesteps(steps)
    t0 = scheduler.timesteps[0]
    scaled = latents * scheduler.init_noise_sigma
    return scheduler.scale_model_input(scaled, t0), float(t0)


# ------------------------------------------------------------------------------ detect_family


def _fake(name: str = "StableDiffusionPipeline", **config):
    cls = type(name, (), {})
    fake = cls()
    fake.unet = SimpleNamespace(config=config)
    return fake


@pytest.mark.parametrize(
    ("fake", "family"),
    [
        (_fake(cross_attention_dim=768), "sd1"),
        (_fake(cross_attention_dim=1024), "sd2"),
        (_fake(cross_attention_dim=2048, addition_embed_type="text_time"), "sdxl"),
        (_fake(cross_attention_dim=1280, addition_embed_type="text_time"), "sdxl"),  # refiner
        (_fake(cross_attention_dim=2048), "sdxl"),
        (_fake("StableDiffusionXLPipeline", cross_attention_dim=None), "sdxl"),
        (_fake(cross_attention_dim=[768, 768, 768, 768]), "sd1"),
    ],
)
def test_detect_family_from_unet_config(fake, family):
    assert tkp.detect_family(fake) == family


def test_detect_family_rejects_unknown_models():
    with pytest.raises(ValueError, match="cross_attention_dim is 4096"):
        tkp.detect_family(_fake(cross_attention_dim=4096))
    transformer_pipe = type("FluxPipeline", (), {})()
    with pytest.raises(ValueError, match="SD3/Flux"):
        tkp.detect_family(transformer_pipe)


def test_detect_family_of_real_pipeline(pipe):
    assert tkp.detect_family(pipe) == "sd1"


# ------------------------------------------------------------------------------ latents


def test_tkg_latents_shape_dtype_and_tkg(pipe):
    params = TkgParams(color="blue", strength=0.2, sigma=0.7, center_x=0.3, center_y=-0.2)
    latents = tkp.tkg_latents(pipe, params, height=64, width=96, seeds=[11, 12])
    assert latents.shape == (2, 4, 8, 12)
    assert latents.dtype == torch.float32
    assert latents.device.type == "cpu"
    plain = tkp.initial_noise(pipe, height=64, width=96, seeds=[11, 12])
    want = tkg_noise(plain, channel_shifts("blue", "sd1", 0.2), sigma=0.7, center=(0.3, -0.2))
    torch.testing.assert_close(latents, want, rtol=0, atol=0)
    assert not torch.equal(latents, plain)
    half = tkp.tkg_latents(pipe, params, height=64, width=96, seeds=[11], dtype=torch.float16)
    assert half.dtype == torch.float16
    torch.testing.assert_close(half.float(), want[:1], rtol=0, atol=1e-3)


def test_tkg_latents_per_seed_reproducible_independent_of_batch_position(pipe):
    params = TkgParams(color="green")
    batch = tkp.tkg_latents(pipe, params, height=64, width=64, seeds=[5, 6, 7])
    for i, seed in enumerate([5, 6, 7]):
        alone = tkp.tkg_latents(pipe, params, height=64, width=64, seeds=[seed])
        torch.testing.assert_close(batch[i : i + 1], alone, rtol=0, atol=0)
    swapped = tkp.tkg_latents(pipe, params, height=64, width=64, seeds=[7, 5])
    torch.testing.assert_close(swapped[0], batch[2], rtol=0, atol=0)
    torch.testing.assert_close(swapped[1], batch[0], rtol=0, atol=0)
    assert not torch.equal(batch[0], batch[1])


def test_tkg_latents_scaled_and_validation(pipe):
    params = TkgParams()
    base = tkp.tkg_latents(pipe, params, height=64, width=64, seeds=[1])
    scaled = tkp.tkg_latents(pipe, params, height=64, width=64, seeds=[1], scaled=True)
    torch.testing.assert_close(scaled, base * float(pipe.scheduler.init_noise_sigma))
    with pytest.raises(ValueError, match="multiple of 8"):
        tkp.tkg_latents(pipe, params, height=60, width=64, seeds=[1])
    with pytest.raises(ValueError, match="at least one seed"):
        tkp.tkg_latents(pipe, params, height=64, width=64, seeds=[])
    with pytest.raises(ValueError, match="integers"):
        tkp.tkg_latents(pipe, params, height=64, width=64, seeds=[1.5])


def test_initial_noise_is_what_diffusers_draws_for_the_same_seeds(pipe):
    """Plain ``initial_noise`` == diffusers' own per-seed noise: TKG off gives its images."""
    seeds = [3, 4]
    common = {"prompt": ["a cat"] * 2, "num_inference_steps": 1, "output_type": "latent"}
    rec = UNetInputs(pipe.unet)
    try:
        pipe(generator=[torch.Generator().manual_seed(s) for s in seeds], **common)
        own = rec.calls[0][0]
        rec.calls.clear()
        pipe(latents=tkp.initial_noise(pipe, height=64, width=64, seeds=seeds), **common)
        ours = rec.calls[0][0]
    finally:
        rec.remove()
    torch.testing.assert_close(ours, own, rtol=0, atol=0)


# ------------------------------------------------------------------------------ load_pipeline


def test_load_pipeline_from_saved_folder(model_dir):
    loaded = tkp.load_pipeline(str(model_dir), "cpu", scheduler="euler")
    assert type(loaded).__name__ == "StableDiffusionPipeline"
    assert type(loaded.scheduler).__name__ == "EulerDiscreteScheduler"
    assert loaded.unet.dtype == torch.float32


def test_load_pipeline_missing_model_is_clear(tmp_path):
    for missing in (tmp_path / "nope.safetensors", tmp_path / "no-such-dir", "./x/y/z"):
        with pytest.raises(tkp.ModelNotFoundError, match=r"model not found: .*give a local file"):
            tkp.load_pipeline(missing, "cpu")
    with pytest.raises(tkp.ModelNotFoundError, match=r"no model_index\.json"):
        tkp.load_pipeline(tmp_path, "cpu")
    other = tmp_path / "model.bin"
    other.write_bytes(b"0")
    with pytest.raises(ValueError, match="unsupported model file"):
        tkp.load_pipeline(other, "cpu")


def test_single_file_checkpoints_pick_the_pipeline_class(tmp_path, monkeypatch):
    from safetensors.torch import save_file

    def checkpoint(name: str, key: str) -> Path:
        path = tmp_path / name
        save_file({key: torch.zeros(1)}, str(path))
        return path

    sd1 = checkpoint("sd1.safetensors", "model.diffusion_model.input_blocks.0.0.weight")
    sdxl = checkpoint("xl.safetensors", "conditioner.embedders.1.model.ln_final.weight")
    flux = checkpoint("flux.safetensors", "double_blocks.0.img_attn.norm.key_norm.scale")
    junk = checkpoint("junk.safetensors", "foo.weight")
    assert tkp.single_file_pipeline_class(sd1) == "StableDiffusionPipeline"
    assert tkp.single_file_pipeline_class(sdxl) == "StableDiffusionXLPipeline"
    with pytest.raises(ValueError, match="SD3/Flux"):
        tkp.single_file_pipeline_class(flux)
    with pytest.raises(ValueError, match="not a Stable Diffusion checkpoint"):
        tkp.single_file_pipeline_class(junk)

    import diffusers

    seen = {}

    def fake_from_single_file(cls, path, **kwargs):
        seen.update(cls=cls.__name__, path=path, **kwargs)
        raise OSError("Cannot find the config files\nmore detail")

    monkeypatch.setattr(
        diffusers.StableDiffusionPipeline, "from_single_file", classmethod(fake_from_single_file)
    )
    with pytest.raises(tkp.ModelNotFoundError, match=r"config=.*--config"):
        tkp.load_pipeline(sd1, "cpu", config=tmp_path / "cfg")
    assert seen["cls"] == "StableDiffusionPipeline"
    assert seen["path"] == str(sd1)
    assert seen["config"] == str(tmp_path / "cfg")


def test_format_infotext_quotes_like_a1111():
    text = tkp.format_infotext("a cat", "blurry", {"Steps": 2, "Model": "C:/m, v2", "X": None})
    assert text == 'a cat\nNegative prompt: blurry\nSteps: 2, Model: "C:/m, v2"'
    assert tkp.format_infotext("p", "", {"Seed": 1}) == "p\nSeed: 1"


# ------------------------------------------------------------------------------ CLI generate


@pytest.fixture
def recorded_load(monkeypatch):
    """Wrap ``load_pipeline`` so the test gets the CLI's pipeline with a UNet input recorder."""
    seen: dict = {}
    real = tkp.load_pipeline

    def load(*args, **kwargs):
        loaded = real(*args, **kwargs)
        seen["pipe"] = loaded
        seen["rec"] = UNetInputs(loaded.unet)
        return loaded

    monkeypatch.setattr(tkp, "load_pipeline", load)
    yield seen
    if "rec" in seen:
        seen["rec"].remove()


@pytest.mark.parametrize(("scheduler", "sampler"), [("ddim", "DDIM"), ("euler", "Euler")])
def test_cli_generate_end_to_end(model_dir, tmp_path, recorded_load, scheduler, sampler):
    from lib_tkg.cli import main

    out = tmp_path / "out"
    argv = ["generate", "--model", str(model_dir), "a cat", "--negative", "blurry"]
    argv += ["--color", "blue", "--strength", "0.2", "--sigma", "0.6", "--center", "0.25", "-0.5"]
    argv += ["--steps", "2", "--cfg", "5", "--seed", "42", "--n", "2", "--size", "64x64"]
    argv += ["--device", "cpu", "--scheduler", scheduler, "--mask", "-q", "-o", str(out)]
    argv += ["--aspect", "1.5", "--keep-shadow"]
    assert main(argv) == 0

    pipe, rec = recorded_load["pipe"], recorded_load["rec"]
    assert type(pipe.scheduler).__name__ == f"{sampler}DiscreteScheduler".replace(
        "DDIMDiscrete", "DDIM"
    )
    params = TkgParams(
        color="blue", strength=0.2, sigma=0.6, center_x=0.25, center_y=-0.5, aspect=1.5
    )
    latents = tkp.tkg_latents(pipe, params, height=64, width=64, seeds=[42, 43])
    expected, t0 = expected_unet_input(pipe, latents, steps=2)
    firsts = rec.first_step(t0)
    assert len(firsts) == 2  # batch size 1: one first step per image
    for i, sample in enumerate(firsts):
        # CFG: the UNet sees [uncond, cond] halves, both the same latents
        want = torch.cat([expected[i : i + 1]] * 2)
        torch.testing.assert_close(sample, want, rtol=1e-6, atol=1e-6)
    if scheduler == "euler":
        # init_noise_sigma = sqrt(sigma_max^2 + 1) (~1.9 for these 2 steps): the pipeline
        # scales the latents up once and scale_model_input scales them back; scaling them in
        # tkg_latents as well would make the UNet input that much too large
        assert float(pipe.scheduler.init_noise_sigma) > 1.5
    else:
        assert float(pipe.scheduler.init_noise_sigma) == 1.0
        torch.testing.assert_close(expected, latents, rtol=0, atol=0)

    for index, seed in enumerate([42, 43]):
        base = out / f"{index:05d}-{seed}"
        modes = {"": "RGB", "-rgba": "RGBA", "-matte": "L"}
        for suffix, mode in modes.items():
            with Image.open(f"{base}{suffix}.png") as image:
                assert image.mode == mode
                assert image.size == (64, 64)
                info = image.info["parameters"]
            assert info.startswith("a cat\nNegative prompt: blurry\n")
            for item in (
                f"Seed: {seed}",
                "Steps: 2",
                f"Sampler: {sampler}",
                "CFG scale: 5.0",
                "Size: 64x64",
                "Model: tiny-sd",
                "TKG: on",
                "TKG color: blue",
                "TKG strength: 0.2",
                "TKG sigma: 0.6",
                "TKG center x: 0.25",
                "TKG center y: -0.5",
                "TKG aspect: 1.5",
                "TKG keep shadow: True",
            ):
                assert item in info
            pasted = TkgParams.from_infotext(
                dict(part.split(": ", 1) for part in info.splitlines()[-1].split(", "))
            )
            assert pasted.color == "blue"
            assert pasted.center == (0.25, -0.5)
        with Image.open(f"{base}-rgba.png") as rgba, Image.open(f"{base}-matte.png") as matte:
            assert np.array_equal(np.asarray(rgba)[..., 3], np.asarray(matte))


def test_tkg_latents_with_layout_and_mask_image(pipe):
    pixels = np.zeros((64, 96), np.uint8)
    pixels[8:40, 60:90] = 255
    params = TkgParams(layout="-0.5 0 0.3 0.5 20", mask_image=Image.fromarray(pixels), sigma=0.2)
    latents = tkp.tkg_latents(pipe, params, height=64, width=96, seeds=[11, 12])
    plain = tkp.initial_noise(pipe, height=64, width=96, seeds=[11, 12])
    shifts = channel_shifts("green", "sd1", None)
    want = tkg_noise(plain, shifts, 0.2, layout="-0.5 0 0.3 0.5 20", image=params.mask_image)
    torch.testing.assert_close(latents, want, rtol=0, atol=0)
    assert not torch.equal(latents, tkg_noise(plain, shifts, 0.2, layout="-0.5 0 0.3 0.5 20"))


def test_cli_generate_layout_and_mask_image(model_dir, tmp_path, recorded_load):
    from lib_tkg.cli import main

    mask_path = tmp_path / "silhouette.png"
    pixels = np.zeros((64, 64), np.uint8)
    pixels[16:48, 40:60] = 255
    Image.fromarray(pixels).save(mask_path)
    out = tmp_path / "out"
    argv = ["generate", "-m", str(model_dir), "x", "--steps", "1", "--size", "64x64", "-q"]
    argv += ["--device", "cpu", "--seed", "9", "-o", str(out), "--sigma", "0.2"]
    argv += ["--layout", "-0.5 -0.5 0.25 2; -0.5 0.5 0.2", "--mask-image", str(mask_path)]
    assert main(argv) == 0
    params = TkgParams(
        layout="-0.5 -0.5 0.25 2; -0.5 0.5 0.2", mask_image=Image.fromarray(pixels), sigma=0.2
    )
    pipe, rec = recorded_load["pipe"], recorded_load["rec"]
    latents = tkp.tkg_latents(pipe, params, height=64, width=64, seeds=[9])
    expected, t0 = expected_unet_input(pipe, latents, steps=1)
    (first,) = rec.first_step(t0)
    torch.testing.assert_close(first, torch.cat([expected] * 2), rtol=1e-6, atol=1e-6)
    with Image.open(out / "00000-9.png") as image:
        info = image.info["parameters"]
    assert 'TKG layout: "-0.5 -0.5 0.25 2; -0.5 0.5 0.2"' in info or (
        "TKG layout: -0.5 -0.5 0.25 2; -0.5 0.5 0.2" in info
    )
    assert "TKG mask image: 64x64 (not stored" in info


def test_cli_generate_numbering_continues_and_no_matte_by_default(model_dir, tmp_path):
    from lib_tkg.cli import main

    out = tmp_path / "out"
    argv = ["generate", "-m", str(model_dir), "x", "--steps", "1", "--size", "64x64", "-q"]
    argv += ["--device", "cpu", "-o", str(out)]
    assert main([*argv, "--seed", "5"]) == 0
    assert main([*argv, "--seed", "5", "--scheduler", "model"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["00000-5-rgba.png", "00000-5.png", "00001-5-rgba.png", "00001-5.png"]
    with Image.open(out / "00000-5.png") as first, Image.open(out / "00001-5.png") as second:
        assert "Sampler: DDIM" in first.info["parameters"]
        assert "Sampler: DDIM" in second.info["parameters"]  # the model's scheduler is DDIM


def test_cli_generate_output_that_is_a_file_fails_before_loading(tmp_path, capsys, monkeypatch):
    from lib_tkg.cli import main

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(tkp, "load_pipeline", no_loading)
    taken = tmp_path / "a.png"
    taken.write_bytes(b"user file")
    code = main(["generate", "-m", str(tmp_path / "m"), "x", "-o", str(taken)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "is a file; give a folder" in err[0]
    assert taken.read_bytes() == b"user file"


def test_cli_generate_mask_image_over_pillows_limit_fails_in_one_line(
    model_dir, tmp_path, capsys, monkeypatch
):
    from lib_tkg.cli import main

    mask = tmp_path / "mask.png"
    Image.new("L", (64, 64), 255).save(mask)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 4096 pixels: a "decompression bomb"
    argv = ["generate", "-m", str(model_dir), "x", "-o", str(tmp_path / "o")]
    code = main([*argv, "--mask-image", str(mask)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"tkg-chroma: error: --mask-image {mask}: not a readable image")
    assert "exceeds limit" in err[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--color", "chartreuse"], "--color: unknown colour 'chartreuse'"),
        (["--color", "custom"], "--color custom: give the colour itself"),
        (["--strength", "0.7"], "--strength: must be"),
        (["--sigma", "0"], "--sigma: must be"),
        (["--center", "2", "0"], "--center X: must be"),
        (["--aspect", "9"], "--aspect: must be"),
        (["--layout", "0 0 0.3; 0 0 9"], "--layout: subject 2 'sigma' must be a number in"),
        (["--mask-image", "missing.png"], "--mask-image missing.png: not a readable image"),
        (["--tolerance", "x"], "--tolerance: must be"),
        (["--size", "65x64"], "multiples of 8"),
        (["--size", "big"], "WxH"),
        (["--steps", "0"], "--steps"),
        (["--cfg", "nan"], "--cfg"),
        (["--seed", "abc"], "--seed"),
        (["--n", "0"], "--n"),
        (["--scheduler", "nope"], "--scheduler"),
        (["--dtype", "fp8"], "--dtype"),
        (["--device", "tpu9"], "--device"),
    ],
)
def test_cli_generate_bad_options_fail_in_one_line(model_dir, tmp_path, capsys, extra, message):
    from lib_tkg.cli import main

    out = tmp_path / "out"
    code = main(["generate", "-m", str(model_dir), "x", "-o", str(out), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("tkg-chroma: error: ")
    assert message in err[0]
    assert not out.exists()  # rejected before anything was loaded or written


def test_cli_generate_missing_model_fails_in_one_line(tmp_path, capsys):
    from lib_tkg.cli import main

    for model in (tmp_path / "missing.safetensors", tmp_path):
        code = main(["generate", "-m", str(model), "x", "-o", str(tmp_path / "o"), "-q"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2
        assert len(err) == 1
        assert err[0].startswith("tkg-chroma: error: model not found: ")
        assert "give a local file or folder" in err[0]


def test_cli_scheduler_names_match_the_pipeline_module():
    from lib_tkg.cli.generate import GENERATE_SCHEDULERS

    assert set(GENERATE_SCHEDULERS) == set(tkp.SCHEDULERS)


# ------------------------------------------------------------------ reproducibility, streaming


def _images(pipe, seeds, batch_size):
    params = TkgParams(color="green")
    results = tkp.generate(
        pipe, "a cat", params, seeds=seeds, steps=3, batch_size=batch_size, key=False
    )
    return [np.asarray(r.image, dtype=np.int16) for r in results]


def test_euler_a_same_seed_same_image_run_to_run_and_at_any_batch_size(model_dir):
    pipe = tkp.load_pipeline(model_dir, "cpu", scheduler="euler_a")
    pipe.set_progress_bar_config(disable=True)
    first = _images(pipe, [7, 8], batch_size=1)
    torch.manual_seed(12345)  # the global RNG must not matter
    again = _images(pipe, [7, 8], batch_size=1)
    batched = _images(pipe, [7, 8], batch_size=2)
    alone = _images(pipe, [8], batch_size=1)
    for a, b, c in zip(first, again, batched, strict=True):
        assert np.abs(a - b).max() <= 1
        assert np.abs(a - c).max() <= 1
    assert np.abs(alone[0] - first[1]).max() <= 1
    assert np.abs(first[0] - first[1]).max() > 10  # different seeds do differ


def test_ancestral_step_noise_comes_from_the_image_generators(model_dir):
    """Per-step noise is drawn from generators seeded like the image, so the run equals
    diffusers' own sampling with ``generator=[Generator().manual_seed(s)]`` (no TKG shift)."""
    pipe = tkp.load_pipeline(model_dir, "cpu", scheduler="euler_a")
    pipe.set_progress_bar_config(disable=True)
    params = TkgParams(color="green")
    noise = tkp.tkg_latents(pipe, params, height=64, width=64, seeds=[5])
    gens = tkp.image_generators([5])
    tkp.initial_noise(pipe, height=64, width=64, seeds=[5], generators=gens)
    want = pipe(
        "a cat", height=64, width=64, num_inference_steps=3, latents=noise, generator=gens
    ).images[0]
    got = next(iter(tkp.generate(pipe, "a cat", params, seeds=[5], steps=3, key=False)))
    assert np.abs(np.asarray(got.image, np.int16) - np.asarray(want, np.int16)).max() <= 1


def test_brownian_tree_schedulers_get_the_per_image_seeds(pipe):
    pipe.scheduler.noise_sampler_seed = None  # as DPMSolverSDEScheduler has it
    try:
        list(tkp.generate(pipe, "x", TkgParams(), seeds=[3, 4], steps=1, batch_size=2, key=False))
        assert pipe.scheduler.noise_sampler_seed == [3, 4]
    finally:
        del pipe.scheduler.noise_sampler_seed


def test_generate_streams_and_keeps_nothing(pipe):
    import gc
    import weakref

    results = tkp.generate(pipe, "x", TkgParams(), seeds=[1, 2, 3], steps=1, key=False)
    first = next(iter(results))
    ref = weakref.ref(first.image)
    del first
    next(iter(results))
    gc.collect()
    assert ref() is None  # image 1 is gone once the caller dropped it


# ------------------------------------------------------------------ generate: CLI details


def test_cli_generate_bad_option_exits_before_heavy_imports(tmp_path):
    import subprocess

    out = tmp_path / "out"
    code = (
        "import sys\nfrom lib_tkg.cli import main\n"
        f"rc = main(['generate', '-m', 'nowhere', 'x', '-o', {str(out)!r}, '--steps', '0'])\n"
        "heavy = sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules)\n"
        "print(rc, heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
    )
    assert proc.stdout.strip() == "2 []", proc.stdout + proc.stderr
    assert "--steps must be in [1, 500], got 0" in proc.stderr
    assert not out.exists()


def test_cli_generate_creates_nothing_before_the_model_loads(tmp_path, capsys):
    from lib_tkg.cli import main

    out = tmp_path / "out"
    assert main(["generate", "-m", str(tmp_path / "no.safetensors"), "x", "-o", str(out)]) == 2
    assert not out.exists()


def test_next_index_reads_any_number_of_digits(tmp_path):
    from lib_tkg.cli.generate import _next_index

    for name in ("00007-1.png", "99999-5.png", "100000-5.png", "100000-5-rgba.png", "notes.png"):
        (tmp_path / name).write_bytes(b"")
    assert _next_index(tmp_path) == 100001
    assert _next_index(tmp_path / "missing") == 0


def test_cli_generate_model_folder_with_a_dot_keeps_its_name(model_dir, tmp_path):
    from lib_tkg.cli import main

    named = tmp_path / "sd-v1.5"
    named.symlink_to(model_dir, target_is_directory=True)
    out = tmp_path / "out"
    argv = ["generate", "-m", str(named), "x", "--steps", "1", "--seed", "1", "-q"]
    assert main([*argv, "--device", "cpu", "-o", str(out)]) == 0
    with Image.open(out / "00000-1.png") as image:
        assert "Model: sd-v1.5," in image.info["parameters"]


def test_cli_generate_help_gives_the_real_tolerance_range(capsys):
    from lib_tkg.cli import main

    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--tolerance T keyer tolerance, a number in [0, 0.85]" in text


def test_a_file_that_is_not_a_checkpoint_says_so(tmp_path):
    fake = tmp_path / "fake.ckpt"
    fake.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ValueError, match=r"fake.ckpt: not a \.safetensors or PyTorch \.ckpt"):
        tkp.single_file_pipeline_class(fake)


def test_cli_generate_a_model_that_cannot_be_looked_up_is_one_line(tmp_path, capsys, monkeypatch):
    """No permission on the model's folder (simulated: this may run as root): one error line,
    exit 2 (a traceback from the file check before)."""
    from pathlib import Path

    from lib_tkg.cli import main

    real_is_file = Path.is_file

    def is_file(self):
        if self.name == "m.safetensors":
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    model = tmp_path / "noread" / "m.safetensors"
    code = main(["generate", "-m", str(model), "a cat", "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [
        f"tkg-chroma: error: cannot read model {str(model)!r}: Permission denied"
    ]


def test_cli_generate_numbering_ignores_other_files_numbers(tmp_path):
    from lib_tkg.cli.generate import _next_index

    (tmp_path / "2024-notes.txt").write_text("x")
    (tmp_path / "7-up.png").write_bytes(b"x")
    assert _next_index(tmp_path) == 0  # (was 2025)
    (tmp_path / "00003-42-rgba.png").write_bytes(b"x")
    assert _next_index(tmp_path) == 4


def test_cli_generate_never_writes_over_a_name_another_run_takes_meanwhile(tmp_path, monkeypatch):
    """The names were checked before keying and written straight: another run writing them
    meanwhile lost its files, and Ctrl-C left a half-written PNG. Now written under temporary
    names and put in place together, moving on to the next index."""
    from PIL import Image, PngImagePlugin

    from lib_tkg import outputs
    from lib_tkg.cli import generate

    real = outputs.publish

    def publish(tmp, path):
        if Path(path).name == "00000-5-rgba.png":
            Path(path).write_bytes(b"the other run's")
            raise outputs.exists_error(path)
        real(tmp, path)

    monkeypatch.setattr(outputs, "publish", publish)
    images = [Image.new("RGB", (8, 8)), Image.new("RGBA", (8, 8))]
    nxt = generate._save_generated(
        images, tmp_path, 0, 5, ["-rgba"], [PngImagePlugin.PngInfo()] * 2
    )
    assert nxt == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "00000-5-rgba.png",
        "00001-5-rgba.png",
        "00001-5.png",
    ]
    assert (tmp_path / "00000-5-rgba.png").read_bytes() == b"the other run's"

    def interrupted(tmp, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "publish", interrupted)
    with pytest.raises(KeyboardInterrupt):
        generate._save_generated(
            images, tmp_path, nxt, 5, ["-rgba"], [PngImagePlugin.PngInfo()] * 2
        )
    assert len(list(tmp_path.iterdir())) == 3  # nothing half-written, no temporary file


# ------------------------------------------------------------------ generate: new-user trial


def _generate(tmp_path, *extra, model=None):
    from lib_tkg.cli import main

    out = tmp_path / "out"
    argv = ["generate", "-m", str(model or tmp_path / "m"), "x", "-o", str(out), "-q", *extra]
    return main(argv), out


def test_cli_generate_refuses_a_mask_image_with_no_subject(tmp_path, capsys):
    """An all-black (or all-transparent) mask image shifted the whole canvas, the centre
    too: no subject, and no word about it."""
    for name, image in (
        ("black.png", Image.new("L", (64, 64), 0)),
        ("clear.png", Image.new("LA", (64, 64), (255, 0))),
    ):
        image.save(tmp_path / name)
        code, out = _generate(tmp_path, "--mask-image", str(tmp_path / name))
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and not out.exists()
        assert "--mask-image: has no pixel at least half white" in err[0], err


def test_cli_generate_options_are_named_and_checked_before_loading(tmp_path, capsys, monkeypatch):
    """--steps 1000 was accepted and crashed DDIM, PNDM, DPM++ and UniPC after loading with a
    traceback; a superscript digit in --size gave a traceback; a TKG value's message named the
    field ('center_x'), not the option; --scheduler DDIM and --dtype FP16 were refused."""

    class Loaded(BaseException):  # (not an Exception: the CLI's own handling lets it through)
        pass

    def no_loading(*args, **kwargs):
        raise Loaded

    monkeypatch.setattr(tkp, "load_pipeline", no_loading)
    for extra, message in (
        (("--steps", "501"), "--steps must be in [1, 500], got 501"),
        (("--size", "²x64"), "--size must be WxH"),
        (("--center", "0", "2"), "--center Y: must be a number in [-1, 1], got '2'"),
    ):
        code, out = _generate(tmp_path, *extra)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and message in err[0], err
        assert not out.exists()
    with pytest.raises(Loaded):  # (past every check)
        _generate(tmp_path, "--scheduler", "DDIM", "--dtype", "FP16")


def test_cli_generate_failures_after_loading_are_one_line_and_leave_no_folder(
    model_dir, tmp_path, capsys, monkeypatch
):
    """A model diffusers cannot put together gave a traceback; a colour the model's family
    cannot shift toward failed after the folder was made (left empty); a failure inside the
    sampler (PNDM with 1 step) was called a bad option (exit 2), --debug gave no traceback."""
    real = tkp.load_pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("Error(s) in loading state_dict for UNet2DConditionModel:\n...")

    monkeypatch.setattr(tkp, "load_pipeline", broken)
    code, out = _generate(tmp_path)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "cannot load" in err[0] and "RuntimeError" in err[0]
    assert not out.exists()
    monkeypatch.setattr(tkp, "load_pipeline", real)
    code, out = _generate(tmp_path, "--color", "#808080", "--size", "64x64", model=model_dir)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "neutral" in err[0] and not out.exists()

    def sampler_fails(*args, **kwargs):
        raise ValueError("operands could not be broadcast together with shapes (2,) (8,)")
        yield  # (a generator, as generate is)

    monkeypatch.setattr(tkp, "generate", sampler_fails)
    code, out = _generate(tmp_path, "--size", "64x64", model=model_dir)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err == [
        "tkg-chroma: error: generation failed: ValueError: operands could not be broadcast "
        "together with shapes (2,) (8,)"
    ]
    assert not out.exists()
    with pytest.raises(ValueError, match="operands"):
        _generate(tmp_path, "--size", "64x64", "--debug", model=model_dir)


def test_cli_generate_cut_out_says_when_nothing_was_keyed(model_dir, tmp_path, capsys):
    """The WebUI's cut-outs say 'TKG cut-out: not keyed' in their infotext; the CLI's did not."""
    argv = ("--size", "64x64", "--steps", "1", "--mask", "--seed", "5")
    code, out = _generate(tmp_path, *argv, model=model_dir)
    assert code == 0
    keyed = "nothing was keyed" not in capsys.readouterr().err  # (a random model's background)
    for name in ("00000-5", "00000-5-rgba", "00000-5-matte"):
        text = Image.open(out / f"{name}.png").info["parameters"]
        assert ("TKG cut-out: not keyed" in text) == (not keyed and name != "00000-5"), name


def test_python_api_takes_numpy_numbers_and_checks_before_loading(pipe, model_dir):
    assert TkgParams(strength=np.float32(0.25)).strength == pytest.approx(0.25)
    a = tkp.tkg_latents(pipe, TkgParams(), height=64, width=64, seeds=[np.int64(3)])
    b = tkp.tkg_latents(pipe, TkgParams(), height=64, width=64, seeds=[3])
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match=r"seeds must be in \[0, 2\*\*64\), got"):
        tkp.tkg_latents(pipe, TkgParams(), height=64, width=64, seeds=[2**64])
    with pytest.raises(ValueError, match=r"dtype must be a torch\.dtype"):
        tkp.load_pipeline(str(model_dir), "cpu", "fp16")
    with pytest.raises(ValueError, match="unknown scheduler 'bogus'"):
        tkp.load_pipeline("/nowhere/at/all", scheduler="bogus")  # (before looking for it)


def test_an_interrupt_swallowed_in_a_del_still_stops_the_command():
    """Ctrl-C while the tokenizer loaded landed in a __del__, where Python only prints
    "Exception ignored": the run went on to the end and exited 0."""
    import os
    import signal

    from lib_tkg.cli import signals

    with signals.handled():
        signals.check()  # nothing received yet
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10**6):  # (the handler runs between two bytecodes)
                pass
        except KeyboardInterrupt:
            pass  # (what Python does with it in a __del__)
        with pytest.raises(KeyboardInterrupt):
            signals.check()
    assert signal.getsignal(signal.SIGINT) is not signals._raise  # put back


def test_generate_checks_its_numbers_and_keys_arrays(pipe):
    """steps=0 raised ZeroDivisionError from deep inside diffusers, -1 and True generated,
    cfg=nan was taken; numpy sizes were refused; key_result of an array: AttributeError."""
    for kwargs, message in (
        ({"steps": 0}, "steps must be a positive integer"),
        ({"steps": True}, "steps must be a positive integer"),
        ({"steps": 2.0}, "steps must be a positive integer"),
        ({"cfg": float("nan")}, "cfg must be a finite number"),
    ):
        with pytest.raises(ValueError, match=message):
            next(tkp.generate(pipe, "x", TkgParams(), seeds=[1], height=64, width=64, **kwargs))
    size = {"height": np.int64(64), "width": np.int64(64)}
    assert tkp.tkg_latents(pipe, TkgParams(), seeds=[1], **size).shape[-1] == 64 // 8
    rgba, matte = tkp.key_result(np.zeros((32, 32, 3), np.uint8), TkgParams())
    assert rgba.mode == "RGBA" and matte.size == (32, 32)
    with pytest.raises(ValueError, match="unknown scheduler"):
        tkp.load_pipeline("/nowhere", scheduler=["ddim"])
