"""The one validated parameter object shared by the WebUI UI, HTTP API, infotext, X/Y/Z and CLI.

``FIELDS`` lists every parameter once, in the WebUI script's argument order (which is also the
order of ``alwayson_scripts["TKG chroma background"]["args"]``), with its default, range, UI
label, infotext key and X/Y/Z axis label. Every entry point builds a ``TkgParams`` through this
module, so a value accepted in one place is accepted everywhere, and a rejected value gets the
same ``ParamError`` text wherever it came from.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lib_tkg.colors import PRESETS, parse_color
from lib_tkg.keying import DEFAULT_CLIP_WHITE, DEFAULT_DESPILL, DEFAULT_TOLERANCE
from lib_tkg.layout import (
    ASPECT_ACCEPTED,
    LAYOUT_ACCEPTED,
    MASK_ACCEPTED,
    SIGMA_RANGE,
    Ellipse,
    MaskImage,
    aspect_ok,
    load_mask_image,
    normalise_layout,
    parse_layout,
)

TITLE = "TKG chroma background"
CUSTOM = "custom"
COLOR_CHOICES = (*PRESETS, CUSTOM)


#: Infotext entry of a cut-out (and matte) whose picture held no screen: nothing was keyed,
#: alpha is 255 (the console note says why).
NOT_KEYED = "TKG cut-out: not keyed"


def color_accepted(*extra: str) -> str:
    """What a colour parameter accepts: ``extra`` words (a front end's own, e.g. ComfyUI's
    "auto"), the presets, ``custom`` and the colour forms."""
    return f"one of {', '.join((*extra, *COLOR_CHOICES))}, '#RRGGBB', '#RGB' or 'r,g,b'"


ATTR_PREFIX = "tkg_"  # X/Y/Z apply functions set ``p.tkg_<field name>`` on the cell's copy of p

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ParamError(ValueError):
    """A parameter value was rejected; the message names it and says what is accepted."""


@dataclass(frozen=True)
class Field:
    """One parameter: ``kind`` is bool, float, str or object; ``lo``/``hi`` bound floats
    (inclusive); ``parse`` (if set) checks and normalises the value instead, raising
    ``ValueError``."""

    name: str
    kind: type
    default: Any
    label: str
    infotext: str
    axis: str | None = None
    lo: float | None = None
    hi: float | None = None
    accepted: str = ""
    parse: Callable[[Any], Any] | None = None

    def describe(self) -> str:
        """What this field accepts, for error messages and docs."""
        if self.accepted:
            return self.accepted
        if self.kind is bool:
            return "true or false"
        if self.kind is float:
            return f"a number in [{self.lo:g}, {self.hi:g}]"
        return "a string"


FIELDS: tuple[Field, ...] = (
    Field("enabled", bool, False, TITLE, "TKG", axis="[TKG] Enabled"),
    Field(
        "color",
        str,
        "green",
        "Background colour",
        "TKG color",
        axis="[TKG] Colour",
        accepted=color_accepted(),
    ),
    Field(
        "custom_color",
        str,
        "#00ff00",
        "Custom colour",
        "TKG custom color",
        accepted="'#RRGGBB', '#RGB', 'r,g,b' or a preset name",
    ),
    Field(
        "strength",
        float,
        0.0,
        "Shift strength (0 = Auto)",
        "TKG strength",
        axis="[TKG] Shift strength",
        lo=0.0,
        hi=0.49,
        accepted="'auto', or a number in [0, 0.49] (0 = Auto: the paper's value for the model)",
    ),
    Field("sigma", float, 0.5, "Mask sigma", "TKG sigma", "[TKG] Mask sigma", *SIGMA_RANGE),
    Field("center_x", float, 0.0, "Subject centre X", "TKG center x", "[TKG] Centre X", -1.0, 1.0),
    Field("center_y", float, 0.0, "Subject centre Y", "TKG center y", "[TKG] Centre Y", -1.0, 1.0),
    Field("make_rgba", bool, True, "Make RGBA cut-out", "TKG RGBA"),
    Field("save_matte", bool, False, "Also save the matte", "TKG matte"),
    Field("despill", float, DEFAULT_DESPILL, "Despill strength", "TKG despill", lo=0.0, hi=1.0),
    # The keyer needs tolerance + clip_white < 1 (clip_white stays at the keyer's default).
    Field(
        "tolerance",
        float,
        DEFAULT_TOLERANCE,
        "Key tolerance",
        "TKG tolerance",
        lo=0.0,
        hi=round(0.95 - DEFAULT_CLIP_WHITE, 2),
    ),
    Field(
        "layout",
        str,
        "",
        "Subject layout",
        "TKG layout",
        axis="[TKG] Layout",
        accepted=LAYOUT_ACCEPTED,
        parse=normalise_layout,
    ),
    Field(
        "mask_image",
        object,
        None,
        "Subject mask image",
        "TKG mask image",
        accepted=MASK_ACCEPTED,
        parse=load_mask_image,
    ),
    # script argument 13
    Field("keep_shadow", bool, False, "Keep soft shadows", "TKG keep shadow"),
    Field(
        "aspect",
        float,
        0.0,
        "Subject aspect",
        "TKG aspect",
        axis="[TKG] Aspect",
        lo=0.0,
        hi=5.0,
        accepted=ASPECT_ACCEPTED,
    ),
)
FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}


def _fail(field: Field, value: Any, where: str) -> ParamError:
    return ParamError(f"{TITLE}: {where}'{field.name}' must be {field.describe()}, got {value!r}")


def _coerce(field: Field, value: Any, *, text: bool, where: str = "") -> Any:
    """Check one value (``text=True`` also parses strings, as infotext and X/Y/Z give them)."""
    if field.parse is not None:
        try:
            return field.parse(value)
        except ValueError as exc:
            raise ParamError(f"{TITLE}: {where}'{field.name}' {exc}") from None
    if field.kind is bool:
        if isinstance(value, bool):
            return value
        if text and isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _fail(field, value, where)
    if field.kind is float:
        if field.name == "strength" and (
            value is None or (isinstance(value, str) and value.strip().lower() == "auto")
        ):
            return 0.0
        number = value
        if text and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise _fail(field, value, where) from None
        if isinstance(number, bool) or not isinstance(number, numbers.Real):  # (numpy's too)
            raise _fail(field, value, where)
        number = float(number)
        if not math.isfinite(number) or not field.lo <= number <= field.hi:
            raise _fail(field, value, where)
        if field.name == "aspect" and not aspect_ok(number):
            raise _fail(field, value, where)
        return number
    if _left_out(field, value):
        return field.default  # (as strength's null: the default, used only with "custom")
    if not isinstance(value, str):
        raise _fail(field, value, where)
    normalised = value.strip().lower()
    if field.name == "color" and normalised == CUSTOM:
        return CUSTOM
    try:
        rgb = parse_color(normalised)
    except ValueError:
        raise _fail(field, value, where) from None
    return normalised if normalised in PRESETS else "#{:02x}{:02x}{:02x}".format(*rgb)


def _left_out(field: Field, value: Any) -> bool:
    """Whether ``value`` leaves ``field`` at its default (the one given, e.g. the Settings
    page's): a custom colour of ``None`` or ``""``."""
    return field.name == "custom_color" and (value is None or value == "")


def check_value(field: Field, value: Any, *, text: bool = False) -> Any:
    """Validate one value against ``field`` (which may be a renamed copy of a ``FIELDS`` entry,
    for entry points that use another name); return it normalised or raise ``ParamError``."""
    return _coerce(field, value, text=text)


@dataclass(frozen=True)
class TkgParams:
    """Validated TKG settings. Build with ``from_args``, ``from_mapping`` or ``from_infotext``.

    Units and ranges: ``strength`` is the largest per-channel change of the share of positive
    noise values (0 = Auto, the paper's value for the model family; at most 0.49); ``sigma`` is
    the Gaussian mask's std in image coordinates spanning [-1, 1] (0.05..4); ``center_x`` and
    ``center_y`` are the subject centre in [-1, 1] (x right, y down); ``despill`` and
    ``tolerance`` are keyer controls in [0, 1]; ``keep_shadow`` keeps soft shadows on
    the screen as a translucent black layer. ``layout`` is the canonical layout string
    (``lib_tkg.layout``: ``"x y sigma[ aspect[ angle]]; ..."``, "" = the single subject),
    ``mask_image`` an optional free-form ``MaskImage`` (white = subject) and ``aspect`` the
    single subject's width / height (0 = stretch with the canvas, the paper's mask; else
    [0.05, 5]).
    """

    enabled: bool = False
    color: str = "green"
    custom_color: str = "#00ff00"
    strength: float = 0.0
    sigma: float = 0.5
    center_x: float = 0.0
    center_y: float = 0.0
    make_rgba: bool = True
    save_matte: bool = False
    despill: float = DEFAULT_DESPILL
    tolerance: float = DEFAULT_TOLERANCE
    layout: str = ""
    mask_image: MaskImage | None = None
    keep_shadow: bool = False
    aspect: float = 0.0

    def __post_init__(self) -> None:
        for field in FIELDS:
            value = _coerce(field, getattr(self, field.name), text=False)
            object.__setattr__(self, field.name, value)

    @classmethod
    def from_args(cls, args: Sequence[Any], defaults: TkgParams | None = None) -> TkgParams:
        """Positional script arguments (UI or API order, see ``FIELDS``); missing ones default."""
        if len(args) > len(FIELDS):
            raise ParamError(
                f"{TITLE}: got {len(args)} arguments, accepts at most {len(FIELDS)}: "
                + ", ".join(f.name for f in FIELDS)
            )
        base = defaults or cls()
        try:
            values = {
                f.name: _coerce(f, v, text=False, where=f"argument {i} ")
                for i, (f, v) in enumerate(zip(FIELDS, args, strict=False))
                if not _left_out(f, v)
            }
        except ParamError as err:
            if len(args) >= 2 and all(isinstance(a, str) and len(a) == 1 for a in args[:2]):
                # the WebUI's API copies a JSON string given as "args" letter by letter
                raise ParamError(
                    f'{err} (the arguments are single letters: "args" must be a JSON list '
                    'such as [true, "green"], not a string)'
                ) from None
            raise
        return dataclasses.replace(base, **values)

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], defaults: TkgParams | None = None, *, text: bool = False
    ) -> TkgParams:
        """Named values (CLI, settings, JSON); unknown names are an error."""
        unknown = sorted(set(values) - set(FIELD_BY_NAME))
        if unknown:
            raise ParamError(
                f"{TITLE}: unknown parameter(s) {', '.join(unknown)}; accepted: "
                + ", ".join(FIELD_BY_NAME)
            )
        checked = {
            k: _coerce(FIELD_BY_NAME[k], v, text=text)
            for k, v in values.items()
            if not _left_out(FIELD_BY_NAME[k], v)
        }
        return dataclasses.replace(defaults or cls(), **checked)

    @classmethod
    def from_infotext(cls, info: Mapping[str, Any]) -> TkgParams:
        """Parameters pasted from infotext (string values); no ``TKG`` keys means disabled.

        The mask image cannot be restored (infotext only notes that one was used)."""
        values = {
            f.name: info[f.infotext]
            for f in FIELDS
            if f.infotext in info and f.name not in ("enabled", "mask_image")
        }
        params = cls.from_mapping(values, text=True)
        return dataclasses.replace(params, enabled=any(str(k).startswith("TKG") for k in info))

    def with_overrides(self, holder: Any) -> TkgParams:
        """Apply X/Y/Z overrides: attributes ``tkg_<name>`` set on ``holder`` (the host's ``p``)."""
        values = {
            f.name: getattr(holder, ATTR_PREFIX + f.name)
            for f in FIELDS
            if hasattr(holder, ATTR_PREFIX + f.name)
        }
        return self.from_mapping(values, self, text=True) if values else self

    def to_infotext(self) -> dict[str, str]:
        """``TKG ...`` entries for ``p.extra_generation_params`` (only when enabled)."""
        if not self.enabled:
            return {}
        out = {"TKG": "on"}
        for f in FIELDS[1:]:
            value = getattr(self, f.name)
            if f.name == "custom_color" and self.color != CUSTOM:
                continue
            if f.name in ("layout", "mask_image", "keep_shadow", "aspect") and value == f.default:
                continue  # not written at their defaults: infotext as before they existed
            if f.name == "mask_image":
                value = "{}x{} (not stored; upload it again)".format(*value.size)
            if f.name == "strength" and value == 0.0:
                value = "auto"
            out[f.infotext] = str(value)
        return out

    @property
    def key_color(self) -> str:
        """The colour spec to shift toward and key out (the custom colour when ``custom``)."""
        return self.custom_color if self.color == CUSTOM else self.color

    @property
    def strength_or_auto(self) -> float | None:
        """``strength`` as ``lib_tkg.colors.channel_shifts`` takes it: None means Auto."""
        return self.strength or None

    @property
    def center(self) -> tuple[float, float]:
        """Mask centre ``(x, y)`` in [-1, 1]."""
        return (self.center_x, self.center_y)

    @property
    def ellipses(self) -> tuple[Ellipse, ...]:
        """The layout's subjects (empty: the single subject of sigma, centre and aspect)."""
        return parse_layout(self.layout)

    @property
    def mask_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``lib_tkg.noise.tkg_noise``/``subject_mask`` for the mask."""
        return {
            "sigma": self.sigma,
            "center": self.center,
            "aspect": self.aspect,
            "layout": self.ellipses,
            "image": self.mask_image,
        }
