"""Recommendations as the national report prints them: grouped by audience (ICBs and health
boards, FLSs, executive teams), each with the finding behind it and the threshold that picks its
units. The rules and thresholds are data (`recommendations` in the thresholds file); the units
each rule picks out come from `narrative.recommendations`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flsdb.reports.narrative import recommendations
from flsdb.reports.trends import absent

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures

# The audiences in the order the report addresses them; any other audience follows.
AUDIENCES = ("ICBs and health boards", "FLSs", "executive teams")


def _national(data: PeriodFigures, kpi: str) -> str:
    row = data.row("nation", "all", kpi)
    if absent(row.get("percent")):
        return ""
    if kpi == "kpi01":
        return f"nationally, {float(row['percent']):.1f}% of FLSs have green data completeness"  # type: ignore[arg-type]
    return f"England and Wales {float(row['percent']):.1f}%"  # type: ignore[arg-type]


def finding(data: PeriodFigures, item: dict[str, object]) -> str:
    """What the data show for one rule, in a sentence."""
    rule = item["rule"]
    kpi = rule.kpi  # type: ignore[attr-defined]
    name = f"{kpi} {data.name(kpi)}"
    national = _national(data, kpi)
    national_words = f" ({national})" if national else ""
    count, of, noun = item["count"], item["of"], item["noun"]
    if rule.test == "alarm_low":  # type: ignore[attr-defined]
        alert = len(data.inequities[kpi].outside("low_alert")) if kpi in data.inequities else 0
        verb = "is" if count == 1 else "are"
        words = (
            f"{count} of {of} FLSs {verb} below the outer funnel limit of {name}{national_words}"
        )
        if alert:
            verb = "is" if alert == 1 else "are"
            words += f"; {alert} more {verb} below the inner limit (alert level)"
        return words + "."
    subject = f"{count} of {of} {noun}"
    verb = "is" if count == 1 else "are"
    if rule.measure == "numerator":  # type: ignore[attr-defined]
        verb = "has" if count == 1 else "have"
        return f"{subject} {verb} {threshold_text(data, rule)}{national_words}."
    return f"{subject} {verb} {rule.threshold_words()} on {name}{national_words}."  # type: ignore[attr-defined]


def threshold_text(data: PeriodFigures, rule: object) -> str:
    """The threshold in words; for a count of key fields (kpi01), which fields and how missing."""
    words = rule.threshold_words()  # type: ignore[attr-defined]
    if rule.measure == "numerator" and data.measure(rule.kpi).kind == "completeness":  # type: ignore[attr-defined]
        measure = data.measure(rule.kpi)  # type: ignore[attr-defined]
        return (
            f"{words} of the {len(measure.key_fields)} key fields more than "
            f"{measure.missing_threshold:g}% missing"
        )
    return words


def grouped_recommendations(data: PeriodFigures) -> list[dict[str, object]]:
    """[{"audience": ..., "items": [recommendation with "finding" and "threshold"]}], in the
    order of AUDIENCES."""
    items = recommendations(data)
    for item in items:
        rule = item["rule"]
        item["finding"] = finding(data, item)
        subject = "a region" if rule.level == "region" else "an FLS"  # type: ignore[attr-defined]
        link = " with" if rule.measure == "numerator" else ""  # type: ignore[attr-defined]
        item["threshold"] = f"{subject}{link} {threshold_text(data, rule)} on {rule.kpi}"  # type: ignore[attr-defined]
    audiences = list(AUDIENCES)
    for item in items:
        audience = str(item["rule"].audience)  # type: ignore[attr-defined]
        if audience not in audiences:
            audiences.append(audience)
    groups: list[dict[str, object]] = []
    for audience in audiences:
        chosen = [i for i in items if i["rule"].audience == audience]  # type: ignore[attr-defined]
        if chosen:
            groups.append({"audience": audience, "items": chosen})
    return groups
