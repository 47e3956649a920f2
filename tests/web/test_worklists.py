"""Worklists on hand-placed fractures: due in the next 14 days, overdue while the window is open,
closed windows left out, and an entry gone once its follow-up is recorded."""

from __future__ import annotations

import datetime as dt

from tests.factory import nhs_number, record
from tests.web.conftest import Site

TODAY = dt.date.today()


def _add(site: Site, seed: int, days_ago: int, **extra: str) -> int:
    fracture = (TODAY - dt.timedelta(days=days_ago)).isoformat()
    # Recommended a drug: the patients the follow-up lists hold by default (issue 20).
    extra = {"bone_therapy_recommended": "alendronate", **extra}
    row = record(
        service_code="FLS01", nhs_number=nhs_number(seed), date_fracture_diagnosed=fracture, **extra
    )
    response = site.client("nurse").post(
        "/api/records", json={k: v or None for k, v in row.items()}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _ids(site: Site, name: str) -> dict[int, int]:
    found = site.client("nurse").get("/api/worklists/FLS01", params={"list": name}).json()
    assert found["total"] == len(found["rows"])
    return (
        {r["id"]: r["days_to_due"] for r in found["rows"]}
        if name != "missing_fields"
        else {r["id"]: 0 for r in found["rows"]}
    )


def test_worklists_by_hand(site: Site) -> None:
    due16 = _add(site, 201, 105)  # due at 112 days: in 7 days
    edge16 = _add(site, 202, 98)  # due in exactly 14 days: listed
    early16 = _add(site, 203, 97)  # due in 15 days: not yet
    over16 = _add(site, 204, 120)  # 8 days overdue, window open to 140
    closed16 = _add(site, 205, 141)  # window closed
    due52 = _add(site, 206, 385)  # due at 392 days: in 7 days
    over52 = _add(site, 207, 400)  # 8 days overdue, window open to 448
    assert _ids(site, "due_16w") == {due16: 7, edge16: 14}
    assert _ids(site, "overdue_16w") == {over16: -8}
    assert _ids(site, "due_52w") == {due52: 7}
    assert _ids(site, "overdue_52w") == {over52: -8}
    listed = set().union(
        *[_ids(site, n) for n in ("due_16w", "overdue_16w", "due_52w", "overdue_52w")]
    )
    assert early16 not in listed and closed16 not in listed
    assert {due16, over52} <= set(_ids(site, "missing_fields"))


def test_recording_the_follow_up_takes_the_patient_off_the_list(site: Site) -> None:
    record_id = _add(site, 210, 120)
    assert record_id in _ids(site, "overdue_16w")
    nurse = site.client("nurse")
    current = nurse.get(f"/api/records/{record_id}").json()
    followed = (TODAY - dt.timedelta(days=2)).isoformat()
    saved = nurse.put(
        f"/api/records/{record_id}",
        json={**current, "followup_16w": "yes", "date_followup_16w": followed},
    )
    assert saved.status_code == 200, saved.text
    assert record_id not in _ids(site, "overdue_16w")


def test_worklist_page_and_csv(site: Site) -> None:
    record_id = _add(site, 220, 105)
    nurse = site.client("nurse")
    page = nurse.get("/fls/FLS01/worklist", params={"list": "due_16w"})
    assert page.status_code == 200 and f"/records/{record_id}" in page.text and "in 7" in page.text
    csv = nurse.get("/api/worklists/FLS01", params={"list": "due_16w", "format": "csv"})
    assert csv.status_code == 200 and nhs_number(220) in csv.text
    events = site.client("admin").get("/api/audit", params={"action": "export_worklist"}).json()
    assert events["total"] == 1
    assert site.client("nurse2").get("/fls/FLS01/worklist").status_code == 404
    assert site.client("viewer").get("/fls/FLS01/worklist").status_code == 403


def test_days_in_words() -> None:
    from flsdb.web.pages_worklist import days_words

    assert [days_words(d) for d in (0, 1, 3, -1, -5)] == [
        "today",
        "in 1 day",
        "in 3 days",
        "1 day overdue",
        "5 days overdue",
    ]


def test_a_reason_takes_the_patient_off_and_is_counted(site: Site) -> None:
    """declined, unable to contact, died, moved away: off the overdue list, counted as such; a
    bare "no" stays on it. By default only patients recommended a drug are listed."""
    nurse = site.client("nurse")
    ids = {reason: _add(site, 230 + i, 120) for i, reason in enumerate(("declined", "died"))}
    bare_no = _add(site, 240, 121, followup_16w="no")
    gp = _add(site, 241, 122, bone_therapy_recommended="referred_to_gp")
    for reason, record_id in ids.items():
        current = nurse.get(f"/api/records/{record_id}").json()
        saved = nurse.put(f"/api/records/{record_id}", json={**current, "followup_16w": reason})
        assert saved.status_code == 200, saved.text
    assert set(_ids(site, "overdue_16w")) == {bare_no}
    everyone = nurse.get(
        "/api/worklists/FLS01", params={"list": "overdue_16w", "everyone": "true"}
    ).json()
    assert {r["id"] for r in everyone["rows"]} == {bare_no, gp} and everyone["total"] == 2
    row = everyone["rows"][0]
    assert row["age"] == TODAY.year - 1950 - ((TODAY.month, TODAY.day) < (5, 5))
    page = nurse.get("/fls/FLS01/worklist", params={"list": "overdue_16w"})
    assert "1 patient recommended bone therapy" in page.text
    assert "Not listed: 2 patients whose follow-up was not done for a recorded reason" in page.text
    assert "declined 1, died 1" in page.text
    assert "days overdue" in page.text and ">female<" in page.text
    listed = nurse.get("/fls/FLS01/worklist", params={"list": "overdue_16w", "everyone": "1"})
    assert "2 patients" in listed.text and nhs_number(241) in listed.text


def test_missing_fields_named_and_paged_with_the_true_total(site: Site) -> None:
    """Only blank fields that apply count; "not known" and a blank assessment date do not."""
    full = {
        k: "not_known"
        for k in (
            "care_home_resident",
            "admitted_to_hospital",
            "fracture_type",
            "previous_fracture",
            "bone_therapy_at_presentation",
            "dxa",
            "calcium_vitamin_d_recommended",
            "falls_assessment",
            "fallen_past_12_months",
            "strength_balance_referred",
        )
    }
    answered = _add(site, 250, 30, **full)  # not due at 16 weeks; assessment date blank
    one_gap = _add(site, 251, 200, **{**full, "followup_16w": "declined"})  # 52w not due
    lacking = _add(site, 252, 400, **{**full, "dxa": ""})  # dxa, both follow-ups blank
    nurse = site.client("nurse")
    found = nurse.get("/api/worklists/FLS01", params={"list": "missing_fields", "limit": 500})
    rows = {r["id"]: r for r in found.json()["rows"]}
    assert answered not in rows and one_gap not in rows
    gaps = ["DXA scan", "Follow-up at 16 weeks", "Follow-up at 52 weeks"]
    assert rows[lacking]["missing"] == gaps
    total = found.json()["total"]
    # The small site's records (blank fields, no assessment) and this test's: paged through all.
    first = nurse.get("/api/worklists/FLS01", params={"list": "missing_fields", "limit": 2})
    assert first.json()["total"] == total and len(first.json()["rows"]) == 2
    counts = [len(r["missing"]) for r in found.json()["rows"]]
    assert counts == sorted(counts, reverse=True)  # most missing first
    csv = nurse.get("/api/worklists/FLS01", params={"list": "missing_fields", "format": "csv"})
    assert csv.text.count("\n") == total + 1
    assert "DXA scan; Follow-up at 16 weeks; Follow-up at 52 weeks" in csv.text
    page = nurse.get("/fls/FLS01/worklist", params={"list": "missing_fields", "page": "999"})
    assert "There is no page 999 of this list: it has 1 page. Here is page 1." in page.text


def test_short_follow_up_form_save_and_next(site: Site) -> None:
    first = _add(site, 260, 125)
    second = _add(site, 261, 121)
    nurse = site.client("nurse")
    where = {"list": "overdue_16w", "everyone": "1"}
    form = nurse.get(f"/records/{first}/followup", params=where)
    assert form.status_code == 200
    assert "Follow-up at 16 weeks" in form.text and "The index fracture" in form.text
    assert 'name="followup_16w"' in form.text and 'name="sex"' not in form.text
    assert "/fls/FLS01/worklist?list=overdue_16w&amp;everyone=1" in form.text  # the way back
    version = nurse.get(f"/api/records/{first}").json()["version"]
    saved = nurse.post(
        f"/records/{first}/followup",
        params=where,
        data={"version": str(version), "followup_16w": "unable_to_contact", "then": "next"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == (
        f"/records/{second}/followup?list=overdue_16w&everyone=1&saved=next"
    )
    stored = nurse.get(f"/api/records/{first}").json()
    assert stored["followup_16w"] == "unable_to_contact" and stored["sex"] == "female"
    assert first not in _ids(site, "overdue_16w")
    version = nurse.get(f"/api/records/{second}").json()["version"]
    followed = (TODAY - dt.timedelta(days=1)).isoformat()
    last = nurse.post(
        f"/records/{second}/followup",
        params=where,
        data={
            "version": str(version),
            "followup_16w": "yes",
            "date_followup_16w": followed,
            "then": "next",
        },
        follow_redirects=False,
    )
    # The small site's records are long past their windows: this was the last on the list.
    assert last.headers["location"] == "/fls/FLS01/worklist?list=overdue_16w&everyone=1&done=1"
    refused = nurse.post(
        f"/records/{second}/followup",
        params=where,
        data={"version": str(version + 1), "followup_16w": "yes", "then": "stay"},
    )
    assert refused.status_code == 422 and "The follow-up was not saved" in refused.text
