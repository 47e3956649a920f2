"""The executive summary: the year in a page, in words, from the figures the report publishes
(participation and coverage, the headline KPIs against their targets and last year, the 80/50/80
model, the variation between FLSs, the significant changes and the recommendations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flsdb.reports.coverage import Coverage
from flsdb.reports.mix_counts import national_shares
from flsdb.reports.outliers import withheld
from flsdb.reports.trends import TrendRow, absent, p_text, trend_summary
from flsdb.reports.words import plural

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures


def _value(data: PeriodFigures, kpi: str) -> str:
    row = data.row("nation", "all", kpi)
    percent = row.get("percent")
    return "withheld" if absent(percent) else f"{float(percent):.1f}%"  # type: ignore[arg-type]


def _since(rows: dict[str, TrendRow], kpi: str, year: int) -> str:
    row = rows.get(kpi)
    if row is None or len(row.cells) < 2:
        return ""
    before = row.cells[-2].get("percent")
    if absent(before):
        return ""
    if row.change is None or not row.change.significant():
        return f" ({year - 1}: {float(before):.1f}%, no significant change)"  # type: ignore[arg-type]
    words = "higher" if row.change.z > 0 else "lower"
    return (
        f" ({year - 1}: {float(before):.1f}%; significantly {words}, "  # type: ignore[arg-type]
        f"{p_text(row.change.p)})"
    )


def _first_lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def applies(item: dict[str, object]) -> bool:
    """Whether a recommendation picks out any unit, named or counted as withheld."""
    return bool(item["count"]) or bool(item.get("withheld"))


def alarm_sentence(data: PeriodFigures) -> str:
    """Every result beyond an outer funnel limit, named or not (an FLS whose counts are
    withheld is counted, not named)."""
    results = list(data.inequities.values())
    alarms = sum(len(r.outside("low_alarm", "high_alarm")) for r in results)
    hidden = sum(len(withheld(r, "low_alarm", "high_alarm")) for r in results)
    total = alarms + hidden
    kpis = len(results)
    sentence = (
        f"Across the {kpis} {plural(kpis, 'KPI')} with funnel plots there "
        f"{'is' if total == 1 else 'are'} {total} {plural(total, 'result')} at alarm level "
        "(beyond the outer funnel limit)"
    )
    if hidden:
        sentence += (
            f"; {hidden} of them {'belongs' if hidden == 1 else 'belong'} to "
            f"{plural(hidden, 'an FLS', 'FLSs')} not named, as "
            f"{'its' if hidden == 1 else 'their'} counts are withheld to protect small numbers "
            "of patients"
        )
    return sentence + "."


def executive_summary(
    data: PeriodFigures,
    coverage: Coverage,
    trend: list[TrendRow],
    model: list[dict[str, object]],
    groups: list[dict[str, object]],
) -> dict[str, object]:
    """{"lead": paragraph, "findings": [sentence], "changes": [sentence], "asks": [sentence]}."""
    year = data.period.start.year
    rows = {r.kpi: r for r in trend}
    lead = (
        f"In {data.period.label}, {coverage.participating} fracture liaison services (FLSs) in "
        f"England and Wales recorded the care of {data.records:,} people aged 50 and over after "
        f"a fragility fracture. They serve about {coverage.share:.0f}% of the population aged 50 "
        f"and over; {len(coverage.regions_without)} of the {coverage.regions} ICBs and Welsh "
        "health boards have no FLS taking part, and the fractures of their populations are in "
        "no figure of this report."
    )
    identify = data.thresholds.model_80_50_80.identify.at_least
    findings = [
        f"FLSs identified {_value(data, 'kpi02')} of their expected caseload"
        f"{_since(rows, 'kpi02', year)}: {_value(data, 'kpi02_spine')} of spine fractures and "
        f"{_value(data, 'kpi02_non_spine')} of non-spine fractures, against a target of "
        f"{identify:g}%.",
        f"{_value(data, 'kpi04')} of patients had an FLS assessment within 90 days of the "
        f"fracture{_since(rows, 'kpi04', year)}, and {_value(data, 'kpi05')} a DXA scan within "
        f"90 days{_since(rows, 'kpi05', year)}.",
        f"Bone therapy was recommended to {_value(data, 'kpi07')} of patients"
        f"{_since(rows, 'kpi07', year)} and to {_value(data, 'hr02')} of those with a fracture "
        "at a higher-risk site (hip, spine, humerus, pelvis, wrist).",
    ]
    shares = national_shares(data) if float(data.mix["records"].sum()) else {}
    decision, missing = shares.get("decision"), shares.get("not_recorded")
    if decision is not None and missing is not None:
        findings.append(
            f"For {decision:.1f}% of patients no drug was recommended by a clinical decision "
            f"(not appropriate, declined or referred); for {missing:.1f}% the recommendation "
            "was not recorded."
        )
    findings.append(
        f"Of patients recommended a drug, {_value(data, 'kpi09')} were followed up by 16 weeks, "
        f"{_value(data, 'kpi10')} had started treatment by then and {_value(data, 'kpi11')} were "
        "still taking it at one year."
    )
    findings.append(
        f"The NICE NG249 stage-1 falls questions were recorded for {_value(data, 'fa01')} of "
        f"patients{_since(rows, 'fa01', year)}."
    )
    every = next((p for p in model if p["label"] == "All three"), None)
    if every is not None:
        findings.append(
            f"{every['fls']} of {data.services_with_records} FLSs meet all three parts of the "
            "80/50/80 model."
        )
    spread = data.inequities.get("kpi07")
    if spread is not None and spread.minimum is not None:
        findings.append(
            f"FLSs differ widely: the share of patients recommended bone therapy ranges from "
            f"{spread.minimum:.1f}% to {spread.maximum:.1f}% between FLSs (median "
            f"{spread.median:.1f}%)."
        )
    findings.append(alarm_sentence(data))
    changed = trend_summary(trend)
    changes = []
    if len(trend) and len(trend[0].cells) > 1:
        if changed["better"]:
            changes.append(f"Better than {year - 1}: " + "; ".join(changed["better"]) + ".")
        if changed["worse"]:
            changes.append(f"Worse than {year - 1}: " + "; ".join(changed["worse"]) + ".")
        if changed["changed"]:
            changes.append(f"Changed since {year - 1}: " + "; ".join(changed["changed"]) + ".")
        if not changes:
            changes.append(
                f"No KPI changed significantly since {year - 1} (two-sided tests, p < 0.05)."
            )
    asks = []
    for group in groups:
        items: list[dict[str, object]] = group["items"]  # type: ignore[assignment]
        # A recommendation whose finding applies to no one is not something to do.
        heads = [_first_lower(str(i["text"]).split(":")[0]) for i in items if applies(i)]
        if heads:
            audience = str(group["audience"])
            asks.append(f"{audience[:1].upper()}{audience[1:]} should " + "; ".join(heads) + ".")
    return {"lead": lead, "findings": findings, "changes": changes, "asks": asks}
