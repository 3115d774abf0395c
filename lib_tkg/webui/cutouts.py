"""Key a finished picture and add its RGBA cut-out (and matte) to the gallery.

The original is always kept: the outputs are additions, appended to ``processed.images``
together with their infotexts, and saved beside the original by ``saving``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from lib_tkg.keying.priors import key_generated
from lib_tkg.params import NOT_KEYED
from lib_tkg.webui import log
from lib_tkg.webui.settings import output_suffixes
from lib_tkg.webui.state import PendingSave, RunState


def key_picture(state: RunState, p: Any, pp: Any, processing: Any, opts: Any) -> None:
    """Key ``pp.image`` (the final picture of batch position ``p.batch_index``) and queue its
    outputs for the gallery and, when the host saves samples, for saving beside the original.
    ``processing`` and ``opts`` are the host's ``modules.processing`` and ``shared.opts``.
    Never raises: a failure is a note on the result and the original is kept."""
    params = state.params
    if params is None or not (params.make_rgba or params.save_matte):
        return
    index = int(getattr(p, "batch_index", 0) or 0)
    try:
        rgb = np.asarray(pp.image.convert("RGB"))
        # requested colour and subject mask as priors; the keyer's notes come back on its
        # result: no warning filters (process-wide state)
        result = key_generated(rgb, params)
        for note in result.notes:
            state.note(p, f"keying: {note}")
        cutout = Image.fromarray(np.ascontiguousarray(result.rgba, dtype=np.uint8))
        matte = Image.fromarray(np.ascontiguousarray(result.alpha, dtype=np.uint8))
    except Exception as err:  # keep going: the original is kept either way
        state.note(p, f"keying failed ({err!r}); the original image is kept")
        return

    infotext = picture_infotext(state, p, processing)
    if infotext and not result.keyed:  # for API clients, who see no console note
        infotext = f"{infotext}, {NOT_KEYED}"

    rgba_suffix, matte_suffix, problem = output_suffixes(opts)
    if problem:
        state.note(p, problem)
    outputs = []
    if params.make_rgba:
        outputs.append((cutout, rgba_suffix))
    if params.save_matte:
        outputs.append((matte, matte_suffix))
    for image, _ in outputs:
        if infotext and getattr(opts, "enable_pnginfo", True):
            image.info["parameters"] = infotext
        state.outputs.append((image, infotext))

    save = False
    try:
        save = bool(p.save_samples())
    except Exception as err:
        state.note(p, f"could not tell whether to save ({err!r}); cut-outs not saved")
    if save:
        try:
            seed, prompt = p.seeds[index], p.prompts[index]
        except Exception:
            seed, prompt = None, None
        # saved by on_image_saved when the host saves pp.image, else in postprocess
        state.pending.append(PendingSave(pp.image, outputs, seed, prompt, infotext))


def picture_infotext(state: RunState, p: Any, processing: Any) -> str:
    """The infotext of the picture at batch position ``p.batch_index`` ("" with a note when the
    host cannot build it); ``processing`` is the host's ``modules.processing``."""
    try:
        return processing.create_infotext(
            p,
            p.prompts,
            p.seeds,
            p.subseeds,
            index=int(getattr(p, "batch_index", 0) or 0),
            all_negative_prompts=p.negative_prompts,
        )
    except Exception as err:
        state.note(p, f"could not build the infotext of the cut-out ({err!r})")
        return ""


def add_to_gallery(state: RunState, processed: Any) -> None:
    """Append the queued outputs to ``processed.images`` with their infotexts."""
    if not state.outputs:
        return
    try:
        infotexts = processed.infotexts
        # Images appended without infotexts (ControlNet detect maps, inpaint masks) would put
        # ours out of step with theirs: pad first, so image k shows infotexts[k].
        if len(infotexts) < len(processed.images):
            filler = processed.info if isinstance(processed.info, str) else ""
            infotexts.extend([filler] * (len(processed.images) - len(infotexts)))
        for image, infotext in state.outputs:
            processed.images.append(image)
            infotexts.append(infotext)
    except Exception as err:
        log(f"could not add the cut-outs to the gallery ({err!r})")
    finally:
        state.outputs.clear()
