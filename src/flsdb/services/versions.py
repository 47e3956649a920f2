"""Every earlier version of a record, rebuilt from its audit trail.

An update's audit row keeps the changed record's values before and after (an import's: every
field but the key; a form's: every field), so walking back from the record as it is now gives
each earlier version: version N-1 is version N with the `before` of the change that made N laid
over it. The record's history (services.records) numbers its changes by it; restoring one
(services.restore) writes its values as a new version.
"""

from __future__ import annotations

from typing import Any

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
