"""Start a real ComfyUI headless on the CPU for tests, with this repository as a custom node.

Standard library only; ComfyUI runs in its own Python. Everything ComfyUI writes goes to a
temporary ``--base-directory`` (``custom_nodes/``, ``models/``, ``input/``, ``output/``,
``user/``) and an in-memory database, so the ComfyUI checkout is never changed: the repository
is linked into that base directory's ``custom_nodes/`` and the link goes with it.

Environment:

``COMFYUI_DIR``           the ComfyUI checkout (required; the tests skip without it)
``COMFYUI_PYTHON``        its Python (default: ``$COMFYUI_DIR/venv/bin/python``, then
                          ``$COMFYUI_DIR/.venv/bin/python``)
``WEBUI_TEST_CACHE``      where the tiny checkpoint is kept between runs (shared with the WebUI
                          tests; default ``~/.cache/sd-webui-tkg-chroma-tests``)
``COMFYUI_BOOT_TIMEOUT``  seconds to wait for the server (default 300)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from webui_server import EXTENSION_NAME, HERE, WebUIError, _file_digest, _run, free_port

SKIP_REASON = (
    "real-ComfyUI integration tests: set COMFYUI_DIR to a ComfyUI checkout (v0.8) and "
    "COMFYUI_PYTHON to its venv's python to run them"
)


class ComfyUIError(WebUIError):
    pass


@dataclass
class ComfyUIConfig:
    comfyui_dir: Path
    python: Path
    cache_dir: Path = field(
        default_factory=lambda: Path.home() / ".cache" / (EXTENSION_NAME + "-tests")
    )
    boot_timeout: float = 300.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ComfyUIConfig | None:
        """None when COMFYUI_DIR is unset; ComfyUIError when it is set but unusable."""
        env = dict(os.environ if env is None else env)
        raw = env.get("COMFYUI_DIR", "").strip()
        if not raw:
            return None
        root = Path(raw).expanduser().resolve()
        if not (root / "main.py").is_file() or not (root / "comfy").is_dir():
            raise ComfyUIError(f"COMFYUI_DIR={root} is not a ComfyUI checkout (no main.py)")
        given = env.get("COMFYUI_PYTHON", "").strip()
        candidates = (
            [Path(given).expanduser()]
            if given
            else [
                root / "venv" / "bin" / "python",
                root / ".venv" / "bin" / "python",
            ]
        )
        python = next((p for p in candidates if p.exists()), None)
        if python is None:
            raise ComfyUIError(f"no Python for {root}: set COMFYUI_PYTHON (tried {candidates})")
        cfg = cls(comfyui_dir=root, python=python)
        if env.get("WEBUI_TEST_CACHE"):
            cfg.cache_dir = Path(env["WEBUI_TEST_CACHE"]).expanduser().resolve()
        if env.get("COMFYUI_BOOT_TIMEOUT"):
            cfg.boot_timeout = float(env["COMFYUI_BOOT_TIMEOUT"])
        return cfg


def tiny_checkpoint(cfg: ComfyUIConfig) -> Path:
    """A random SD1.5 checkpoint ComfyUI detects as SD15 (``make_tiny_checkpoint.py``'s
    ``forge`` profile: model_channels 320, context 768, real VAE shape), cached."""
    script = HERE / "make_tiny_checkpoint.py"
    ckpt = cfg.cache_dir / f"tiny-sd15-forge-{_file_digest(script)}.safetensors"
    if not ckpt.is_file():
        cfg.cache_dir.mkdir(parents=True, exist_ok=True)
        _run(
            [str(cfg.python), str(script), str(ckpt), "--profile", "forge", "--seed", "0"],
            "making the tiny checkpoint",
        )
    return ckpt


class ComfyUIServer:
    """One ComfyUI process on a free loopback port with its own base directory."""

    def __init__(
        self,
        cfg: ComfyUIConfig,
        base_dir: Path,
        custom_nodes: dict[str, Path],
        checkpoint: Path,
        inputs: list[Path] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.cfg = cfg
        self.base_dir = Path(base_dir)
        self.custom_nodes = custom_nodes
        self.checkpoint = checkpoint
        self.inputs = list(inputs)
        self.extra_env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.base_dir / "comfyui.log"
        self.proc: subprocess.Popen | None = None

    @property
    def output_dir(self) -> Path:
        return self.base_dir / "output"

    def _lay_out(self) -> None:
        nodes = self.base_dir / "custom_nodes"
        ckpts = self.base_dir / "models" / "checkpoints"
        for d in (nodes, ckpts, self.base_dir / "input", self.output_dir):
            d.mkdir(parents=True, exist_ok=True)
        for name, src in self.custom_nodes.items():
            (nodes / name).symlink_to(Path(src).resolve(), target_is_directory=True)
        (ckpts / self.checkpoint.name).symlink_to(self.checkpoint)
        for f in self.inputs:
            shutil.copyfile(f, self.base_dir / "input" / f.name)

    def _unlink(self) -> None:
        for name in self.custom_nodes:
            link = self.base_dir / "custom_nodes" / name
            if link.is_symlink():
                link.unlink()

    def start(self) -> ComfyUIServer:
        self._lay_out()
        cmd = [
            str(self.cfg.python), "main.py", "--cpu", "--base-directory", str(self.base_dir),
            "--listen", "127.0.0.1", "--port", str(self.port), "--disable-auto-launch",
            "--database-url", "sqlite:///:memory:",
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.cfg.comfyui_dir,
                env={**os.environ, **self.extra_env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.cfg.boot_timeout
        try:
            while True:
                if self.proc.poll() is not None:
                    raise ComfyUIError(f"ComfyUI exited while starting:\n{self.log_tail()}")
                try:
                    self.request("GET", "/object_info/KSampler", timeout=5)
                    return self
                except (OSError, ComfyUIError):
                    if time.monotonic() > deadline:
                        raise ComfyUIError(f"ComfyUI not up:\n{self.log_tail()}") from None
                    time.sleep(0.5)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 30.0) -> None:
        proc, self.proc = self.proc, None
        try:
            if proc is not None and proc.poll() is None:
                for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
                    try:
                        os.killpg(proc.pid, sig)
                        proc.wait(wait)
                        break
                    except ProcessLookupError:
                        break
                    except subprocess.TimeoutExpired:
                        continue
        finally:
            self._unlink()

    # -- HTTP ------------------------------------------------------------------------

    def request_raw(self, method: str, path: str, payload: object = None, timeout: float = 60):
        """(HTTP status, body text) without raising on an error status."""
        data = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def request(self, method: str, path: str, payload: object = None, timeout: float = 60):
        status, body = self.request_raw(method, path, payload, timeout)
        if not 200 <= status < 300:
            raise ComfyUIError(f"{method} {path} -> HTTP {status}: {body[:3000]}")
        return json.loads(body) if body else None

    def queue(self, prompt: dict) -> tuple[int, dict]:
        """POST /prompt: (HTTP status, decoded answer)."""
        status, body = self.request_raw("POST", "/prompt", {"prompt": prompt})
        return status, json.loads(body)

    def run(self, prompt: dict, timeout: float = 600) -> dict:
        """Queue ``prompt`` (API format), wait for it, return its history entry; raises with
        ComfyUI's error when the prompt is rejected or fails."""
        status, answer = self.queue(prompt)
        if status != 200:
            raise ComfyUIError(f"prompt rejected (HTTP {status}): {json.dumps(answer)[:3000]}")
        pid = answer["prompt_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entry = self.request("GET", f"/history/{pid}").get(pid)
            if entry and entry.get("status", {}).get("completed") is not None:
                if entry["status"].get("status_str") != "success":
                    raise ComfyUIError(f"prompt failed: {json.dumps(entry['status'])[:3000]}")
                return entry
            time.sleep(0.2)
        raise ComfyUIError(f"prompt {pid} not done after {timeout} s:\n{self.log_tail()}")

    def saved(self, entry: dict, node_id: str) -> list[Path]:
        """Files a SaveImage node wrote for a finished prompt (its history entry)."""
        images = entry["outputs"][node_id]["images"]
        return [self.output_dir / i["subfolder"] / i["filename"] for i in images]

    def log_tail(self, n: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-n:])
