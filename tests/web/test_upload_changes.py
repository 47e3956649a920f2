"""Non-destructive uploads (issue 16): a blank cell or an absent column keeps the stored value
unless the upload asks `blank=clear`; the preview lists every field it would change; the commit
stores exactly what was previewed or is refused; previews expire and their reads are logged;
every earlier version of a record can be restored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from flsdb.services import event_writer
from flsdb.storage.tables import events, records, uploads
from tests.factory import nhs_number, record, write_csv, write_records
from tests.web.conftest import Site

KEY = {
    "service_code": "FLS01",
    "nhs_number": nhs_number(3),
    "date_fracture_diagnosed": "2024-07-01",
}
# The record's fields beside its key, as stored by the site (RECORDS[2] of the conftest).
STORED = {
    "date_of_birth": "1950-05-05",
    "sex": "female",
    "fracture_site": "wrist",
    "date_fls_assessment": "2024-07-20",
    "postcode": "SW1A 1AA",
    "followup_16w": "yes",
    "date_followup_16w": "2024-10-01",
}
FOLLOW_UP = {"followup_16w": "yes", "date_followup_16w": "2024-10-20"}


def _stored(site: Site) -> dict[str, Any]:
    with site.engine.connect() as conn:
        row = conn.execute(select(records).where(records.c.nhs_number == KEY["nhs_number"])).one()
    return dict(row._mapping)


def _upload(client: Any, path: Path, **params: str) -> dict[str, Any]:
    response = client.post(
        "/api/uploads", params=params, files={"file": (path.name, path.read_bytes(), "text/csv")}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _follow_up_file(tmp_path: Path, absent: bool) -> Path:
    """The record's key and its 16-week follow-up, the other columns blank or absent."""
    row = {**dict.fromkeys(record()), **KEY, **FOLLOW_UP}
    if absent:
        return write_csv(tmp_path / "follow-up.csv", [row], [*KEY, *FOLLOW_UP])
    return write_records(tmp_path / "follow-up.csv", [{k: v or "" for k, v in row.items()}])


def test_blank_cells_and_absent_columns_keep_stored_values(site: Site, tmp_path: Path) -> None:
    client = site.client("nurse")
    before = _stored(site)
    for absent in (False, True):
        preview = _upload(client, _follow_up_file(tmp_path, absent))
        assert preview["error_count"] == 0, preview["errors"]
        assert preview["blank"] == "keep"
        if before["version"] == _stored(site)["version"]:
            assert (preview["inserted"], preview["updated"], preview["unchanged"]) == (0, 1, 0)
            assert preview["changes"] == [
                {
                    "row": 2,
                    "id": before["id"],
                    "column": "date_followup_16w",
                    "before": "2024-10-01",
                    "after": "2024-10-20",
                }
            ]
            assert preview["changed_fields"] == {"date_followup_16w": 1}
            assert preview["changes_total"] == 1
        else:  # the second file changes nothing more
            assert (preview["updated"], preview["unchanged"], preview["changes"]) == (0, 1, [])
        done = client.post(f"/api/uploads/{preview['id']}/commit")
        assert done.status_code == 200, done.text
        after = _stored(site)
        assert after["date_followup_16w"] == dt.date(2024, 10, 20)
        assert after["date_fls_assessment"] == dt.date(2024, 7, 20)
        assert after["postcode"] == "SW1A 1AA"
        assert after["date_of_birth"] == dt.date(1950, 5, 5)
        assert after["fracture_site"] == "wrist"
    assert _stored(site)["version"] == before["version"] + 1


def test_blank_clear_clears_and_the_preview_says_so(site: Site, tmp_path: Path) -> None:
    client = site.client("nurse")
    stored = _stored(site)
    # Blank cells clear, so the follow-up file's blank required cells are errors.
    preview = _upload(client, _follow_up_file(tmp_path, absent=False), blank="clear")
    assert preview["blank"] == "clear"
    assert {e["column"] for e in preview["errors"]} == {"date_of_birth", "sex", "fracture_site"}
    # The file's blank cells clear the stored values (the required ones are in the file here).
    full = {**KEY, **STORED, **FOLLOW_UP, "date_fls_assessment": "", "postcode": ""}
    path = write_records(tmp_path / "clear.csv", [record(**full)])
    preview = _upload(client, path, blank="clear")
    assert preview["error_count"] == 0, preview["errors"]
    assert preview["changed_fields"] == {
        "postcode": 1,
        "date_fls_assessment": 1,
        "date_followup_16w": 1,
    }
    by_column = {c["column"]: (c["before"], c["after"]) for c in preview["changes"]}
    assert by_column == {
        "postcode": ("SW1A 1AA", None),
        "date_fls_assessment": ("2024-07-20", None),
        "date_followup_16w": ("2024-10-01", "2024-10-20"),
    }
    assert all(c["id"] == stored["id"] and c["row"] == 2 for c in preview["changes"])
    assert client.post(f"/api/uploads/{preview['id']}/commit").status_code == 200
    after = _stored(site)
    assert after["postcode"] is None and after["date_fls_assessment"] is None
    # With blank=clear a file without the required columns is refused, as before.
    refused = _upload(client, _follow_up_file(tmp_path, absent=True), blank="clear")
    assert refused["error_count"] > 0
    bad = client.post(
        "/api/uploads",
        params={"blank": "wipe"},
        files={"file": ("f.csv", b"service_code\nFLS01\n", "text/csv")},
    )
    assert bad.status_code == 422 and "keep" in bad.json()["detail"]


def test_a_new_record_still_needs_its_required_fields(site: Site, tmp_path: Path) -> None:
    client = site.client("nurse")
    row = {**KEY, "nhs_number": nhs_number(40), **FOLLOW_UP}
    preview = _upload(client, write_csv(tmp_path / "new.csv", [row], list(row)))
    assert preview["error_count"] == 3
    messages = {e["column"]: e["message"] for e in preview["errors"]}
    assert set(messages) == {"date_of_birth", "sex", "fracture_site"}
    assert "required for a new record" in messages["sex"]


def test_normalised_values_are_warnings(site: Site, tmp_path: Path) -> None:
    client = site.client("nurse")
    row = record(
        nhs_number=nhs_number(41),
        date_fracture_diagnosed="2024-07-01",
        fracture_site="Hip",
        date_of_birth="05/05/50",
    )
    preview = _upload(client, write_records(tmp_path / "n.csv", [row]))
    assert preview["error_count"] == 0, preview["errors"]
    found = {w["column"]: w["message"] for w in preview["warnings"]}
    # Issue 20: an answer in words (Hip, Not known) in any case is the answer, not a warning.
    assert "fracture_site" not in found
    assert found["date_of_birth"] == (
        "Date of birth: '05/05/50' read as 5 May 1950 (a two-digit year): please check the century"
    )


def test_commit_is_refused_when_a_record_changed_since_the_preview(
    site: Site, tmp_path: Path
) -> None:
    client = site.client("nurse")
    preview = _upload(client, _follow_up_file(tmp_path, absent=True))
    stored = _stored(site)
    current = client.get(f"/api/records/{stored['id']}").json()
    edited = client.put(
        f"/api/records/{stored['id']}", json={**current, "care_home_resident": "no"}
    )
    assert edited.status_code == 200, edited.text
    refused = client.post(f"/api/uploads/{preview['id']}/commit")
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert f"row 2 (record {stored['id']}, version 1 then, 2 now)" in detail
    assert KEY["nhs_number"] not in detail
    after = _stored(site)
    assert after["date_followup_16w"] == dt.date(2024, 10, 1) and after["version"] == 2
    assert after["care_home_resident"] == "no"


def test_restore_version_one_after_two_edits(site: Site) -> None:
    client = site.client("nurse")
    rid = _stored(site)["id"]
    first = client.get(f"/api/records/{rid}").json()
    second = client.put(f"/api/records/{rid}", json={**first, "postcode": "M1 1AE"}).json()
    third = client.put(f"/api/records/{rid}", json={**second, "sex": "male"}).json()
    assert third["version"] == 3
    restored = client.post(f"/api/records/{rid}/restore", json={"version": 1})
    assert restored.status_code == 200, restored.text
    body = restored.json()
    assert body["version"] == 4
    assert {k: v for k, v in body.items() if k != "version"} == {
        k: v for k, v in first.items() if k != "version"
    }
    history = client.get(f"/api/records/{rid}/history").json()
    assert [h["action"] for h in history][-1] == "restore"
    assert history[-1]["after"]["postcode"] == "SW1A 1AA" and history[-1]["user"] == "nurse"
    assert [h["version"] for h in history] == [1, 2, 3, 4]
    # A stale expected version is 409; a version that never was is 404; the current one 409.
    stale = client.post(f"/api/records/{rid}/restore", json={"version": 2, "expected_version": 3})
    assert stale.status_code == 409
    assert client.post(f"/api/records/{rid}/restore", json={"version": 9}).status_code == 404
    assert client.post(f"/api/records/{rid}/restore", json={"version": 4}).status_code == 409
    # Another FLS's staff cannot see it, so cannot restore it.
    other = site.client("nurse2").post(f"/api/records/{rid}/restore", json={"version": 2})
    assert other.status_code == 404


def test_restore_of_an_imported_version(site: Site, tmp_path: Path) -> None:
    """Versions made by uploads are restorable too (their audit rows hold the fields)."""
    client = site.client("nurse")
    rid = _stored(site)["id"]
    preview = _upload(client, _follow_up_file(tmp_path, absent=True))
    assert client.post(f"/api/uploads/{preview['id']}/commit").status_code == 200
    restored = client.post(f"/api/records/{rid}/restore", json={"version": 1})
    assert restored.status_code == 200, restored.text
    assert restored.json()["date_followup_16w"] == "2024-10-01"
    assert restored.json()["version"] == 3


def test_previews_expire_and_their_reads_are_logged(site: Site, tmp_path: Path) -> None:
    client = site.client("nurse")
    preview = _upload(client, _follow_up_file(tmp_path, absent=True))
    upload_id = preview["id"]
    assert client.get(f"/api/uploads/{upload_id}").status_code == 200
    assert client.get(f"/api/uploads/{upload_id}/errors.csv").status_code == 200
    event_writer.flush_all()  # the reads' events are written after their answers
    with site.engine.connect() as conn:
        reads = conn.execute(
            select(events.c.user_name, events.c.detail).where(events.c.action == "read_upload")
        ).all()
    assert [r.user_name for r in reads] == ["nurse", "nurse"]
    assert all(KEY["nhs_number"] not in (r.detail or "") for r in reads)
    # 25 hours later (the clock moved by ageing the preview), it is gone with its content.
    with site.engine.begin() as conn:
        conn.execute(
            update(uploads)
            .where(uploads.c.id == upload_id)
            .values(created_at=dt.datetime.now() - dt.timedelta(hours=25))
        )
    gone = client.get(f"/api/uploads/{upload_id}")
    assert gone.status_code == 404 and "expired" in gone.json()["detail"]
    assert client.post(f"/api/uploads/{upload_id}/commit").status_code == 404
    assert client.get(f"/api/uploads/{upload_id}/errors.csv").status_code == 404
    with site.engine.connect() as conn:
        row = conn.execute(select(uploads).where(uploads.c.id == upload_id)).one()
    assert (row.content, row.errors_csv, row.changes, row.status) == (None, None, None, "expired")
    assert KEY["nhs_number"] not in row.summary and "2024-10-20" not in row.summary


def test_committed_content_is_dropped_at_once(site: Site, tmp_path: Path) -> None:
    client = site.client("nurse")
    preview = _upload(client, _follow_up_file(tmp_path, absent=True))
    with site.engine.connect() as conn:
        row = conn.execute(select(uploads).where(uploads.c.id == preview["id"])).one()
    assert row.content is not None and row.changes is not None
    assert client.post(f"/api/uploads/{preview['id']}/commit").status_code == 200
    with site.engine.connect() as conn:
        row = conn.execute(select(uploads).where(uploads.c.id == preview["id"])).one()
    assert (row.content, row.changes, row.status) == (None, None, "committed")


def test_changes_are_paged(site: Site, tmp_path: Path) -> None:
    client = site.client("nurse")
    rows = [
        record(nhs_number=nhs_number(1), date_fracture_diagnosed="2024-03-01", postcode="M1 1AE"),
        record(nhs_number=nhs_number(2), date_fracture_diagnosed="2024-05-01", postcode="M1 1AE"),
    ]
    preview = _upload(client, write_records(tmp_path / "two.csv", rows))
    assert preview["changes_total"] == 2 and preview["changed_fields"] == {"postcode": 2}
    page = client.get(f"/api/uploads/{preview['id']}", params={"offset": 1, "limit": 1}).json()
    assert [c["row"] for c in page["changes"]] == [3]
    assert page["changes"][0]["after"] == "M1 1AE" and page["changes_total"] == 2


def test_rules_across_fields_see_the_stored_values(site: Site, tmp_path: Path) -> None:
    """A row checked against the record as it would be stored: its blank 16-week date is the
    stored one (so 'yes' is fine), and a 52-week date before that stored date is an error."""
    client = site.client("nurse")
    row = {**KEY, "followup_16w": "yes", "followup_52w": "yes", "date_followup_52w": "2024-09-01"}
    preview = _upload(client, write_csv(tmp_path / "f52.csv", [row], list(row)))
    assert [(e["column"], e["message"]) for e in preview["errors"]] == [
        (
            "date_followup_52w",
            "Date of 52-week follow-up is before Date of 16-week follow-up (1 Oct 2024)",
        )
    ]
    row["date_followup_52w"] = "2025-06-20"
    preview = _upload(client, write_csv(tmp_path / "f52.csv", [row], list(row)))
    assert preview["error_count"] == 0, preview["errors"]
    assert preview["changed_fields"] == {"followup_52w": 1, "date_followup_52w": 1}


def test_commit_is_refused_when_a_new_records_key_was_stored_since(
    site: Site, tmp_path: Path
) -> None:
    client = site.client("nurse")
    new = record(nhs_number=nhs_number(42), date_fracture_diagnosed="2024-07-01")
    preview = _upload(client, write_records(tmp_path / "new.csv", [new]))
    assert preview["inserted"] == 1 and preview["changes"] == []
    created = client.post("/api/records", json={k: v or None for k, v in new.items()})
    assert created.status_code == 201, created.text
    refused = client.post(f"/api/uploads/{preview['id']}/commit")
    assert refused.status_code == 409
    assert f"row 2 (record {created.json()['id']}, stored since)" in refused.json()["detail"]
    with site.engine.connect() as conn:
        count = conn.execute(
            select(records.c.id).where(records.c.nhs_number == nhs_number(42))
        ).all()
    assert len(count) == 1


def test_a_national_export_with_blank_cells_keeps_stored_values(site: Site, tmp_path: Path) -> None:
    """The FLS-DB profile's path: a re-exported row with the assessment blank keeps it."""
    from tests.profiles.national import national_csv, national_row

    client = site.client("nurse")
    full = record(
        nhs_number=nhs_number(43),
        date_fracture_diagnosed="2024-07-01",
        date_fls_assessment="2024-07-20",
        dxa="performed",
        date_dxa="2024-08-01",
    )
    follow = {
        **full,
        "date_fls_assessment": "",
        "dxa": "",
        "date_dxa": "",
        **FOLLOW_UP,
    }
    params = {"profile": "fls-db", "service": "FLS01"}
    for name, row in (("full.csv", full), ("follow.csv", follow)):
        path = national_csv(tmp_path / name, [national_row(row)])
        preview = _upload(client, path, **params)
        assert preview["error_count"] == 0, preview["errors"]
        assert client.post(f"/api/uploads/{preview['id']}/commit").status_code == 200
    assert preview["changed_fields"] == {"followup_16w": 1, "date_followup_16w": 1}
    found = client.get("/api/records", params={"fracture_from": "2024-07-01"}).json()
    stored = next(r for r in found["records"] if r["nhs_number"] == nhs_number(43))
    assert (stored["date_fls_assessment"], stored["dxa"], stored["date_dxa"]) == (
        "2024-07-20",
        "performed",
        "2024-08-01",
    )
    assert stored["date_followup_16w"] == "2024-10-20"


def test_restore_of_a_locked_record_is_refused(site: Site) -> None:
    from flsdb.storage.tables import period_locks

    client = site.client("nurse")
    rid = _stored(site)["id"]
    first = client.get(f"/api/records/{rid}").json()
    assert client.put(f"/api/records/{rid}", json={**first, "sex": "male"}).status_code == 200
    with site.engine.begin() as conn:
        conn.execute(
            period_locks.insert().values(
                kind="lock",
                service_code=None,
                period="2024",
                start_date=dt.date(2024, 1, 1),
                end_date=dt.date(2024, 12, 31),
                user_name="analyst",
                locked_at=dt.datetime(2026, 2, 1, 9, 0),
            )
        )
    refused = client.post(f"/api/records/{rid}/restore", json={"version": 1})
    assert refused.status_code == 423 and "locked" in refused.json()["detail"]
    assert _stored(site)["sex"] == "male" and _stored(site)["version"] == 2
