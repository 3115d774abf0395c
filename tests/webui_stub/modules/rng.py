"""modules/rng.py of v1.10.1 (class ImageRNG, line 99), CPU source only.

One torch generator per seed; ``.next()`` returns (B, C, H, W) unit-variance noise, the first
call from each seed's fresh generator (so a seed gives the same noise at any batch position),
later calls continue each seed's generator (after re-seeding with the eta noise seed delta).
"""

from __future__ import annotations

import torch

from modules import shared


def create_generator(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(int(seed))


def randn(seed: int, shape: tuple, generator: torch.Generator | None = None) -> torch.Tensor:
    if generator is None:
        generator = create_generator(seed)
    return torch.randn(shape, generator=generator)


def randn_without_seed(shape: tuple, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(shape, generator=generator)


class ImageRNG:
    def __init__(
        self,
        shape,
        seeds,
        subseeds=None,
        subseed_strength=0.0,
        seed_resize_from_h=0,
        seed_resize_from_w=0,
    ):
        self.shape = tuple(map(int, shape))
        self.seeds = seeds
        self.subseeds = subseeds
        self.subseed_strength = subseed_strength
        self.seed_resize_from_h = seed_resize_from_h
        self.seed_resize_from_w = seed_resize_from_w
        self.generators = [create_generator(seed) for seed in seeds]
        self.is_first = True

    def first(self) -> torch.Tensor:
        pairs = zip(self.seeds, self.generators, strict=True)
        xs = [randn(seed, self.shape, generator=g) for seed, g in pairs]
        delta = shared.opts.eta_noise_seed_delta or 0
        if delta:
            self.generators = [create_generator(seed + delta) for seed in self.seeds]
        return torch.stack(xs).to(shared.device)

    def next(self) -> torch.Tensor:
        if self.is_first:
            self.is_first = False
            return self.first()
        xs = [randn_without_seed(self.shape, generator=g) for g in self.generators]
        return torch.stack(xs).to(shared.device)
