"""Counts of records by one coded field, per FLS, counted in the engine: the fracture site of the
case-mix and the reasons no drug was recommended.

A blank cell counts as `not_recorded`. For the reasons, records whose recommendation holds a drug
code are left out: each remaining record is one outcome code (`inappropriate`, `informed_decline`,
`referred_clinical_opinion`, `referred_to_gp`, `not_known`) or blank.
"""

from __future__ import annotations

import ibis
import pandas as pd

from flsdb.dictionary import load_dictionary
from flsdb.kpi.compile import FRACTURE
from flsdb.kpi.mix import DECISIONS
from flsdb.kpi.periods import Period
from flsdb.kpi.sources import RecordSource

NOT_RECORDED = "not_recorded"
RECOMMENDATION = "bone_therapy_recommended"
__all__ = ["DECISIONS", "NOT_RECORDED", "counts_by_field", "field_codes"]


def field_codes(column: str) -> tuple[str, ...]:
    """The codes of a coded field, or the outcome codes of a therapy field, and not_recorded."""
    dictionary = load_dictionary()
    spec = dictionary.record_fields[column]
    codes = dictionary.outcome_codes(spec) if spec.type == "therapy" else dictionary.codes(spec)
    return (*codes, NOT_RECORDED)


def counts_by_field(source: RecordSource, period: Period, column: str) -> pd.DataFrame:
    """Records per service_code (rows, every FLS) and code of `column` (columns, in the
    dictionary's order, then not_recorded). For a therapy field, only the records that hold no
    drug code, by outcome."""
    table = source.table
    scoped = table.filter(
        (table[FRACTURE] >= ibis.literal(period.start))
        & (table[FRACTURE] <= ibis.literal(period.end))
    )
    codes = field_codes(column)
    value = scoped[column].cast("string")
    code = ibis.cases(
        *[(value == c, c) for c in codes if c != NOT_RECORDED],
        (value.isnull() | (value.strip() == ""), NOT_RECORDED),
        else_="_other",
    )
    counted = (
        scoped.group_by(service_code=scoped["service_code"], code=code)
        .aggregate(n=scoped.count())
        .execute()
    )
    counted = counted[counted["code"] != "_other"]
    wide = counted.pivot_table(
        index="service_code", columns="code", values="n", aggfunc="sum", fill_value=0
    )
    wide = wide.reindex(columns=list(codes), fill_value=0)
    wide = wide.reindex(sorted(source.services["service_code"]), fill_value=0)
    return wide.astype("int64").rename_axis(index="service_code", columns=None).reset_index()
