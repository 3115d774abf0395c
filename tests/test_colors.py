"""Tests for lib_tkg.colors: parsing, families, strength and the per-family calibration."""

from __future__ import annotations

import colorsys
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lib_tkg import colors
from lib_tkg.colors import (
    FAMILIES,
    PRESETS,
    channel_shifts,
    decoded_rgb,
    default_strength,
    hue_degrees,
    latent_channels,
    parse_color,
)

HUES = range(0, 360, 30)
FAST = settings(max_examples=40, deadline=None)
rgb_triples = st.tuples(*[st.integers(0, 255)] * 3)


def hue_rgb(hue: float) -> tuple[int, int, int]:
    """Full-saturation, full-value 8-bit colour of ``hue`` degrees."""
    r, g, b = colorsys.hsv_to_rgb(hue / 360, 1, 1)
    return (round(r * 255), round(g * 255), round(b * 255))


def hue_error(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def calibrated_shifts(rgb, family, strength):
    """The calibration alone (bypasses the paper's green)."""
    return colors._to_shifts(colors._calibrated_direction(rgb, family), strength)


def hue_errors(family: str, table: str = "preview") -> list[float]:
    """Hue error (degrees) of the 12 calibrated hues, decoded through ``table``'s factors."""
    factors, _ = colors._factors(family, table)
    errors = []
    for hue in HUES:
        shifts = calibrated_shifts(hue_rgb(hue), family, default_strength(family))
        offsets = [colors._NORMAL.inv_cdf(0.5 + s) for s in shifts]
        errors.append(hue_error(hue_degrees(np.array(offsets) @ factors), hue))
    return errors


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "rgb"),
    [
        ("green", (0, 255, 0)),
        (" Magenta ", (255, 0, 255)),
        ("#00ff00", (0, 255, 0)),
        ("#0F0", (0, 255, 0)),
        ("12, 34, 56", (12, 34, 56)),
        ((1, 2, 3), (1, 2, 3)),
        ([255, 128, 0], (255, 128, 0)),
    ],
)
def test_parse_color(spec, rgb):
    assert parse_color(spec) == rgb


@pytest.mark.parametrize(
    "spec", ["chartreuse", "#12345", "#ggg", "1,2", "1,2,300", (1, 2), (1.0, 2, 3), (True, 0, 0), 7]
)
def test_parse_color_errors(spec):
    with pytest.raises(ValueError, match="expected a preset name"):
        parse_color(spec)


# --- families and strength ------------------------------------------------------------------


def test_families_and_channels():
    assert FAMILIES == ("sd1", "sd2", "sdxl", "sd3", "flux")
    assert [latent_channels(f) for f in FAMILIES] == [4, 4, 4, 16, 16]
    for family in FAMILIES:
        factors, bias = colors._factors(family)
        assert factors.shape == (latent_channels(family), 3) and bias.shape == (3,)


@pytest.mark.parametrize("family", ["sd15", "SDXL-turbo", "", None, 4])
def test_unknown_family(family):
    for call in (latent_channels, default_strength, lambda f: channel_shifts("red", f)):
        with pytest.raises(ValueError, match="sd1, sd2, sdxl, sd3, flux"):
            call(family)


def test_default_strengths():
    assert [default_strength(f) for f in ("sd1", "sd2", "sdxl")] == [0.07, 0.07, 0.11]
    assert all(0 < default_strength(f) < 0.5 for f in FAMILIES)


def mean_decoded_size(family: str, strength: float) -> float:
    sizes = [decoded_rgb(channel_shifts(hue_rgb(h), family, strength), family) for h in HUES]
    return float(np.mean(np.linalg.norm(sizes, axis=1)))


@pytest.mark.parametrize("family", ["sd3", "flux"])
def test_sd3_flux_defaults_match_sdxl_effect(family):
    """The comment in colors.py: same mean preview colour change as sdxl at 0.11, within 5 %."""
    reference = mean_decoded_size("sdxl", 0.11)
    assert mean_decoded_size(family, default_strength(family)) == pytest.approx(reference, rel=0.05)


# --- channel_shifts -------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["green", "#00ff00", "0,255,0", (0, 255, 0)])
def test_green_is_the_paper_setting(spec):
    assert channel_shifts(spec, "sd1") == [0.0, 0.07, 0.07, 0.0]
    assert channel_shifts(spec, "sd2") == [0.0, 0.07, 0.07, 0.0]
    assert channel_shifts(spec, "sdxl") == [0.0, 0.11, 0.11, 0.0]
    assert channel_shifts(spec, "sdxl", 0.25) == [0.0, 0.25, 0.25, 0.0]


@pytest.mark.parametrize("family", ["sd1", "sdxl"])
def test_factors_cannot_produce_the_paper_green(family):
    """Why green is special-cased: the preview factors calibrate green elsewhere and decode the
    paper's shift as a blue-green well outside the hue tolerance."""
    assert colors._calibrated_direction(PRESETS["green"], family) != (0, 1, 1, 0)
    paper = decoded_rgb(channel_shifts("green", family), family)
    assert hue_error(hue_degrees(paper), 120) > 35


@FAST
@given(rgb_triples, st.sampled_from(FAMILIES), st.floats(0.0, 0.499))
def test_strength_is_largest_shift(rgb, family, strength):
    try:
        shifts = channel_shifts(rgb, family, strength)
    except ValueError as err:  # only the family's neutral colour has no direction
        assert "neutral" in str(err)
        return
    assert len(shifts) == latent_channels(family)
    assert max(abs(s) for s in shifts) == pytest.approx(strength, rel=1e-12, abs=1e-15)
    assert all(abs(s) < 0.5 for s in shifts)
    assert sum(s != 0 for s in shifts) <= 3 or strength == 0


@FAST
@given(rgb_triples, st.sampled_from(FAMILIES), st.floats(0.01, 0.3), st.floats(0.01, 0.3))
def test_colour_direction_independent_of_strength(rgb, family, s1, s2):
    assume(rgb != PRESETS["green"])
    try:
        a = np.array(decoded_rgb(channel_shifts(rgb, family, s1), family))
    except ValueError:
        return
    b = np.array(decoded_rgb(channel_shifts(rgb, family, s2), family))
    cosine = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    assert cosine == pytest.approx(1.0, abs=1e-9)


@FAST
@given(rgb_triples)
def test_complementary_colours_give_opposite_shifts_on_sd1(rgb):
    """sd1's preview has no bias, so the calibration is odd in the colour around mid-grey."""
    opposite = tuple(255 - v for v in rgb)
    assume(PRESETS["green"] not in (rgb, opposite))
    try:
        shifts = channel_shifts(rgb, "sd1", 0.2)
    except ValueError:
        return
    assert channel_shifts(opposite, "sd1", 0.2) == pytest.approx([-s for s in shifts], abs=1e-9)


@pytest.mark.parametrize("family", FAMILIES)
def test_decoded_colour_points_at_target(family):
    """The calibration is exact in the preview: the decoded change is parallel to the wanted
    colour change (target minus the zero-latent colour)."""
    _, bias = colors._factors(family)
    for rgb in [*PRESETS.values(), (200, 30, 90), (10, 90, 200)]:
        shifts = calibrated_shifts(rgb, family, 0.15)
        got = np.array(decoded_rgb(shifts, family))
        wanted = np.array(rgb) / 127.5 - 1 - bias
        cosine = got @ wanted / (np.linalg.norm(got) * np.linalg.norm(wanted))
        assert cosine == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("family", FAMILIES)
def test_hue_accuracy_own_factors(family):
    errors = hue_errors(family)
    assert np.mean(errors) <= 20 and max(errors) <= 35


@pytest.mark.parametrize("family", ["sd1", "sdxl"])
def test_hue_accuracy_independent_factors(family):
    """Decoded through A1111's independent fit of the same VAE (not used for calibration)."""
    errors = hue_errors(family, "cross_check")
    assert np.mean(errors) <= 20 and max(errors) <= 35


def test_calibrated_colours_are_not_paper_green():
    for hue in HUES:
        if hue != 120:
            assert channel_shifts(hue_rgb(hue), "sd1") == calibrated_shifts(
                hue_rgb(hue), "sd1", 0.07
            )


def test_strength_zero_and_bad_strengths():
    assert channel_shifts("red", "flux", 0) == [0.0] * 16
    for bad in (0.5, -0.01, 1, math.nan, math.inf, "0.1", True):
        with pytest.raises(ValueError, match=r"strength must be a number in \[0, 0.5\)"):
            channel_shifts("red", "sd1", bad)


def test_neutral_and_unknown_colours():
    with pytest.raises(ValueError, match="neutral colour of sd1"):
        channel_shifts((128, 128, 128), "sd1")
    with pytest.raises(ValueError, match="neutral colour of sd3"):
        channel_shifts((158, 155, 152), "sd3")  # what a zero sd3 latent decodes to
    with pytest.raises(ValueError, match="expected a preset name"):
        channel_shifts("chartreuse", "sdxl")


def test_decoded_rgb():
    assert decoded_rgb([0.0] * 4, "sdxl") == (0.0, 0.0, 0.0)
    factors, _ = colors._factors("sd1")
    offset = colors._NORMAL.inv_cdf(0.6)
    assert decoded_rgb([0.1, 0, 0, 0], "sd2") == pytest.approx(tuple(offset * factors[0]))
    with pytest.raises(ValueError, match="sd3 needs 16 shifts"):
        decoded_rgb([0.1] * 4, "sd3")
    with pytest.raises(ValueError, match=r"\|shift\| < 0.5"):
        decoded_rgb([0.5, 0, 0, 0], "sd1")


def test_hue_degrees():
    assert hue_degrees((1.0, 0.0, 0.0)) == 0
    assert hue_degrees((0.0, 2.0, 0.0)) == pytest.approx(120)
    assert hue_degrees((-1.0, -1.0, 1.0)) == pytest.approx(240)
    assert hue_degrees((0.3, 0.3, 0.3)) == 0
