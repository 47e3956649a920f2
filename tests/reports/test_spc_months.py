"""SPC charts draw no signal from months whose patients' windows have not closed."""

from __future__ import annotations

import datetime as dt

from flsdb.figures.spc import complete_months
from flsdb.kpi import load_catalogue

MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


def test_a_month_is_complete_once_its_last_patient_is_due() -> None:
    catalogue = load_catalogue()
    as_of = dt.date(2026, 12, 6)
    # kpi06 has no window: every month that has ended (to November) is complete.
    assert complete_months(catalogue, "kpi06", as_of, MONTHS) == MONTHS[:11]
    # kpi04 (90 days): August ends on 31 Aug, due on 29 Nov; September's last patient is due on
    # 29 Dec, after the extract date.
    assert complete_months(catalogue, "kpi04", as_of, MONTHS) == MONTHS[:8]
    # kpi09 (16 weeks, 112 days): August's last patient is due on 21 Dec; July's on 20 Nov.
    assert complete_months(catalogue, "kpi09", as_of, MONTHS) == MONTHS[:7]
    # On the day the window closes the month counts.
    assert complete_months(catalogue, "kpi04", dt.date(2026, 11, 29), MONTHS) == MONTHS[:8]
    assert complete_months(catalogue, "kpi04", dt.date(2026, 11, 28), MONTHS) == MONTHS[:7]
