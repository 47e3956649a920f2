"""Export then import with the same profile gives back the records: for any valid records, in the
national layout (Windows-1252, labels, DD/MM/YYYY) and in flsdb's own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flsdb.dictionary import load_dictionary
from flsdb.ingest import ValidatedTable, open_upload, validate
from flsdb.ingest.mapped import apply_profile, text_options
from flsdb.ingest.rows import rows_upload
from flsdb.profiles import load_profile
from flsdb.profiles.export import export_frame, write_csv
from tests.factory import RECORD_COLUMNS, nhs_number
from tests.profiles.national import NG249

DICTIONARY = load_dictionary()
AS_OF = dt.date(2026, 1, 31)
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


def _days(date: dt.date, days: int) -> str:
    return (date + dt.timedelta(days=days)).isoformat()


# Each field's strategy made once, not again for every record drawn: Hypothesis works out a
# strategy's properties on first use, which for new objects in every draw was a third of the
# tests' time. The same draws in the same order, so the same examples.
CODE_FIELDS = [f.name for f in DICTIONARY.records if f.type == "code"]
CODE_VALUES = {
    name: (
        st.sampled_from(_codes(name))
        if DICTIONARY.record_fields[name].required
        else _optional(st.sampled_from(_codes(name)))
    )
    for name in CODE_FIELDS
}
THERAPIES = {
    name: _therapy(name)
    for name in (
        "bone_therapy_at_presentation",
        "bone_therapy_recommended",
        "bone_therapy_16w",
        "bone_therapy_52w",
    )
}
FRACTURES = st.dates(dt.date(2016, 1, 1), dt.date(2024, 6, 30))
AGES = st.integers(50 * 366, 100 * 365)
POSTCODES = _optional(st.sampled_from(["SW1A 1AA", "LS1 4DY", "CF10 3NQ"]))
ASSESSED = st.one_of(st.none(), st.integers(0, 200))  # as _optional: none, or days after
DXA_DAYS = st.integers(-30, 200)
T_SCORES = _optional(st.integers(-70, 40).map(lambda t: str(t / 10)))
FOLLOW_UP_DAYS = {"16w": st.integers(80, 140), "52w": st.integers(300, 420)}
REFRACTURES = _optional(st.integers(0, 20).map(str))


@st.composite
def a_record(draw: st.DrawFn, index: int) -> dict[str, str]:
    fracture = draw(FRACTURES)
    age_days = draw(AGES)
    row = dict.fromkeys(RECORD_COLUMNS, "")
    for name in CODE_FIELDS:
        row[name] = draw(CODE_VALUES[name])
    for name in ("bone_therapy_at_presentation", "bone_therapy_recommended"):
        row[name] = draw(THERAPIES[name])
    postcode = draw(POSTCODES)
    assessed = draw(ASSESSED)
    row.update(
        service_code="NAT01",
        nhs_number=nhs_number(index),
        date_of_birth=(fracture - dt.timedelta(days=age_days)).isoformat(),
        date_fracture_diagnosed=fracture.isoformat(),
        postcode=postcode,
        date_fls_assessment="" if assessed is None else _days(fracture, assessed),
    )
    if row["dxa"] == "performed":
        row["date_dxa"] = _days(fracture, draw(DXA_DAYS))
        row["t_score"] = draw(T_SCORES)
    for weeks in ("16w", "52w"):
        if row[f"followup_{weeks}"] == "yes":
            row[f"date_followup_{weeks}"] = _days(fracture, draw(FOLLOW_UP_DAYS[weeks]))
        row[f"bone_therapy_{weeks}"] = draw(THERAPIES[f"bone_therapy_{weeks}"])
    row["refractures_since_index"] = draw(REFRACTURES)
    return row


ROWS_OF = {n: st.tuples(*[a_record(i) for i in range(n)]).map(list) for n in range(1, 7)}
RECORDS = st.integers(1, 6).flatmap(ROWS_OF.__getitem__)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files of every example (each overwrites the last), removed with pytest's others."""
    return tmp_path_factory.mktemp("roundtrip")


def _validated(path: Path, profile_name: str) -> ValidatedTable:
    profile = load_profile(profile_name)
    upload = apply_profile(
        open_upload(path, text=text_options(profile)), profile, DICTIONARY, "NAT01"
    )
    return validate(upload, "records", known_services={"NAT01"}, upload_date=AS_OF)


def _typed(table: ValidatedTable) -> pl.DataFrame:
    return table.frame.select(RECORD_COLUMNS).sort(KEY)


def _stored(rows: list[dict[str, str]]) -> ValidatedTable:
    """The records as flsdb stores them: validated as the web's form and API send them (the
    same validation as a file's, without a CSV file read by DuckDB: about 40 of an example's
    250 CPU ms). The exported file is read back as uploads are, from a file."""
    return validate(
        rows_upload(rows, "own.csv"), "records", known_services={"NAT01"}, upload_date=AS_OF
    )


ROUND_TRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROUND_TRIP
@given(RECORDS, st.sampled_from(["fls-db", "flsdb"]))
def test_export_then_import_gives_the_records_back(
    folder: Path, rows: list[dict[str, str]], name: str
) -> None:
    stored = _stored(rows)
    assert stored.ok, stored.issues.errors()
    profile = load_profile(name)
    exported = export_frame(_typed(stored), profile, DICTIONARY)
    path = folder / "exported.csv"
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
    folder: Path, rows: list[dict[str, str]]
) -> None:
    stored = _stored(rows)
    profile = load_profile("fls-db")
    path = folder / "exported23.csv"
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
