"""Shared fixtures: a fresh store on every backend (SQLite file, real PostgreSQL server).

Under pytest-xdist each worker is its own process with its own session fixtures: its own
PostgreSQL server (started in a temporary folder on a free port), its own Spark session, its own
temporary folders. A migrated store is a copy of one migrated once per worker (a SQLite file, a
PostgreSQL template database: CREATE DATABASE ... TEMPLATE), not migrated again per test."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.nodeid import NodeId
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text

from flsdb.services import accounts
from flsdb.storage import open_engine
from tests.postgres_server import PostgresServer, find_bin_dir

_counter = itertools.count()

# In CI the property tests draw the same examples every run, so that a landing does not hang on
# chance; run them locally (without CI set) to explore new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


# Passwords hashed at argon2's cheapest parameters (a few microseconds, not 0.2 s and 64 MiB each:
# every test site makes five users); test_signin_limits.py's memory test uses the production ones.
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "HASH_PARAMETERS", CHEAP_ARGON2)
        yield


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


# The test JVM's own flags: the C1 compiler only (the tests' queries are tiny and short, so C2's
# optimising work never pays back) and the serial collector. A session that starts and runs the
# KPI queries took 36 CPU seconds with Java's defaults and 22 with these (issue 18 item 9).
# Spark's own jars (trusted, as the JDK's are) loaded without bytecode verification, one
# compiler thread, no performance-counter file: the JVM's CPU over the Spark tests 12.3 to
# 13.4 s, 14.7 to 15.1 without (read from /proc, as pytest does not reap the JVM).
SPARK_JAVA_OPTIONS = (
    "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:+UnlockDiagnosticVMOptions "
    "-XX:-BytecodeVerificationRemote -XX:CICompilerCount=1 -XX:-UsePerfData"
)
# And Spark's own settings for queries this small: expressions evaluated as they are, not
# compiled to Java first (whole-stage code generation, and Spark's generated code for each
# expression, which its test suites also turn off this way), and no adaptive re-planning. The
# same plans give the same rows; the Spark tests' queries took about a fifth less CPU (issue
# 18 item 9).
SPARK_SMALL_QUERIES = (
    ("spark.sql.codegen.wholeStage", "false"),
    ("spark.sql.codegen.factoryMode", "NO_CODEGEN"),
    ("spark.sql.adaptive.enabled", "false"),
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local Spark session for every Spark test (its JVM takes seconds to start); flsdb's
    own `spark_session` finds it and keeps its small settings. Its Spark Connect server (the
    `spark_connect` fixture) is started in the same JVM when a test asks for it, on the port
    chosen here."""
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

    builder = SparkSession.builder
    for key, value in SPARK_SMALL_QUERIES:
        builder = builder.config(key, value)
    session = (
        builder.master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")
        .config("spark.driver.extraJavaOptions", SPARK_JAVA_OPTIONS)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.connect.grpc.binding.address", "127.0.0.1")
        .config("spark.connect.grpc.binding.port", str(_free_port()))
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


_TEMPLATES: dict[str, str] = {}


def _migrated_template(admin_url: str) -> str:
    """A database at the head revision on `admin_url`'s server, made once per process, that
    migrated test databases are cloned from."""
    if admin_url not in _TEMPLATES:
        name = f"flsdb_template_{os.getpid()}"
        url = _create_database(admin_url, name)
        open_engine(url).dispose()  # no connection may stay: a template must be unused to copy
        _TEMPLATES[admin_url] = name
    return _TEMPLATES[admin_url]


def _create_database(admin_url: str, name: str, template: str | None = None) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _fresh_postgres(admin_url: str, *, migrated: bool = False) -> str:
    """A new database on the server: empty, or (`migrated`) a copy of the migrated template."""
    name = f"flsdb_test_{os.getpid()}_{next(_counter)}"
    return _create_database(admin_url, name, _migrated_template(admin_url) if migrated else None)


_SQLITE_TEMPLATE: list[Path] = []


def _fresh_sqlite(path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite store at `path`: a copy of one migrated once per process."""
    if not _SQLITE_TEMPLATE:
        template = tmp_path_factory.mktemp("template") / "flsdb.db"
        open_engine(f"sqlite:///{template}").dispose()
        _SQLITE_TEMPLATE.append(template)
    shutil.copyfile(_SQLITE_TEMPLATE[0], path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _drop_database(admin_url: str, url: str) -> None:
    """Drops a test's database when the test ends (closing what is still connected), so that
    the server holds a few databases, not every test's."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL for an empty database on the parametrised backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'flsdb.db'}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    url = _fresh_postgres(admin_url)
    yield url
    _drop_database(admin_url, url)


@pytest.fixture
def migrated_db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL for a database at the head revision (empty of data) on the parametrised backend:
    `db_url`'s database, migrated, when the test uses `db_url` too; else a copy of a store
    migrated once per worker (the same schema, without running the migrations again)."""
    if "db_url" in request.fixturenames:
        url = str(request.getfixturevalue("db_url"))
        open_engine(url).dispose()
        yield url
        return
    if backend == "sqlite":
        yield _fresh_sqlite(tmp_path / "flsdb.db", request.getfixturevalue("tmp_path_factory"))
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    url = _fresh_postgres(admin_url, migrated=True)
    yield url
    _drop_database(admin_url, url)


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[Engine]:
    engine = open_engine(migrated_db_url)
    yield engine
    engine.dispose()


# The longest units of work (an xdist group, or tests by node id prefix), longest first, as
# measured with --durations (README, Development): under pytest-xdist they are handed out first,
# so that the last minutes of a run are not one worker finishing a long group while the other
# waits (with 2 workers, the longest groups bound the run). Keep it to the ones over ~10 s.
LONGEST_FIRST = (
    # test_reports, test_audit_gate, test_audit_mix, test_spc_counts, test_chart_panels and
    # test_publishing: the figures they share (made once per process: tests/reports/cases.py)
    # and the published, internal and synthetic sets.
    "report-cases",
    # The outliers' test, the national audit's and the nation's suppression tests: one
    # synthetic nation (tests/disclosure/nation.py), its audit and its linked counts' search,
    # made once by the worker that runs them all.
    "nation",
    "browser-sqlite",  # with the accessibility walk (on the browser modules' server) now
    "browser-postgresql",
    "spark",
    "tests/web/test_report_doors.py::test_a_web_download_equals_the_command_lines_report",
    "tests/storage/test_concurrency.py::test_an_import_while_kpis_and_reports_read",
    "tests/cli/test_cli.py::test_demo_end_to_end_on_a_small_country",
    "tests/reports/test_layout.py",
    "tests/storage/test_figures.py::test_maintained_figures_equal_a_full_recomputation",
    "tests/profiles/test_roundtrip.py::test_export_then_import_gives_the_records_back",
    "tests/cli/test_national.py",
    "tests/web/test_schemathesis.py::test_no_server_errors",
    "tests/web/test_request_hygiene.py::test_the_figures_cache_stays_within_its_bounds",
)


def pytest_configure(config: pytest.Config) -> None:
    """Under `--dist loadgroup`, hand out the work in the order collected (LONGEST_FIRST first),
    not xdist's default of the groups with most tests first."""
    if getattr(config.option, "dist", None) == "loadgroup":
        config.option.loadscopereorder = False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for pytest-xdist's `--dist loadgroup` (scripts/test): the Spark tests share one
    worker (one JVM), and the tests of a module with a module-scoped fixture (a live server, a
    database built by the command) share one worker per parameter of that fixture, so that the
    fixture is made once. Other tests go to whichever worker is free. In a worker of xdist the
    longest units are put first (LONGEST_FIRST), each keeping its tests' order."""
    groups: dict[int, str | None] = {}
    for item in items:
        group = _group(item)
        groups[id(item)] = group
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
            if getattr(config.option, "loadgroup", False):
                _name_group(item, group)
    if os.environ.get("PYTEST_XDIST_WORKER"):

        def rank(item: pytest.Item) -> int:
            group = groups[id(item)]
            for index, unit in enumerate(LONGEST_FIRST):
                if group == unit or item.nodeid.startswith(unit):
                    return index
            return len(LONGEST_FIRST)

        items.sort(key=rank)  # stable: the rest keep their order


def _name_group(item: pytest.Item, group: str) -> None:
    """The group in the test's id, as xdist's scheduler reads it ("ID@GROUP"). pytest-xdist 3.8
    sets `item._nodeid`, which pytest 9 no longer reads (its id is `item._id`, a NodeId), so
    without this every test is its own unit: module fixtures made on both workers and again
    whenever another module's test ran between, Spark started on both."""
    node = getattr(item, "_id", None)
    if isinstance(node, NodeId) and node.names:
        params = "" if node.params is None else f"[{node.params}]"
        last = f"{node.names[-1]}{params}@{group}"  # so that str() gives "ID@GROUP" however made
        item._id = NodeId(path=node.path, names=(*node.names[:-1], last))


def _group(item: pytest.Item) -> str | None:
    named = item.get_closest_marker("xdist_group")
    if named is not None and named.args:
        # Named by the test (`pytest.mark.xdist_group(NAME)`): tests of several modules that
        # share what one process makes once (tests/disclosure/nation.py, tests/reports/cases.py).
        return str(named.args[0])
    path = str(getattr(item, "path", ""))
    params = getattr(getattr(item, "callspec", None), "params", {})
    if (
        "spark" in getattr(item, "fixturenames", ())
        or path.endswith("test_spark.py")
        or params.get("source") == "spark"
        or item.name == "test_results_equal_across_engines"
    ):
        return "spark"
    if "served_site" in getattr(item, "fixturenames", ()):
        # Every browser module's tests of one database on one test process: one `flsdb serve`
        # per database for the whole run (tests/web/conftest.py's live_sqlite, live_postgresql).
        return f"browser-{params.get('served_site', 'sqlite')}"
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    scoped = [n for n, d in info.name2fixturedefs.items() if d and d[-1].scope == "module"]
    if not scoped:
        return None
    suffix = "".join(f"-{params[name]}" for name in sorted(scoped) if name in params)
    return f"{item.nodeid.split('::')[0]}{suffix}"
