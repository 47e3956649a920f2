"""Secondary suppression proven by the intruder's audit, and that audit run on published tables.

`secure` starts from the protection levels' pattern (`levels.protect_levels`), then runs the
linear-programming audit (`audit.audit`); while a protected count can be narrowed (by an
outsider, or by an FLS from its own counts), it hides the cheapest shown cell tied to it (in the
same sum, equal or nested count; never one the attacking FLS knows itself), applies the
subtraction rule again and audits again, for a bounded number of rounds; what is still narrowed
then has its whole relation groups withheld (a few rounds at most). The caller audits the
result and refuses to publish one that fails (`flsdb.figures.audited`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from flsdb.config import Suppression
from flsdb.disclosure.audit import (
    Breach,
    Cache,
    Publication,
    Target,
    audit,
)
from flsdb.disclosure.cells import (
    COUNTS,
    Cells,
    Parts,
    combined,
    nested_cells,
    own_parts,
    relations_of,
)
from flsdb.disclosure.engine import Relation, complete
from flsdb.disclosure.structural import Structural
from flsdb.kpi.catalogue import Catalogue, load_catalogue
from flsdb.kpi.results import BREAKDOWNS

# Rounds of the search (each hides the cheapest count tied to each narrowed one, then audits
# again), then rounds that withhold whole relation groups: bounded, so the search ends.
MAX_ROUNDS = 12
GROUP_ROUNDS = 3


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
            if mine > low:
                needs[(index, who)] = (min(mine, high), high)


def _tied(groups: Sequence[tuple[int, ...]]) -> dict[int, list[tuple[int, ...]]]:
    by_cell: dict[int, list[tuple[int, ...]]] = {}
    for group in groups:
        for cell in group:
            by_cell.setdefault(cell, []).append(group)
    return by_cell


def _complement(
    breach: Breach,
    tied: Sequence[dict[int, list[tuple[int, ...]]]],
    hidden: NDArray[np.bool_],
    values: NDArray[np.float64],
    counted: NDArray[np.bool_],
    preference: NDArray[np.float64],
    cell_owners: Sequence[str | None],
) -> int | None:
    """The cheapest shown cell in a sum or equal count with the breached quantity; failing
    that, in a nested pair with it; failing that, one step further out."""
    start = {c for c, _ in breach.target.terms}
    for by_cell in (*tied, _merged(tied)):
        reached = set(start)
        for _ in range(4):
            pool = {cell for c in reached for group in by_cell.get(c, []) for cell in group}
            candidates = [
                c
                for c in pool
                if not hidden[c] and counted[c] and cell_owners[c] != breach.attacker
            ]
            if candidates:
                # A zero is hidden only when nothing else will do (zeros show as 0).
                return min(candidates, key=lambda c: (values[c] == 0, preference[c]))
            if pool <= reached:
                break
            reached |= pool
    return None


def _merged(
    tied: Sequence[dict[int, list[tuple[int, ...]]]],
) -> dict[int, list[tuple[int, ...]]]:
    out: dict[int, list[tuple[int, ...]]] = {}
    for by_cell in tied:
        for cell, groups in by_cell.items():
            out.setdefault(cell, []).extend(groups)
    return out


def secure(
    cells: Cells,
    hidden: NDArray[np.bool_],
    relations: Sequence[Relation],
    nested: Sequence[tuple[int, int]],
    preference: NDArray[np.float64],
    policy: Suppression,
    services: pd.DataFrame,
    parts: Parts | None = None,
) -> NDArray[np.bool_]:
    """Hidden flags after secondary suppression that passes the audit: from `hidden` (the
    protection levels' pattern), while the audit narrows a count (an outsider first, then each
    FLS as insider), hide the cheapest shown count tied to it, for at most `MAX_ROUNDS` rounds;
    then, for what is still narrowed, every count of every relation it is in (its whole group:
    FLSs, region, nation). `audit_tables` on the result says whether it passes."""
    cell_owners = owners(cells, services)
    small = (cells.values >= 1) & (cells.values < policy.below)
    tied = (_tied([rel.cells for rel in relations]), _tied(nested))
    hidden = complete(cells.values, hidden, relations, preference)
    outsider: Cache = {}
    insider: Cache = {}
    first = publication(cells, hidden, small, relations, nested, policy, cell_owners, None, parts)
    basis = needs_of(first, relations)

    def breaches_of(pattern: NDArray[np.bool_]) -> list[Breach]:
        pub = publication(
            cells, pattern, small, relations, nested, policy, cell_owners, basis, parts
        )
        found = audit(pub, insiders=False, first_only=True, cache=outsider)
        return found or audit(pub, insiders=True, first_only=True, cache=insider)

    breaches = breaches_of(hidden)
    for _ in range(MAX_ROUNDS):
        if not breaches:
            return hidden
        chosen = set()
        for breach in breaches:
            cell = _complement(
                breach, tied, hidden, cells.values, cells.counted, preference, cell_owners
            )
            if cell is not None:
                chosen.add(cell)
        if not chosen:
            break
        hidden = hidden.copy()
        hidden[list(chosen)] = True
        hidden = complete(cells.values, hidden, relations, preference)
        breaches = breaches_of(hidden)
    for _ in range(GROUP_ROUNDS):
        if not breaches:
            break
        hidden = _whole_groups(breaches, tied, hidden, cells.counted)
        hidden = complete(cells.values, hidden, relations, preference)
        breaches = breaches_of(hidden)
    if breaches:  # then: the KPI's every count at the breached level (zeros included)
        hidden = _whole_kpis(breaches, cells, hidden)
        hidden = complete(cells.values, hidden, relations, preference)
        breaches = breaches_of(hidden)
    if breaches:  # last: every zero shown at those levels, any KPI (a zero pins its sums)
        hidden = _zeros(breaches, cells, hidden)
        hidden = complete(cells.values, hidden, relations, preference)
    return hidden


def _zeros(
    breaches: Sequence[Breach], cells: Cells, hidden: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Every zero shown at the narrowed counts' levels (a nation's with its breakdown groups):
    a zero bounds every sum and nested count it is in, so an insider's own parts can pin the
    others' part against it (sex "male" kpi11's 0 not yet due, through kpi11's records)."""
    hidden = hidden.copy()
    frame = cells.frame
    levels = set()
    for breach in breaches:
        for cell, _ in breach.target.terms:
            level = frame["level"].iloc[cell // 3]
            levels.add(level)
            if level == "nation" or level in BREAKDOWNS:
                levels |= {"nation", *BREAKDOWNS}
    rows = np.repeat(frame["level"].isin(levels).to_numpy(), 3)
    hidden |= rows & cells.counted & (cells.values == 0)
    return hidden


def _whole_kpis(
    breaches: Sequence[Breach], cells: Cells, hidden: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Every count of the narrowed counts' KPIs at their levels (every FLS, region, nation or
    breakdown group), and of a nation's in every breakdown group (the groups are its parts,
    each FLS knowing its own): a count pinned by its shown neighbours, such as a group's
    numerator forced to 0 by its shown denominator of 0, can no longer bound the narrowed
    one."""
    hidden = hidden.copy()
    frame = cells.frame
    wanted = set()
    for breach in breaches:
        for cell, _ in breach.target.terms:
            level, kpi = frame["level"].iloc[cell // 3], frame["kpi"].iloc[cell // 3]
            wanted.add((level, kpi))
            if level == "nation" or level in BREAKDOWNS:
                wanted |= {(group, kpi) for group in BREAKDOWNS}
    rows = np.flatnonzero(
        [(lvl, kpi) in wanted for lvl, kpi in zip(frame["level"], frame["kpi"], strict=True)]
    )
    for row in rows:
        for offset in range(3):
            if cells.counted[row * 3 + offset]:
                hidden[row * 3 + offset] = True
    return hidden


def _whole_groups(
    breaches: Sequence[Breach],
    tied: Sequence[dict[int, list[tuple[int, ...]]]],
    hidden: NDArray[np.bool_],
    counted: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """Every count of every relation (sum, equal or nested counts) a narrowed count is in."""
    hidden = hidden.copy()
    for breach in breaches:
        for cell, _ in breach.target.terms:
            for by_cell in tied:
                for group in by_cell.get(cell, []):
                    for other in group:
                        if counted[other]:
                            hidden[other] = True
    return hidden


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
    who = "an outsider" if breach.attacker == "outsider" else f"FLS {breach.attacker}"
    low, high = breach.low, breach.high
    span = f"{low:g}" if np.isclose(low, high) else f"{low:g} to {high:g}"
    return f"{what}: {quantity} can be worked out as {span} by {who}"


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
