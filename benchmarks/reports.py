"""The whole report set, timed: national, every FLS and region report (HTML and PDF) and the
benchmark tables, for synthetic national data in an SQLite store.

    python benchmarks/reports.py [--records 83500] [--store DIR] [--jobs 2] [--repeat 1]

The store (77 FLSs, `--records` in 2024 plus two earlier years) is made in DIR once and reused
(`--store`); every run writes a fresh report set. Beside it, the floor measured in the same run:
as many one-paragraph documents as the set has reports, written as HTML and tagged PDF by the
same pool of processes (what the document count alone costs WeasyPrint). Prints Markdown for
the README.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
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


def _floor_document(path: str) -> str:
    from weasyprint import HTML

    html = (
        '<html lang="en"><head><title>floor</title></head><body><h1>Report</h1>'
        "<p>One paragraph of text.</p></body></html>"
    )
    Path(path).with_suffix(".html").write_text(html, encoding="utf-8")
    HTML(string=html).write_pdf(Path(path).with_suffix(".pdf"), pdf_variant="pdf/ua-1")
    return path


def floor(count: int, folder: Path, jobs: int) -> float:
    """Seconds to write `count` one-paragraph documents as HTML and PDF in `jobs` processes."""
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        list(pool.map(_floor_document, [str(folder / f"d{i}") for i in range(count)]))
    return time.perf_counter() - start


def report_set(database: Path, out: Path, jobs: int) -> dict[str, float]:
    from flsdb.figures import compute_figures
    from flsdb.kpi import parse_period
    from flsdb.kpi.sources import source_from_database
    from flsdb.reports.build import build_reports
    from flsdb.storage import open_engine

    shutil.rmtree(out, ignore_errors=True)
    engine = open_engine(f"sqlite:///{database}")
    start = time.perf_counter()
    data = compute_figures(source_from_database(engine=engine), parse_period("2024"), AS_OF)
    collected = time.perf_counter() - start
    result = build_reports(data, out, jobs=jobs)
    total = time.perf_counter() - start
    files = [*result.national, *result.tables]
    files += [p for paths in [*result.services.values(), *result.regions.values()] for p in paths]
    return {
        "seconds": total,
        "collect": collected,
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
            "| run | report set s (queries s) | FLS / region reports | files | PDFs MB "
            "| floor s | set / floor |\n|---|---|---|---|---|---|---|"
        )
        for run in range(args.repeat):
            found = report_set(database, Path(tmp) / "reports", args.jobs)
            documents = int(1 + found["fls"] + found["regions"])
            least = floor(documents, Path(tmp) / "floor", args.jobs)
            print(
                f"| {run + 1} | {found['seconds']:.1f} ({found['collect']:.1f}) | "
                f"{found['fls']:.0f} / {found['regions']:.0f} | {found['files']:.0f} | "
                f"{found['pdf_pages_mb']:.1f} | {least:.1f} | {found['seconds'] / least:.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
