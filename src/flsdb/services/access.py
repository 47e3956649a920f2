"""Who may do what: the one place access is decided.

Roles:
- `fls_staff`: one or more FLSs; reads and writes their patients only.
- `region_viewer`: one region; aggregates of its FLSs, never a patient.
- `national_analyst`: every aggregate and pseudonymised extracts; no patient identifiers.
- `admin`: users, services and the audit log; no patient.

A record or service outside the actor's scope is `NotFound` (its existence is not revealed); an
action the role may not take on something in its scope is `Forbidden`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from flsdb.errors import Conflict, Forbidden, NotFound


class Role(StrEnum):
    FLS_STAFF = "fls_staff"
    REGION_VIEWER = "region_viewer"
    NATIONAL_ANALYST = "national_analyst"
    ADMIN = "admin"


ROLE_WORDS = {
    Role.FLS_STAFF: "FLS staff: reads and writes the patients of its FLSs",
    Role.REGION_VIEWER: "region viewer: aggregates of one region's FLSs, no patients",
    Role.NATIONAL_ANALYST: "national analyst: every aggregate, no patients",
    Role.ADMIN: "administrator: users, services and the audit log, no patients",
}

Action = Literal[
    "read_patients", "write_patients", "read_aggregates", "administer", "extract_pseudonymised"
]


__all__ = ["Action", "Actor", "Conflict", "Forbidden", "NotFound", "Role", "authorize"]


@dataclass(frozen=True)
class Actor:
    """A signed-in person (or a script with their API token), with the FLSs they can see:
    their own FLSs (`fls_staff`), their region's (`region_viewer`), or None for all."""

    username: str
    role: Role
    services: frozenset[str] = frozenset()
    region: str | None = None
    user_id: int | None = None
    visible: frozenset[str] | None = field(default=None)

    @property
    def patient_services(self) -> frozenset[str]:
        """The FLSs whose patients this actor may see: only fls_staff has any."""
        return self.services if self.role is Role.FLS_STAFF else frozenset()


def authorize(actor: Actor, action: Action, service_code: str | None = None) -> None:
    """Raise unless `actor` may take `action` (on `service_code`, when it concerns one FLS)."""
    if service_code is not None and not can_see_service(actor, service_code):
        raise NotFound(f"There is no FLS {service_code} that you can see.")
    if action in ("read_patients", "write_patients"):
        if actor.role is not Role.FLS_STAFF:
            raise Forbidden("Your role does not give access to patient records.")
        if service_code is not None and service_code not in actor.services:
            raise NotFound(f"There is no FLS {service_code} that you can see.")
    elif action == "administer" and actor.role is not Role.ADMIN:
        raise Forbidden("Only an administrator can do this.")
    elif action == "extract_pseudonymised" and actor.role is not Role.NATIONAL_ANALYST:
        raise Forbidden("Only a national analyst can download pseudonymised extracts.")


def can_see_service(actor: Actor, service_code: str) -> bool:
    return actor.visible is None or service_code in actor.visible


def service_filter(actor: Actor, column: Any) -> Any:
    """A WHERE clause limiting a services or KPI query to the FLSs the actor can see."""
    from sqlalchemy import true

    if actor.visible is None:
        return true()
    return column.in_(sorted(actor.visible))


def patient_filter(actor: Actor, column: Any, service_code: str | None = None) -> Any:
    """A WHERE clause limiting a records query to the patients the actor may see: every query
    of patient-level data passes through here."""
    authorize(actor, "read_patients", service_code)
    codes = [service_code] if service_code else sorted(actor.patient_services)
    return column.in_(codes)
