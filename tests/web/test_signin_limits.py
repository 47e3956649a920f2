"""Sign-in that cannot be raced, on SQLite and PostgreSQL: attempts are counted in the database
before any password is checked, so concurrent guesses get at most 5 checks per account; an
unknown name answers and locks exactly as a known one and is never stored as typed; a success
resets the count; an address spraying many names is slowed; and concurrent sign-ins are bounded
in the memory their password checks take (argon2 at its production parameters here)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from flsdb.services import accounts, event_writer, signin
from flsdb.storage.tables import events, login_attempts, users
from tests.web.conftest import PASSWORD, Site


def _together(count: int, attempt: Callable[[int], Any]) -> list[Any]:
    """Run `attempt(i)` for i in range(count), in threads released at the same moment."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        start.wait()
        results[i] = attempt(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def _login(site: Site, name: str, password: str, address: str = "testclient") -> Any:
    client = TestClient(site.app, client=(address, 50000))
    return client.post("/api/login", json={"username": name, "password": password})


def test_thirty_concurrent_wrong_passwords_get_at_most_five_checks(site: Site) -> None:
    before = signin.GATE.checks
    answers = _together(30, lambda i: _login(site, "nurse", f"wrong guess {i}"))
    checked = signin.GATE.checks - before
    statuses = sorted(a.status_code for a in answers)
    assert checked <= 5, checked
    assert statuses.count(401) == checked and statuses.count(429) == 30 - checked
    with site.engine.connect() as conn:
        counted = conn.execute(
            select(login_attempts.c.attempts).where(login_attempts.c.key.like("u:%"))
        ).scalar_one()
    assert counted == 30


def test_a_burst_of_wrong_guesses_then_the_right_one_does_not_sign_in(site: Site) -> None:
    before = signin.GATE.checks
    _together(24, lambda i: _login(site, "nurse", f"wrong guess {i}"))
    client = TestClient(site.app)
    right = client.post("/api/login", json={"username": "nurse", "password": PASSWORD})
    assert right.status_code == 429 and "locked" in right.json()["detail"]
    assert client.get("/api/me").status_code == 401
    assert signin.GATE.checks - before <= 5


def test_an_unknown_name_answers_and_locks_as_a_known_one(site: Site) -> None:
    answers: dict[str, list[tuple[int, Any, int]]] = {}
    for name in ("nurse", "Ghost.Of.9434765919"):
        answers[name] = []
        for _ in range(7):
            before = signin.GATE.checks
            answer = _login(site, name, "not the password")
            answers[name].append((answer.status_code, answer.json(), signin.GATE.checks - before))
    assert answers["nurse"] == answers["Ghost.Of.9434765919"]
    assert [a[0] for a in answers["nurse"]] == [401] * 5 + [429] * 2
    assert [a[2] for a in answers["nurse"]] == [1] * 5 + [0] * 2  # the same work, then none
    event_writer.flush_all()  # the reads' events are written after their answers
    with site.engine.connect() as conn:
        logged = conn.execute(select(events.c.user_name, events.c.detail)).all()
        keys = list(conn.execute(select(login_attempts.c.key)).scalars())
    text = repr(logged) + repr(keys)
    assert "ghost" not in text.lower() and "9434765919" not in text
    unknown = [d for u, d in logged if u == signin.UNKNOWN_USER]
    assert len(unknown) == 7 and all(d.startswith("name hash ") for d in unknown)
    assert len(set(unknown)) == 1  # the same name, the same keyed hash


def test_a_success_resets_the_count(site: Site) -> None:
    for _ in range(4):
        assert _login(site, "nurse", "not the password").status_code == 401
    assert _login(site, "nurse", PASSWORD).status_code == 200
    statuses = [_login(site, "nurse", "not the password").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # The account's lock shows in `users list`.
    from flsdb.services.accounts import list_users

    locked = {u["username"]: u["locked_until"] for u in list_users(site.engine)}
    assert locked["nurse"] is not None and locked["nurse2"] is None


def test_an_address_spraying_names_is_slowed(site: Site) -> None:
    settings = site.app.state.settings
    site.app.state.settings = dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, address_failures=8)
    )
    names = ["nurse", "nurse2", "viewer", "analyst", "admin", "nobody1", "nobody2", "nobody3"]
    sprayed = [_login(site, n, "Winter2026!", address="10.0.0.7").status_code for n in names]
    assert sprayed == [401] * 8
    refused = _login(site, "nurse", PASSWORD, address="10.0.0.7")
    assert refused.status_code == 429 and "network address" in refused.json()["detail"]
    # Another address, and the accounts themselves, are not held back by it.
    assert _login(site, "nurse", PASSWORD, address="10.0.0.8").status_code == 200


def test_successes_do_not_count_against_the_address(site: Site) -> None:
    settings = site.app.state.settings
    site.app.state.settings = dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, address_failures=3)
    )
    for _ in range(6):
        assert _login(site, "nurse", PASSWORD, address="10.0.0.9").status_code == 200


# argon2-cffi's default parameters (RFC 9106's low-memory profile), as a hash names them.
PRODUCTION_ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$"


def _stored_hash(site: Site, username: str) -> str:
    with site.engine.connect() as conn:
        return str(
            conn.execute(
                select(users.c.password_hash).where(users.c.username == username)
            ).scalar_one()
        )


def _peak_rss_kib() -> int:
    with open("/proc/self/status") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


class _CountedHasher:
    """argon2's hasher, counting the password checks that run at once."""

    def __init__(self, real: Any) -> None:
        self.real, self.lock = real, threading.Lock()
        self.running = self.most = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def verify(self, hashed: str, password: str) -> Any:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            return self.real.verify(hashed, password)
        finally:
            with self.lock:
                self.running -= 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_forty_concurrent_sign_ins_stay_within_300_mb(
    site: Site, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown names at argon2's production parameters (64 MiB a check): at most 2 checks run
    at once (counted), so the process's peak resident memory grows by about 130 MiB, not
    2.5 GB. The one test on the production parameters (the others hash cheaply:
    tests/conftest.py): a password set now is hashed with them, and signs in.

    The 40 arrive together; those the gate cannot check within its wait are told the server is
    busy. The wait is a second here, not the 30 s of a server: how many run at once is the same
    (the memory bound), and the test makes a few checks at 0.2 CPU s each, not all 40."""
    monkeypatch.setattr(accounts, "HASH_PARAMETERS", {})
    monkeypatch.setattr(signin, "_DUMMY", signin._Dummy())  # made again, at these parameters
    accounts.reset_password(site.engine, "nurse", PASSWORD)
    assert _stored_hash(site, "nurse").startswith(PRODUCTION_ARGON2)
    assert _login(site, "nurse", PASSWORD).status_code == 200
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # the peak starts again from now
    except OSError:
        pytest.skip("the kernel does not let the peak memory be reset")
    _login(site, "warm.up", "x" * 12)  # the dummy hash made and the app warm
    assert str(signin._DUMMY.value).startswith(PRODUCTION_ARGON2)
    hasher = _CountedHasher(accounts._hasher())
    monkeypatch.setattr(accounts, "_hasher", lambda: hasher)
    monkeypatch.setattr(signin.GATE, "wait", 1.0)
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    before, checks = _peak_rss_kib(), signin.GATE.checks
    answers = _together(40, lambda i: _login(site, f"nobody.{i}", "a wrong password"))
    grown_mib = (_peak_rss_kib() - before) / 1024
    print(f"peak RSS grew by {grown_mib:.0f} MiB over 40 concurrent sign-ins")
    # Each is refused as a wrong password, or (not checked within the wait) as "busy, try
    # again": never more checks at once.
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {401, 503} and statuses.count(401) >= 2
    assert statuses.count(401) == signin.GATE.checks - checks
    assert 1 <= hasher.most <= signin.CONCURRENT_CHECKS, hasher.most
    assert grown_mib < 300, grown_mib
