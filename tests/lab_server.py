"""Start JupyterLab from the project's environment on a free localhost port (for the lab and browser tests)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A running server: ``url``, ``token`` and ``api(path)`` for its REST API."""

    def __init__(self, url: str, token: str, process: subprocess.Popen):
        self.url, self.token, self.process = url, token, process

    def page(self, path: str) -> str:
        """The text the server sends for ``path`` (an HTML page)."""
        req = urllib.request.Request(f"{self.url}{path}")
        req.add_header("Authorization", f"token {self.token}")
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.read().decode()

    def api(self, path: str, method: str = "GET", body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        with urllib.request.urlopen(req, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None


@contextlib.contextmanager
def lab_server(root_dir, timeout: float = 120.0):
    """Run ``jupyter lab`` (no browser, token auth, 127.0.0.1 only) in ``root_dir``; stop it cleanly on exit."""
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
           "--ServerApp.port_retries=0"]  # fmt: skip
    if os.geteuid() == 0:  # CI and containers run as root
        cmd.append("--allow-root")
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=root_dir)
    server = LabServer(f"http://127.0.0.1:{port}", token, process)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {process.returncode}: {process.stdout.read()[-2000:]}")
            try:
                server.api("/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"jupyter lab did not answer on port {port} within {timeout} s") from None
                time.sleep(0.5)
        yield server
    finally:
        process.terminate()  # SIGTERM: the server shuts its kernels down and exits
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
