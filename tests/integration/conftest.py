"""Fixtures for tests against a real WebUI (opt-in: set WEBUI_DIR).

    WEBUI_DIR=/path/to/stable-diffusion-webui \
    WEBUI_PYTHON=/path/to/its/venv/bin/python \
    python -m pytest tests/integration

See ``webui_server.py`` for the other variables (WEBUI_KIND, WEBUI_CKPT, ...).

Fixtures (session-scoped, each server started on first use and stopped at the end):

``webui_config``             the parsed environment (skips the test when WEBUI_DIR is unset)
``webui_assets``             (checkpoint, HF_HOME) used by both servers
``webui_with_extension``     a server whose ``--data-dir`` has this repository (or
                             ``$WEBUI_EXTENSION_SRC``) linked into
                             ``extensions/sd-webui-tkg-chroma``
``webui_without_extension``  the same host without this repository in ``extensions/``

``webui_ui_with_auth``       with this repository too, but serving the gradio UI as well (no
                             ``--nowebui``) and with ``--api-auth`` ``API_AUTH``; its requests
                             send those credentials unless told otherwise

Every server also gets the test-only extensions in ``TEST_EXTENSIONS`` (the noise probe in
``probe_extension/``, which records the sampler's initial noise and changes nothing; the Extras
runner in ``extras_runner_extension/``, which drives the Extras run path over HTTP; the screen
painter in ``screen_extension/``, which replaces the pictures of a prompt holding its marker with
a subject on a green screen, so that there is something to key) and the
environment variable ``TKG_PROBE_DIR`` = ``srv.probe_dir`` (``<data-dir>/noise-probe``), where
the probe writes ``noise-NNNNN.npy`` / ``.json`` pairs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from webui_server import (
    API_AUTH,
    EXTENSION_NAME,
    REPO_ROOT,
    WebUIConfig,
    WebUIError,
    WebUIServer,
    prepare_assets,
)

HERE = Path(__file__).resolve().parent
PROBE_ENV_VAR = "TKG_PROBE_DIR"
# Linked into every test server next to whatever the fixture itself links.
TEST_EXTENSIONS: dict[str, Path] = {
    "tkg-test-noise-probe": HERE / "probe_extension",
    "tkg-test-extras-runner": HERE / "extras_runner_extension",
    "tkg-test-screen-painter": HERE / "screen_extension",
}


SKIP_REASON = (
    "real-WebUI integration tests: set WEBUI_DIR to an AUTOMATIC1111 or Forge checkout "
    "(and WEBUI_PYTHON to its venv's python) to run them"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "webui: needs a real WebUI (WEBUI_DIR)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.webui)


@pytest.fixture(scope="session")
def webui_config() -> WebUIConfig:
    try:
        cfg = WebUIConfig.from_env()
    except WebUIError as e:
        pytest.fail(str(e), pytrace=False)
    if cfg is None:
        pytest.skip(SKIP_REASON)
    return cfg


@pytest.fixture(scope="session")
def webui_assets(webui_config: WebUIConfig) -> tuple[Path, Path]:
    return prepare_assets(webui_config)


def _server(
    cfg: WebUIConfig,
    assets: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    extensions: dict[str, Path],
    extra_extensions: dict[str, Path] | None = None,
    extra_env: dict[str, str] | None = None,
    **server_options,
):
    ckpt, hf_home = assets
    data_dir = tmp_path_factory.mktemp(name)
    probe_dir = data_dir / "noise-probe"
    probe_dir.mkdir()
    all_extensions = {**TEST_EXTENSIONS, **(extra_extensions or {}), **extensions}
    env = {PROBE_ENV_VAR: str(probe_dir), **(extra_env or {})}
    srv = WebUIServer(
        cfg, data_dir, ckpt, hf_home, extensions=all_extensions, extra_env=env, **server_options
    )
    srv.probe_dir = probe_dir  # where the noise probe writes (see the module docstring)
    try:
        srv.start()
    except WebUIError as e:
        pytest.fail(f"{cfg.kind} WebUI at {cfg.webui_dir} did not start: {e}", pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def extension_source() -> Path:
    """The extension to test: this repository, or ``$WEBUI_EXTENSION_SRC`` (another checkout
    or an installed copy, e.g. a deliberately broken one to see that the tests can fail)."""
    raw = os.environ.get("WEBUI_EXTENSION_SRC", "").strip()
    return Path(raw).expanduser().resolve() if raw else REPO_ROOT


@pytest.fixture(scope="session")
def webui_with_extension(webui_config, webui_assets, tmp_path_factory):
    yield from _server(
        webui_config,
        webui_assets,
        tmp_path_factory,
        "webui-with-ext",
        {EXTENSION_NAME: extension_source()},
    )


@pytest.fixture(scope="session")
def webui_without_extension(webui_config, webui_assets, tmp_path_factory):
    yield from _server(webui_config, webui_assets, tmp_path_factory, "webui-no-ext", {})


@pytest.fixture(scope="session")
def webui_ui_with_auth(webui_config, webui_assets, tmp_path_factory):
    yield from _server(
        webui_config,
        webui_assets,
        tmp_path_factory,
        "webui-ui-auth",
        {EXTENSION_NAME: extension_source()},
        ui=True,
        extra_args=["--api-auth", ":".join(API_AUTH)],
        auth=API_AUTH,
    )
