"""Smoke test: the WebUI under test answers a small txt2img with an image."""

from __future__ import annotations

import pytest
from webui_server import decode_image, png_size


@pytest.mark.parametrize("server", ["webui_without_extension", "webui_with_extension"])
def test_txt2img_returns_image(request: pytest.FixtureRequest, server: str) -> None:
    srv = request.getfixturevalue(server)
    r = srv.txt2img(prompt="a red apple", width=64, height=64, steps=3, seed=1)
    assert isinstance(r.get("images"), list) and r["images"], r
    w, h = png_size(decode_image(r["images"][0]))
    assert (w, h) == (64, 64)
