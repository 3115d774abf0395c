"""Host-facing helpers for the WebUI scripts in ``scripts/``.

Everything here takes the host's objects (``p``, ``processed``, ``shared.opts``, the
``modules.images`` module, ``scripts.scripts_data``, gradio) as arguments and never imports
``modules`` or ``gradio`` itself, so it is unit-testable without a WebUI.

* ``state``     per-generation state riding on ``p``, console notes, API error marking
* ``rng``       the ``p.rng`` wrappers (first noise shifted / first noise raises), model family
* ``noise_hook`` installs the TKG noise shift on ``p.rng`` for one batch
* ``cutouts``   keys a finished picture, builds its outputs and adds them to the gallery
* ``saving``    saves cut-outs and mattes beside their original through the host's saver
* ``settings``  Settings-page options and the UI defaults they give
* ``infotext``  infotext writing and paste functions
* ``xyz``       the ``[TKG] ...`` X/Y/Z plot axes
* ``extras``    the Extras tab's "TKG chroma key" section: keying, saving as PNG
* ``routes``    adds the ``/tkg-chroma/v1`` API routes with the host API's auth

The script loader removes the extension folder from ``sys.path`` after loading a script, so
the script imports every module it uses from here at load time.
"""

LOG_PREFIX = "[TKG chroma]"


def log(message: str) -> None:
    """One console line, prefixed with the extension's name."""
    print(f"{LOG_PREFIX} {message}")


_logged: set[str] = set()


def log_once(message: str) -> None:
    """:func:`log`, unless this very message was logged before in this process (the host
    builds the scripts' UIs and reads the settings several times at start-up)."""
    if message not in _logged:
        _logged.add(message)
        log(message)
