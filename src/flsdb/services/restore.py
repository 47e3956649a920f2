"""Restoring an earlier version of a record (rebuilt from its audit trail by
services.versions): its values are written as a new version, through the same validation,
scope, lock and version checks as an edit, audited as a `restore`.
"""

from __future__ import annotations

from typing import Any

from flsdb.errors import Conflict, NotFound
from flsdb.services import records
from flsdb.services.access import Actor, authorize
from flsdb.services.events import record_event
from flsdb.services.versions import versions
from flsdb.storage.edits import update_record


def restore(
    engine: Any,
    actor: Actor,
    record_id: int,
    version: int,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Write version `version`'s values as a new version of the record; its JSON."""
    current = records.get(engine, actor, record_id)
    authorize(actor, "write_patients", str(current["service_code"]))
    found = versions(records.history(engine, actor, record_id), current)
    now = int(current["version"])
    if version == now:
        raise Conflict(
            f"Version {version} is the record as it is now; there is nothing to restore."
        )
    if version not in found:
        raise NotFound(
            f"Record {record_id} has no version {version} to restore: its versions are "
            f"{min(found)} to {now}."
        )
    typed = records.validated(engine, actor, found[version])
    seen = now if expected_version is None else expected_version
    new_version = update_record(
        engine, record_id, seen, typed, actor.patient_services, actor.username, action="restore"
    )
    if new_version == seen:
        raise Conflict(
            f"Version {version} has the values the record has now; there is nothing to restore."
        )
    record_event(
        engine,
        actor.username,
        "restore_record",
        service_code=typed["service_code"],
        record_id=record_id,
        detail=f"version {version} restored as version {new_version}",
    )
    return records.get(engine, actor, record_id)


def preview_restore(
    engine: Any, actor: Actor, record_id: int, version: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record now and the values of `version` (for the confirmation page)."""
    current = records.get(engine, actor, record_id)
    authorize(actor, "write_patients", str(current["service_code"]))
    found = versions(records.history(engine, actor, record_id), current)
    if version not in found or version == int(current["version"]):
        raise NotFound(f"Record {record_id} has no earlier version {version} to restore.")
    return current, found[version]
