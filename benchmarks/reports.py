"""The whole report set, timed: national, every FLS and region report (HTML and PDF) and the
benchmark tables, for synthetic national data in an SQLite store.

    python benchmarks/reports.py [--records 83500] [--store DIR] [--jobs 2] [--repeat 1]
                                 [--fls N] [--regions N]

The store (77 FLSs, `--records` in 2024 plus two earlier years) is made in DIR once and reused
(`--store`); every run writes a fresh report set. Beside it, the floor measured in the same run:
as many one-paragraph documents as the set has reports, written as HTML and tagged PDF by the
same pool of processes (what the document count alone costs WeasyPrint). The queries, the
intruder's audit of the published tables (`check_publishable`, before anything is written) and
the reports themselves are timed apart. Each is given in wall seconds and in CPU seconds
(user + system, of this process and its worker processes): on a shared machine the CPU time is
the figure to compare between runs. `--fls` and `--regions`
build only the first N FLS and region reports (a reduced set, when the machine is busy).
Prints Markdown for the README.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

AS_OF = dt.date(2026, 1, 31)


def make_store(folder: Path, records: int) -> Path:
    from flsdb.ingest import open_upload, validate
    from flsdb.storage import known_service_codes, open_engine, store_records, store_services
    from flsdb.synth import generate, write_upload_files

    database = folder / "national.db"
    if database.exists():
        return database
    data = generate(services=77, records=records, year=2024, seed=1, history_years=2, as_of=AS_OF)
    services_path, records_path = write_upload_files(data, folder / "national")
    engine = open_engine(f"sqlite:///{database}")
    store_services(engine, validate(open_upload(services_path), "services"))
    checked = validate(
        open_upload(records_path), "records", known_services=known_service_codes(engine)
    )
    store_records(engine, checked)
    return database


def cpu_seconds() -> float:
    """User and system CPU seconds of this process and of its children that have ended (the
    pool's workers, once the pool is shut down)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _floor_document(path: str) -> str:
    from weasyprint import HTML

    html = (
        '<html lang="en"><head><title>floor</title></head><body><h1>Report</h1>'
        "<p>One paragraph of text.</p></body></html>"
    )
    Path(path).with_suffix(".html").write_text(html, encoding="utf-8")
    HTML(string=html).write_pdf(Path(path).with_suffix(".pdf"), pdf_variant="pdf/ua-1")
    return path


def floor(count: int, folder: Path, jobs: int) -> tuple[float, float]:
    """Wall and CPU seconds to write `count` one-paragraph documents as HTML and PDF in `jobs`
    processes."""
    folder.mkdir(parents=True, exist_ok=True)
    start, cpu = time.perf_counter(), cpu_seconds()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        list(pool.map(_floor_document, [str(folder / f"d{i}") for i in range(count)]))
    return time.perf_counter() - start, cpu_seconds() - cpu


def report_set(
    database: Path, out: Path, jobs: int, fls: int | None, regions: int | None
) -> dict[str, float]:
    from flsdb.figures import compute_figures
    from flsdb.kpi import parse_period
    from flsdb.kpi.sources import source_from_database
    from flsdb.reports.build import build_reports, check_publishable
    from flsdb.storage import open_engine

    shutil.rmtree(out, ignore_errors=True)
    engine = open_engine(f"sqlite:///{database}")
    start, cpu = time.perf_counter(), cpu_seconds()
    data = compute_figures(source_from_database(engine=engine), parse_period("2024"), AS_OF)
    collected, collected_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    # The intruder's audit (another part of the work), timed on its own: `build_reports` takes
    # the figures as it passed them.
    data = check_publishable(data)
    audit, audit_cpu = time.perf_counter() - start - collected, cpu_seconds() - cpu - collected_cpu
    codes = sorted(data.services["service_code"])
    region_codes = sorted(data.services["region_code"].unique())
    result = build_reports(
        data,
        out,
        jobs=jobs,
        services=None if fls is None else codes[:fls],
        regions=None if regions is None else region_codes[:regions],
    )
    total, total_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    files = [*result.national, *result.tables]
    files += [p for paths in [*result.services.values(), *result.regions.values()] for p in paths]
    return {
        "seconds": total,
        "cpu": total_cpu,
        "collect": collected,
        "collect_cpu": collected_cpu,
        "audit": audit,
        "audit_cpu": audit_cpu,
        "reports": total - collected - audit,
        "reports_cpu": total_cpu - collected_cpu - audit_cpu,
        "fls": len(result.services),
        "regions": len(result.regions),
        "files": len(files),
        "pdf_pages_mb": sum(p.stat().st_size for p in files if p.suffix == ".pdf") / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=83_500)
    parser.add_argument("--store", type=Path, help="folder for the store, kept between runs")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--fls", type=int, help="only the first N FLS reports (default: all)")
    parser.add_argument("--regions", type=int, help="only the first N region reports")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="flsdb-reports-") as tmp:
        folder = args.store or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        database = make_store(folder, args.records)
        print(
            "| run (load) | set wall s | set CPU s | queries wall / CPU s | audit wall / CPU s | "
            "reports wall s | reports CPU s | FLS / region reports | files | PDFs MB | "
            "floor wall / CPU s | reports / floor (CPU) |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|"
        )
        for run in range(args.repeat):
            load = os.getloadavg()[0]
            found = report_set(database, Path(tmp) / "reports", args.jobs, args.fls, args.regions)
            documents = int(1 + found["fls"] + found["regions"])
            least, least_cpu = floor(documents, Path(tmp) / "floor", args.jobs)
            print(
                f"| {run + 1} ({load:.0f} to {os.getloadavg()[0]:.0f}) | "
                f"{found['seconds']:.1f} | {found['cpu']:.1f} | "
                f"{found['collect']:.1f} / {found['collect_cpu']:.1f} | "
                f"{found['audit']:.1f} / {found['audit_cpu']:.1f} | "
                f"{found['reports']:.1f} | {found['reports_cpu']:.1f} | "
                f"{found['fls']:.0f} / {found['regions']:.0f} | {found['files']:.0f} | "
                f"{found['pdf_pages_mb']:.1f} | {least:.1f} / {least_cpu:.1f} | "
                f"{found['reports_cpu'] / least_cpu:.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
