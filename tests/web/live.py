"""`flsdb serve` started as users start it, on a free loopback port, and Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.command import FLSDB

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# The session secret of the test applications, in-process (tests/web/conftest.py) and served.
SECRET = "s" * 48


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(url: str, cwd: Path, refresh: str = "0", workers: int = 1) -> Iterator[str]:
    """The web application on `url`'s database; yields its base URL."""
    port = _free_port()
    log = (cwd / "serve.log").open("w")
    process = subprocess.Popen(
        [FLSDB, "serve", "--db", url, "--port", str(port), "--workers", str(workers)],
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "FLSDB_SECRET_KEY": SECRET,
            "FLSDB_DASHBOARD_REFRESH": refresh,
            "FLSDB_DASHBOARD_WAIT": "600" if refresh == "0" else "0",
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((cwd / "serve.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
