"""Upload files: read, validate (whole file, vectorised) and hand typed rows to storage."""

from __future__ import annotations

from flsdb.ingest.issues import Issue, IssueTable
from flsdb.ingest.reader import RawTable, read_upload
from flsdb.ingest.validate import ValidatedTable, validate

__all__ = ["Issue", "IssueTable", "RawTable", "ValidatedTable", "read_upload", "validate"]
