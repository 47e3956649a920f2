"""The bulk sessions' own failures: an error met while reading a statement's rows is raised
(on SQLite the driver steps through rows after `execute` returns), never taken for a statement
without rows."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from flsdb.errors import StorageError
from flsdb.storage.bulk import bulk_session

# Rows 1 to 4999, then an integer overflow: SQLite meets it while fetching, past the first batch.
OVERFLOW = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
    "SELECT CASE WHEN i < 5000 THEN i ELSE abs(-9223372036854775807 - 1) END FROM n"
)


def test_an_error_while_reading_rows_is_raised(engine: Engine) -> None:
    with bulk_session(engine) as session:
        assert session.execute("CREATE TEMP TABLE t (a integer)") == []
        assert session.execute("SELECT 1 + 1") == [(2,)]
    with pytest.raises((StorageError, OSError)) as raised, bulk_session(engine) as session:
        session.execute(OVERFLOW)
    sqlite = engine.dialect.name == "sqlite"
    assert ("integer overflow" if sqlite else "out of range") in str(raised.value)
