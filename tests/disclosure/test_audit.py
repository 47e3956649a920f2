"""The intruder's audit (linear programming over every published count) and the suppression
chosen to pass it: sums, insiders and nested counts."""

from __future__ import annotations

import pandas as pd

from flsdb.config import Suppression
from flsdb.disclosure import audit_tables, find_disclosures, protect_tables

POLICY = Suppression()


def _row(level: str, unit: str, kpi: str, num: object, den: object) -> dict[str, object]:
    numbers = not isinstance(num, str) and not isinstance(den, str) and den
    return {
        "level": level,
        "unit": unit,
        "period": "2024",
        "kpi": kpi,
        "numerator": num,
        "denominator": den,
        "percent": round(float(num) / float(den) * 100, 1) if numbers else None,  # type: ignore[arg-type]
        "ci_low": None,
        "ci_high": None,
        "rag": None,
        "not_due": None,
    }


def services(regions: dict[str, list[str]], wales: list[str]) -> pd.DataFrame:
    rows = [
        {"service_code": code, "region_code": region, "nation": "england"}
        for region, codes in regions.items()
        for code in codes
    ]
    rows += [{"service_code": code, "region_code": "W1", "nation": "wales"} for code in wales]
    return pd.DataFrame(rows)


def rolled_up(
    table: pd.DataFrame, counts: dict[str, dict[str, tuple[float, float]]]
) -> dict[str, pd.DataFrame]:
    """FLS, region and nation rows of each KPI from the FLS counts {kpi: {code: (n, N)}}."""
    out: dict[str, list[dict[str, object]]] = {"service": [], "region": [], "nation": []}
    for kpi, by_code in counts.items():

        def total(codes: list[str], part: int) -> float:
            return sum(by_code[c][part] for c in codes)  # noqa: B023

        for code in table["service_code"]:
            out["service"].append(_row("service", code, kpi, *by_code[code]))
        for region, members in table.groupby("region_code"):
            codes = list(members["service_code"])
            out["region"].append(_row("region", str(region), kpi, total(codes, 0), total(codes, 1)))
        for nation in ("england", "wales"):
            codes = list(table.loc[table["nation"] == nation, "service_code"])
            out["nation"].append(_row("nation", nation, kpi, total(codes, 0), total(codes, 1)))
        codes = list(table["service_code"])
        out["nation"].append(_row("nation", "all", kpi, total(codes, 0), total(codes, 1)))
    return {level: pd.DataFrame(rows) for level, rows in out.items()}


def shown_as(
    tables: dict[str, pd.DataFrame], marks: dict[tuple[str, str, str], str]
) -> dict[str, pd.DataFrame]:
    """The tables with the given cells (unit, kpi, column) replaced by a marker."""
    out = {}
    for level, table in tables.items():
        table = table.astype(object)
        for (unit, kpi, column), mark in marks.items():
            rows = (table["unit"] == unit) & (table["kpi"] == kpi)
            table.loc[rows, column] = mark
            table.loc[rows, "percent"] = None
        out[level] = table
    return out


def value(tables: dict[str, pd.DataFrame], level: str, unit: str, kpi: str, column: str):  # type: ignore[no-untyped-def]
    table = tables[level]
    return table[(table["unit"] == unit) & (table["kpi"] == kpi)].iloc[0][column]


# The issue's case: region QOP shows 36 for hr04's denominator, its other FLSs 9 + 14 + 0 + 5,
# so QOPE's and QOPF's hidden counts sum to 8 and both are 4.
QOP = services({"QOP": ["QOPA", "QOPB", "QOPC", "QOPD", "QOPE", "QOPF"], "R2": ["X"]}, ["W"])
QOP_COUNTS = {
    "hr04": {
        "QOPA": (9.0, 9.0),
        "QOPB": (14.0, 14.0),
        "QOPC": (0.0, 0.0),
        "QOPD": (5.0, 5.0),
        "QOPE": (4.0, 4.0),
        "QOPF": (4.0, 4.0),
        "X": (40.0, 40.0),
        "W": (30.0, 30.0),
    }
}


def test_two_hidden_cells_whose_sum_is_shown_are_recovered_by_the_audit() -> None:
    tables = rolled_up(QOP, QOP_COUNTS)
    assert value(tables, "region", "QOP", "hr04", "denominator") == 36
    marks = {
        (code, "hr04", column): "<5"
        for code in ("QOPE", "QOPF")
        for column in ("numerator", "denominator")
    }
    old = shown_as(tables, marks)
    # The old check (one hidden cell in a sum, or hidden cells summing to 0) saw nothing.
    assert find_disclosures(old, QOP, POLICY) == []
    problems = audit_tables(old, tables, QOP, POLICY)
    assert "service QOPE hr04: the hidden denominator can be worked out as 4 by an outsider" in (
        problems
    )
    shown = protect_tables(tables, QOP, POLICY)
    assert audit_tables(shown, tables, QOP, POLICY) == []
    assert value(shown, "service", "QOPE", "hr04", "denominator") == "<5"
    assert value(shown, "service", "QOPC", "hr04", "denominator") == 0  # a zero shows as 0


# The insider case: QKSA can work out QKSC's spine fractures as 237 - 52 - 155 - 27 = 3
# when QKSA's own count is the cell withheld to protect QKSC's.
QKS = services({"QKS": ["QKSA", "QKSB", "QKSC", "QKSD"], "R2": ["X"]}, ["W"])
QKS_COUNTS = {
    "kpi03": {
        "QKSA": (52.0, 300.0),
        "QKSB": (155.0, 700.0),
        "QKSC": (3.0, 50.0),
        "QKSD": (27.0, 130.0),
        "X": (60.0, 300.0),
        "W": (40.0, 200.0),
    }
}


def test_an_fls_knowing_its_own_counts_is_an_attacker_too() -> None:
    tables = rolled_up(QKS, QKS_COUNTS)
    old = shown_as(
        tables, {("QKSC", "kpi03", "numerator"): "<5", ("QKSA", "kpi03", "numerator"): "c"}
    )
    assert find_disclosures(old, QKS, POLICY) == []
    problems = audit_tables(old, tables, QKS, POLICY)
    assert problems == [
        "service QKSC kpi03: the hidden numerator can be worked out as 3 by FLS QKSA"
    ]
    shown = protect_tables(tables, QKS, POLICY)
    assert audit_tables(shown, tables, QKS, POLICY) == []
    # Every FLS of the region but one is withheld (each knows its own), or the region is.
    hidden = [
        code
        for code in ("QKSA", "QKSB", "QKSC", "QKSD")
        if isinstance(value(shown, "service", code, "kpi03", "numerator"), str)
    ]
    region = value(shown, "region", "QKS", "kpi03", "numerator")
    assert len(hidden) >= 3 or isinstance(region, str)


def test_a_count_inside_another_leaves_no_small_difference() -> None:
    """kpi07's numerator (patients recommended a drug) minus hr02's (those at higher-risk sites)
    is 4 at QKSA: printing both would show 4 patients."""
    counts = {
        "kpi07": {c: (100.0, 300.0) for c in ("QKSA", "QKSB", "QKSC", "QKSD", "X", "W")},
        "hr02": {c: (80.0, 150.0) for c in ("QKSA", "QKSB", "QKSC", "QKSD", "X", "W")},
    }
    counts["hr02"]["QKSA"] = (96.0, 150.0)
    tables = rolled_up(QKS, counts)
    problems = audit_tables(tables, tables, QKS, POLICY)
    assert problems == [
        "service QKSA kpi07: the patients in its numerator and not in hr02's numerator can be "
        "worked out as 4 by an outsider"
    ]
    shown = protect_tables(tables, QKS, POLICY)
    assert audit_tables(shown, tables, QKS, POLICY) == []
    assert value(shown, "service", "QKSA", "hr02", "numerator") == "c"
    assert value(shown, "service", "QKSA", "hr02", "percent") is None
    assert value(shown, "service", "QKSA", "kpi07", "numerator") == 100


def test_zeros_show_as_zero_and_withheld_zeros_as_c() -> None:
    counts = {
        "kpi04": {
            "QKSA": (0.0, 300.0),
            "QKSB": (0.0, 3.0),
            "QKSC": (20.0, 50.0),
            "QKSD": (27.0, 130.0),
            "X": (60.0, 300.0),
            "W": (40.0, 200.0),
        }
    }
    tables = rolled_up(QKS, counts)
    shown = protect_tables(tables, QKS, POLICY)
    assert value(shown, "service", "QKSA", "kpi04", "numerator") == 0
    assert value(shown, "service", "QKSA", "kpi04", "percent") == 0.0
    # 0 of 3: the 0 would tell the 3 patients' outcome; withheld, it is c (<5 means 1 to 4).
    assert value(shown, "service", "QKSB", "kpi04", "numerator") == "c"
    assert value(shown, "service", "QKSB", "kpi04", "denominator") == "<5"
    assert audit_tables(shown, tables, QKS, POLICY) == []


def test_the_search_ends_on_a_tiny_set_where_every_count_is_small() -> None:
    """Every count below 10 (hr04's denominator inside kpi03's numerator): the protection
    levels' pattern passes the audit, and the audit's search, bounded, ends at once."""
    counts = {
        "kpi03": {
            "QKSA": (2.0, 6.0),
            "QKSB": (1.0, 3.0),
            "QKSC": (3.0, 7.0),
            "QKSD": (0.0, 2.0),
            "X": (4.0, 9.0),
            "W": (1.0, 5.0),
        },
        "hr04": {
            "QKSA": (1.0, 2.0),
            "QKSB": (0.0, 1.0),
            "QKSC": (2.0, 3.0),
            "QKSD": (0.0, 0.0),
            "X": (3.0, 4.0),
            "W": (1.0, 1.0),
        },
    }
    tables = rolled_up(QKS, counts)
    fast = protect_tables(tables, QKS, POLICY)
    assert audit_tables(fast, tables, QKS, POLICY) == []
    searched = protect_tables(tables, QKS, POLICY, audited=True)
    assert audit_tables(searched, tables, QKS, POLICY) == []
    # Zeros show as 0 where nothing needs them withheld; withheld, they are c, never <5.
    for level, table in searched.items():
        for column in ("numerator", "denominator"):
            raw = tables[level][column].to_numpy()
            marks = table[column].to_numpy()
            assert not any(m == "<5" and r == 0 for m, r in zip(marks, raw, strict=True))
    assert value(searched, "service", "QKSD", "hr04", "denominator") == 0


# Two nested counts both withheld: X's kpi07 denominator (37) and hr02 denominator (36) differ
# by 1. England's two counts are shown, and so are QKSB's; QKSA's differ by 0 and QKSC knows
# its own, so QKSC works out X's difference as 65 - 64 - QKSA's = at most 1.
NESTED = services({"QKS": ["QKSA", "QKSB", "QKSC"], "R2": ["X"]}, ["W"])
NESTED_COUNTS = {
    "kpi07": {
        "QKSA": (22.0, 28.0),
        "QKSB": (180.0, 180.0),
        "QKSC": (67.0, 74.0),
        "X": (32.0, 37.0),
        "W": (89.0, 89.0),
    },
    "hr02": {
        "QKSA": (22.0, 28.0),
        "QKSB": (129.0, 129.0),
        "QKSC": (45.0, 47.0),
        "X": (31.0, 36.0),
        "W": (73.0, 73.0),
    },
}


def test_two_withheld_nested_counts_keep_their_difference_protected() -> None:
    tables = rolled_up(NESTED, NESTED_COUNTS)
    # The pattern the protection levels chose before nested pairs had levels of their own.
    marks = {
        (unit, kpi, column): "c"
        for unit, kpis in (
            ("QKSA", ("kpi07", "hr02")),
            ("X", ("kpi07", "hr02")),
            ("QKSC", ("hr02",)),
            ("QKS", ("kpi07", "hr02")),
            ("R2", ("kpi07", "hr02")),
        )
        for kpi in kpis
        for column in ("numerator", "denominator")
    }
    for unit in ("W", "W1", "england", "wales"):
        marks[(unit, "hr02", "numerator")] = "c"
    old = shown_as(tables, marks)
    assert find_disclosures(old, NESTED, POLICY) == []
    problems = audit_tables(old, tables, NESTED, POLICY)
    assert (
        "service X kpi07: the patients in its denominator and not in hr02's denominator can be "
        "worked out as 0 to 1 by FLS QKSC"
    ) in problems
    shown = protect_tables(tables, NESTED, POLICY)
    assert find_disclosures(shown, NESTED, POLICY) == []
    assert audit_tables(shown, tables, NESTED, POLICY) == []
    # The difference is protected by withholding QKSB's too (a shown difference of 51 beside).
    assert isinstance(value(shown, "service", "QKSB", "hr02", "denominator"), str)
