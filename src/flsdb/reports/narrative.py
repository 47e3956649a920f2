"""Words for the numbers: SPC signals explained, recommendations from the configured rules, the
gap between England and Wales, and the 80/50/80 summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from flsdb.disclosure import is_hidden
from flsdb.reports.outliers import withheld
from flsdb.stats.intervals import newcombe_difference
from flsdb.stats.spc import Chart

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures

RULE_WORDS = {
    "outside": "outside the process limits",
    "shift": "a shift: {shift} or more months in a row on one side of the mean",
    "trend": "a trend: {trend} or more months each {direction} than the month before",
    "two_of_three": "2 of 3 months beyond two-thirds of the way to a process limit",
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


def explain_chart(
    months: Sequence[str], chart: Chart, direction: str, name: str, shift: int = 7, trend: int = 7
) -> list[str]:
    """One sentence per run of points that a rule marks, saying what it means."""
    labels = chart.labels(direction)  # type: ignore[arg-type]
    sentences = []
    for rule in ("outside", "shift", "trend", "two_of_three"):
        marked = [rule in s for s in chart.signals]
        for first, last in _episodes(marked):
            side = chart.sides[last]
            meaning = labels[last]
            span = months[first] if first == last else f"{months[first]} to {months[last]}"
            words = RULE_WORDS[rule].format(
                direction="higher" if side > 0 else "lower", shift=shift, trend=trend
            )
            where = "above" if side > 0 else "below"
            if rule == "outside":
                # The value and the limit it passed, so that '(2%)' is not left to guess.
                values = ", ".join(f"{chart.values[i]:.0%}" for i in range(first, last + 1))
                limit = chart.upper[last] if side > 0 else chart.lower[last]
                which = "upper" if side > 0 else "lower"
                words = f"{values} of patients, beyond the {which} process limit ({limit:.0%})"
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


def recommendations(data: PeriodFigures) -> list[dict[str, object]]:
    """Each configured rule with the units it picks out, by name (none: the rule is met)."""
    out = []
    for rule in data.thresholds.recommendations:
        hidden_alarms = 0
        if rule.test == "alarm_low" and rule.kpi in data.inequities:
            # Never silently dropped: FLSs at alarm level whose counts are withheld are counted.
            hidden_alarms = len(withheld(data.inequities[rule.kpi], "low_alarm"))
        if rule.test == "alarm_low":
            units = (
                data.inequities[rule.kpi].outside("low_alarm")
                if rule.kpi in data.inequities
                else []
            )
        else:
            # Counted on the values as computed: a count of units, which tells no patient's
            # count even where the unit's own value is withheld.
            table = data.unsuppressed[rule.level]
            column = rule.measure
            rows = table[table["kpi"] == rule.kpi]
            values = rows[column] if column in rows.columns else pd.Series(dtype=float)
            threshold = float(rule.threshold or 0)
            units = [
                str(u)
                for u, v in zip(rows["unit"], values.reindex(rows.index), strict=True)
                if pd.notna(v)
                and (float(v) < threshold if rule.test == "below" else float(v) >= threshold)
            ]
        level_units = data.services["region_code" if rule.level == "region" else "service_code"]
        out.append(
            {
                "rule": rule,
                "text": rule.sentence(),
                "count": len(units),
                "of": level_units.nunique(),
                # Only alarm-level outliers are named; a threshold rule gives its count.
                "units": [data.unit_name(rule.level, u) for u in units]
                if rule.test == "alarm_low"
                else [],
                "noun": "regions" if rule.level == "region" else "FLSs",
                "withheld": (
                    f"{hidden_alarms} more {'FLS is' if hidden_alarms == 1 else 'FLSs are'} at "
                    "alarm level but not named, as their counts are withheld to protect small "
                    "numbers of patients; the audit team tells each of them privately."
                )
                if hidden_alarms
                else "",
            }
        )
    return out


def nation_gap(data: PeriodFigures, kpi: str) -> str:
    """England against Wales for one KPI, in words, with the interval of the difference."""
    england = data.row("nation", "england", kpi)
    wales = data.row("nation", "wales", kpi)
    if any(r.get("percent") is None for r in (england, wales)):
        return ""
    counts = [england.get("numerator"), england.get("denominator")]
    counts += [wales.get("numerator"), wales.get("denominator")]
    if any(is_hidden(c) or c is None for c in counts):
        return ""
    gap = float(england["percent"]) - float(wales["percent"])  # type: ignore[arg-type]
    if data.measure(kpi).kind != "proportion":
        return f"{gap:+.1f}"
    low, high = newcombe_difference(*(float(c) for c in counts))  # type: ignore[arg-type]
    mark = "" if low <= 0 <= high else "*"
    return f"{gap:+.1f} ({float(low) * 100:+.1f} to {float(high) * 100:+.1f}){mark}"


def model_summary(data: PeriodFigures) -> list[dict[str, object]]:
    """The 80/50/80 model: the national value of each part and how many FLSs meet it."""
    model = data.thresholds.model_80_50_80
    service = data.unsuppressed["service"]
    with_records = service[(service["kpi"] == "kpi03") & (service["denominator"].astype(float) > 0)]
    codes = set(with_records["unit"])
    meets_all = set(codes)
    parts = []
    for label, part in (
        ("Identify", model.identify),
        ("Recommend bone therapy", model.recommend),
        ("Monitor, treat and keep adherence", model.follow_up),
    ):
        nationals = []
        meeting = set(codes)
        for kpi in part.ids:
            row = data.row("nation", "all", kpi)
            nationals.append(
                f"{kpi} {row.get('percent') if row.get('percent') is not None else '–'}%"
            )
            rows = service[(service["kpi"] == kpi) & service["unit"].isin(codes)]
            values = rows.set_index("unit")["percent"]
            meeting &= {u for u, v in values.items() if v is not None and float(v) >= part.at_least}
        meets_all &= meeting
        national_met = all(
            (v := data.row("nation", "all", k).get("percent")) is not None
            and float(v) >= part.at_least  # type: ignore[arg-type]
            for k in part.ids
        )
        parts.append(
            {
                "label": label,
                "target": f"at least {part.at_least:g}% ({', '.join(part.ids)})",
                "national": "; ".join(nationals),
                "met": national_met,
                "fls": len(meeting),
            }
        )
    parts.append(
        {
            "label": "All three",
            "target": "80/50/80",
            "national": "",
            "met": all(p["met"] for p in parts),
            "fls": len(meets_all),
        }
    )
    return parts
