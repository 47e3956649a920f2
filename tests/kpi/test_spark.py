"""The spark engine's own concerns: its session's settings, records sent from a validated file,
and Parquet files checked before any KPI is computed (the KPIs themselves are in test_kpis)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flsdb.errors import ConfigurationError
from flsdb.ingest import validate_file
from flsdb.kpi import KpiRequest, compute_kpis, parse_period
from flsdb.kpi.sources import source_from_files, write_extract
from flsdb.kpi.spark import spark_session
from tests.command import flsdb, flsdb_here
from tests.factory import write_records, write_services
from tests.kpi.cases import AS_OF, ROWS


def test_the_session_keeps_dates_in_utc_and_ansi_mode_on(spark: object) -> None:
    session = spark_session()
    assert session is spark
    assert session.conf.get("spark.sql.session.timeZone") == "UTC"
    # ANSI mode (division by zero raises) stays on: the KPI query must not need it off.
    assert session.conf.get("spark.sql.ansi.enabled") == "true"


def test_a_validated_csv_sent_to_spark_gives_duckdbs_kpis(spark: object, tmp_path: Path) -> None:
    services = write_services(tmp_path / "services.csv")
    records = write_records(tmp_path / "records.csv", ROWS)
    request = KpiRequest(parse_period("2024"), by="age_band", as_of=AS_OF)
    tables = [
        compute_kpis(
            source_from_files(records, services, upload_date=AS_OF, engine=engine), request
        ).table
        for engine in ("duckdb", "spark")
    ]
    assert len(tables[0]) == 4 * 16  # four age bands, 16 measures by age band
    assert tables[1].to_dict("records") == tables[0].to_dict("records")


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_parquet_file_must_be_an_flsdb_extract(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if engine == "spark":
        request.getfixturevalue("spark")
    services = write_services(tmp_path / "services.csv")
    frame = validate_file(
        write_records(tmp_path / "records.csv", ROWS), "records", upload_date=AS_OF
    ).frame
    texts = tmp_path / "texts.parquet"
    write_extract(frame, texts)
    pl.read_parquet(texts).with_columns(pl.col("date_dxa").cast(pl.String)).write_parquet(texts)
    with pytest.raises(ConfigurationError, match=r"wrong types for date_dxa \(string\)"):
        source_from_files(texts, services, engine=engine)
    short = tmp_path / "short.parquet"
    pl.read_parquet(texts).drop("sex").write_parquet(short)
    with pytest.raises(ConfigurationError, match=r"missing \['sex'\]"):
        source_from_files(short, services, engine=engine)
    with pytest.raises(ConfigurationError, match="There is no file"):
        source_from_files(tmp_path / "absent.parquet", services, engine=engine)
    not_parquet = tmp_path / "notes.parquet"
    not_parquet.write_text("these are notes, not a Parquet file\n" * 20)
    said = {"duckdb": "is not a readable Parquet file", "spark": "is not a Parquet file Spark"}
    with pytest.raises(ConfigurationError, match=f"notes.parquet {said[engine]}"):
        source_from_files(not_parquet, services, engine=engine)


def test_a_failure_that_is_not_the_files_is_not_called_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only DuckDB's input and format errors mean the file cannot be read as Parquet; anything
    else (memory, a bug) is raised as it is."""
    import duckdb

    from flsdb.kpi import sources

    class OutOfMemory:
        def read_parquet(self, *args: object, **kwargs: object) -> None:
            raise duckdb.OutOfMemoryException("could not allocate")

    write_extract(
        validate_file(write_records(tmp_path / "r.csv", ROWS), "records", upload_date=AS_OF).frame,
        tmp_path / "records.parquet",
    )
    monkeypatch.setattr(sources, "duckdb_connection", OutOfMemory)
    with pytest.raises(duckdb.OutOfMemoryException):
        source_from_files(tmp_path / "records.parquet", write_services(tmp_path / "s.csv"))


def test_other_engines_never_load_pyspark(tmp_path: Path) -> None:
    """Start-up time matters: pyspark (and its JVM) load only when the spark engine is chosen."""
    services = write_services(tmp_path / "services.csv")
    records = write_records(tmp_path / "records.csv", ROWS)
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from flsdb.cli.app import app\n"
        "args = ['kpis', '--period', '2024', '--as-of', '2025-03-01', '--format', 'csv', "
        f"'--records', {str(records)!r}, '--services', {str(services)!r}]\n"
        "result = CliRunner().invoke(app, args)\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.fixture(scope="session")
def spark_connect(spark: Any) -> Iterator[str]:
    """A Spark Connect server (Spark's own service, its jar shipped with pyspark) in the test
    session's JVM, on the loopback port the `spark` fixture chose: its `sc://` URL. One JVM for
    every Spark test: a server of its own cost a second JVM's start, about 20 CPU seconds."""
    jvm = spark._jvm
    service = jvm.org.apache.spark.sql.connect.service.SparkConnectService
    service.start(spark._jsc.sc())
    port = spark.conf.get("spark.connect.grpc.binding.port")
    try:
        yield f"sc://127.0.0.1:{port}"
    finally:
        none = getattr(getattr(jvm.scala, "None$"), "MODULE$")  # scala.None
        service.stop(none, none)


def test_a_spark_connect_server_gives_duckdbs_kpis(spark_connect: str, tmp_path: Path) -> None:
    """`flsdb kpis --engine spark --spark-master sc://...`, the installed command, against a
    real Spark Connect server: the same KPI table as DuckDB over the same extract."""
    services = write_services(tmp_path / "services.csv")
    frame = validate_file(
        write_records(tmp_path / "records.csv", ROWS), "records", upload_date=AS_OF
    ).frame
    extract = write_extract(frame, tmp_path / "records.parquet")
    common = ["kpis", "--period", "2024", "--as-of", AS_OF.isoformat(), "--by", "region"]
    common += ["--format", "csv", "--records", str(extract), "--services", str(services)]
    duckdb = flsdb_here(*common, cwd=tmp_path)
    assert duckdb.returncode == 0, duckdb.stderr
    # The client in a process of its own: the installed command, as a user runs it.
    remote = flsdb(*common, "--engine", "spark", "--spark-master", spark_connect, cwd=tmp_path)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == duckdb.stdout
    assert "kpi04" in remote.stdout


def test_an_absent_spark_connect_server_is_one_sentence(tmp_path: Path) -> None:
    """The Connect client would retry for minutes in silence: the command says so at once (a
    refusal before any session, so run in-process as tests/command.py explains)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    services = write_services(tmp_path / "services.csv")
    records = write_records(tmp_path / "records.csv", ROWS)
    done = flsdb_here(
        "kpis", "--period", "2024", "--records", str(records), "--services", str(services),
        "--engine", "spark", "--spark-master", f"sc://127.0.0.1:{port}",
        cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert f"No Spark Connect server answers at 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
