"""Tests for lib_tkg.noise: channel mean shift, Gaussian mask, TKG-DM noise (default/reference)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_tkg.noise import channel_mean_shift, gaussian_mask, tkg_noise

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
DTYPES = [torch.float32, torch.float16, torch.bfloat16]
FAST = settings(max_examples=40, deadline=None)

shift_values = st.one_of(st.just(0.0), st.floats(-0.49, 0.49, allow_nan=False))


@st.composite
def noise_cases(draw, min_size=1, max_size=10, channels=(1, 2, 3, 4, 16), dtypes=DTYPES):
    """(noise, shifts): seeded unit-normal noise of a small random shape and C shifts."""
    batch = draw(st.integers(1, 3))
    chans = draw(st.sampled_from(channels))
    height = draw(st.integers(min_size, max_size))
    width = draw(st.integers(min_size, max_size))
    dtype = draw(st.sampled_from(dtypes))
    device = draw(st.sampled_from(DEVICES))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    noise = torch.randn(batch, chans, height, width, generator=gen).to(device, dtype)
    shifts = draw(st.lists(shift_values, min_size=chans, max_size=chans))
    return noise, shifts


def positives(x: torch.Tensor) -> torch.Tensor:
    """Count of positive values per (sample, channel), shape (B, C)."""
    return (x > 0).flatten(2).sum(-1).cpu().double()


def largest_run(x: torch.Tensor) -> torch.Tensor:
    """Largest number of equal values within each (sample, channel) row, shape (B, C)."""
    rows = x.float().flatten(2).cpu()
    runs = [[int(torch.unique(r, return_counts=True)[1].max()) for r in sample] for sample in rows]
    return torch.tensor(runs)


@FAST
@given(noise_cases())
def test_shape_dtype_device_kept(case):
    noise, shifts = case
    for out in (channel_mean_shift(noise, shifts), tkg_noise(noise, shifts, 0.7, (0.2, -0.4))):
        assert out.shape == noise.shape
        assert out.dtype == noise.dtype
        assert out.device == noise.device


@FAST
@given(noise_cases(dtypes=[torch.float32]))
def test_share_change_within_one_element(case):
    """float32: the positive share moves by the shift (clamped to [0, 1]) within 1/(H*W)."""
    noise, shifts = case
    n = noise.shape[2] * noise.shape[3]
    before = positives(noise) / n
    change = positives(channel_mean_shift(noise, shifts)) / n - before
    reachable = (before + torch.tensor(shifts, dtype=torch.float64)).clamp(0, 1) - before
    assert ((change - reachable).abs() <= 0.5 / n + 1e-12).all()  # nearest whole element


@FAST
@given(noise_cases(dtypes=[torch.float16, torch.bfloat16]))
def test_low_precision_share_change_within_ties(case):
    """float16/bfloat16: runs of equal values move together; off by at most half a run more."""
    noise, shifts = case
    n = noise.shape[2] * noise.shape[3]
    before, after = positives(noise), positives(channel_mean_shift(noise, shifts))
    target = (before + n * torch.tensor(shifts, dtype=torch.float64)).clamp(0, n)
    assert ((after - target).abs() <= 1 + largest_run(noise) / 2).all()


@FAST
@given(noise_cases())
def test_offset_is_tight(case):
    """No larger offset than needed: in every moved row one value lands on 0 or one ulp above."""
    noise, shifts = case
    out = channel_mean_shift(noise, shifts)
    n = noise.shape[2] * noise.shape[3]
    ulp = torch.finfo(noise.dtype).eps
    nearest = out.double().abs().flatten(2).amin(-1).cpu()
    scale = 1 + noise.double().abs().flatten(2).amax(-1).cpu()
    for c, s in enumerate(shifts):
        if round(s * n) != 0:
            assert (nearest[:, c] <= ulp * scale[:, c]).all()


@FAST
@given(noise_cases())
def test_adds_one_constant_per_row_and_keeps_std(case):
    noise, shifts = case
    out = channel_mean_shift(noise, shifts)
    diff = (out.double() - noise.double()).flatten(2)
    rounding = {torch.float32: 1e-6, torch.float16: 2e-3, torch.bfloat16: 1.6e-2}[noise.dtype]
    scale = 1 + noise.double().abs().flatten(2).amax(-1) + diff.abs().amax(-1)
    spread = diff.amax(-1) - diff.amin(-1)
    assert (spread <= rounding * scale).all()
    if noise.shape[2] * noise.shape[3] > 1:
        std_in = noise.double().flatten(2).std(-1)
        std_out = out.double().flatten(2).std(-1)
        assert ((std_out - std_in).abs() <= rounding * scale).all()


@FAST
@given(noise_cases())
def test_zero_shift_channels_bit_identical(case):
    noise, shifts = case
    shifts = [s if i % 2 else 0.0 for i, s in enumerate(shifts)]
    for out in (channel_mean_shift(noise, shifts), tkg_noise(noise, shifts)):
        for c, s in enumerate(shifts):
            if s == 0.0:
                assert torch.equal(out[:, c], noise[:, c])


@FAST
@given(noise_cases(), st.floats(0.1, 2.0), st.floats(-1, 1), st.floats(-1, 1))
def test_per_sample_independence(case, sigma, cx, cy):
    noise, shifts = case
    batched = [channel_mean_shift(noise, shifts), tkg_noise(noise, shifts, sigma, (cx, cy))]
    for i in range(noise.shape[0]):
        alone = noise[i : i + 1]
        assert torch.equal(batched[0][i : i + 1], channel_mean_shift(alone, shifts))
        assert torch.equal(batched[1][i : i + 1], tkg_noise(alone, shifts, sigma, (cx, cy)))


@FAST
@given(noise_cases(max_size=12), st.floats(0.1, 2.0))
def test_blend_matches_definition(case, sigma):
    noise, shifts = case
    _, _, h, w = noise.shape
    mask = gaussian_mask(h, w, sigma, device=noise.device)
    want = mask * noise.float() + (1 - mask) * channel_mean_shift(noise, shifts).float()
    got = tkg_noise(noise, shifts, sigma).float()
    tol = {torch.float32: 1e-5, torch.float16: 4e-3, torch.bfloat16: 3e-2}[noise.dtype]
    assert torch.allclose(got, want, rtol=tol, atol=tol)


@FAST
@given(noise_cases(min_size=1, max_size=9))
def test_centre_pixel_keeps_original_noise(case):
    noise, shifts = case
    _, _, h, w = noise.shape
    out = tkg_noise(noise, shifts)
    if h % 2 and w % 2:
        assert torch.equal(out[:, :, h // 2, w // 2], noise[:, :, h // 2, w // 2])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.floats(0.05, 3.0),
    st.floats(-1, 1),
    st.floats(-1, 1),
)
def test_gaussian_mask_formula(h, w, sigma, cx, cy):
    mask = gaussian_mask(h, w, sigma, (cx, cy))
    assert mask.shape == (1, 1, h, w) and mask.dtype == torch.float32
    ys = torch.linspace(-1, 1, h, dtype=torch.float64) if h > 1 else torch.zeros(1).double()
    xs = torch.linspace(-1, 1, w, dtype=torch.float64) if w > 1 else torch.zeros(1).double()
    want = torch.exp(-((xs[None, :] - cx) ** 2 + (ys[:, None] - cy) ** 2) / (2 * sigma**2))
    assert torch.allclose(mask[0, 0].double(), want, atol=1e-6)
    assert float(mask.max()) <= 1.0


@pytest.mark.parametrize("n", [1, 3, 5, 7, 63, 65, 127, 129])
def test_gaussian_mask_exact_centre_and_symmetry(n):
    mask = gaussian_mask(n, n)[0, 0]
    assert mask[n // 2, n // 2] == 1.0
    assert torch.equal(mask, mask.flip(0)) and torch.equal(mask, mask.flip(1))
    assert torch.equal(mask, mask.T)


def test_gaussian_mask_orientation():
    mask = gaussian_mask(21, 21, 0.3, (0.5, -0.5))[0, 0]
    row, col = divmod(int(mask.argmax()), 21)
    assert (row, col) == (5, 15)  # x = +0.5 is right of centre, y = -0.5 is above it


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_gaussian_mask_dtype(dtype):
    assert gaussian_mask(9, 9, dtype=dtype).dtype == dtype


# --- reference mode against a plain transcription of the paper's procedure -------------------


def paper_tkg(latents: torch.Tensor, target: float, std: float = 0.5) -> torch.Tensor:
    """TKG-DM as the paper's code does it: channels 1 and 2, +0.01 steps, coarse f16 mask."""
    shifted = latents.clone()
    for c in (1, 2):
        chan = latents[:, c]
        goal = (chan > 0).float().mean() + target
        step = 0.0
        moved = chan + step
        while (moved > 0).float().mean() < goal:
            step += 0.01
            moved = chan + step
        shifted[:, c] = moved
    h, w = latents.shape[2:]
    grid = [torch.linspace(-1, 1, n // 8, device=latents.device) for n in (h, w)]
    ys, xs = torch.meshgrid(*grid, indexing="ij")
    coarse = torch.exp(-((xs**2 + ys**2) / (2 * std**2)))[None, None]
    mask = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False).half()
    return mask * latents + (1 - mask) * shifted


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("size", [64, 128])
@pytest.mark.parametrize("target", [0.07, 0.11])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_reference_matches_paper_procedure(device, size, target, dtype):
    for seed in range(3):
        latents = torch.randn(1, 4, size, size, generator=torch.Generator().manual_seed(seed))
        latents = latents.to(device, dtype)
        want = paper_tkg(latents, target)
        got = tkg_noise(latents, [0, target, target, 0], reference=True)
        assert got.dtype == dtype
        assert (got.float() - want.float()).abs().max() <= 2e-3


def test_reference_bfloat16_is_rounded_paper_result():
    latents = torch.randn(1, 4, 64, 64, generator=torch.Generator().manual_seed(5)).bfloat16()
    want = paper_tkg(latents, 0.11)  # float32: a float16 mask times bfloat16 promotes
    got = tkg_noise(latents, [0, 0.11, 0.11, 0], reference=True)
    assert torch.equal(got, want.bfloat16())


def test_reference_applies_per_sample():
    latents = torch.randn(3, 4, 64, 64, generator=torch.Generator().manual_seed(1))
    got = tkg_noise(latents, [0, 0.11, 0.11, 0], reference=True)
    for i in range(3):
        assert torch.equal(got[i : i + 1], paper_tkg(latents[i : i + 1], 0.11))


def test_reference_negative_shift_is_mirrored():
    latents = torch.randn(1, 4, 64, 64, generator=torch.Generator().manual_seed(2))
    got = tkg_noise(latents, [0, -0.11, -0.11, 0], reference=True)
    mirrored = -tkg_noise(-latents, [0, 0.11, 0.11, 0], reference=True)
    assert torch.equal(got, mirrored)


def test_reference_rejects_unreachable_and_tiny():
    latents = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(0)).abs()
    with pytest.raises(ValueError, match="never stop"):
        tkg_noise(latents, [0.3], reference=True)
    with pytest.raises(ValueError, match=">= 8"):
        tkg_noise(torch.randn(1, 4, 7, 16), [0, 0.1, 0.1, 0], reference=True)


# --- input validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("noise", "shifts", "message"),
    [
        (torch.randn(4, 8, 8), [0, 0, 0, 0], "4-D"),
        (torch.randn(1, 4, 8, 8, 1), [0, 0, 0, 0], "4-D"),
        (torch.randn(0, 4, 8, 8), [0, 0, 0, 0], "non-empty"),
        (torch.randn(1, 4, 8, 8), [0, 0.1, 0.1], "one shift per latent channel"),
        (torch.randn(1, 4, 8, 8), [0, 0.5, 0, 0], r"\|shift\| < 0.5"),
        (torch.randn(1, 4, 8, 8), [0, -0.7, 0, 0], r"\|shift\| < 0.5"),
        (torch.randn(1, 4, 8, 8), [0, math.nan, 0, 0], r"\|shift\| < 0.5"),
        (torch.zeros(1, 4, 8, 8, dtype=torch.int64), [0, 0, 0, 0], "float16/bfloat16"),
        (torch.full((1, 4, 8, 8), math.nan), [0, 0.1, 0, 0], "NaN or infinite"),
        (torch.full((1, 4, 8, 8), math.inf), [0, 0.1, 0, 0], "NaN or infinite"),
    ],
)
def test_bad_noise_or_shifts(noise, shifts, message):
    for call in (channel_mean_shift, tkg_noise):
        with pytest.raises(ValueError, match=message):
            call(noise, shifts)


@pytest.mark.parametrize("sigma", [0.0, -1.0, math.nan, math.inf])
def test_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma"):
        tkg_noise(torch.randn(1, 4, 8, 8), [0, 0.1, 0.1, 0], sigma)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_mask(8, 8, sigma)


@pytest.mark.parametrize("center", [(1.5, 0.0), (0.0, -1.01), (math.nan, 0.0), (0.0,), "middle"])
def test_bad_center(center):
    with pytest.raises(ValueError, match=r"center must be \(x, y\)"):
        tkg_noise(torch.randn(1, 4, 8, 8), [0, 0.1, 0.1, 0], 0.5, center)
    with pytest.raises(ValueError, match="center"):
        gaussian_mask(8, 8, 0.5, center)


@pytest.mark.parametrize(("h", "w"), [(0, 8), (8, -1), (2.5, 8)])
def test_bad_mask_size(h, w):
    with pytest.raises(ValueError, match="positive ints"):
        gaussian_mask(h, w)
