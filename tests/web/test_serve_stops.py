"""`flsdb serve` stopped as a service manager stops it (SIGTERM) leaves no process behind: the
figures worker ends with the server, and no semaphore is reported leaked (issue 20)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.command import FLSDB
from tests.web.conftest import SECRET, _site_copy
from tests.web.live import _free_port


def _children(pid: int) -> set[int]:
    """Every descendant of `pid` (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                text = (task / "children").read_text()
            except OSError:
                continue
            for child in map(int, text.split()):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_stops_the_server_and_its_figures_worker(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _site_copy("sqlite", tmp_path, request)  # the small site, a copy of the built one
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [FLSDB, "serve", "--db", url, "--port", str(port)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "FLSDB_SECRET_KEY": SECRET},
        )
        try:
            deadline = time.monotonic() + 60
            base = f"http://127.0.0.1:{port}"
            while True:  # up, and its figures worker started (the warm-up of the dashboards)
                try:
                    up = httpx.get(f"{base}/healthz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    up = False
                workers = _children(process.pid)
                if up and workers:
                    break
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "no figures worker started"
                time.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            # uvicorn shuts down, then ends by the signal it caught (as a service manager expects).
            assert process.wait(timeout=30) in (0, -signal.SIGTERM), log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in workers if _alive(p)]
    for pid in left:  # not to leave them on the machine when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running after the server stopped: {left}"
    text = log.read_text()
    assert "leaked semaphore" not in text and "Traceback" not in text, text
