"""Typed batches kept on disk between validation and storage, so an upload's memory is bounded by
its batch size rather than by the file. The files are Arrow IPC in a private temporary folder,
removed when the validated table is closed or collected; they hold the upload's values, so the
folder is readable by its owner only."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import polars as pl


class Spill:
    """An append-only sequence of data frames with one schema."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="flsdb-upload-"))
        self._parts: list[Path] = []
        self.height = 0
        self.schema: pl.Schema | None = None
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)

    def append(self, frame: pl.DataFrame) -> None:
        if self.schema is None:
            self.schema = frame.schema
        path = self.folder / f"{len(self._parts):06d}.arrow"
        frame.write_ipc(path, compression="lz4")
        self._parts.append(path)
        self.height += frame.height

    def batches(self, columns: list[str] | None = None) -> Iterator[pl.DataFrame]:
        for path in self._parts:
            yield pl.read_ipc(path, columns=columns)

    def read(self) -> pl.DataFrame:
        frames = list(self.batches())
        if not frames:
            return pl.DataFrame(schema=self.schema)
        return pl.concat(frames, rechunk=True)

    def close(self) -> None:
        self._cleanup()
