"""Counts published beside the KPI tables, in the intruder's audit with every relation to them.

The national report publishes more counts than the KPI tables: records by fracture site, the
patients with no drug recommended by the reason recorded, and (Appendix B) the records each key
field applies to and how many miss it. Each is tied to counts the KPI tables publish: the sites
add up to the records (kpi03's denominator), spine fractures are kpi03's numerator, the
higher-risk sites hr01's numerator, the records not at the hip kpi08's denominator and not-due
count; the reasons add up to kpi07's denominator less its numerator; a field that applies to
every record applies to kpi03's denominator, the records missing sex are the sex breakdown's
"not known" and "not recorded" groups. A `Linked` holds such counts by name with those relations
(only the ones that hold on the counts: a relation the definitions imply always does) and each
FLS's own part of every count (an FLS knows its own patients by site, reason and field).

`audit_linked` audits them together with the KPI tables (the blocks they touch: the rest passed
already); `secure_linked` withholds further linked counts, the cheapest tied to a narrowed
count first, until the audit passes (at worst every linked count, which leaves the KPI tables'
audit as it was); each round's attackers start from their solutions of the last round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from flsdb.config import Suppression
from flsdb.disclosure.audit import Breach, Publication, Seeds, Target, audit
from flsdb.disclosure.cells import Cells
from flsdb.disclosure.engine import Relation, relation
from flsdb.disclosure.model import describe, model, needs_of, worked_out

# A KPI count of the publication's period: (level, unit, kpi, column).
Key = tuple[str, str, str, str]
Term = str | Key  # a linked count's name, or a KPI count
MAX_ROUNDS = 20


@dataclass
class Linked:
    """Counts published beside the KPI tables (true values by name), how each is published
    (`shown`: its value, or a marker), and what anyone can know of them."""

    period: str
    values: dict[str, float] = field(default_factory=dict)
    shown: dict[str, object] = field(default_factory=dict)
    sums: list[tuple[tuple[Term, ...], tuple[Term, ...]]] = field(default_factory=list)
    nested: list[tuple[Term, Term]] = field(default_factory=list)  # (inner, outer)
    parts: dict[str, dict[str, float]] = field(default_factory=dict)  # FLS -> name -> own
    # The one FLS whose patients a count is (an FLS's own treatment mix): it knows the count
    # exactly and does not attack it; the others do.
    owners: dict[str, str] = field(default_factory=dict)
    # Counts printed with no marker when withheld (a share drawn in a chart's hatched part, a
    # national share printed "withheld"): 0 or more to the audit, never 1 to 4.
    unmarked: set[str] = field(default_factory=set)
    # Counts published only to within a range (a share rounded to one decimal of a published
    # total): to the audit, a hidden count within it (unless withheld: then 0 or more).
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    # What is published of a KPI count besides its cell (an FLS's records are 1 or more when
    # the reports name it among the FLSs that sent records, 0 when they do not): a withheld
    # count within these bounds to the audit.
    bounds: dict[Key, tuple[float, float]] = field(default_factory=dict)
    # Linked counts whose publication is decided elsewhere (a year's national count, printed
    # in the trend table as its own audit chose): never withheld further here.
    fixed: set[str] = field(default_factory=set)

    def add(
        self,
        name: str,
        value: float,
        shown: object,
        owner: str | None = None,
        marked: bool = True,
    ) -> None:
        self.values[name] = float(value)
        self.shown[name] = shown
        if owner is not None:
            self.owners[name] = owner
        if not marked:
            self.unmarked.add(name)


def _index(cells: Cells, linked: Linked) -> dict[Term, int]:
    """Every term's cell: linked counts after the KPI tables' cells."""
    where: dict[Term, int] = {n: len(cells.values) + i for i, n in enumerate(linked.values)}
    terms = [t for left, right in linked.sums for t in (*left, *right)]
    terms += [t for pair in linked.nested for t in pair]
    terms += list(linked.bounds)
    for term in terms:
        if isinstance(term, tuple) and term not in where:
            level, unit, kpi, column = term
            found = cells.cell(level, unit, linked.period, kpi, column)
            if found is not None:
                where[term] = found
    return where


def _extended(
    cells: Cells, pub: Publication, linked: Linked, withheld: frozenset[str], policy: Suppression
) -> tuple[Publication, frozenset[int], list[Relation]]:
    """The KPI tables' publication with the linked counts added (those in `withheld` hidden
    too), and the cells whose blocks change."""
    where = _index(cells, linked)
    names = list(linked.values)
    values = np.array([linked.values[n] for n in names], dtype=float)
    ranged = np.array([n in linked.ranges and n not in withheld for n in names], dtype=bool)
    hidden = np.array([isinstance(linked.shown[n], str) or n in withheld for n in names])
    hidden |= ranged
    small = (values >= 1) & (values < policy.below)
    top = float(policy.below - 1)
    # A count withheld as `<5` is 1 to 4; any other withheld count is `c` (0 or more), as is
    # one not printed at all (a treatment group drawn in the hatched part of its FLS's bar).
    # A count withheld further is marked `<5` when small (as the reports mark it), unless
    # it is printed with no marker at all.
    marks = [
        linked.shown[n] == policy.label or (n in withheld and n not in linked.unmarked)
        for n in names
    ]
    marked = hidden & small & np.array(marks)
    lower = np.where(marked, 1.0, 0.0)
    upper = np.where(marked, top, np.inf)
    for i in np.flatnonzero(ranged):
        low, high = linked.ranges[names[i]]
        if small[i] and (low > 1 or high < top):
            hidden[i] = False  # a count of 1 to 4 printed all but exactly: shown outright
        else:
            lower[i], upper[i] = low, high
    every_lower = np.concatenate([pub.lower, lower])
    every_upper = np.concatenate([pub.upper, upper])
    every_hidden = np.concatenate([pub.hidden, hidden])
    touched: set[int] = set(where[n] for n in names)
    for term, (low, high) in linked.bounds.items():
        cell = where.get(term)
        if cell is None or not every_hidden[cell]:
            continue
        if low > every_lower[cell] or high < every_upper[cell]:
            every_lower[cell] = max(every_lower[cell], low)
            every_upper[cell] = min(every_upper[cell], high)
            touched.add(cell)
    relations = list(pub.equalities)
    for left, right in linked.sums:
        if all(t in where for t in (*left, *right)):
            relations.append(relation([where[t] for t in left], [where[t] for t in right]))
            touched |= {where[t] for t in (*left, *right)}
    nested = list(pub.nested)
    targets = list(pub.targets)
    owned = [linked.owners.get(n) for n in names]
    cell_owners = [*pub.owners, *owned]
    for k, n in enumerate(names):
        if small[k]:
            targets.append(Target(((where[n], 1.0),), linked.values[n], owned[k]))
    for inner, outer in linked.nested:
        if inner in where and outer in where:
            nested.append((where[inner], where[outer]))
            touched |= {where[inner], where[outer]}
            difference = _value(cells, linked, outer) - _value(cells, linked, inner)
            if policy.complement and policy.small(difference):
                terms = ((where[outer], 1.0), (where[inner], -1.0))
                targets.append(Target(terms, difference, cell_owners[where[outer]]))
    parts = {who: dict(own) for who, own in pub.parts.items()}
    for who, own in linked.parts.items():
        mine = parts.setdefault(who, {})
        for name, value in own.items():
            if value > 0 and name in where:
                mine[where[name]] = float(value)
    national = _national_parts(cells, linked, where, parts)
    extended = replace(
        pub,
        values=np.concatenate([pub.values, values]),
        hidden=every_hidden,
        lower=every_lower,
        upper=every_upper,
        equalities=relations,
        nested=nested,
        owners=cell_owners,
        targets=targets,
        needs={},
        structural=None,
        parts=parts,
        parted=pub.parted | {where[n] for n in names} | national,
    )
    needs, structural = needs_of(extended, relations)
    extended = replace(extended, needs=needs, structural=structural)
    return extended, frozenset(touched), relations


def _national_parts(
    cells: Cells, linked: Linked, where: dict[Term, int], parts: dict[str, dict[int, float]]
) -> frozenset[int]:
    """Each FLS's own part of the national KPI counts a linked count is nested with (its own
    cell of the same KPI: an FLS knows its own patients), added to `parts`; the cells so
    covered. Without it, an FLS's part of a linked count nested over a national KPI count
    (the records a follow-up field applies to, over kpi08's denominator) was read as the
    FLS's difference between the two, as if none of its patients were in the inner count: a
    programme no values satisfy (every count then read as narrowed)."""
    terms = {t for pair in linked.nested for t in pair if isinstance(t, tuple)}
    covered: set[int] = set()
    for term in terms:
        level, unit, kpi, column = term
        cell = where.get(term)
        if cell is None or (level, unit) != ("nation", "all"):
            continue
        covered.add(cell)
        for who, mine in parts.items():
            own = cells.cell("service", who, linked.period, kpi, column)
            if own is not None and cells.values[own] > 0:
                mine[cell] = float(cells.values[own])
    return frozenset(covered)


def _value(cells: Cells, linked: Linked, term: Term) -> float:
    if isinstance(term, str):
        return linked.values[term]
    level, unit, kpi, column = term
    found = cells.cell(level, unit, linked.period, kpi, column)
    return float(cells.values[found]) if found is not None else np.nan


def _describe(breach: Breach, cells: Cells, names: Sequence[str]) -> str:
    cell = breach.target.terms[0][0]
    if cell < len(cells.values):
        return describe(breach, cells.frame)
    return f"{names[cell - len(cells.values)]}: the hidden count {worked_out(breach)}"


def audit_linked(
    shown: dict[str, pd.DataFrame],
    tables: dict[str, pd.DataFrame],
    services: pd.DataFrame,
    policy: Suppression,
    linked: Linked,
    withheld: frozenset[str] = frozenset(),
    per_fls: pd.DataFrame | None = None,
) -> list[str]:
    """The intruder's audit of the KPI tables (which passed it) with the linked counts
    published beside them (`withheld`: some withheld beyond their marks): a sentence per count
    narrowed, as `audit_tables` gives them."""
    cells, pub = model(shown, tables, services, policy, per_fls=per_fls)
    extended, touched, _ = _extended(cells, pub, linked, withheld, policy)
    names = list(linked.values)
    return [_describe(b, cells, names) for b in audit(extended, only=touched)]


def secure_linked(
    shown: dict[str, pd.DataFrame],
    tables: dict[str, pd.DataFrame],
    services: pd.DataFrame,
    policy: Suppression,
    linked: Linked,
    per_fls: pd.DataFrame | None = None,
) -> frozenset[str] | None:
    """The linked counts to withhold beyond their marks so that the audit passes: while it
    narrows a count, the cheapest shown linked count tied to it (in a sum or nested pair with
    it, or one step further) is withheld (a zero last); failing that, every linked count.
    None: not even that passes (the KPI tables alone fail)."""
    cells, pub = model(shown, tables, services, policy, per_fls=per_fls)
    names = list(linked.values)
    withheld: frozenset[str] = frozenset()
    # Each round withholds more, so every attacker's solutions of the last stay solutions.
    seeds: Seeds = {}
    for _ in range(MAX_ROUNDS):
        extended, touched, relations = _extended(cells, pub, linked, withheld, policy)
        breaches = audit(extended, first_only=True, only=touched, seeds=seeds)
        if not breaches:
            return withheld
        groups = [rel.cells for rel in relations] + [tuple(p) for p in extended.nested]
        chosen = set()
        for breach in breaches:
            found = _cheapest(breach, groups, extended, names, len(cells.values), linked.fixed)
            if found is not None:
                chosen.add(found)
        chosen -= linked.fixed
        if not chosen:
            break
        chosen |= _partners(chosen, groups, extended, names, len(cells.values)) - linked.fixed
        withheld = withheld | chosen
    withheld = frozenset(n for n in names if n not in linked.fixed)
    extended, touched, _ = _extended(cells, pub, linked, withheld, policy)
    return None if audit(extended, first_only=True, only=touched, seeds=seeds) else withheld


def _partners(
    chosen: set[str],
    groups: Sequence[tuple[int, ...]],
    pub: Publication,
    names: Sequence[str],
    first: int,
) -> set[str]:
    """For each FLS's own count chosen, the smallest shown count of another FLS in each sum
    with it (the same treatment group of another FLS, under a national total): a count
    withheld alone in such a sum is the total less the others."""
    where = {n: first + i for i, n in enumerate(names)}
    out: set[str] = set()
    for name in chosen:
        cell = where[name]
        owner = pub.owners[cell]
        if owner is None:
            continue
        for group in groups:
            if cell not in group:
                continue
            others = [
                c
                for c in group
                if c >= first
                and pub.owners[c] not in (None, owner)
                and not pub.hidden[c]
                and names[c - first] not in chosen
                and pub.values[c] > 0
            ]
            hidden = [
                c for c in group if c != cell and c >= first and pub.owners[c] not in (None, owner)
            ]
            if others and not any(pub.hidden[c] for c in hidden):
                out.add(names[min(others, key=lambda c: pub.values[c]) - first])
    return out


def _cheapest(
    breach: Breach,
    groups: Sequence[tuple[int, ...]],
    pub: Publication,
    names: Sequence[str],
    first: int,
    fixed: set[str] | frozenset[str] = frozenset(),
) -> str | None:
    reached = {c for c, _ in breach.target.terms}
    printed = [
        c for c in reached if c >= first and not pub.hidden[c] and names[c - first] not in fixed
    ]
    if len(reached) == 1 and printed:  # a small count printed (or all but printed): itself
        return names[printed[0] - first]
    # The counts of an FLS narrowed are most often given away by that FLS's own linked counts
    # (its treatment mix against its KPI counts): its smallest shown one first.
    whose = {pub.owners[c] for c in reached} - {None}
    if whose:
        own = [
            c
            for c in range(first, len(pub.values))
            if pub.owners[c] in whose
            and not pub.hidden[c]
            and pub.values[c] > 0
            and names[c - first] not in fixed
        ]
        if own:
            return names[min(own, key=lambda c: pub.values[c]) - first]
    for _ in range(4):
        pool = {c for group in groups if not reached.isdisjoint(group) for c in group}
        candidates = [
            c for c in pool if c >= first and not pub.hidden[c] and names[c - first] not in fixed
        ]
        if candidates:
            best = min(candidates, key=lambda c: (pub.values[c] == 0, pub.values[c]))
            return names[best - first]
        if pool <= reached:
            return None
        reached |= pool
    return None
