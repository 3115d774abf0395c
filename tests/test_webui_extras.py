"""``lib_tkg.webui.extras`` and ``lib_tkg.webui.routes`` with stand-ins for the host's objects.

The real hosts run them in ``tests/integration/test_extras_routes.py``; these tests pin the
behaviour without a WebUI: the Extras section's keying, PNG saving under an unused name, undoing
an in-place alpha rewrite, and route registration with the host API's auth.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from lib_tkg.params import FIELD_BY_NAME
from lib_tkg.webui import extras, routes, saving


class FakePP:
    """The fields of ``modules.scripts_postprocessing.PostprocessedImage`` that are used."""

    def __init__(self, image, nametags=None, disable_processing=False):
        self.image = image
        self.info = {}
        self.extra_images = []
        self.nametags = list(nametags or [])
        self.disable_processing = disable_processing

    def create_copy(self, new_image, *, nametags=None, disable_processing=False):
        return FakePP(new_image, self.nametags + list(nametags or []), disable_processing)


def screen(size: int = 64) -> Image.Image:
    img = np.empty((size, size, 3), np.uint8)
    img[:] = (20, 200, 40)
    c = size // 2
    img[c - size // 5 : c + size // 5, c - size // 5 : c + size // 5] = (210, 90, 60)
    return Image.fromarray(img)


def save_params(image, filename):
    return types.SimpleNamespace(image=image, filename=filename, p=None, pnginfo={})


def test_disabled_touches_nothing():
    img = screen()
    pp = FakePP(img)
    extras.key_postprocessed(pp, enable=False, key_color="green", matte=True)
    assert pp.image is img and pp.info == {} and pp.extra_images == []


def test_enabled_gives_the_cut_out_and_the_matte_tagged():
    pp = FakePP(screen())
    extras.key_postprocessed(pp, enable=True, matte=True, tolerance=0.1, despill=1.0)
    assert pp.image.mode == "RGBA"
    alpha = np.asarray(pp.image)[..., 3]
    assert alpha[32, 32] == 255 and alpha[0, 0] == 0
    assert pp.info[extras.SECTION] == "#14c828"
    (matte,) = pp.extra_images
    assert matte.image.mode == "L" and matte.nametags == [extras.MATTE_TAG]
    assert matte.disable_processing and np.array_equal(np.asarray(matte.image), alpha)


def test_custom_colour_and_no_screen_leave_the_image_with_a_note():
    img = screen()
    pp = FakePP(img)
    extras.key_postprocessed(pp, enable=True, key_color="custom", custom_color="#ff00ff")
    assert pp.image is img and "does not occur" in pp.info[extras.SECTION]
    grey = Image.new("RGB", (32, 32), (120, 120, 110))
    pp = FakePP(grey)
    extras.key_postprocessed(pp, enable=True)
    assert pp.image is grey and "nothing was keyed" in pp.info[extras.SECTION]
    # the way out is named for this tab too, and a warm screen is one to give
    assert "the Key colour menu in the Extras tab" in pp.info[extras.SECTION]
    orange = Image.new("RGB", (64, 64), (250, 130, 10))
    pp = FakePP(orange)
    extras.key_postprocessed(pp, enable=True)
    assert pp.image is orange and "warm screens are not detected" in pp.info[extras.SECTION]
    extras.key_postprocessed(pp, enable=True, key_color="orange")
    assert np.asarray(pp.image)[..., 3].max() == 0


@pytest.mark.parametrize(
    ("controls", "words"),
    [({"tolerance": 3}, "'tolerance'"), ({"key_color": "nope"}, "'nope'")],
)
def test_rejected_values_are_a_note_not_an_exception(controls, words):
    img = screen()
    pp = FakePP(img)
    extras.key_postprocessed(pp, enable=True, **controls)
    assert pp.image is img and words in pp.info[extras.SECTION]


def test_keyed_images_are_saved_as_png_under_an_unused_name(tmp_path):
    pp = FakePP(screen())
    extras.key_postprocessed(pp, enable=True)
    params = save_params(pp.image, str(tmp_path / "00001.jpg"))
    saving.before_image_saved(params)
    assert params.filename == str(tmp_path / "00001.png") and params.image is pp.image
    (tmp_path / "shot.png").write_bytes(b"input")
    (tmp_path / "shot-1.png").write_bytes(b"input")
    (tmp_path / "shot-2.png").symlink_to(tmp_path / "gone.png")  # a broken link is kept too
    params = save_params(pp.image, str(tmp_path / "shot.png"))
    saving.before_image_saved(params)
    assert params.filename == str(tmp_path / "shot-3.png")


@pytest.mark.parametrize(
    "controls", [{}, {"key_color": "nope"}], ids=["no-screen", "rejected-option"]
)
def test_an_unkeyed_image_never_replaces_a_file_either(tmp_path, controls):
    # Batch from directory with the input folder as output folder: the host saves an unkeyed
    # a.jpg as a.png, over the input a.png it has not read yet
    photo = Image.new("RGB", (32, 32), (120, 120, 110))
    pp = FakePP(photo)
    extras.key_postprocessed(pp, enable=True, **controls)
    assert pp.image is photo and "keyed" in pp.info[extras.SECTION]
    (tmp_path / "a.png").write_bytes(b"input")
    params = save_params(pp.image, str(tmp_path / "a.png"))
    saving.before_image_saved(params)
    assert params.filename == str(tmp_path / "a-1.png") and params.image is photo
    assert (tmp_path / "a.png").read_bytes() == b"input"


def test_a_warning_of_the_keyer_reaches_the_comment():
    img = np.asarray(screen()).copy()
    img[16:48, 16:48] = (0, 0, 255)  # a blue part, keyed as blue: the border is green
    pp = FakePP(Image.fromarray(img))
    extras.key_postprocessed(pp, enable=True, key_color="blue")
    assert np.asarray(pp.image)[32, 32, 3] < 128  # keyed, as asked
    assert "#14c828" in pp.info["TKG note"] and "#0000ff" in pp.info["TKG note"]
    pp = FakePP(screen())
    extras.key_postprocessed(pp, enable=True)
    assert "TKG note" not in pp.info


def test_other_images_are_left_alone(tmp_path):
    pp = FakePP(screen())
    extras.key_postprocessed(pp, enable=True)
    lookalike = pp.image.copy()  # equal pixels, another object
    for image in (lookalike, screen()):
        params = save_params(image, str(tmp_path / "00002.webp"))
        saving.before_image_saved(params)
        assert params.filename.endswith(".webp") and params.image is image


def test_an_in_place_alpha_rewrite_is_undone():
    """What Forge's stealth infotext does to the image it saves (putalpha(255) + LSB data)."""
    pp = FakePP(screen())
    extras.key_postprocessed(pp, enable=True, matte=True)
    cut, matte = pp.image, pp.extra_images[0].image
    alpha = np.asarray(cut)[..., 3].copy()
    cut.putalpha(255)
    params = save_params(cut, "/nonexistent/00003.png")
    saving.before_image_saved(params)
    assert params.image is not cut
    assert np.array_equal(np.asarray(params.image)[..., 3], alpha)
    assert np.array_equal(np.asarray(cut)[..., 3], alpha)  # the gallery image too
    matte.putalpha(255)  # an L image becomes LA
    params = save_params(matte, "/nonexistent/00004.png")
    saving.before_image_saved(params)
    assert params.image.mode == "L" and np.array_equal(np.asarray(params.image), alpha)


def test_with_stealth_infotext_the_matte_is_rgb_and_saved_as_made():
    """Forge's stealth infotext raises on a one-channel image before any callback runs (the
    whole Extras save failed); an RGB matte takes its alpha 255 and bits, which are undone."""
    pp = FakePP(screen())
    extras.key_postprocessed(pp, enable=True, matte=True, rgb_matte=True)
    matte = pp.extra_images[0].image
    assert matte.mode == "RGB"
    grey = np.asarray(matte)[..., 0].copy()
    assert (np.asarray(matte) == grey[..., None]).all() and 0 < grey.mean() < 255
    matte.putalpha(255)  # what the "Alpha" mode does first
    params = save_params(matte, "/nonexistent/00005.webp")
    saving.before_image_saved(params)
    assert params.filename == "/nonexistent/00005.png" and params.image.mode == "RGB"
    assert np.array_equal(np.asarray(params.image)[..., 0], grey)
    assert np.array_equal(np.asarray(matte)[..., 0], grey)  # the gallery's, alpha 255


@pytest.mark.parametrize(
    ("data", "labels", "expected"),
    [
        ({}, {}, False),  # A1111: no such setting
        ({}, {"stealth_pnginfo_option": None}, True),  # Forge, the default "Alpha"
        ({"stealth_pnginfo_option": "RGB"}, {"stealth_pnginfo_option": None}, True),
        ({"stealth_pnginfo_option": "None"}, {"stealth_pnginfo_option": None}, False),
    ],
)
def test_stealth_infotext_is_read_from_the_host_settings(data, labels, expected):
    opts = types.SimpleNamespace(data=data, data_labels=labels, enable_pnginfo=True)
    assert saving.stealth_infotext(opts) is expected
    opts.enable_pnginfo = False
    assert saving.stealth_infotext(opts) is False


class FakeApp:
    def __init__(self, host_routes):
        self.routes = list(host_routes)

    def add_api_route(self, path, endpoint, *, methods, dependencies):
        self.routes.append(types.SimpleNamespace(path=path, endpoint=endpoint, methods=methods))
        self.routes[-1].dependencies = dependencies


def host_route(path, dependencies=()):
    return types.SimpleNamespace(path=path, dependencies=list(dependencies))


def opts(**kw):
    return types.SimpleNamespace(**{"api": False, "nowebui": False, "api_auth": None, **kw})


def key(_request):
    return None


def info():
    return None


def test_routes_take_the_host_api_auth():
    auth = object()
    app = FakeApp([host_route("/docs"), host_route("/sdapi/v1/txt2img", [auth])])
    assert routes.register(app, opts(api=True, api_auth="u:p"), key, info)
    added = {r.path: r for r in app.routes[2:]}
    assert set(added) == {"/tkg-chroma/v1/key", "/tkg-chroma/v1/info"}
    assert added["/tkg-chroma/v1/key"].methods == ["POST"]
    assert added["/tkg-chroma/v1/info"].methods == ["GET"]
    assert all(r.dependencies == [auth] for r in added.values())
    assert not routes.register(app, opts(api=True), key, info)  # never twice
    assert len(app.routes) == 4


def test_routes_need_the_api_and_fail_closed_without_the_host_auth():
    app = FakeApp([host_route("/sdapi/v1/txt2img")])
    assert not routes.register(app, opts(), key, info)  # UI only: no API routes
    assert not routes.register(app, opts(nowebui=True, api_auth="u:p"), key, info)
    assert len(app.routes) == 1
    assert routes.register(app, opts(nowebui=True), key, info)
    assert [r.dependencies for r in app.routes[1:]] == [[], []]


def test_left_out_defaults_are_the_host_api_s_once_it_made_them():
    """The host's API fixes the left-out script arguments at its first txt2img request and
    keeps them until a restart; /info must report those, not the settings of now."""

    class Api:
        def __init__(self):
            self.default_script_arg_txt2img = []

        def text2imgapi(self):
            return None

    api = Api()
    app = FakeApp([types.SimpleNamespace(path="/sdapi/v1/txt2img", endpoint=api.text2imgapi)])
    script = types.SimpleNamespace(args_from=3, args_to=5)
    assert routes.api_script_defaults(app, script) is None  # none made yet: the settings
    api.default_script_arg_txt2img = [0, None, None, True, "green", None]
    assert routes.api_script_defaults(app, script) == [True, "green"]
    assert routes.api_script_defaults(app, None) is None
    assert routes.api_script_defaults(FakeApp([]), script) is None


def test_keep_shadow_is_passed_to_the_keyer():
    img = np.asarray(screen(128)).astype(np.float32)
    yy, xx = np.mgrid[:128, :128]
    shadow = ((yy - 110) ** 2 / 10**2 + (xx - 64) ** 2 / 40**2) <= 1
    # a soft shadow (a hard-edged dark region over the screen is kept anyway: a dark veil)
    dim = cv2.GaussianBlur(np.where(shadow & (img[..., 1] > 150), 0.45, 0.0), (0, 0), 4)
    img *= (1 - dim)[..., None]
    alphas = []
    for keep in (False, True):
        pp = FakePP(Image.fromarray(img.astype(np.uint8)))
        extras.key_postprocessed(pp, enable=True, key_color="#14c828", keep_shadow=keep)
        alphas.append(np.asarray(pp.image)[..., 3][shadow & (yy > 110)].mean())
    assert alphas[1] > alphas[0] + 20


def test_every_extras_control_has_a_tooltip():
    """Each control of the Extras section (its labels in the glue) has a hover text."""
    repo = Path(__file__).resolve().parent.parent
    glue = (repo / "scripts" / "tkg_chroma_extras.py").read_text()
    js = (repo / "javascript" / "tkg_chroma.js").read_text()
    labels = re.findall(r'label="([^"]+)"', glue) + re.findall(r'_slider\("([^"]+)"', glue)
    labels += [extras.SECTION, FIELD_BY_NAME["keep_shadow"].label]
    assert len(labels) == 7
    for label in labels:
        assert f'"{label}": TITLES.' in js, f"no tooltip for {label!r}"
