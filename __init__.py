"""ComfyUI entry point: the TKG chroma nodes (``comfyui_nodes/``).

ComfyUI imports this file when the repository is cloned into its ``custom_nodes/`` folder
(``nodes.load_custom_node``: the folder is loaded as a package from this ``__init__.py`` and
its ``NODE_CLASS_MAPPINGS`` / ``NODE_DISPLAY_NAME_MAPPINGS`` are registered). AUTOMATIC1111,
Forge and reForge load ``scripts/*.py`` by file path and never import it, and the Python package
(``pip install``) holds only ``lib_tkg``. pytest imports it while collecting ``tests/`` (a folder
with an ``__init__.py`` is a package to it); when the checkout's folder name is not a valid
module name it imports the file as a loose module, without a parent package, and then there is
nothing to register.

``lib_tkg`` imports itself by absolute name (``from lib_tkg.colors import ...``), as it does in
the WebUIs, which put an extension's folder on ``sys.path`` while they load its scripts. The
same is done here, for this import only.
"""

import os
import sys

if __package__:
    _ROOT = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, _ROOT)
    try:
        from .comfyui_nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS
    except ModuleNotFoundError as e:
        if e.name != "cv2":
            raise
        raise ImportError(
            "the TKG chroma nodes need OpenCV: run `python -m pip install -r requirements.txt` "
            f"with ComfyUI's Python in {_ROOT}"
        ) from e
    finally:
        sys.path.remove(_ROOT)

    __all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
