"""Shared fixtures: a fresh store on every backend (SQLite file, real PostgreSQL server)."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text

from flsdb.storage import open_engine
from tests.postgres_server import PostgresServer, find_bin_dir

_counter = itertools.count()

# In CI the property tests draw the same examples every run, so that a landing does not hang on
# chance; run them locally (without CI set) to explore new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A PostgreSQL server: $FLSDB_TEST_POSTGRES_URL, or one started here for the session."""
    given = os.environ.get("FLSDB_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; CI must test against a real server")
        pytest.skip("PostgreSQL server binaries not installed")
    server = PostgresServer(bin_dir)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local Spark session for every Spark test (its JVM takes seconds to start); flsdb's
    own `spark_session` finds it and keeps its small settings."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("pyspark is not installed; CI must test the spark engine")
        pytest.skip("pyspark not installed")
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail("Java is not installed; CI must test the spark engine")
        pytest.skip("Java not installed")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


def _fresh_postgres(admin_url: str) -> str:
    name = f"flsdb_test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A URL for an empty database on the parametrised backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'flsdb.db'}"
    return _fresh_postgres(request.getfixturevalue("postgres_admin_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = open_engine(db_url)
    yield engine
    engine.dispose()
