"""In Debian's Chromium against `flsdb serve` (on SQLite: see the test): the page warns before the
session ends and "Stay signed in" extends it; a record form saved after the session ended is not
lost: after signing in again the same form comes back with what was typed, and saves.

On the server the browser modules share (tests/web/conftest.py `live`), with its sessions' usual
idle limit: the test's session is made to have a minute and a half left (its last use moved back
in the database) and the page's clock moved on to when the page looks again, instead of a server
of its own started with a 2-minute limit (about 7 s of processor time: the server, its figures
worker and their imports). The record it saves is put back after it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from flsdb.storage.tables import records, users, web_sessions
from tests.web.conftest import PASSWORD
from tests.web.live import screenshot

# The record's fields the test changes, put back after it.
CHANGED = ("date_fls_assessment", "dxa", "date_dxa")

playwright_api = pytest.importorskip("playwright.sync_api")


def _sign_in(page: Any) -> None:
    page.get_by_label("User name").fill("nurse")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


# What this test checks happens in the browser (the warning's script, the form coming back), the
# same on either backend: it runs on SQLite. What the database does on the way (sessions ended,
# extended and the form kept for its user) is checked on both backends in-process
# (test_sessions.py) and in a browser by the other browser modules.
@pytest.mark.parametrize("served_site", ["sqlite"], indirect=True)
def test_a_form_saved_after_the_session_ended_comes_back(
    browser: Any,
    live: tuple[str, Any, str],
) -> None:
    base, engine, backend = live
    with engine.connect() as conn:
        record_id = conn.execute(
            select(records.c.id).where(records.c.service_code == "FLS01").limit(1)
        ).scalar_one()
        before = conn.execute(
            select(*(records.c[name] for name in CHANGED)).where(records.c.id == record_id)
        ).one()
    original = {
        name: value.isoformat() if isinstance(value, dt.date) else value
        for name, value in zip(CHANGED, before, strict=True)
    }
    try:
        _session_ends_and_the_form_comes_back(browser, base, engine, backend, record_id)
    finally:
        _put_back(base, record_id, original)


def _session(engine: Any) -> Any:
    """The newest session of the nurse (the one the test's window just signed in to)."""
    return (
        web_sessions.c.id_sha256
        == select(web_sessions.c.id_sha256)
        .join(users, users.c.id == web_sessions.c.user_id)
        .where(users.c.username == "nurse")
        .order_by(web_sessions.c.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )


def _session_ends_and_the_form_comes_back(
    browser: Any, base: str, engine: Any, backend: str, record_id: int
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.clock.install()  # the page's timers, moved on below
    page.goto(f"{base}/records/{record_id}")
    assert page.url.endswith(f"/login?next=/records/{record_id}")
    _sign_in(page)
    assert page.url.endswith(f"/records/{record_id}")  # back to the page asked for
    # The page looks again 2 minutes before the end it was told; by then (its last use moved
    # back) the session has a minute and a half left.
    left = page.request.get(f"{base}/api/session").json()["seconds"]  # (asking does not extend)
    assert left > 300
    with engine.begin() as conn:
        where = _session(engine)
        last_seen = conn.execute(select(web_sessions.c.last_seen_at).where(where)).scalar_one()
        moved = last_seen - dt.timedelta(seconds=left - 90)
        conn.execute(update(web_sessions).where(where).values(last_seen_at=moved))
    page.clock.fast_forward((left - 120 + 1) * 1000)
    warning = page.locator("#session-warning")
    warning.wait_for(state="visible")
    assert "unless you stay signed in" in warning.inner_text()
    with page.expect_response(
        lambda r: r.url.endswith("/api/session") and r.request.method == "POST"
    ) as extended:
        warning.get_by_role("button", name="Stay signed in").click()
    assert extended.value.status == 200 and extended.value.json()["seconds"] > 100
    page.fill("#f-date_fls_assessment", "2024-03-20")
    page.select_option("#f-dxa", "performed")
    page.fill("#f-date_dxa", "2024-04-02")
    # The session ends (as if left unused past its limit) while the form is open.
    with engine.begin() as conn:
        conn.execute(
            update(web_sessions)
            .where(_session(engine))
            .values(last_seen_at=dt.datetime.now() - dt.timedelta(hours=1))
        )
    page.get_by_role("button", name="Save record").click()
    page.wait_for_load_state()
    assert "/login" in page.url
    assert "comes back as you typed it" in page.content()
    screenshot(page, backend, "session-ended")
    _sign_in(page)
    assert page.url.endswith(f"/records/{record_id}")
    assert page.input_value("#f-date_fls_assessment") == "20/03/2024"  # typed as DD/MM/YYYY
    assert page.input_value("#f-dxa") == "performed"
    assert page.input_value("#f-date_dxa") == "02/04/2024"
    assert "here is what you typed" in page.content()
    screenshot(page, backend, "session-form-back")
    page.get_by_role("button", name="Save record").click()
    page.wait_for_load_state()
    assert "Saved." in page.content()
    with engine.connect() as conn:
        saved = conn.execute(
            select(records.c.date_fls_assessment, records.c.date_dxa).where(
                records.c.id == record_id
            )
        ).one()
    assert (str(saved[0]), str(saved[1])) == ("2024-03-20", "2024-04-02")
    context.close()


def _put_back(base: str, record_id: int, original: dict[str, Any]) -> None:
    """The record's changed fields as they were (a later version, saved by its nurse through the
    API), as the other browser tests expect the small site."""
    with httpx.Client(base_url=base, timeout=60) as client:
        signed = client.post("/api/login", json={"username": "nurse", "password": PASSWORD})
        client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
        stored = client.get(f"/api/records/{record_id}").json()
        if all(stored[name] == value for name, value in original.items()):
            return
        body = {**stored, **original}
        del body["id"]
        saved = client.put(f"/api/records/{record_id}", json=body)
        assert saved.status_code == 200, saved.text
        again = client.get(f"/api/records/{record_id}").json()
        assert {name: again[name] for name in original} == original
