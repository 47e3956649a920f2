"""In Debian's Chromium against `flsdb serve` (on SQLite: see the test): the page warns before the
session ends and "Stay signed in" extends it; a record form saved after the session ended is not
lost: after signing in again the same form comes back with what was typed, and saves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from flsdb.storage import open_engine
from flsdb.storage.tables import records, web_sessions
from tests.web.conftest import PASSWORD, _site_copy
from tests.web.live import screenshot, served

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def live(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Any, str]]:
    # The small site: a copy of the one built once per test process (not built again here).
    db_url = _site_copy(backend, tmp_path, request)
    engine = open_engine(db_url)
    # Sessions end after 2 minutes unused: the warning (2 minutes before) shows at once.
    monkeypatch.setenv("FLSDB_SESSION_IDLE_MINUTES", "2")
    try:
        with served(db_url, tmp_path) as base:
            yield base, engine, backend
    finally:
        engine.dispose()


def _sign_in(page: Any) -> None:
    page.get_by_label("User name").fill("nurse")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


# What this test checks happens in the browser (the warning's script, the form coming back), the
# same on either backend: it runs on SQLite. What the database does on the way (sessions ended,
# extended and the form kept for its user) is checked on both backends in-process
# (test_sessions.py) and in a browser by the other browser modules.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_form_saved_after_the_session_ended_comes_back(
    browser: Any,
    live: tuple[str, Any, str],
) -> None:
    base, engine, backend = live
    with engine.connect() as conn:
        record_id = conn.execute(
            select(records.c.id).where(records.c.service_code == "FLS01").limit(1)
        ).scalar_one()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/records/{record_id}")
    assert page.url.endswith(f"/login?next=/records/{record_id}")
    _sign_in(page)
    assert page.url.endswith(f"/records/{record_id}")  # back to the page asked for
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
            update(web_sessions).values(last_seen_at=dt.datetime.now() - dt.timedelta(hours=1))
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
