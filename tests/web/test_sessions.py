"""Credentials with a life-cycle, on SQLite and PostgreSQL: API tokens expire, are revoked one by
one or all at once, and are revoked by a password reset, a role change and disabling (enabling
revives none); sessions end after 30 minutes unused (use extends them) and 12 hours at most;
sign-in returns to the page asked for (local paths only); signing in again in another tab keeps
the forms of the first working; and a form saved after its session ended comes back filled in
after signing in again. The clock is moved, not waited for."""

from __future__ import annotations

import datetime as dt
import re
import threading
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from flsdb.services import accounts
from flsdb.services.access import Role
from flsdb.storage.tables import api_tokens, kept_forms
from flsdb.web import auth
from tests.web.conftest import PASSWORD, Site


class Clock:
    """The accounts' clock, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = dt.datetime.now()
        monkeypatch.setattr(accounts, "_now", lambda: self.now)

    def forward(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def _bearer(site: Site, token: str) -> int:
    client = TestClient(site.app)
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_tokens_expire_and_record_their_last_use(site: Site, clock: Clock) -> None:
    short = accounts.new_token(site.engine, "nurse", days=1)
    usual = accounts.new_token(site.engine, "nurse")
    assert _bearer(site, short) == _bearer(site, usual) == 200
    listed = accounts.list_tokens(site.engine, "nurse")
    assert [t["expires"] - t["created"] for t in listed] == [
        dt.timedelta(days=1),
        dt.timedelta(days=90),
    ]
    first_use = listed[0]["last_used"]
    assert first_use == clock.now
    clock.forward(seconds=30)
    assert _bearer(site, short) == 200
    assert accounts.list_tokens(site.engine, "nurse")[0]["last_used"] == first_use  # not yet
    clock.forward(minutes=2)
    assert _bearer(site, short) == 200
    assert accounts.list_tokens(site.engine, "nurse")[0]["last_used"] == clock.now
    clock.forward(days=1)
    assert _bearer(site, short) == 401 and _bearer(site, usual) == 200
    assert accounts.list_tokens(site.engine, "nurse")[0]["expired"] is True
    clock.forward(days=89)
    assert _bearer(site, usual) == 401
    from flsdb.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="1 to 3650 days"):
        accounts.new_token(site.engine, "nurse", days=0)


def test_tokens_are_revoked_one_by_one_or_all(site: Site) -> None:
    tokens = [accounts.new_token(site.engine, "nurse") for _ in range(3)]
    ids = [t["id"] for t in accounts.list_tokens(site.engine, "nurse")]
    assert accounts.revoke_tokens(site.engine, "nurse", ids[1]) == 1
    assert [_bearer(site, t) for t in tokens] == [200, 401, 200]
    from flsdb.errors import NotFound

    with pytest.raises(NotFound, match="has no token"):
        accounts.revoke_tokens(site.engine, "nurse2", ids[0])  # not nurse2's
    assert accounts.revoke_tokens(site.engine, "nurse") == 2
    assert [_bearer(site, t) for t in tokens] == [401, 401, 401]


@pytest.mark.parametrize("change", ["reset-password", "set-role", "disable"])
def test_account_changes_revoke_every_token_and_enable_revives_none(
    site: Site, change: str
) -> None:
    token = accounts.new_token(site.engine, "nurse")
    session = site.client("nurse")
    assert _bearer(site, token) == 200 and session.get("/api/me").status_code == 200
    if change == "reset-password":
        accounts.reset_password(site.engine, "nurse", "a brand new password")
    elif change == "set-role":
        accounts.set_role(site.engine, "nurse", Role.FLS_STAFF, service_codes=["FLS02"])
    else:
        accounts.set_disabled(site.engine, "nurse", True)
        accounts.set_disabled(site.engine, "nurse", False)
    assert _bearer(site, token) == 401
    assert session.get("/api/me").status_code == 401
    assert accounts.list_tokens(site.engine, "nurse") == []
    with site.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(api_tokens)).scalar_one() == 0


def test_a_session_ends_unused_and_at_its_absolute_limit(site: Site, clock: Clock) -> None:
    client = site.client("nurse")
    clock.forward(minutes=20)
    assert client.get("/api/session").json() == {"seconds": 10 * 60}  # asking is not using
    assert client.get("/api/me").status_code == 200  # using it: 30 minutes from now
    clock.forward(minutes=25)
    assert client.get("/api/me").status_code == 200
    page = client.get("/records")
    assert re.search(r'id="session-warning"[^>]* data-seconds="1800"', page.text)
    clock.forward(minutes=29)
    assert client.post("/api/session").json() == {"seconds": 30 * 60}  # stay signed in
    clock.forward(minutes=29)
    assert client.get("/api/me").status_code == 200
    clock.forward(minutes=31)
    assert client.get("/api/me").status_code == 401  # 31 minutes unused
    # However busy, a session lasts 12 hours.
    busy = site.client("nurse")
    for _ in range(35):  # 11 h 40 min, used every 20 minutes
        clock.forward(minutes=20)
        assert busy.get("/api/me").status_code == 200
    clock.forward(minutes=10)
    assert busy.get("/api/session").json() == {"seconds": 10 * 60}
    clock.forward(minutes=11)
    assert busy.get("/api/me").status_code == 401


class _RecordForm(HTMLParser):
    """The fields the record form would post, as a browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.select: str | None = None
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("class") == "record"
        elif self.inside and tag == "input" and a.get("name"):
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields.append((a["name"], a.get("value", "")))
        elif self.inside and tag == "select":
            self.select = a.get("name")
        elif self.inside and tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def _form(html: str, **changes: str) -> dict[str, Any]:
    parser = _RecordForm()
    parser.feed(html)
    values: dict[str, Any] = {}
    for name, value in parser.fields:
        values.setdefault(name, []).append(value)
    values.update(changes)
    return values


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _page_login(client: TestClient, name: str = "nurse", **extra: str) -> Any:
    return client.post(
        "/login",
        data={"username": name, "password": PASSWORD, **extra},
        follow_redirects=False,
    )


def test_sign_in_returns_to_the_page_asked_for_and_only_on_this_site(site: Site) -> None:
    client = TestClient(site.app)
    record_id = site.record_id("FLS01")
    asked = client.get(f"/records/{record_id}/history", follow_redirects=False)
    assert asked.headers["location"] == f"/login?next=/records/{record_id}/history"
    form = client.get(asked.headers["location"])
    assert f'name="next" value="/records/{record_id}/history"' in form.text
    done = _page_login(client, next=f"/records/{record_id}/history")
    assert done.headers["location"] == f"/records/{record_id}/history"
    for hostile in (
        "https://evil.example/records",
        "//evil.example/records",
        "/\\evil.example",
        "\\\\evil.example",
        "/records\r\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "/login",
    ):
        assert _page_login(TestClient(site.app), next=hostile).headers["location"] == "/records"
        page = TestClient(site.app).get("/login", params={"next": hostile})
        assert 'name="next"' not in page.text


def test_signing_in_again_in_another_tab_keeps_open_forms_working(site: Site) -> None:
    browser = TestClient(site.app)  # two tabs share the browser's cookies
    assert _page_login(browser).status_code == 303
    first_session = browser.cookies.get("flsdb_session")
    record_id = site.record_id("FLS01")
    open_form = browser.get(f"/records/{record_id}").text
    token = _csrf(open_form)
    assert _page_login(browser).status_code == 303  # the second tab signs in again
    assert browser.cookies.get("flsdb_session") != first_session  # a new session id
    values = _form(open_form, date_fls_assessment="2024-03-20")
    saved = browser.post(f"/records/{record_id}", data=values, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:2000]
    # Another user in the same browser gets another token: forms are bound to their user.
    other = TestClient(site.app, cookies={"flsdb_browser": browser.cookies["flsdb_browser"]})
    theirs = other.post("/api/login", json={"username": "nurse2", "password": PASSWORD})
    mine = browser.post("/api/login", json={"username": "nurse", "password": PASSWORD})
    assert theirs.json()["csrf_token"] != mine.json()["csrf_token"] == token


def test_a_form_saved_after_its_session_ended_comes_back_filled(site: Site, clock: Clock) -> None:
    browser = TestClient(site.app)
    _page_login(browser)
    form = browser.get("/records/new").text
    typed = {
        "csrf_token": _csrf(form),
        "service_code": "FLS01",
        "nhs_number": "9434765919",
        "date_fracture_diagnosed": "2024-08-01",
        "sex": "female",
    }
    clock.forward(minutes=31)
    late = browser.post("/records/new", data=typed, follow_redirects=False)
    assert late.status_code == 303 and late.headers["location"] == "/login?next=/records/new"
    assert "9434765919" not in late.headers["location"]
    login = browser.get(late.headers["location"])
    assert "comes back as you typed it" in login.text
    # Someone else signing in on this browser does not see it.
    stranger = TestClient(site.app, cookies=dict(browser.cookies))
    _page_login(stranger, "nurse2")
    assert "9434765919" not in stranger.get("/records/new").text
    # ... and it is gone: the form is kept for its own user only, read once.
    with site.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(kept_forms)).scalar_one() == 0


def test_the_form_comes_back_for_its_own_user(site: Site, clock: Clock) -> None:
    browser = TestClient(site.app)
    _page_login(browser)
    record_id = site.record_id("FLS01")
    form = browser.get(f"/records/{record_id}").text
    values = _form(form, date_fls_assessment="2024-03-21")
    clock.forward(minutes=45)
    late = browser.post(
        f"/records/{record_id}",
        data=values,
        headers={"referer": f"http://testserver/records/{record_id}"},
        follow_redirects=False,
    )
    assert late.headers["location"] == f"/login?next=/records/{record_id}"
    back = _page_login(browser, next=f"/records/{record_id}")
    assert back.headers["location"] == f"/records/{record_id}"
    again = browser.get(back.headers["location"])
    # Shown as typed in the UK (issue 20: DD/MM/YYYY text inputs).
    assert 'value="21/03/2024"' in again.text and "here is what you typed" in again.text
    # Saved from there, it goes through; the kept copy is gone.
    refilled = _form(again.text)
    assert refilled["date_fls_assessment"] == ["21/03/2024"]
    saved = browser.post(f"/records/{record_id}", data=refilled, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    assert "here is what you typed" not in browser.get(f"/records/{record_id}").text


def test_session_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from flsdb.errors import ConfigurationError
    from flsdb.web.settings import limits_from_environment

    monkeypatch.delenv("FLSDB_SESSION_HOURS", raising=False)
    monkeypatch.delenv("FLSDB_SESSION_IDLE_MINUTES", raising=False)
    default = limits_from_environment()
    assert (default.idle_minutes, default.absolute_hours) == (30.0, 12.0)
    monkeypatch.setenv("FLSDB_SESSION_IDLE_MINUTES", "15")
    assert limits_from_environment().idle_minutes == 15.0
    for wrong in ("0", "half an hour", "99999"):
        monkeypatch.setenv("FLSDB_SESSION_IDLE_MINUTES", wrong)
        with pytest.raises(ConfigurationError, match="must be a number from 1 to 1440"):
            limits_from_environment()


def test_a_session_s_use_is_written_off_the_event_loop(
    site: Site, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session is read where the request starts (on the event loop); its once-a-minute
    use, a write that may wait for the store's write lock, runs in a thread."""
    lookup = auth.session_lookup
    threads: dict[str, list[str]] = {"read": [], "write": []}

    def watched(*args: Any, **kwargs: Any) -> Any:
        threads["read"].append(threading.current_thread().name)
        found = lookup(*args, **kwargs)
        if found is None or found[1] is None:
            return found
        live, due = found

        def write() -> Any:
            threads["write"].append(threading.current_thread().name)
            return due()

        return live, write

    monkeypatch.setattr(auth, "session_lookup", watched)
    client = site.client("nurse")
    assert client.get("/api/me").status_code == 200  # just signed in: nothing to write
    assert threads["write"] == [] and len(threads["read"]) == 1
    clock.forward(minutes=2)
    assert client.get("/api/me").status_code == 200
    assert len(threads["write"]) == 1 and threads["write"][0] != threads["read"][-1]
    clock.forward(minutes=29)  # used 29 minutes ago: the write extended the session
    assert client.get("/api/me").status_code == 200
