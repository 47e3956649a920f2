"""The `flsdb` command, run as users run it: the installed command in a subprocess beside the
tests' Python (`flsdb`, `start_flsdb`), or the same entry point, `flsdb.cli.app.main`, called in
this process (`flsdb_here`) with its own argv, working folder, environment and captured output,
or in a child forked from this process (`fork_flsdb`: another process, without a new Python's
start).

In-process runs give the same exit codes and the same words on stdout and stderr (the consoles
write to whatever `sys.stdout` and `sys.stderr` are, 140 columns wide when not a terminal, as in
a subprocess), without the seconds each new Python needs to import polars, Ibis and pandas.
Keep a few true subprocess tests of the installed command (its entry point, its exit code seen
by a shell, work that must wait for another process); run refusals and options in-process, and
work that only needs to overlap in other processes in forked children."""

from __future__ import annotations

import gc
import io
import os
import select
import signal
import subprocess
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


class _Stream(io.TextIOWrapper):
    """A text stream over bytes (some output goes to `.buffer`), never a terminal."""

    def __init__(self, data: bytes = b"") -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8", newline="")

    def isatty(self) -> bool:
        return False

    def text(self) -> str:
        self.flush()
        raw = self.buffer.getvalue()  # type: ignore[attr-defined]
        return raw.decode("utf-8", errors="replace").replace("\r\n", "\n")


@contextmanager
def _environment(env: dict[str, str] | None) -> Any:
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def flsdb_here(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`flsdb ARGS` run by the installed command's entry point in this process: the same exit
    code (SystemExit's), stdout and stderr as `flsdb(...)`. `timeout` is accepted for the same
    signature and not enforced."""
    from flsdb.cli.app import main

    out, err, given = _Stream(), _Stream(), _Stream((input or "").encode())
    saved = (sys.argv, sys.stdin, sys.stdout, sys.stderr, os.getcwd())
    code: int = 0
    with _environment(env):
        sys.argv = ["flsdb", *args]
        sys.stdin, sys.stdout, sys.stderr = given, out, err
        os.chdir(cwd)
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.argv, sys.stdin, sys.stdout, sys.stderr = saved[:4]
            os.chdir(saved[4])
    return subprocess.CompletedProcess(["flsdb", *args], code, out.text(), err.text())


class Forked:
    """`flsdb ARGS` by the command's entry point (`flsdb_here`) in a child forked from this
    process, as `start_flsdb` starts the installed command: another process, with a pid,
    `poll()` and `communicate()`, that has the imports made already (a new Python's start,
    polars, Ibis and pandas imported again, cost about 2 CPU s a process). For work that only
    needs to overlap in other processes; the child inherits this process's open files, so
    close the connections it should not share first (`Engine.dispose`)."""

    def __init__(self, args: tuple[str, ...], cwd: Path) -> None:
        name = f".forked-{os.getpid()}-{id(self)}"
        self._outputs = (cwd / f"{name}.out", cwd / f"{name}.err")
        self.returncode: int | None = None
        self.pid = os.fork()
        if self.pid == 0:  # the child: runs the command, leaves its output in files, exits
            code = 1
            try:
                gc.freeze()  # this process's objects stay shared, not copied by a collection
                done = flsdb_here(*args, cwd=cwd)
                self._outputs[0].write_text(done.stdout)
                self._outputs[1].write_text(done.stderr)
                code = done.returncode
            except BaseException:
                self._outputs[1].write_text(traceback.format_exc())
            finally:
                os._exit(code)  # no exit handlers of the parent's run here
        self._finished = os.pidfd_open(self.pid)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                os.close(self._finished)
        return self.returncode

    def communicate(self, timeout: float) -> tuple[str, str]:
        """Waits (on the process's pidfd) until it ends, up to `timeout` seconds (then kills
        it and raises TimeoutError); its stdout and stderr."""
        if self.returncode is None:
            ended = select.select([self._finished], [], [], timeout)[0]
            if not ended:
                os.kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
            os.close(self._finished)
            if not ended:
                raise TimeoutError(f"flsdb did not end within {timeout} s")
            self.returncode = os.waitstatus_to_exitcode(status)
        out, err = (path.read_text() if path.exists() else "" for path in self._outputs)
        return out, err


def fork_flsdb(*args: str, cwd: Path) -> Forked:
    """The command started in a forked child of this process (for work that must overlap,
    where the installed command's own start is not what is tested)."""
    return Forked(args, cwd)
