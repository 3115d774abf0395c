"""The keyer's entry points: :func:`key`, :func:`key_image`, :func:`key_matte`."""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from lib_tkg import heap
from lib_tkg.colors import hex_color
from lib_tkg.keying import core, detect, inputs, matte, shadow, tiles
from lib_tkg.keying.outline import solid_mask
from lib_tkg.keying.plate import analyse
from lib_tkg.keying.resolution import pyramid
from lib_tkg.keying.threads import in_background

#: Clip-black: the fraction of the screen's colour difference that may be missing from a pixel
#: while it still counts as pure background (raised automatically to the screen's noise level).
DEFAULT_TOLERANCE = 0.1
#: Clip-white: a pixel whose alpha is within this fraction of opaque becomes fully opaque.
DEFAULT_CLIP_WHITE = 0.1
#: Spill suppression strength, 0 (off) to 1 (remove all remaining key excess).
DEFAULT_DESPILL = 1.0
#: Edge-aware refinement (local foreground re-solve plus guided filter in the unknown band).
DEFAULT_REFINE = True
#: Noise-adaptive, edge-preserving smoothing of the foreground colour (no-op on clean images).
DEFAULT_DENOISE = True
#: Tile side (px) for huge images: larger than 1.5 x tile^2 pixels are keyed in tiles.
DEFAULT_TILE = 2048


class NoKeyColorWarning(UserWarning):
    """Nothing was keyed: the border is no screen, or the key colour is not in the image."""


@dataclass(frozen=True)
class KeyResult:
    """What :func:`key` returns.

    ``rgba``: (H, W, 4) uint8, straight alpha, foreground colour with the screen removed.
    ``alpha``: (H, W) uint8 matte (the same values as ``rgba[..., 3]``).
    ``key_color``: the screen colour used, ``(r, g, b)`` in 0..255, or ``None`` when it had to
    be found and the border is no screen.
    ``keyed``: ``False`` when nothing was keyed out (alpha is the input's, or 255).
    ``notes``: what a user should be told (why nothing was keyed; that a given colour is not
    the one of the screen on the border); the same text as the
    :class:`NoKeyColorWarning`, without process-wide warning state.
    """

    rgba: np.ndarray
    alpha: np.ndarray
    key_color: tuple[int, int, int] | None
    keyed: bool
    notes: list[str] = field(default_factory=list)


#: How to key an image whose screen was not found (warm, white, grey and black ones never
#: are), in each front end's words.
FORCE_HINT = (
    "To key it anyway, give the screen colour as the key colour (key_color in Python and the "
    "API, --key-color in the CLI, the Key colour menu in the Extras tab, the color widget in "
    "ComfyUI); warm, white, grey and black screens are never detected automatically (give "
    "e.g. orange, white, black, or a grey such as '#808080')"
)


def key_quietly(
    image: Any,
    key_color: Any = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    clip_white: float = DEFAULT_CLIP_WHITE,
    despill: float = DEFAULT_DESPILL,
    refine: bool = DEFAULT_REFINE,
    denoise: bool = DEFAULT_DENOISE,
    border: float = detect.DEFAULT_BORDER,
    prior_color: Any = None,
    subject_mask: Any = None,
    exact_color: bool = False,
    keep_shadow: bool = False,
    tile: int = DEFAULT_TILE,
    max_pixels: int = inputs.DEFAULT_MAX_PIXELS,
) -> KeyResult:
    """:func:`key` without the warning: read ``notes`` of the result instead.

    For callers that show the notes themselves (the WebUI, the CLI, sequences); it never
    touches the process-wide warning filters.
    """
    heap.keep_freed_heap()  # once per process: see lib_tkg.heap
    key_color = inputs.auto_is_none(key_color)
    tol, cw = inputs.check_clips(tolerance, clip_white)
    opts = core.Options(
        tol,
        cw,
        inputs.check_unit("despill", despill),
        inputs.check_flag("refine", refine),
        inputs.check_flag("denoise", denoise),
    )
    bd = inputs.check_border(border)
    shadows = inputs.check_flag("keep_shadow", keep_shadow)
    exact = inputs.check_exact_color(exact_color, key_color)
    if (
        isinstance(tile, bool)
        or not isinstance(tile, (int, np.integer))
        or not (tile == 0 or tile >= 64)
    ):
        raise ValueError(
            f"tile must be 0 (never tile) or an integer of at least 64 (px), got {tile!r}"
        )
    prior = None if prior_color is None else inputs.parse_key("prior_color", prior_color)
    kc = None if key_color is None else inputs.parse_key("key_color", key_color)
    rgb, alpha_in = inputs.to_arrays(image)
    inputs.check_size(rgb.shape, max_pixels)
    h, w = rgb.shape[:2]
    mask = inputs.check_subject_mask(subject_mask, (h, w))

    notes: list[str] = []
    # the float copy and its reduced ones are made while the border is examined
    tiled = tiles.needs_tiles(h, w, int(tile))
    made = None if tiled else in_background(lambda: pyramid(rgb))
    if kc is None:
        det = detect.detect_screen(rgb, bd, prior, mask)
        if det.key_rgb is None:
            reason = f"no screen colour found on the image border ({det.reason})"
            if prior is not None:
                return _unkeyed(
                    rgb, alpha_in, None, reason, " (the background did not come out as a screen)"
                )
            return _unkeyed(rgb, alpha_in, None, reason, f". {FORCE_HINT}")
        kc, neutral = det.key_rgb, det.neutral
    else:
        neutral = matte.is_neutral(kc)
        # a chroma colour names the screen's hue: its real shade is measured on the border
        # where it shows that hue (else the colour is keyed as it is given)
        shade = None if neutral or exact else detect.screen_shade(rgb, bd, kc, mask)
        if shade is None and (neutral or not exact):
            notes += _other_screen(rgb, bd, mask, kc, neutral)
        kc = shade or kc

    missing = f"the key colour {hex_color(kc)} does not occur in the image"
    if tiled:
        reduced, _ = tiles.reduce(rgb)
        scr = analyse(reduced, kc, neutral)
        del reduced
        if scr is None:
            return _unkeyed(rgb, alpha_in, kc, missing, notes=notes)
        sgrid = shadow.shadow_grid(scr) if shadows else None
        rgba = np.empty((h, w, 4), np.uint8)

        def sink(box: tuple[int, int, int, int], fg: np.ndarray, alpha: np.ndarray) -> None:
            y0, y1, x0, x1 = box
            a_in = None if alpha_in is None else alpha_in[y0:y1, x0:x1]
            sh = None if sgrid is None else tiles.sub_grid(scr, sgrid, (h, w), box)
            rgba[y0:y1, x0:x1] = _finish(np.ascontiguousarray(fg), alpha, a_in, sh)[0]

        if not tiles.key_tiles(rgb, scr, opts, int(tile), sink):
            return _unkeyed(rgb, alpha_in, kc, missing, notes=notes)
        return KeyResult(rgba, rgba[..., 3].copy(), kc, keyed=True, notes=notes)

    pyr = made.result()
    # a chroma screen's colour difference at full resolution is made while it is analysed
    d_made = None if neutral else in_background(lambda: matte.diff(pyr[0], matte.basis(kc)))
    scr = analyse(pyr[1], kc, neutral, pyr[2])
    d = None if d_made is None else d_made.result()
    res = None
    if scr is not None:
        solid = solid_mask(scr.solid, (h, w))
        res = core.key_pixels(rgb, scr, scr.plate, opts, None, pyr, d, solid=solid)
    if scr is None or res is None:
        return _unkeyed(rgb, alpha_in, kc, missing, notes=notes)
    sgrid = shadow.shadow_grid(scr) if shadows else None
    rgba, a8 = _finish(res[0], res[1], alpha_in, sgrid)
    return KeyResult(rgba, a8, kc, keyed=True, notes=notes)


#: The keyword options of :func:`key`, :func:`key_image` and :func:`key_matte`.
OPTIONS = tuple(
    p.name for p in inspect.signature(key_quietly).parameters.values() if p.kind is p.KEYWORD_ONLY
)


def key(image: Any, key_color: Any = None, **options: Any) -> KeyResult:
    """Key ``image`` and return a :class:`KeyResult` (RGBA cut-out, matte, key colour used).

    ``image``: PIL image (RGB, RGBA, L, LA, P, ...) or uint8 array (H, W), (H, W, 1..4). An
    input alpha channel is multiplied into the result. The input is never modified.
    ``key_color``: screen colour (preset name, ``'#RRGGBB'``, ``'#RGB'``, ``'r,g,b'`` or an RGB
    tuple), keyed whatever the image holds; white, black and greys are keyed by their distance
    from the clean plate. A chroma colour gives the screen's hue: where the border shows a
    screen of that hue (within 60 degrees) its real shade is measured there and keyed (as with
    ``prior_color``; a pure preset or a standard chroma green rarely matches a real or generated
    screen), where it shows that hue but no clean screen (hair or a veil over most of it) the
    shade of its smooth pixels of that hue
    (:func:`lib_tkg.keying.detect.screen_shade`), else the colour as given;
    ``exact_color=True`` always keys it as given.
    ``None`` (or ``"auto"``): only if the border is plausibly a screen
    (:func:`lib_tkg.keying.detect.detect_screen`), its colour measured there.
    ``prior_color``: with ``key_color=None``, the colour the screen was meant to be (e.g. the
    generation's requested colour): the border must be a screen of that hue (or, neutral, that
    brightness) to be keyed. ``subject_mask``: float (H, W) 0..1 (any size, or an 'L' image),
    where the subject likely is; detection ignores the border under it.
    ``tolerance`` (clip-black) and ``clip_white``: fractions in [0, 1], sum below 1.
    ``despill``: 0..1 spill suppression. ``refine``: edge-aware refinement. ``denoise``:
    smooth the foreground colour as much as the screen's measured noise. ``border``: border
    band width (fraction of the short side, (0, 0.5]) for detection. ``keep_shadow``: keep soft
    shadows on the screen as a translucent black layer. ``tile``: images over 1.5 x tile^2
    pixels are keyed in tiles of that side (0: never). ``max_pixels``: larger images raise
    ``ValueError``.

    When nothing is keyed, alpha is 255 everywhere (times any input alpha), ``keyed`` is False,
    ``notes`` says why, and a :class:`NoKeyColorWarning` with the same text is emitted
    (:func:`key_quietly` emits none).
    """
    return _key_warning(image, key_color, options)


def _key_warning(image: Any, key_color: Any, options: dict[str, Any]) -> KeyResult:
    """:func:`key_quietly` with the options checked and each note a warning pointing at the
    caller of :func:`key`, :func:`key_image` or :func:`key_matte`."""
    check_options(options)
    result = key_quietly(image, key_color, **options)
    for note in result.notes:
        warnings.warn(note, NoKeyColorWarning, stacklevel=3)
    return result


def check_options(options: Any, accepted: tuple[str, ...] = OPTIONS) -> None:
    """``TypeError`` naming the ``options`` (names) that are not keying options ``accepted``."""
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"unknown keying option(s) {', '.join(unknown)}; accepted: {', '.join(accepted)}"
        )


def _finish(
    fg: np.ndarray, alpha: np.ndarray, alpha_in: np.ndarray | None, sgrid: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """RGBA uint8 from a keyed region: shadow layer, input alpha, colour 0 where transparent;
    and the matte, (h, w) uint8: its alpha channel's values in an array of their own (a copy
    of that strided channel is slow)."""
    h, w = alpha.shape
    if sgrid is not None:
        s = cv2.resize(sgrid, (w, h), interpolation=cv2.INTER_LINEAR)
        alpha = shadow.add_shadow(fg, alpha, s)
    if alpha_in is not None:
        alpha = alpha * (alpha_in.astype(np.float32) * np.float32(1.0 / 255.0))
    a8 = cv2.convertScaleAbs(alpha, alpha=255.0)  # rounds and saturates
    rgba = cv2.merge([*cv2.split(fg), a8])
    # colour 0 where fully transparent (a masked copy is 0 elsewhere; twice as fast as an AND)
    return cv2.copyTo(rgba, a8), a8


def _other_screen(
    rgb: np.ndarray,
    bd: float,
    mask: np.ndarray | None,
    kc: tuple[int, int, int],
    neutral: bool,
) -> list[str]:
    """A note when the border shows a chroma screen that the key colour ``kc`` (keyed as given:
    neutral, or a hue the border does not show) is not; else none."""
    other = detect.detect_screen(rgb, bd, None, mask).key_rgb
    return [] if other is None else [screen_mismatch("the image border shows", other, kc, neutral)]


def screen_mismatch(
    shows: str, other: tuple[int, int, int], kc: tuple[int, int, int], neutral: bool
) -> str:
    """The note for a key colour ``kc`` keyed as given (``neutral``, or a hue not found) where
    the border (``shows``: "the image border shows", for a sequence "the frames' borders
    show") shows a chroma screen of colour ``other``, which ``auto`` would key."""
    what = (
        f"a {matte.neutral_kind(kc)} one" if neutral else f"of the hue of key_color {hex_color(kc)}"
    )
    return (
        f"{shows} a screen of colour {hex_color(other)}, not {what}; key_color "
        f"{hex_color(kc)} is used as given (auto would key {hex_color(other)})"
    )


def _unkeyed(
    rgb: np.ndarray,
    alpha_in: np.ndarray | None,
    kc: tuple[int, int, int] | None,
    reason: str,
    tail: str = "",
    notes: list[str] | None = None,
) -> KeyResult:
    """The image as it came (its own alpha, if any), with a note: ``reason``, what the alpha
    is, then ``tail``; after any earlier ``notes``."""
    h, w = rgb.shape[:2]
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255 if alpha_in is None else alpha_in
    kept = "alpha is 255 everywhere" if alpha_in is None else "the image's own alpha is kept"
    note = f"{reason}; nothing was keyed, {kept}{tail}"
    return KeyResult(rgba, rgba[..., 3].copy(), kc, keyed=False, notes=[*(notes or []), note])


def key_image(image: Any, key_color: Any = None, **options: Any) -> np.ndarray:
    """Key ``image``; return the RGBA cut-out, (H, W, 4) uint8, straight alpha.

    Options are those of :func:`key`.
    """
    return _key_warning(image, key_color, options).rgba


def key_matte(image: Any, key_color: Any = None, **options: Any) -> np.ndarray:
    """Key ``image``; return the matte alone, (H, W) uint8 (255 = foreground)."""
    return _key_warning(image, key_color, options).alpha
