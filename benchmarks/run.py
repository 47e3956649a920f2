"""Benchmarks at stated sizes: synthetic data, imports, and every KPI on each engine beside its
floor.

    python benchmarks/run.py --sizes 1000000 10000000 --engines sqlite duckdb postgres spark

Synthetic records for one year (77 FLSs) are streamed to Parquet; SQLite and PostgreSQL import
them from CSV (validation and storage, as `flsdb import`), DuckDB and Spark read the Parquet file.
Each phase runs in its own process, so its peak memory is its own; every KPI and floor time
is the best of `--repeat` runs (3). PostgreSQL runs on a throwaway server started as the tests
start theirs (tests/postgres_server.py). Prints Markdown tables for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import engines

ENGINES = ("sqlite", "duckdb", "postgres", "spark")
HEADER = (
    "| records | engine | KPIs s | floor s | KPIs / floor | peak MB |\n|---|---|---|---|---|---|"
)
STORES = ("sqlite", "postgres")


def _peak_mb() -> float:
    """This process's own peak resident memory. VmHWM starts afresh at exec; ru_maxrss does not
    (Linux carries the parent's peak across exec), so it is only the fallback."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_synth(size: int, folder: Path, url: str) -> dict[str, object]:
    """`flsdb synth --format parquet`: records made and written chunk by chunk."""
    from flsdb.synth import stream, write_records

    start = time.perf_counter()
    data = stream(services=77, records=size, year=2024, seed=1, history_years=0)
    data.services.write_csv(folder / "services.csv")
    write_records(data.chunks, folder / "records.parquet")
    return {"seconds": time.perf_counter() - start, "as_of": data.as_of.isoformat()}


def phase_csv(size: int, folder: Path, url: str) -> dict[str, object]:
    """The same records as an upload file, for the imports (not timed)."""
    import polars as pl
    import pyarrow.parquet as pq

    with (folder / "records.csv").open("wb") as handle:
        for number, batch in enumerate(pq.ParquetFile(folder / "records.parquet").iter_batches()):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            frame.write_csv(handle, include_header=number == 0, date_format="%Y-%m-%d")
    return {}


def _store_url(folder: Path, url: str) -> str:
    return url or f"sqlite:///{folder / 'bench.db'}"


def phase_import(size: int, folder: Path, url: str) -> dict[str, float]:
    """`flsdb load-services` and `flsdb import` into SQLite (ADBC) or PostgreSQL (COPY)."""
    from flsdb.ingest import open_upload, validate
    from flsdb.storage import known_service_codes, open_engine, store_records, store_services

    engine = open_engine(_store_url(folder, url))
    store_services(engine, validate(open_upload(folder / "services.csv"), "services"))
    start = time.perf_counter()
    table = validate(
        open_upload(folder / "records.csv"), "records", known_services=known_service_codes(engine)
    )
    validated = time.perf_counter() - start
    summary = store_records(engine, table)
    elapsed = time.perf_counter() - start
    assert summary.inserted == size, summary
    return {"seconds": elapsed, "validate_seconds": validated}


def phase_reimport(size: int, folder: Path, url: str) -> dict[str, float]:
    """The same file again: every row compared with the stored one, none changed."""
    from flsdb.ingest import open_upload, validate
    from flsdb.storage import known_service_codes, open_engine, store_records

    engine = open_engine(_store_url(folder, url))
    start = time.perf_counter()
    table = validate(
        open_upload(folder / "records.csv"), "records", known_services=known_service_codes(engine)
    )
    summary = store_records(engine, table)
    assert summary.unchanged == size, summary
    return {"seconds": time.perf_counter() - start}


def phase_load(size: int, folder: Path, url: str) -> dict[str, float]:
    return engines.bulk_load(_store_url(folder, url), folder)


def phase_kpi_store(size: int, folder: Path, url: str, as_of: str) -> dict[str, float]:
    return engines.store_kpis(_store_url(folder, url), as_of)


def phase_floor_store(size: int, folder: Path, url: str) -> dict[str, float]:
    if url:
        return engines.postgres_floor(url)
    return engines.sqlite_floor(folder / "bench.db")


def phase_kpi_duckdb(size: int, folder: Path, url: str, as_of: str) -> dict[str, float]:
    return engines.duckdb_kpis(folder, as_of)


def phase_floor_duckdb(size: int, folder: Path, url: str) -> dict[str, float]:
    return engines.duckdb_floor(folder)


def phase_kpi_spark(size: int, folder: Path, url: str, as_of: str) -> dict[str, float]:
    return engines.spark_kpis(folder, as_of)


def phase_reports(size: int, folder: Path, url: str) -> dict[str, float]:
    """The whole report set for national data: synthetic years, SQLite store, every report."""
    import datetime as dt

    from flsdb.figures import compute_figures
    from flsdb.ingest import open_upload, validate
    from flsdb.kpi import parse_period
    from flsdb.kpi.sources import source_from_database
    from flsdb.reports.build import build_reports
    from flsdb.storage import known_service_codes, open_engine, store_records, store_services
    from flsdb.synth import generate, write_upload_files

    data = generate(
        services=77, records=size, year=2024, seed=1, history_years=2, as_of=dt.date(2026, 1, 31)
    )
    services_path, records_path = write_upload_files(data, folder / "national")
    engine = open_engine(f"sqlite:///{folder / 'national.db'}")
    store_services(engine, validate(open_upload(services_path), "services"))
    store_records(
        engine,
        validate(open_upload(records_path), "records", known_services=known_service_codes(engine)),
    )
    start = time.perf_counter()
    report_data = compute_figures(
        source_from_database(engine=engine), parse_period("2024"), data.as_of
    )
    collected = time.perf_counter() - start
    result = build_reports(report_data, folder / "reports")
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "collect_seconds": collected,
        "fls": len(result.services),
        "regions": len(result.regions),
    }


PHASES = {
    "synth": phase_synth,
    "csv": phase_csv,
    "import": phase_import,
    "load": phase_load,
    "reimport": phase_reimport,
    "kpi_store": phase_kpi_store,
    "floor_store": phase_floor_store,
    "kpi_duckdb": phase_kpi_duckdb,
    "floor_duckdb": phase_floor_duckdb,
    "kpi_spark": phase_kpi_spark,
    "reports": phase_reports,
}


def run_phase(name: str, size: int, folder: Path, url: str = "", *extra: str) -> dict[str, float]:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--phase",
            name,
            "--size",
            str(size),
            "--dir",
            str(folder),
            "--url",
            url,
            "--repeat",
            str(engines.REPEAT),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _postgres() -> tuple[object, str]:
    """A throwaway server, as the tests start theirs."""
    from tests.postgres_server import PostgresServer, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (bash scripts/system-packages postgresql).")
    server = PostgresServer(bin_dir)
    return server, server.start()


def _fresh_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def bench_size(
    size: int, chosen: list[str], admin_url: str, reimport: bool, import_up_to: int
) -> list[str]:
    """Every phase at one size: its rows of the engine table (and a line on synth and imports).
    Above `import_up_to` records the stores are bulk-loaded, not imported (not timed)."""
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="flsdb-bench-") as tmp:
        folder = Path(tmp)
        synth = run_phase("synth", size, folder)
        as_of = ["--as-of", str(synth["as_of"])]
        timed_import = size <= import_up_to
        if set(chosen) & set(STORES) and timed_import:
            run_phase("csv", size, folder)
        imports: dict[str, str] = {}
        for engine in [e for e in chosen if e in STORES]:
            url = _fresh_database(admin_url, f"bench_{size}") if engine == "postgres" else ""
            if not timed_import:
                loaded = run_phase("load", size, folder, url)
                imports[engine] = f"bulk-loaded in {loaded['seconds']:.0f} s (not an import)"
            else:
                imports[engine] = _imported(size, folder, url, reimport)
            kpis = run_phase("kpi_store", size, folder, url, *as_of)
            floor = run_phase("floor_store", size, folder, url)
            rows.append(_row(size, engine, kpis["seconds"], floor["seconds"], kpis["peak_mb"]))
            print(rows[-1], flush=True)
        if "duckdb" in chosen:
            kpis = run_phase("kpi_duckdb", size, folder, "", *as_of)
            floor = run_phase("floor_duckdb", size, folder)
            rows.append(_row(size, "duckdb", kpis["seconds"], floor["seconds"], kpis["peak_mb"]))
            print(rows[-1], flush=True)
        if "spark" in chosen:
            spark = run_phase("kpi_spark", size, folder, "", *as_of)
            rows.append(_row(size, "spark", spark["seconds"], spark["floor"], spark["peak_mb"]))
            print(rows[-1], flush=True)
            imports["spark"] = (
                f"session start {spark['session_seconds']:.1f} s and first run "
                f"{spark['first_seconds']:.1f} s (neither in its time)"
            )
        megabytes = (folder / "records.parquet").stat().st_size / 2**20
        stored = "; ".join(f"{e}: {v}" for e, v in imports.items())
        print(
            f"{size:,} records: synth (Parquet, {megabytes:,.0f} MB) {synth['seconds']:.1f} s, "
            f"peak {synth['peak_mb']:,.0f} MB" + (f"; {stored}" if stored else ""),
            flush=True,
        )
    return rows


def _imported(size: int, folder: Path, url: str, reimport: bool) -> str:
    done = run_phase("import", size, folder, url)
    again = ""
    if reimport:
        redone = run_phase("reimport", size, folder, url)
        again = f"; re-import {redone['seconds']:.1f} s ({redone['peak_mb']:,.0f} MB)"
    return (
        f"import {done['seconds']:.1f} s ({size / done['seconds']:,.0f} rec/s, "
        f"{done['peak_mb']:,.0f} MB{again})"
    )


NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL", "duckdb": "DuckDB/Parquet", "spark": "Spark"}


def _row(size: int, engine: str, seconds: float, floor: float, peak: float) -> str:
    return (
        f"| {size:,} | {NAMES[engine]} | {seconds:.2f} | {floor:.2f} | {seconds / floor:.1f}x | "
        f"{peak:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--engines", nargs="*", choices=ENGINES, default=["sqlite", "duckdb"])
    parser.add_argument("--reimport", action="store_true", help="time a re-import too")
    parser.add_argument(
        "--repeat", type=int, default=3, help="each KPI and floor timing is the best of this many"
    )
    parser.add_argument(
        "--import-up-to",
        type=int,
        default=1_000_000,
        help="time `flsdb import` up to this size; larger stores are bulk-loaded",
    )
    parser.add_argument("--phase", choices=sorted(PHASES))
    parser.add_argument("--size", type=int)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--url", default="")
    parser.add_argument("--as-of")
    parser.add_argument(
        "--report-records",
        type=int,
        default=0,
        help="records in the audit year for the report benchmark (default 0: skip)",
    )
    args = parser.parse_args()
    engines.REPEAT = args.repeat
    if args.phase:
        fn = PHASES[args.phase]
        given = (args.as_of,) if args.as_of else ()
        result = fn(args.size, args.dir, args.url, *given)  # type: ignore[operator]
        result["peak_mb"] = _peak_mb()
        print(json.dumps(result))
        return
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    server, admin_url = _postgres() if "postgres" in args.engines else (None, "")
    print(HEADER, flush=True)
    rows: list[str] = []
    try:
        for size in args.sizes:
            rows += bench_size(size, args.engines, admin_url, args.reimport, args.import_up_to)
    finally:
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
    print("\n" + HEADER)
    for row in rows:
        print(row)
    if args.report_records:
        with tempfile.TemporaryDirectory(prefix="flsdb-bench-") as tmp:
            reports = run_phase("reports", args.report_records, Path(tmp))
        print(
            f"\nreports for {args.report_records:,} records in 2024 (plus 2 earlier years): "
            f"national, {reports['fls']:.0f} FLS and {reports['regions']:.0f} region reports "
            f"(HTML and PDF) and the benchmark tables in {reports['seconds']:.1f} s "
            f"(of which queries {reports['collect_seconds']:.1f} s); "
            f"peak {reports['peak_mb']:,.0f} MB"
        )


if __name__ == "__main__":
    main()
