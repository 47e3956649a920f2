"""The report gate on a very small country (3 FLSs, 300 records a year, as `flsdb demo
--records 300 --services 3` makes it): it refused to write anything ("the disclosure audit
could still work out a withheld count from the counts published beside the KPI tables"),
for two reasons now mended:

- an FLS's own part of a linked count nested over a national KPI count (the records a
  follow-up field applies to, over kpi08's denominator) was read as if none of its patients
  were in the inner count, a programme no values satisfy, so every count read as narrowed;
- beside an earlier year's printed count of 5, three quarters of 1, 3 and 1 shown `<5` could
  each be at most 3: they are printed as withheld (`c`, 0 or more) instead.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flsdb.disclosure import WITHHELD
from flsdb.figures import compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_files
from flsdb.reports import spc_counts
from flsdb.reports.build import check_publishable
from flsdb.synth import generate, write_upload_files

AS_OF = dt.date(2026, 12, 6)


@pytest.mark.slow
def test_a_country_of_300_records_gets_a_publishable_set(tmp_path: Path) -> None:
    made = generate(3, 300, 2024, 1, current_through=AS_OF)
    services_path, records_path = write_upload_files(made, tmp_path)
    source = source_from_files(records_path, services_path, upload_date=AS_OF)
    data = check_publishable(compute_figures(source, parse_period("2024"), AS_OF))
    assert data.linked_withheld is not None
    # kpi11's quarters of 2023 (1, 3, 0 and 1 beside the trend table's 5) are printed `c`.
    marks = spc_counts.marks(data)
    quarters = [marks.get(("kpi11", f"2023-{m:02d}")) for m in (3, 6, 9, 12)]
    assert all(q is not None and q[0] == WITHHELD for q in quarters), quarters
