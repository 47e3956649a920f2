"""The outcomes of the intruder's audit, kept by what was audited (not by object identity): the
same figures (the same computed and published tables, services, policy and catalogue) pass or
are withheld further the same way, so a second report or download of them costs no second
audit. Bounded (a few sets, least recently used dropped first) and guarded by a lock, as the
web server's threads share it (`Kept`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from flsdb.figures.kept import Kept

MAX_SETS = 8


@dataclass(frozen=True)
class Passed:
    """What the audit made publishable: the published tables and the years table, and whether
    its search withheld more than the figures had (else they pass as they are)."""

    published: dict[str, pd.DataFrame]
    years: pd.DataFrame
    searched: bool


# Outcomes by fingerprint: made once however many threads ask, the least recently used dropped.
KEPT = Kept(MAX_SETS)


def fingerprint(
    unsuppressed: dict[str, pd.DataFrame],
    published: dict[str, pd.DataFrame],
    years: pd.DataFrame,
    years_computed: pd.DataFrame | None,
    services: pd.DataFrame,
    context: str,
) -> str:
    """A digest of everything the audit reads (`context`: the policy, the catalogue and the
    search's function, as text)."""
    digest = hashlib.sha256(context.encode())
    frames = [("services", services), ("years", years)]
    if years_computed is not None:
        frames.append(("years_computed", years_computed))
    frames += [(f"u:{k}", v) for k, v in sorted(unsuppressed.items())]
    frames += [(f"p:{k}", v) for k, v in sorted(published.items())]
    for name, frame in frames:
        digest.update(name.encode())
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(str(len(frame)).encode())
        for _, column in frame.items():
            digest.update(_column_bytes(column))
    return digest.hexdigest()


def _column_bytes(column: pd.Series) -> bytes:
    """A column's values as text, each as Python writes it back (`repr`: 5, 5.0, '5' and '<5'
    apart), separated by a character any text in them is written with an escape for."""
    return ("\x1e".join(map(repr, column.tolist())) + "\x1d").encode()
