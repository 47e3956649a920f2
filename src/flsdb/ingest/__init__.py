"""Upload files: read, validate (whole file, vectorised) and hand typed rows to storage."""

from __future__ import annotations

from flsdb.ingest.issues import Issue, IssueTable
from flsdb.ingest.reader import UploadFile, open_upload
from flsdb.ingest.validate import ValidatedTable, validate, validate_file

__all__ = [
    "Issue",
    "IssueTable",
    "UploadFile",
    "ValidatedTable",
    "open_upload",
    "validate",
    "validate_file",
]
