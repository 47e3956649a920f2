"""GET /api/kpis reads the maintained figures: the rows equal the KPI engine's over the records
(every level, every count), and a saved change is in the next answer (no refresh to wait for)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from flsdb.kpi import KpiRequest, compute_levels, load_catalogue, parse_period
from flsdb.kpi.query import count_query, run_counts
from flsdb.kpi.sources import source_from_database
from flsdb.services.access import Role
from flsdb.services.kpis import kpi_rows
from flsdb.services.live_figures import LiveCache, compute, compute_level, kpi_figures, level_rows
from flsdb.services.policy import Actor
from tests.web.conftest import WORKER_POOL_GROUP, Site
from tests.web.same_inputs import dashboard_parts_once, kpi_rows_once, records_figures_once

AS_OF = dt.date(2026, 1, 31)
PARAMS = {"period": "2024", "as_of": AS_OF.isoformat()}
LEVELS = ("service", "region", "nation", "age_band", "sex", "care_home")


@pytest.fixture(autouse=True)
def _same_inputs_once(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Figures of the same inputs computed once per process (tests/web/same_inputs.py): most
    tests here view the small site as built, or after the same change. Not the KPI rows of the
    test that counts the disclosure checks made under their computation."""
    records_figures_once(monkeypatch)
    dashboard_parts_once(monkeypatch)
    if request.node.originalname != "test_the_same_rows_are_published_once":
        kpi_rows_once(monkeypatch)


def _engine_tables(url: str) -> dict[str, pd.DataFrame]:
    """Every level's KPI rows as the engine computes them from the records themselves: one
    source, and the counts by FLS counted once for the three levels made from them (service,
    region, nation), the breakdowns' each by its own."""
    catalogue = load_catalogue()
    source = source_from_database(url)
    try:
        period = parse_period("2024")
        counts: dict[str, pd.DataFrame] = {}
        tables: dict[str, pd.DataFrame] = {}
        for level in LEVELS:
            by = level if level in ("age_band", "sex", "care_home") else "service"
            if by not in counts:
                query = count_query(
                    source.table,
                    source.backend,
                    catalogue,
                    catalogue.measures,
                    period.start,
                    period.end,
                    AS_OF,
                    by,
                )
                counts[by] = run_counts(*query)
            request = KpiRequest(period, by=level, as_of=AS_OF)
            tables[level] = compute_levels(source, request, (level,), counts=counts[by].copy())[
                level
            ].table
        return tables
    finally:  # no SQLite connection stays open beside the writers' (storage.bulk)
        source.table._find_backend().disconnect()


def test_kpi_rows_equal_the_engine_at_every_level(site: Site) -> None:
    figures = compute(site.engine, "2024", AS_OF)
    assert figures is not None
    engine_tables = _engine_tables(site.url)
    for level in LEVELS:
        pd.testing.assert_frame_equal(
            figures.tables[level].reset_index(drop=True),
            engine_tables[level].reset_index(drop=True),
            check_dtype=False,
        )
    analyst = site.client("analyst").get("/api/kpis", params={**PARAMS, "by": "nation"}).json()
    row = next(r for r in analyst if r["unit"] == "all" and r["kpi"] == "kpi04")
    assert (row["numerator"], row["denominator"]) == (1, 6)


def test_a_saved_change_is_in_the_next_answer(site: Site) -> None:
    nurse = site.client("nurse")

    def kpi06() -> tuple[int, int]:
        rows = nurse.get("/api/kpis", params={**PARAMS, "by": "service"}).json()
        row = next(r for r in rows if r["unit"] == "FLS01" and r["kpi"] == "kpi06")
        return row["numerator"], row["denominator"]

    assert kpi06() == (0, 3)
    record_id = site.record_id("FLS01")
    body = nurse.get(f"/api/records/{record_id}").json()
    saved = nurse.put(f"/api/records/{record_id}", json={**body, "falls_assessment": "assessed"})
    assert saved.status_code == 200, saved.text
    assert kpi06() == (1, 3)
    assert nurse.delete(f"/api/records/{record_id}").status_code == 204
    assert kpi06() == (0, 2)
    # The same rows without the server's cache (as the KPI page and `flsdb kpis` read them).
    actor = Actor("analyst", Role.NATIONAL_ANALYST)
    rows = kpi_rows(site.url, site.engine, actor, "2024", "service", AS_OF)
    row = next(r for r in rows if r["unit"] == "FLS01" and r["kpi"] == "kpi06")
    assert (row["numerator"], row["denominator"]) == (0, 2)


def test_the_dashboards_kpi_values_are_current_before_their_charts(site: Site) -> None:
    """Figures computed before a change (their refresh not due yet) come with the KPI rows of
    the maintained figures: the change shows in the dashboards' values at once."""
    from flsdb.services.dashboards import DashboardCache, figures
    from flsdb.storage.edits import update_record
    from flsdb.storage.tables import RECORD_COLUMNS, records

    # The figures from the records (a store that keeps none), refreshed at most hourly.
    cache = DashboardCache(refresh_seconds=3600, wait_seconds=600, from_cells=False)
    first = figures(cache, site.url, site.engine, "2024", AS_OF)
    assert not first.stale and first.counts_current
    assert first.data.row("service", "FLS01", "kpi06", published=False)["numerator"] == 0
    record_id = site.record_id("FLS01")
    with site.engine.connect() as conn:
        row = conn.execute(records.select().where(records.c.id == record_id)).one()
    values = {**{c: row._mapping[c] for c in RECORD_COLUMNS}, "falls_assessment": "referred"}
    update_record(site.engine, record_id, row.version, values, {"FLS01"}, "nurse")
    later = figures(cache, site.url, site.engine, "2024", AS_OF)
    assert later.stale and later.counts_current and cache.computed == 1  # no recomputation
    assert later.data.row("service", "FLS01", "kpi06", published=False)["numerator"] == 1
    assert later.data.row("nation", "all", "kpi06", published=False)["numerator"] == 1
    assert figures(cache, site.url, site.engine, "2024", AS_OF).data is later.data  # kept


def test_one_levels_rows_equal_the_whole_publications(site: Site) -> None:
    """The fast path (one level, for some FLSs, no disclosure check) gives the rows the whole
    computation gives for the same units, at every level, and for each FLS alone."""
    whole = compute(site.engine, "2024", AS_OF)
    assert whole is not None
    for level in LEVELS:
        alone = compute_level(site.engine, "2024", AS_OF, level)
        assert alone is not None
        pd.testing.assert_frame_equal(alone, whole.tables[level], check_dtype=False)
    full = whole.tables["service"]
    for codes in (("FLS01",), ("FLS02",), ("FLS01", "FLS02")):
        some = compute_level(site.engine, "2024", AS_OF, "service", codes)
        assert some is not None and set(some["unit"]) == set(codes)
        expected = full[full["unit"].isin(codes)].reset_index(drop=True)
        pd.testing.assert_frame_equal(some, expected, check_dtype=False)
    for period in ("2024-Q1", "2024-03"):  # unsuppressed rows may be of any period
        some = compute_level(site.engine, period, AS_OF, "service", ("FLS01",))
        every = compute(site.engine, period, AS_OF)
        assert some is not None and every is not None
        expected = every.tables["service"]
        expected = expected[expected["unit"] == "FLS01"].reset_index(drop=True)
        pd.testing.assert_frame_equal(some, expected, check_dtype=False)


def test_an_fls_reads_its_own_rows_without_the_whole_publication(site: Site) -> None:
    """An FLS's staff reading their FLS's rows, and the national team reading any level, make
    only that level's rows: a save is in the next answer, and nothing computes the published
    figures for it; published rows still come from the whole publication."""
    live = site.app.state.dashboards.live
    nurse = site.client("nurse")
    rows = nurse.get("/api/kpis", params={**PARAMS, "by": "service"}).json()
    assert {r["unit"] for r in rows} == {"FLS01"} and all(r["suppressed"] is None for r in rows)
    assert (live.computed, live.levels_computed) == (0, 1)
    record_id = site.record_id("FLS01")
    body = nurse.get(f"/api/records/{record_id}").json()
    saved = nurse.put(f"/api/records/{record_id}", json={**body, "falls_assessment": "assessed"})
    assert saved.status_code == 200, saved.text
    rows = nurse.get("/api/kpis", params={**PARAMS, "by": "service"}).json()
    assert next(r for r in rows if r["kpi"] == "kpi06")["numerator"] == 1
    assert (live.computed, live.levels_computed) == (0, 2)
    nurse.get("/api/kpis", params={**PARAMS, "by": "service"})
    assert live.levels_computed == 2  # kept while nothing changed
    analyst = site.client("analyst")
    for level in LEVELS:
        got = analyst.get("/api/kpis", params={**PARAMS, "by": level}).json()
        whole = compute(site.engine, "2024", AS_OF, share=False)  # not kept for the app
        assert whole is not None
        assert len(got) == len(whole.tables[level])
    assert live.computed == 0
    # A region's rows are published to an FLS's staff: from the whole publication.
    region = nurse.get("/api/kpis", params={**PARAMS, "by": "region"})
    assert region.status_code == 200 and live.computed == 1


@WORKER_POOL_GROUP
def test_the_whole_publication_computed_in_a_worker_process_is_the_same(
    site: Site, worker_pool: Any
) -> None:
    """The server computes the published figures in a process of its own (its interpreter lock
    stays free for the reads): the same figures as computed here."""
    cache = LiveCache(pool=worker_pool)
    there = kpi_figures(site.engine, "2024", AS_OF, cache)
    worker = next(iter(cache.pool._processes.values()))
    assert there is not None and worker.is_alive() and worker.pid is not None
    here = compute(site.engine, "2024", AS_OF, share=False)  # computed here, not read back
    assert here is not None and cache.computed == 1
    for level in LEVELS:
        pd.testing.assert_frame_equal(there.tables[level], here.tables[level])
        pd.testing.assert_frame_equal(there.shown[level], here.shown[level])


def test_the_same_rows_are_published_once(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """The published copies are kept by what they protect: an ended period read at another
    extract date (every window passed, the same rows) costs no second disclosure check, and
    a saved change makes new rows, checked again."""
    from flsdb.config import load_thresholds
    from flsdb.figures.kept import Kept
    from flsdb.kpi.sources import stored_services
    from flsdb.services import live_figures

    checks: list[int] = []
    protect = live_figures.protect_tables

    def counted(*args: object, **kwargs: object) -> object:
        checks.append(1)
        return protect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(live_figures, "protect_tables", counted)
    monkeypatch.setattr(live_figures, "_PUBLISHED", Kept(8))
    first = compute(site.engine, "2024", AS_OF)
    later = compute(site.engine, "2024", AS_OF + dt.timedelta(days=30))
    assert first is not None and later is not None and len(checks) == 1
    for level in LEVELS:
        pd.testing.assert_frame_equal(first.tables[level], later.tables[level])
        assert later.shown[level] is first.shown[level]
    # What the disclosure check gives for these rows, exactly.
    services = stored_services(site.engine)
    listed = services[["service_code", "service_name", "region_code", "region_name", "nation"]]
    listed = listed.sort_values("service_code").reset_index(drop=True)
    direct = protect(later.tables, listed, load_thresholds().suppression)
    for level in LEVELS:
        pd.testing.assert_frame_equal(later.shown[level], direct[level])
    nurse = site.client("nurse")
    record_id = site.record_id("FLS01")
    body = nurse.get(f"/api/records/{record_id}").json()
    saved = nurse.put(f"/api/records/{record_id}", json={**body, "falls_assessment": "assessed"})
    assert saved.status_code == 200, saved.text
    changed = compute(site.engine, "2024", AS_OF)
    assert changed is not None and len(checks) == 2
    row = changed.tables["service"]
    row = row[(row["unit"] == "FLS01") & (row["kpi"] == "kpi06")].iloc[0]
    assert (row["numerator"], row["denominator"]) == (1, 3)


def test_an_fls_rows_are_made_again_only_when_their_inputs_change(site: Site) -> None:
    """After any change an FLS's rows read their inputs again (its cells' sums, the services):
    a change to another FLS's record leaves them as they were (the rows already made, with
    their JSON), a change to its own that moves a KPI makes them again."""
    live = LiveCache()

    def own() -> Any:
        found = level_rows(site.engine, "2024", AS_OF, "service", frozenset({"FLS01"}), live)
        assert found is not None
        return found

    def save(client: Any, code: str, value: str) -> None:
        record_id = site.record_id(code)
        body = client.get(f"/api/records/{record_id}").json()
        saved = client.put(f"/api/records/{record_id}", json={**body, "falls_assessment": value})
        assert saved.status_code == 200, saved.text

    first = own()
    first.views["encoded"] = "made once"
    save(site.client("nurse2"), "FLS02", "assessed")
    second = own()
    assert second.version != first.version and live.levels_computed == 1
    assert second.table is first.table and second.views["encoded"] == "made once"
    save(site.client("nurse"), "FLS01", "assessed")
    third = own()
    assert live.levels_computed == 2 and third.table is not first.table
    row = third.table[third.table["kpi"] == "kpi06"].iloc[0]
    assert int(row["numerator"]) == 1 and "encoded" not in third.views


def test_two_server_processes_compute_a_period_once(site: Site) -> None:
    """`flsdb serve --workers N`: the whole publication one app computed is read from the store
    by a second app on the same store (not computed again, the same rows); a saved change is a
    new generation, computed once again, and the older one is dropped from the store."""
    from flsdb.services.shared_rows import decode
    from flsdb.storage.edits import update_record
    from flsdb.storage.shared_figures import shared_count
    from flsdb.storage.tables import RECORD_COLUMNS, figure_rows, records
    from flsdb.web.app import create_app
    from flsdb.web.settings import Settings
    from tests.web.live import SECRET

    second = create_app(Settings(database_url=site.url, secret_key=SECRET))
    one, two = site.app.state.dashboards.live, second.state.dashboards.live
    try:
        first = kpi_figures(site.engine, "2024", AS_OF, one)
        again = kpi_figures(second.state.engine, "2024", AS_OF, two)
        assert first is not None and again is not None and again.shared
        assert (one.computed, one.shared, two.computed, two.shared) == (1, 0, 0, 1)
        for level in LEVELS:
            pd.testing.assert_frame_equal(again.tables[level], first.tables[level])
            pd.testing.assert_frame_equal(again.shown[level], first.shown[level])
        assert shared_count(site.engine) == 1
        record_id = site.record_id("FLS01")
        with site.engine.connect() as conn:
            row = conn.execute(records.select().where(records.c.id == record_id)).one()
            kept = conn.execute(figure_rows.select()).one()
        tables, shown = decode(kept.payload)
        assert tables["service"].equals(first.tables["service"]) and set(shown) == set(LEVELS)
        values = {**{c: row._mapping[c] for c in RECORD_COLUMNS}, "falls_assessment": "assessed"}
        update_record(site.engine, record_id, row.version, values, {"FLS01"}, "nurse")
        changed = kpi_figures(second.state.engine, "2024", AS_OF, two)
        seen = kpi_figures(site.engine, "2024", AS_OF, one)
        assert changed is not None and seen is not None and seen.shared
        assert (one.computed, one.shared, two.computed, two.shared) == (1, 1, 1, 1)
        kpi06 = seen.tables["service"]
        kpi06 = kpi06[(kpi06["unit"] == "FLS01") & (kpi06["kpi"] == "kpi06")]
        before = first.tables["service"]
        before = before[(before["unit"] == "FLS01") & (before["kpi"] == "kpi06")]
        assert kpi06["numerator"].iloc[0] == before["numerator"].iloc[0] + 1
        assert shared_count(site.engine) == 1  # the older generation dropped
    finally:
        second.state.engine.dispose()
