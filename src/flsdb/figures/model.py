"""The computed figures of one period and extract date (`PeriodFigures`): the KPI rows of every
level as computed (`unsuppressed`) and as they may be published (`published`), the monthly
series, the funnels, the treatment mix and data completeness. Built by
`flsdb.figures.compute_figures`; the reports render them, and so do the dashboards.

Which view a reader takes is the one distinction that matters: an FLS's own staff and the
national team see `unsuppressed` rows; everything that leaves an FLS is `published`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from flsdb.config import Thresholds
from flsdb.disclosure import is_hidden, protect_mix
from flsdb.figures.kept import Kept
from flsdb.kpi.catalogue import Catalogue, Measure
from flsdb.kpi.mix import MIX_GROUPS
from flsdb.kpi.periods import Period
from flsdb.stats.inequity import Inequity

T = TypeVar("T")

# Proportion KPIs shown in funnels and SPC charts (kpi01 is a count of fields and kpi02 a ratio to
# an expected caseload, so neither is a proportion of records).
FUNNEL_KPIS = (
    "kpi03",
    "kpi04",
    "kpi05",
    "kpi06",
    "kpi07",
    "kpi08",
    "kpi09",
    "kpi10",
    "kpi11",
    "hr02",
    "hr03",
    "fa01",
    "fa02",
)
HEADLINE_KPIS = ("kpi02", *(k for k in FUNNEL_KPIS if k.startswith("kpi")))

# What the records (not the maintained counts) give, for one FLS: its treatment mix for the
# period, a row of `kpi.mix.treatment_mix` (see `PeriodFigures.mix_of`).
PerFls = Callable[[str], pd.DataFrame]


@dataclass
class PeriodFigures:
    """The figures of one period, as of one extract date.

    `unsuppressed` holds the KPI rows per level as computed; `published` the same rows as they
    may be published (small counts hidden, when suppression is on). The FLS reports and
    dashboards use `unsuppressed` for the FLS's own rows (for its staff) and `published` for
    everything else.
    """

    period: Period
    as_of: dt.date
    catalogue: Catalogue
    thresholds: Thresholds
    suppression: bool
    caseload_method: str
    caseload_summary: str
    records: int
    services: pd.DataFrame
    unsuppressed: dict[str, pd.DataFrame]
    published: dict[str, pd.DataFrame]
    years: pd.DataFrame
    monthly_service: pd.DataFrame
    monthly_nation: pd.DataFrame
    # Every FLS's treatment mix (empty when `mix_of` gives it one FLS at a time, as the figures
    # built from the maintained counts do) and key-field completeness.
    mix: pd.DataFrame
    mix_published: pd.DataFrame
    completeness: pd.DataFrame
    services_with_records: int = 0
    # Whether the period is locked (and since when), as the report states it; a period that is
    # not locked is provisional, and every page says so.
    lock_note: str = ""
    # Made-up data (a services table with an FLS marked synthetic, as `flsdb synth` and `flsdb
    # demo` write them): every page, file name and table says so.
    synthetic: bool = False
    # Per FLS, records whose index site came from the 2023 FLS-DB 'Non hip/non spine' label
    # (from the store's audit trail; None when the records come from files).
    lost_sites: dict[str, int] | None = None
    inequities: dict[str, Inequity] = field(default_factory=dict)
    # Records per FLS by fracture site, and (records with no drug recommended) by the outcome
    # recorded instead: the case-mix and reasons chapters (reports/casemix.py) publish them.
    sites: pd.DataFrame | None = None
    reasons: pd.DataFrame | None = None
    # Each FLS's catchment: population_50plus and expected caseloads as the services file gives
    # them (the coverage chapter, reports/coverage.py).
    catchments: pd.DataFrame | None = None
    # The national rows of every year as computed (`years` as published), for the audit.
    years_computed: pd.DataFrame | None = None
    # Each FLS's own counts in the breakdown groups (`kpi.groups.per_fls_groups`): what an FLS
    # knows of the breakdown tables, for the audit's insiders.
    group_counts: pd.DataFrame | None = None
    # The counts published beside the KPI tables (fracture sites, reasons, Appendix B) that the
    # audit withholds beyond their own protection, by name (`reports.published_counts`).
    linked_withheld: frozenset[str] = frozenset()
    # One FLS's treatment mix from its records, when the figures hold it per FLS.
    mix_of: PerFls | None = field(default=None, repr=False, compare=False)
    # Views made from these figures (rows by unit, monthly series, dashboards' parts, chart
    # layouts), kept with them and dropped with them.
    kept: Kept = field(default_factory=Kept, repr=False, compare=False)
    # Whether `published` passed the intruder's audit (`figures.audited`); a copy made by
    # `dataclasses.replace` starts unaudited.
    _audited: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def provisional(self) -> bool:
        """Whether the period's figures may still change (it is not locked)."""
        return not self.lock_note

    def view(self, name: str, *key: Hashable, make: Callable[[], T]) -> T:
        """A view of these figures (`name` and `key` say which), made once and kept with them."""
        return self.kept.get((name, *key), make)

    def measure(self, kpi: str) -> Measure:
        return self.catalogue.measure(kpi)

    def name(self, kpi: str) -> str:
        return self.catalogue.name(kpi)

    def description(self, kpi: str) -> str:
        return self.catalogue.description(kpi)

    def row(self, level: str, unit: str, kpi: str, published: bool = True) -> dict[str, object]:
        """One KPI row (as published, or unsuppressed), or {} when there is none."""

        def index() -> dict[tuple[str, str], dict[str, object]]:
            table = (self.published if published else self.unsuppressed)[level]
            return {
                (str(r["unit"]), str(r["kpi"])): {str(k): v for k, v in r.items()}
                for r in table.to_dict("records")
            }

        return dict(self.view("rows", level, published, make=index).get((unit, kpi), {}))

    def service_info(self, code: str) -> dict[str, object]:
        row = self.services[self.services["service_code"] == code].iloc[0]
        return {str(k): v for k, v in row.items()}

    def unit_name(self, level: str, unit: str) -> str:
        """A name a person reads, with the code: 'Devon FLS A (QJKA)'."""
        if level == "service":
            rows = self.services[self.services["service_code"] == unit]
            return f"{rows['service_name'].iloc[0]} ({unit})" if len(rows) else unit
        if level == "region":
            rows = self.services[self.services["region_code"] == unit]
            return f"{rows['region_name'].iloc[0]} ({unit})" if len(rows) else unit
        if level == "nation":
            return {"england": "England", "wales": "Wales", "all": "England and Wales"}[unit]
        return unit.replace("_", " ")

    def months(self, frame: pd.DataFrame, unit: str, kpi: str) -> pd.DataFrame:
        """A unit's monthly rows of one KPI (`frame`: `monthly_service` or `monthly_nation`),
        in month order."""
        if frame is self.monthly_service or frame is self.monthly_nation:
            which = "service" if frame is self.monthly_service else "nation"
            ordered, spans = self.view("months", which, make=lambda: _by_unit_and_kpi(frame))
        else:
            ordered, spans = _by_unit_and_kpi(frame)
        start, stop = spans.get((unit, kpi), (0, 0))
        return ordered.iloc[start:stop].reset_index(drop=True)

    def published_mask(self, kpi: str) -> pd.Series:
        """Per FLS (in service order), whether its value for the KPI may be published."""
        rows = self.published["service"][self.published["service"]["kpi"] == kpi]
        return ~(rows["numerator"].map(is_hidden) | rows["denominator"].map(is_hidden))

    def fls_mix(self, code: str | None, published: bool = False) -> pd.DataFrame:
        """The treatment mix rows of one FLS (None: every FLS), unsuppressed or as published."""
        if code is not None and self.mix_of is not None:
            mix_of = self.mix_of
            own = self.view("mix", code, make=lambda: mix_of(code))
            if not published or not self.suppression:
                return own
            return self.view("mix published", code, make=lambda: self._mix_published(own))
        mix = self.mix_published if published else self.mix
        return mix if code is None else mix[mix["service_code"] == code]

    def fls_completeness(self, code: str) -> pd.DataFrame:
        """Key fields missing in one FLS's records, by field."""
        return self.completeness[self.completeness["service_code"] == code]

    def _mix_published(self, own: pd.DataFrame) -> pd.DataFrame:
        return protect_mix(own, MIX_GROUPS, self.thresholds.suppression)


def _by_unit_and_kpi(
    frame: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[tuple[str, str], tuple[int, int]]]:
    """The rows sorted by unit, KPI and month (one sort), and where each unit's KPI's rows
    start and stop: a unit's months are then one slice, however many units there are."""
    if frame.empty:
        return frame, {}
    units = frame["unit"].astype(str).to_numpy()
    kpis = frame["kpi"].astype(str).to_numpy()
    order = np.lexsort((frame["period"].to_numpy(), kpis, units))
    ordered = frame.iloc[order]
    units, kpis = units[order], kpis[order]
    starts = np.flatnonzero(
        np.concatenate([[True], (units[1:] != units[:-1]) | (kpis[1:] != kpis[:-1])])
    ).tolist()
    stops = [*starts[1:], len(order)]
    spans = {(str(units[a]), str(kpis[a])): (a, b) for a, b in zip(starts, stops, strict=True)}
    return ordered, spans
