"""Write a tiny, randomly initialised SD1.5-layout checkpoint for integration tests.

The state dict uses the exact key names of an original (LDM-format) SD1.5 checkpoint:

* ``model.diffusion_model.*``  - LDM ``openaimodel.UNetModel`` (spatial transformer,
  conv ``proj_in``/``proj_out``, GEGLU feed-forward)
* ``first_stage_model.*``      - LDM ``AutoencoderKL`` (encoder, decoder, quant convs)
* ``cond_stage_model.transformer.text_model.*`` - Hugging Face ``CLIPTextModel``
  (ViT-L/14 text tower: 12 layers, width 768, vocabulary 49408, 77 positions)

Only the widths and depths of the UNet and of the VAE are shrunk; a ``.yaml`` in the
``v1-inference.yaml`` format that describes them is written beside the checkpoint, so
AUTOMATIC1111 builds the matching model. The text encoder keeps its real shape because
both hosts build it from a fixed ViT-L/14 config.

Profiles:

``tiny`` (default)
    UNet model_channels 32, channel_mult (1, 2), one res block per level; VAE ch 32.
    About 130 M parameters, almost all of them in the text encoder. Loads on A1111.
``sd15``
    The full SD1.5 UNet (860 M parameters, 3.4 GB in fp32: the widths and block layout that
    AnimateDiff's motion modules are injected into) with the small VAE of ``tiny``.
``forge``
    What Forge's weight-based detection (``huggingface_guess``) recognises as SD1.5:
    UNet ``model_channels`` 320 and ``context_dim`` 768 (required by its SD15 match), but
    a single level with one res block; VAE with the real SD1.5 shape, because Forge
    builds it from the diffusers ``vae/config.json`` of runwayml/stable-diffusion-v1-5.
    Also loads on A1111 (its yaml is written too).

Weights are drawn from a ``torch.Generator`` seeded with ``--seed`` in a fixed key
order, so the same seed, profile and dtype give byte-identical files. Layers that SD
zero-initialises (res-block ``out_layers.3``, transformer ``proj_out``, UNet ``out.2``)
get small random values, so the predicted noise depends on the input and the prompt.

Run it with a Python that has ``torch`` and ``safetensors`` (a WebUI's venv has both):

    python make_tiny_checkpoint.py OUT.safetensors [--profile tiny|sd15|forge] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import os
import sys

# ---------------------------------------------------------------------------
# shapes


class Spec:
    """Ordered list of (key, shape, init) with init in {"w", "zero_w", "norm", "bias",
    "emb", "pos_ids"}."""

    def __init__(self) -> None:
        self.items: list[tuple[str, tuple[int, ...], str]] = []

    def add(self, key: str, shape: tuple[int, ...], init: str) -> None:
        self.items.append((key, tuple(shape), init))

    def conv(self, key: str, cout: int, cin: int, k: int, init: str = "w") -> None:
        self.add(key + ".weight", (cout, cin, k, k), init)
        self.add(key + ".bias", (cout,), "bias")

    def linear(self, key: str, cout: int, cin: int, bias: bool = True, init: str = "w") -> None:
        self.add(key + ".weight", (cout, cin), init)
        if bias:
            self.add(key + ".bias", (cout,), "bias")

    def norm(self, key: str, ch: int) -> None:
        self.add(key + ".weight", (ch,), "norm")
        self.add(key + ".bias", (ch,), "bias")


def unet_spec(s: Spec, p: str, cfg: dict) -> None:
    """LDM openaimodel.UNetModel, use_spatial_transformer=True, use_linear_in_transformer
    False, legacy=False, conv_resample=True, num_heads fixed (SD1.x)."""
    mc = cfg["model_channels"]
    ted = mc * 4
    ctx = cfg["context_dim"]
    attn_res = set(cfg["attention_resolutions"])
    nrb = cfg["num_res_blocks"]
    mult = cfg["channel_mult"]
    depth = cfg["transformer_depth"]

    def resblock(key: str, cin: int, cout: int) -> None:
        s.norm(f"{key}.in_layers.0", cin)
        s.conv(f"{key}.in_layers.2", cout, cin, 3)
        s.linear(f"{key}.emb_layers.1", cout, ted)
        s.norm(f"{key}.out_layers.0", cout)
        s.conv(f"{key}.out_layers.3", cout, cout, 3, init="zero_w")
        if cin != cout:
            s.conv(f"{key}.skip_connection", cout, cin, 1)

    def transformer(key: str, ch: int) -> None:
        inner = ch  # num_heads * (ch // num_heads)
        s.norm(f"{key}.norm", ch)
        s.conv(f"{key}.proj_in", inner, ch, 1)
        for d in range(depth):
            b = f"{key}.transformer_blocks.{d}"
            s.linear(f"{b}.attn1.to_q", inner, inner, bias=False)
            s.linear(f"{b}.attn1.to_k", inner, inner, bias=False)
            s.linear(f"{b}.attn1.to_v", inner, inner, bias=False)
            s.linear(f"{b}.attn1.to_out.0", inner, inner)
            s.linear(f"{b}.ff.net.0.proj", inner * 8, inner)
            s.linear(f"{b}.ff.net.2", inner, inner * 4)
            s.linear(f"{b}.attn2.to_q", inner, inner, bias=False)
            s.linear(f"{b}.attn2.to_k", inner, ctx, bias=False)
            s.linear(f"{b}.attn2.to_v", inner, ctx, bias=False)
            s.linear(f"{b}.attn2.to_out.0", inner, inner)
            s.norm(f"{b}.norm1", inner)
            s.norm(f"{b}.norm2", inner)
            s.norm(f"{b}.norm3", inner)
        s.conv(f"{key}.proj_out", ch, inner, 1, init="zero_w")

    s.linear(f"{p}time_embed.0", ted, mc)
    s.linear(f"{p}time_embed.2", ted, ted)
    s.conv(f"{p}input_blocks.0.0", mc, cfg["in_channels"], 3)
    chans = [mc]
    ch = mc
    ds = 1
    idx = 1
    for level, m in enumerate(mult):
        for _ in range(nrb):
            resblock(f"{p}input_blocks.{idx}.0", ch, m * mc)
            ch = m * mc
            if ds in attn_res:
                transformer(f"{p}input_blocks.{idx}.1", ch)
            chans.append(ch)
            idx += 1
        if level != len(mult) - 1:
            s.conv(f"{p}input_blocks.{idx}.0.op", ch, ch, 3)
            chans.append(ch)
            idx += 1
            ds *= 2
    resblock(f"{p}middle_block.0", ch, ch)
    transformer(f"{p}middle_block.1", ch)
    resblock(f"{p}middle_block.2", ch, ch)
    idx = 0
    for level, m in reversed(list(enumerate(mult))):
        for i in range(nrb + 1):
            ich = chans.pop()
            resblock(f"{p}output_blocks.{idx}.0", ch + ich, mc * m)
            ch = mc * m
            n = 1
            if ds in attn_res:
                transformer(f"{p}output_blocks.{idx}.1", ch)
                n = 2
            if level and i == nrb:
                s.conv(f"{p}output_blocks.{idx}.{n}.conv", ch, ch, 3)
                ds //= 2
            idx += 1
    s.norm(f"{p}out.0", ch)
    s.conv(f"{p}out.2", cfg["out_channels"], mc, 3, init="zero_w")


def vae_spec(s: Spec, p: str, dd: dict) -> None:
    """LDM AutoencoderKL (ldm.modules.diffusionmodules.model Encoder/Decoder), no
    attention except in the mid blocks (attn_resolutions [])."""
    ch, mult, nrb, z = dd["ch"], dd["ch_mult"], dd["num_res_blocks"], dd["z_channels"]

    def resnet(key: str, cin: int, cout: int) -> None:
        s.norm(f"{key}.norm1", cin)
        s.conv(f"{key}.conv1", cout, cin, 3)
        s.norm(f"{key}.norm2", cout)
        s.conv(f"{key}.conv2", cout, cout, 3, init="zero_w")
        if cin != cout:
            s.conv(f"{key}.nin_shortcut", cout, cin, 1)

    def attn(key: str, c: int) -> None:
        s.norm(f"{key}.norm", c)
        for n in ("q", "k", "v", "proj_out"):
            s.conv(f"{key}.{n}", c, c, 1)

    e = f"{p}encoder"
    s.conv(f"{e}.conv_in", ch, dd["in_channels"], 3)
    in_mult = (1, *mult)
    bi = ch
    for lv in range(len(mult)):
        bi, bo = ch * in_mult[lv], ch * mult[lv]
        for j in range(nrb):
            resnet(f"{e}.down.{lv}.block.{j}", bi, bo)
            bi = bo
        if lv != len(mult) - 1:
            s.conv(f"{e}.down.{lv}.downsample.conv", bi, bi, 3)
    resnet(f"{e}.mid.block_1", bi, bi)
    attn(f"{e}.mid.attn_1", bi)
    resnet(f"{e}.mid.block_2", bi, bi)
    s.norm(f"{e}.norm_out", bi)
    s.conv(f"{e}.conv_out", 2 * z, bi, 3)

    d = f"{p}decoder"
    bi = ch * mult[-1]
    s.conv(f"{d}.conv_in", bi, z, 3)
    resnet(f"{d}.mid.block_1", bi, bi)
    attn(f"{d}.mid.attn_1", bi)
    resnet(f"{d}.mid.block_2", bi, bi)
    for lv in reversed(range(len(mult))):
        bo = ch * mult[lv]
        for j in range(nrb + 1):
            resnet(f"{d}.up.{lv}.block.{j}", bi, bo)
            bi = bo
        if lv != 0:
            s.conv(f"{d}.up.{lv}.upsample.conv", bi, bi, 3)
    s.norm(f"{d}.norm_out", bi)
    s.conv(f"{d}.conv_out", dd["out_ch"], bi, 3)
    s.conv(f"{p}quant_conv", 2 * z, 2 * z, 1)
    s.conv(f"{p}post_quant_conv", z, z, 1)


CLIP_L = {"vocab": 49408, "positions": 77, "width": 768, "layers": 12, "mlp": 3072}


def clip_spec(s: Spec, p: str, c: dict = CLIP_L) -> None:
    """Hugging Face CLIPTextModel (as in SD1.5 checkpoints)."""
    w = c["width"]
    s.add(f"{p}embeddings.position_ids", (1, c["positions"]), "pos_ids")
    s.add(f"{p}embeddings.token_embedding.weight", (c["vocab"], w), "emb")
    s.add(f"{p}embeddings.position_embedding.weight", (c["positions"], w), "emb")
    for i in range(c["layers"]):
        b = f"{p}encoder.layers.{i}"
        for n in ("k_proj", "v_proj", "q_proj", "out_proj"):
            s.linear(f"{b}.self_attn.{n}", w, w)
        s.norm(f"{b}.layer_norm1", w)
        s.linear(f"{b}.mlp.fc1", c["mlp"], w)
        s.linear(f"{b}.mlp.fc2", w, c["mlp"])
        s.norm(f"{b}.layer_norm2", w)
    s.norm(f"{p}final_layer_norm", w)


# ---------------------------------------------------------------------------
# profiles and yaml

PROFILES: dict[str, dict] = {
    "tiny": {
        "unet": {
            "model_channels": 32,
            "channel_mult": [1, 2],
            "num_res_blocks": 1,
            "attention_resolutions": [1, 2],
            "num_heads": 8,
        },
        "vae": {"ch": 32, "ch_mult": [1, 2, 4, 4], "num_res_blocks": 1},
    },
    "sd15": {
        "unet": {
            "model_channels": 320,
            "channel_mult": [1, 2, 4, 4],
            "num_res_blocks": 2,
            "attention_resolutions": [4, 2, 1],
            "num_heads": 8,
        },
        "vae": {"ch": 32, "ch_mult": [1, 2, 4, 4], "num_res_blocks": 1},
    },
    "forge": {
        "unet": {
            "model_channels": 320,
            "channel_mult": [1],
            "num_res_blocks": 1,
            "attention_resolutions": [1],
            "num_heads": 8,
        },
        "vae": {"ch": 128, "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2},
    },
}


def configs(profile: str) -> tuple[dict, dict]:
    pr = PROFILES[profile]
    unet = {
        "image_size": 32,
        "in_channels": 4,
        "out_channels": 4,
        "transformer_depth": 1,
        "context_dim": CLIP_L["width"],
        **pr["unet"],
    }
    dd = {
        "double_z": True,
        "z_channels": 4,
        "resolution": 256,
        "in_channels": 3,
        "out_ch": 3,
        "attn_resolutions": [],
        "dropout": 0.0,
        **pr["vae"],
    }
    return unet, dd


def _list(v: list) -> str:
    return "[" + ", ".join(str(x) for x in v) + "]"


def yaml_text(unet: dict, dd: dict) -> str:
    """v1-inference.yaml with the tiny widths."""
    return f"""model:
  base_learning_rate: 1.0e-04
  target: ldm.models.diffusion.ddpm.LatentDiffusion
  params:
    linear_start: 0.00085
    linear_end: 0.0120
    num_timesteps_cond: 1
    log_every_t: 200
    timesteps: 1000
    first_stage_key: "jpg"
    cond_stage_key: "txt"
    image_size: 64
    channels: 4
    cond_stage_trainable: false
    conditioning_key: crossattn
    monitor: val/loss_simple_ema
    scale_factor: 0.18215
    use_ema: False

    scheduler_config:
      target: ldm.lr_scheduler.LambdaLinearScheduler
      params:
        warm_up_steps: [ 10000 ]
        cycle_lengths: [ 10000000000000 ]
        f_start: [ 1.e-6 ]
        f_max: [ 1. ]
        f_min: [ 1. ]

    unet_config:
      target: ldm.modules.diffusionmodules.openaimodel.UNetModel
      params:
        image_size: {unet["image_size"]}
        in_channels: {unet["in_channels"]}
        out_channels: {unet["out_channels"]}
        model_channels: {unet["model_channels"]}
        attention_resolutions: {_list(unet["attention_resolutions"])}
        num_res_blocks: {unet["num_res_blocks"]}
        channel_mult: {_list(unet["channel_mult"])}
        num_heads: {unet["num_heads"]}
        use_spatial_transformer: True
        transformer_depth: {unet["transformer_depth"]}
        context_dim: {unet["context_dim"]}
        use_checkpoint: True
        legacy: False

    first_stage_config:
      target: ldm.models.autoencoder.AutoencoderKL
      params:
        embed_dim: 4
        monitor: val/rec_loss
        ddconfig:
          double_z: true
          z_channels: {dd["z_channels"]}
          resolution: {dd["resolution"]}
          in_channels: {dd["in_channels"]}
          out_ch: {dd["out_ch"]}
          ch: {dd["ch"]}
          ch_mult: {_list(dd["ch_mult"])}
          num_res_blocks: {dd["num_res_blocks"]}
          attn_resolutions: []
          dropout: 0.0
        lossconfig:
          target: torch.nn.Identity

    cond_stage_config:
      target: ldm.modules.encoders.modules.FrozenCLIPEmbedder
"""


def build_spec(profile: str) -> Spec:
    unet, dd = configs(profile)
    s = Spec()
    unet_spec(s, "model.diffusion_model.", unet)
    vae_spec(s, "first_stage_model.", dd)
    clip_spec(s, "cond_stage_model.transformer.text_model.")
    return s


# ---------------------------------------------------------------------------
# weights


def make_state_dict(profile: str = "tiny", seed: int = 0, half: bool = False) -> dict:
    import torch

    gen = torch.Generator().manual_seed(seed)
    sd = {}
    for key, shape, init in build_spec(profile).items:
        if init == "pos_ids":
            t = torch.arange(shape[-1], dtype=torch.int64).reshape(shape)
        elif init == "norm":
            t = 1.0 + 0.05 * torch.randn(shape, generator=gen)
        elif init in ("bias", "emb"):
            t = 0.02 * torch.randn(shape, generator=gen)
        else:
            fan_in = math.prod(shape[1:])
            std = 1.0 / math.sqrt(fan_in)
            if init == "zero_w":  # zero-initialised in SD: keep them small but not zero
                std *= 0.2
            t = std * torch.randn(shape, generator=gen)
        if half and t.is_floating_point():
            t = t.half()
        sd[key] = t.contiguous()
    return sd


def write(out: str, profile: str = "tiny", seed: int = 0, half: bool = False) -> str:
    """Write OUT (.safetensors) and its .yaml; return the checkpoint path."""
    from safetensors.torch import save_file

    out = os.path.abspath(out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    sd = make_state_dict(profile, seed, half)
    # one metadata key only: safetensors writes the header's keys in hash order, and a
    # single key keeps the file byte-identical from run to run
    meta = {"tkg_tiny_checkpoint": f"profile={profile} seed={seed} half={int(half)}"}
    tmp = out + ".part"
    save_file(sd, tmp, metadata=meta)
    os.replace(tmp, out)
    with open(os.path.splitext(out)[0] + ".yaml", "w", encoding="utf-8") as f:
        f.write(yaml_text(*configs(profile)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="checkpoint path, ending in .safetensors")
    ap.add_argument("--profile", choices=sorted(PROFILES), default="tiny")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--half", action="store_true", help="store float tensors as fp16")
    a = ap.parse_args(argv)
    if not a.out.endswith(".safetensors"):
        ap.error("out must end in .safetensors")
    path = write(a.out, a.profile, a.seed, a.half)
    n = sum(math.prod(sh) for _, sh, _ in build_spec(a.profile).items)
    print(f"wrote {path} ({a.profile}, seed {a.seed}, {n / 1e6:.1f} M parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
