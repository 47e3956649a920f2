"""A test store left at an earlier migration, to test the upgrades from it."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine

from flsdb.storage import open_engine
from flsdb.storage.database import alembic_config


def store_at(db_url: str, revision: str) -> Engine:
    """The store of `db_url` migrated up to `revision` only (as a store made then would be)."""
    engine = open_engine(db_url, migrate=False)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return engine
