"""Where stored values came from, read from the audit trail: the records whose fracture site was
written from a label that lost detail (the 2023 FLS-DB 'Non hip/non spine', stored as `other`).

An import notes such a record in the audit log (`label_lost`, under the import's id). The record
still carries that label's value while its `import_id` is that import's (a later import that
changes it takes its own id) and its site is still `other` (an edit by hand to another site takes
it out).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, and_, exists, func, select

from flsdb.dictionary import load_dictionary
from flsdb.storage.audit import LABEL_LOST, key_sql
from flsdb.storage.tables import audit_log, records

SITE = "fracture_site"


def sites_from_lost_labels(engine: Engine, start: dt.date, end: dt.date) -> dict[str, int]:
    """Per FLS, the records diagnosed in [start, end] whose index fracture site came from a
    label that lost detail."""
    key = key_sql(load_dictionary().record_key)
    noted = exists().where(
        and_(
            audit_log.c.table_name == "records",
            audit_log.c.row_key == key,
            audit_log.c.action == LABEL_LOST,
            audit_log.c.import_id == records.c.import_id,
            audit_log.c.after.like(f'%"{SITE}":"%'),
        )
    )
    query = (
        select(records.c.service_code, func.count())
        .where(
            records.c.date_fracture_diagnosed >= start,
            records.c.date_fracture_diagnosed <= end,
            records.c[SITE] == "other",
            noted,
        )
        .group_by(records.c.service_code)
    )
    with engine.connect() as conn:
        return {str(code): int(count) for code, count in conn.execute(query).all()}
