"""Typed cells for a few rows at a time (a record typed into a form or sent to the API).

Parsing a column is a function of its cells' text (and the day, for a two-digit year): the
parsers' expressions (`flsdb.ingest.parse`) run over a batch at once, which for a file is the
cheapest way, but for one row costs a fixed planning and dispatch time per expression, far more
than the row itself. So for a few rows each field's typed columns (its value, whether it broke
its type, whether it was read as something else) are kept by the cell's text once computed,
and a later row with the same text takes them instead of parsing again: the same expressions,
run once per distinct text. Identifiable fields (NHS number, date of birth, postcode) are
never kept: their text is the patient's own, and seldom repeats.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

import polars as pl

from flsdb.ingest.issues import ROW

# At most this many rows in a batch are parsed cell by cell (more: the whole batch at once).
FEW_ROWS = 4


class CellMemo:
    """Each kept field's typed columns by cell text (a one-row frame), at most `size`, the least
    recently used dropped first."""

    def __init__(self, kept: frozenset[str], size: int = 4096) -> None:
        self.kept = kept
        self.size = size
        self._frames: OrderedDict[tuple[str, str | None], pl.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, text: str | None) -> pl.DataFrame | None:
        with self._lock:
            found = self._frames.get((name, text))
            if found is not None:
                self._frames.move_to_end((name, text))
            return found

    def put(self, name: str, text: str | None, frame: pl.DataFrame) -> None:
        with self._lock:
            self._frames[(name, text)] = frame
            while len(self._frames) > self.size:
                self._frames.popitem(last=False)


def typed_columns(
    raw: pl.DataFrame, outputs: Mapping[str, list[pl.Expr]], memo: CellMemo
) -> pl.DataFrame:
    """`raw` with `ROW` and every field's output columns (`outputs`, by field): for a few rows,
    fields whose every cell is kept come from `memo`, and only the others are parsed."""
    if raw.height > FEW_ROWS or raw.height == 0:
        return raw.select(pl.col(ROW), *[e for exprs in outputs.values() for e in exprs])
    parts: dict[str, pl.DataFrame] = {}
    missing: list[str] = []
    for name in outputs:
        found = [memo.get(name, text) for text in raw[name]] if name in memo.kept else [None]
        kept = [frame for frame in found if frame is not None]
        if len(kept) < raw.height:
            missing.append(name)
        else:
            parts[name] = pl.concat(kept) if len(kept) > 1 else kept[0]
    if missing:
        fresh = raw.select(*[e for name in missing for e in outputs[name]])
        start = 0
        for name in missing:
            width = len(outputs[name])
            part = fresh[:, start : start + width]
            start += width
            parts[name] = part
            if name in memo.kept:
                for i, text in enumerate(raw[name]):
                    memo.put(name, text, part.slice(i, 1))
    return pl.concat([raw.select(ROW), *[parts[name] for name in outputs]], how="horizontal")
