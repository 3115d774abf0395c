"""Install hook, run by the WebUI's extension installer (``launch_utils.run_extension_installer``)
at startup, and by ComfyUI-Manager after it installs ``requirements.txt`` for a custom node.

In a WebUI it installs OpenCV through the WebUI's own helpers (``launch.is_installed`` /
``launch.run_pip``, A1111 1.6-1.10 and Forge ``launch.py``) only when ``cv2`` cannot be
imported; WebUI installs normally have it already. numpy, torch and Pillow always come with the
WebUI. Elsewhere (ComfyUI has no ``launch`` module) it does nothing: ``requirements.txt``
covers ComfyUI.
"""

try:
    import launch
except ImportError:
    launch = None

if launch is not None and not launch.is_installed("cv2"):
    launch.run_pip("install opencv-python", "opencv-python for sd-webui-tkg-chroma")
