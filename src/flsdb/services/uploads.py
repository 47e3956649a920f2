"""Uploads in two steps: a preview that validates the whole file, counts what it would insert,
update and leave unchanged and lists every field it would change (nothing stored), then a commit
that stores exactly that, atomically.

By default a blank cell or an absent column keeps the stored value (`blank="keep"`, as REDCap's
import does); `blank="clear"` makes the file the whole record. The file waits in the database
between the two (so any server process can commit it) with the versions of the stored records
it read: if one of them changed since, the commit is refused and names it. The file is removed
once committed, and every preview expires (`upload_previews`). A file may be in flsdb's format or
another a mapping profile reads (the national FLS-DB export); the profile, the FLS it names and
the blank rule wait with the file.
"""

from __future__ import annotations

import datetime as dt
import json
import json as _json
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from flsdb.errors import ConfigurationError, Conflict, FileFormatError
from flsdb.ingest.limits import WEB
from flsdb.ingest.mapped import text_options
from flsdb.ingest.reader import open_upload
from flsdb.ingest.validate import Blank
from flsdb.profiles import load_profile
from flsdb.services.access import Actor, authorize
from flsdb.services.events import record_event
from flsdb.services.imports import checked_records, store_checked_records
from flsdb.services.upload_previews import (
    DEFAULT_HOURS,
    changes_page,
    load,
    pack,
    purge,
    seen_versions,
)
from flsdb.storage.changes import ChangeReport, RecordsMoved, moved_message
from flsdb.storage.tables import records, uploads
from flsdb.storage.writer import store_records

MAX_LISTED = 1000  # issues listed in the preview; the errors CSV has them all
SUFFIXES = (".csv", ".xlsx")
BLANKS = ("keep", "clear")


def blank_rule(blank: str | None) -> Blank:
    """`keep` (the default) or `clear`; anything else is refused in one sentence."""
    chosen = (blank or "keep").strip().lower()
    if chosen not in BLANKS:
        raise ConfigurationError(
            f"blank must be 'keep' (blank cells keep stored values) or 'clear' (blank cells "
            f"clear them), not '{chosen[:20]}'."
        )
    return chosen  # type: ignore[return-value]


def _issues(table: Any, level: str) -> list[dict[str, Any]]:
    frame = {
        "error": table.issues.errors,
        "warning": table.issues.warnings,
        "info": table.issues.infos,
    }[level]()
    return [
        {
            "level": level,
            "row": r["row"],
            "column": r["column"],
            "value": r["value"],
            "message": r["message"],
        }
        for r in frame.head(MAX_LISTED).iter_rows(named=True)
    ]


def _service(actor: Actor, service: str | None) -> str | None:
    """The FLS a file without a service_code column belongs to: one the uploader writes to."""
    if not service or not service.strip():
        return None
    code = service.strip().upper()[:12]
    if code not in actor.patient_services:
        raise ConfigurationError(f"You cannot upload records for the FLS {code}.")
    return code


def _validate(
    engine: Engine,
    actor: Actor,
    name: str,
    content: bytes,
    profile: str | None = None,
    service: str | None = None,
    blank: Blank = "keep",
    sheet: str | None = None,
) -> Any:
    chosen = load_profile(profile)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise FileFormatError(f"{name} is not a CSV or XLSX file; upload a .csv or .xlsx file.")
    if len(content) > WEB.max_bytes:
        raise FileFormatError(f"{name} is larger than {WEB.size_text()}; split it.")
    with tempfile.TemporaryDirectory(prefix="flsdb-upload-") as folder:
        # The user's file name (made safe), so that every message names their file.
        safe = re.sub(r"[^A-Za-z0-9._ -]", "_", Path(name).stem)[:100] or "upload"
        path = Path(folder) / f"{safe}{suffix}"
        path.write_bytes(content)
        # The command line's `flsdb import` reads, checks and stores by the same use case.
        table = checked_records(
            engine,
            open_upload(path, WEB, sheet, text=text_options(chosen)),
            profile=chosen,
            service=_service(actor, service),
            allowed=set(actor.patient_services),
            blank=blank,
        )
        table.frame  # noqa: B018  (read while the file exists)
        return table


def preview(
    engine: Engine,
    actor: Actor,
    name: str,
    content: bytes,
    profile: str | None = None,
    service: str | None = None,
    blank: str | None = None,
    hours: float = DEFAULT_HOURS,
    sheet: str | None = None,
) -> dict[str, Any]:
    """Validate the file (read through a mapping profile when one is named; from the sheet
    named, for a workbook), count what a commit would do and list every field it would change;
    keep it for the commit."""
    authorize(actor, "write_patients")
    name = Path(name or "upload").name[:200]
    profile = load_profile(profile).name
    service = _service(actor, service)
    rule = blank_rule(blank)
    sheet = (sheet or "").strip()[:31] or None  # Excel's sheet names are at most 31 characters
    table = _validate(engine, actor, name, content, profile, service, rule, sheet)
    report = ChangeReport()
    try:
        counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        if table.ok:
            summary = store_records(engine, table, actor.username, dry_run=True, report=report)
            counts = {
                "inserted": summary.inserted,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
            }
        errors, warnings = _issues(table, "error"), _issues(table, "warning")
        errors_csv = table.issues.csv_text().encode()
        result: dict[str, Any] = {
            "id": secrets.token_hex(16),
            "file_name": name,
            "rows": table.height,
            **counts,
            "error_count": table.issues.error_count,
            "warning_count": table.issues.warning_count,
            "errors": errors,
            "warnings": warnings,
            "notes": _issues(table, "info"),
            "profile": profile,
            "service": service,
            "blank": rule,
            "sheet": sheet,
            "changed_fields": report.changed_fields,
        }
    finally:
        table.close()
    kept = {"changes": report.changes, "change_count": report.change_count, "seen": report.seen}
    with engine.begin() as conn:
        purge(conn, hours)
        conn.execute(
            uploads.insert().values(
                id=result["id"],
                user_name=actor.username,
                file_name=name,
                content=content if not errors else None,
                summary=json.dumps(result),
                errors_csv=errors_csv,
                changes=pack(kept),
                status="preview",
                created_at=dt.datetime.now(),
            )
        )
        record_event(
            conn,
            actor.username,
            "upload_preview",
            # Ids, counts and sizes only: the file's name is the uploader's text (it may name
            # a patient) and stays with the upload, shown to its FLS's staff alone.
            detail=f"upload {result['id']}{'' if profile == 'flsdb' else f' ({profile})'}: "
            f"{len(content)} bytes, {result['rows']} rows, {result['error_count']} errors",
        )
    listed = report.changes[:1000]
    return {
        **result,
        "changes": listed,
        "changes_offset": 0,
        "changes_total": report.change_count,
        "changes_listed": len(report.changes),
    }


def _read_event(engine: Engine, actor: Actor, row: Any, what: str) -> None:
    """Reading a preview shows patient data: it is in the access log, as other reads are."""
    summary = json.loads(row.summary)
    record_event(
        engine,
        actor.username,
        "read_upload",
        service_code=summary.get("service"),
        detail=f"upload {row.id[:8]}: {what}",
    )


def get_preview(
    engine: Engine,
    actor: Actor,
    upload_id: str,
    offset: int = 0,
    limit: int = 1000,
    hours: float = DEFAULT_HOURS,
) -> dict[str, Any]:
    """The preview with one page of its field changes (`offset`, `limit`)."""
    authorize(actor, "write_patients")
    row = load(engine, actor, upload_id, hours)
    result: dict[str, Any] = json.loads(row.summary)
    result["status"] = row.status
    result.setdefault("blank", "clear")
    result.setdefault("changed_fields", {})
    result.update(changes_page(row, offset, limit))
    _read_event(
        engine,
        actor,
        row,
        f"preview read, changes {result['changes_offset']}+{len(result['changes'])}",
    )
    return result


def _moved_since(engine: Engine, seen: list[tuple[int, int, int]]) -> None:
    """Conflict naming the rows whose stored record's version moved since the preview."""
    versions = {record_id: version for _, record_id, version in seen}
    now: dict[int, int] = {}
    ids = sorted(versions)
    with engine.connect() as conn:
        for start in range(0, len(ids), 1000):
            part = ids[start : start + 1000]
            query = select(records.c.id, records.c.version).where(records.c.id.in_(part))
            now.update({int(i): int(v) for i, v in conn.execute(query).all()})
    if any(now.get(i) != v for i, v in versions.items()):
        found = [(r, i, now[i]) for r, i, _ in seen if i in now]
        raise RecordsMoved(moved_message(seen, found))


def commit(
    engine: Engine, actor: Actor, upload_id: str, hours: float = DEFAULT_HOURS
) -> dict[str, Any]:
    """Store a previewed upload in one transaction, exactly as previewed; Conflict if it has
    errors, is stored, or a stored record it changes moved since the preview (naming them)."""
    authorize(actor, "write_patients")
    row = load(engine, actor, upload_id, hours)
    summary = json.loads(row.summary)
    if row.status != "preview":
        raise Conflict("This upload is stored already.")
    if summary["error_count"] or row.content is None:
        raise Conflict(
            "This upload has errors and cannot be stored; fix the file and upload it again."
        )
    seen = seen_versions(row)
    _moved_since(engine, seen)
    table = _validate(
        engine,
        actor,
        row.file_name,
        row.content,
        summary.get("profile"),
        summary.get("service"),
        blank_rule(summary.get("blank", "clear")),
        summary.get("sheet"),
    )
    try:
        done = store_checked_records(engine, table, actor.username, expected=seen)
    finally:
        table.close()
    with engine.begin() as conn:
        # The file and its changes go at once; the counts and issues stay until it expires.
        conn.execute(
            update(uploads)
            .where(uploads.c.id == upload_id)
            .values(status="committed", content=None, changes=None)
        )
        record_event(
            conn,
            actor.username,
            "upload_commit",
            detail=f"upload {upload_id}: {done.inserted} inserted, {done.updated} updated, "
            f"{done.unchanged} unchanged (import {done.import_id})",
        )
    return {
        "id": upload_id,
        "import_id": done.import_id,
        "inserted": done.inserted,
        "updated": done.updated,
        "unchanged": done.unchanged,
        "warnings": done.warnings,
    }


def errors_csv(engine: Engine, actor: Actor, upload_id: str, hours: float = DEFAULT_HOURS) -> bytes:
    authorize(actor, "write_patients")
    row = load(engine, actor, upload_id, hours)
    record_event(engine, actor.username, "export_errors", detail=f"upload {row.id[:8]}")
    _read_event(engine, actor, row, "errors CSV read")
    return bytes(row.errors_csv or b"")


def list_uploads(engine: Engine, actor: Actor, limit: int = 20) -> list[dict[str, Any]]:
    """The actor's own uploads, newest first: when, the file's name (theirs to see), whether it
    was stored, its counts, and whether its errors CSV is still kept."""
    authorize(actor, "write_patients")
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                uploads.c.id,
                uploads.c.file_name,
                uploads.c.status,
                uploads.c.created_at,
                uploads.c.summary,
                (uploads.c.errors_csv.is_not(None)).label("has_csv"),
            )
            .where(uploads.c.user_name == actor.username)
            .order_by(uploads.c.created_at.desc())
            .limit(limit)
        ).all()
    found = []
    for row in rows:
        summary = _json.loads(row.summary)
        found.append(
            {
                "id": row.id,
                "file_name": row.file_name,
                "status": row.status,
                "at": row.created_at.isoformat(timespec="seconds"),
                "rows": summary.get("rows"),
                "inserted": summary.get("inserted"),
                "updated": summary.get("updated"),
                "unchanged": summary.get("unchanged"),
                "errors": summary.get("error_count", 0),
                "warnings": summary.get("warning_count", 0),
                "errors_csv": bool(row.has_csv) and row.status != "expired",
            }
        )
    return found
