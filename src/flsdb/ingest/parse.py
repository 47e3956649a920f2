"""Turn each column's strings into typed values, reporting values not of their type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from flsdb.dictionary.schema import Dictionary, FieldSpec
from flsdb.ingest.issues import ROW, issue_frame
from flsdb.ingest.nhs import nhs_number_is_valid

POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"
DATE_HELP = "use YYYY-MM-DD or DD/MM/YYYY"


@dataclass(frozen=True)
class Parsed:
    """A typed column (invalid values set to null) and the issues found in it."""

    values: pl.Expr
    invalid: pl.Expr
    message: pl.Expr | str


def _codes_text(codes: tuple[str, ...]) -> str:
    return ", ".join(codes)


def _text(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    if spec.uppercase:
        raw = raw.str.to_uppercase()
    if spec.pattern is None:
        return Parsed(raw, pl.lit(False), "")
    valid = raw.str.contains(spec.pattern)
    return Parsed(raw, raw.is_not_null() & ~valid, f"must be {spec.pattern_help or spec.pattern}")


def _service_ref(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    return Parsed(raw.str.to_uppercase() if spec.uppercase else raw, pl.lit(False), "")


def _code(spec: FieldSpec, raw: pl.Expr, dictionary: Dictionary) -> Parsed:
    codes = dictionary.codes(spec)
    value = raw.str.to_lowercase()
    invalid = value.is_not_null() & ~value.is_in(codes)
    return Parsed(value, invalid, f"is not a valid code; allowed: {_codes_text(codes)}")


def _date(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    iso = raw.str.to_date("%Y-%m-%d", strict=False)
    british = raw.str.to_date("%d/%m/%Y", strict=False)
    value = pl.coalesce(iso, british)
    return Parsed(value, raw.is_not_null() & value.is_null(), f"is not a date; {DATE_HELP}")


def _range_text(spec: FieldSpec, kind: str) -> str:
    if spec.min is not None and spec.max is not None:
        return f"must be a {kind} from {spec.min:g} to {spec.max:g}"
    if spec.min is not None:
        return f"must be a {kind} of at least {spec.min:g}"
    return f"must be a {kind}"


def _in_range(value: pl.Expr, spec: FieldSpec) -> pl.Expr:
    ok = pl.lit(True)
    if spec.min is not None:
        ok = ok & (value >= spec.min)
    if spec.max is not None:
        ok = ok & (value <= spec.max)
    return ok


def _integer(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    whole = raw.str.contains(r"^[+-]?\d{1,9}(\.0+)?$")
    value = pl.when(whole).then(raw.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False))
    invalid = raw.is_not_null() & (value.is_null() | ~_in_range(value, spec))
    return Parsed(value, invalid, _range_text(spec, "whole number"))


def _number(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    value = raw.cast(pl.Float64, strict=False)
    finite = value.is_not_null() & value.is_finite()
    invalid = raw.is_not_null() & (~finite | ~_in_range(value, spec)).fill_null(True)
    return Parsed(value, invalid, _range_text(spec, "number"))


def _nhs_number(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    digits = raw.str.replace_all(" ", "")
    ten_digits = digits.str.contains(r"^\d{10}$")
    valid = ten_digits & nhs_number_is_valid(digits)
    message = (
        pl.when(~ten_digits)
        .then(pl.lit("must be 10 digits (spaces allowed)"))
        .otherwise(pl.lit("is not a valid NHS number: the check digit (modulus 11) does not match"))
    )
    return Parsed(digits, raw.is_not_null() & ~valid, message)


def _postcode(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    compact = raw.str.to_uppercase().str.replace_all(r"\s+", "")
    valid = compact.str.contains(POSTCODE)
    # Store in the usual form: outward code, one space, inward code.
    value = compact.str.slice(0, compact.str.len_chars() - 3) + " " + compact.str.slice(-3)
    return Parsed(value, raw.is_not_null() & ~valid, "is not a UK postcode (for example SW1A 1AA)")


def _therapy(spec: FieldSpec, raw: pl.Expr, dictionary: Dictionary) -> Parsed:
    drugs = dictionary.codesets[spec.drugs or ""].codes
    outcomes = dictionary.outcome_codes(spec)
    parts = raw.str.split(";").list.eval(pl.element().str.strip_chars().str.to_lowercase())
    parts = parts.list.eval(pl.element().filter(pl.element() != ""))
    unknown = parts.list.eval(~pl.element().is_in([*drugs, *outcomes])).list.any()
    has_outcome = parts.list.eval(pl.element().is_in(outcomes)).list.any()
    count = parts.list.len()
    repeated = parts.list.n_unique() < count
    too_many = count > 1 if not spec.multiple else pl.lit(False)
    allowed = (
        f"drug codes ({_codes_text(drugs)}) joined by ';'" if spec.multiple
        else f"one drug code ({_codes_text(drugs)})"
    ) + f", or one of: {_codes_text(outcomes)}"
    message = (
        pl.when(unknown).then(pl.lit(f"holds an unknown code; allowed: {allowed}"))
        .when(has_outcome & (count > 1))
        .then(pl.lit("mixes drug codes with an outcome code; give drug codes or one outcome code"))
        .when(repeated).then(pl.lit("gives the same code twice"))
        .otherwise(pl.lit(f"gives more than one code; allowed: {allowed}"))
    )
    invalid = raw.is_not_null() & (unknown | (has_outcome & (count > 1)) | repeated | too_many)
    value = pl.when(count > 0).then(parts.list.join(";"))
    return Parsed(value, invalid, message)


PARSERS: dict[str, Callable[[FieldSpec, pl.Expr, Dictionary], Parsed]] = {
    "text": _text,
    "service_ref": _service_ref,
    "code": _code,
    "date": _date,
    "integer": _integer,
    "number": _number,
    "nhs_number": _nhs_number,
    "postcode": _postcode,
    "therapy": _therapy,
}


def parse_columns(
    raw: pl.DataFrame, fields: tuple[FieldSpec, ...], dictionary: Dictionary
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Typed frame with every dictionary column, and issues for bad or missing values."""
    parsed = {
        spec.name: PARSERS[spec.type](spec, pl.col(spec.name), dictionary)
        for spec in fields
        if spec.name in raw.columns
    }
    flags = raw.select(
        pl.col(ROW),
        *[p.invalid.fill_null(False).alias(f"{name}__bad") for name, p in parsed.items()],
        *[
            (p.message if isinstance(p.message, pl.Expr) else pl.lit(p.message)).alias(
                f"{name}__msg"
            )
            for name, p in parsed.items()
        ],
        *[pl.col(name) for name in parsed],
    )
    issues = []
    for spec in fields:
        if spec.name not in parsed:
            continue
        bad = flags.filter(pl.col(f"{spec.name}__bad"))
        if bad.height:
            issues.append(
                issue_frame(
                    bad, spec.name, "error",
                    pl.lit(f"{spec.label}: '") + pl.col(spec.name) + "' " + pl.col(f"{spec.name}__msg"),
                    pl.col(spec.name),
                )
            )
        if spec.required:
            blank = raw.filter(pl.col(spec.name).is_null())
            if blank.height:
                issues.append(
                    issue_frame(blank, spec.name, "error",
                                f"{spec.label} is required but blank", pl.col(spec.name))
                )
    typed = raw.select(
        pl.col(ROW),
        *[
            pl.when(~p.invalid.fill_null(False)).then(p.values).alias(name)
            for name, p in parsed.items()
        ],
    )
    missing = [s for s in fields if s.name not in typed.columns]
    if missing:
        typed = typed.with_columns(
            [pl.lit(None, dtype=_dtype(s)).alias(s.name) for s in missing]
        )
    typed = typed.with_columns([pl.col(s.name).cast(_dtype(s)) for s in fields])
    return typed.select(ROW, *[s.name for s in fields]), issues


def _dtype(spec: FieldSpec) -> type[pl.DataType]:
    return {"date": pl.Date, "integer": pl.Int64, "number": pl.Float64}.get(spec.type, pl.String)
