"""Report charts, written as SVG directly (no plotting library), with alternative text and data
tables."""

from __future__ import annotations

from flsdb.reports.charts.bars import grouped_bars, mix_chart, paired_bars
from flsdb.reports.charts.base import DataTable, Graphic
from flsdb.reports.charts.funnel_grid import FunnelGrid
from flsdb.reports.charts.funnels import funnel_chart
from flsdb.reports.charts.spc import (
    ASSURANCE_ICONS,
    ASSURANCE_WORDS,
    VARIATION_WORDS,
    SpcGraphic,
    SpcGrid,
    SpcPanel,
    SpcPanelDrawing,
    icon,
    variation_symbol,
)
from flsdb.reports.charts.spread import distribution_chart

__all__ = [
    "ASSURANCE_ICONS",
    "ASSURANCE_WORDS",
    "VARIATION_WORDS",
    "DataTable",
    "FunnelGrid",
    "Graphic",
    "SpcGraphic",
    "SpcGrid",
    "SpcPanel",
    "SpcPanelDrawing",
    "distribution_chart",
    "funnel_chart",
    "grouped_bars",
    "icon",
    "mix_chart",
    "paired_bars",
    "variation_symbol",
]
