"""The audit's model of a set of published tables: who owns each cell, the publication (cells,
markers, relations, the quantities to protect, each FLS's own parts), what each attacker must
still be unsure of (`needs_of`), and the audit of tables about to be published (`audit_tables`,
one sentence per narrowed count)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from flsdb.config import Suppression
from flsdb.disclosure.audit import Breach, Publication, Target, audit
from flsdb.disclosure.cells import (
    COUNTS,
    Cells,
    Parts,
    combined,
    nested_cells,
    own_parts,
    relations_of,
)
from flsdb.disclosure.engine import Relation
from flsdb.disclosure.structural import Structural
from flsdb.kpi.catalogue import Catalogue, load_catalogue


def owners(cells: Cells, services: pd.DataFrame) -> list[str | None]:
    """Per cell, the one FLS whose patients it counts: an FLS's own cells, and those of a
    region or nation with that FLS alone (None where several FLSs' patients are counted)."""
    alone: dict[tuple[str, str], str] = {}
    for level, column in (("region", "region_code"), ("nation", "nation")):
        for unit, members in services.groupby(column):
            if len(members) == 1:
                alone[(level, str(unit))] = str(members["service_code"].iloc[0])
    if len(services) == 1:
        alone[("nation", "all")] = str(services["service_code"].iloc[0])
    per_row = [
        str(unit) if level == "service" else alone.get((str(level), str(unit)))
        for level, unit in zip(cells.frame["level"], cells.frame["unit"], strict=True)
    ]
    return [owner for owner in per_row for _ in COUNTS]


def publication(
    cells: Cells,
    hidden: NDArray[np.bool_],
    small_marker: NDArray[np.bool_],
    relations: Sequence[Relation],
    nested: Sequence[tuple[int, int]],
    policy: Suppression,
    cell_owners: Sequence[str | None],
    basis: tuple[dict[tuple[int, str], tuple[float, float]], Structural] | None = None,
    parts: Parts | None = None,
) -> Publication:
    """The audit's model: hidden cells bounded by their marker (`<5`: 1 to 4; `c`: 0 or more);
    protected, every count of 1 to 4 and (with `complement`) every difference of 1 to 4 between
    a count and one nested in it."""
    top = float(policy.below - 1)
    lower = np.where(small_marker, 1.0, 0.0)
    upper = np.where(small_marker, top, np.inf)
    values = cells.values
    targets = [
        Target(((int(i), 1.0),), float(values[i]), cell_owners[int(i)])
        for i in np.flatnonzero(cells.counted & (values >= 1) & (values < policy.below))
    ]
    if policy.complement:
        for inner, outer in nested:
            difference = float(values[outer] - values[inner])
            if policy.small(difference):
                terms = ((outer, 1.0), (inner, -1.0))
                targets.append(Target(terms, difference, cell_owners[outer]))
    pub = Publication(
        values=values,
        hidden=hidden,
        lower=lower,
        upper=upper,
        equalities=relations,
        nested=nested,
        owners=cell_owners,
        targets=targets,
        need_low=1.0,
        need_high=top,
        parts=parts.own if parts is not None else {},
        parted=parts.cells if parts is not None else frozenset(),
    )
    needs, structural = basis if basis is not None else needs_of(pub, relations)
    return replace(pub, needs=needs, structural=structural)


# What the markers alone allow depends on the counts and their relations, not on which are
# withheld: computed once per set of tables (the audit before and after the search, the CLI
# and the web on the same figures), a few sets kept.
_NEEDS: OrderedDict[bytes, tuple[dict[tuple[int, str], tuple[float, float]], Structural]] = (
    OrderedDict()
)
NEEDS_KEPT = 8


def needs_of(
    pub: Publication, relations: Sequence[Relation]
) -> tuple[dict[tuple[int, str], tuple[float, float]], Structural]:
    digest = hashlib.sha256(pub.values.tobytes())
    for rel in relations:
        digest.update(np.asarray([*rel.left, -1, *rel.right, -2], dtype=np.int64).tobytes())
    digest.update(np.asarray(pub.nested, dtype=np.int64).tobytes())
    digest.update(repr((list(pub.owners), pub.need_low, pub.need_high)).encode())
    digest.update(np.asarray(sorted(pub.parted), dtype=np.int64).tobytes())
    for who in sorted(pub.parts):
        own = pub.parts[who]
        digest.update(who.encode() + np.asarray([*own.keys(), *own.values()]).tobytes())
    for target in pub.targets:
        digest.update(repr(target.terms).encode())
    key = digest.digest()
    if key in _NEEDS:
        _NEEDS.move_to_end(key)
        return _NEEDS[key]
    needs: dict[tuple[int, str], tuple[float, float]] = {}
    _insiders_own(pub, relations, needs)
    found = (needs, Structural(pub))
    _NEEDS[key] = found
    while len(_NEEDS) > NEEDS_KEPT:
        _NEEDS.popitem(last=False)
    return found


def _insiders_own(
    pub: Publication,
    relations: Sequence[Relation],
    needs: dict[tuple[int, str], tuple[float, float]],
) -> None:
    """An FLS's own part of a region's (or nation's, or a breakdown group's) count: an
    aggregate of 4 with 2 of them the FLS's own is at least 2 to that FLS, whatever is
    published. Its lowest need is raised to that part (the others' part must still be free to
    be 0 or more). The part is summed down the hierarchy (nation, regions, FLSs); of a
    breakdown group (an age band, a sex) it is the FLS's own count in the group
    (`Publication.parts`, exact). Only tables given without those parts (the dashboards'
    maintained figures) take it as large as it can be: the FLS's part of the whole, up to the
    group's count."""
    by_cell: dict[int, dict[str, float]] = {}
    for who, cells in pub.parts.items():
        for cell, value in cells.items():
            by_cell.setdefault(cell, {})[who] = float(value)
    children: dict[int, list[int]] = {}
    parents: dict[int, int] = {}
    for rel in relations:
        if len(rel.left) == 1:
            parent = rel.left[0]
            if parent not in children:  # the first relation of a parent is its hierarchy
                children[parent] = list(rel.right)
            for child in rel.right:
                parents.setdefault(child, parent)
    memo: dict[int, dict[str, float]] = {}

    def own(cell: int, depth: int = 0) -> dict[str, float]:
        if cell in memo:
            return memo[cell]
        owner = pub.owners[cell]
        found: dict[str, float] = {}
        if owner is not None:
            found = {owner: float(pub.values[cell])}
        elif cell in pub.parted:
            found = dict(by_cell.get(cell, {}))
        elif cell in children and depth < 8:
            for child in children[cell]:
                for who, part in own(child, depth + 1).items():
                    found[who] = found.get(who, 0.0) + part
        elif cell in parents and depth < 8:
            value = float(pub.values[cell])
            found = {w: min(v, value) for w, v in own(parents[cell], depth + 1).items()}
        memo[cell] = found
        return found

    for index, target in enumerate(pub.targets):
        if target.owner is not None:
            continue
        part: dict[str, float] = {}
        for cell, coef in target.terms:
            for who, value in own(cell).items():
                part[who] = part.get(who, 0.0) + coef * value
        for who, mine in part.items():
            low, high = needs.get((index, who), pub.need(index, who))
            if abs(mine - target.value) < 1e-9:
                # Every patient of it is the FLS's own: the others have none to protect.
                needs[(index, who)] = (target.value, target.value)
            elif mine > low:
                needs[(index, who)] = (min(mine, high), high)


def describe(breach: Breach, frame: pd.DataFrame) -> str:
    """'region QOP hr04: the hidden denominator can only be 4 (to an outsider)'."""
    terms = breach.target.terms
    cell = terms[0][0]
    row = frame.iloc[cell // 3]
    what = f"{row['level']} {row['unit']} {row['kpi']}"
    if len(terms) == 1:
        quantity = f"the hidden {COUNTS[cell % 3]}"
    else:
        inner = frame.iloc[terms[1][0] // 3]
        quantity = (
            f"the patients in its {COUNTS[cell % 3]} and not in {inner['kpi']}'s "
            f"{COUNTS[terms[1][0] % 3]}"
        )
    return f"{what}: {quantity} {worked_out(breach)}"


def worked_out(breach: Breach) -> str:
    """'can be worked out as 4 by FLS QOPE': what the attacker narrowed the count to."""
    who = "an outsider" if breach.attacker == "outsider" else f"FLS {breach.attacker}"
    low, high = breach.low, breach.high
    span = f"{low:g}" if np.isclose(low, high) else f"{low:g} to {high:g}"
    return f"can be worked out as {span} by {who}"


def audit_tables(
    shown: dict[str, pd.DataFrame],
    tables: dict[str, pd.DataFrame],
    services: pd.DataFrame,
    policy: Suppression,
    catalogue: Catalogue | None = None,
    insiders: bool = True,
    first_only: bool = False,
    per_fls: pd.DataFrame | None = None,
) -> list[str]:
    """The intruder's audit of tables about to be published (`shown`), against the counts they
    come from (`tables`, for the insiders' knowledge; `per_fls`, the breakdown groups' counts
    of each FLS, for each FLS's exact own part of them): one sentence per count that can be
    narrowed below its marker's range (`first_only`: at most one per attacker and block of
    linked hidden counts). An empty list: the tables pass."""
    truth, pub = model(shown, tables, services, policy, catalogue, per_fls)
    breaches = audit(pub, insiders=insiders, first_only=first_only)
    return [describe(b, truth.frame) for b in breaches]


def model(
    shown: dict[str, pd.DataFrame],
    tables: dict[str, pd.DataFrame],
    services: pd.DataFrame,
    policy: Suppression,
    catalogue: Catalogue | None = None,
    per_fls: pd.DataFrame | None = None,
) -> tuple[Cells, Publication]:
    """The audit's model of published KPI tables (see `audit_tables`): their cells and the
    publication."""
    catalogue = catalogue or load_catalogue()
    truth = Cells(combined(tables), catalogue)
    published = combined(shown)
    keys = ["level", "unit", "period", "kpi"]
    published = truth.frame[keys].merge(published, on=keys, how="left", validate="one_to_one")
    hidden = np.zeros(len(truth.values), dtype=bool)
    small_marker = np.zeros(len(truth.values), dtype=bool)
    for c, column in enumerate(COUNTS):
        marks = published[column]
        hidden[c::3] = marks.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        small_marker[c::3] = (marks == policy.label).to_numpy(dtype=bool)
    relations = relations_of(truth, services, catalogue)
    nested = nested_cells(truth, catalogue)
    pub = publication(
        truth,
        hidden,
        small_marker,
        relations,
        nested,
        policy,
        owners(truth, services),
        parts=own_parts(truth, per_fls),
    )
    return truth, pub
