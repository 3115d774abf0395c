"""Per-generation state: what one generation (one ``p``) needs between the script's hooks."""

from __future__ import annotations

import contextlib
from typing import Any

from PIL import Image

from lib_tkg.params import ATTR_PREFIX, TITLE, ParamError, TkgParams
from lib_tkg.webui import log
from lib_tkg.webui.infotext import drop_stale_infotext, write_infotext

STATE_ATTR = "_tkg_chroma_state"  # per-generation state on p (not an X/Y/Z override name)
API_ERROR_STATUS = 422


class PendingSave:
    """The outputs keyed from one picture, to be saved once the host has saved the picture.

    ``source`` is the ``pp.image`` object that was keyed: the host passes that very object to
    ``images.save_image`` (``image = pp.image`` right before it) and ``on_image_saved`` gets it
    back as ``params.image``. Grids, ``-before-highres-fix`` and ``-before-face-restoration``
    saves are other objects, so they never match.
    """

    def __init__(
        self, source: Any, outputs: list[tuple[Image.Image, str]], seed: Any, prompt: Any, info: str
    ) -> None:
        self.source = source
        self.outputs = outputs  # (image, file name suffix)
        self.seed = seed
        self.prompt = prompt
        self.info = info
        self.done = False


class RunState:
    """What one generation (one ``p``) needs between hooks, stored on ``p`` as ``STATE_ATTR``."""

    def __init__(self, params: TkgParams | None, error: ParamError | None = None) -> None:
        self.params = params
        self.error = error
        self.outputs: list[tuple[Image.Image, str]] = []  # gallery: (image, infotext)
        self.pending: list[PendingSave] = []  # cut-outs waiting for their original's save
        self.saving = False  # our own save_image call is running (its on_image_saved: ignore)
        self.notes: set[str] = set()
        self.animatediff: Any = None  # lib_tkg.webui.animatediff.AnimateDiffRun when it is on

    def note(self, p: Any, message: str) -> None:
        """Console warning and a comment on the result, once per generation."""
        if message in self.notes:
            return
        self.notes.add(message)
        log(message)
        comment = getattr(p, "comment", None)
        if callable(comment):
            with contextlib.suppress(Exception):
                comment(f"{TITLE}: {message}")


def get_state(p: Any) -> RunState | None:
    """The ``RunState`` of the generation ``p``, or None when TKG is off for it."""
    state = getattr(p, STATE_ATTR, None)
    return state if isinstance(state, RunState) else None


def api_error(err: ParamError, error_type: type[ParamError] = ParamError) -> ParamError:
    """``err`` as an ``error_type`` for the API's exception handler (``modules/api/api.py``
    ``handle_exception`` reads ``status_code`` and ``detail`` from ``vars(e)``): HTTP 422 with
    the message. The glue passes a ``ParamError`` that is also the host's ``HTTPException``,
    for which that handler prints no traceback."""
    out = error_type(str(err))
    vars(out).update(status_code=API_ERROR_STATUS, detail=str(err), headers=None)
    return out


class _EnabledOnly:
    def __init__(self, p: Any) -> None:
        name = ATTR_PREFIX + "enabled"
        if hasattr(p, name):
            setattr(self, name, getattr(p, name))


def enabled_only(args: tuple, p: Any) -> bool | None:
    """The enable flag alone (with its X/Y/Z override); None when it is itself invalid."""
    try:
        return TkgParams.from_args(args[:1]).with_overrides(_EnabledOnly(p)).enabled
    except ParamError:
        return None


def start(p: Any, args: tuple, error_type: type[ParamError] = ParamError) -> RunState | None:
    """Validate the script args (with X/Y/Z overrides on ``p``) and store this generation's
    state on ``p``; None when TKG is off. A rejected argument gives a state holding the error
    (an ``error_type``, :func:`api_error`), raised later from ``p.rng`` (the host swallows
    exceptions raised in script hooks)."""
    setattr(p, STATE_ATTR, None)
    try:
        params = TkgParams.from_args(args).with_overrides(p)
    except ParamError as err:
        if enabled_only(args, p) is False:
            return None  # disabled: the other values don't matter
        log(f"generation stopped: {err}")
        state = RunState(params=None, error=api_error(err, error_type))
        setattr(p, STATE_ATTR, state)
        return state
    drop_stale_infotext(p)
    if not params.enabled:
        return None
    write_infotext(p, params)
    state = RunState(params=params)
    setattr(p, STATE_ATTR, state)
    return state
