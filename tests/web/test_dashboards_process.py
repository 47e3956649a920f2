"""The web application changes nothing in the process beyond itself (issue 18 item 7): its pooled
SQLite engine keeps ADBC's SQLite off its own file while the engine lives, and nothing else."""

from __future__ import annotations

import gc
from pathlib import Path

from flsdb.storage import bulk, open_engine, sqlite_files
from flsdb.web.app import create_app
from flsdb.web.settings import Settings

SECRET = "s" * 48


def test_create_app_flips_no_process_wide_flag(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    other = tmp_path / "other.db"
    open_engine(f"sqlite:///{other}").dispose()
    app = create_app(Settings(database_url=url, secret_key=SECRET))
    try:
        assert not sqlite_files._PYTHON_SQLITE_ONLY.is_set()
        # The app's own file is reached through sqlite3 only (its connections stay open) ...
        assert sqlite_files.python_sqlite_only(str(tmp_path / "web.db"))
        # ... another store in the same process (a command, a test) keeps ADBC's fast path.
        assert not sqlite_files.python_sqlite_only(str(other))
        with bulk.bulk_session(open_engine(f"sqlite:///{other}")) as session:
            assert type(session).__name__ == "SqliteSession"
    finally:
        app.state.engine.dispose()
    # When the application's engine is gone, so is the hold on its file.
    del app
    gc.collect()
    assert not sqlite_files.python_sqlite_only(str(tmp_path / "web.db"))
