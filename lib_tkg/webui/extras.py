"""The Extras tab's "TKG chroma key" section: keying one postprocessed image, saving it as PNG.

Host facts (``modules/scripts_postprocessing.py`` and ``modules/postprocessing.py``, A1111
v1.10.1 and Forge main):

* ``ScriptPostprocessingRunner.run`` calls each section's ``process(pp, **controls)`` in the
  order of the setting *Postprocessing operation order*, then the sections' ``order``. ``ORDER``
  (20000) puts keying after Upscale (1000), GFPGAN (2000), CodeFormer (3000) and the training-prep
  steps (4000-4040): an upscaled, restored image is keyed, and no later step sees alpha.
* ``key_postprocessed`` makes ``pp.image`` the RGBA cut-out and adds the matte as an extra image
  with the ``matte`` name tag (Extras' naming: ``00012.png``, ``00013--matte.png``); ``pp.info``
  (the comment) gets the key colour and any warning, or the note that nothing was keyed
  (``pp.image`` unchanged, but saved like a cut-out: as PNG under a free name).
* ``run_postprocessing`` saves every output with ``extension=opts.samples_format``, through
  ``images.save_image``, which calls ``on_before_image_saved`` with the name it built.
  ``lib_tkg.webui.saving.before_image_saved`` turns that into ``.png`` for the images this
  section handled, keyed or not (a free name: never an existing file, such as an input in
  Batch from directory with the input folder as output folder, where the host would save an
  unkeyed ``a.jpg`` as ``a.png`` over the input ``a.png`` before reading it), so alpha
  survives any format. Forge's stealth infotext (``modules/stealth_infotext.py``, run just
  before that callback when the input carried ``parameters``) rewrites the alpha channel in
  place (the callback undoes that), and raises on a one-channel image before the callback: the
  matte is then given as RGB (``rgb_matte``).
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from lib_tkg import key_service
from lib_tkg.colors import hex_color
from lib_tkg.params import FIELD_BY_NAME, ParamError
from lib_tkg.webui import log, saving

SECTION = "TKG chroma key"
ORDER = 20000
CUSTOM = "custom"
#: Choices of the key colour dropdown: auto (estimated from the border), presets, custom.
KEY_CHOICES = (key_service.AUTO, *key_service.KEY_PRESETS, CUSTOM)
DEFAULT_CUSTOM = "#00ff00"
MATTE_TAG = "matte"


def key_postprocessed(
    pp: Any,
    enable: bool = False,
    key_color: str = key_service.AUTO,
    custom_color: str = DEFAULT_CUSTOM,
    tolerance: float = FIELD_BY_NAME["tolerance"].default,
    despill: float = FIELD_BY_NAME["despill"].default,
    keep_shadow: bool = False,
    matte: bool = False,
    rgb_matte: bool = False,
) -> None:
    """The section's ``process``: key ``pp.image`` (a host ``PostprocessedImage``) in place.

    ``key_color``: one of ``KEY_CHOICES`` (``custom`` takes ``custom_color``) or a colour spec;
    ``tolerance`` 0..0.85 and ``despill`` 0..1 as in ``TkgParams``; ``matte`` adds the matte,
    one-channel ("L"), or three equal channels with ``rgb_matte`` (the glue's choice where the
    host's saver cannot take one channel: :func:`lib_tkg.webui.saving.stealth_infotext`).
    Disabled: nothing is touched. Rejected values: a note in ``pp.info``, the image unchanged.
    Enabled, the image is saved as PNG under a free name whatever happens (never over a file).
    """
    if not enable:
        return
    values = {
        "key_color": custom_color if key_color == CUSTOM else key_color,
        "tolerance": tolerance,
        "despill": despill,
        "keep_shadow": keep_shadow,
        "matte": matte,
    }
    try:
        options = key_service.parse_options(values)
        result, notes = key_service.key_with_notes(pp.image, options)
    except (key_service.RequestError, ParamError) as err:
        log(f"Extras: not keyed: {err}")
        pp.info[SECTION] = f"not keyed: {err}"
        saving.mark_ours(pp.image)  # (its own name could be an input's: see the module notes)
        return
    for note in notes:
        log(f"Extras: {note}")
    if not result.keyed:
        pp.info[SECTION] = "; ".join(notes)
        saving.mark_ours(pp.image)
        return
    pp.info[SECTION] = hex_color(result.key_color)
    if result.notes:  # the keyer's warnings (a screen of another colour than the one chosen)
        pp.info["TKG note"] = "; ".join(result.notes)
    pp.info["TKG tolerance"] = options.tolerance
    pp.info["TKG despill"] = options.despill
    pp.image = saving.mark_ours(Image.fromarray(result.rgba, "RGBA"))
    if options.matte:
        matte_image = Image.fromarray(result.alpha, "L")
        matte_image = saving.mark_ours(matte_image.convert("RGB") if rgb_matte else matte_image)
        pp.extra_images.append(
            pp.create_copy(matte_image, nametags=[MATTE_TAG], disable_processing=True)
        )
