"""The names of the engines' count columns, written once: the count queries (`query`, `terms`)
make them and the results, completeness and breakdown groups read them."""

from __future__ import annotations


def numerator(measure_id: str) -> str:
    return f"{measure_id}__num"


def denominator(measure_id: str) -> str:
    """A proportion's patients due by the extract date (all of them when it has no due rule)."""
    return f"{measure_id}__den"


def not_due(measure_id: str) -> str:
    """A proportion's patients whose window has not closed by the extract date."""
    return f"{measure_id}__nd"


def records(part_id: str) -> str:
    """A caseload part's records (kpi02's spine and non-spine)."""
    return f"{part_id}__records"


def applies(measure_id: str, column: str) -> str:
    """The records a completeness key field applies to."""
    return f"{measure_id}__app__{column}"


def missing(measure_id: str, column: str) -> str:
    """The records among those it applies to whose key field is missing."""
    return f"{measure_id}__miss__{column}"


def of_measure(measure_id: str) -> str:
    """The prefix every count column of the measure starts with."""
    return f"{measure_id}__"
