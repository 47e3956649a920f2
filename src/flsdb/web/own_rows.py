"""An FLS's own KPI rows as they are now on figures computed before the latest changes: its
staff see a saved follow-up move their KPI at the next view, while the rest of the page (its
charts, comparators and funnels) stays as computed until the next computation.

The figures with the FLS's rows replaced share every view that does not read those rows with
the figures they came from (`OwnRowsKept`): only the FLS's KPI table and the page's head are
made again, not the rows of every other FLS, region and nation they look values up in.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from fastapi import Request

from flsdb.figures import Kept, PeriodFigures
from flsdb.services.dashboards import memo
from flsdb.services.live_figures import level_rows
from flsdb.web.common import engine_of

T = TypeVar("T")
# A value that is not there, as the figures' rows hold it (typed so for pandas' stubs, which
# do not list None among `to_numpy`'s values for no value).
_NONE: Any = None


def own_rows_now(request: Request, data: PeriodFigures, code: str) -> PeriodFigures | None:
    """Figures computed before the latest changes with one FLS's own KPI rows (as computed, for
    its staff and the national team) as they are now: that FLS's cells alone, a few
    milliseconds at each data version (`live_figures.level_rows`, the rows `GET /api/kpis`
    gives its staff), so a saved follow-up moves its KPI on the FLS's dashboard at the next
    view even while other changes keep the whole figures a computation behind. None: the store
    keeps no maintained figures, or the rows do not line up with the figures' own. The figures
    themselves when the FLS's rows now are those they hold (changes since were to other FLSs,
    or left its counts as they were): their views are made once for every viewer. Made once
    per content of the FLS's rows, not per data version: a change to another FLS's records
    leaves this FLS's rows as they were, so the views of the figures returned (its page's head
    and body, rendered once: `web.dashboards.html`) are the ones already made."""
    live = request.app.state.dashboards.live
    label, as_of = data.period.label, data.as_of
    found = level_rows(engine_of(request), label, as_of, "service", frozenset({code}), live)
    if found is None:
        return None
    now = found.table[found.table["unit"] == code].reset_index(drop=True)
    # Kept with the rows (`LevelRows.views`, shared while their inputs read the same): digested
    # once per computation of the rows, not per view.
    content = found.views.get(f"own rows digest {code}")
    if content is None:
        content = hashlib.sha256(now.to_csv(index=False).encode()).hexdigest()
        found.views[f"own rows digest {code}"] = content
    return memo("own rows now", data, code, content, make=lambda: with_own_rows(data, code, now))


def with_own_rows(data: PeriodFigures, code: str, now: pd.DataFrame) -> PeriodFigures | None:
    """`data` with FLS `code`'s rows as computed (its service rows, unsuppressed) replaced by
    `now`; `data` itself when they are the same; None when they do not line up (other KPIs or
    periods)."""
    table = data.unsuppressed["service"]
    positions = np.flatnonzero(table["unit"].to_numpy() == code)
    before = table.iloc[positions][["period", "kpi"]].reset_index(drop=True)
    if not before.equals(now[["period", "kpi"]].reset_index(drop=True)):
        return None
    columns = list(table.columns)
    if table.iloc[positions][columns].to_numpy().tolist() == now[columns].to_numpy().tolist():
        return data
    # Every value as a Python object, None for no value (as the figures' index of rows reads
    # them), the FLS's rows from `now`: one block of values, not the table set column by column.
    values = table.to_numpy(dtype=object, na_value=_NONE, copy=True)
    values[positions] = now[columns].to_numpy(dtype=object, na_value=_NONE)
    service = pd.DataFrame(values, index=table.index, columns=columns, dtype=object)
    return dataclasses.replace(
        data,
        unsuppressed={**data.unsuppressed, "service": service},
        kept=OwnRowsKept(data, code, service.iloc[positions].to_dict("records")),
    )


class _Dropped(Exception):
    """The figures' index of rows was dropped from their views meanwhile."""


def _dropped() -> Any:
    raise _Dropped


# The view of figures that indexes a level's rows by (unit, kpi): `PeriodFigures.row`'s.
ROWS = "rows"


class OwnRowsKept(Kept):
    """The views of figures whose service rows as computed are `base`'s with one FLS's
    replaced (`with_own_rows`). An index of rows is made from `base`'s instead of the whole
    table again: the service rows as computed as a copy of `base`'s with the FLS's entries
    replaced (`own`: its rows, each as `PeriodFigures.row` gives them), every other level's
    (and the published ones) is `base`'s own, as the two figures hold the same tables. Every
    other view is made from these figures, kept here."""

    def __init__(self, base: PeriodFigures, code: str, own: list[dict[Any, Any]]) -> None:
        super().__init__(base.kept.size)
        self.base, self.code, self.own = base, code, own

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if not (isinstance(key, tuple) and len(key) == 3 and key[0] == ROWS):
            return super().get(key, make)
        if key[1:] != ("service", False):
            return self.base.kept.get(key, make)  # the same table: the same index
        return super().get(key, lambda: self._replaced(key, make))

    def _replaced(self, key: Hashable, make: Callable[[], T]) -> T:
        self.base.row("service", self.code, "", published=False)  # `base`'s index, made
        try:
            index: dict[tuple[str, str], dict[str, object]] = self.base.kept.get(key, _dropped)
        except _Dropped:
            return make()
        replaced = {k: v for k, v in index.items() if k[0] != self.code}
        for row in self.own:
            replaced[(str(row["unit"]), str(row["kpi"]))] = {str(k): v for k, v in row.items()}
        return replaced  # type: ignore[return-value]

    def __reduce__(self) -> tuple[Any, ...]:
        # Figures copied or sent to another process take no views (as `Kept`'s own copies).
        return (Kept, (self.size,))

    def __deepcopy__(self, memo: dict[int, Any]) -> Kept:
        return Kept(self.size)
