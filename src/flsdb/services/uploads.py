"""Uploads in two steps: a preview that validates the whole file and counts what it would
insert, update and leave unchanged (nothing stored), then a commit that stores it atomically.

The file waits in the database between the two (so any server process can commit it) and is
removed once committed. A file may be in flsdb's format or another a mapping profile reads (the
national FLS-DB export); the profile and the FLS it names wait with the file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from flsdb.errors import ConfigurationError, Conflict, FileFormatError, ValidationFailed
from flsdb.ingest.limits import WEB
from flsdb.services.access import Actor, NotFound, authorize
from flsdb.services.events import record_event
from flsdb.storage.tables import uploads

MAX_LISTED = 1000  # issues listed in the preview; the errors CSV has them all
SUFFIXES = (".csv", ".xlsx")


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
) -> Any:
    from flsdb.dictionary import load_dictionary
    from flsdb.ingest.mapped import apply_profile, text_options
    from flsdb.ingest.reader import open_upload
    from flsdb.ingest.validate import validate
    from flsdb.profiles import load_profile
    from flsdb.storage.writer import known_service_codes

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
        upload = apply_profile(
            open_upload(path, WEB, text=text_options(chosen)),
            chosen,
            load_dictionary(),
            _service(actor, service),
        )
        table = validate(
            upload,
            "records",
            known_services=known_service_codes(engine),
            allowed_services=set(actor.patient_services),
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
) -> dict[str, Any]:
    """Validate the file (read through a mapping profile when one is named) and count what a
    commit would do; keep it for the commit."""
    from flsdb.profiles import load_profile
    from flsdb.storage.writer import store_records

    authorize(actor, "write_patients")
    name = Path(name or "upload").name[:200]
    profile = load_profile(profile).name
    service = _service(actor, service)
    table = _validate(engine, actor, name, content, profile, service)
    try:
        counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        if table.ok:
            summary = store_records(engine, table, actor.username, dry_run=True)
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
        }
    finally:
        table.close()
    with engine.begin() as conn:
        conn.execute(
            uploads.insert().values(
                id=result["id"],
                user_name=actor.username,
                file_name=name,
                content=content if not errors else None,
                summary=json.dumps(result),
                errors_csv=errors_csv,
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
    return result


def _upload(engine: Engine, actor: Actor, upload_id: str) -> Any:
    with engine.connect() as conn:
        row = conn.execute(
            select(uploads)
            .where(uploads.c.id == upload_id)
            .where(uploads.c.user_name == actor.username)
        ).first()
    if row is None:
        raise NotFound("There is no such upload of yours.")
    return row


def get_preview(engine: Engine, actor: Actor, upload_id: str) -> dict[str, Any]:
    authorize(actor, "write_patients")
    row = _upload(engine, actor, upload_id)
    result: dict[str, Any] = json.loads(row.summary)
    result["status"] = row.status
    return result


def commit(engine: Engine, actor: Actor, upload_id: str) -> dict[str, Any]:
    """Store a previewed upload in one transaction; Conflict if it has errors or is stored."""
    from flsdb.storage.writer import store_records

    authorize(actor, "write_patients")
    row = _upload(engine, actor, upload_id)
    summary = json.loads(row.summary)
    if row.status != "preview":
        raise Conflict("This upload is stored already.")
    if summary["error_count"] or row.content is None:
        raise Conflict(
            "This upload has errors and cannot be stored; fix the file and upload it again."
        )
    table = _validate(
        engine, actor, row.file_name, row.content, summary.get("profile"), summary.get("service")
    )
    try:
        if not table.ok:
            raise ValidationFailed(table.issues)
        done = store_records(engine, table, actor.username)
    finally:
        table.close()
    with engine.begin() as conn:
        conn.execute(
            update(uploads)
            .where(uploads.c.id == upload_id)
            .values(status="committed", content=None)
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


def errors_csv(engine: Engine, actor: Actor, upload_id: str) -> bytes:
    authorize(actor, "write_patients")
    row = _upload(engine, actor, upload_id)
    record_event(engine, actor.username, "export_errors", detail=f"upload {upload_id}")
    return bytes(row.errors_csv or b"")
