"""Who may do what: the names the services have always used, kept working. The decisions
themselves are made in `flsdb.services.policy` (`can`, `check`, `scope`, `disclosure`).

A record or service outside the actor's scope is `NotFound` (its existence is not revealed); an
action the role may not take on something in its scope is `Forbidden`.
"""

from __future__ import annotations

from typing import Any

from flsdb.errors import Conflict, Forbidden, NotFound
from flsdb.services.policy import (
    ACTIONS,
    Action,
    Actor,
    Resource,
    Role,
    can,
    check,
    decided,
    disclosure,
    scope,
)

ROLE_WORDS = {
    Role.FLS_STAFF: "FLS staff: reads and writes the patients of its FLSs",
    Role.REGION_VIEWER: "region viewer: aggregates of one region's FLSs, no patients",
    Role.NATIONAL_ANALYST: "national analyst: every aggregate, no patients",
    Role.ADMIN: "administrator: users, services and the audit log, no patients",
}

__all__ = [
    "ACTIONS",
    "Action",
    "Actor",
    "Conflict",
    "Forbidden",
    "NotFound",
    "Resource",
    "Role",
    "authorize",
    "can",
    "check",
    "decided",
    "disclosure",
    "scope",
]


def authorize(actor: Actor, action: Action, service_code: str | None = None) -> None:
    """Raise unless `actor` may take `action` (on `service_code`, when it concerns one FLS)."""
    check(actor, action, service_code)


def can_see_service(actor: Actor, service_code: str) -> bool:
    return service_code in scope(actor, "read_aggregates")


def service_filter(actor: Actor, column: Any) -> Any:
    """A WHERE clause limiting a services or KPI query to the FLSs the actor can see."""
    return scope(actor, "read_aggregates").where(column)


def patient_codes(actor: Actor, service_code: str | None = None) -> list[str]:
    """The FLSs whose patients a records query may read (`service_code` alone if asked for and
    theirs; Forbidden or NotFound otherwise): every query of patient-level data passes through
    here, as a clause (`patient_filter`) or as the value of a statement built once."""
    check(actor, "read_patients", service_code)
    if service_code:
        return [service_code]
    return sorted(scope(actor, "read_patients").codes or ())  # patients: always a list of FLSs


def patient_filter(actor: Actor, column: Any, service_code: str | None = None) -> Any:
    """A WHERE clause limiting a records query to the patients the actor may see."""
    return column.in_(patient_codes(actor, service_code))
