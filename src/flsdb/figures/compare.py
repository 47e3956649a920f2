"""What the reports and the dashboards both say about one FLS beside the others: its region and
nation as comparators (withheld where they would give back the other FLSs' small counts), its
treatment mix as shares, and the words for its place in a funnel."""

from __future__ import annotations

from flsdb.disclosure import WITHHELD, is_hidden
from flsdb.figures.model import PeriodFigures
from flsdb.kpi.mix import MIX_GROUPS

COUNTED = ("numerator", "denominator")

# A funnel's flags in words.
FLAG_WORDS = {
    "high_alarm": "alarm: above the outer limit",
    "high_alert": "alert: above the inner limit",
    "inside": "inside the limits",
    "low_alert": "alert: below the inner limit",
    "low_alarm": "alarm: below the outer limit",
}

# The treatment mix's groups (`kpi.mix.MIX_GROUPS`) in words.
MIX_LABELS = {
    "anabolic": "anabolic",
    "denosumab": "denosumab",
    "intravenous": "intravenous bisphosphonate",
    "oral_bisphosphonate": "oral bisphosphonate",
    "other": "other drug",
    "decision": "no drug: clinical decision (not appropriate, declined, referred)",
    "not_recorded": "no drug: not recorded",
}


def comparator(data: PeriodFigures, level: str, unit: str, kpi: str, own: str) -> dict[str, object]:
    """A published region or nation row, withheld when taking this FLS's own counts from it
    would leave a count of 1 to 4 (the other FLSs' total)."""
    row = data.row(level, unit, kpi)
    mine = data.row("service", own, kpi, published=False)
    measure = data.measure(kpi)
    if not row or not mine or measure.kind == "completeness":
        return row
    policy = data.thresholds.suppression
    columns = COUNTED if measure.kind == "proportion" else ("numerator",)
    rest = {}
    for column in columns:
        if is_hidden(row[column]):
            return row
        rest[column] = float(row[column]) - float(mine[column])  # type: ignore[arg-type]
    risky = any(policy.small(v) for v in rest.values())
    if measure.kind == "proportion" and policy.complement:
        risky |= policy.small(rest["denominator"] - rest["numerator"])
    if not risky:
        return row
    withheld = dict(row)
    withheld.update(numerator=WITHHELD, percent=None, ci_low=None, ci_high=None, rag=None)
    return withheld


def mix_shares(data: PeriodFigures, code: str | None) -> dict[str, float]:
    """Each treatment group's share (%) of an FLS's patients (None: of every FLS's)."""
    mix = data.fls_mix(code)
    total = mix["records"].sum()
    return {g: (mix[g].sum() / total * 100 if total else 0.0) for g in MIX_GROUPS}
