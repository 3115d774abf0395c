"""Start a real Stable Diffusion WebUI (AUTOMATIC1111 or Forge) headless on CPU for tests.

Standard library only. The WebUI runs in its own Python (its venv), with a tiny random
SD1.5-layout checkpoint made by ``make_tiny_checkpoint.py`` and, for A1111, an offline
CLIP tokenizer cache made by ``tokenizer_cache.py``.

Environment:

``WEBUI_DIR``           the WebUI checkout (required; the tests skip without it)
``WEBUI_PYTHON``        its Python (default: ``$WEBUI_DIR/venv/bin/python``, then
                        ``<parent of WEBUI_DIR>/venv-<name of WEBUI_DIR>/bin/python``)
``WEBUI_KIND``          ``a1111`` or ``forge`` (default: ``forge`` when
                        ``$WEBUI_DIR/modules_forge`` exists, else ``a1111``)
``WEBUI_CKPT``          use this checkpoint instead of making one (its .yaml beside it)
``WEBUI_TEST_CACHE``    where made checkpoints and the HF cache are kept between runs
                        (default: ``~/.cache/sd-webui-tkg-chroma-tests``)
``WEBUI_BOOT_TIMEOUT``  seconds to wait for the server (default 300)
``WEBUI_EXTRA_ARGS``    more command-line flags for the WebUI (shell-quoted)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
EXTENSION_NAME = "sd-webui-tkg-chroma"
API_AUTH = ("tkg", "s3cret")  # user, password of a test server started with --api-auth

# Flags for a headless CPU host. Known to work on A1111 v1.10.1 and Forge main.
COMMON_ARGS = [
    "--skip-prepare-environment",
    "--skip-python-version-check",
    "--skip-torch-cuda-test",
    "--use-cpu",
    "all",
    "--no-half",
    "--precision",
    "full",
    "--api",
    "--nowebui",
    "--do-not-download-clip",
    "--skip-version-check",
    "--no-download-sd-model",
]
KIND_ARGS = {"a1111": [], "forge": ["--always-cpu", "--all-in-fp32"]}
# make_tiny_checkpoint.py profile per host: Forge detects SD1.5 from the weights' shapes.
KIND_PROFILE = {"a1111": "tiny", "forge": "forge"}
# txt2img payload small enough to be fast on CPU: 64x64, 3 steps, seed 1
TXT2IMG_DEFAULTS = {
    "prompt": "a red apple",
    "negative_prompt": "",
    "width": 64,
    "height": 64,
    "steps": 3,
    "seed": 1,
    "cfg_scale": 7,
    "sampler_name": "Euler",
    "batch_size": 1,
    "n_iter": 1,
}


class WebUIError(RuntimeError):
    pass


@dataclass
class WebUIConfig:
    webui_dir: Path
    python: Path
    kind: str
    ckpt: Path | None = None
    cache_dir: Path = field(
        default_factory=lambda: Path.home() / ".cache" / (EXTENSION_NAME + "-tests")
    )
    boot_timeout: float = 300.0
    extra_args: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> WebUIConfig | None:
        """None when WEBUI_DIR is unset; WebUIError when it is set but unusable."""
        env = dict(os.environ if env is None else env)
        raw = env.get("WEBUI_DIR", "").strip()
        if not raw:
            return None
        webui_dir = Path(raw).expanduser().resolve()
        if not (webui_dir / "launch.py").is_file():
            raise WebUIError(f"WEBUI_DIR={webui_dir} has no launch.py")
        python = _find_python(webui_dir, env.get("WEBUI_PYTHON", "").strip())
        kind = env.get("WEBUI_KIND", "").strip().lower()
        if not kind:
            kind = "forge" if (webui_dir / "modules_forge").is_dir() else "a1111"
        if kind not in KIND_ARGS:
            raise WebUIError(f"WEBUI_KIND must be one of {sorted(KIND_ARGS)}, not {kind!r}")
        cfg = cls(webui_dir=webui_dir, python=python, kind=kind)
        if env.get("WEBUI_CKPT"):
            cfg.ckpt = Path(env["WEBUI_CKPT"]).expanduser().resolve()
            if not cfg.ckpt.is_file():
                raise WebUIError(f"WEBUI_CKPT={cfg.ckpt} does not exist")
        if env.get("WEBUI_TEST_CACHE"):
            cfg.cache_dir = Path(env["WEBUI_TEST_CACHE"]).expanduser().resolve()
        if env.get("WEBUI_BOOT_TIMEOUT"):
            cfg.boot_timeout = float(env["WEBUI_BOOT_TIMEOUT"])
        cfg.extra_args = shlex.split(env.get("WEBUI_EXTRA_ARGS", ""))
        return cfg


def _find_python(webui_dir: Path, given: str) -> Path:
    if given:
        p = Path(given).expanduser()
        if not p.exists():
            raise WebUIError(f"WEBUI_PYTHON={p} does not exist")
        return p
    for p in (
        webui_dir / "venv" / "bin" / "python",
        webui_dir.parent / f"venv-{webui_dir.name}" / "bin" / "python",
    ):
        if p.exists():
            return p
    raise WebUIError(
        f"no Python found for {webui_dir}: set WEBUI_PYTHON to the WebUI venv's python"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _file_digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def _run(cmd: list[str], what: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise WebUIError(f"{what} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


def prepare_assets(cfg: WebUIConfig) -> tuple[Path, Path]:
    """Return (checkpoint, HF_HOME), making them in cfg.cache_dir when missing.

    Both are keyed by the generator scripts' contents, so editing a script makes new ones.
    """
    cfg.cache_dir.mkdir(parents=True, exist_ok=True)
    tok_script = HERE / "tokenizer_cache.py"
    hf_home = cfg.cache_dir / f"hf-home-{_file_digest(tok_script)}"
    if not (hf_home / "hub").is_dir():
        _run(
            [str(cfg.python), str(tok_script), str(hf_home), "--python", str(cfg.python)],
            "building the CLIP tokenizer cache",
        )
    if cfg.ckpt is not None:
        return cfg.ckpt, hf_home
    ckpt_script = HERE / "make_tiny_checkpoint.py"
    profile = KIND_PROFILE[cfg.kind]
    ckpt = cfg.cache_dir / f"tiny-sd15-{profile}-{_file_digest(ckpt_script)}.safetensors"
    if not ckpt.is_file() or not ckpt.with_suffix(".yaml").is_file():
        _run(
            [str(cfg.python), str(ckpt_script), str(ckpt), "--profile", profile, "--seed", "0"],
            "making the tiny checkpoint",
        )
    return ckpt, hf_home


class WebUIServer:
    """One WebUI process on a free loopback port, with its own ``--data-dir``."""

    def __init__(
        self,
        cfg: WebUIConfig,
        data_dir: Path,
        ckpt: Path,
        hf_home: Path,
        extensions: dict[str, Path] | None = None,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
        ui: bool = False,
        extra_args: list[str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.cfg = cfg
        self.data_dir = Path(data_dir)
        self.ckpt = ckpt
        self.hf_home = hf_home
        self.extensions = dict(extensions or {})
        self.extra_env = dict(extra_env or {})  # more environment for the WebUI process
        self.ui = ui  # also serve the gradio UI (no --nowebui)
        self.extra_args = list(extra_args or [])  # more flags for this server
        self.auth = auth  # (user, password) sent as HTTP Basic auth by default
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.data_dir / "webui.log"
        self.proc: subprocess.Popen | None = None
        self.boot_seconds: float | None = None

    # -- lifecycle -------------------------------------------------------------------

    def command(self) -> list[str]:
        return [
            str(self.cfg.python),
            "launch.py",
            *(a for a in COMMON_ARGS if not (self.ui and a == "--nowebui")),
            *KIND_ARGS[self.cfg.kind],
            "--server-name",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--ckpt",
            str(self.ckpt),
            *self.extra_args,
            *self.cfg.extra_args,
        ]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for k in ("COMMANDLINE_ARGS", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH"):
            env.pop(k, None)  # A1111 appends COMMANDLINE_ARGS to its argv
        env.update(
            HF_HOME=str(self.hf_home),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> WebUIServer:
        ext_dir = self.data_dir / "extensions"
        ext_dir.mkdir(parents=True, exist_ok=True)
        for name, src in self.extensions.items():
            link = ext_dir / name
            if not link.exists():
                link.symlink_to(Path(src).resolve(), target_is_directory=True)
        t0 = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.cfg.webui_dir,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, so stop() reaches children
            )
        try:
            self.wait_ready(self.cfg.boot_timeout)
        except BaseException:
            self.stop()
            raise
        self.boot_seconds = time.monotonic() - t0
        return self

    def wait_ready(self, timeout: float) -> None:
        """Wait for the API, then run one 1-step txt2img so the model is loaded."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise WebUIError(
                    f"WebUI exited with {self.proc.returncode} while starting:\n{self.log_tail()}"
                )
            # With the UI, gradio listens before the host adds its API middleware, and a request
            # in that window makes starlette refuse it ("Cannot add middleware after an
            # application has started"): ask only once the host printed its startup time.
            if not self.ui or "Startup time:" in self.log_text():
                try:
                    self.get_json("/sdapi/v1/sd-models", timeout=5)
                    break
                except (OSError, WebUIError):
                    pass
            if time.monotonic() > deadline:
                raise WebUIError(f"WebUI not up after {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.5)
        left = max(30.0, deadline - time.monotonic())
        self.txt2img(prompt="warm-up", steps=1, timeout=left)

    def stop(self, timeout: float = 30.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> WebUIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- HTTP ------------------------------------------------------------------------

    def request(self, method: str, path: str, payload: object = None, timeout: float = 120):
        """The decoded JSON answer; WebUIError on an error status."""
        status, body = self.request_raw(method, path, payload, timeout)
        if not 200 <= status < 300:  # the statuses urllib raises HTTPError for
            raise WebUIError(f"{method} {path} -> HTTP {status}: {body[:2000]}")
        return json.loads(body) if body else None

    def request_raw(
        self,
        method: str,
        path: str,
        payload: object = None,
        timeout: float = 300,
        auth: tuple[str, str] | bool | None = True,
    ) -> tuple[int, str]:
        """(HTTP status, body text) without raising on an error status. ``auth``: True sends
        ``self.auth`` (if any), None or False sends none, a (user, password) pair sends that.
        A ``bytes`` payload is sent as it is."""
        if isinstance(payload, bytes):
            data = payload
        else:
            data = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        credentials = self.auth if auth is True else auth or None
        if credentials:
            token = base64.b64encode(":".join(credentials).encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def get_json(self, path: str, timeout: float = 60):
        return self.request("GET", path, timeout=timeout)

    def post_json(self, path: str, payload: object, timeout: float = 300):
        return self.request("POST", path, payload, timeout=timeout)

    def txt2img(self, timeout: float = 300, **payload):
        """POST /sdapi/v1/txt2img; small fast defaults (TXT2IMG_DEFAULTS)."""
        return self.post_json("/sdapi/v1/txt2img", {**TXT2IMG_DEFAULTS, **payload}, timeout=timeout)

    # -- helpers ---------------------------------------------------------------------

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def log_size(self) -> int:
        """Current length of the log in characters; pass it to ``log_since`` later."""
        return len(self.log_text())

    def log_since(self, start: int) -> str:
        """What the WebUI logged after ``log_size()`` returned ``start``."""
        return self.log_text()[start:]


def decode_image(b64: str) -> bytes:
    """Bytes of an image from an API response (drops a ``data:...;base64,`` prefix)."""
    if b64.startswith("data:"):
        b64 = b64.split(",", 1)[1]
    return base64.b64decode(b64)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, read from its IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def main(argv: list[str] | None = None) -> int:
    """Boot the configured WebUI once and time a txt2img (manual check)."""
    import tempfile

    cfg = WebUIConfig.from_env()
    if cfg is None:
        print("set WEBUI_DIR", file=sys.stderr)
        return 2
    ckpt, hf_home = prepare_assets(cfg)
    with tempfile.TemporaryDirectory(prefix="webui-data-") as d:
        ext = {EXTENSION_NAME: REPO_ROOT} if "--with-extension" in (argv or sys.argv) else {}
        with WebUIServer(cfg, Path(d), ckpt, hf_home, extensions=ext) as srv:
            print(f"{cfg.kind} up at {srv.url} in {srv.boot_seconds:.1f} s (with warm-up)")
            t = time.monotonic()
            r = srv.txt2img()
            w, h = png_size(decode_image(r["images"][0]))
            print(f"txt2img 64x64/3 steps: {time.monotonic() - t:.2f} s, image {w}x{h}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
