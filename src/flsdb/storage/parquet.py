"""Parquet extracts (`flsdb synth --format parquet`, `write_extract`), written by DuckDB.

DuckDB's own reader scans the row groups DuckDB writes faster than pyarrow's (a 10,000,000
record extract: every KPI column read in 2.2 s against 3.6 to 4.2 s from pyarrow's file with the
same compression, on this project's 2-core machine), and the write streams: frames are pulled
one at a time, so memory stays bounded whatever the number of records.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    import polars as pl
# One writer thread keeps the records in the order they came; the memory limit bounds DuckDB's
# buffers (row groups are written as they fill).
WRITER_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "threads": 1,
    "memory_limit": "1GB",
}


def write_frames(
    frames: Iterable[pl.DataFrame],
    path: Path,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write frames with the same columns as one zstd-compressed Parquet file (nothing is
    written when there are no frames)."""
    # lazy: duckdb only when a Parquet file is written (`flsdb synth` writes CSV by default)
    import duckdb

    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        return path
    schema = first.to_arrow().schema

    def batches() -> Iterator[pa.RecordBatch]:
        for frame in itertools.chain([first], iterator):
            yield from frame.to_arrow().cast(schema).to_batches()
            if progress:
                progress(frame.height)

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    target = str(path).replace("'", "''")
    with duckdb.connect(config=WRITER_CONFIG) as con:
        con.execute("SET enable_progress_bar = false")
        con.register("frames", reader)
        con.execute(f"COPY (SELECT * FROM frames) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
    return path
