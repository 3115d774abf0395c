"""Write a randomly initialised AnimateDiff motion module (integration tests only; no download).

The module is built from sd-webui-animatediff's own classes (``motion_module.MotionWrapper``,
type ``AnimateDiffV2``: SD1.5 widths 320/640/1280, a mid block, positional encodings of
length 32), so AnimateDiff's loader guesses the same type from the keys and loads it with
``strict=True``. Its zero-initialised output projections (``proj_out``) get small random
values, so the temporal layers change the frames. Seeded: the same seed gives the same file.

Run it with the WebUI's Python (AnimateDiff imports ``ldm`` from the WebUI's repositories):

    python make_motion_module.py OUT.safetensors ANIMATEDIFF_DIR WEBUI_DIR [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("animatediff_dir")
    ap.add_argument("webui_dir")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    sys.path[:0] = [
        os.path.abspath(a.animatediff_dir),
        os.path.join(os.path.abspath(a.webui_dir), "repositories", "stable-diffusion-stability-ai"),
    ]
    import torch
    from motion_module import MotionModuleType, MotionWrapper
    from safetensors.torch import save_file

    torch.manual_seed(a.seed)
    mm = MotionWrapper("random", "", MotionModuleType.AnimateDiffV2)
    gen = torch.Generator().manual_seed(a.seed)
    with torch.no_grad():
        for name, param in mm.named_parameters():
            if ".proj_out." in name:
                param.copy_(0.02 * torch.randn(param.shape, generator=gen))
    sd = {k: v.contiguous() for k, v in mm.state_dict().items()}
    assert MotionModuleType.get_mm_type(sd) == MotionModuleType.AnimateDiffV2
    out = os.path.abspath(a.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    save_file(sd, out + ".part")
    os.replace(out + ".part", out)
    print(f"wrote {out} ({sum(v.numel() for v in sd.values()) / 1e6:.1f} M parameters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
