"""The stored records an upload's rows would change, read by key: what a `keep` upload is
checked against (a blank cell keeps the stored value, so the rules see the merged record)."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from sqlalchemy import Engine

from flsdb.dictionary import load_dictionary
from flsdb.dictionary.frames import merged_columns
from flsdb.storage.bulk import bulk_session
from flsdb.storage.tables import RECORD_COLUMNS
from flsdb.storage.writer import table_schema


def record_schema() -> dict[str, pl.DataType]:
    """The records table as the writer reads it: id, version and every record column."""
    return {"id": pl.Int64(), "version": pl.Int64(), **table_schema("records", RECORD_COLUMNS)}


def stored_lookup(engine: Engine) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A function from a batch's keys to the stored records with those keys (their fields that
    the checks read: `merged_columns`)."""
    dictionary = load_dictionary()
    key = list(dictionary.record_key)
    wanted = {*key, *merged_columns(dictionary)}
    schema = {c: t for c, t in record_schema().items() if c in wanted}

    def lookup(keys: pl.DataFrame) -> pl.DataFrame:
        keys = keys.select(key).drop_nulls().unique()
        if keys.height == 0:
            return pl.DataFrame(schema=schema)
        with bulk_session(engine) as session:
            return session.matching("records", keys, list(schema), schema)

    return lookup
