"""Subject masks in ``lib_tkg.noise``: layouts of ellipses, free-form images, ``mask=`` tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_tkg.layout import Ellipse, MaskImage
from lib_tkg.noise import gaussian_mask, shape_mask, subject_mask, tkg_noise

FAST = settings(max_examples=30, deadline=None)
SHIFTS = [0.0, 0.07, 0.07, 0.0]


def widths(mask: torch.Tensor) -> tuple[int, int]:
    """Pixels above one half along the middle row and the middle column of a (1, 1, H, W)."""
    m = mask[0, 0]
    return int((m[m.shape[0] // 2] > 0.5).sum()), int((m[:, m.shape[1] // 2] > 0.5).sum())


@pytest.mark.parametrize(("height", "width"), [(64, 64), (33, 47), (32, 96), (9, 5)])
def test_canvas_aspect_is_the_papers_mask_bit_for_bit(height, width):
    """aspect 0 = exp(-((x-cx)^2 + (y-cy)^2) / (2 sigma^2)) over [-1, 1] on each axis."""
    ys = (torch.arange(height) * 2 - (height - 1)) / max(height - 1, 1)
    xs = (torch.arange(width) * 2 - (width - 1)) / max(width - 1, 1)
    gy, gx = torch.meshgrid(ys - 0.2, xs + 0.3, indexing="ij")
    want = torch.exp(-((gx**2 + gy**2) / (2 * 0.4**2)))
    got = gaussian_mask(height, width, 0.4, (-0.3, 0.2))[0, 0]
    assert torch.equal(got, want)
    assert torch.equal(gaussian_mask(height, width, layout="-0.3 0.2 0.4 0")[0, 0], want)


@pytest.mark.parametrize(("height", "width"), [(64, 128), (128, 64), (96, 96), (48, 72)])
def test_round_subject_looks_round_on_any_canvas(height, width):
    """aspect 1: as many pixels above one half across as down, whatever the canvas ratio."""
    across, down = widths(gaussian_mask(height, width, 0.4, aspect=1.0))
    assert abs(across - down) <= 2
    across, down = widths(gaussian_mask(height, width, layout="0 0 0.4"))
    assert abs(across - down) <= 2
    # and the same area as the paper's canvas-stretched mask (sigma in geometric-mean units)
    paper = gaussian_mask(height, width, 0.2).sum()
    assert float(gaussian_mask(height, width, 0.2, aspect=1.0).sum() / paper) == pytest.approx(
        1, abs=0.02
    )
    if height != width:  # the paper's mask is stretched with the canvas
        across, down = widths(gaussian_mask(height, width, 0.4))
        assert across / down == pytest.approx(width / height, rel=0.1)


@pytest.mark.parametrize("aspect", [0.25, 0.5, 2.0, 3.0])
@pytest.mark.parametrize(("height", "width"), [(96, 96), (64, 128)])
def test_aspect_is_width_over_height_in_pixels(aspect, height, width):
    across, down = widths(gaussian_mask(height, width, 0.3, aspect=aspect))
    assert across / down == pytest.approx(aspect, rel=0.12)
    area = float(gaussian_mask(height, width, 0.15, aspect=aspect).sum())  # not clipped
    assert area == pytest.approx(
        float(gaussian_mask(height, width, 0.15, aspect=1).sum()), rel=0.03
    )


def test_angle_turns_clockwise_on_screen():
    flat = gaussian_mask(101, 101, layout="0 0 0.3 4")[0, 0]
    turned = gaussian_mask(101, 101, layout="0 0 0.3 4 90")[0, 0]
    assert torch.allclose(turned, flat.T, atol=1e-6)
    diag = gaussian_mask(101, 101, layout="0 0 0.3 4 45")[0, 0]
    # clockwise from the x axis with y down: the long axis runs to the lower right
    assert diag[70, 70] > 0.5 > 0.01 > diag[30, 70]
    assert torch.allclose(diag, gaussian_mask(101, 101, layout="0 0 0.3 4 -315")[0, 0], atol=1e-6)


@FAST
@given(
    st.lists(
        st.builds(
            Ellipse,
            st.floats(-1, 1),
            st.floats(-1, 1),
            st.floats(0.05, 4),
            st.just(0.0) | st.floats(0.05, 5),
            st.floats(-360, 360),
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(1, 40),
    st.integers(1, 40),
)
def test_layout_is_the_maximum_of_its_subjects(ellipses, height, width):
    combined = gaussian_mask(height, width, layout=ellipses)
    singles = torch.stack([gaussian_mask(height, width, layout=[e]) for e in ellipses])
    assert torch.equal(combined, singles.amax(0))
    assert combined.shape == (1, 1, height, width)
    assert bool(((combined >= 0) & (combined <= 1)).all())


def test_subjects_centres_keep_the_noise_and_the_rest_shifts():
    torch.manual_seed(0)
    noise = torch.randn(2, 4, 33, 49)
    out = tkg_noise(noise, SHIFTS, layout="-0.5 0 0.3; 0.5 0 0.3")
    change = out - noise
    assert torch.equal(change[:, :, 16, 12], torch.zeros(2, 4))  # (-0.5, 0) lies on the grid
    assert torch.equal(change[:, :, 16, 36], torch.zeros(2, 4))
    assert bool((change[:, 1:3, 16, 24] > 0.1).all())  # between the subjects
    assert bool((change[:, 1:3, 0, :] > 0.1).all())  # the border
    assert torch.equal(change[:, [0, 3]], torch.zeros(2, 2, 33, 49))


def silhouette(height: int, width: int, box: tuple[int, int, int, int]) -> MaskImage:
    pixels = np.zeros((height, width), np.uint8)
    top, left, bottom, right = box
    pixels[top:bottom, left:right] = 255
    return MaskImage(pixels)


def test_shape_mask_resized_and_feathered_by_sigma():
    image = silhouette(256, 384, (64, 96, 192, 192))  # the left-centre block, at 8x the latent
    mask = shape_mask(image, 32, 48, 0.2)[0, 0]
    assert mask.shape == (32, 48)
    assert bool((mask[9:23, 13:23] == 1).all())  # inside: kept
    # outside: exp(-d^2 / (2 sigma^2)), d in units of sqrt(H W) / 2 latent pixels
    unit = math.sqrt(32 * 48) / 2
    for col in (26, 30, 40):
        d = (col - 23) / unit  # distance to the block's right edge (column 23)
        assert float(mask[16, col]) == pytest.approx(math.exp(-(d**2) / (2 * 0.2**2)), abs=0.02)
    wider = shape_mask(image, 32, 48, 0.4)[0, 0]
    assert bool((wider >= mask).all()) and float(wider[16, 30]) > float(mask[16, 30]) + 0.1


def test_point_silhouette_is_the_round_gaussian():
    image = silhouette(63, 63, (31, 31, 32, 32))
    assert torch.allclose(
        shape_mask(image, 63, 63, 0.3), gaussian_mask(63, 63, 0.3, aspect=1), atol=0.02
    )


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal up to float rounding (the shape mask's resize and distances may run threaded)."""
    return torch.allclose(a, b, rtol=1e-5, atol=1e-6)


def test_subject_mask_combines_image_and_layout_by_maximum():
    image = silhouette(32, 48, (4, 30, 12, 44))
    shape = shape_mask(image, 32, 48, 0.3)
    layout = gaussian_mask(32, 48, layout="-0.5 0 0.3")
    assert close(subject_mask(32, 48, 0.3, image=image, layout="-0.5 0 0.3"), layout.maximum(shape))
    # an image without a layout replaces the single subject (sigma only feathers it)
    assert close(subject_mask(32, 48, 0.3, (0.0, 0.0), image=image), shape)
    assert close(subject_mask(32, 48, 0.3, image=image, layout="none"), shape)
    assert close(subject_mask(32, 48, 0.3, (0.2, 0.1)), gaussian_mask(32, 48, 0.3, (0.2, 0.1)))


def test_a_subject_smaller_than_a_latent_cell_is_kept_in_the_cells_it_is_in():
    """A dot or a 1-px line reached half of no latent cell: the mask had no subject and the
    whole canvas shifted (the WebUI's cut-out went too, on a refusal in between)."""
    dot = np.zeros((64, 64), np.uint8)
    dot[20, 40] = 255
    mask = shape_mask(MaskImage(dot), 8, 8, 0.2)[0, 0]
    assert mask[2, 5] == 1.0 and mask[7, 0] < 0.5  # the dot's cell, a far corner
    line = np.zeros((512, 512), np.uint8)
    line[:, 200] = 255
    mask = shape_mask(MaskImage(line), 64, 64, 0.1)[0, 0]
    assert (mask[:, 25] == 1.0).all() and (mask[:, 60] < 0.5).all()
    assert not shape_mask(MaskImage(np.zeros((8, 8), np.uint8)), 16, 16, 0.5).any()


@FAST
@given(st.integers(2, 4), st.integers(0, 2**31 - 1), st.booleans())
def test_per_sample_masks_and_batch_independence(batch, seed, per_sample):
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(batch, 4, 12, 20, generator=gen)
    mask = torch.rand(batch if per_sample else 1, 1, 12, 20, generator=gen)
    out = tkg_noise(noise, SHIFTS, mask=mask)
    for b in range(batch):
        alone = tkg_noise(noise[b : b + 1], SHIFTS, mask=mask[b : b + 1] if per_sample else mask)
        assert torch.equal(out[b : b + 1], alone)
    layout = tkg_noise(noise, SHIFTS, layout="-0.5 0.5 0.3 2 30; 0.5 -0.5 0.2")
    assert torch.equal(
        layout[1:2], tkg_noise(noise[1:2], SHIFTS, layout="-0.5 0.5 0.3 2 30; 0.5 -0.5 0.2")
    )
    # a mask tensor equal to the layout's mask gives the same noise
    assert torch.equal(
        layout,
        tkg_noise(
            noise, SHIFTS, mask=gaussian_mask(12, 20, layout="-0.5 0.5 0.3 2 30; 0.5 -0.5 0.2")
        ),
    )


@pytest.mark.parametrize(
    "mask",
    [
        torch.ones(3, 1, 12, 20),
        torch.ones(1, 1, 10, 20),
        torch.full((12, 20), 1.5),
        torch.ones(12, 20, dtype=torch.int64),
        "x",
    ],
)
def test_bad_mask_tensor(mask):
    with pytest.raises(ValueError, match="mask must be a float tensor"):
        tkg_noise(torch.randn(2, 4, 12, 20), SHIFTS, mask=mask)


def test_reference_mode_takes_only_the_single_round_subject():
    noise = torch.randn(1, 4, 16, 16)
    for extra in ({"aspect": 2.0}, {"layout": "0 0 0.3"}, {"mask": torch.ones(16, 16)}):
        with pytest.raises(ValueError, match="reference mode"):
            tkg_noise(noise, SHIFTS, reference=True, **extra)
    assert tkg_noise(noise, SHIFTS, reference=True, layout="").shape == noise.shape


def test_layout_errors_from_the_library():
    with pytest.raises(ValueError, match="layout: subject 2 'sigma'"):
        gaussian_mask(8, 8, layout="0 0 0.3; 0 0 0")
