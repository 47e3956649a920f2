"""Dashboard views: the figures of a period (`flsdb.figures.PeriodFigures`) cut to an FLS, a
region or the nation, as rows for tables and Vega-Lite specifications for charts
(`flsdb.web.charts`); each view is kept on the figures it was made from."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
from markupsafe import Markup

from flsdb.disclosure import is_hidden
from flsdb.figures import (
    FLAG_WORDS,
    FUNNEL_KPIS,
    MIX_LABELS,
    PeriodFigures,
    comparator,
    mix_shares,
)
from flsdb.services.records import field_labels
from flsdb.sheets import plain_number
from flsdb.stats.funnel import Funnel
from flsdb.web import charts
from flsdb.web.pages import templates
from flsdb.web.published import small_withheld

LEVEL_WORDS = {"95%": 0.95, "99.8%": 0.998}
T = TypeVar("T")


def memo(name: str, data: PeriodFigures, *key: Hashable, make: Callable[[], T]) -> T:
    """A view of the figures (`name` and `key` say which), made once and kept with them."""
    return data.view(name, *key, make=make)


def html(
    name: str, data: PeriodFigures, *key: Any, context: Callable[[], dict[str, Any]]
) -> Markup:
    """A template rendered once per computation of the figures and `key` (its other inputs):
    a dashboard's charts and tables are the same for every view until the figures change."""

    def make() -> Markup:
        return Markup(templates.get_template(name).render(context()))

    return data.view(f"html {name}", *key, make=make)


# Where a part rendered apart goes in a template rendered once (`html_around`).
HOLE = Markup("<!-- flsdb: rendered apart -->")


def html_around(
    name: str, data: PeriodFigures, *key: Any, context: Callable[[], dict[str, Any]], hole: str
) -> tuple[Markup, Markup]:
    """A template rendered once per computation of the figures and `key`, with `HOLE` given as
    its `hole` variable: the page before and after it, for a part that changes more often (an
    FLS's own KPI table, rendered once per content of its rows) to go between."""

    def make() -> tuple[Markup, Markup]:
        text = templates.get_template(name).render({**context(), hole: HOLE})
        before, found, after = text.partition(HOLE)
        if not found or HOLE in after:
            raise ValueError(f"{name} must show {hole} once")
        return Markup(before), Markup(after)

    return data.view(f"html around {name}", *key, make=make)


def unit_names(data: PeriodFigures) -> dict[str, str]:
    """Every FLS's name with its code, once per computation."""

    def make() -> dict[str, str]:
        return {
            str(r["service_code"]): f"{r['service_name']} ({r['service_code']})"
            for r in data.services.to_dict("records")
        }

    return data.view("names", make=make)


def kpi_row(
    data: PeriodFigures, level: str, unit: str, kpi: str, published: bool = True
) -> dict[str, Any]:
    row = data.row(level, unit, kpi, published=published)
    out = {k: plain_number(row.get(k)) for k in ("numerator", "denominator", "rag", "not_due")}
    for k in ("percent", "ci_low", "ci_high"):  # percentages stay as the API gives them (0.0)
        value = row.get(k)
        if hasattr(value, "item"):
            value = value.item()
        out[k] = (
            None if value is None or (isinstance(value, float) and math.isnan(value)) else value
        )
    return out


def withheld(cell: dict[str, Any]) -> bool:
    """Whether a value is shown withheld: either of its counts is a marker (<5 or c)."""
    return is_hidden(cell.get("numerator")) or is_hidden(cell.get("denominator"))


def kpi_table(
    data: PeriodFigures, code: str, published: bool = False, full: bool = False
) -> list[dict[str, Any]]:
    """An FLS's KPIs (its own unsuppressed, or as published: the policy's disclosure level for
    the viewer) beside its region and nation: as published, or in full for a viewer who sees
    every unit so (`full`: the national team). A region of this FLS alone is this FLS: its
    values are the FLS's own, so that the two never disagree."""
    return data.view(
        "kpis", code, published, full, make=lambda: _kpi_table(data, code, published, full)
    )


def _kpi_table(data: PeriodFigures, code: str, published: bool, full: bool) -> list[dict[str, Any]]:
    info = data.service_info(code)
    region_code = str(info["region_code"])
    alone = int((data.services["region_code"].astype(str) == region_code).sum()) == 1
    shown = ("numerator", "denominator", "percent", "rag")

    def beside(level: str, unit: str, kpi: str) -> dict[str, Any]:
        if full:
            return kpi_row(data, level, unit, kpi, published=False)
        return comparator(data, level, unit, kpi, code)

    rows = []
    for kpi in data.unsuppressed["service"].query("unit == @code")["kpi"].tolist():
        own = kpi_row(data, "service", code, kpi, published=published)
        region = beside("region", region_code, kpi)
        nation = beside("nation", str(info["nation"]), kpi)
        both = beside("nation", "all", kpi)
        region_cells = {k: plain_number(region.get(k)) for k in shown}
        if alone and data.measure(kpi).kind != "completeness":  # kpi01: its FLSs green
            region_cells = {**{k: own.get(k) for k in (*shown, "not_due")}, "only": True}
        rows.append(
            {
                "kpi": kpi,
                "name": data.name(kpi),
                "own": own,
                "region": region_cells,
                "nation": {k: plain_number(nation.get(k)) for k in shown},
                "all": {k: plain_number(both.get(k)) for k in shown},
                "not_met": _not_met(data, kpi, own),
            }
        )
    return rows


def _not_met(data: PeriodFigures, kpi: str, own: dict[str, Any]) -> int | None:
    """The patients a KPI with a standard (a RAG threshold) applies to who did not meet it
    (None: a share without a standard, a count that is not of patients, or withheld)."""
    measure = data.measure(kpi)
    n, d = own.get("numerator"), own.get("denominator")
    if measure.kind != "proportion" or data.thresholds.rag_for(measure.id) is None:
        return None
    if not isinstance(n, int) or not isinstance(d, int):
        return None
    return d - n


def funnel_views(
    data: PeriodFigures,
    highlight: set[str] | None = None,
    only: set[str] | None = None,
    own_shown: bool = True,
    centre_withheld: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """One funnel per KPI: FLSs whose values may be published (those in `only`, if given),
    `highlight` drawn as 'this FLS', with the overdispersion-adjusted limits. Where the page
    shows a KPI's England and Wales value withheld (`centre_withheld`), its funnel has the
    points alone: the centre line is that value, the limits are drawn about it, and each
    point's place against them (its colour and words) would narrow it."""
    views = []
    for base in data.view("funnels", make=lambda: _funnels(data)):
        hidden = base["kpi"] in centre_withheld
        # An FLS sees its own point even where its value may not be published.
        points = [
            {**p, "flag": "this FLS"} if highlight and p["code"] in highlight else p
            for p in base["points"]
            if (p["shown"] or (own_shown and highlight and p["code"] in highlight))
            and (only is None or p["code"] in only)
        ]
        if hidden:
            points = [
                {**p, "flag": p["flag"] if p["flag"] == "this FLS" else charts.NOT_JUDGED}
                | {"alarm": False, "words": WITHHELD_WORDS}
                for p in points
            ]
            spec = charts.funnel_spec(base["title"], points, [], None)
            views.append({**base, "points": points, "spec": spec, "centre_withheld": True})
            continue
        spec = charts.funnel_spec(base["title"], points, base["limits"], base["target_exact"])
        views.append({**base, "points": points, "spec": spec, "centre_withheld": False})
    return views


WITHHELD_WORDS = "not judged: the England and Wales value is withheld"


def _funnels(data: PeriodFigures) -> list[dict[str, Any]]:
    views = []
    names = unit_names(data)
    for kpi in FUNNEL_KPIS:
        result = data.inequities.get(kpi)
        if result is None:
            continue
        funnel = result.funnel
        n = np.asarray(result.denominators, dtype=float)
        if not (n > 0).any():
            continue
        points = []
        for i, code in enumerate(result.names):
            if n[i] <= 0 or not np.isfinite(funnel.proportion[i]):
                continue
            flag = funnel.flags[i] or "inside"
            points.append(
                {
                    "code": code,
                    "name": names.get(code, code),
                    "numerator": plain_number(data.row("service", code, kpi).get("numerator")),
                    "denominator": plain_number(n[i]),
                    "percent": round(float(funnel.proportion[i]) * 100, 1),
                    "flag": charts.FLAG_LABELS[flag],
                    "alarm": flag.endswith("alarm"),
                    "words": FLAG_WORDS.get(flag, flag),
                    "shown": bool(result.shown[i]),
                }
            )
        grid = np.linspace(max(1.0, n[n > 0].min() * 0.8), n.max() * 1.05, 60)
        limits = []
        for label, level in LEVEL_WORDS.items():
            low, high = funnel.limits_at(grid, level)
            for side, values in (("low", low), ("high", high)):
                limits += [
                    {
                        "denominator": round(float(x), 1),
                        "value": round(float(v) * 100, 2),
                        "level": label,
                        "line": f"{label} {side}",
                    }
                    for x, v in zip(grid, values, strict=True)
                ]
        views.append(
            {
                "id": "funnel-" + kpi,
                "kpi": kpi,
                "title": data.name(kpi),
                "method": _method_words(funnel),
                "target": round(funnel.target * 100, 1),
                "target_exact": round(funnel.target * 100, 2),
                "limits": limits,
                "points": points,
            }
        )
    return views


def _method_words(funnel: Funnel) -> str:
    dispersion = funnel.dispersion
    words = f"{funnel.method} limits"
    if dispersion is None or funnel.overdispersion == "none":
        return words + ", not adjusted for overdispersion"
    if not dispersion.present:
        return words + f"; phi {dispersion.phi:.2f} (no overdispersion, not adjusted)"
    return words + (
        f", adjusted for overdispersion ({funnel.overdispersion}; phi {dispersion.phi:.1f}, "
        f"tau-squared {dispersion.tau2:.4f})"
    )


def benchmark(
    data: PeriodFigures, codes: list[str], in_full: frozenset[str] | None = frozenset()
) -> tuple[list[str], list[dict[str, Any]]]:
    """FLS rows: name, code, and per KPI the published cell, or the computed one for the FLSs
    the viewer sees in full (`in_full`; None: every FLS)."""
    kpis = [k for k in data.published["service"]["kpi"].drop_duplicates().tolist()]
    rows = []
    for code in codes:
        full = in_full is None or code in in_full
        cells = {kpi: kpi_row(data, "service", code, kpi, published=not full) for kpi in kpis}
        rows.append({"code": code, "name": unit_names(data).get(code, code), "cells": cells})
    return kpis, rows


def completeness(
    data: PeriodFigures, code: str, published: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Key fields missing, by field; as published, a count of 1 to 4 (missing, or complete)
    is withheld with its percentage, as the reports withhold small counts."""
    labels = field_labels()
    frame = data.fls_completeness(code)
    rows = [
        {
            "field": labels.get(str(r["field"]), str(r["field"])),
            "applicable": int(r["applicable"]),
            "missing": int(r["missing"]),
            "percent": None
            if r["percent_missing"] is None
            or (isinstance(r["percent_missing"], float) and math.isnan(r["percent_missing"]))
            else round(float(r["percent_missing"]), 1),
            "over": bool(r["over_threshold"]),
        }
        for r in frame.to_dict("records")
    ]
    if published:
        rows = [small_withheld(r, data.thresholds.suppression) for r in rows]
    spec = charts.bar_spec(
        "",  # said by the figure's caption
        [r for r in rows if r["percent"] is not None],
        "field",
        "percent",
        "percent missing",
        20.0,
        [
            {"field": "field"},
            {"field": "missing", "title": "missing"},
            {"field": "applicable", "title": "records"},
            {"field": "percent", "title": "%", "format": ".1f"},
        ],
        rule_words="threshold",
    )
    return spec, rows


def mix(
    data: PeriodFigures, code: str | None, published: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Treatment mix as shares; an FLS's as published leaves out the groups whose counts the
    disclosure control withholds (a share of a few patients gives their count back)."""
    shares: dict[str, float | None] = dict(mix_shares(data, code))
    if published and code is not None:
        shown = data.fls_mix(code, published=True)
        for group in shares:
            values = shown[group].tolist() + shown["records"].tolist()
            if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
                shares[group] = None
    rows = [
        {"group": MIX_LABELS[g], "percent": None if v is None else round(v, 1)}
        for g, v in shares.items()
    ]
    return charts.bar_spec(
        "",  # said by the figure's caption
        [r for r in rows if r["percent"] is not None],
        "group",
        "percent",
        "percent of patients",
    ), rows


def identification(
    data: PeriodFigures, level: str, units: list[str], published: bool = True
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """kpi02: records against the expected caseload, per unit, as published (or in full)."""
    rows = []
    for unit in units:
        row = kpi_row(data, level, unit, "kpi02", published=published)
        percent = row["percent"] if not is_hidden(row["numerator"]) else None
        rows.append(
            {
                "unit": unit_names(data).get(unit) or data.unit_name(level, unit),
                "records": row["numerator"],
                "expected": row["denominator"],
                "percent": percent,
            }
        )
    spec = charts.bar_spec(
        "",  # said by the figure's caption
        [r for r in rows if r["percent"] is not None],
        "unit",
        "percent",
        "percent of the expected caseload",
        80.0,
        [
            {"field": "unit"},
            {"field": "records", "title": "records (n)"},
            {"field": "expected", "title": "expected (N)"},
            {"field": "percent", "title": "%", "format": ".1f"},
        ],
    )
    return spec, rows


def inequity_rows(data: PeriodFigures) -> list[dict[str, Any]]:
    rows = []
    for kpi, result in data.inequities.items():
        rows.append(
            {
                "kpi": kpi,
                "name": data.name(kpi),
                "units": result.units,
                "median": result.median,
                "q1": result.q1,
                "q3": result.q3,
                "minimum": result.minimum,
                "maximum": result.maximum,
                "ratio": result.ratio_90_10,
                "outside": len(result.outside("low_alarm", "high_alarm")),
            }
        )
    return rows
