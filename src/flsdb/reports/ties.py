"""Relations between the counts published beside the KPI tables and the KPI tables' own counts,
as the audit's model (`flsdb.disclosure.linked.Linked`) takes them: a relation is added only
where it holds on the counts (one the definitions imply always does; one that does not is not
known to anyone)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flsdb.disclosure.linked import Linked, Term

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures


def kpi_count(data: PeriodFigures, level: str, unit: str, kpi: str, column: str) -> float | None:
    """A KPI count as computed (None: no such row or no count)."""
    value = data.row(level, unit, kpi, published=False).get(column)
    return None if value is None or value != value else float(value)  # type: ignore[arg-type]


def tie(
    data: PeriodFigures, linked: Linked, left: tuple[Term, ...], right: tuple[Term, ...]
) -> bool:
    """Add left = right where every term is there and the sums agree; whether it was added."""

    def value(term: Term) -> float | None:
        if isinstance(term, str):
            return linked.values.get(term)
        return kpi_count(data, *term)

    found = [value(t) for t in (*left, *right)]
    if any(v is None for v in found):
        return False
    sides = sum(found[: len(left)]), sum(found[len(left) :])  # type: ignore[arg-type]
    if abs(sides[0] - sides[1]) < 1e-9:
        linked.sums.append((left, right))
        return True
    return False
