"""Test-only WebUI extension: paints a subject on a green screen (integration tests only).

Linked into a test server's ``extensions/`` by ``tests/integration/conftest.py``. A randomly
initialised checkpoint never paints a flat background, so nothing it makes is keyed; a
generation whose prompt contains ``MARKER`` gets, in ``postprocess_image`` (which the host calls
before ``postprocess_image_after_composite``, where the extension under test keys), a red disc
on pure green of the same size instead, which the keyer keys. Other prompts are left alone.
"""

from __future__ import annotations

from modules import scripts
from PIL import Image, ImageDraw

MARKER = "TKG_TEST_SCREEN"


class TkgScreenPainter(scripts.Script):
    def title(self) -> str:
        return "TKG test screen painter"

    def show(self, is_img2img: bool):
        return scripts.AlwaysVisible

    def ui(self, is_img2img: bool) -> list:
        return []

    def postprocess_image(self, p, pp, *args) -> None:
        if MARKER not in str(getattr(p, "prompt", "")):
            return
        w, h = pp.image.size
        image = Image.new("RGB", (w, h), (0, 255, 0))
        ImageDraw.Draw(image).ellipse([w * 0.3, h * 0.25, w * 0.7, h * 0.75], fill=(200, 60, 40))
        pp.image = image
