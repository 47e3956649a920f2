"""The server's CPU time per request of each kind in the load mix (`benchmarks/load.py`), in one
process, without a network or a load generator's own work in the way.

    python benchmarks/request_cost.py --db /tmp/r19lstore/kept.db            # a copy is used
    python benchmarks/request_cost.py --db ... --profile "dashboard page"   # and its profile

The application is called through httpx's ASGI transport, as one of `load.py`'s FLS nurses
calls it (signed in with a session cookie; her FLS's 2024 dashboard opened once first, so its
figures are computed), `--requests` times per kind; "dashboard page after a save to its FLS" is
her page after one of her FLS's 2024 records was saved with a change each time (the save untimed:
with `FLSDB_DASHBOARD_CELLS_REFRESH` above 0, the page with the FLS's own KPI rows made again,
the rest as computed before; at 0, the whole figures computed again); "KPIs (API) after a save
to its FLS" her `GET /api/kpis` after such a save (her FLS's rows made again). Each kind's CPU time
(user + sys of this process, `time.process_time`, threads included) and wall time per request
are printed beside the floor measured in the same run: `/healthz`, which touches neither the
database nor a template (its CPU time is mostly the ASGI transport's and the client's, so a
kind's cost to the server is about its CPU time less the floor's). CPU time is what a request
costs the machine whatever else runs on it; with 300 staff pausing 2 s (about 150 requests/s)
on two cores, the mix must average well under 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load import PASSWORD, SECRET, _services, _users  # noqa: E402

# The load mix's kinds (`load.py`'s `_user`), each as one request of a signed-in FLS nurse.
KINDS = (
    "floor: /healthz",
    "dashboard page",
    "dashboard page after a save to its FLS",
    "KPIs (API) after a save to its FLS",
    "record search (API)",
    "record read (API)",
    "KPIs (API)",
    "record save (API)",
    "mix",
)
# The load mix's shares (`load.py`'s `_user`): kind by the roll of a die.
SHARES = (
    (0.35, "dashboard page"),
    (0.60, "record search (API)"),
    (0.80, "record read (API)"),
    (0.90, "KPIs (API)"),
    (1.00, "record save (API)"),
)


def _request(client: Any, code: str, ids: list[int], rng: random.Random, kind: str) -> Any:
    if kind == "floor: /healthz":
        return client.get("/healthz")
    if kind in ("dashboard page", AFTER_SAVE):
        return client.get(f"/fls/{code}", params={"period": "2024"})
    if kind == "record search (API)":
        status = rng.choice(["due", "missing", "complete"])
        params = {"fracture_from": "2024-01-01", "status": status, "limit": 50}
        return client.get("/api/records", params=params)
    if kind == "record read (API)":
        return client.get(f"/api/records/{rng.choice(ids)}")
    if kind in ("KPIs (API)", AFTER_SAVE_API):
        return client.get("/api/kpis", params={"period": "2024", "by": "service"})
    raise ValueError(kind)


AFTER_SAVE = "dashboard page after a save to its FLS"
# Her FLS's KPI rows after the same kind of save (`_change`): its own rows made again.
AFTER_SAVE_API = "KPIs (API) after a save to its FLS"


async def _change(client: Any, ids: list[int], rng: random.Random) -> None:
    """Untimed, before each request of `AFTER_SAVE`: one of the FLS's records saved with its
    falls assessment done or not (as `load.py`'s nurse changes it), so that the FLS's own KPI
    rows changed since the last view (KPI 6 moves by one when the record is in 2024)."""
    record_id = rng.choice(ids)
    current = (await client.get(f"/api/records/{record_id}")).json()
    done = current.get("falls_assessment") in ("assessed", "referred")
    value = "not_done" if done else "assessed"
    changed = {**current, "falls_assessment": value}
    saved = await client.put(f"/api/records/{record_id}", json=changed)
    saved.raise_for_status()


async def _save(client: Any, ids: list[int], rng: random.Random) -> Any:
    """A save as the load mix makes it: the record read, then written back with a new sex
    (the read is part of the kind's cost, as in `load.py`)."""
    record_id = rng.choice(ids)
    current = (await client.get(f"/api/records/{record_id}")).json()
    value = rng.choice(["female", "male"])
    return await client.put(f"/api/records/{record_id}", json={**current, "sex": value})


async def _measure(
    client: Any, code: str, ids: list[int], kind: str, n: int, within: dict[str, list[float]]
) -> tuple[float, float]:
    """CPU and wall milliseconds per request of `kind`, over `n` requests one after another;
    in the mix, each request's CPU milliseconds are also added to `within` by its kind."""
    rng = random.Random(kind)
    chosen = kind

    def one() -> Awaitable[Any]:
        nonlocal chosen
        if kind == "mix":  # each kind in its share, saves among reads as the users make them
            roll = rng.random()
            chosen = next(name for share, name in SHARES if roll < share)
        if chosen == "record save (API)":
            return _save(client, ids, rng)
        return _request(client, code, ids, rng, chosen)  # type: ignore[no-any-return]

    for _ in range(max(3, n // 10)):  # warm: each kind's first request fills its caches
        if kind in (AFTER_SAVE, AFTER_SAVE_API):
            await _change(client, ids, rng)
        (await one()).raise_for_status()
    cpu, wall, untimed = time.process_time(), time.perf_counter(), (0.0, 0.0)
    for _ in range(n):
        if kind in (AFTER_SAVE, AFTER_SAVE_API):  # the save is not the page's cost
            start = time.process_time(), time.perf_counter()
            await _change(client, ids, rng)
            untimed = (
                untimed[0] + time.process_time() - start[0],
                untimed[1] + time.perf_counter() - start[1],
            )
        before = time.process_time()
        response = await one()
        within.setdefault(chosen, []).append((time.process_time() - before) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{kind}: {response.status_code} {response.text[:200]}")
    cpu_ms = (time.process_time() - cpu - untimed[0]) * 1000 / n
    return cpu_ms, (time.perf_counter() - wall - untimed[1]) * 1000 / n


async def _run(url: str, code: str, n: int, profile: str | None, kinds: list[str]) -> None:
    import httpx

    from flsdb.web.app import create_app
    from flsdb.web.settings import Settings

    app = create_app(Settings(database_url=url, secret_key=SECRET))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        login = {"username": f"load.{code.lower()}", "password": PASSWORD}
        response = await client.post("/api/login", json=login)
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        start = time.perf_counter()
        (await client.get(f"/fls/{code}", params={"period": "2024"})).raise_for_status()
        print(f"first dashboard (figures computed): {time.perf_counter() - start:.1f} s wall")
        refresh = app.state.dashboards.cells_refresh_seconds
        print(f"figures from the cells computed again at most every {refresh:g} s after a change")
        found = await client.get("/api/records", params={"limit": 200})
        ids = [r["id"] for r in found.json()["records"]]
        # The records `AFTER_SAVE` changes: of 2024, the period of the page it reads.
        year = {"fracture_from": "2024-01-01", "fracture_to": "2024-12-31", "limit": 200}
        found = await client.get("/api/records", params=year)
        of_2024 = [r["id"] for r in found.json()["records"]]
        print(f"load average before: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
        print("| kind | CPU ms per request | wall ms per request |")
        print("|---|---|---|")
        for kind in kinds:
            within: dict[str, list[float]] = {}
            chosen = of_2024 if kind in (AFTER_SAVE, AFTER_SAVE_API) else ids
            cpu, wall = await _measure(client, code, chosen, kind, n, within)
            print(f"| {kind} | {cpu:.2f} | {wall:.2f} |", flush=True)
        if "mix" in kinds:  # the last run's requests by kind: saves among the reads
            for name, values in sorted(within.items()):
                mean = sum(values) / len(values)
                print(f"| mix: {name} ({len(values)}) | {mean:.2f} | – |")
        print(f"load average after: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
        if profile:
            _inline_threads()  # the profiler sees the calling thread only
            profiler = cProfile.Profile()
            profiler.enable()
            after = profile in (AFTER_SAVE, AFTER_SAVE_API)
            await _measure(client, code, of_2024 if after else ids, profile, n, {})
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats("flsdb/", 60)  # the application's own functions
            stats.sort_stats("tottime").print_stats(30)
    app.state.engine.dispose()


def _inline_threads() -> None:
    """Run what the application hands to its thread pool in the calling thread instead, so that
    cProfile (which follows one thread) sees it (for the profile only: the timings above ran as
    the server runs)."""

    async def inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    for module in list(sys.modules.values()):
        if getattr(module, "run_in_threadpool", None) is not None and (
            module.__name__.startswith(("flsdb", "fastapi", "starlette"))
        ):
            module.run_in_threadpool = inline  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, required=True, help="a SQLite store (a copy is used)")
    parser.add_argument("--requests", type=int, default=200, help="requests per kind")
    parser.add_argument("--kind", action="append", choices=KINDS, help="only these kinds")
    parser.add_argument("--profile", choices=KINDS, help="profile this kind (cProfile)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="flsdb-cost-"))
    try:
        copy = folder / "cost.db"
        shutil.copy(args.db, copy)
        url = f"sqlite:///{copy}"
        code = _services(url)[0]
        _users(url, [code])
        asyncio.run(_run(url, code, args.requests, args.profile, args.kind or list(KINDS)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
