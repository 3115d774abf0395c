"""Registering the ``/tkg-chroma/v1`` API routes on the host's FastAPI app.

Host facts (``webui.py`` and ``modules/api/api.py``, A1111 v1.10.1 and Forge main): the host
builds its API (``create_api(app)``, routes under ``/sdapi/v1/``) and only then calls the
``on_app_started(demo, app)`` callbacks, both with the UI (``--api``) and with ``--nowebui``
(``api_only``, ``demo`` None). With ``--api-auth user:pass[,user2:pass2]`` every API route gets
``dependencies=[Depends(api.auth)]`` (HTTP Basic). The ``Api`` object is not handed to
extensions, so ``register`` reuses the ``dependencies`` of the host's own ``/sdapi/v1/`` routes:
our routes then answer 401 exactly when theirs do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lib_tkg.key_service import ROUTE_PREFIX
from lib_tkg.webui import log

HOST_API_PREFIX = "/sdapi/v1/"
#: The host API's txt2img route, whose ``Api`` object holds the script defaults it uses.
TXT2IMG_ROUTE = "/sdapi/v1/txt2img"


def api_enabled(cmd_opts: Any) -> bool:
    """Whether the host serves its API (``--api``, or ``--nowebui`` which implies it)."""
    return bool(getattr(cmd_opts, "api", False) or getattr(cmd_opts, "nowebui", False))


def host_api_dependencies(app: Any) -> list | None:
    """The ``dependencies`` of the host's first ``/sdapi/v1/`` route; None if it has none."""
    for route in getattr(app, "routes", []):
        if str(getattr(route, "path", "")).startswith(HOST_API_PREFIX):
            return list(getattr(route, "dependencies", None) or [])
    return None


def register(app: Any, cmd_opts: Any, key_endpoint: Callable, info_endpoint: Callable) -> bool:
    """Add ``POST {ROUTE_PREFIX}/key`` and ``GET {ROUTE_PREFIX}/info`` to ``app`` with the host
    API's auth. Not added (False) without the API, when already there, or - failing closed -
    when ``--api-auth`` is set but the host's auth cannot be found."""
    if not api_enabled(cmd_opts):
        return False
    if any(str(getattr(r, "path", "")).startswith(ROUTE_PREFIX) for r in app.routes):
        return False
    dependencies = host_api_dependencies(app)
    if getattr(cmd_opts, "api_auth", None) and not dependencies:
        log(f"{ROUTE_PREFIX} routes not added: --api-auth is set but the host's API has no auth")
        return False
    deps = dependencies or []
    app.add_api_route(f"{ROUTE_PREFIX}/key", key_endpoint, methods=["POST"], dependencies=deps)
    app.add_api_route(f"{ROUTE_PREFIX}/info", info_endpoint, methods=["GET"], dependencies=deps)
    return True


def api_script_defaults(app: Any, script: Any) -> list | None:
    """The values the host's API gives the arguments of ``script`` (a txt2img script: its
    ``args_from``/``args_to``) that a request leaves out, or None while it has none yet.

    Host fact (``modules/api/api.py``, A1111 v1.10.1 and Forge main): ``Api.__init__`` (at
    start-up; a txt2img request, if it is still empty) fills ``Api.default_script_arg_txt2img``
    from the scripts' ``ui()`` values of that moment (the Settings page's defaults then) and
    keeps it until a restart. The ``Api`` is the
    object whose bound method serves :data:`TXT2IMG_ROUTE`.
    """
    for route in getattr(app, "routes", []):
        if getattr(route, "path", None) == TXT2IMG_ROUTE:
            api = getattr(getattr(route, "endpoint", None), "__self__", None)
            cached = getattr(api, "default_script_arg_txt2img", None)
            start, stop = getattr(script, "args_from", None), getattr(script, "args_to", None)
            if not cached or start is None or stop is None or len(cached) < stop:
                return None
            return list(cached[start:stop])
    return None
