"""Import a file: the one pipeline both front doors use (`flsdb import`, `flsdb load-services`,
`flsdb demo`, and the web's upload preview and commit).

Each door opens the file its own way (the command line takes larger files than the web, which
keeps an upload in a temporary folder between its preview and its commit) and says the result
its own way; between the two, the file is read through its mapping profile, checked against the
dictionary, the database's FLSs and its stored records, and stored all or nothing here.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine

from flsdb.dictionary import load_dictionary
from flsdb.errors import ValidationFailed
from flsdb.ingest import UploadFile, ValidatedTable, validate
from flsdb.ingest.mapped import apply_profile
from flsdb.ingest.validate import Blank
from flsdb.profiles import Profile, load_profile
from flsdb.storage import ImportSummary, known_service_codes, store_records, store_services
from flsdb.storage.stored import stored_lookup


def checked_records(
    engine: Engine,
    upload: UploadFile,
    *,
    profile: Profile | None = None,
    service: str | None = None,
    allowed: set[str] | None = None,
    blank: Blank = "keep",
    known: set[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ValidatedTable:
    """A records file read through its profile (flsdb's own by default; `service`: the FLS a
    file without a service_code column belongs to) and checked whole: every rule of the
    dictionary, FLS codes the database knows (`known`, read when not given) and the uploader
    may write to (`allowed`; None: all), and what a blank cell does to a stored record
    (`blank`). Nothing is stored."""
    upload = apply_profile(upload, profile or load_profile(), load_dictionary(), service)
    return validate(
        upload,
        "records",
        known_services=known if known is not None else known_service_codes(engine),
        allowed_services=allowed,
        progress=progress,
        blank=blank,
        stored=stored_lookup(engine),
    )


def store_checked_records(
    engine: Engine,
    table: ValidatedTable,
    user: str | None,
    expected: list[tuple[int, int, int]] | None = None,
) -> ImportSummary:
    """Store a checked records file in one transaction: ValidationFailed (nothing stored) when
    it has errors; with `expected` (the stored versions a preview read), Conflict when one of
    them changed since."""
    if not table.ok:
        raise ValidationFailed(table.issues)
    return store_records(engine, table, user, expected=expected)


def checked_services(upload: UploadFile) -> ValidatedTable:
    """A services (FLS) file checked against the dictionary; nothing is stored."""
    return validate(upload, "services")


def store_checked_services(
    engine: Engine, table: ValidatedTable, user: str | None
) -> ImportSummary:
    """Store a checked services file in one transaction (rows update by service_code);
    ValidationFailed, nothing stored, when it has errors."""
    if not table.ok:
        raise ValidationFailed(table.issues)
    return store_services(engine, table, user)
