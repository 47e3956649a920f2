"""Every earlier version of a record, rebuilt from its audit trail, and restoring one.

An update's audit row keeps the changed record's values before and after (an import's: every
field but the key; a form's: every field), so walking back from the record as it is now gives
each earlier version: version N-1 is version N with the `before` of the change that made N laid
over it. Restoring writes those values as a new version, through the same validation, scope,
lock and version checks as an edit, audited as a `restore`.
"""

from __future__ import annotations

from typing import Any

from flsdb.errors import Conflict, NotFound
from flsdb.services.access import Actor, authorize
from flsdb.services.events import record_event
from flsdb.storage.tables import RECORD_COLUMNS

STEPS = ("update", "restore")


def _life(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changes since the record was last created (not those of an earlier record with
    its key, deleted since)."""
    start = 0
    for i, change in enumerate(changes):
        if change["action"] in ("insert", "delete"):
            start = i + (change["action"] == "delete")
    return changes[start:]


def number_versions(changes: list[dict[str, Any]], current_version: int) -> None:
    """Set `version` on each change of the history: the version it made (None for changes
    of an earlier record with the same key, and for audit notes)."""
    for change in changes:
        change["version"] = None
    life = _life(changes)
    steps = [c for c in life if c["action"] in STEPS]
    version = current_version
    for change in reversed(steps):
        change["version"] = version
        version -= 1
    if life and life[0]["action"] == "insert" and version >= 1:
        life[0]["version"] = version


def versions(changes: list[dict[str, Any]], current: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Each version's values, from the current one back as far as the audit trail reaches."""
    values = {c: current.get(c) for c in RECORD_COLUMNS}
    found = {int(current["version"]): dict(values)}
    version = int(current["version"])
    for change in reversed([c for c in _life(changes) if c["action"] in STEPS]):
        if not change["before"]:
            break
        values = {**values, **{k: v for k, v in change["before"].items() if k in values}}
        version -= 1
        if version < 1:
            break
        found[version] = dict(values)
    return found


def restore(
    engine: Any,
    actor: Actor,
    record_id: int,
    version: int,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Write version `version`'s values as a new version of the record; its JSON."""
    from flsdb.services import records
    from flsdb.storage.edits import update_record

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
    from flsdb.services import records

    current = records.get(engine, actor, record_id)
    authorize(actor, "write_patients", str(current["service_code"]))
    found = versions(records.history(engine, actor, record_id), current)
    if version not in found or version == int(current["version"]):
        raise NotFound(f"Record {record_id} has no earlier version {version} to restore.")
    return current, found[version]
