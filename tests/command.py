"""The installed `flsdb` command, run as users run it (a subprocess beside the tests' Python)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FLSDB = str(Path(sys.executable).parent / "flsdb")


def flsdb(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLSDB, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def start_flsdb(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """The command started in the background (for work that must overlap)."""
    return subprocess.Popen(
        [FLSDB, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
