"""A small audit behind the web application on each backend: three FLSs in two regions, a few
records, and one user of each role (two FLS staff, of different FLSs); in-process (`site`) or
served by `flsdb serve` to Debian's Chromium (`live`, `browser`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from flsdb.ingest import open_upload, validate
from flsdb.services import accounts
from flsdb.services.access import Role
from flsdb.services.live_figures import LiveCache
from flsdb.storage import (
    known_service_codes,
    open_engine,
    sqlite_files,
    store_records,
    store_services,
)
from flsdb.storage.tables import period_locks, records
from flsdb.web.app import create_app
from flsdb.web.settings import Settings
from tests.conftest import (
    _counter,
    _create_database,
    _drop_database,
    _fresh_sqlite,
    _migrated_template,
)
from tests.factory import nhs_number, record, write_records, write_services
from tests.web.live import CHROMIUM, PASSWORD, SECRET, served

USERS = {
    "nurse": (Role.FLS_STAFF, ["FLS01"], None),
    "nurse2": (Role.FLS_STAFF, ["FLS02"], None),
    "viewer": (Role.REGION_VIEWER, [], "QE1"),
    "analyst": (Role.NATIONAL_ANALYST, [], None),
    "admin": (Role.ADMIN, [], None),
}
RECORDS = [
    record(service_code="FLS01", nhs_number=nhs_number(1), date_fracture_diagnosed="2024-03-01"),
    record(service_code="FLS01", nhs_number=nhs_number(2), date_fracture_diagnosed="2024-05-01"),
    record(
        service_code="FLS01",
        nhs_number=nhs_number(3),
        date_fracture_diagnosed="2024-07-01",
        date_fls_assessment="2024-07-20",
        postcode="sw1a 1aa",
        followup_16w="yes",
        date_followup_16w="2024-10-01",
    ),
    record(service_code="FLS02", nhs_number=nhs_number(4), date_fracture_diagnosed="2024-02-01"),
    record(service_code="FLS02", nhs_number=nhs_number(5), date_fracture_diagnosed="2024-04-01"),
    record(service_code="WAL01", nhs_number=nhs_number(6), date_fracture_diagnosed="2024-06-01"),
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, one per test process (each launch costs a second or
    two; the browser tests' pages and contexts are their own)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (scripts/test installs it)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@dataclass
class Site:
    url: str
    app: Any
    engine: Any

    def client(self, username: str | None = None) -> TestClient:
        """A client signed in as `username` (its CSRF token sent with every request)."""
        client = TestClient(self.app, base_url="http://testserver")
        if username:
            response = client.post("/api/login", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    def record_id(self, service: str) -> int:
        return record_id_of(self.engine, service)


def record_id_of(engine: Any, service: str) -> int:
    """The id of one of `service`'s records (the first stored)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(records.c.id).where(records.c.service_code == service).limit(1)
            ).scalar_one()
        )


def build_site(url: str, folder: Path) -> tuple[str, Any]:
    engine = open_engine(url)
    services = validate(open_upload(write_services(folder / "services.csv")), "services")
    store_services(engine, services, "test")
    rows = validate(
        open_upload(write_records(folder / "records.csv", RECORDS)),
        "records",
        known_services=known_service_codes(engine),
    )
    assert rows.ok, rows.issues.frame
    store_records(engine, rows, "test")
    for name, (role, codes, region) in USERS.items():
        accounts.add_user(engine, name, role, PASSWORD, service_codes=codes, region=region)
    return url, engine


# The small site built once per test process and backend (a SQLite file, a PostgreSQL database
# used as a template), that each test's site is a copy of: the same rows, ids and users as
# building it again, for a file copy or a CREATE DATABASE ... TEMPLATE instead of two imports.
_SITE_TEMPLATES: dict[str, str] = {}


def _site_template(backend: str, request: pytest.FixtureRequest) -> str:
    """The built small site on `backend`: a SQLite file's path, or a PostgreSQL database's name."""
    if backend not in _SITE_TEMPLATES:
        folder = request.getfixturevalue("tmp_path_factory").mktemp(f"site-{backend}")
        if backend == "sqlite":
            url = _fresh_sqlite(folder / "site.db", request.getfixturevalue("tmp_path_factory"))
        else:
            admin_url = request.getfixturevalue("postgres_admin_url")
            url = _create_database(
                admin_url, f"flsdb_site_{os.getpid()}", _migrated_template(admin_url)
            )
        _, engine = build_site(url, folder)
        engine.dispose()  # no connection may stay: a template must be unused to copy
        _SITE_TEMPLATES[backend] = str(folder / "site.db") if backend == "sqlite" else url
    return _SITE_TEMPLATES[backend]


def _site_copy(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A new database holding the small site: a copy of the process's built one."""
    template = _site_template(backend, request)
    if backend == "sqlite":
        shutil.copyfile(template, tmp_path / "flsdb.db")
        return f"sqlite:///{tmp_path / 'flsdb.db'}"
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"flsdb_test_{os.getpid()}_{next(_counter)}"
    return _create_database(admin_url, name, template.rsplit("/", 1)[1])


@pytest.fixture
def site(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Site]:
    """The small site behind the application, on the parametrised backend: a copy of the one
    built once per process, or (when the test also asks for `migrated_db_url`, `db_url` or
    `engine`, which must name the same database) built in that database."""
    shares = {"migrated_db_url", "db_url", "engine"} & set(request.fixturenames)
    if shares:
        db_url = str(request.getfixturevalue("migrated_db_url"))
        _, engine = build_site(db_url, tmp_path)
        engine.dispose()
    else:
        db_url = _site_copy(backend, tmp_path, request)
    app = create_app(Settings(database_url=db_url, secret_key=SECRET))
    app.state.dashboards.refresh_seconds = 0  # every change shows at the next view
    app.state.dashboards.wait_seconds = 600  # ... which waits for the new figures
    try:
        yield Site(db_url, app, app.state.engine)
    finally:
        sqlite_files._PYTHON_SQLITE_ONLY.clear()
        app.state.engine.dispose()
        if not shares and backend != "sqlite":
            _drop_database(request.getfixturevalue("postgres_admin_url"), db_url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def viewed_site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """The small site for the tests of a module that only view it (GET requests and sign-ins:
    no record, service, lock or account changed), one application per module and backend: the
    figures computed for the first view serve the later ones, as on a server, instead of each
    test's own application computing them again."""
    backend = str(request.param)
    folder = request.getfixturevalue("tmp_path_factory").mktemp(f"viewed-{backend}")
    db_url = _site_copy(backend, folder, request)
    app = create_app(Settings(database_url=db_url, secret_key=SECRET))
    app.state.dashboards.refresh_seconds = 0
    app.state.dashboards.wait_seconds = 600
    try:
        yield Site(db_url, app, app.state.engine)
    finally:
        app.state.engine.dispose()
        if backend != "sqlite":
            _drop_database(request.getfixturevalue("postgres_admin_url"), db_url)


def _live_site(backend: str, request: pytest.FixtureRequest) -> Iterator[tuple[str, Any, str]]:
    """`flsdb serve` on a copy of the small site: (base URL, an engine on its database,
    backend). A start costs about 5 s of processor time (the server, its figures worker, the
    first figures), so the browser modules of a test process share one per backend (`live`)."""
    folder = request.getfixturevalue("tmp_path_factory").mktemp(f"live-{backend}")
    url = _site_copy(backend, folder, request)
    engine = open_engine(url)
    try:
        with served(url, folder) as base:
            yield base, engine, backend
    finally:
        engine.dispose()
        if backend != "sqlite":
            _drop_database(request.getfixturevalue("postgres_admin_url"), url)


@pytest.fixture(scope="session")
def live_sqlite(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any, str]]:
    yield from _live_site("sqlite", request)


@pytest.fixture(scope="session")
def live_postgresql(
    postgres_admin_url: str, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Any, str]]:
    """(Stopped before the PostgreSQL server it uses.)"""
    yield from _live_site("postgresql", request)


@pytest.fixture(scope="module")
def browser(chromium: Any) -> Any:
    """The test process's one Chromium: each test opens its own contexts (cheap), not a browser
    (a second Playwright in the same process would refuse to start)."""
    return chromium


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served_site(request: pytest.FixtureRequest) -> tuple[str, Any, str]:
    """The backend's served small site (`live_sqlite`, `live_postgresql`), for a browser module:
    module-scoped so that a module's tests of one backend stay on one test process
    (tests/conftest.py groups them), where its server is started once for every browser
    module."""
    return request.getfixturevalue(f"live_{request.param}")


@pytest.fixture
def live(served_site: tuple[str, Any, str]) -> Iterator[tuple[str, Any, str]]:
    """The served small site; after the test, the locks it made are lifted (as the
    administrator) and the records it added deleted (as the nurse who added them), through the
    API, so that every test starts from the small site's records, unlocked, whichever ran
    before."""
    yield served_site
    base, engine, _ = served_site
    original = {str(r["nhs_number"]) for r in RECORDS}
    with engine.connect() as conn:
        added = [
            int(row.id)
            for row in conn.execute(select(records.c.id, records.c.nhs_number))
            if row.nhs_number not in original
        ]
        locks = [
            int(lock_id)
            for lock_id in conn.execute(
                select(period_locks.c.id).where(period_locks.c.lifted_at.is_(None))
            ).scalars()
        ]
    if locks:
        with _signed_in(base, "admin") as client:
            for lock_id in locks:
                body = {"reason": "the test that made it is over"}
                lifted = client.post(f"/api/locks/{lock_id}/lift", json=body)
                assert lifted.status_code == 200, lifted.text
    # (After the locks: a record in a locked period cannot be deleted.)
    if added:
        with _signed_in(base, "nurse") as client:
            for each in added:
                assert client.delete(f"/api/records/{each}").status_code == 204


@contextmanager
def _signed_in(base: str, username: str) -> Iterator[httpx.Client]:
    """A client of the served site signed in as `username` (its CSRF token on every request)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        signed = client.post("/api/login", json={"username": username, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
        yield client


# The tests that use `worker_pool` run on one test process under pytest-xdist (tests/conftest.py
# reads the group): one spawned worker for them all, not one per test process (each about 3 s
# of processor time and of waiting).
WORKER_POOL_GROUP = pytest.mark.xdist_group("figures-worker")


@pytest.fixture(scope="session")
def worker_pool() -> Iterator[Any]:
    """The server's worker process (`LiveCache.start_pool`: a spawned Python, seconds of
    imports), started once per test process for the tests of every module and backend that
    use it (test_dashboards_cells.py, test_live_figures.py, marked `WORKER_POOL_GROUP` so that
    they share one test process): each task names its own database."""
    started = LiveCache()
    started.start_pool()
    try:
        yield started.pool
    finally:
        started.pool.shutdown(wait=True)
