"""Load test of the web application on the demo data: 50 concurrent users on loopback, bounded
in time and requests, mixing dashboard views, record searches, API reads and record saves.

    python benchmarks/load.py --db flsdb-demo/flsdb-demo.db          # SQLite
    python benchmarks/load.py --db flsdb-demo/flsdb-demo.db --postgres   # the same data copied
                                                                         # into a throwaway server

Prints requests per second and p50/p95 per kind beside a floor measured in the same run (the
server's /healthz, which touches neither the database nor a template), the CPU time the
server's processes and the load generator used during the run (per request: on a shared machine
the wall times measure the queue for the processors, the CPU time what each request cost), then
checks that concurrent saves lost nothing and that concurrent edits of one record ended in one
success and 409s. Every request goes to 127.0.0.1; the run stops after --seconds or --requests.
The users speak HTTP/1.1 on one kept-alive connection each (`benchmarks/http_client.py`), so
that the load generator takes little of the CPU it shares with the server;
`benchmarks/request_cost.py` gives each kind's CPU time in one process, without the network.

Beside the users, one more FLS nurse measures how long a saved change takes to show: she
changes one 2024 record's falls assessment (counted in KPI 6 or not, in turn) through the API,
then asks `GET /api/kpis` every 50 ms until her FLS's KPI 6 numerator has moved by one; the
time from the save's answer to that read is "save to GET /api/kpis" (p50 and p95 over the run);
she then reloads her FLS's dashboard page every 50 ms until its KPI 6 row shows the change ("save
to her FLS's dashboard", timed from the same save).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.http_client import Client  # noqa: E402

FLSDB = str(Path(sys.executable).parent / "flsdb")
PASSWORD = "load test password"
SECRET = "l" * 48
THINK = [0.0]  # mean seconds a user waits between requests (0: back to back)


def _run(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [FLSDB, *args], input=stdin, capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"flsdb {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def _services(url: str) -> list[str]:
    from sqlalchemy import func, select

    from flsdb.storage import open_engine
    from flsdb.storage.tables import records

    engine = open_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(records.c.service_code, func.count())
            .group_by(records.c.service_code)
            .order_by(func.count().desc())
        ).all()
    engine.dispose()
    return [r[0] for r in rows]


def _users(url: str, codes: list[str]) -> None:
    from flsdb.errors import ConfigurationError
    from flsdb.services import accounts
    from flsdb.services.access import Role
    from flsdb.storage import open_engine

    engine = open_engine(url)
    for code in codes:
        try:
            accounts.add_user(
                engine, f"load.{code.lower()}", Role.FLS_STAFF, PASSWORD, service_codes=[code]
            )
        except ConfigurationError:
            accounts.reset_password(engine, f"load.{code.lower()}", PASSWORD)
    engine.dispose()


def _postgres_copy(sqlite_db: Path) -> tuple[str, object]:
    """A throwaway PostgreSQL server holding the demo's upload files."""
    from tests.postgres_server import PostgresServer, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed.")
    server = PostgresServer(bin_dir)
    url = server.start().rsplit("/", 1)[0] + "/postgres"
    data = sqlite_db.parent / "data"
    _run("load-services", str(data / "services.csv"), "--db", url)
    _run("import", str(data / "records.csv"), "--db", url)
    return url, server


async def _sign_in(client, code: str) -> list[int]:  # type: ignore[no-untyped-def]
    """Untimed: sign in, find some of the FLS's records, and open its dashboard once (its
    views are made on the first visit after the figures are computed)."""
    response = await client.post(
        "/api/login", json={"username": f"load.{code.lower()}", "password": PASSWORD}
    )
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    await client.get(f"/fls/{code}", params={"period": "2024"})
    found = await client.get("/api/records", params={"limit": 200})
    return [r["id"] for r in found.json()["records"]]


async def _user(
    client, code: str, ids: list[int], until: float, budget: list[int], times, saves
) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(code)
    while time.monotonic() < until and budget[0] > 0:
        budget[0] -= 1
        roll = rng.random()
        start = time.perf_counter()
        try:
            if roll < 0.35:
                kind = "dashboard page"
                r = await client.get(f"/fls/{code}", params={"period": "2024"})
            elif roll < 0.60:
                kind = "record search (API)"
                r = await client.get(
                    "/api/records",
                    params={
                        "fracture_from": "2024-01-01",
                        "status": rng.choice(["due", "missing", "complete"]),
                        "limit": 50,
                    },
                )
            elif roll < 0.80:
                kind = "record read (API)"
                r = await client.get(f"/api/records/{rng.choice(ids)}")
            elif roll < 0.90:
                kind = "KPIs (API)"
                r = await client.get("/api/kpis", params={"period": "2024", "by": "service"})
            else:
                kind = "record save (API)"
                record_id = rng.choice(ids)
                current = (await client.get(f"/api/records/{record_id}")).json()
                value = rng.choice(["female", "male"])
                r = await client.put(f"/api/records/{record_id}", json={**current, "sex": value})
                if r.status_code == 200:
                    saves.append((record_id, r.json()["version"], value))
        except TimeoutError:  # no answer within the client's timeout: counted
            times["timed out (no answer in 120 s)"].append(0.0)
            continue
        times[kind].append(time.perf_counter() - start)
        if THINK[0]:
            await asyncio.sleep(rng.uniform(0, 2 * THINK[0]))
        if r.status_code >= 500:
            times["server errors"].append(0.0)


async def _visibility(
    base: str, code: str, record_id: int, until: float, out: list[float], page: list[float]
) -> None:
    """Save, then poll the KPIs until the save shows (`out`), then the FLS's dashboard page
    until its KPI 6 row shows it too (`page`, from the same save); one second's pause between
    rounds."""
    import re

    import httpx

    own = re.compile(r'data-kpi="kpi06">.*?data-numerator="(\d*)"', re.S)

    params = {"period": "2024", "by": "service"}
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        r = await c.post(
            "/api/login", json={"username": f"load.{code.lower()}", "password": PASSWORD}
        )
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]

        async def kpi06() -> int:
            rows = (await c.get("/api/kpis", params=params)).json()
            row = next(r for r in rows if r["unit"] == code and r["kpi"] == "kpi06")
            return int(row["numerator"])

        while time.monotonic() < until:
            try:
                before = await kpi06()
                current = (await c.get(f"/api/records/{record_id}")).json()
                counted = current.get("falls_assessment") in ("assessed", "referred")
                value, expected = ("not_done", before - 1) if counted else ("assessed", before + 1)
                saved = await c.put(
                    f"/api/records/{record_id}", json={**current, "falls_assessment": value}
                )
                if saved.status_code != 200:  # another user's save came first: again
                    continue
                start = time.perf_counter()
                while await kpi06() != expected:
                    if time.perf_counter() - start > 120:
                        raise SystemExit("A saved change did not show in the KPIs in 2 minutes.")
                    await asyncio.sleep(0.05)
                out.append(time.perf_counter() - start)
                while True:  # the dashboard the nurse reads
                    shown = await c.get(f"/fls/{code}", params={"period": "2024"})
                    found = own.search(shown.text)
                    if found and found.group(1) == str(expected):
                        break
                    if time.perf_counter() - start > 120:
                        raise SystemExit("A saved change did not show on the dashboard in 2 min.")
                    await asyncio.sleep(0.05)
                page.append(time.perf_counter() - start)
                await asyncio.sleep(1.0)
            except httpx.TimeoutException:  # the server did not answer in time: again
                continue


async def _floor(client, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await client.get("/healthz")
        out.append(time.perf_counter() - start)
    return out


async def _conflict(base: str, code: str, record_id: int, writers: int) -> list[int]:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60) as login:
        r = await login.post(
            "/api/login", json={"username": f"load.{code.lower()}", "password": PASSWORD}
        )
        token, cookies = r.json()["csrf_token"], login.cookies
        current = (await login.get(f"/api/records/{record_id}")).json()

    async def one(i: int) -> int:
        async with httpx.AsyncClient(
            base_url=base, timeout=60, cookies=cookies, headers={"X-CSRF-Token": token}
        ) as c:
            return (
                await c.put(f"/api/records/{record_id}", json={**current, "t_score": -1.0 - i / 10})
            ).status_code

    return list(await asyncio.gather(*[one(i) for i in range(writers)]))


async def _main(  # type: ignore[type-arg]
    base: str, codes: list[str], users: int, seconds: float, requests: int, probe: int
) -> dict:
    import httpx

    times: dict[str, list[float]] = defaultdict(list)
    saves: list[tuple[int, int, str]] = []
    # The first view computes the figures: on a busy machine it may take minutes.
    async with httpx.AsyncClient(base_url=base, timeout=600) as warm:
        await warm.post(
            "/api/login", json={"username": f"load.{codes[0].lower()}", "password": PASSWORD}
        )
        # The figures, computed once (the dashboard says 503 "being computed" until then).
        deadline = time.monotonic() + 600
        while (await warm.get(f"/fls/{codes[0]}", params={"period": "2024"})).status_code == 503:
            if time.monotonic() > deadline:
                raise SystemExit("The figures were not computed within 10 minutes.")
            await asyncio.sleep(2)
        floor = await _floor(warm, 200)
    # The users' client is cheap in CPU (benchmarks/http_client.py): the load generator shares
    # the machine with the server it measures.
    clients = [Client(base, timeout=120) for _ in range(users)]
    ids = [await _sign_in(c, codes[i % len(codes)]) for i, c in enumerate(clients)]
    budget = [requests]
    start = time.monotonic()
    cpu = (_server_cpu(), time.process_time())
    shown: list[float] = []
    page: list[float] = []
    await asyncio.gather(
        _visibility(base, codes[0], probe, start + seconds, shown, page),
        *[
            _user(c, codes[i % len(codes)], ids[i], start + seconds, budget, times, saves)
            for i, c in enumerate(clients)
        ],
    )
    times["save to GET /api/kpis (one nurse)"] = shown
    times["save to her FLS's dashboard (one nurse)"] = page
    elapsed = time.monotonic() - start
    used = (_server_cpu() - cpu[0], time.process_time() - cpu[1])
    for c in clients:
        await c.aclose()
    return {"times": times, "elapsed": elapsed, "floor": floor, "saves": saves, "cpu": used}


def _server_cpu() -> float:
    """CPU seconds (user + sys) used so far by this process's children and theirs: the server,
    its worker processes and their figures workers (a process that ended meanwhile is missed,
    so this is at least what they used)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending, seen = 0.0, [os.getpid()], set()
    while pending:
        pid = pending.pop()
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            if child in seen:
                continue
            seen.add(child)
            pending.append(child)
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, default=ROOT / "flsdb-demo" / "flsdb-demo.db")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between requests")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--threads", type=int, default=None, help="flsdb serve --threads (default: its own)"
    )
    parser.add_argument(
        "--refresh", default="30", help="seconds between recomputations of the figures"
    )
    parser.add_argument(
        "--cells-refresh",
        default="0",
        help="FLSDB_DASHBOARD_CELLS_REFRESH: seconds a dashboard's figures from the cells are "
        "shown after a change before they are computed again (0: at the next view)",
    )
    parser.add_argument(
        "--stalls",
        type=Path,
        default=None,
        help="a folder: the server notes where its slow requests' time went "
        "(flsdb.web.stalls), summed up by benchmarks/stalls.py after the run",
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    THINK[0] = args.think
    if not args.db.exists():
        raise SystemExit(f"{args.db} does not exist: run `flsdb demo` first.")
    folder = Path(tempfile.mkdtemp(prefix="flsdb-load-"))
    server = None
    if args.postgres:
        url, server = _postgres_copy(args.db)
    else:
        copy = folder / "load.db"
        shutil.copy(args.db, copy)
        url = f"sqlite:///{copy}"
    codes = _services(url)[:25]
    _users(url, codes)
    from tests.web.live import served

    os.environ["FLSDB_SECRET_KEY"] = SECRET
    os.environ["FLSDB_DASHBOARD_CELLS_REFRESH"] = args.cells_refresh
    if args.stalls is not None:
        shutil.rmtree(args.stalls, ignore_errors=True)
        os.environ["FLSDB_STALLS"] = str(args.stalls.resolve())
    try:
        with served(
            url, folder, refresh=args.refresh, workers=args.workers, threads=args.threads
        ) as base:
            probe = _record_of(url, codes[0], 2024)
            result = asyncio.run(_main(base, codes, args.users, args.seconds, args.requests, probe))
            statuses = asyncio.run(_conflict(base, codes[0], _services_first_id(url, codes[0]), 10))
            integrity = _verify(url, result["saves"])
    finally:
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
    _report(args, url, result, statuses, integrity)
    if args.stalls is not None:
        from benchmarks.stalls import report

        print(report(args.stalls))


def _record_of(url: str, code: str, year: int) -> int:
    """One of the FLS's records with a fracture in the year (the last: few users edit it)."""
    from sqlalchemy import select

    from flsdb.storage import open_engine
    from flsdb.storage.tables import records

    engine = open_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            select(records.c.id)
            .where(records.c.service_code == code)
            .where(records.c.date_fracture_diagnosed >= dt.date(year, 1, 1))
            .where(records.c.date_fracture_diagnosed <= dt.date(year, 12, 31))
            .order_by(records.c.id.desc())
            .limit(1)
        ).scalar_one()
    engine.dispose()
    return int(found)


def _services_first_id(url: str, code: str) -> int:
    from sqlalchemy import select

    from flsdb.storage import open_engine
    from flsdb.storage.tables import records

    engine = open_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            select(records.c.id).where(records.c.service_code == code).limit(1)
        ).scalar_one()
    engine.dispose()
    return int(found)


def _verify(url: str, saves: list[tuple[int, int, str]]) -> str:
    """Every successful save is in the store: each record holds its last saved version."""
    from sqlalchemy import select

    from flsdb.storage import open_engine
    from flsdb.storage.tables import records

    last: dict[int, tuple[int, str]] = {}
    for record_id, version, value in saves:
        if record_id not in last or version > last[record_id][0]:
            last[record_id] = (version, value)
    engine = open_engine(url)
    lost = 0
    with engine.connect() as conn:
        for record_id, (version, value) in last.items():
            row = conn.execute(
                select(records.c.version, records.c.sex).where(records.c.id == record_id)
            ).one()
            if row.version != version or row.sex != value:
                lost += 1
    engine.dispose()
    return f"{len(saves)} saves to {len(last)} records, {lost} lost"


def _ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95)] * 1000


def _report(args, url: str, result: dict, statuses: list[int], integrity: str) -> None:  # type: ignore[no-untyped-def,type-arg]
    engine = "PostgreSQL" if args.postgres else "SQLite"
    times = result["times"]
    total = sum(
        len(v)
        for k, v in times.items()
        if k not in ("server errors", "timed out (no answer in 120 s)")
    )
    errors = len(times.get("server errors", []))
    errors_timed_out = len(times.get("timed out (no answer in 120 s)", []))
    print(
        f"{engine}, {args.workers} server process(es)"
        f"{'' if args.threads is None else f' of {args.threads} threads'}, {args.users} users "
        f"(mean pause {args.think:g} s), cells refresh {args.cells_refresh} s, "
        f"{result['elapsed']:.1f} s, {total:,} requests ({total / result['elapsed']:.0f}/s), "
        f"server errors: {errors}, timed out: {errors_timed_out}"
    )
    server, generator = result["cpu"]
    print(
        f"CPU during the run: the server's processes {server:.1f} s "
        f"({server * 1000 / max(total, 1):.1f} ms per request), the load generator "
        f"{generator:.1f} s ({generator * 1000 / max(total, 1):.1f} ms per request); load average "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    print("| kind | requests | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    p50, p95 = _ms(result["floor"])
    print(f"| floor: /healthz, one client | {len(result['floor'])} | {p50:.1f} | {p95:.1f} |")
    for kind, values in sorted(times.items()):
        if kind in ("server errors", "timed out (no answer in 120 s)") or not values:
            continue
        p50, p95 = _ms(values)
        print(f"| {kind} | {len(values):,} | {p50:.0f} | {p95:.0f} |")
    print(f"Concurrent edits of one record by 10 clients: {sorted(statuses)}")
    print(f"Saves: {integrity}")


if __name__ == "__main__":
    main()
