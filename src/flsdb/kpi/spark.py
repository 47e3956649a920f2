"""Apache Spark as a KPI engine, through Ibis's PySpark backend.

A local session by default (pyspark from PyPI with a Java 17 runtime); a cluster by its master
URL (`spark://host:7077`, `yarn`, ...) or a Spark Connect server by its `sc://host:port` URL.
pyspark is imported here only, when the spark engine is chosen: it takes seconds to load and a
JVM to start.

Dates stay dates: Parquet DATE columns are read as Spark dates, and the session's time zone is
UTC, so nothing is shifted through a timestamp. ANSI mode (Spark 4's default) is left on: the KPI
query divides nothing and casts no text, so it has nothing to raise.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import ibis

from flsdb.errors import ConfigurationError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
CONNECT_SCHEME = "sc://"
CONNECT_PORT = 15002  # Spark Connect's default
CONNECT_TIMEOUT = 5.0
# Every session: dates read and compared as dates in UTC, quiet logs, no web UI.
SESSION_SETTINGS = (
    ("spark.sql.session.timeZone", "UTC"),
    ("spark.ui.enabled", "false"),
    ("spark.ui.showConsoleProgress", "false"),
    ("spark.log.level", "ERROR"),
)
# A local session listens on the loopback address only, and shuffles into one partition per
# core (Spark's default of 200 costs seconds on the small grouped result); a cluster keeps its
# own settings.
LOCAL_SETTINGS = (
    ("spark.driver.host", "127.0.0.1"),
    ("spark.driver.bindAddress", "127.0.0.1"),
    ("spark.sql.shuffle.partitions", str(os.cpu_count() or 2)),
)
JAVA_HINT = (
    "the spark engine needs a Java 17 runtime ('java' on the PATH or $JAVA_HOME; on Debian: "
    "apt-get install openjdk-17-jre-headless)"
)


def _builder(master: str) -> object:
    try:
        # lazy: pyspark (seconds, and optional) only when the spark engine is chosen
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigurationError(
            "The spark engine needs pyspark: pip install 'flsdb[spark]'."
        ) from None
    builder = SparkSession.builder.appName("flsdb")
    if master.startswith(CONNECT_SCHEME):
        _check_reachable(master)
        return builder.remote(master)
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise ConfigurationError(f"No Java runtime found: {JAVA_HINT}.")
    builder = builder.master(master)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        for key, value in LOCAL_SETTINGS:
            builder = builder.config(key, value)
    return builder


def _check_reachable(url: str) -> None:
    """A Spark Connect client retries an absent server for minutes, silently: refuse first."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "localhost", parts.port or CONNECT_PORT
    except ValueError:
        raise ConfigurationError(f"--spark-master {url} is not a Spark Connect URL.") from None
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError:
        raise ConfigurationError(
            f"No Spark Connect server answers at {host}:{port}; start one, or give another "
            "--spark-master."
        ) from None


def spark_session(master: str | None = None) -> SparkSession:
    """The process's Spark session, started on first use (`master`: local[*] by default)."""
    master = (master or DEFAULT_MASTER).strip()
    if not master:
        raise ConfigurationError("--spark-master is empty; give local[*], spark://... or sc://...")
    builder = _builder(master)
    for key, value in SESSION_SETTINGS:
        builder = builder.config(key, value)  # type: ignore[attr-defined]
    try:
        session: SparkSession = builder.getOrCreate()  # type: ignore[attr-defined]
    except Exception as exc:  # pyspark's start-up errors share no base class with ours
        raise ConfigurationError(_start_problem(master, exc)) from None
    # A session made before (by the caller, or a test) keeps its settings: these must hold.
    if not master.startswith(CONNECT_SCHEME):
        session.conf.set("spark.sql.session.timeZone", "UTC")
    return session


def _start_problem(master: str, exc: Exception) -> str:
    text = str(exc)
    if "JAVA_GATEWAY_EXITED" in text or "Java gateway" in text:
        return f"Spark could not start ({master}): {JAVA_HINT}."
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"Spark could not start a session on {master}: {first[:300]}"


def read_parquet(path: Path, master: str | None = None) -> ir.Table:
    """A Parquet records file as an Ibis table in Spark. On a cluster the file must be at the
    same path for the cluster (a shared file system)."""
    # lazy: pyspark's errors load pyspark, which only the spark engine needs
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    con = ibis.pyspark.connect(spark_session(master))
    try:
        return con.read_parquet(str(path.resolve()), table_name="records")
    except (PySparkException, Py4JJavaError):  # Spark's (a path not found, a file not Parquet)
        raise ConfigurationError(f"{path.name} is not a Parquet file Spark can read.") from None


def from_arrow(table: object, master: str | None = None) -> ir.Table:
    """Records held in memory (a validated CSV or XLSX upload) sent to Spark."""
    session = spark_session(master)
    con = ibis.pyspark.connect(session)
    # Ibis's PySpark backend has no temporary tables: the rows become a Spark DataFrame, seen
    # by this session only as a temporary view.
    session.createDataFrame(table).createOrReplaceTempView("records")
    return con.table("records")
