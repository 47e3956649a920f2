"""Output files written whole or not at all, with one sentence when the disk says no."""

from __future__ import annotations

import errno
import os
import tempfile
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


def write_output(path: Path, text: str) -> Path:
    """Write a text file through a temporary file in the same folder, renamed at the end; a
    device or pipe (/dev/stdout) is written directly, never replaced by a file."""
    if path.exists() and not path.is_file() and not path.is_dir():
        try:
            with path.open("w", encoding="utf-8", newline="") as stream:
                stream.write(text)
        except OSError as exc:
            raise OutputError(f"Cannot write {path}: {reason(exc)}.") from None
        return path
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise OutputError(f"Cannot write {path}: {reason(exc)}.") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"Cannot write {path}: {reason(exc)}.") from None
    return path
