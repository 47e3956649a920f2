"""Counts published beside the KPI tables (records by fracture site, reasons no drug was
recommended, Appendix B's completeness) in the intruder's audit with their relations to the KPI
tables, where the audit used to leave them out."""

from __future__ import annotations

from flsdb.config import Suppression
from flsdb.disclosure import audit_tables
from flsdb.disclosure.linked import Linked, audit_linked, secure_linked
from tests.disclosure.test_audit import rolled_up, services

POLICY = Suppression()
FLSS = services({"R1": ["A", "B"]}, ["C"])
# Spine fractures (kpi03's numerator) of records (its denominator): 20 of 83 in the nation.
TABLES = rolled_up(FLSS, {"kpi03": {"A": (12.0, 40.0), "B": (8.0, 30.0), "C": (0.0, 13.0)}})
SITES = {"hip": 30, "spine": 20, "wrist": 3, "other": 30}
OWN_SITES = {
    "A": {"hip": 15, "spine": 12, "wrist": 1, "other": 12},
    "B": {"hip": 10, "spine": 8, "wrist": 2, "other": 10},
    "C": {"hip": 5, "spine": 0, "wrist": 0, "other": 8},
}


def _sites(shown: dict[str, object]) -> Linked:
    """The site table as the national report publishes it: its counts add up to the records,
    and its spine count is kpi03's numerator."""
    linked = Linked("2024")
    for code, count in SITES.items():
        linked.add(f"site:{code}", count, shown.get(code, count))
    linked.add("site:total", sum(SITES.values()), shown.get("total", 83))
    linked.sums.append((("site:total",), tuple(f"site:{c}" for c in SITES)))
    linked.sums.append((("site:total",), (("nation", "all", "kpi03", "denominator"),)))
    linked.sums.append((("site:spine",), (("nation", "all", "kpi03", "numerator"),)))
    for code, own in OWN_SITES.items():
        linked.parts[code] = {f"site:{c}": float(v) for c, v in own.items()}
    return linked


def test_a_site_count_worked_out_through_kpi03_is_found_and_withheld() -> None:
    # The table protected on its own: wrist (3) as <5, and the smallest other count (spine,
    # 20) withheld so that the total does not give it away. But kpi03 shows the 20 spine
    # fractures: wrist = 83 - 30 - 20 - 30 = 3.
    old = _sites({"wrist": "<5", "spine": "c"})
    assert audit_tables(TABLES, TABLES, FLSS, POLICY) == []  # the KPI tables alone pass
    problems = audit_linked(TABLES, TABLES, FLSS, POLICY, old)
    # By anyone: an outsider, and A and B (whose own 1 and 2 leave the others' part pinned).
    assert problems == [
        f"site:wrist: the hidden count can be worked out as 3 by {who}"
        for who in ("an outsider", "FLS A", "FLS B")
    ]
    withheld = secure_linked(TABLES, TABLES, FLSS, POLICY, old)
    assert withheld is not None and withheld
    # The cheapest further count: a shown one of the same sum (hip or other, 30 each).
    assert withheld <= {"site:hip", "site:other", "site:total"}
    assert audit_linked(TABLES, TABLES, FLSS, POLICY, old, withheld) == []


def test_each_fls_attacks_the_site_table_knowing_its_own_sites() -> None:
    # Hip, wrist and other withheld: an outsider knows wrist + hip + other = 63, so wrist can
    # be 1 to 4; so can the others' wrist fractures to A and B (each knowing its own 1 or 2).
    shown = {"wrist": "<5", "hip": "c", "other": "c"}
    assert audit_linked(TABLES, TABLES, FLSS, POLICY, _sites(shown)) == []
    # Were wrist shown beside other withheld (a count of 3 shown: never published), the audit
    # says so; and a hidden count that the total alone gives away is found as well.
    assert audit_linked(TABLES, TABLES, FLSS, POLICY, _sites({"other": "c"})) == [
        "site:wrist: the hidden count can be worked out as 3 by an outsider"
    ]


def _reasons(decision_share: bool) -> Linked:
    """Reasons no drug was recommended as published (a decline of 3 as <5, not known withheld
    beside it), and the national treatment mix's share of clinical decisions, which is a count
    (a share of the published records): inappropriate + declined."""
    linked = Linked("2024")
    reasons = {"inappropriate": (30, 30), "informed_decline": (3, "<5"), "not_known": (12, "c")}
    for code, (value, shown) in reasons.items():
        linked.add(f"reason:{code}", value, shown)
    linked.add("reason:total", 45, 45)
    linked.sums.append((("reason:total",), tuple(f"reason:{c}" for c in reasons)))
    if decision_share:
        linked.add("mix:all:decision", 33, 33, marked=False)
        decided = ("reason:inappropriate", "reason:informed_decline")
        linked.sums.append((("mix:all:decision",), decided))
    return linked


def test_a_national_treatment_share_that_gives_a_hidden_reason_away_is_withheld() -> None:
    # Without the share: declined + not known = 15, so declined can be 1 to 4.
    assert audit_linked(TABLES, TABLES, FLSS, POLICY, _reasons(False)) == []
    # The share of clinical decisions gives declined = 33 - 30 = 3.
    linked = _reasons(True)
    assert audit_linked(TABLES, TABLES, FLSS, POLICY, linked) == [
        "reason:informed_decline: the hidden count can be worked out as 3 by an outsider"
    ]
    withheld = secure_linked(TABLES, TABLES, FLSS, POLICY, linked)
    assert withheld is not None and withheld
    assert withheld <= {"reason:inappropriate", "mix:all:decision", "reason:total"}
    assert audit_linked(TABLES, TABLES, FLSS, POLICY, linked, withheld) == []


def test_a_hidden_mix_group_is_hatched_and_zero_or_more() -> None:
    # A's bar: oral bisphosphonate 40 drawn, anabolic 3 hidden (hatched) alone, records 43
    # published: anabolic = 43 - 40 = 3 to an outsider (A knows its own).
    linked = Linked("2024")
    for group, value, shown in (("anabolic", 3, "c"), ("oral", 40, 40), ("records", 43, 43)):
        linked.add(f"mix:A:{group}", value, shown, "A", marked=False)
    linked.sums.append((("mix:A:records",), ("mix:A:anabolic", "mix:A:oral")))
    assert linked.owners == dict.fromkeys(linked.values, "A")
    assert audit_linked(TABLES, TABLES, FLSS, POLICY, linked) == [
        "mix:A:anabolic: the hidden count can be worked out as 3 by an outsider"
    ]
    # With a second group hidden beside it (oral, 40), nothing is worked out: hatched groups
    # are 0 or more. Marked <5 (1 to 4) each, they would be narrowed by their sum of 43.
    linked.shown["mix:A:oral"] = "c"
    assert audit_linked(TABLES, TABLES, FLSS, POLICY, linked) == []
    linked.unmarked.clear()
    linked.values["mix:A:oral"] = 4.0
    linked.values["mix:A:records"] = 7.0
    linked.shown.update({"mix:A:anabolic": "<5", "mix:A:oral": "<5", "mix:A:records": 7})
    assert audit_linked(TABLES, TABLES, FLSS, POLICY, linked) == [
        f"mix:A:{group}: the hidden count can be worked out as 3 to 4 by an outsider"
        for group in ("anabolic", "oral")
    ]
