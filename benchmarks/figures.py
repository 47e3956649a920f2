"""The maintained figures (issue 19), each time beside its floor measured in the same run.

    python benchmarks/figures.py --records 83500 --history-years 3     # four years, 77 FLSs

Builds a SQLite store of synthetic national data by `flsdb import`'s path (or takes `--db`, a
copy of which is used), then times:

- the import with the figures kept, beside the same import into a store that keeps none;
- `flsdb db rebuild-figures`;
- a saved change (one record's falls assessment, `update_record` as the form and the API save)
  with its figures' deltas, beside the same save on the store that keeps none;
- how long after a save `GET /api/kpis` shows it: the KPI rows of every level and their
  published copies computed again from the cells (`services.live_figures.compute`, what the
  first read after a change does), beside the KPI engine computing the same rows from the
  records (what the dashboards' figures did);
- the KPIs of a period and extract date not asked for before (the same computation);
- every KPI by FLS and quarter for the latest year (`flsdb kpis`, `benchmarks/engines.kpi_run`'s
  request) beside the bare grouped query of `benchmarks/run.py` over the records;
- the dashboards (issue 19 item 2; `--only-dashboards` alone reuses the store an earlier run
  built into `--dir` as it is): the first dashboard after a start (a fresh figures cache:
  the figures of the latest year from the cells, an FLS's dashboard body with its treatment mix
  from its records, and the national one), and a period and extract date not viewed before,
  beside the dashboards' figures computed from the records (what a dashboard waited for behind
  its "being computed" page); each with the server's worker process for the KPI rows (started
  and ready, as `flsdb serve` starts it) and in one process. Wall and CPU time (user + sys of
  this process and of the worker process) both: the machine is shared, and the CPU time is
  what the work costs.

Timings are p50 and p95 of `--repeat` runs (the machine is shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _store(
    folder: Path, records: int, history: int, figures: bool, reuse: bool = False
) -> tuple[str, dt.date, float]:
    import polars as pl

    from flsdb.ingest import open_upload, validate
    from flsdb.storage import known_service_codes, open_engine, store_records, store_services
    from flsdb.synth import stream, write_records

    parquet = folder / "records.parquet"
    if not parquet.exists():
        data = stream(services=77, records=records, year=2025, seed=1, history_years=history)
        data.services.write_csv(folder / "services.csv")
        write_records(data.chunks, parquet)
        pl.read_parquet(parquet).write_csv(folder / "records.csv", date_format="%Y-%m-%d")
        (folder / "as_of").write_text(data.as_of.isoformat())
    url = f"sqlite:///{folder / ('kept.db' if figures else 'none.db')}"
    if reuse and (folder / "kept.db").exists():  # built by an earlier run into `--dir`
        return url, dt.date.fromisoformat((folder / "as_of").read_text()), 0.0
    engine = open_engine(url)
    if not figures:
        with engine.begin() as conn:  # no layout: the figures are neither kept nor read
            conn.exec_driver_sql("DELETE FROM kpi_cells_layout")
    store_services(engine, validate(open_upload(folder / "services.csv"), "services"))
    start = time.perf_counter()
    table = validate(
        open_upload(folder / "records.csv"), "records", known_services=known_service_codes(engine)
    )
    store_records(engine, table)
    return url, dt.date.fromisoformat((folder / "as_of").read_text()), time.perf_counter() - start


def _saves(url: str, repeat: int, seed: int) -> list[float]:
    from sqlalchemy import select

    from flsdb.storage import open_engine
    from flsdb.storage.edits import update_record
    from flsdb.storage.tables import RECORD_COLUMNS, records

    engine = open_engine(url)
    with engine.connect() as conn:
        ids = list(conn.execute(select(records.c.id)).scalars())
    rng = random.Random(seed)
    times = []
    for record_id in rng.sample(ids, repeat):
        with engine.connect() as conn:
            row = conn.execute(select(records).where(records.c.id == record_id)).one()
        values = {c: row._mapping[c] for c in RECORD_COLUMNS}
        values["falls_assessment"] = (
            "assessed" if values["falls_assessment"] != "assessed" else None
        )
        start = time.perf_counter()
        update_record(engine, record_id, row.version, values, {row.service_code}, "bench")
        times.append(time.perf_counter() - start)
    return times


def _visible(url: str, as_of: dt.date, repeat: int) -> tuple[list[float], list[float]]:
    """After each save, the time to the KPI rows that show it; the engine beside it."""
    from flsdb.kpi import KpiRequest, compute_levels, parse_period
    from flsdb.kpi.query import count_query, run_counts
    from flsdb.kpi.sources import source_from_database
    from flsdb.services.live_figures import compute
    from flsdb.storage import open_engine

    engine = open_engine(url)
    cells, floor = [], []
    for number in range(repeat):
        _saves(url, 1, seed=1000 + number)
        start = time.perf_counter()
        figures = compute(engine, "2025", as_of)
        cells.append(time.perf_counter() - start)
        assert figures is not None
    from flsdb.kpi import load_catalogue

    catalogue = load_catalogue()
    period = parse_period("2025")
    for _ in range(max(1, repeat // 5)):
        start = time.perf_counter()
        source = source_from_database(url)
        query = count_query(
            source.table,
            "sqlite",
            catalogue,
            catalogue.measures,
            period.start,
            period.end,
            as_of,
            "service",
        )
        compute_levels(
            source,
            KpiRequest(period, as_of=as_of),
            ("service", "region", "nation"),
            counts=run_counts(*query),
        )
        floor.append(time.perf_counter() - start)
        source.table._find_backend().disconnect()
    return cells, floor


def _periods(url: str, as_of: dt.date) -> list[float]:
    from flsdb.services.live_figures import compute
    from flsdb.storage import open_engine

    engine = open_engine(url)
    times = []
    for period in ("2025", "2024", "2023-Q2", "2025-03", "2024-Q4"):
        for back in (0, 30, 200):
            start = time.perf_counter()
            assert compute(engine, period, as_of - dt.timedelta(days=back)) is not None
            times.append(time.perf_counter() - start)
    return times


def _kpis_and_floor(url: str, as_of: dt.date, repeat: int) -> tuple[list[float], list[float]]:
    import sqlite3

    from benchmarks import engines

    from flsdb.kpi.sources import source_from_database

    path = url.removeprefix("sqlite:///")
    kpis, floor = [], []
    engines.PERIOD, engines.START, engines.END = "2025", "2025-01-01", "2025-12-31"
    for _ in range(repeat):
        start = time.perf_counter()
        source = source_from_database(url)
        engines.kpi_run(source, as_of.isoformat())
        kpis.append(time.perf_counter() - start)
        source.table._find_backend().disconnect()
        conn = sqlite3.connect(path)
        start = time.perf_counter()
        conn.execute(engines.FLOOR_SQL["sqlite"], (engines.START, engines.END)).fetchall()
        floor.append(time.perf_counter() - start)
        conn.close()
    return kpis, floor


def _worker_cpu(cache: object) -> float:
    """CPU seconds (user + sys) used so far by the live cache's worker process, if any."""
    import os

    pool = cache.live.pool  # type: ignore[attr-defined]
    if pool is None:
        return 0.0
    total = 0
    for process in pool._processes.values():
        with open(f"/proc/{process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _dashboard(url: str, period: str, as_of: dt.date, cache: object) -> tuple[float, float]:
    """(wall, CPU) seconds for a dashboard's figures and the bodies of an FLS's and the
    nation's dashboards, as the web renders them (CPU: this process's and the worker's)."""
    from flsdb.services.dashboards import figures
    from flsdb.storage import open_engine
    from flsdb.web.dashboard_bodies import fls_body, group_body

    engine = open_engine(url)
    worker = _worker_cpu(cache)
    wall, cpu = time.perf_counter(), time.process_time()
    found = figures(cache, url, engine, period, as_of)  # type: ignore[arg-type]
    assert not found.stale
    code = str(found.data.services["service_code"].iloc[0])
    fls_body(found.data, code, False)
    group_body(found.data, "nation", "all", False)
    spent = time.process_time() - cpu + _worker_cpu(cache) - worker
    return time.perf_counter() - wall, spent


def _fresh(pool: object, url: str) -> object:
    """A fresh figures cache (a server just started), with the server's worker process for the
    KPI rows (`pool`, started and ready, as the server starts it) or none; the store keeps no
    KPI rows computed by another process (`kpi_figure_rows`: each key is computed here)."""
    from flsdb.figures import Kept
    from flsdb.services import dashboard_figures
    from flsdb.services.dashboards import DashboardCache
    from flsdb.storage import open_engine
    from flsdb.storage.tables import figure_rows

    engine = open_engine(url)
    with engine.begin() as conn:
        conn.execute(figure_rows.delete())
    engine.dispose()
    cache = DashboardCache()
    cache.live.pool = pool
    # A server just started keeps no settled years' monthly rows either.
    dashboard_figures._SETTLED = Kept(dashboard_figures._SETTLED.size)
    return cache


def _dashboards(
    url: str, as_of: dt.date, repeat: int, worker: bool
) -> dict[str, tuple[list[float], ...]]:
    from flsdb.figures import compute_figures
    from flsdb.kpi import parse_period
    from flsdb.kpi.sources import source_from_database
    from flsdb.services.live_figures import LiveCache

    pool = None
    if worker:
        started = LiveCache()
        started.start_pool()
        pool = started.pool
        pool.submit(int).result()  # type: ignore[attr-defined]
    first: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        wall, cpu = _dashboard(url, "2025", as_of, _fresh(pool, url))
        first[0].append(wall)
        first[1].append(cpu)
    periods: tuple[list[float], list[float]] = ([], [])
    cache = _fresh(pool, url)
    cache.max_entries = 2  # type: ignore[attr-defined]
    for period in ("2025", "2024", "2023-Q2", "2025-03", "2024-Q4"):
        for back in (0, 30, 200):
            wall, cpu = _dashboard(url, period, as_of - dt.timedelta(days=back), cache)
            periods[0].append(wall)
            periods[1].append(cpu)
    if pool is not None:
        pool.shutdown(wait=True)  # type: ignore[attr-defined]
    floor: tuple[list[float], list[float]] = ([], [])
    for _ in range(max(1, repeat // 3)):
        wall, cpu = time.perf_counter(), time.process_time()
        source = source_from_database(url)
        compute_figures(source, parse_period("2025"), as_of)
        floor[0].append(time.perf_counter() - wall)
        floor[1].append(time.process_time() - cpu)
        source.table._find_backend().disconnect()
    return {"first": first, "periods": periods, "floor": floor}


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(values) * 1000:,.0f} / {p95 * 1000:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=83_500, help="records in 2025")
    parser.add_argument("--history-years", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--dir", type=Path, help="keep the stores here (default: a temporary one)")
    parser.add_argument(
        "--only-dashboards", action="store_true", help="time the dashboards alone (issue 19)"
    )
    args = parser.parse_args()
    import os
    import platform

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    folder = args.dir or Path(tempfile.mkdtemp(prefix="flsdb-figures-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        kept, as_of, kept_s = _store(
            folder, args.records, args.history_years, figures=True, reuse=args.only_dashboards
        )
        if args.only_dashboards:
            _print_dashboards(kept, as_of, args.repeat)
            return
        none, _, none_s = _store(folder, args.records, args.history_years, figures=False)
        from flsdb.kpi.cells import store_layout
        from flsdb.storage import open_engine
        from flsdb.storage.figures import rebuild_figures

        start = time.perf_counter()
        cells = rebuild_figures(open_engine(kept), store_layout())
        rebuild = time.perf_counter() - start
        print("| measure | maintained figures p50 / p95 ms | floor p50 / p95 ms | floor |")
        print("|---|---|---|---|")
        print(
            f"| import of every record | {kept_s * 1000:,.0f} | {none_s * 1000:,.0f} "
            "| the same import, no figures kept |"
        )
        print(f"| rebuild-figures ({cells:,} cells) | {rebuild * 1000:,.0f} | – | – |")
        saves, plain = _saves(kept, args.repeat, 1), _saves(none, args.repeat, 1)
        print(f"| a saved change | {_ms(saves)} | {_ms(plain)} | the same save, no figures kept |")
        cells_t, engine_t = _visible(kept, as_of, args.repeat)
        print(
            f"| save to GET /api/kpis rows (every level, published) | {_ms(cells_t)} "
            f"| {_ms(engine_t)} | the engine's counts from the records, three levels |"
        )
        print(
            f"| a period and extract date not asked before | {_ms(_periods(kept, as_of))} | – | – |"
        )
        kpis, floor = _kpis_and_floor(kept, as_of, max(3, args.repeat // 5))
        print(
            f"| flsdb kpis, 2025 by FLS and quarter | {_ms(kpis)} | {_ms(floor)} "
            "| bare grouped query (run.py) |"
        )
        _print_dashboards(kept, as_of, args.repeat)
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


def _print_dashboards(url: str, as_of: dt.date, repeat: int) -> None:
    import os

    print(f"load average before: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(
        "| dashboard measure | wall p50 / p95 ms | CPU p50 / p95 ms "
        "| floor: wall p50 / p95 ms; CPU p50 / p95 ms |"
    )
    print("|---|---|---|---|")
    for worker, how in ((True, "server's worker process"), (False, "one process")):
        found = _dashboards(url, as_of, repeat, worker)
        floor = found["floor"]
        for name, words in (
            ("first", "first dashboard after a start (fresh cache)"),
            ("periods", "a period and extract date not viewed before"),
        ):
            wall, cpu = found[name]
            print(
                f"| {words}, {how} | {_ms(wall)} | {_ms(cpu)} | {_ms(floor[0])}; "
                f"{_ms(floor[1])} (the figures from the records) |",
                flush=True,
            )
    print(f"load average after: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
