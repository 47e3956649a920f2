"""Typed batches kept on disk between validation and storage, so an upload's memory is bounded by
its batch size rather than by the file. The files are Arrow IPC in a private temporary folder,
removed when the validated table is closed or collected; they hold the upload's values, so the
folder is readable by its owner only. A few rows (a record typed into a form or sent to the
API) stay in memory: a folder and a file for one row cost more than the row's validation."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

# Rows kept in memory until the sequence holds more (then every part is written to disk).
MEMORY_ROWS = 10


class Spill:
    """An append-only sequence of data frames with one schema."""

    def __init__(self) -> None:
        self.folder: Path | None = None  # made when the first part is written
        self._parts: list[Path | pl.DataFrame] = []
        self.height = 0
        self.schema: pl.Schema | None = None
        self._cleanup: Any = None  # weakref.finalize, once a folder is made

    def append(self, frame: pl.DataFrame) -> None:
        if self.schema is None:
            self.schema = frame.schema
        self._parts.append(frame)
        self.height += frame.height
        if self.height > MEMORY_ROWS:
            self._parts = [self._written(i, p) for i, p in enumerate(self._parts)]

    def _written(self, index: int, part: Path | pl.DataFrame) -> Path:
        if isinstance(part, Path):
            return part
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="flsdb-upload-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        path = self.folder / f"{index:06d}.arrow"
        part.write_ipc(path, compression="lz4")
        return path

    def batches(self, columns: list[str] | None = None) -> Iterator[pl.DataFrame]:
        for part in self._parts:
            if isinstance(part, Path):
                yield pl.read_ipc(part, columns=columns)
            else:
                yield part if columns is None else part.select(columns)

    def read(self) -> pl.DataFrame:
        frames = list(self.batches())
        if not frames:
            return pl.DataFrame(schema=self.schema)
        return pl.concat(frames, rechunk=True)

    def close(self) -> None:
        if self._cleanup is not None:
            self._cleanup()
