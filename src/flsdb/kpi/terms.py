"""The catalogue's counts as boolean terms, and the layout of the maintained figures.

Every count the engine makes (`kpi.query.measure_aggregates`) is a count of records satisfying
a condition. Here the same counts are terms (leaves, `due`, and, or, not) built from the
catalogue's measures in the same way. A `due` leaf depends on the extract date; everything else
depends on the record alone. For one fracture date and extract date, the due windows that have
passed are the first `s` of them in order of their days (the "due state" `s`): so a count is,
for each state, a term with no `due` in it (or always true, or always false). The distinct
such terms are the columns of the maintained figures (`flsdb.storage.figures`); a count for an
extract date sums, per fracture date, the column its state names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from flsdb.kpi import count_columns
from flsdb.kpi.catalogue import Catalogue, Condition, Measure, load_catalogue

if TYPE_CHECKING:  # the writers read the layout without loading Ibis
    import ibis.expr.types as ir

    from flsdb.kpi.compile import Compiler


@dataclass(frozen=True)
class Leaf:
    """A leaf the compiler builds: a condition leaf, ("missing", column) or ("records",)."""

    key: Hashable


@dataclass(frozen=True)
class Due:
    window: str


@dataclass(frozen=True)
class And:
    items: frozenset[Term]


@dataclass(frozen=True)
class Or:
    items: frozenset[Term]


@dataclass(frozen=True)
class Not:
    item: Term


Term = Leaf | Due | And | Or | Not | bool
RECORDS = Leaf(("records",))


def _fold(items: tuple[Term, ...], kind: type[And] | type[Or], unit: bool) -> Term:
    """`items` joined by `kind`, flattened and folded: `unit` (True for AND, False for OR) is
    dropped, its opposite decides at once."""
    found: set[Term] = set()
    for item in items:
        if item is (not unit):
            return not unit
        if item is unit:
            continue
        found |= item.items if isinstance(item, kind) else {item}
    if not found:
        return unit
    return next(iter(found)) if len(found) == 1 else kind(frozenset(found))


def conj(*items: Term) -> Term:
    """AND, flattened and folded (True and x is x; False and x is False)."""
    return _fold(items, And, True)


def disj(*items: Term) -> Term:
    """OR, flattened and folded (False or x is x; True or x is True)."""
    return _fold(items, Or, False)


def neg(item: Term) -> Term:
    if isinstance(item, bool):
        return not item
    return item.item if isinstance(item, Not) else Not(item)


def condition_term(condition: Condition | None, catalogue: Catalogue) -> Term:
    """A catalogue condition as a term (None: every record)."""
    if condition is None:
        return RECORDS
    c = condition
    if c.all_of is not None:
        return conj(*(condition_term(x, catalogue) for x in c.all_of))
    if c.any_of is not None:
        return disj(*(condition_term(x, catalogue) for x in c.any_of))
    if c.not_ is not None:
        return neg(condition_term(c.not_, catalogue))
    if c.ref is not None:
        return condition_term(catalogue.definitions[c.ref], catalogue)
    if c.due is not None:
        return Due(c.due)
    return Leaf(c)


def measure_terms(measure: Measure, catalogue: Catalogue) -> dict[str, Term]:
    """A measure's named counts as terms: the names and meaning of `measure_aggregates`."""
    out: dict[str, Term] = {}
    if measure.kind == "completeness":
        for key in measure.key_fields:
            missing = Leaf(("missing", key.column))
            if key.applicable is None:
                out[count_columns.missing(measure.id, key.column)] = missing
                continue
            applicable = condition_term(key.applicable, catalogue)
            out[count_columns.applies(measure.id, key.column)] = applicable
            out[count_columns.missing(measure.id, key.column)] = conj(applicable, missing)
        return out
    if measure.kind == "caseload":
        for part_id, part in measure.parts.items():
            out[count_columns.records(part_id)] = condition_term(part.records, catalogue)
        return out
    base = condition_term(measure.denominator, catalogue)
    if measure.due is not None:
        due = Due(measure.due)
        out[count_columns.not_due(measure.id)] = conj(base, neg(due))
        base = conj(base, due)
    out[count_columns.denominator(measure.id)] = base
    out[count_columns.numerator(measure.id)] = conj(
        base, condition_term(measure.numerator, catalogue)
    )
    return out


def settle(term: Term, passed: frozenset[str]) -> Term:
    """The term with each `due` replaced by whether its window has passed."""
    if isinstance(term, bool | Leaf):
        return term
    if isinstance(term, Due):
        return term.window in passed
    if isinstance(term, Not):
        return neg(settle(term.item, passed))
    if isinstance(term, And):
        return conj(*(settle(x, passed) for x in term.items))
    return disj(*(settle(x, passed) for x in term.items))


def compile_term(term: Term, compiler: Compiler) -> ir.BooleanValue:
    """A term with no `due` as an expression of the compiler's table."""
    if isinstance(term, Leaf):
        key = term.key
        if isinstance(key, Condition):
            return compiler(key)
        assert isinstance(key, tuple)
        if key[0] == "missing":
            return compiler.missing(key[1])
        return compiler(None)
    if isinstance(term, Not):
        return ~compile_term(term.item, compiler)
    assert isinstance(term, And | Or), term
    parts = [compile_term(x, compiler) for x in sorted(term.items, key=_order)]
    result = parts[0]
    for part in parts[1:]:
        result = (result & part) if isinstance(term, And) else (result | part)
    return result


def _order(term: Term) -> str:
    return canonical(term)


def canonical(term: Term) -> str:
    """The term as text, the same in every process (sets in sorted order)."""
    if isinstance(term, bool):
        return str(term)
    if isinstance(term, Leaf):
        return repr(term.key)
    if isinstance(term, Due):
        return f"due({term.window})"
    if isinstance(term, Not):
        return f"not({canonical(term.item)})"
    name = "and" if isinstance(term, And) else "or"
    return f"{name}({', '.join(sorted(canonical(x) for x in term.items))})"


@dataclass(frozen=True)
class Layout:
    """The columns of the maintained figures and how each count reads them.

    `windows` are the due windows by their days, `cutoffs` their days; `terms` the stored
    columns' terms (column `c{i}` counts records satisfying `terms[i]`); `reads[name][s]` the
    column a count reads in due state `s`: an index into `terms`, -1 for every record (the
    `records` column) or None for nothing."""

    windows: tuple[tuple[str, ...], ...]
    cutoffs: tuple[int, ...]
    terms: tuple[Term, ...]
    reads: dict[str, tuple[int | None, ...]]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f"c{i}" for i in range(len(self.terms)))

    @property
    def signature(self) -> str:
        """Changes whenever the stored columns would mean something else."""
        text = repr((self.windows, self.cutoffs, [canonical(t) for t in self.terms]))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_layout(catalogue: Catalogue, measures: Iterable[Measure]) -> Layout:
    days = sorted(set(catalogue.due_windows.values()))
    windows = tuple(
        tuple(sorted(w for w, d in catalogue.due_windows.items() if d == day)) for day in days
    )
    states = [frozenset(w for group in windows[:s] for w in group) for s in range(len(days) + 1)]
    index: dict[Term, int] = {}
    reads: dict[str, tuple[int | None, ...]] = {}
    for measure in measures:
        for name, term in measure_terms(measure, catalogue).items():
            found: list[int | None] = []
            for passed in states:
                settled = settle(term, passed)
                if settled is False:
                    found.append(None)
                elif settled is True or settled == RECORDS:
                    found.append(-1)
                else:
                    found.append(index.setdefault(settled, len(index)))
            reads[name] = tuple(found)
    return Layout(windows, tuple(days), tuple(index), reads)


@cache
def catalogue_layout() -> Layout:
    """The layout of the packaged catalogue (every measure)."""
    catalogue = load_catalogue()
    return build_layout(catalogue, catalogue.measures)
