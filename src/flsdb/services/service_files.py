"""The services file (the FLSs, their regions and expected caseloads) loaded by an administrator
in the browser: a preview of what it adds and changes, field by field, then the store.

The file is validated as `flsdb load-services` validates it; the preview stores nothing, and the
store validates the same bytes again (so a file changed between the two is what is checked)."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from flsdb.dictionary import load_dictionary
from flsdb.errors import FileFormatError, ValidationFailed
from flsdb.ingest import open_upload, validate
from flsdb.ingest.limits import WEB
from flsdb.services.access import Actor, authorize
from flsdb.services.events import record_event
from flsdb.storage import store_services
from flsdb.storage.tables import services

MAX_BYTES = 512 * 1024  # a national services file is a few kilobytes
SUFFIXES = (".csv", ".xlsx")


@dataclass
class ServicesPreview:
    """What storing the file would do: rows added, fields changed, rows left as they are."""

    rows: int
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)  # code, label, before, after
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    digest: str = ""

    @property
    def changed_services(self) -> int:
        return len({c["code"] for c in self.changed})


def _checked(name: str, content: bytes) -> Any:
    """The validated services table of the file (its issues included)."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise FileFormatError("The services file must be a CSV or XLSX file (.csv or .xlsx).")
    if len(content) > MAX_BYTES:
        raise FileFormatError("The services file is larger than 512 KB; it should be a few KB.")
    folder = tempfile.mkdtemp(prefix="flsdb-services-")
    safe = re.sub(r"[^A-Za-z0-9._ -]", "_", Path(name).stem)[:100] or "services"
    path = Path(folder) / f"{safe}{suffix}"
    path.write_bytes(content)
    return validate(open_upload(path, WEB), "services"), path


def _issue_rows(frame: Any) -> list[dict[str, Any]]:
    labels = _labels()
    return [
        {
            "row": r["row"],
            "field": labels.get(str(r["column"]), str(r["column"])),
            "column": r["column"],
            "value": r["value"],
            "message": r["message"],
        }
        for r in frame.head(1000).iter_rows(named=True)
    ]


def _labels() -> dict[str, str]:
    return load_dictionary().labels("services")


def _comparable(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def preview(engine: Engine, actor: Actor, name: str, content: bytes) -> ServicesPreview:
    """Validate the file and compare it with the stored services; nothing is stored."""
    authorize(actor, "administer")
    table, path = _checked(name, content)
    try:
        result = ServicesPreview(
            rows=table.height,
            errors=_issue_rows(table.issues.errors()),
            warnings=_issue_rows(table.issues.warnings()),
            digest=hashlib.sha256(content).hexdigest(),
        )
        if result.errors:
            return result
        with engine.connect() as conn:
            stored = {str(r.service_code): dict(r._mapping) for r in conn.execute(select(services))}
        labels = _labels()
        for row in table.frame.iter_rows(named=True):
            code = str(row["service_code"])
            before = stored.get(code)
            if before is None:
                result.added.append({k: row.get(k) for k in labels})
                continue
            diffs = [
                {
                    "code": code,
                    "name": before.get("service_name"),
                    "column": column,
                    "label": label,
                    "before": before.get(column),
                    "after": row.get(column),
                }
                for column, label in labels.items()
                if column in row
                and column != "service_code"
                and _comparable(before.get(column)) != _comparable(row.get(column))
            ]
            result.changed.extend(diffs)
            result.unchanged += 0 if diffs else 1
        return result
    finally:
        table.close()
        shutil.rmtree(path.parent, ignore_errors=True)


def store(engine: Engine, actor: Actor, name: str, content: bytes) -> Any:
    """Validate the file again and store it (insert or update by service code), audited."""
    authorize(actor, "administer")
    table, path = _checked(name, content)
    try:
        if not table.ok:
            raise ValidationFailed(table.issues)
        summary = store_services(engine, table, actor.username)
    finally:
        table.close()
        shutil.rmtree(path.parent, ignore_errors=True)
    record_event(
        engine,
        actor.username,
        "services_loaded",
        detail=f"{summary.inserted} added, {summary.updated} updated, "
        f"{summary.unchanged} unchanged",
    )
    return summary
