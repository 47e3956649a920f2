"""Disclosure control: small counts hidden, and no hidden count recoverable by subtraction."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from flsdb.config import Suppression
from flsdb.disclosure import (
    audit_tables,
    complete,
    exposed,
    find_disclosures,
    protect_mix,
    protect_tables,
)
from flsdb.disclosure.engine import relation

POLICY = Suppression()
# Region R1 has three English FLSs, R2 one; Wales has one region (W1) with one FLS.
SERVICES = pd.DataFrame(
    {
        "service_code": ["A", "B", "C", "D", "W"],
        "region_code": ["R1", "R1", "R1", "R2", "W1"],
        "nation": ["england"] * 4 + ["wales"],
    }
)


def _row(level: str, unit: str, kpi: str, num: float, den: float, nd: float | None = None):
    return {
        "level": level,
        "unit": unit,
        "period": "2024",
        "kpi": kpi,
        "numerator": num,
        "denominator": den,
        "percent": round(num / den * 100, 1) if den else None,
        "ci_low": 1.0 if den else None,
        "ci_high": 2.0 if den else None,
        "rag": "red" if den else None,
        "not_due": nd,
    }


def tables_for(kpi: str, counts: dict[str, tuple[float, float]]) -> dict[str, pd.DataFrame]:
    """Service, region and nation rows of one KPI, rolled up from the FLS counts."""
    service = [_row("service", s, kpi, *counts[s]) for s in SERVICES["service_code"]]
    regions = []
    for region, members in SERVICES.groupby("region_code"):
        num = sum(counts[s][0] for s in members["service_code"])
        den = sum(counts[s][1] for s in members["service_code"])
        regions.append(_row("region", str(region), kpi, num, den))
    nations = []
    for nation in ("england", "wales"):
        codes = SERVICES.loc[SERVICES["nation"] == nation, "service_code"]
        nations.append(
            _row(
                "nation",
                nation,
                kpi,
                sum(counts[s][0] for s in codes),
                sum(counts[s][1] for s in codes),
            )
        )
    nations.append(
        _row(
            "nation",
            "all",
            kpi,
            sum(c[0] for c in counts.values()),
            sum(c[1] for c in counts.values()),
        )
    )
    return {
        "service": pd.DataFrame(service),
        "region": pd.DataFrame(regions),
        "nation": pd.DataFrame(nations),
    }


def cell(tables: dict[str, pd.DataFrame], level: str, unit: str, kpi: str) -> dict:
    table = tables[level]
    return table[(table["unit"] == unit) & (table["kpi"] == kpi)].iloc[0].to_dict()


BASE = {"A": (40, 100), "B": (50, 120), "C": (60, 150), "D": (30, 90), "W": (20, 80)}


def test_small_numerator_denominator_and_complement_are_hidden() -> None:
    counts = dict(BASE, A=(3, 100), B=(0, 3), C=(56, 58))
    shown = protect_tables(tables_for("kpi04", counts), SERVICES, POLICY)
    a = cell(shown, "service", "A", "kpi04")
    assert (a["numerator"], a["percent"], a["ci_low"], a["rag"]) == ("<5", None, None, None)
    b = cell(shown, "service", "B", "kpi04")
    # not "0 / <5"; the 0 is withheld as c, since <5 says 1 to 4
    assert (b["numerator"], b["denominator"], b["percent"]) == ("c", "<5", None)
    c = cell(shown, "service", "C", "kpi04")
    assert (c["numerator"], c["percent"]) == ("c", None)  # 2 patients without it
    # B's denominator of 3 is hidden, so the region's FLSs need a second hidden denominator:
    # the smallest FLS's, C's (58); and C, knowing its own 58, would work B's 3 out from the
    # region's total, so A's is withheld too (the insider attack).
    assert c["denominator"] == "c" and a["denominator"] == "c"
    assert cell(shown, "service", "D", "kpi04")["denominator"] == 90
    assert find_disclosures(shown, SERVICES, POLICY) == []


def test_a_region_with_one_fls_and_a_nation_with_one_region_hide_their_totals() -> None:
    counts = dict(BASE, D=(3, 90), W=(2, 80))
    shown = protect_tables(tables_for("kpi04", counts), SERVICES, POLICY)
    assert cell(shown, "region", "R2", "kpi04")["numerator"] == "<5"
    assert cell(shown, "region", "W1", "kpi04")["numerator"] == "<5"
    assert cell(shown, "nation", "wales", "kpi04")["numerator"] == "<5"
    # England and Wales add up to the whole: with Wales hidden, England is withheld too.
    assert cell(shown, "nation", "england", "kpi04")["numerator"] == "c"
    # D knows its own 3, and W its own 2: the whole, shown, minus England would give D Wales's
    # count (issue 17's insider), so more is withheld; the intruder's audit passes.
    assert cell(shown, "nation", "all", "kpi04")["denominator"] == 540
    assert find_disclosures(shown, SERVICES, POLICY) == []
    raw = tables_for("kpi04", counts)
    assert audit_tables(shown, raw, SERVICES, POLICY) == []


def test_one_hidden_fls_among_shown_ones_takes_the_smallest_other_with_it() -> None:
    counts = dict(BASE, A=(3, 100))
    shown = protect_tables(tables_for("kpi04", counts), SERVICES, POLICY)
    assert cell(shown, "service", "A", "kpi04")["numerator"] == "<5"
    # B (120 patients) is smaller than C (150): it is withheld, the region stays shown; and as
    # B knows its own count (it would give A's 3 from the region's), C's is withheld too.
    assert cell(shown, "service", "B", "kpi04")["numerator"] == "c"
    assert cell(shown, "service", "C", "kpi04")["numerator"] == "c"
    assert cell(shown, "region", "R1", "kpi04")["numerator"] == 113
    assert find_disclosures(shown, SERVICES, POLICY) == []
    raw = tables_for("kpi04", counts)
    assert find_disclosures(raw, SERVICES, POLICY)  # the check finds the shown small count


def test_breakdown_groups_add_up_to_the_whole() -> None:
    tables = tables_for("kpi04", BASE)
    tables["sex"] = pd.DataFrame(
        [
            _row("sex", "female", "kpi04", 120, 300),
            _row("sex", "male", "kpi04", 77, 236),
            _row("sex", "other", "kpi04", 3, 4),
            _row("sex", "not_known", "kpi04", 0, 0),
        ]
    )
    shown = protect_tables(tables, SERVICES, POLICY)
    assert cell(shown, "sex", "other", "kpi04")["numerator"] == "<5"
    assert cell(shown, "sex", "male", "kpi04")["numerator"] == "c"
    assert find_disclosures(shown, SERVICES, POLICY) == []


def test_kpi02_parts_and_counts_of_the_same_patients_are_tied() -> None:
    rows = [
        _row("service", "A", "kpi02", 100, 400),
        _row("service", "A", "kpi02_spine", 3, 80),
        _row("service", "A", "kpi02_non_spine", 97, 320),
        _row("service", "A", "kpi07", 30, 100),
        _row("service", "A", "kpi09", 10, 28, 2),
    ]
    tables = {"service": pd.DataFrame(rows)}
    shown = protect_tables(tables, SERVICES.iloc[:1], POLICY)
    assert cell(shown, "service", "A", "kpi02_spine")["numerator"] == "<5"
    # spine + non-spine = all: one more of them is withheld.
    assert "c" in {
        cell(shown, "service", "A", k)["numerator"] for k in ("kpi02", "kpi02_non_spine")
    }
    # kpi09's not-due count of 2 is hidden; its denominator plus not-due equals kpi07's numerator
    # (the patients with a drug recommended), so one of those is withheld too.
    assert cell(shown, "service", "A", "kpi09")["not_due"] == "<5"
    withheld = [
        cell(shown, "service", "A", "kpi09")["denominator"],
        cell(shown, "service", "A", "kpi07")["numerator"],
    ]
    assert "c" in withheld
    assert find_disclosures(shown, SERVICES.iloc[:1], POLICY) == []


def test_the_threshold_is_configuration() -> None:
    counts = dict(BASE, A=(7, 100))
    strict = Suppression(below=10)
    shown = protect_tables(tables_for("kpi04", counts), SERVICES, strict)
    assert cell(shown, "service", "A", "kpi04")["numerator"] == "<10"
    assert find_disclosures(shown, SERVICES, strict) == []


def test_treatment_mix_hides_small_groups_and_keeps_hidden_sums_large() -> None:
    groups = ("anabolic", "denosumab", "intravenous", "oral_bisphosphonate", "other", "none")
    mix = pd.DataFrame(
        {
            "service_code": ["A", "B"],
            "anabolic": [2, 30],
            "denosumab": [10, 20],
            "intravenous": [1, 25],
            "oral_bisphosphonate": [50, 60],
            "other": [12, 6],
            "none": [25, 40],
        }
    )
    mix["records"] = mix[list(groups)].sum(axis=1)
    shown = protect_mix(mix, groups, POLICY)
    a = shown.iloc[0]
    assert a["anabolic"] is None and a["intravenous"] is None
    hidden = [g for g in groups if a[g] is None]
    assert sum(mix.iloc[0][g] for g in hidden) >= 5  # the hatched bar is not a small count
    assert all(shown.iloc[1][g] is not None for g in groups)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=5, max_size=5),
    st.sampled_from(["kpi04", "kpi07", "kpi11"]),
)
def test_no_published_count_is_small_or_recoverable(pairs: list[tuple[int, int]], kpi: str) -> None:
    counts = {
        code: (float(min(a, b)), float(max(a, b)))
        for code, (a, b) in zip(SERVICES["service_code"], pairs, strict=True)
    }
    shown = protect_tables(tables_for(kpi, counts), SERVICES, POLICY)
    assert find_disclosures(shown, SERVICES, POLICY) == []


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_the_engine_leaves_no_constraint_with_one_hidden_cell(data: st.DataObject) -> None:
    size = data.draw(st.integers(3, 12))
    values = np.array(data.draw(st.lists(st.integers(0, 20), min_size=size, max_size=size)), float)
    relations = []
    for _ in range(data.draw(st.integers(1, 6))):
        cells = data.draw(st.lists(st.integers(0, size - 1), min_size=2, max_size=5, unique=True))
        relations.append(relation(cells[:1], cells[1:]))
        values[cells[0]] = sum(values[c] for c in cells[1:])  # a parent is its children's sum
    hidden = (values >= 1) & (values < 5)
    result = complete(values, hidden, relations, np.arange(size, dtype=float))
    assert (result >= hidden).all()
    for index in exposed(result, relations, values):
        # Only where nothing shown is left to hide may a relation stay exposed.
        rel = relations[index]
        assert all(result[c] or values[c] == 0 for c in rel.cells)
