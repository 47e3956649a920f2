"""Rules across columns and rows, each a small function over the whole typed table.

Each rule reads its parameters from the dictionary field it belongs to and returns checks (a mask
and its message), evaluated together by `run_checks`; a value that failed its type check is
already null here, so it is reported once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import polars as pl

from flsdb.dates import uk_date
from flsdb.dictionary.schema import Dictionary, FieldSpec
from flsdb.ingest.issues import ROW, Level, issue_frame

FRACTURE = "date_fracture_diagnosed"


@dataclass(frozen=True)
class RuleContext:
    dictionary: Dictionary
    upload_date: dt.date


def _date_text(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%d")


def _uk_date(column: str) -> pl.Expr:
    """A date column as a person reads it in a message: 6 Dec 2026."""
    return pl.col(column).dt.strftime("%-d %b %Y")


def _label(ctx: RuleContext, column: str) -> str:
    """A field's label for a message (its column name stays in the issue's column)."""
    spec = ctx.dictionary.record_fields.get(column)
    return spec.label if spec is not None else column


def _said(code: str) -> str:
    """A code as words in a message: 'not_done' -> 'not done'."""
    return code.replace("_", " ")


@dataclass(frozen=True)
class Check:
    """Rows failing `mask` are issues on `column`. Rules return checks rather than issues so
    that every check on a batch is evaluated in one pass (`run_checks`)."""

    mask: pl.Expr
    column: str
    level: Level
    message: str | pl.Expr


def _report(
    table: pl.DataFrame, mask: pl.Expr, column: str, level: Level, message: str | pl.Expr
) -> Iterator[Check]:
    yield Check(mask, column, level, message)


def run_checks(table: pl.DataFrame, checks: list[Check]) -> Iterator[pl.DataFrame]:
    """Issue frames for the checks: evaluated together, in one pass over the table to learn
    which fail anywhere, then one filter for each that does."""
    if not checks or table.height == 0:
        return
    failing = table.select(
        [c.mask.fill_null(False).any().alias(str(i)) for i, c in enumerate(checks)]
    ).row(0)
    schema = table.schema
    for check, fails in zip(checks, failing, strict=True):
        if not fails:
            continue
        column = check.column
        value = pl.col(column).cast(pl.String) if column in schema else pl.lit("")
        if schema.get(column) == pl.Date:
            value = _date_text(column)
        rows = table.filter(check.mask.fill_null(False))
        yield issue_frame(rows, column, check.level, check.message, value)


def whole_years(born: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Completed years of age on a date."""
    before_birthday = (on.dt.month() < born.dt.month()) | (
        (on.dt.month() == born.dt.month()) & (on.dt.day() < born.dt.day())
    )
    return on.dt.year() - born.dt.year() - before_birthday.cast(pl.Int32)


def not_future(spec: FieldSpec, t: pl.DataFrame, ctx: RuleContext) -> Iterator[Check]:
    if spec.type == "date":
        yield from _report(
            t,
            pl.col(spec.name) > ctx.upload_date,
            spec.name,
            "error",
            f"{spec.label} is in the future (after the upload date {uk_date(ctx.upload_date)})",
        )


def min_date(spec: FieldSpec, t: pl.DataFrame, ctx: RuleContext) -> Iterator[Check]:
    if spec.min_date is not None:
        yield from _report(
            t,
            pl.col(spec.name) < spec.min_date,
            spec.name,
            "error",
            f"{spec.label} is before {uk_date(spec.min_date)}, the start of the audit",
        )


def age_at_fracture(spec: FieldSpec, t: pl.DataFrame, ctx: RuleContext) -> Iterator[Check]:
    if spec.age_at_fracture is None:
        return
    age = whole_years(pl.col(spec.name), pl.col(FRACTURE))
    low, high = spec.age_at_fracture.min, spec.age_at_fracture.max
    message = (
        pl.lit("age at fracture is ")
        + age.cast(pl.String)
        + f" years; the audit covers ages {low} to {high}"
    )
    yield from _report(t, (age < low) | (age > high), spec.name, "error", message)


def _order(
    spec: FieldSpec, t: pl.DataFrame, others: tuple[str, ...], level: Level, ctx: RuleContext
) -> Iterator[Check]:
    for other in others:
        message = pl.lit(f"{spec.label} is before {_label(ctx, other)} (") + _uk_date(other) + ")"
        if level == "warning":
            message = message + pl.lit(": please check the date")
        yield from _report(t, pl.col(spec.name) < pl.col(other), spec.name, level, message)


def not_before(spec: FieldSpec, t: pl.DataFrame, ctx: RuleContext) -> Iterator[Check]:
    yield from _order(spec, t, spec.not_before, "error", ctx)


def warn_before(spec: FieldSpec, t: pl.DataFrame, ctx: RuleContext) -> Iterator[Check]:
    yield from _order(spec, t, spec.warn_before, "warning", ctx)


def warn_window(spec: FieldSpec, t: pl.DataFrame, ctx: RuleContext) -> Iterator[Check]:
    window = spec.warn_window_weeks
    if window is None:
        return
    days = (pl.col(spec.name) - pl.col(FRACTURE)).dt.total_days()
    message = (
        pl.lit(f"{spec.label} is ")
        + (days / 7).round(1).cast(pl.String)
        + f" weeks after the fracture; expected {window.min} to {window.max} weeks"
    )
    outside = (days < window.min * 7) | (days > window.max * 7)
    yield from _report(t, outside, spec.name, "warning", message)


def warn_unless(spec: FieldSpec, t: pl.DataFrame, ctx: RuleContext) -> Iterator[Check]:
    rule = spec.warn_unless
    if rule is not None:
        mask = pl.col(spec.name).is_not_null() & (
            pl.col(rule.column).cast(pl.String).fill_null("") != rule.value
        )
        yield from _report(t, mask, spec.name, "warning", f"{spec.label}: {rule.message}")


def requires_when(spec: FieldSpec, t: pl.DataFrame, ctx: RuleContext) -> Iterator[Check]:
    """An answer that needs another field (DXA performed needs its date): the message goes with
    the blank field, which is the one to fill in."""
    rule = spec.requires_when
    if rule is not None:
        other = rule.column
        mask = (pl.col(spec.name) == rule.value) & pl.col(rule.column).is_null()
        message = (
            f"{_label(ctx, other)} is blank but {spec.label} is '{_said(rule.value)}': "
            f"give the {_label(ctx, other)[:1].lower()}{_label(ctx, other)[1:]}"
        )
        yield from _report(t, mask, other, "error", message)


def date_pair(spec: FieldSpec, t: pl.DataFrame, ctx: RuleContext) -> Iterator[Check]:
    """A follow-up answered 'yes' needs its date, and one answered 'no' has none: the message
    goes with the date, the field to fill in or clear."""
    if spec.date_pair is None:
        return
    date, date_label = spec.date_pair, _label(ctx, spec.date_pair)
    yield from _report(
        t,
        (pl.col(spec.name) == "yes") & pl.col(date).is_null(),
        date,
        "error",
        f"{date_label} is blank but {spec.label} is 'yes': give the date",
    )
    yield from _report(
        t,
        (pl.col(spec.name) == "no") & pl.col(date).is_not_null(),
        date,
        "error",
        f"{date_label} is given but {spec.label} is 'no': clear the date or change the answer",
    )


FieldRule = Callable[[FieldSpec, pl.DataFrame, RuleContext], Iterator[Check]]
FIELD_RULES: tuple[FieldRule, ...] = (
    not_future,
    min_date,
    age_at_fracture,
    not_before,
    warn_before,
    warn_window,
    warn_unless,
    requires_when,
    date_pair,
)


def duplicate_keys(t: pl.DataFrame, key: tuple[str, ...], what: str) -> Iterator[pl.DataFrame]:
    """Rows whose key repeats an earlier row of the same file."""
    if t.height < 2:  # a single row repeats nothing (a record typed or sent: no query)
        return
    keyed = t.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in key]))
    first = pl.col(ROW).min().over(list(key))
    repeats = keyed.with_columns(first_row=first).filter(pl.col(ROW) != pl.col("first_row"))
    if repeats.height:
        yield issue_frame(
            repeats,
            key[0],
            "error",
            pl.lit(f"the same {what} as row ")
            + pl.col("first_row").cast(pl.String)
            + "; each appears once in a file",
            pl.col(key[0]),
        )


def service_access(t: pl.DataFrame, known: set[str], allowed: set[str] | None) -> Iterator[Check]:
    """Records must name a known service that the uploader may write to."""
    codes = pl.col("service_code")
    yield from _report(
        t,
        codes.is_not_null() & ~codes.is_in(sorted(known)),
        "service_code",
        "error",
        pl.lit("the FLS '")
        + codes
        + "' is not one of flsdb's FLSs; an administrator adds it (Services) first",
    )
    if allowed is not None:
        permitted = ", ".join(sorted(allowed)) or "none"
        yield from _report(
            t,
            codes.is_in(sorted(known)) & ~codes.is_in(sorted(allowed)),
            "service_code",
            "error",
            pl.lit("you may not upload records for the FLS '")
            + codes
            + f"'; you may write to: {permitted}",
        )
