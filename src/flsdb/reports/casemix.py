"""Case-mix (age, sex, fracture site, care home) and the reasons no drug was recommended, for
England and Wales, as the national report publishes them.

Age, sex and care home are the record counts of the published breakdown tables (kpi03's
denominators), so they carry the breakdowns' disclosure control unchanged. Fracture sites and
reasons are new counts: each is one row of groups adding up to a total published elsewhere
(records; patients with no drug recommended = records - kpi07's numerator), protected by the
disclosure control's `protect_mix`. A table whose total, or whose spine count (kpi03's
numerator), is withheld elsewhere is withheld whole, so that nothing hidden there can be worked
out here; and the intruder's audit, with every relation of these counts to the KPI tables and
each FLS knowing its own, withholds more where it must (`reports.published_counts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from flsdb.disclosure import is_hidden, protect_mix
from flsdb.kpi.mix import DECISIONS

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures

GROUP_WORDS = {
    "age_band": "Age at fracture",
    "sex": "Sex",
    "care_home": "Lives in a care home",
    "site": "Fracture site",
}
CODE_WORDS = {
    "not_known": "not known",
    "not_recorded": "not recorded (blank)",
    "other": "other",
    "yes": "yes",
    "no": "no",
    "female": "female",
    "male": "male",
    "inappropriate": "not appropriate",
    "informed_decline": "patient declined (informed decision)",
    "referred_clinical_opinion": "referred for a clinical opinion",
    "referred_to_gp": "referred to the GP",
}
SITE_WORDS = {"other": "other site"}


@dataclass(frozen=True)
class MixRow:
    label: str
    count: object  # an int, a marker (<5 or c), or None (the whole table withheld)
    percent: float | None  # of the table's total; None when the count is withheld


@dataclass(frozen=True)
class MixTable:
    title: str
    total_label: str
    total: object
    rows: tuple[MixRow, ...]
    note: str = ""


def _words(code: str, site: bool = False) -> str:
    if site and code in SITE_WORDS:
        return SITE_WORDS[code]
    return CODE_WORDS.get(code, code.replace("_", " "))


def _rows(values: dict[str, object], total: object, labels: dict[str, str]) -> tuple[MixRow, ...]:
    rows = []
    for code, value in values.items():
        share = None
        if not is_hidden(value) and value is not None and not is_hidden(total) and total:
            share = float(value) / float(total) * 100  # type: ignore[arg-type]
        rows.append(MixRow(labels[code], value, share))
    return tuple(rows)


def _protected(
    data: PeriodFigures, counts: dict[str, int], withhold: bool, prefix: str
) -> tuple[dict[str, object], object]:
    """One row of groups and its total as published: small counts hidden (marked as the KPI
    tables mark them), every count withheld when `withhold`, and those the intruder's audit
    withholds further (`data.linked_withheld`, by `prefix:code` and `prefix:total`)."""
    policy = data.thresholds.suppression
    total = sum(counts.values())
    if not data.suppression:
        return dict(counts), total
    if withhold:
        return dict.fromkeys(counts, "c"), "c"
    frame = pd.DataFrame([{**counts, "records": total}])
    shown = protect_mix(frame, tuple(counts), policy).iloc[0]
    further = data.linked_withheld

    def mark(value: int) -> str:
        return policy.label if policy.small(value) else "c"

    out: dict[str, object] = {}
    for code, value in counts.items():
        hidden = shown[code] is None or f"{prefix}:{code}" in further
        out[code] = mark(value) if hidden else value
    hidden_total = shown["records"] is None or f"{prefix}:total" in further
    return out, (mark(total) if hidden_total else total)


def site_counts(data: PeriodFigures) -> tuple[dict[str, int], dict[str, object], object] | None:
    """Records by fracture site: the counts, and the counts and total as published."""
    if data.sites is None:
        return None
    counts = {c: int(data.sites[c].sum()) for c in data.sites.columns if c != "service_code"}
    if counts.get("not_recorded", 0) == 0:
        counts.pop("not_recorded", None)  # validation requires a site: no empty row
    linked = [_national(data, "kpi03", c) for c in ("numerator", "denominator")]
    linked += [_national(data, "hr01", c) for c in ("numerator", "denominator")]
    withhold = any(is_hidden(v) for v in linked)
    return counts, *_protected(data, counts, withhold, "site")


def reason_counts(
    data: PeriodFigures,
) -> tuple[dict[str, int], dict[str, object], object] | None:
    """Patients with no drug recommended by reason: the counts, and as published."""
    if data.reasons is None:
        return None
    counts = {c: int(data.reasons[c].sum()) for c in data.reasons.columns if c != "service_code"}
    withhold = any(is_hidden(_national(data, "kpi07", c)) for c in ("numerator", "denominator"))
    return counts, *_protected(data, counts, withhold, "reason")


def _national(data: PeriodFigures, kpi: str, column: str) -> object:
    return data.row("nation", "all", kpi).get(column)


def breakdown_tables(data: PeriodFigures) -> list[MixTable]:
    """Age band, sex and care home: records in each group, as the breakdown tables publish."""
    out = []
    for level in ("age_band", "sex", "care_home"):
        table = data.published[level]
        rows = table[table["kpi"] == "kpi03"]
        values: dict[str, object] = {}
        for row in rows.to_dict("records"):
            value = row["denominator"]
            values[str(row["unit"])] = value if is_hidden(value) else int(float(value))
        total = _national(data, "kpi03", "denominator")
        labels = {code: _words(code) for code in values}
        out.append(MixTable(GROUP_WORDS[level], "records", total, _rows(values, total, labels)))
    return out


def site_table(data: PeriodFigures) -> MixTable | None:
    found = site_counts(data)
    if found is None:
        return None
    counts, values, total = found
    labels = {code: _words(code, site=True) for code in counts}
    note = (
        "Higher-risk sites (hip, spine, humerus, pelvis, wrist) are hr01; spine fractures are "
        "kpi03's numerator."
    )
    return MixTable(GROUP_WORDS["site"], "records", total, _rows(values, total, labels), note)


def reasons_table(data: PeriodFigures) -> MixTable | None:
    """Patients with no drug recommended, by the outcome recorded instead: the clinical
    decisions first, then not known and blank."""
    found = reason_counts(data)
    if found is None:
        return None
    counts, values, total = found
    labels = {code: _words(code) for code in counts}
    rows = _rows(values, total, labels)
    decided = [v for c, v in values.items() if c in DECISIONS]
    decision_share = None
    if all(not is_hidden(v) for v in decided) and not is_hidden(total) and total:
        decided_total = sum(float(str(v)) for v in decided)
        decision_share = decided_total / float(str(total)) * 100
    note = (
        "Clinical decisions: not appropriate, declined, referred for a clinical opinion or to the "
        "GP"
        + (f" ({decision_share:.1f}% of these patients)" if decision_share is not None else "")
        + ". Not known and blank are not recorded: a gap in the data, not a decision."
    )
    return MixTable(
        "Reasons no drug was recommended", "patients with no drug recommended", total, rows, note
    )
