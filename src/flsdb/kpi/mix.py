"""Treatment mix of recommendations per service, counted in the engine.

A record is counted once, in the first group its recommendation holds, in this order: anabolic,
denosumab, intravenous, oral bisphosphonate, other (so alendronate with alfacalcidol counts as
oral bisphosphonate); `none` is a record with no drug recommended.
"""

from __future__ import annotations

import ibis
import pandas as pd

from flsdb.dictionary import load_dictionary
from flsdb.kpi.catalogue import load_catalogue
from flsdb.kpi.compile import FRACTURE, Compiler
from flsdb.kpi.periods import Period
from flsdb.kpi.sources import RecordSource

PRIORITY = ("anabolic", "denosumab", "intravenous", "oral_bisphosphonate", "other")
MIX_GROUPS = (*PRIORITY, "none")
COLUMN = "bone_therapy_recommended"


def treatment_mix(source: RecordSource, period: Period) -> pd.DataFrame:
    """Counts per service_code and treatment group (columns: the groups, plus `records`)."""
    table = source.table
    scoped = table.filter(
        (table[FRACTURE] >= ibis.literal(period.start))
        & (table[FRACTURE] <= ibis.literal(period.end))
    )
    compiler = Compiler(scoped, load_catalogue(), period.end, source.backend)
    groups = load_dictionary().drug_groups()
    cases = [(compiler.holds_any(COLUMN, groups[g]).fill_null(False), g) for g in PRIORITY]
    group = ibis.cases(*cases, else_="none")
    counts = (
        scoped.group_by(service_code=scoped["service_code"], mix_group=group)
        .aggregate(n=scoped.count())
        .execute()
    )
    wide = counts.pivot_table(
        index="service_code", columns="mix_group", values="n", aggfunc="sum", fill_value=0
    )
    wide = wide.reindex(columns=list(MIX_GROUPS), fill_value=0)
    wide = wide.reindex(sorted(source.services["service_code"]), fill_value=0)
    wide["records"] = wide[list(MIX_GROUPS)].sum(axis=1)
    return wide.astype("int64").rename_axis(index="service_code", columns=None).reset_index()
