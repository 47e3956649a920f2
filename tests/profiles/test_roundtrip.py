"""Export then import with the same profile gives back the records: for any valid records, in the
national layout (Windows-1252, labels, DD/MM/YYYY) and in flsdb's own."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flsdb.dictionary import load_dictionary
from flsdb.ingest import ValidatedTable, open_upload, validate
from flsdb.ingest.mapped import apply_profile, text_options
from flsdb.profiles import load_profile
from flsdb.profiles.export import export_frame, write_csv
from tests.factory import RECORD_COLUMNS, nhs_number, write_records
from tests.profiles.national import NG249

DICTIONARY = load_dictionary()
AS_OF = dt.date(2026, 1, 31)
FOLDER = Path(tempfile.mkdtemp(prefix="flsdb-roundtrip-"))
KEY = ["service_code", "nhs_number", "date_fracture_diagnosed"]


def _codes(field: str) -> tuple[str, ...]:
    spec = DICTIONARY.record_fields[field]
    return DICTIONARY.codes(spec) if spec.type == "code" else ()


def _optional(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), values)


def _therapy(field: str) -> st.SearchStrategy[str]:
    spec = DICTIONARY.record_fields[field]
    drugs = DICTIONARY.drug_codes()
    outcomes = DICTIONARY.outcome_codes(spec)
    most = 3 if spec.multiple else 1
    several = st.lists(st.sampled_from(drugs), min_size=1, max_size=most, unique=True)
    return _optional(st.one_of(several.map(";".join), st.sampled_from(outcomes)))


def _days(date: dt.date, low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda d: (date + dt.timedelta(days=d)).isoformat())


@st.composite
def a_record(draw: st.DrawFn, index: int) -> dict[str, str]:
    fracture = draw(st.dates(dt.date(2016, 1, 1), dt.date(2024, 6, 30)))
    age_days = draw(st.integers(50 * 366, 100 * 365))
    row = dict.fromkeys(RECORD_COLUMNS, "")
    code_fields = [f.name for f in DICTIONARY.records if f.type == "code"]
    for name in code_fields:
        spec = DICTIONARY.record_fields[name]
        values = st.sampled_from(_codes(name))
        row[name] = draw(values if spec.required else _optional(values))
    for name in ("bone_therapy_at_presentation", "bone_therapy_recommended"):
        row[name] = draw(_therapy(name))
    row.update(
        service_code="NAT01",
        nhs_number=nhs_number(index),
        date_of_birth=(fracture - dt.timedelta(days=age_days)).isoformat(),
        date_fracture_diagnosed=fracture.isoformat(),
        postcode=draw(_optional(st.sampled_from(["SW1A 1AA", "LS1 4DY", "CF10 3NQ"]))),
        date_fls_assessment=draw(_optional(_days(fracture, 0, 200))),
    )
    if row["dxa"] == "performed":
        row["date_dxa"] = draw(_days(fracture, -30, 200))
        row["t_score"] = draw(_optional(st.integers(-70, 40).map(lambda t: str(t / 10))))
    for weeks, low, high in (("16w", 80, 140), ("52w", 300, 420)):
        if row[f"followup_{weeks}"] == "yes":
            row[f"date_followup_{weeks}"] = draw(_days(fracture, low, high))
        row[f"bone_therapy_{weeks}"] = draw(_therapy(f"bone_therapy_{weeks}"))
    row["refractures_since_index"] = draw(_optional(st.integers(0, 20).map(str)))
    return row


RECORDS = st.integers(1, 6).flatmap(lambda n: st.tuples(*[a_record(i) for i in range(n)]).map(list))


def _validated(path: Path, profile_name: str) -> ValidatedTable:
    profile = load_profile(profile_name)
    upload = apply_profile(
        open_upload(path, text=text_options(profile)), profile, DICTIONARY, "NAT01"
    )
    return validate(upload, "records", known_services={"NAT01"}, upload_date=AS_OF)


def _typed(table: ValidatedTable) -> pl.DataFrame:
    return table.frame.select(RECORD_COLUMNS).sort(KEY)


ROUND_TRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROUND_TRIP
@given(RECORDS, st.sampled_from(["fls-db", "flsdb"]))
def test_export_then_import_gives_the_records_back(rows: list[dict[str, str]], name: str) -> None:
    stored = validate(
        open_upload(write_records(FOLDER / "own.csv", rows)),
        "records",
        known_services={"NAT01"},
        upload_date=AS_OF,
    )
    assert stored.ok, stored.issues.errors()
    profile = load_profile(name)
    exported = export_frame(_typed(stored), profile, DICTIONARY)
    path = FOLDER / "exported.csv"
    write_csv(exported, path, profile.text.export_encoding)
    back = _validated(path, name)
    assert back.ok, back.issues.errors()
    expected = _typed(stored)
    if name == "fls-db":  # the national layout has no NG249 questions
        expected = expected.with_columns(pl.lit(None, expected[c].dtype).alias(c) for c in NG249)
    assert _typed(back).equals(expected)


@ROUND_TRIP
@given(RECORDS)
def test_the_2023_layout_gives_back_the_records_with_coarse_sites(
    rows: list[dict[str, str]],
) -> None:
    stored = validate(
        open_upload(write_records(FOLDER / "own23.csv", rows)),
        "records",
        known_services={"NAT01"},
        upload_date=AS_OF,
    )
    profile = load_profile("fls-db")
    path = FOLDER / "exported23.csv"
    write_csv(export_frame(_typed(stored), profile, DICTIONARY, "2023"), path, "windows-1252")
    back = _typed(_validated(path, "fls-db"))
    sites = ["fracture_site", "fracture_site_2", "fracture_site_3"]
    coarse = _typed(stored).with_columns(
        pl.when(pl.col(c).cast(pl.String).is_in(["humerus", "pelvis", "wrist"]))
        .then(pl.lit("other"))
        .otherwise(pl.col(c).cast(pl.String))
        .cast(back[c].dtype)
        .alias(c)
        for c in sites
    )
    assert back.select(sites).equals(coarse.select(sites))
    assert back.drop([*sites, *NG249]).equals(coarse.drop([*sites, *NG249]))
