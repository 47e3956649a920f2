"""Who may do what, and who sees which numbers: the one place both are decided.

As NetBox's `restrict()` and datasette's `allowed()` do it, every route, page and download names
its action (`decided`, checked by a test over every route of the application), and:

- `can(actor, action, resource)` answers whether the actor may take the action on a resource
  (an FLS, a region, the nation, or nothing in particular); `check` raises instead: `NotFound`
  for a resource outside the actor's scope (its existence is not revealed), `Forbidden` for an
  action the role may not take;
- `scope(actor, action)` is the filter of a list: the FLS codes it may cover (None: every FLS),
  with `where(column)` as the SQL clause;
- `disclosure(actor, level, unit)` is how a figure may leave the services layer for the actor:
  an FLS's staff see their own FLSs' figures unsuppressed and everything else as published
  (small counts withheld, as the reports withhold them); region viewers see published figures;
  national analysts and administrators see everything unsuppressed.

Roles:
- `fls_staff`: one or more FLSs; reads and writes their patients only; signs off their quarters.
- `region_viewer`: one region; aggregates of its FLSs, as published; never a patient.
- `national_analyst`: every aggregate, pseudonymised extracts; locks a year; no identifiers.
- `admin`: users, services, the audit log; locks a year and lifts locks; no patient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeVar

from sqlalchemy import true

from flsdb.errors import ConfigurationError, Forbidden, NotFound
from flsdb.kpi.periods import parse_period


class Role(StrEnum):
    FLS_STAFF = "fls_staff"
    REGION_VIEWER = "region_viewer"
    NATIONAL_ANALYST = "national_analyst"
    ADMIN = "admin"


NATIONAL = (Role.NATIONAL_ANALYST, Role.ADMIN)

Action = Literal[
    "public",
    "signed_in",
    "read_patients",
    "write_patients",
    "read_aggregates",
    "administer",
    "extract_pseudonymised",
    "sign_off",
    "lock_year",
    "lift_lock",
]

# Every action, in words: what the route that names it does, and who may.
ACTIONS: dict[str, str] = {
    "public": "anyone, signed in or not (signing in, the health check, static files)",
    "signed_in": "anyone signed in (their own account, the FLSs and locks they can see)",
    "read_patients": "an FLS's staff read its patients",
    "write_patients": "an FLS's staff change its patients and upload its files",
    "read_aggregates": "KPIs, dashboards and reports of the FLSs, regions and nation in scope",
    "administer": "an administrator: users, services, the audit log",
    "extract_pseudonymised": "a national analyst downloads pseudonymised extracts",
    "sign_off": "an FLS's staff sign off one of its ended quarters",
    "lock_year": "the national team (an analyst or administrator) locks an ended year",
    "lift_lock": "an administrator lifts a sign-off or lock, giving a reason",
}

Disclosure = Literal["unsuppressed", "published"]


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


@dataclass(frozen=True)
class Resource:
    """What an action is taken on: an FLS (`service`), a region (with the FLSs it is made of),
    or the nation. Whoever builds one states the facts the decision needs."""

    kind: Literal["service", "region", "nation"]
    code: str = "all"
    services: frozenset[str] = frozenset()  # a region's FLSs


def service(code: str) -> Resource:
    return Resource("service", code)


def region(code: str, services: frozenset[str] | set[str]) -> Resource:
    return Resource("region", code, frozenset(services))


@dataclass(frozen=True)
class Scope:
    """The FLSs a list may cover: `codes` (None: every FLS)."""

    codes: frozenset[str] | None

    def where(self, column: Any) -> Any:
        """The SQL clause limiting a query on an FLS code column to this scope."""
        return true() if self.codes is None else column.in_(sorted(self.codes))

    def __contains__(self, code: object) -> bool:
        return self.codes is None or code in self.codes


def scope(actor: Actor, action: Action) -> Scope:
    """The FLSs whose rows a list for `action` may hold."""
    if action in ("read_patients", "write_patients", "sign_off"):
        return Scope(actor.patient_services)
    if action in ("read_aggregates", "signed_in"):
        return Scope(actor.visible)
    if action == "public" or actor.role in NATIONAL:
        return Scope(None)
    return Scope(frozenset())


def _role_may(actor: Actor, action: str) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action in ("read_patients", "write_patients", "sign_off"):
        return actor.role is Role.FLS_STAFF
    if action in ("administer", "lift_lock"):
        return actor.role is Role.ADMIN
    if action == "extract_pseudonymised":
        return actor.role is Role.NATIONAL_ANALYST
    if action == "lock_year":
        return actor.role in NATIONAL
    return True  # public, signed_in, read_aggregates: every role (limited by scope)


def _sees(actor: Actor, action: str, resource: Resource) -> bool:
    """Whether the resource is within the actor's scope for the action."""
    within = scope(actor, action)  # type: ignore[arg-type]
    if resource.kind == "nation":
        return True
    if resource.kind == "service":
        return resource.code in within
    # A region: the national team sees every one, a region viewer its own, an FLS's staff
    # the regions of their FLSs.
    if actor.role in NATIONAL:
        return True
    if actor.role is Role.REGION_VIEWER:
        return resource.code == actor.region
    return bool(resource.services & actor.services)


def can(actor: Actor, action: Action, resource: Resource | str | None = None) -> bool:
    """Whether `actor` may take `action` (on `resource`: an FLS code or a Resource)."""
    try:
        check(actor, action, resource)
    except (Forbidden, NotFound):
        return False
    return True


def check(actor: Actor, action: Action, resource: Resource | str | None = None) -> None:
    """Raise unless `actor` may take `action` on `resource`: NotFound when the resource is
    outside what the actor can see (it is not revealed), Forbidden when the role may not."""
    if isinstance(resource, str):
        resource = service(resource)
    visible = scope(actor, "read_aggregates")
    if resource is not None and resource.kind == "service" and resource.code not in visible:
        raise NotFound(f"There is no FLS {resource.code} that you can see.")
    if resource is not None and resource.kind == "region" and not _sees(actor, action, resource):
        raise NotFound(f"There is no region {resource.code} that you can see.")
    if not _role_may(actor, action):
        raise Forbidden(REFUSALS.get(action, "Your role does not allow this."))
    if resource is not None and resource.kind == "service" and not _sees(actor, action, resource):
        raise NotFound(f"There is no FLS {resource.code} that you can see.")


REFUSALS = {
    "read_patients": "Your role does not give access to patient records.",
    "write_patients": "Your role does not give access to patient records.",
    "sign_off": "Only the FLS's own staff sign off its quarters.",
    "administer": "Only an administrator can do this.",
    "lift_lock": "Only an administrator lifts a sign-off or lock.",
    "extract_pseudonymised": "Only a national analyst can download pseudonymised extracts.",
    "lock_year": "Only the national team (an analyst or administrator) locks a year.",
}


def disclosure(actor: Actor, level: str, unit: str) -> Disclosure:
    """How a figure of `unit` at `level` (service, region, nation or a breakdown) may be shown
    to the actor: its own FLSs' unsuppressed to an FLS's staff, all unsuppressed to the
    national team, everything else as published."""
    if actor.role in NATIONAL:
        return "unsuppressed"
    if actor.role is Role.FLS_STAFF and level == "service" and unit in actor.services:
        return "unsuppressed"
    return "published"


def sees_level_unsuppressed(actor: Actor, level: str) -> bool:
    """Whether every unit of `level` is unsuppressed to the actor (`disclosure` gives it for
    each): the national team's, at any level."""
    del level  # the same at every level
    return actor.role in NATIONAL


PUBLISHED_GRAIN = "year"
YEARS_ONLY = (
    "Figures beyond your own FLS are published for whole calendar years only (a quarter or "
    "month, set beside its year, could give away a count of 1 to 4): choose a year, such as "
    "{year}."
)


def check_published_period(period: Any) -> None:
    """Published figures (those `disclosure` gives as published) are for whole years only:
    each period is protected on its own, so a quarter's or month's counts set beside the
    year's could be subtracted from it to recover a withheld count. A quarter or month is
    refused for them, in one sentence; unsuppressed figures may be of any period."""
    if isinstance(period, str):
        period = parse_period(period)
    if period.grain != PUBLISHED_GRAIN:
        raise ConfigurationError(YEARS_ONLY.format(year=period.start.year))


F = TypeVar("F", bound=Callable[..., Any])
DECISION = "__flsdb_decision__"


def decided(*actions: Action) -> Callable[[F], F]:
    """Mark a route's endpoint with the actions it decides (checked over every route)."""
    for action in actions:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")

    def mark(endpoint: F) -> F:
        setattr(endpoint, DECISION, tuple(actions))
        return endpoint

    return mark


def decision_of(endpoint: Any) -> tuple[str, ...] | None:
    """The actions a route's endpoint declared (None: it declared none)."""
    found = getattr(endpoint, DECISION, None)
    return tuple(found) if found else None
