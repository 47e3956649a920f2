"""Computed figures shared by every process on a store (`kpi_figure_rows`).

Several server processes (`flsdb serve --workers N`) read one store. What one of them computed
from the maintained figures for a period and extract date is kept here, keyed by what it was
computed under (`context`: a digest of the catalogue and thresholds, given by the caller) and
the store's data version, so another process reads it instead of computing it again. The first
to compute writes it; a second writer of the same key keeps the first's (same version, same
rows).

Bounded: a write deletes every row of an older generation (the data version's number: it grows
with every change to the records), and keeps at most `KEEP` rows in all, the oldest dropped
first. Storage keeps the payload as it is handed over and never reads it.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy import Engine

from flsdb.errors import StorageError
from flsdb.storage.tables import figure_rows
from flsdb.storage.transactions import write_transaction

log = logging.getLogger(__name__)

KEEP = 64  # rows kept at most (a few generations' periods and extract dates)


def _key(period: str, as_of: dt.date, context: str, version: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        figure_rows.c.period == period,
        figure_rows.c.as_of == as_of,
        figure_rows.c.context == context,
        figure_rows.c.version == version,
    )


def read_shared(
    engine: Engine, period: str, as_of: dt.date, context: str, version: str
) -> bytes | None:
    """The payload another process kept for this key; None when there is none."""
    query = sa.select(figure_rows.c.payload).where(_key(period, as_of, context, version))
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    return None if found is None else bytes(found)


def write_shared(
    engine: Engine,
    period: str,
    as_of: dt.date,
    context: str,
    version: str,
    generation: int,
    payload: bytes,
) -> bool:
    """Keep `payload` for this key (unless a process kept one first), dropping older
    generations and the oldest rows beyond `KEEP`; whether the store took it (a store that
    cannot be written now shares nothing: the figures stand, computed here)."""
    table = figure_rows
    try:
        with write_transaction(engine) as conn:
            conn.execute(sa.delete(table).where(table.c.generation < generation))
            exists = conn.execute(
                sa.select(table.c.id).where(_key(period, as_of, context, version))
            ).first()
            if exists is None:
                conn.execute(
                    sa.insert(table).values(
                        period=period,
                        as_of=as_of,
                        context=context,
                        version=version,
                        generation=generation,
                        payload=payload,
                    )
                )
            newest = sa.select(table.c.id).order_by(table.c.id.desc()).limit(KEEP).subquery()
            oldest_kept = sa.select(sa.func.min(newest.c.id)).scalar_subquery()
            conn.execute(sa.delete(table).where(table.c.id < oldest_kept))
    except (StorageError, sa.exc.IntegrityError):  # busy, read-only, or kept by another first
        log.info("computed figures not shared (the store took no write)")
        return False
    return True


def shared_count(engine: Engine) -> int:
    """How many computed figures the store keeps (for tests and checks)."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(figure_rows)).scalar_one())
