"""The patients behind a KPI's count: for an FLS's staff, the records of one of its FLSs that
did not meet a KPI, or are not yet due for it, in a period as of an extract date.

The KPI's compiled conditions (`flsdb.kpi.compile`, the same the counts come from) are
evaluated per record within the FLS, so the list has exactly the patients the count counts;
the records are then read through `access.patient_filter`, as the records API reads them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import ibis
from sqlalchemy import Engine, select

from flsdb.errors import NotFound
from flsdb.kpi.catalogue import load_catalogue
from flsdb.kpi.compile import FRACTURE, Compiler
from flsdb.kpi.periods import parse_period
from flsdb.kpi.sources import ibis_connection
from flsdb.services import policy
from flsdb.services.access import patient_filter
from flsdb.services.events import record_event
from flsdb.services.policy import Actor, check
from flsdb.storage.tables import records

Status = Literal["not_met", "not_due"]
STATUS_WORDS = {"not_met": "did not meet", "not_due": "are not yet due for"}
LIMIT = 2000  # a page this long is already more than a person reads


@dataclass(frozen=True)
class Patients:
    """The records behind a count, newest fracture first (`total` may exceed `rows`)."""

    kpi: str
    name: str
    status: Status
    rows: list[dict[str, Any]]
    total: int


def kpi_ids(catalogue: Any) -> list[str]:
    """The KPIs whose counts are of patients: a numerator among a denominator."""
    return [m.id for m in catalogue.measures if m.kind == "proportion"]


def _matching_ids(
    engine: Engine, code: str, measure: Any, status: Status, period: Any, as_of: dt.date
) -> list[int]:
    """The ids of the FLS's records in the period that the count of `status` counts."""
    con = ibis_connection(engine)
    try:
        table = con.table("records")
        scoped = table.filter(
            table["service_code"] == code,
            table[FRACTURE] >= ibis.literal(period.start),
            table[FRACTURE] <= ibis.literal(period.end),
        )
        backend = "sqlite" if engine.dialect.name == "sqlite" else "postgres"
        compiler = Compiler(scoped, load_catalogue(), as_of, backend)
        base = compiler(measure.denominator)
        if measure.due is None:  # counted as soon as recorded: none is ever not yet due
            if status == "not_due":
                return []
            wanted = base & ~compiler(measure.numerator)
        elif status == "not_due":
            wanted = base & ~compiler.due(measure.due)
        else:
            wanted = base & compiler.due(measure.due) & ~compiler(measure.numerator)
        found = scoped.filter(wanted).select("id").execute()
        return sorted(int(i) for i in found["id"])
    finally:
        con.disconnect()


def patients(
    engine: Engine,
    actor: Actor,
    code: str,
    kpi: str,
    status: Status,
    period_text: str,
    as_of: dt.date,
) -> Patients:
    """The FLS's patients counted as `status` for `kpi`: its staff alone (NotFound for an FLS
    outside the actor's, Forbidden for a role that reads no patient)."""
    check(actor, "read_patients", policy.service(code))
    catalogue = load_catalogue()
    if kpi not in kpi_ids(catalogue) or status not in STATUS_WORDS:
        raise NotFound("There is no such list of patients.")
    measure = catalogue.measure(kpi)
    period = parse_period(period_text)
    ids = _matching_ids(engine, code, measure, status, period, as_of)
    rows: list[Any] = []
    with engine.connect() as conn:
        for start in range(0, min(len(ids), LIMIT), 500):
            rows += conn.execute(
                select(records)
                .where(patient_filter(actor, records.c.service_code, code))
                .where(records.c.id.in_(ids[start : min(start + 500, LIMIT)]))
            ).all()
    found = sorted(
        (dict(r._mapping) for r in rows),
        key=lambda r: (r["date_fracture_diagnosed"], r["id"]),
        reverse=True,
    )
    record_event(
        engine,
        actor.username,
        "read_records",
        service_code=code,
        detail=f"{kpi} {STATUS_WORDS[status]}, {period.label}; {len(found)} of {len(ids)} shown",
    )
    return Patients(kpi, catalogue.name(kpi), status, found, len(ids))
