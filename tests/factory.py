"""Hand-built upload rows for tests: one valid base row, changed field by field."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterable
from pathlib import Path

from flsdb.dictionary import load_dictionary

RECORD_COLUMNS = [f.name for f in load_dictionary().records]
SERVICE_COLUMNS = [f.name for f in load_dictionary().services]

SERVICES = [
    {
        "service_code": "FLS01",
        "service_name": "North FLS",
        "nation": "england",
        "region_code": "QE1",
        "region_name": "Lancashire and South Cumbria ICB",
        "expected_spine": "40",
        "expected_non_spine": "160",
        "population_50plus": "",
    },
    {
        "service_code": "FLS02",
        "service_name": "South FLS",
        "nation": "england",
        "region_code": "QE1",
        "region_name": "Lancashire and South Cumbria ICB",
        "expected_spine": "",
        "expected_non_spine": "",
        "population_50plus": "10000",
    },
    {
        "service_code": "WAL01",
        "service_name": "Cymru FLS",
        "nation": "wales",
        "region_code": "7A1",
        "region_name": "Betsi Cadwaladr University Health Board",
        "expected_spine": "10",
        "expected_non_spine": "40",
        "population_50plus": "",
    },
]


# The valid NHS numbers above 900000000 found so far, in order (`nhs_number` extends it): a
# seed's number is looked up, not searched for again from the first (the 1,260 records of one
# dashboard test asked for seeds up to 1,260, about 3 s of processor time searched afresh).
_NHS_NUMBERS: list[str] = []
_NHS_NEXT = [900_000_000]
_NHS_LOCK = threading.Lock()


def nhs_number(seed: int) -> str:
    """The seed-th valid NHS number above 900000000 (check digit by modulus 11)."""
    with _NHS_LOCK:
        while len(_NHS_NUMBERS) <= seed:
            base = _NHS_NEXT[0]
            digits = [int(d) for d in str(base)]
            total = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True))
            check = 11 - total % 11
            check = 0 if check == 11 else check
            if check != 10:
                _NHS_NUMBERS.append(f"{base}{check}")
            _NHS_NEXT[0] = base + 1
        return _NHS_NUMBERS[seed]


def record(**changes: object) -> dict[str, str]:
    """A valid record (all due by 2026-01-31), with the given columns changed."""
    row = dict.fromkeys(RECORD_COLUMNS, "")
    row.update(
        service_code="FLS01",
        nhs_number=nhs_number(0),
        date_of_birth="1950-05-05",
        sex="female",
        date_fracture_diagnosed="2024-03-01",
        fracture_site="wrist",
    )
    row.update({k: "" if v is None else str(v) for k, v in changes.items()})
    return row


def write_csv(path: Path, rows: Iterable[dict[str, str]], columns: list[str] | None = None) -> Path:
    rows = list(rows)
    columns = columns or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_services(path: Path, rows: list[dict[str, str]] | None = None) -> Path:
    return write_csv(path, rows or SERVICES, SERVICE_COLUMNS)


def write_records(path: Path, rows: Iterable[dict[str, str]]) -> Path:
    return write_csv(path, rows, RECORD_COLUMNS)
