"""The computed figures of a period: a typed model (`PeriodFigures`, with its `unsuppressed` and
`published` views) built by one function (`compute_figures`), below both the reports and the
web, which render it and never reach into each other."""

from flsdb.figures.compare import FLAG_WORDS, MIX_LABELS, comparator, mix_shares
from flsdb.figures.compute import (
    Maintained,
    audited,
    compute_figures,
    is_synthetic,
    kpi_inequity,
)
from flsdb.figures.kept import Kept
from flsdb.figures.model import FUNNEL_KPIS, HEADLINE_KPIS, PerFls, PeriodFigures
from flsdb.figures.rows import kpi_records
from flsdb.figures.spc import SPC_KPIS, SpcAnalysis, SpcPanel, unit_analysis

__all__ = [
    "FLAG_WORDS",
    "FUNNEL_KPIS",
    "HEADLINE_KPIS",
    "MIX_LABELS",
    "SPC_KPIS",
    "Kept",
    "Maintained",
    "PerFls",
    "PeriodFigures",
    "SpcAnalysis",
    "SpcPanel",
    "audited",
    "comparator",
    "compute_figures",
    "is_synthetic",
    "kpi_inequity",
    "kpi_records",
    "mix_shares",
    "unit_analysis",
]
