"""A tiny, randomly initialised SD1.x-shaped diffusers pipeline, built offline from configs.

Used by ``tests/test_pipeline.py``. The UNet has the SD1.x conditioning width (cross attention
768, so ``detect_family`` says ``sd1``) but few, narrow blocks; the VAE has four blocks (scale
factor 8, like SD) of 16 channels; the CLIP text encoder has one layer; the tokenizer is built
from a small vocab/merges written here. Nothing is downloaded. 64x64 images, 8x8 latents.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import torch

HIDDEN = 768  # SD1.x text width, so the family is detected as sd1
IMAGE_SIZE = 64


def build_tokenizer(folder: Path):
    """A CLIPTokenizer from a tiny lowercase-letter vocab and two merges written to ``folder``."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        for char in string.ascii_lowercase:
            vocab[char + suffix] = len(vocab)
    vocab["ca"] = len(vocab)
    vocab["cat</w>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\nc a\nca t</w>\n", encoding="utf-8")
    return CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=16
    )


def build_pipeline(scratch: Path):
    """A float32 ``StableDiffusionPipeline`` with random weights (seeded, so deterministic)."""
    import diffusers
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = diffusers.UNet2DConditionModel(
        sample_size=IMAGE_SIZE // 8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(16, 32),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=HIDDEN,
        attention_head_dim=4,
        norm_num_groups=8,
    )
    vae = diffusers.AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(16, 16, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=IMAGE_SIZE,
    )
    tokenizer = build_tokenizer(scratch / "tokenizer-src")
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=HIDDEN,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=4,
            max_position_embeddings=16,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    scheduler = diffusers.DDIMScheduler(  # SD1.5's schedule (its scheduler_config.json)
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    return diffusers.StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def save_pipeline(folder: Path) -> Path:
    """Build the tiny pipeline and ``save_pretrained`` it into ``folder / "tiny-sd"``."""
    target = folder / "tiny-sd"
    build_pipeline(folder).save_pretrained(target)
    return target
