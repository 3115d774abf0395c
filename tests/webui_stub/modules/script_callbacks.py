"""modules/script_callbacks.py: on_ui_settings (v1.10.1 line 493), on_before_ui (line 588)."""

from __future__ import annotations

from typing import Any

callbacks_ui_settings: list[Any] = []
callbacks_before_ui: list[Any] = []


def on_ui_settings(callback: Any, *, name: str | None = None) -> None:
    callbacks_ui_settings.append(callback)


def on_before_ui(callback: Any, *, name: str | None = None) -> None:
    callbacks_before_ui.append(callback)


def ui_settings_callback() -> None:
    for callback in callbacks_ui_settings:
        callback()


def before_ui_callback() -> None:
    for callback in callbacks_before_ui:
        callback()
