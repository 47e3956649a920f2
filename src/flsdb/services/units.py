"""The FLS or region a dashboard is of: whether it exists, who may see it (the access decision of
services.policy, for the unit's FLSs as the store holds them) and the names its pages show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, bindparam, select

from flsdb.errors import NotFound
from flsdb.services import policy
from flsdb.services.policy import Actor, check
from flsdb.storage.tables import records, services

# Asked for every dashboard view: built once (SQLAlchemy neither builds them nor works out
# their cache key again).
_REGION_OF = select(services.c.region_code).where(services.c.service_code == bindparam("code"))
_ANY_RECORD = select(records.c.id).where(records.c.service_code == bindparam("code")).limit(1)


def region_of(engine: Engine, code: str) -> str | None:
    with engine.connect() as conn:
        found = conn.execute(_REGION_OF, {"code": code}).scalar_one_or_none()
    return None if found is None else str(found)


def has_records(engine: Engine, code: str) -> bool:
    """Whether the FLS has any record (its index by FLS and fracture date answers at once)."""
    with engine.connect() as conn:
        found = conn.execute(_ANY_RECORD, {"code": code}).first()
    return found is not None


def service_names(engine: Engine, code: str) -> dict[str, Any]:
    """An FLS's name and its region's, as the dashboards show them, from the services table
    (for an FLS the computed figures do not know yet)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                services.c.service_name,
                services.c.region_code,
                services.c.region_name,
                services.c.nation,
            ).where(services.c.service_code == code)
        ).one()
    return {
        "unit_name": f"{row.service_name} ({code})",
        "region": str(row.region_code),
        "region_name": f"{row.region_name} ({row.region_code})",
        "nation": str(row.nation),
    }


def check_service(actor: Actor, engine: Engine, code: str) -> None:
    """An FLS's dashboard: its staff, its region's viewer, the national team."""
    check(actor, "read_aggregates", policy.service(code))
    if region_of(engine, code) is None:
        raise NotFound(f"There is no FLS {code} that you can see.")


def region_services(engine: Engine, code: str) -> frozenset[str]:
    """The FLSs a region is made of (none: there is no such region)."""
    with engine.connect() as conn:
        return frozenset(
            conn.execute(
                select(services.c.service_code).where(services.c.region_code == code)
            ).scalars()
        )


def check_region(actor: Actor, engine: Engine, code: str) -> None:
    """A region's dashboard: its viewer, the staff of its FLSs, the national team."""
    members = region_services(engine, code)
    if not members:
        raise NotFound(f"There is no region {code} that you can see.")
    check(actor, "read_aggregates", policy.region(code, members))
