"""Costs by level (`flsdb.disclosure.costs`): complements are chosen among FLS counts before a
region's, and a nation's only when nothing else will do; the whole-group step widens from the
bottom up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flsdb.disclosure import audit_tables, find_disclosures, protect_tables
from flsdb.disclosure.audit import Breach, Target
from flsdb.disclosure.cells import COUNTS
from flsdb.disclosure.costs import (
    FLS_LEVEL,
    NATION_LEVEL,
    REGION_LEVEL,
    WHOLE_LEVEL,
    costs,
    level_of,
    levels,
)
from flsdb.disclosure.protect import _whole_groups
from flsdb.figures import audited
from tests.disclosure.nation import NATION_GROUP, nation, national_audit
from tests.disclosure.test_disclosure import BASE, POLICY, SERVICES, cell, tables_for


def test_a_count_costs_by_its_level_then_its_size_and_a_zero_last() -> None:
    frame = pd.DataFrame(
        {
            "level": ["service", "service", "age_band", "region", "nation", "nation"],
            "unit": ["A", "B", "70-79", "R1", "england", "all"],
            "period": ["2024"] * 6,
        }
    )
    # Per row: numerator, denominator, not due.
    values = np.array([5, 900, 0, 3, 10, 0, 7, 50, 0, 20, 950, 0, 30, 1000, 0, 31, 1100, 0.0])
    cost = costs(frame, values)
    assert levels(frame).tolist() == [0, 0, 0, 1, 2, 3]
    assert [level_of(c) for c in cost[0::3]] == [FLS_LEVEL] * 3 + [
        REGION_LEVEL,
        NATION_LEVEL,
        WHOLE_LEVEL,
    ]
    # An FLS's largest count before a region's smallest, a region's before a nation's.
    assert cost[1] < cost[9] < cost[12] < cost[15]
    # Within a level: the smaller unit first (B's 10 patients, then A's 900).
    assert cost[3] < cost[0]
    # A zero after every non-zero count, of any level (its level still read back).
    assert cost[2] > cost[16]
    assert level_of(cost[2]) == FLS_LEVEL and level_of(cost[17]) == WHOLE_LEVEL


def test_a_withheld_zero_takes_fls_counts_with_it_not_the_region_and_nation_totals() -> None:
    # B's denominator of 3 is withheld, and its numerator 0 with it (not "0 / <5"). The region
    # shown beside A's 40 and C's 60 would say B's is 0: the choice was the region's total of
    # 100, and England's, Wales's and the whole's with it (through England + Wales = all).
    # Beside the zero, an FLS count of its own side protects it as well, at an FLS's cost.
    counts = dict(BASE, B=(0, 3))
    raw = tables_for("kpi04", counts)
    shown = protect_tables(raw, SERVICES, POLICY)
    assert cell(shown, "service", "B", "kpi04")["numerator"] == "c"
    assert cell(shown, "service", "A", "kpi04")["numerator"] == "c"
    assert cell(shown, "service", "C", "kpi04")["numerator"] == "c"
    assert cell(shown, "region", "R1", "kpi04")["numerator"] == 100
    assert [
        cell(shown, "nation", u, "kpi04")["numerator"] for u in ("england", "wales", "all")
    ] == [
        130,
        20,
        150,
    ]
    assert find_disclosures(shown, SERVICES, POLICY) == []
    assert audit_tables(shown, raw, SERVICES, POLICY) == []


def test_whole_groups_widen_from_the_narrowed_counts_level_upwards() -> None:
    # A region's total (cell 0, region level) of three FLS counts (cells 1 to 3); an FLS's
    # count narrowed: first its fellow FLSs only, the region's total a round later.
    group = (0, 1, 2, 3)
    tied = ({c: [group] for c in group},)
    cell_levels = np.array([REGION_LEVEL, FLS_LEVEL, FLS_LEVEL, FLS_LEVEL], dtype=np.int64)
    counted = np.ones(4, dtype=bool)
    hidden = np.array([False, True, False, False])
    breach = Breach(Target(((1, 1.0),), 3.0, "A"), "outsider", 3.0, 4.0)
    first = _whole_groups([breach], tied, hidden, counted, cell_levels, widen=0)
    assert first.tolist() == [False, True, True, True]
    wider = _whole_groups([breach], tied, first, counted, cell_levels, widen=1)
    assert wider.tolist() == [True, True, True, True]


@pytest.mark.slow
@NATION_GROUP
def test_the_synthetic_nation_withholds_no_nations_records_and_passes_the_audit() -> None:
    data = nation()  # shared with the national audit's test
    withheld = []
    for column in COUNTS:
        table, truth = data.published["nation"], data.unsuppressed["nation"]
        marks = table[column].map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        for unit, kpi, value in zip(
            truth["unit"][marks], truth["kpi"][marks], truth[column][marks], strict=True
        ):
            withheld.append((unit, kpi, column, float(value)))
    # The records, spine fractures and higher-risk sites of England, Wales and the whole
    # (hundreds to thousands of patients) are all shown; before costs by level, 57 nation
    # counts were withheld, kpi02 to kpi06, hr01 and fa01 among them.
    assert not {k for _, k, _, _ in withheld} & {
        "kpi02",
        "kpi02_spine",
        "kpi02_non_spine",
        "kpi03",
        "kpi04",
        "kpi05",
        "kpi06",
        "hr01",
        "fa01",
    }
    assert len(withheld) <= 31
    # Wales's hr04 counts are small (3 of 6): one of England's and the whole's must go with
    # each, whatever the costs (England + Wales = all).
    assert ("wales", "hr04", "numerator", 3.0) in withheld
    # What `flsdb report` publishes (the gate's tables: the levels' pattern, then the nations'
    # and regions' complements the audit does not need shown again) passes the intruder's
    # audit, an outsider and every FLS as insider with its own part of every breakdown group,
    # and the subtraction check; it withholds nothing the levels' pattern shows.
    checked = audited(data)
    policy = data.thresholds.suppression
    assert national_audit() == []  # of `checked.published` (shared with the national test)
    assert find_disclosures(checked.published, data.services, policy) == []
    for level, table in checked.published.items():
        for column in COUNTS:
            now = table[column].map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
            before = data.published[level][column].map(lambda v: isinstance(v, str))
            assert not (now & ~before.to_numpy(dtype=bool)).any(), (level, column)
    # Of the nations' counts only hr04's stay withheld (Wales's 3 of 6 and England's 23 of
    # 170: every other nation count is shown, 30 withheld before), and far fewer regions' of
    # 50 or more (194 before).
    nations = checked.published["nation"]
    marked = nations[list(COUNTS)].map(lambda v: isinstance(v, str)).any(axis=1)
    assert set(nations.loc[marked, "kpi"]) == {"hr04"}
    region, truth = checked.published["region"], data.unsuppressed["region"]
    large = 0
    for column in COUNTS:
        hidden = region[column].map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        values = pd.to_numeric(truth[column], errors="coerce").fillna(0).to_numpy()
        large += int((hidden & (values >= 50)).sum())
    assert large <= 60
