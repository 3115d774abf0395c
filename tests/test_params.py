"""``lib_tkg.params``: one validated parameter object for UI, API, infotext, X/Y/Z and CLI."""

from __future__ import annotations

import dataclasses
import math
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_tkg.colors import PRESETS
from lib_tkg.layout import (
    ANGLE_RANGE,
    ASPECT_RANGE,
    MAX_SUBJECTS,
    SIGMA_RANGE,
    Ellipse,
    aspect_ok,
    format_layout,
)
from lib_tkg.params import (
    ATTR_PREFIX,
    COLOR_CHOICES,
    CUSTOM,
    FIELD_BY_NAME,
    FIELDS,
    TITLE,
    ParamError,
    TkgParams,
)


def bounded(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


aspects = st.just(0.0) | bounded(*ASPECT_RANGE)
ellipses = st.builds(
    Ellipse, bounded(-1, 1), bounded(-1, 1), bounded(*SIGMA_RANGE), aspects, bounded(*ANGLE_RANGE)
)
layouts = st.lists(ellipses, max_size=MAX_SUBJECTS).map(lambda es: format_layout(tuple(es)))
hex_colors = st.tuples(*[st.integers(0, 255)] * 3).map(lambda c: "#{:02x}{:02x}{:02x}".format(*c))


def float_field(name: str) -> st.SearchStrategy[float]:
    f = FIELD_BY_NAME[name]
    return st.floats(f.lo, f.hi, allow_nan=False, allow_infinity=False)


valid_values = st.fixed_dictionaries(
    {
        "enabled": st.booleans(),
        "color": st.sampled_from(COLOR_CHOICES) | hex_colors,
        "custom_color": st.sampled_from(sorted(PRESETS)) | hex_colors,
        "strength": float_field("strength"),
        "sigma": float_field("sigma"),
        "center_x": float_field("center_x"),
        "center_y": float_field("center_y"),
        "make_rgba": st.booleans(),
        "save_matte": st.booleans(),
        "despill": float_field("despill"),
        "tolerance": float_field("tolerance"),
        "layout": layouts,
        "mask_image": st.none(),  # images: test_mask_image_*; infotext and X/Y/Z carry none
        "keep_shadow": st.booleans(),
        "aspect": aspects,
    }
)


def test_fields_are_the_script_argument_order_with_unique_labels_and_keys():
    assert [f.name for f in FIELDS] == [f.name for f in dataclasses.fields(TkgParams)]
    for attr in ("label", "infotext"):
        values = [getattr(f, attr) for f in FIELDS]
        assert len(values) == len(set(values)), attr
    axes = [f.axis for f in FIELDS if f.axis]
    assert len(axes) == len(set(axes)) == 8
    assert all(f.infotext.startswith("TKG") for f in FIELDS)
    assert FIELDS[0].name == "enabled" and FIELDS[0].label == TITLE
    assert TkgParams() == TkgParams.from_args(())


@given(valid_values)
def test_from_args_round_trip(values):
    params = TkgParams.from_args(tuple(values[f.name] for f in FIELDS))
    assert params == TkgParams(**values)
    assert TkgParams.from_args(tuple(getattr(params, f.name) for f in FIELDS)) == params


@given(valid_values, st.integers(0, len(FIELDS)))
def test_from_args_missing_positions_keep_defaults(values, n):
    base = TkgParams(**values)
    params = TkgParams.from_args(tuple(values[f.name] for f in FIELDS[:n]), defaults=None)
    for i, f in enumerate(FIELDS):
        want = getattr(base, f.name) if i < n else getattr(TkgParams(), f.name)
        assert getattr(params, f.name) == want


@given(valid_values)
def test_infotext_round_trip(values):
    params = TkgParams(**{**values, "enabled": True})
    info = params.to_infotext()
    assert all(isinstance(v, str) for v in info.values())
    assert all(k.startswith("TKG") for k in info)
    back = TkgParams.from_infotext(info)
    expected = params
    if params.color != CUSTOM:  # the custom colour is only written when it is used
        expected = dataclasses.replace(params, custom_color=TkgParams().custom_color)
    assert back == expected
    assert back.key_color == params.key_color


@given(valid_values)
def test_disabled_writes_no_infotext_and_no_tkg_keys_reads_as_disabled(values):
    assert TkgParams(**{**values, "enabled": False}).to_infotext() == {}
    assert TkgParams.from_infotext({"Steps": "20", "Seed": "1"}) == TkgParams()


@given(
    valid_values,
    valid_values,
    st.sets(st.sampled_from([f.name for f in FIELDS if f.name != "mask_image"])),
    st.booleans(),
)
def test_with_overrides(base_values, new_values, names, as_text):
    base = TkgParams(**base_values)
    holder = types.SimpleNamespace()
    for name in names:
        value = new_values[name]
        setattr(holder, ATTR_PREFIX + name, str(value) if as_text else value)
    params = base.with_overrides(holder)
    assert params == dataclasses.replace(base, **{n: new_values[n] for n in names})
    assert base.with_overrides(types.SimpleNamespace()) is base


def test_strength_auto():
    assert TkgParams.from_args((True, "green", "#00ff00", "auto")).strength == 0.0
    assert TkgParams.from_args((True, "green", "#00ff00", None)).strength == 0.0
    assert TkgParams(strength=0.0).strength_or_auto is None
    assert TkgParams(strength=0.2).strength_or_auto == 0.2
    info = TkgParams(enabled=True).to_infotext()
    assert info["TKG strength"] == "auto"


def test_colour_normalisation():
    assert TkgParams(color="  Blue ").color == "blue"
    assert TkgParams(color="#0F0").color == "#00ff00"
    assert TkgParams(color="0, 128, 255").color == "#0080ff"
    assert TkgParams(color=CUSTOM, custom_color="#ABCDEF").key_color == "#abcdef"
    assert TkgParams(color="red", custom_color="#ABCDEF").key_color == "red"


@pytest.mark.parametrize(
    ("index", "value", "accepted"),
    [
        (0, "yes", "true or false"),
        (0, 1, "true or false"),
        (1, "plaid", "one of green"),
        (1, 7, "one of green"),
        (2, "#12345", "'#RRGGBB'"),
        (3, 0.5, "a number in [0, 0.49]"),
        (3, "strong", "'auto'"),
        (4, 0.0, "a number in [0.05, 4]"),
        (4, math.nan, "a number in [0.05, 4]"),
        (4, math.inf, "a number in [0.05, 4]"),
        (4, True, "a number in [0.05, 4]"),
        (5, -1.5, "a number in [-1, 1]"),
        (6, "0.5", "a number in [-1, 1]"),  # API args are JSON typed: no string parsing
        (7, None, "true or false"),
        (9, 1.01, "a number in [0, 1]"),
        (10, [0.1], "a number in [0, 0.85]"),
    ],
)
def test_argument_errors_name_the_argument(index, value, accepted):
    args = [getattr(TkgParams(), f.name) for f in FIELDS]
    args[index] = value
    with pytest.raises(ParamError) as info:
        TkgParams.from_args(tuple(args))
    message = str(info.value)
    assert message.startswith(f"{TITLE}: argument {index} '{FIELDS[index].name}' must be ")
    assert accepted in message and repr(value) in message
    assert isinstance(info.value, ValueError)


@given(st.sampled_from([f for f in FIELDS if f.kind is float]), st.floats(allow_nan=False))
def test_out_of_range_floats_are_rejected(field, value):
    args = [getattr(TkgParams(), f.name) for f in FIELDS]
    args[FIELDS.index(field)] = value
    if field.lo <= value <= field.hi and (field.name != "aspect" or aspect_ok(value)):
        assert getattr(TkgParams.from_args(tuple(args)), field.name) == value
    else:
        with pytest.raises(ParamError, match=f"'{field.name}'"):
            TkgParams.from_args(tuple(args))


@pytest.mark.parametrize("text", ["true", "True", "1,green"])
def test_a_string_spelt_out_as_arguments_says_args_must_be_a_list(text):
    # the WebUI's API copies "args": "true" into the script args letter by letter
    with pytest.raises(ParamError) as info:
        TkgParams.from_args(tuple(text))
    message = str(info.value)
    assert message.startswith(f"{TITLE}: argument 0 'enabled' must be true or false")
    assert '"args" must be a JSON list' in message
    with pytest.raises(ParamError) as info:  # one bad value is not taken for letters
        TkgParams.from_args(("t", "green"))
    assert "JSON list" not in str(info.value)


def test_an_empty_custom_colour_is_the_default():
    # used only with color "custom", like strength's null it may be left empty
    for empty in (None, ""):
        params = TkgParams.from_args((True, "green", empty))
        assert params.custom_color == TkgParams().custom_color
    with pytest.raises(ParamError, match="'custom_color'"):
        TkgParams.from_args((True, "green", "   "))  # (text, but no colour)


def test_an_empty_custom_colour_keeps_the_given_default():
    """The Settings page's default custom colour (the defaults given) holds for ``null`` and
    ``""`` too, as for a left-out argument (``/tkg-chroma/v1/info`` lists it as the default);
    they gave ``#00ff00``."""
    red = TkgParams.from_mapping({"custom_color": "#ff0000"})
    for args in ((True, "custom"), (True, "custom", None), (True, "custom", "")):
        assert TkgParams.from_args(args, red).key_color == "#ff0000"
    assert TkgParams.from_mapping({"custom_color": None}, red).custom_color == "#ff0000"
    assert TkgParams.from_args((True, "custom", "#0000ff"), red).key_color == "#0000ff"


def test_too_many_arguments_and_unknown_names():
    with pytest.raises(ParamError, match=f"accepts at most {len(FIELDS)}"):
        TkgParams.from_args((False,) * (len(FIELDS) + 1))
    with pytest.raises(ParamError, match=r"unknown parameter.*colour"):
        TkgParams.from_mapping({"colour": "red"})


def test_text_values_parse_where_text_is_expected():
    params = TkgParams.from_mapping(
        {"enabled": "On", "sigma": "1.5", "make_rgba": "false", "strength": "AUTO"}, text=True
    )
    assert (params.enabled, params.sigma, params.make_rgba, params.strength) == (
        True,
        1.5,
        False,
        0.0,
    )
    with pytest.raises(ParamError, match="'sigma'"):
        TkgParams.from_mapping({"sigma": "wide"}, text=True)
    with pytest.raises(ParamError, match="'sigma'"):
        TkgParams.from_mapping({"sigma": "1.5"})  # not text: strings are not numbers


def test_infotext_with_a_bad_value_raises():
    with pytest.raises(ParamError, match="'sigma'"):
        TkgParams.from_infotext({"TKG": "on", "TKG sigma": "99"})
