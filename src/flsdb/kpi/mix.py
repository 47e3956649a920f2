"""Treatment mix of recommendations per service, counted in the engine.

A record is counted once, in the first group its recommendation holds, in this order: anabolic,
denosumab, intravenous, oral bisphosphonate, other (so alendronate with alfacalcidol counts as
oral bisphosphonate). A record with no drug recommended is `decision` when its outcome says why
(not appropriate, declined, referred for a clinical opinion or to the GP) and `not_recorded` when
it is `not_known` or blank: a decision not to treat is care, a missing answer is a data gap.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import pandas as pd

from flsdb.dictionary import load_dictionary
from flsdb.kpi.catalogue import load_catalogue
from flsdb.kpi.compile import FRACTURE, Compiler
from flsdb.kpi.periods import Period
from flsdb.kpi.sources import RecordSource

PRIORITY = ("anabolic", "denosumab", "intravenous", "oral_bisphosphonate", "other")
NO_DRUG = ("decision", "not_recorded")
MIX_GROUPS = (*PRIORITY, *NO_DRUG)
# The outcomes that are a decision not to recommend a drug.
DECISIONS = ("inappropriate", "informed_decline", "referred_clinical_opinion", "referred_to_gp")
COLUMN = "bone_therapy_recommended"


def treatment_mix(source: RecordSource, period: Period) -> pd.DataFrame:
    """Counts per service_code and treatment group (columns: the groups, plus `records`)."""
    return wide_mix(mix_counts(source, period).execute(), source.services["service_code"])


def mix_counts(source: RecordSource, period: Period) -> ibis.Table:
    """The query of the counts per service_code and group (`mix_group`), one row each (`n`)."""
    table = source.table
    scoped = table.filter(
        (table[FRACTURE] >= ibis.literal(period.start))
        & (table[FRACTURE] <= ibis.literal(period.end))
    )
    compiler = Compiler(scoped, load_catalogue(), period.end, source.backend)
    groups = load_dictionary().drug_groups()
    cases = [(compiler.holds_any(COLUMN, groups[g]).fill_null(False), g) for g in PRIORITY]
    value = scoped[COLUMN].cast("string")
    cases.append((value.isin(list(DECISIONS)).fill_null(False), "decision"))
    group = ibis.cases(*cases, else_="not_recorded")
    return scoped.group_by(service_code=scoped["service_code"], mix_group=group).aggregate(
        n=scoped.count()
    )


def wide_mix(counts: pd.DataFrame, service_codes: Iterable[str]) -> pd.DataFrame:
    """The counts (`mix_counts`' rows) as one row per service, a column per group."""
    wide = counts.pivot_table(
        index="service_code", columns="mix_group", values="n", aggfunc="sum", fill_value=0
    )
    wide = wide.reindex(columns=list(MIX_GROUPS), fill_value=0)
    wide = wide.reindex(sorted(service_codes), fill_value=0)
    wide["records"] = wide[list(MIX_GROUPS)].sum(axis=1)
    return wide.astype("int64").rename_axis(index="service_code", columns=None).reset_index()
