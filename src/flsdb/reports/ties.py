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


def _value(data: PeriodFigures, linked: Linked, term: Term) -> float | None:
    if isinstance(term, str):
        return linked.values.get(term)
    return kpi_count(data, *term)


def nest(data: PeriodFigures, linked: Linked, inner: Term, outer: Term) -> bool:
    """Add `inner` within `outer` (the patients of one counted in the other) where both are
    there and it holds; whether it was added."""
    low, high = _value(data, linked, inner), _value(data, linked, outer)
    if low is None or high is None or low > high:
        return False
    linked.nested.append((inner, outer))
    return True


def tie(
    data: PeriodFigures, linked: Linked, left: tuple[Term, ...], right: tuple[Term, ...]
) -> bool:
    """Add left = right where every term is there and the sums agree; whether it was added."""
    found = [_value(data, linked, t) for t in (*left, *right)]
    if any(v is None for v in found):
        return False
    sides = sum(found[: len(left)]), sum(found[len(left) :])  # type: ignore[arg-type]
    if abs(sides[0] - sides[1]) < 1e-9:
        linked.sums.append((left, right))
        return True
    return False
