"""Words for the numbers: SPC signals explained, and recommendations generated from the data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from flsdb.stats.spc import Chart

RULE_WORDS = {
    "outside": "outside the control limits",
    "shift": "a shift: 7 or more months in a row on one side of the centre line",
    "trend": "a trend: 7 or more months each {direction} than the month before",
    "two_of_three": "2 of 3 months beyond two-thirds of the way to a control limit",
}


def _episodes(flags: Sequence[bool]) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, flagged in enumerate([*flags, False]):
        if flagged and start is None:
            start = i
        elif not flagged and start is not None:
            spans.append((start, i - 1))
            start = None
    return spans


def explain_chart(months: Sequence[str], chart: Chart, direction: str, name: str) -> list[str]:
    """One sentence per run of points that a rule marks, saying what it means."""
    labels = chart.labels(direction)  # type: ignore[arg-type]
    sentences = []
    for rule in ("outside", "shift", "trend", "two_of_three"):
        marked = [rule in s for s in chart.signals]
        for first, last in _episodes(marked):
            side = chart.sides[last]
            meaning = labels[last]
            span = months[first] if first == last else f"{months[first]} to {months[last]}"
            words = RULE_WORDS[rule].format(direction="higher" if side > 0 else "lower")
            where = "above" if side > 0 else "below"
            if rule == "outside":
                values = ", ".join(f"{chart.values[i]:.0%}" for i in range(first, last + 1))
                words = f"{where} the control limits ({values})"
            verdict = {"improvement": "an improvement", "concern": "a concern"}.get(
                meaning, "a change"
            )
            sentences.append(f"{name}, {span}: {words}, {where} the usual level: {verdict}.")
    if not sentences:
        sentences.append(
            f"{name}: no special-cause variation; the process is stable around "
            f"{chart.centre[0]:.0%} (common-cause variation only)."
        )
    return sentences


@dataclass(frozen=True)
class RecommendationRule:
    """A rule that turns a KPI result into a recommendation, with its threshold stated."""

    kpi: str
    level: Literal["region", "service"]
    test: Literal["below", "funnel_low"]
    threshold: float
    audience: str
    text: str


RECOMMENDATION_RULES = (
    RecommendationRule(
        "kpi02_spine",
        "region",
        "below",
        80,
        "ICBs and health boards",
        "Support FLSs to identify at least {threshold:g}% of the expected spine fracture caseload",
    ),
    RecommendationRule(
        "kpi02_non_spine",
        "region",
        "below",
        80,
        "ICBs and health boards",
        "Support FLSs to identify at least {threshold:g}% of the expected "
        "non-spine fracture caseload",
    ),
    RecommendationRule(
        "kpi04",
        "service",
        "funnel_low",
        0.95,
        "FLSs and commissioners",
        "Assess more patients within 90 days of the fracture diagnosis: these FLSs "
        "are below the 95% funnel limit",
    ),
    RecommendationRule(
        "kpi07",
        "service",
        "funnel_low",
        0.95,
        "FLSs",
        "Review bone therapy recommendation against NICE guidance: these FLSs "
        "recommend treatment less often than expected (below the 95% funnel "
        "limit)",
    ),
    RecommendationRule(
        "hr02",
        "service",
        "below",
        50,
        "FLSs",
        "Prioritise treatment for hip, spine, humerus, pelvis and wrist "
        "fractures: fewer than {threshold:g}% of these patients had a drug "
        "recommended",
    ),
    RecommendationRule(
        "fa01",
        "service",
        "below",
        80,
        "FLSs",
        "Ask the NICE NG249 stage-1 falls questions in every assessment: "
        "recorded for fewer than {threshold:g}% of patients",
    ),
    RecommendationRule(
        "kpi09",
        "service",
        "below",
        50,
        "FLSs",
        "Use the 16-week follow-up to support adherence: fewer than "
        "{threshold:g}% of patients with a drug recommended were monitored",
    ),
)


def recommendations(
    tables: dict[str, pd.DataFrame],
    low_outliers: dict[str, list[str]],
    rules: Sequence[RecommendationRule] = RECOMMENDATION_RULES,
) -> list[dict[str, object]]:
    """Each rule with the units it picks out (none picked: the rule is reported as met)."""
    out = []
    for rule in rules:
        if rule.test == "funnel_low":
            units = low_outliers.get(rule.kpi, [])
        else:
            table = tables[rule.level]
            rows = table[(table["kpi"] == rule.kpi) & table["percent"].notna()]
            units = [
                str(u)
                for u, p in zip(rows["unit"], rows["percent"], strict=True)
                if float(p) < rule.threshold
            ]
        out.append(
            {"rule": rule, "text": rule.text.format(threshold=rule.threshold), "units": units}
        )
    return out
