"""What storing an upload would change, field by field, and the stored versions it saw: the
preview lists the changes, and the commit refuses if a record moved since the preview."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from flsdb.dictionary.frames import ROW
from flsdb.errors import Conflict
from flsdb.storage.tables import RECORD_COLUMNS

MAX_CHANGES = 200_000
"""Field changes a preview lists one by one; beyond it they are counted (`changed_fields`)."""


@dataclass
class ChangeReport:
    """What storing an upload would change in the stored records, field by field, and the
    version of every stored record it would touch (a commit refuses if one moved since)."""

    changes: list[dict[str, object]] = field(default_factory=list)
    change_count: int = 0
    changed_fields: dict[str, int] = field(default_factory=dict)
    # (file row, record id, version) of each stored record the file's rows match, by row.
    seen: list[tuple[int, int, int]] = field(default_factory=list)

    def add(self, changed: pl.DataFrame, others: list[str]) -> None:
        """The field changes of a batch's changed rows (with `_row`, `id` and `_old` twins)."""
        text = changed.select(
            ROW,
            "id",
            *[pl.col(c).cast(pl.String).alias(c) for c in others],
            *[pl.col(f"{c}_old").cast(pl.String).alias(f"{c}_old") for c in others],
        )
        for column in others:
            differ = text.filter(pl.col(column).ne_missing(pl.col(f"{column}_old")))
            if differ.height == 0:
                continue
            self.changed_fields[column] = self.changed_fields.get(column, 0) + differ.height
            self.change_count += differ.height
            room = MAX_CHANGES - len(self.changes)
            for row, record_id, after, before in (
                differ.head(max(room, 0)).select(ROW, "id", column, f"{column}_old").iter_rows()
            ):
                self.changes.append(
                    {
                        "row": row,
                        "id": record_id,
                        "column": column,
                        "before": before,
                        "after": after,
                    }
                )

    def sort(self) -> None:
        order = {c: i for i, c in enumerate(RECORD_COLUMNS)}
        self.changes.sort(key=lambda c: (c["row"], order.get(str(c["column"]), 0)))
        self.seen.sort()


class RecordsMoved(Conflict):
    """A commit found stored records changed since its preview; nothing was stored."""


def moved_message(expected: list[tuple[int, int, int]], found: list[tuple[int, int, int]]) -> str:
    before = {row: (rid, version) for row, rid, version in expected}
    now = {row: (rid, version) for row, rid, version in found}
    rows = sorted(r for r in set(before) | set(now) if before.get(r) != now.get(r))
    shown = []
    for row in rows[:10]:
        old, new = before.get(row), now.get(row)
        if old and new and old[0] == new[0]:
            shown.append(f"row {row} (record {old[0]}, version {old[1]} then, {new[1]} now)")
        elif old and not new:
            shown.append(f"row {row} (record {old[0]}, deleted since)")
        elif new and not old:
            shown.append(f"row {row} (record {new[0]}, stored since)")
        else:
            shown.append(f"row {row}")
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return (
        "Records this upload would change were changed after it was checked: "
        + "; ".join(shown)
        + more
        + ". Nothing was stored; upload the file again to see the changes it would make now."
    )
