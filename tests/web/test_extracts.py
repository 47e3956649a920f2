"""Pseudonymised extracts: for national analysts only, no NHS number, date of birth or postcode
in them, a keyed pseudonym that is the same for the same patient, and a refusal without a key."""

from __future__ import annotations

import hashlib
import hmac
import io
from pathlib import Path

import polars as pl
import pytest

from tests.command import flsdb_here as flsdb
from tests.factory import nhs_number
from tests.web.conftest import RECORDS, Site

KEY = "a secret key that is long enough to use"


def _identifiers() -> set[str]:
    values = set()
    for row in RECORDS:
        values |= {row["nhs_number"], row["date_of_birth"], row["postcode"].upper()} - {""}
    return values


def test_analyst_downloads_an_extract_without_identifiers(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLSDB_PSEUDONYM_KEY", KEY)
    analyst = site.client("analyst")
    response = analyst.get("/api/extracts/pseudonymised", params={"period": "2024"})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    text = response.text
    for value in _identifiers() | {KEY}:
        assert value not in text
    frame = pl.read_csv(io.StringIO(text))
    assert frame.height == len(RECORDS)
    assert {"nhs_number", "date_of_birth", "postcode", "date_fracture_diagnosed"}.isdisjoint(
        frame.columns
    )
    expected = hmac.new(KEY.encode(), nhs_number(3).encode(), hashlib.sha256).hexdigest()
    row = frame.filter(pl.col("pseudonym") == expected)
    assert row.height == 1
    assert row["fracture_month"][0] == "2024-07" and row["age_band"][0] == "65-74"
    assert row["postcode_district"][0] == "SW1A" and "SW1A 1AA" not in text
    assert row["date_fls_assessment_days"][0] == 19 and row["date_followup_16w_days"][0] == 92
    parquet = analyst.get(
        "/api/extracts/pseudonymised", params={"period": "2024", "format": "parquet"}
    )
    assert pl.read_parquet(io.BytesIO(parquet.content)).equals(
        frame.cast(pl.read_parquet(io.BytesIO(parquet.content)).schema)
    )
    events = (
        site.client("admin").get("/api/audit", params={"action": "export_pseudonymised"}).json()
    )
    assert events["total"] == 2 and events["events"][0]["user_name"] == "analyst"


def test_extract_refusals(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLSDB_PSEUDONYM_KEY", raising=False)
    refused = site.client("analyst").get("/api/extracts/pseudonymised", params={"period": "2024"})
    assert refused.status_code == 422 and "secret key" in refused.json()["detail"]
    monkeypatch.setenv("FLSDB_PSEUDONYM_KEY", KEY)
    for name in ("nurse", "viewer", "admin"):
        assert (
            site.client(name)
            .get("/api/extracts/pseudonymised", params={"period": "2024"})
            .status_code
            == 403
        )


def test_extract_command(site: Site, tmp_path: Path) -> None:
    if not site.url.startswith("sqlite"):
        pytest.skip("the command is tested once; the API runs on both stores")
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY)
    out = tmp_path / "extract.parquet"
    done = flsdb(
        "extract",
        "--pseudonymised",
        "--period",
        "2024",
        "--out",
        str(out),
        "--key-file",
        str(key_file),
        "--db",
        site.url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    frame = pl.read_parquet(out)
    assert frame.height == len(RECORDS) and "pseudonym" in frame.columns
    assert not _identifiers() & {
        str(v) for column in frame.columns for v in frame[column].to_list()
    }
    refused = flsdb(
        "extract",
        "--pseudonymised",
        "--period",
        "2024",
        "--out",
        str(tmp_path / "x.csv"),
        "--db",
        site.url,
        cwd=tmp_path,
        env={"FLSDB_PSEUDONYM_KEY": ""},
    )
    assert (
        refused.returncode != 0
        and "secret key" in refused.stderr
        and "Traceback" not in refused.stderr
    )
    assert not (tmp_path / "x.csv").exists()
