"""kpi01's date of FLS assessment is due 90 days after the fracture (review item 13): a record
whose 90 days have not passed by the extract date cannot have it yet, so it is neither counted
where the field applies nor as missing; the engine (reports) and the store's maintained figures
(dashboards) read the same rule from the catalogue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from flsdb.ingest import validate_file
from flsdb.kpi import load_catalogue, parse_period
from flsdb.kpi.completeness import completeness_by_field
from flsdb.kpi.sources import RecordSource, source_from_database, source_from_files
from flsdb.kpi.stored import counts_from_store
from flsdb.services.missing import key_fields
from flsdb.storage import known_service_codes, open_engine, store_records, store_services
from tests.factory import nhs_number, record, write_records, write_services

AS_OF = dt.date(2025, 3, 1)  # due at 90 days: fractures on or before 2024-12-01
ROWS = [
    # Due, assessed; due, not assessed (missing); not yet due, not assessed (not counted).
    record(nhs_number=nhs_number(1), date_fracture_diagnosed="2024-05-01",
           date_fls_assessment="2024-05-20"),
    record(nhs_number=nhs_number(2), date_fracture_diagnosed="2024-06-01"),
    record(nhs_number=nhs_number(3), date_fracture_diagnosed="2024-12-20"),
    # Due on the extract date's 90th day exactly (2024-12-01), not assessed: missing.
    record(nhs_number=nhs_number(4), date_fracture_diagnosed="2024-12-01"),
]  # fmt: skip


def _row(frame: pd.DataFrame) -> dict[str, object]:
    found = frame[(frame["service_code"] == "FLS01") & (frame["field"] == "date_fls_assessment")]
    return found.iloc[0].to_dict()


def _check(source: RecordSource, counts: pd.DataFrame | None = None) -> None:
    frame = completeness_by_field(source, parse_period("2024"), AS_OF, counts=counts)
    row = _row(frame)
    assert (row["applicable"], row["missing"]) == (3, 2)
    assert round(float(row["percent_missing"]), 1) == 66.7  # type: ignore[arg-type]
    # The field that applies to every record still counts every record.
    sex = frame[(frame["service_code"] == "FLS01") & (frame["field"] == "sex")].iloc[0]
    assert sex["applicable"] == 4


def test_the_catalogue_gives_the_date_of_assessment_its_90_days() -> None:
    measure = next(m for m in load_catalogue().measures if m.kind == "completeness")
    key = next(k for k in measure.key_fields if k.column == "date_fls_assessment")
    assert key.applicable is not None and key.applicable.due == "90d"
    # The worklist reads its windows from the catalogue too (no second table of days).
    windows = {k.column: k.due_days for k in key_fields() if k.due_days is not None}
    assert windows == {"followup_16w": 112, "followup_52w": 392}


def test_completeness_leaves_out_fractures_whose_90_days_have_not_passed(tmp_path: Path) -> None:
    services = write_services(tmp_path / "services.csv")
    records = write_records(tmp_path / "records.csv", ROWS)
    _check(source_from_files(records, services, upload_date=AS_OF))


def test_the_stores_maintained_figures_apply_the_same_rule(tmp_path: Path) -> None:
    services = write_services(tmp_path / "services.csv")
    records = write_records(tmp_path / "records.csv", ROWS)
    db = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    store_services(db, validate_file(services, "services"))
    known = known_service_codes(db)
    store_records(db, validate_file(records, "records", known_services=known, upload_date=AS_OF))
    source = source_from_database(engine=db)
    period = parse_period("2024")
    counts = counts_from_store(source, period.start, period.end, AS_OF, "service")
    assert counts is not None, "the store keeps figures for the catalogue"
    _check(source, counts)  # the dashboards' path: the maintained cells
    _check(source)  # the engine on the store
