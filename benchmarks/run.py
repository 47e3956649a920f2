"""Benchmarks at stated sizes: synthetic data, import into SQLite, KPI runs, and a DuckDB floor.

    python benchmarks/run.py --sizes 100000 1000000

Each phase runs in its own process so that its peak memory (max RSS) is its own. Prints a
Markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PERIOD = "2024"


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


def phase_synth(size: int, folder: Path) -> dict[str, float]:
    from flsdb.synth import generate, write_upload_files

    start = time.perf_counter()
    data = generate(services=77, records=size, year=2024, seed=1, history_years=0)
    write_upload_files(data, folder)
    return {"seconds": time.perf_counter() - start, "as_of": data.as_of.isoformat()}  # type: ignore[dict-item]


def phase_import(size: int, folder: Path) -> dict[str, float]:
    from flsdb.ingest import open_upload, validate
    from flsdb.storage import known_service_codes, open_engine, store_records, store_services

    engine = open_engine(f"sqlite:///{folder / 'bench.db'}")
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


def phase_reimport(size: int, folder: Path) -> dict[str, float]:
    """The same file again: every row compared with the stored one, none changed."""
    from flsdb.ingest import open_upload, validate
    from flsdb.storage import known_service_codes, open_engine, store_records

    engine = open_engine(f"sqlite:///{folder / 'bench.db'}")
    start = time.perf_counter()
    table = validate(
        open_upload(folder / "records.csv"), "records", known_services=known_service_codes(engine)
    )
    summary = store_records(engine, table)
    assert summary.unchanged == size, summary
    return {"seconds": time.perf_counter() - start}


def phase_extract(size: int, folder: Path) -> dict[str, float]:
    """An flsdb extract for the DuckDB run (not reported)."""
    from flsdb.ingest import validate_file
    from flsdb.kpi.sources import write_extract

    write_extract(
        validate_file(folder / "records.csv", "records").frame, folder / "records.parquet"
    )
    return {}


def _kpi_run(source: object, as_of: str) -> float:
    import datetime as dt

    from flsdb.kpi import KpiRequest, compute_kpis, parse_period

    request = KpiRequest(
        parse_period(PERIOD), by="service", interval="quarter", as_of=dt.date.fromisoformat(as_of)
    )
    start = time.perf_counter()
    result = compute_kpis(source, request)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    assert len(result.table) == 77 * 4 * 19
    return elapsed


def phase_kpi_sqlite(size: int, folder: Path, as_of: str) -> dict[str, float]:
    from flsdb.kpi.sources import source_from_database

    source = source_from_database(f"sqlite:///{folder / 'bench.db'}")
    return {"seconds": _kpi_run(source, as_of)}


def phase_kpi_duckdb(size: int, folder: Path, as_of: str) -> dict[str, float]:
    import ibis

    from flsdb.ingest import validate_file
    from flsdb.kpi.sources import RecordSource

    services = validate_file(folder / "services.csv", "services").frame.drop("_row").to_pandas()
    start = time.perf_counter()
    table = ibis.duckdb.connect().read_parquet(str(folder / "records.parquet"), table_name="r")
    source = RecordSource(table, services, "duckdb", "parquet")
    kpis = _kpi_run(source, as_of)
    return {"seconds": time.perf_counter() - start, "kpi_seconds": kpis}


def phase_duckdb_floor(size: int, folder: Path) -> dict[str, float]:
    import duckdb

    path = str(folder / "records.csv")
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(f"CREATE TABLE r AS SELECT * FROM read_csv('{path}', all_varchar=true)")
    read = time.perf_counter() - start
    start = time.perf_counter()
    con.execute("SELECT service_code, count(*) FROM r GROUP BY 1").fetchall()
    return {"seconds": read, "count_seconds": time.perf_counter() - start}


def phase_reports(size: int, folder: Path) -> dict[str, float]:
    """The whole report set for national data: synthetic years, SQLite store, every report."""
    import datetime as dt

    from flsdb.ingest import open_upload, validate
    from flsdb.kpi import parse_period
    from flsdb.kpi.sources import source_from_database
    from flsdb.reports.build import build_reports
    from flsdb.reports.data import collect
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
    report_data = collect(source_from_database(engine=engine), parse_period("2024"), data.as_of)
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
    "import": phase_import,
    "reimport": phase_reimport,
    "extract": phase_extract,
    "kpi_sqlite": phase_kpi_sqlite,
    "kpi_duckdb": phase_kpi_duckdb,
    "duckdb_floor": phase_duckdb_floor,
    "reports": phase_reports,
}


def run_phase(name: str, size: int, folder: Path, *extra: str) -> dict[str, float]:
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
            *extra,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--phase", choices=sorted(PHASES))
    parser.add_argument("--size", type=int)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--as-of")
    parser.add_argument(
        "--report-records",
        type=int,
        default=83_500,
        help="records in the audit year for the report benchmark (0: skip)",
    )
    args = parser.parse_args()
    if args.phase:
        fn = PHASES[args.phase]
        result = fn(args.size, args.dir, args.as_of) if args.as_of else fn(args.size, args.dir)
        result["peak_mb"] = _peak_mb()
        print(json.dumps(result))
        return
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        "| records (CSV MB) | synth s | import s (rec/s) | import peak MB | re-import s "
        "(peak MB) | KPIs SQLite s | KPIs DuckDB/Parquet s | DuckDB read CSV s | "
        "DuckDB grouped count s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="flsdb-bench-") as tmp:
            folder = Path(tmp)
            synth = run_phase("synth", size, folder)
            imported = run_phase("import", size, folder)
            again = run_phase("reimport", size, folder)
            run_phase("extract", size, folder)
            megabytes = (folder / "records.csv").stat().st_size / 2**20
            as_of = ["--as-of", str(synth["as_of"])]
            sqlite = run_phase("kpi_sqlite", size, folder, *as_of)
            duck = run_phase("kpi_duckdb", size, folder, *as_of)
            floor = run_phase("duckdb_floor", size, folder)
            rate = size / imported["seconds"]
            print(
                f"| {size:,} ({megabytes:,.0f}) | {synth['seconds']:.1f} | "
                f"{imported['seconds']:.1f} ({rate:,.0f}) | {imported['peak_mb']:,.0f} | "
                f"{again['seconds']:.1f} ({again['peak_mb']:,.0f}) | {sqlite['seconds']:.2f} | "
                f"{duck['kpi_seconds']:.2f} | {floor['seconds']:.2f} | "
                f"{floor['count_seconds']:.3f} |",
                flush=True,
            )
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
