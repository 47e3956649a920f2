"""An FLS knows its own patients in every breakdown group (age band, sex, care home): the audit
models that exactly (each group's count at least the FLS's own part, and its nested counts
apart by at least the FLS's own difference), where it used to let the FLS attack a breakdown
as an outsider."""

from __future__ import annotations

import pandas as pd

from flsdb.config import Suppression
from flsdb.disclosure import audit_tables, protect_tables
from tests.disclosure.test_audit import _row, rolled_up, services, shown_as, value

POLICY = Suppression()
FLSS = services({"R1": ["A", "B"]}, ["C"])
# Spine fractures (kpi03's numerator) and records (its denominator) of each FLS in two age
# groups. Group "50-69" has 3 spine fractures (withheld `<5`); "70+" has 50 of 60 records,
# withheld `c` so that the 3 cannot be taken from the national 53. To an outsider "70+" holds
# up to 60, so "50-69" can be 1 to 4. FLS A knows its own "70+" patients: 15 records, 5 spine
# fractures, so the others' 45 records hold at most 45 spine fractures: "70+" at most 50, and
# "50-69" (none of them A's) at least 53 - 50 = 3.
GROUPS = {
    "50-69": {"A": (0.0, 15.0), "B": (2.0, 10.0), "C": (1.0, 15.0)},
    "70+": {"A": (5.0, 15.0), "B": (25.0, 25.0), "C": (20.0, 20.0)},
}


def _tables() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    totals = {
        code: tuple(sum(GROUPS[g][code][i] for g in GROUPS) for i in (0, 1)) for code in "ABC"
    }
    tables = rolled_up(FLSS, {"kpi03": totals})  # type: ignore[dict-item]
    rows = []
    for group, by_code in GROUPS.items():
        num = sum(n for n, _ in by_code.values())
        den = sum(d for _, d in by_code.values())
        rows.append(_row("age_band", group, "kpi03", num, den))
    tables["age_band"] = pd.DataFrame(rows)
    per_fls = pd.DataFrame(
        [
            {**_row("age_band", group, "kpi03", n, d), "service_code": code}
            for group, by_code in GROUPS.items()
            for code, (n, d) in by_code.items()
        ]
    )
    return tables, per_fls


def test_an_fls_works_out_a_breakdown_group_from_its_own_part_of_another() -> None:
    tables, per_fls = _tables()
    shown = shown_as(
        tables, {("50-69", "kpi03", "numerator"): "<5", ("70+", "kpi03", "numerator"): "c"}
    )
    # The outsider learns nothing; without each FLS's own parts the audit found nothing either.
    assert audit_tables(shown, tables, FLSS, POLICY, insiders=False) == []
    assert audit_tables(shown, tables, FLSS, POLICY) == []
    problems = audit_tables(shown, tables, FLSS, POLICY, per_fls=per_fls)
    assert problems == [
        "age_band 50-69 kpi03: the hidden numerator can be worked out as 3 to 4 by FLS A"
    ]


def test_the_search_withholds_enough_for_every_fls_knowing_its_own_groups() -> None:
    tables, per_fls = _tables()
    shown = protect_tables(tables, FLSS, POLICY, audited=True, per_fls=per_fls)
    assert value(shown, "age_band", "50-69", "kpi03", "numerator") == "<5"
    assert audit_tables(shown, tables, FLSS, POLICY, per_fls=per_fls) == []
    # More than the outsider's pattern: "70+"'s records (or the nation's count) withheld too.
    plain = protect_tables(tables, FLSS, POLICY, audited=True)
    assert audit_tables(plain, tables, FLSS, POLICY, per_fls=per_fls) != []
