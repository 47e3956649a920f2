"""The treatment mix as the national report publishes it, in the intruder's audit.

The national report draws each FLS's treatment mix as shares of its patients, and its records
(kpi03's denominator) are published: a share times the records is a count, so each group drawn
is, to the audit, a count published exactly, and the hatched "withheld" part is the sum of the
hidden groups (each 0 or more: no marker says it is 1 to 4). The national shares are printed to
one decimal of the published records: each is a count within the range that rounds to it (for
a small total, the count itself). Their relations: an FLS's groups add up to its records, its
five drug groups to kpi07's numerator; each national group is the sum of the FLSs' own; the
national groups add up to the records, the drugs to kpi07's numerator, the clinical decisions
to the reasons table's decisions and "not recorded" to its not known and blank. An FLS's own
mix is its own (it knows it exactly and does not attack it); of the national groups it knows
its part.

`add_mix` puts these counts in the audit's model (`reports.published_counts.linked_counts`);
`published_mix` and `national_shares` give them as the reports print them, with what the audit
withholds further (`PeriodFigures.linked_withheld`): a group withheld is not drawn (it joins
the hatched part), an FLS whose records are withheld is not drawn at all (nor one whose records
or kpi07 numerator the KPI tables withhold: its bar would give them back), a national share
withheld is printed as withheld.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from flsdb.disclosure import is_hidden
from flsdb.disclosure.linked import Key, Linked, Term
from flsdb.kpi.mix import DECISIONS, MIX_GROUPS, PRIORITY
from flsdb.reports.ties import tie

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures

NATION = "all"
DECIMALS = 1  # a share is printed to one decimal (`render._pct`, `charts.base.percent`)
NOT_GIVEN = ("not_known", "not_recorded")  # the reasons that are "no drug: not recorded"


def name(unit: str, group: str) -> str:
    """A mix count's name in the audit's model: `mix:FLS:group`, `mix:FLS:records`,
    `mix:all:group` for the nation."""
    return f"mix:{unit}:{group}"


def add_mix(data: PeriodFigures, linked: Linked) -> None:
    """Every treatment-mix count the national report publishes, with its relations."""
    mix, shown = data.mix, data.mix_published
    if mix.empty:
        return
    shown_rows = shown.set_index("service_code")
    whole = bars_withheld(data)
    for row in mix.to_dict("records"):
        code = str(row["service_code"])
        published = shown_rows.loc[code]
        drawn = published["records"] is not None and float(row["records"]) > 0
        drawn = drawn and code not in whole
        for column in (*MIX_GROUPS, "records"):
            value = float(row[column])
            out = published[column]
            # A hidden group is not printed, only drawn with the others in the hatched part:
            # no marker says it is 1 to 4 (c: 0 or more).
            visible = drawn and out is not None
            printed = value if visible else "c"
            linked.add(name(code, column), value, printed, code, marked=False)
        own = tuple(name(code, g) for g in MIX_GROUPS)
        linked.sums.append(((name(code, "records"),), own))
        tie(data, linked, (name(code, "records"),), (_kpi("service", code, "kpi03", "den"),))
        drugs = tuple(name(code, g) for g in PRIORITY)
        tie(data, linked, drugs, (_kpi("service", code, "kpi07", "num"),))
    codes = [str(c) for c in mix["service_code"]]
    records = float(mix["records"].sum())
    for group in MIX_GROUPS:
        total = float(mix[group].sum())
        linked.add(name(NATION, group), total, total, marked=False)
        linked.ranges[name(NATION, group)] = printed_range(total, records)
        linked.sums.append(((name(NATION, group),), tuple(name(c, group) for c in codes)))
        for code, value in zip(codes, mix[group], strict=True):
            if value:
                linked.parts.setdefault(code, {})[name(NATION, group)] = float(value)
    groups = tuple(name(NATION, g) for g in MIX_GROUPS)
    tie(data, linked, groups, (_kpi("nation", NATION, "kpi03", "den"),))
    drugs = tuple(name(NATION, g) for g in PRIORITY)
    tie(data, linked, drugs, (_kpi("nation", NATION, "kpi07", "num"),))
    decided: tuple[Term, ...] = tuple(f"reason:{c}" for c in DECISIONS)
    missing: tuple[Term, ...] = tuple(f"reason:{c}" for c in NOT_GIVEN)
    for group, reasons in (("decision", decided), ("not_recorded", missing)):
        present = tuple(r for r in reasons if r in linked.values)
        if present:
            tie(data, linked, (name(NATION, group),), present)


def printed_range(count: float, total: float) -> tuple[float, float]:
    """The counts a share printed to one decimal (of a published total) allows: every count
    whose share rounds to the same tenth (the count itself when the total is small)."""
    if not total:
        return (count, count)
    share = round(count / total * 100, DECIMALS)
    half = 0.5 * 10**-DECIMALS
    return (max(0.0, (share - half) / 100 * total), min(total, (share + half) / 100 * total))


def _kpi(level: str, unit: str, kpi: str, column: str) -> Key:
    return (level, unit, kpi, {"num": "numerator", "den": "denominator"}[column])


def bars_withheld(data: PeriodFigures) -> set[str]:
    """The FLSs whose bar is not drawn at all: those whose records (kpi03's denominator) or
    patients recommended a drug (kpi07's numerator) are withheld in the KPI tables, which the
    bar would give back (records less the groups with no drug is kpi07's numerator)."""
    if not data.suppression:
        return set()
    table = data.published["service"]
    rows = table[table["kpi"].isin(["kpi03", "kpi07"])]
    out = set()
    for row in rows.to_dict("records"):
        column = "denominator" if row["kpi"] == "kpi03" else "numerator"
        if is_hidden(row[column]):
            out.add(str(row["unit"]))
    return out


def published_mix(data: PeriodFigures) -> pd.DataFrame:
    """Each FLS's treatment mix as the report draws it: a hidden count None, and the counts
    the audit withholds further hidden too (an FLS whose records are withheld: every count)."""
    out = data.mix_published
    further = data.linked_withheld
    bars = bars_withheld(data)
    if not (further or bars) or out.empty:
        return out
    out = out.copy()
    for i, code in enumerate(out["service_code"]):
        whole = name(str(code), "records") in further or str(code) in bars
        for column in (*MIX_GROUPS, "records"):
            if whole or name(str(code), column) in further:
                out.at[out.index[i], column] = None
    return out


def national_shares(data: PeriodFigures) -> dict[str, float | None]:
    """Each group's share (%) of every FLS's patients; None where the audit withholds it."""
    total = float(data.mix["records"].sum())
    further = data.linked_withheld
    return {
        g: None
        if name(NATION, g) in further
        else (float(data.mix[g].sum()) / total * 100 if total else 0.0)
        for g in MIX_GROUPS
    }
