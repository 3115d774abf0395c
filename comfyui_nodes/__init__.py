"""ComfyUI host glue: the TKG chroma nodes over the host-free ``lib_tkg`` core.

Loaded through the repository's root ``__init__.py`` when the repository is cloned into
ComfyUI's ``custom_nodes/``. Imports nothing from ComfyUI at import time (``comfy`` modules only
inside node functions), so it can be tested with stand-ins.
"""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
