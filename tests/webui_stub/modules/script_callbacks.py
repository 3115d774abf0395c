"""modules/script_callbacks.py of v1.10.1: ``ImageSaveParams`` (line 18), on_ui_settings
(line 493), on_before_image_saved (line 499), on_image_saved (line 507), on_before_ui
(line 588), and the runners (``before_image_saved_callback`` line 306, ``image_saved_callback``
line 314) that catch every exception a callback raises and report it (``report_exception``,
line 14) instead of passing it on."""

from __future__ import annotations

from typing import Any

from modules import errors

callbacks_ui_settings: list[Any] = []
callbacks_before_ui: list[Any] = []
callbacks_before_image_saved: list[Any] = []
callbacks_image_saved: list[Any] = []


class ImageSaveParams:
    def __init__(self, image: Any, p: Any, filename: str, pnginfo: dict) -> None:
        self.image = image  # the PIL image itself
        self.p = p  # the processing object (or None)
        self.filename = filename  # name of the file the image is (would be) saved to
        self.pnginfo = pnginfo  # PNG info; the infotext under "parameters"


def _report(callback: Any, job: str) -> None:
    errors.report(f"Error executing callback {job} for {callback!r}", exc_info=True)


def on_ui_settings(callback: Any, *, name: str | None = None) -> None:
    callbacks_ui_settings.append(callback)


def on_before_ui(callback: Any, *, name: str | None = None) -> None:
    callbacks_before_ui.append(callback)


def on_before_image_saved(callback: Any, *, name: str | None = None) -> None:
    callbacks_before_image_saved.append(callback)


def on_image_saved(callback: Any, *, name: str | None = None) -> None:
    callbacks_image_saved.append(callback)


def ui_settings_callback() -> None:
    for callback in callbacks_ui_settings:
        callback()


def before_ui_callback() -> None:
    for callback in callbacks_before_ui:
        callback()


def before_image_saved_callback(params: ImageSaveParams) -> None:
    for callback in list(callbacks_before_image_saved):
        try:
            callback(params)
        except Exception:
            _report(callback, "before_image_saved_callback")


def image_saved_callback(params: ImageSaveParams) -> None:
    for callback in list(callbacks_image_saved):
        try:
            callback(params)
        except Exception:
            _report(callback, "image_saved_callback")
