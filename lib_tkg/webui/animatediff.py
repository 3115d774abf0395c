"""AnimateDiff (continue-revolution/sd-webui-animatediff): transparent animations.

With AnimateDiff enabled for a run (its script's argument, an ``AnimateDiffProcess`` or, from the
API before its ``before_process`` converts it, a dict, has ``enable`` true), every batch is one
video of ``video_length`` frames (AnimateDiff sets ``p.batch_size`` to it). Then:

* Frames are not keyed one by one. ``collect_frame`` keeps each final frame; ``finish`` keys each
  video as one sequence (``lib_tkg.animation.key_sequence``: one key colour, temporal matte) and
  writes ``<AnimateDiff's name><suffix>.webp`` (and the other formats of the Settings option)
  into AnimateDiff's own output folder (``<outpath_samples>/AnimateDiff/<date>/``), beside its
  GIF/MP4/..., whatever ``p.do_not_save_samples`` says (AnimateDiff always saves). The files are
  appended to ``processed.images``: paths for the UI gallery, base64 in API responses, as
  AnimateDiff itself does.
* Order: AnimateDiff's ``postprocess`` encodes ``res.images`` and then replaces it, so anything
  appended before it is dropped. ``metadata.ini`` orders our ``postprocess`` after its; and at
  run time, if the host's order puts its ``postprocess`` after ours, ``finish`` is deferred
  until right after it (its bound method on that script object is wrapped for this one call).
  Its own videos never see our files.
* Image-to-video: AnimateDiff draws noise from ``p.rng`` in its ``before_process_batch`` to
  randomise the init latents; the shift is installed before that, by our
  ``before_process_batch`` (``metadata.ini`` orders it first) or by a wrapper of AnimateDiff's
  for this run (``hook_before_animatediff``), whichever comes first. If the noise was still
  drawn before (another extension), the console and infotext say TKG was not applied.
"""

from __future__ import annotations

import base64
import datetime
import os
import re
from typing import Any

from lib_tkg.animation import key_sequence
from lib_tkg.animation_files import available_formats, write_animation
from lib_tkg.params import TITLE as TKG_TITLE
from lib_tkg.webui import log, noise_hook
from lib_tkg.webui.settings import (
    DEFAULT_ANIMATION_FORMATS,
    OPT_ANIMATION_FORMATS,
    output_suffixes,
)

TITLE = "animatediff"  # AnimateDiff's script title, lower-case (the API's alwayson key)
_DEFERRED = "_tkg_chroma_deferred"  # marks our wrapper on AnimateDiff's script object
_STEM = re.compile(r"^(\d+)-")


class AnimateDiffRun:
    """AnimateDiff's settings for one run, the frames collected, where its outputs go."""

    def __init__(self, script: Any, params: Any, p: Any) -> None:
        self.script = script
        self.video_length = int(_get(params, "video_length", 0) or 0) or int(p.batch_size)
        self.batch_size = int(_get(params, "batch_size", 16) or 16)
        self.fps = float(_get(params, "fps", 8) or 8)
        self.loop = int(_get(params, "loop_number", 0) or 0)
        self.closed_loop = str(_get(params, "closed_loop", "R-P"))
        self.interp = str(_get(params, "interp", "Off"))
        self.i2v = hasattr(p, "init_images") and not bool(_get(params, "is_i2i_batch", False))
        self.folder_root = os.path.join(str(p.outpath_samples), "AnimateDiff")
        self.folder, self.before = self._listing()
        self.frames: dict[int, dict[int, Any]] = {}  # iteration -> batch index -> image
        self.infotexts: dict[int, str] = {}  # iteration -> infotext of its first frame
        self.noise_batch: Any = None  # batch_number whose noise hook was installed early
        self.done = False

    def _listing(self) -> tuple[str, set[str]]:
        folder = os.path.join(self.folder_root, datetime.date.today().strftime("%Y-%m-%d"))
        try:
            return folder, set(os.listdir(folder))
        except OSError:
            return folder, set()

    def new_outputs(self) -> list[str]:
        """Stems (``<seq>-<seed>[-<request id>]``) of the outputs AnimateDiff wrote since the
        run started, in its numbering order."""
        folder, now = self._listing()
        new = now - self.before if folder == self.folder else now
        self.folder = folder
        stems = {os.path.splitext(n)[0] if "." in n else n for n in new}
        return sorted((s for s in stems if _STEM.match(s)), key=lambda s: int(_STEM.match(s)[1]))


def _get(params: Any, name: str, default: Any) -> Any:
    if isinstance(params, dict):
        return params.get(name, default)
    return getattr(params, name, default)


def find_script(p: Any) -> tuple[Any, Any]:
    """AnimateDiff's script object and its argument for ``p``, or ``(None, None)``."""
    runner = getattr(p, "scripts", None)
    args = getattr(p, "script_args", None) or ()
    for script in getattr(runner, "alwayson_scripts", None) or ():
        if _title(script) == TITLE and getattr(script, "args_from", len(args)) < len(args):
            return script, args[script.args_from]
    return None, None


def detect(p: Any) -> AnimateDiffRun | None:
    """An ``AnimateDiffRun`` when AnimateDiff is enabled for ``p``, else None."""
    script, params = find_script(p)
    if script is None or not bool(_get(params, "enable", False)):
        return None
    return AnimateDiffRun(script, params, p)


def early_noise_hook(run: AnimateDiffRun | None, batch_number: Any) -> bool:
    """In ``before_process_batch``: whether to install the noise hook now (once per batch).
    Image-to-video draws ``p.rng`` in AnimateDiff's ``before_process_batch``."""
    if run is None or not run.i2v or noise_hooked(run, batch_number):
        return False
    run.noise_batch = batch_number
    return True


def hook_before_animatediff(state: Any, run: AnimateDiffRun | None) -> None:
    """Image-to-video, whatever the callback order: wrap AnimateDiff's ``before_process_batch``
    on its script object for this run, so the noise hook is installed right before it draws
    (unless ours already did, ordered first by ``metadata.ini``). ``release`` removes it.

    ``metadata.ini`` alone is not enough: A1111 names a callback after the extension found from
    the script's real path, so for an extension folder that is a symlink the order is ignored.
    """
    if run is None or not run.i2v:
        return
    script = run.script
    original = script.before_process_batch

    def before_animatediff(p: Any, *args: Any, **kwargs: Any) -> Any:
        if early_noise_hook(run, kwargs.get("batch_number")):
            noise_hook.install(state, p)
        return original(p, *args, **kwargs)

    setattr(before_animatediff, _DEFERRED, True)
    script.before_process_batch = before_animatediff


def release(run: AnimateDiffRun) -> None:
    """Remove this run's wrapper of AnimateDiff's ``before_process_batch``, if any."""
    _unwrap(run.script, "before_process_batch")


def _unwrap(script: Any, name: str) -> None:
    if script is not None and getattr(vars(script).get(name), _DEFERRED, False):
        delattr(script, name)


def noise_hooked(run: AnimateDiffRun | None, batch_number: Any) -> bool:
    """In ``process_batch``: whether ``early_noise_hook`` already installed this batch's hook."""
    return run is not None and run.noise_batch is not None and run.noise_batch == batch_number


def collect_frame(run: AnimateDiffRun, p: Any, pp: Any, infotext: Any) -> None:
    """Keep the final frame ``pp.image`` of batch position ``p.batch_index`` of this iteration;
    ``infotext()`` builds the infotext, asked for the first frame of each video only."""
    it = int(getattr(p, "iteration", 0) or 0)
    index = int(getattr(p, "batch_index", 0) or 0)
    run.frames.setdefault(it, {})[index] = pp.image.copy()
    if index == 0:
        run.infotexts[it] = infotext()


def clear_deferred(p: Any) -> None:
    """Remove wrappers left on AnimateDiff's script by a run that never reached its hooks."""
    script, _ = find_script(p)
    for name in ("postprocess", "before_process_batch"):
        _unwrap(script, name)


def postprocess(state: Any, run: AnimateDiffRun, p: Any, processed: Any, opts: Any) -> None:
    """Our ``postprocess``: finish now if AnimateDiff's outputs are on disk, else right after
    AnimateDiff's own ``postprocess`` (runtime order check; see the module docstring)."""
    if run.done:
        return
    if _ran_before_us(run.script, p):
        finish(state, run, p, processed, opts)
        return
    script = run.script
    original = script.postprocess

    def after_animatediff(*args: Any, **kwargs: Any) -> Any:
        if vars(script).get("postprocess") is after_animatediff:
            del script.postprocess
        try:
            return original(*args, **kwargs)
        finally:
            finish(state, run, p, processed, opts)

    setattr(after_animatediff, _DEFERRED, True)
    script.postprocess = after_animatediff
    log("AnimateDiff's postprocess runs after ours: the transparent animation follows it")


def _ran_before_us(script: Any, p: Any) -> bool:
    """Whether the host called AnimateDiff's ``postprocess`` before ours: the host's own order
    (``ScriptRunner.ordered_scripts``, A1111 1.8+ and Forge, which applies ``metadata.ini``),
    else the list order of ``alwayson_scripts``."""
    runner = p.scripts
    try:
        ordered = list(runner.ordered_scripts("postprocess"))
    except Exception:  # older hosts: no callback ordering
        ordered = list(runner.alwayson_scripts)
    ours = next((i for i, s in enumerate(ordered) if _title(s) == TKG_TITLE.lower()), None)
    theirs = next((i for i, s in enumerate(ordered) if s is script), None)
    return ours is not None and theirs is not None and theirs < ours


def _title(script: Any) -> str:
    try:
        return str(script.title()).lower()
    except Exception:
        return ""


def _videos(run: AnimateDiffRun) -> list[tuple[int, list[Any]]]:
    """``(iteration, frames)`` per video, frames as AnimateDiff encodes them."""
    out = []
    for it in sorted(run.frames):
        by_index = run.frames[it]
        frames = [by_index[i] for i in sorted(by_index)][: run.video_length]
        if run.video_length <= run.batch_size and run.closed_loop == "A" and len(frames) > 2:
            frames = frames + frames[-2:0:-1]  # AnimateDiff's "A" closed loop adds the way back
        out.append((it, frames))
    return out


def finish(state: Any, run: AnimateDiffRun, p: Any, processed: Any, opts: Any) -> None:
    """Key every video as a sequence, write its animations beside AnimateDiff's and append
    them to ``processed.images``. Never raises: failures are notes on the result."""
    if run.done:
        return
    run.done = True
    params = state.params
    try:
        if run.interp != "Off":
            state.note(
                p,
                f"AnimateDiff frame interpolation ({run.interp}) is not applied to the"
                " transparent animation; it has the generated frames only",
            )
        stems = run.new_outputs()
        suffix, _, problem = output_suffixes(opts)
        if problem:
            state.note(p, problem)
        formats = _formats(state, p, opts)
        seeds = list(getattr(processed, "all_seeds", None) or getattr(p, "all_seeds", []))
        os.makedirs(run.folder, exist_ok=True)
        for k, (it, frames) in enumerate(_videos(run)):
            if k < len(stems):
                stem = stems[k]
            else:  # AnimateDiff wrote nothing we can name ours after
                seed = seeds[min(it * int(p.batch_size), len(seeds) - 1)] if seeds else it
                stem = _unused_stem(run.folder, f"tkg-{seed}")
            keyed = key_sequence(
                frames,
                None,
                prior_color=params.key_color,  # (the colour asked for, as for single images)
                tolerance=params.tolerance,
                despill=params.despill,
                keep_shadow=params.keep_shadow,
            )
            for note in keyed.notes:
                state.note(p, f"keying: {note}")
            info = run.infotexts.get(it, "")
            comment = info if info and getattr(opts, "enable_pnginfo", True) else None
            base = os.path.join(run.folder, stem + suffix)
            try:
                written = write_animation(
                    keyed.frames, base, formats, fps=run.fps, loop=run.loop, comment=comment
                )
            except (OSError, ValueError, RuntimeError) as err:
                state.note(p, f"writing the transparent animation failed: {err}")
                written = getattr(err, "written", {})
            log(f"transparent animation: {', '.join(written.values()) or 'nothing written'}")
            _append(processed, p, written, info)
    except Exception as err:  # the generation's own outputs are kept whatever happens here
        state.note(p, f"transparent animation failed ({err!r})")


def _formats(state: Any, p: Any, opts: Any) -> list[str]:
    wanted = getattr(opts, OPT_ANIMATION_FORMATS, None) or list(DEFAULT_ANIMATION_FORMATS)
    have = available_formats()
    missing = [f for f in wanted if f not in have]
    if missing:
        state.note(p, f"animation formats {missing} need PyAV (pip install av); skipped")
    return [f for f in wanted if f in have] or ["webp"]


def _unused_stem(folder: str, stem: str) -> str:
    n = 0
    candidate = stem
    while any(name.startswith(candidate + "-") for name in os.listdir(folder)):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def _append(processed: Any, p: Any, written: dict[str, str], infotext: str) -> None:
    """Files to the gallery (paths) or the API response (base64), like AnimateDiff's videos;
    the infotext goes to the same index."""
    api = bool(getattr(p, "is_api", False))
    for fmt, path in written.items():
        if fmt == "png":  # a folder of frames: on disk only
            continue
        if api:
            with open(path, "rb") as fh:
                item = base64.b64encode(fh.read()).decode("ascii")
        else:
            item = path
        index = len(processed.images)
        processed.images.append(item)
        infotexts = getattr(processed, "infotexts", None)
        if isinstance(infotexts, list):
            if len(infotexts) > index:
                infotexts.insert(index, infotext)
            else:
                infotexts.extend([infotext] * (index + 1 - len(infotexts)))
