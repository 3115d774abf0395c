"""Run by the WebUI's extension installer (``launch_utils.run_extension_installer``) at startup.

Installs OpenCV through the WebUI's own helpers (``launch.is_installed`` / ``launch.run_pip``,
A1111 1.6-1.10 and Forge ``launch.py``) only when ``cv2`` cannot be imported; WebUI installs
normally have it already. numpy, torch and Pillow always come with the WebUI.
"""

import launch

if not launch.is_installed("cv2"):
    launch.run_pip("install opencv-python", "opencv-python for sd-webui-tkg-chroma")
