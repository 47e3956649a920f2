"""The counts the national report publishes beside the KPI tables, audited with them: records by
fracture site, patients with no drug recommended by reason, Appendix B's completeness of each
key field (records it applies to, and how many miss it), the national SPC charts' points
(`spc_counts`), and which FLSs sent records.

Each is first protected on its own (small counts hidden, one more where a total is shown beside,
the whole table where the count it adds up to is withheld in the KPI tables); `withhold_linked`
then puts them in the intruder's audit with every relation to the KPI tables' counts and each
FLS's own part of every one (`flsdb.disclosure.linked`), and withholds more until it passes.
The reports read the outcome (`PeriodFigures.linked_withheld`); `check_publishable` runs it
before anything is written and refuses a set that fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flsdb.disclosure import is_hidden, protect_completeness
from flsdb.disclosure.linked import Key, Linked, Term, secure_linked
from flsdb.errors import FlsdbError
from flsdb.reports.casemix import reason_counts, site_counts
from flsdb.reports.mix_counts import add_mix
from flsdb.reports.spc_counts import add_points
from flsdb.reports.ties import nest, tie

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures

HIGHER_RISK = ("hip", "spine", "humerus", "pelvis", "wrist")  # the catalogue's higher_risk_site
NOT_GIVEN = ("not_known", "not_recorded")  # what completeness counts as missing


def data_quality(data: PeriodFigures) -> list[dict[str, object]]:
    """National completeness of each key field (Appendix B), and how many FLSs miss it too
    often: small counts withheld as in the KPI tables, every row where the records are
    withheld, and what the audit withholds further (`quality:FIELD:applicable|missing`)."""
    frame = data.completeness
    rows: list[dict[str, object]] = []
    withhold = is_hidden(data.row("nation", "all", "kpi03").get("denominator"))
    policy = data.thresholds.suppression
    further = data.linked_withheld
    for field_name, group in frame.groupby("field", sort=False):
        applicable = int(group["applicable"].sum())
        missing = int(group["missing"].sum())
        shown: tuple[object, object, bool] = (applicable, missing, True)
        if data.suppression:
            shown = protect_completeness(applicable, missing, policy, withhold)
            marks = [
                (policy.label if policy.small(v) else "c")
                if f"quality:{field_name}:{name}" in further and not is_hidden(s)
                else s
                for name, v, s in (
                    ("applicable", applicable, shown[0]),
                    ("missing", missing, shown[1]),
                )
            ]
            shown = (marks[0], marks[1], shown[2] and not any(map(is_hidden, marks)))
        rows.append(
            {
                "field": field_name,
                "applicable": shown[0],
                "missing": shown[1],
                "percent": missing / applicable * 100 if applicable and shown[2] else None,
                "services_over": int(group["over_threshold"].sum()),
            }
        )
    return rows


def _own(linked: Linked, prefix: str, frame: object, codes: list[str]) -> None:
    for row in frame.to_dict("records"):  # type: ignore[attr-defined]
        own = linked.parts.setdefault(str(row["service_code"]), {})
        for code in codes:
            if row.get(code):
                own[f"{prefix}:{code}"] = float(row[code])
        total = sum(float(row.get(code) or 0) for code in codes)
        if total:
            own[f"{prefix}:total"] = total


def _row_of_groups(
    linked: Linked,
    prefix: str,
    found: tuple[dict[str, int], dict[str, object], object],
    frame: object,
) -> None:
    counts, shown, total = found
    for code, count in counts.items():
        linked.add(f"{prefix}:{code}", count, shown[code])
    linked.add(f"{prefix}:total", sum(counts.values()), total)
    names = tuple(f"{prefix}:{code}" for code in counts)
    linked.sums.append(((f"{prefix}:total",), names))
    _own(linked, prefix, frame, list(counts))


def linked_counts(data: PeriodFigures) -> Linked | None:
    """The counts published beside the KPI tables as the audit models them (None when
    nothing is suppressed or there are none)."""
    if not data.suppression:
        return None
    linked = Linked(data.period.label)

    def nation(kpi: str, column: str) -> Key:
        return ("nation", "all", kpi, column)

    records = nation("kpi03", "denominator")
    sites = site_counts(data)
    if sites is not None:
        _row_of_groups(linked, "site", sites, data.sites)
        tie(data, linked, ("site:total",), (records,))
        tie(data, linked, ("site:spine",), (nation("kpi03", "numerator"),))
        risky = tuple(f"site:{c}" for c in HIGHER_RISK if f"site:{c}" in linked.values)
        tie(data, linked, risky, (nation("hr01", "numerator"),))
        not_hip = (nation("kpi08", "denominator"), nation("kpi08", "not_due"))
        tie(data, linked, ("site:hip", *not_hip), ("site:total",))
    reasons = reason_counts(data)
    if reasons is not None:
        _row_of_groups(linked, "reason", reasons, data.reasons)
        tie(
            data,
            linked,
            ("reason:total", nation("kpi07", "numerator")),
            (nation("kpi07", "denominator"),),
        )
    add_mix(data, linked)
    _lost_sites(data, linked, records)
    _quality(data, linked, records)
    add_points(data, linked)
    _participation(data, linked)
    return linked if linked.values else None


def _participation(data: PeriodFigures, linked: Linked) -> None:
    """Which FLSs sent records is published: the count on every page ("records from N FLSs"),
    and the coverage chapter's ICBs with an FLS taking part and the population their
    catchments serve, which name them. To the audit, an FLS's withheld records are 1 or more
    when it sent any, and 0 when it sent none."""
    table = data.unsuppressed["service"]
    rows = table[table["kpi"] == "kpi03"]
    for code, value in zip(rows["unit"], rows["denominator"], strict=True):
        records = float(value) if value == value and value is not None else 0.0
        bound = (1.0, float("inf")) if records > 0 else (0.0, 0.0)
        linked.bounds[("service", str(code), "kpi03", "denominator")] = bound


def _lost_sites(data: PeriodFigures, linked: Linked, records: Key) -> None:
    """The methods' count of records whose site came from a 2023 label: within the records,
    each FLS knowing its own (`national.lost_sites` prints it)."""
    if not data.lost_sites:
        return
    total = sum(data.lost_sites.values())
    policy = data.thresholds.suppression
    shown: object = policy.label if policy.small(total) else total
    linked.add("lost:total", total, shown)
    nest(data, linked, "lost:total", records)
    if "site:other" in linked.values:  # their index site is "other"
        nest(data, linked, "lost:total", "site:other")
    for code, value in data.lost_sites.items():
        if value:
            linked.parts.setdefault(str(code), {})["lost:total"] = float(value)


def _quality(data: PeriodFigures, linked: Linked, records: Key) -> None:
    """Appendix B: per key field, missing within applicable; a field of every record applies
    to the records; the missing sex and care home answers are the breakdowns' not-known and
    not-recorded groups, the missing sites and reasons the tables' own."""
    shown = {str(row["field"]): row for row in data_quality(data)}
    frame = data.completeness
    for field_name, group in frame.groupby("field", sort=False):
        row = shown[str(field_name)]
        names = {c: f"quality:{field_name}:{c}" for c in ("applicable", "missing")}
        for column, name in names.items():
            linked.add(name, int(group[column].sum()), row[column])
        linked.nested.append((names["missing"], names["applicable"]))
        for code, value in zip(group["service_code"], group["applicable"], strict=True):
            if value:
                linked.parts.setdefault(str(code), {})[names["applicable"]] = float(value)
        for code, value in zip(group["service_code"], group["missing"], strict=True):
            if value:
                linked.parts.setdefault(str(code), {})[names["missing"]] = float(value)
        tie(data, linked, (names["applicable"],), (records,))
        missing: tuple[Term, ...] = ()
        if field_name in ("sex", "care_home_resident"):
            level = "sex" if field_name == "sex" else "care_home"
            missing = tuple((level, u, "kpi03", "denominator") for u in NOT_GIVEN)
        elif field_name == "fracture_site":
            missing = tuple(f"site:{c}" for c in NOT_GIVEN if f"site:{c}" in linked.values)
        elif field_name == "bone_therapy_recommended":
            missing = tuple(f"reason:{c}" for c in NOT_GIVEN if f"reason:{c}" in linked.values)
        if missing:
            tie(data, linked, (names["missing"],), missing)
    _follow_up(data, linked)


# Appendix B's fields with a window apply to the records due at 90 days (the date of FLS
# assessment: kpi04's denominator, tied below), 16 or 52 weeks, or (bone therapy at 16 weeks) to
# those followed up: each holds KPI counts and lies within another (inner, outer; a field's name
# is its `applicable` count).
FOLLOW_UP: tuple[tuple[str, str], ...] = (
    ("date_fls_assessment", "kpi03:denominator"),  # every record
    ("followup_16w", "date_fls_assessment"),  # due at 16 weeks is due at 90 days
    ("kpi08:denominator", "followup_16w"),  # not hip, due at 16 weeks
    ("kpi09:denominator", "followup_16w"),  # a drug recommended, due at 16 weeks
    ("followup_16w", "kpi03:denominator"),  # every record
    ("kpi11:denominator", "followup_52w"),  # a drug recommended, due at 52 weeks
    ("followup_52w", "followup_16w"),  # due at 52 weeks is due at 16
    ("kpi09:numerator", "bone_therapy_16w"),  # followed up (yes) by 16 weeks
    ("bone_therapy_16w", "followup_16w"),
)


def _follow_up(data: PeriodFigures, linked: Linked) -> None:
    """The follow-up fields' applicable counts nested with the KPI counts they hold or lie in
    (where the counts agree: a relation the definitions imply always does)."""

    def term(text: str) -> Term:
        if ":" in text:
            kpi, column = text.split(":")
            return ("nation", "all", kpi, column)
        return f"quality:{text}:applicable"

    for inner, outer in FOLLOW_UP:
        nest(data, linked, term(inner), term(outer))
    # The records due at 90 days are kpi04's (and kpi05's) denominator.
    tie(data, linked, (term("date_fls_assessment"),), (term("kpi04:denominator"),))


def withhold_linked(data: PeriodFigures) -> None:
    """Audit the counts published beside the KPI tables with them, and keep what must be
    withheld further in `data.linked_withheld` (found once per figures); FlsdbError in one
    sentence when even withholding every one of them fails."""
    data.linked_withheld = data.view("linked withheld", make=lambda: _search(data))


def _search(data: PeriodFigures) -> frozenset[str]:
    linked = linked_counts(data)
    if linked is None:
        return frozenset()
    withheld = secure_linked(
        data.published,
        data.unsuppressed,
        data.services,
        data.thresholds.suppression,
        linked,
        data.group_counts,
    )
    if withheld is None:
        raise FlsdbError(
            "The disclosure audit could still work out a withheld count from the counts "
            "published beside the KPI tables, so nothing was written: please report this."
        )
    return withheld
