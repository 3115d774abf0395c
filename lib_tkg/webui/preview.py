"""The live mask preview: the HTML placeholder that ``javascript/tkg_chroma.js`` draws into.

The browser computes the mask itself (``TkgMask`` in the JS file: the formula of
``lib_tkg.layout``, checked against ``lib_tkg.noise`` by ``tests/test_preview_js.py``) from the
accordion's controls and the generation's width and height, on a grid of at most
``GRID_MAX`` cells a side, so it follows every change without a round trip to the server. The
colour presets travel in a data attribute, so the JS needs no copy of them.
"""

from __future__ import annotations

import html
import json

from lib_tkg.colors import PRESETS

GRID_MAX = 96  # preview grid cells on the longer side (the latent grid when it is smaller)


def preview_html() -> str:
    """The preview's container: a canvas, a caption line, the presets and the grid limit."""
    presets = {name: "#{:02x}{:02x}{:02x}".format(*rgb) for name, rgb in PRESETS.items()}
    data = html.escape(json.dumps(presets), quote=True)
    return (
        f'<div class="tkg-mask-preview" data-presets="{data}" data-grid-max="{GRID_MAX}">'
        '<canvas width="1" height="1"></canvas>'
        '<div class="tkg-mask-preview-caption"></div></div>'
    )
