"""Disclosure control: nothing published beyond an FLS shows a count of 1 to 4, directly or by
subtraction from totals shown beside it."""

from __future__ import annotations

from flsdb.disclosure.engine import complete, exposed
from flsdb.disclosure.model import audit_tables
from flsdb.disclosure.tables import (
    WITHHELD,
    find_disclosures,
    is_hidden,
    protect_completeness,
    protect_mix,
    protect_tables,
    relax_tables,
)

__all__ = [
    "WITHHELD",
    "audit_tables",
    "complete",
    "exposed",
    "find_disclosures",
    "is_hidden",
    "protect_completeness",
    "protect_mix",
    "protect_tables",
    "relax_tables",
]
