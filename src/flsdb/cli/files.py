"""Output files written whole or not at all, with one sentence when the disk says no."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flsdb.errors import FlsdbError

REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
}


class OutputError(FlsdbError):
    """An output file could not be written; nothing partial was left behind."""


def reason(exc: OSError) -> str:
    return REASONS.get(exc.errno or 0, exc.strerror or "it could not be written")


def os_error(exc: BaseException) -> OSError | None:
    """The operating system's refusal inside an error (xlsxwriter, for one, wraps it)."""
    for candidate in (exc, exc.__cause__, exc.__context__, *getattr(exc, "args", ())[:1]):
        if isinstance(candidate, OSError):
            return candidate
    return None


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` to write, renamed to `path` when the block ends and
    removed if it fails: the file is there whole or not at all."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=folder)
        os.close(handle)
    except OSError as exc:
        raise OutputError(f"Cannot write {path}: {reason(exc)}.") from None
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        refused = os_error(exc)
        if refused is not None:
            raise OutputError(f"Cannot write {path}: {reason(refused)}.") from None
        raise


def write_output(path: Path, text: str) -> Path:
    """Write a text file whole or not at all; a device or pipe (/dev/stdout) is written
    directly, never replaced by a file."""
    if path.exists() and not path.is_file() and not path.is_dir():
        try:
            with path.open("w", encoding="utf-8", newline="") as stream:
                stream.write(text)
        except OSError as exc:
            raise OutputError(f"Cannot write {path}: {reason(exc)}.") from None
        return path
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="")
    return path
