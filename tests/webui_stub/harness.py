"""Load the stand-in host and the extension's script the way the WebUI does, for one test.

``webui_host()`` puts this folder first on ``sys.path``, imports the stand-in ``modules`` and
``gradio``, registers ``xyz_grid.py`` in ``scripts.scripts_data`` (built-in scripts load before
extensions), then loads ``scripts/tkg_chroma.py`` by file name as module ``tkg_chroma.py`` with the
extension's folder on ``sys.path`` (``modules/scripts.py`` load_scripts,
``script_loading.load_module``).
On exit every stand-in module is dropped from ``sys.modules`` and ``sys.path`` is restored.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType, SimpleNamespace

STUB_DIR = Path(__file__).resolve().parent
REPO_DIR = STUB_DIR.parent.parent
SCRIPT_PATH = REPO_DIR / "scripts" / "tkg_chroma.py"
_OWNED = ("modules", "gradio", "fastapi", "xyz_grid.py", "tkg_chroma.py")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drop_owned() -> None:
    for name in list(sys.modules):
        if name in _OWNED or name.startswith(("modules.", "gradio.", "fastapi.")):
            del sys.modules[name]


@contextmanager
def webui_host(*, load_xyz: bool = True) -> Iterator[SimpleNamespace]:
    saved_path = list(sys.path)
    _drop_owned()
    sys.path.insert(0, str(STUB_DIR))
    try:
        import gradio
        from fastapi import exceptions as fastapi_exceptions
        from modules import (
            errors,
            images,
            infotext_utils,
            processing,
            rng,
            script_callbacks,
            scripts,
            shared,
            ui_components,
        )

        xyz = None
        if load_xyz:
            xyz = _load("xyz_grid.py", STUB_DIR / "xyz_grid.py")
            scripts.scripts_data.append(
                scripts.ScriptClassData(
                    xyz.Script, str(STUB_DIR / "xyz_grid.py"), str(STUB_DIR), xyz
                )
            )
        sys.path.insert(0, str(REPO_DIR))
        try:
            script_module = _load("tkg_chroma.py", SCRIPT_PATH)
        finally:
            sys.path.remove(str(REPO_DIR))
        for cls in vars(script_module).values():
            if (
                isinstance(cls, type)
                and issubclass(cls, scripts.Script)
                and cls is not scripts.Script
            ):
                scripts.scripts_data.append(
                    scripts.ScriptClassData(cls, str(SCRIPT_PATH), str(REPO_DIR), script_module)
                )
                script_class = cls
        yield SimpleNamespace(
            gr=gradio,
            fastapi_exceptions=fastapi_exceptions,
            errors=errors,
            images=images,
            infotext_utils=infotext_utils,
            processing=processing,
            rng=rng,
            script_callbacks=script_callbacks,
            scripts=scripts,
            shared=shared,
            ui_components=ui_components,
            xyz=xyz,
            module=script_module,
            script_class=script_class,
        )
    finally:
        sys.path[:] = saved_path
        _drop_owned()
