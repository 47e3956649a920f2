"""What each dashboard's body shows, once per computation of the figures: its sections by the
question they answer (how are we doing, what changed, where do we stand among FLSs), its
charts by id (fetched by the page as they come into view) and its tables (downloaded as CSV
and XLSX). The page, the chart route and the table route all read the same context."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flsdb.figures import PeriodFigures
from flsdb.web import dashboards as views
from flsdb.web.spc_views import spc_views

MONTHS_NOT_PUBLISHED = (
    "Month-by-month charts of an FLS are shown to its own staff and the national team only: "
    "figures beyond the FLS are published for whole years, since a month's counts set beside "
    "the year's could give away a withheld count of 1 to 4."
)


def query(data: PeriodFigures) -> str:
    """The period and extract date of the figures, as a query string (no patient in it)."""
    as_of = data.as_of if isinstance(data.as_of, dt.date) else dt.date.fromisoformat(data.as_of)
    return urlencode({"period": data.period.label, "as_of": as_of.isoformat()})


def fls_body(data: PeriodFigures, code: str, published: bool, full: bool = False) -> dict[str, Any]:
    """An FLS's dashboard: its KPIs with icons beside its region, its nation and England and
    Wales (as published, or in full for the national team: `full`); its months (SPC); its place
    among the FLSs (funnels); completeness and mix. Nothing beside a withheld value gives it
    back: a KPI whose England and Wales value is withheld has no funnel (its centre line)."""
    return data.view(
        "fls body", code, published, full, make=lambda: _fls_body(data, code, published, full)
    )


def _fls_body(data: PeriodFigures, code: str, published: bool, full: bool) -> dict[str, Any]:
    info = data.service_info(code)
    region = str(info["region_code"])
    nation = str(info["nation"])
    if published:  # published figures are yearly: months beside the year would subtract
        spc: list[dict[str, Any]] = []
        words, notes = [MONTHS_NOT_PUBLISHED], list[str]()
        icons: dict[str, dict[str, str]] = {}
    else:
        spc, words, notes, icons = spc_views(data, data.monthly_service, code, published)
    completeness_spec, completeness_rows = views.completeness(data, code, published)
    mix_spec, mix_rows = views.mix(data, code, published)
    kpis = views.kpi_table(data, code, published, full)
    hidden = frozenset(k["kpi"] for k in kpis if views.withheld(k["all"]))
    funnels = views.funnel_views(
        data, highlight={code}, own_shown=not published, centre_withheld=hidden
    )
    charts = {v["id"]: v["spec"] for v in spc}
    charts.update({v["id"]: v["spec"] for v in funnels if v["points"]})
    charts["completeness"] = completeness_spec
    charts["mix"] = mix_spec
    return {
        "code": code,
        "unit_name": data.unit_name("service", code),
        "region_name": data.unit_name("region", region),
        "nation_name": data.unit_name("nation", nation),
        "all_name": data.unit_name("nation", "all"),
        "kpis": kpis,
        "full": full,
        "icons": icons,
        "spc": spc,
        "words": words,
        "notes": notes,
        "funnels": funnels,
        "completeness_rows": completeness_rows,
        "mix_rows": mix_rows,
        "charts": charts,
        "query": query(data),
        "base": f"/fls/{code}",
        "tables": f"/tables/fls/{code}",
        "chart_src": f"/charts/fls/{code}",
    }


def group_body(data: PeriodFigures, level: str, unit: str, published: bool) -> dict[str, Any]:
    """A region's or the nation's dashboard: its KPIs, its FLSs side by side, identification,
    funnels and the variation between FLSs (links to FLSs are added by the page, per viewer)."""
    return data.view(
        "group body",
        level,
        unit,
        published,
        make=lambda: _group_body(data, level, unit, published),
    )


def _group_body(data: PeriodFigures, level: str, unit: str, published: bool) -> dict[str, Any]:
    services = data.services
    if level == "region":
        codes = sorted(services[services["region_code"] == unit]["service_code"])
        units, id_level = codes, "service"
    else:
        codes = sorted(services["service_code"])
        units, id_level = sorted(set(services["region_code"])), "region"
    headline = [
        (k, views.kpi_row(data, level, unit, k, published=published))
        for k in data.published[level].query("unit == @unit")["kpi"]
    ]
    id_spec, id_rows = views.identification(data, id_level, units, published)
    # The nation's Making Data Count icons, read from its monthly charts (the charts themselves
    # are in the national report); a region has no monthly charts. None beside a withheld value.
    icons = spc_views(data, data.monthly_nation, "all")[3] if level == "nation" else {}
    icons = {
        k: v for k, v in icons.items() if not any(views.withheld(c) for h, c in headline if h == k)
    }
    # The funnels' centre line is England and Wales's value: none where it is withheld.
    hidden = frozenset(
        k
        for k in data.published["nation"].query("unit == 'all'")["kpi"]
        if published and views.withheld(views.kpi_row(data, "nation", "all", k))
    )
    funnels = views.funnel_views(
        data, only=set(codes) if level == "region" else None, centre_withheld=hidden
    )
    charts = {v["id"]: v["spec"] for v in funnels if v["points"]}
    charts["identification"] = id_spec
    return {
        "level": level,
        "unit": unit,
        "unit_name": data.unit_name(level, unit),
        "codes": codes,
        "headline": headline,
        "icons": icons,
        "id_rows": id_rows,
        "funnels": funnels,
        "inequity": views.inequity_rows(data),
        "charts": charts,
        "query": query(data),
        "tables": f"/tables/{level}/{unit}",
        "chart_src": f"/charts/{level}/{unit}",
    }


def benchmark_rows(
    data: PeriodFigures, codes: list[str], in_full: frozenset[str] | None
) -> tuple[list[str], list[dict[str, Any]]]:
    """The FLSs side by side, each FLS's row published or in full for this viewer."""
    return data.view(
        "benchmark rows",
        tuple(codes),
        in_full,
        make=lambda: views.benchmark(data, codes, in_full),
    )
