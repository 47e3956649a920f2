"""The KPI rows of every level (as computed and as published) shared through the store, so a
second server process reads what the first computed instead of computing it again
(`flsdb.storage.shared_figures`).

Rows are kept by period, extract date, data version and what they were computed under: the
catalogue, its layout's signature and the thresholds (a process with other settings computes
its own). The frames go as compressed JSON of their Python values (no pickle: a store's
contents are data, never code), and come back as the same values in the same columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from flsdb.config import load_thresholds
from flsdb.kpi import load_catalogue
from flsdb.kpi.terms import catalogue_layout
from flsdb.storage.shared_figures import read_shared, write_shared

Frames = dict[str, pd.DataFrame]


@cache
def context() -> str:
    """What the rows depend on besides the records: the catalogue and the thresholds."""
    text = "|".join(
        (load_catalogue().version, catalogue_layout().signature, repr(load_thresholds()))
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot share a value of type {type(value).__name__}")


def _frames(frames: Frames) -> dict[str, Any]:
    return {
        name: {"columns": list(frame.columns), "rows": frame.to_numpy(dtype=object).tolist()}
        for name, frame in frames.items()
    }


def _unframed(kept: dict[str, Any]) -> Frames:
    return {
        name: pd.DataFrame(part["rows"], columns=part["columns"], dtype=object)
        for name, part in kept.items()
    }


def encode(tables: Frames, shown: Frames) -> bytes:
    text = json.dumps({"tables": _frames(tables), "shown": _frames(shown)}, default=_plain)
    return zlib.compress(text.encode(), 1)


def decode(payload: bytes) -> tuple[Frames, Frames]:
    kept = json.loads(zlib.decompress(payload))
    return _unframed(kept["tables"]), _unframed(kept["shown"])


def _version(version: tuple[object, ...]) -> str:
    return json.dumps(list(version), default=str)


def _generation(version: tuple[object, ...]) -> int:
    top = version[0] if version else None
    return int(top) if isinstance(top, int | float | str) and str(top).isdigit() else 0


def read_rows(
    engine: Engine, period: str, as_of: dt.date, version: tuple[object, ...]
) -> tuple[Frames, Frames] | None:
    """The rows another process computed for this key at this data version, if any."""
    payload = read_shared(engine, period, as_of, context(), _version(version))
    return None if payload is None else decode(payload)


def share_rows(
    engine: Engine,
    period: str,
    as_of: dt.date,
    version: tuple[object, ...],
    tables: Frames,
    shown: Frames,
) -> bool:
    """Keep the rows computed here for the other processes; whether the store took them."""
    payload = encode(tables, shown)
    return write_shared(
        engine, period, as_of, context(), _version(version), _generation(version), payload
    )
