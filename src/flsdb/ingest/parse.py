"""Turn each column's strings into typed values, reporting values not of their type."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from flsdb.dictionary.answers import answer_key, answer_words, answers_text
from flsdb.dictionary.frames import storage_dtype
from flsdb.dictionary.schema import Dictionary, FieldSpec
from flsdb.ingest.cells import CellMemo, typed_columns
from flsdb.ingest.issues import ROW, issue_frame
from flsdb.ingest.nhs import nhs_number_is_valid

POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"
# A list column a mapped upload may add: the fields of the row whose value was reported already
# (a label no profile reads), blank now, not to be reported again as blank.
REPORTED = "_reported"
DATE_HELP = "use YYYY-MM-DD or DD/MM/YYYY"


@dataclass(frozen=True)
class Parsed:
    """A column's typed values, a flag for values that break its type, and why.

    `message` is evaluated only on the failing rows, so it may be costly.
    """

    values: pl.Expr
    invalid: pl.Expr
    message: pl.Expr | str
    # Valid values read as something other than what the cell says (`Hip` as `hip`, a
    # two-digit year given its century), and the words for it: a warning each.
    normalised: pl.Expr | None = None
    normalised_message: pl.Expr | str = ""
    # The value as a message quotes it, when not as written (a form's ticked drugs in words).
    quoted: pl.Expr | None = None


def _key(raw: pl.Expr) -> pl.Expr:
    """A cell as `answer_key` reads it (case, underscores and runs of spaces made irrelevant)."""
    return (
        raw.str.to_lowercase()
        .str.replace_all("_", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _text(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    if spec.uppercase:
        raw = raw.str.to_uppercase()
    # Each check with the words for it, first failing first; text with control characters is
    # never a name or a code.
    checks = [(raw.str.contains(r"[\x00-\x1f\x7f]"), "may not hold control characters")]
    if spec.pattern is not None:
        checks.append(
            (~raw.str.contains(spec.pattern), f"must be {spec.pattern_help or spec.pattern}")
        )
    if spec.max_length is not None:
        checks.append(
            (raw.str.len_chars() > spec.max_length, f"may be at most {spec.max_length} characters")
        )
    invalid = pl.lit(False)
    for failing, _words in checks:
        invalid = invalid | failing
    message: pl.Expr = pl.lit(checks[-1][1])
    for failing, words in reversed(checks[:-1]):
        message = pl.when(failing).then(pl.lit(words)).otherwise(message)
    return Parsed(raw, raw.is_not_null() & invalid, message)


def _service_ref(spec: FieldSpec, raw: pl.Expr, dictionary: Dictionary) -> Parsed:
    return _text(spec, raw, dictionary)


def _code(spec: FieldSpec, raw: pl.Expr, dictionary: Dictionary) -> Parsed:
    # The code (not_known) or its words (Not known), in any case, read as the code.
    codes = dictionary.codes(spec)
    value = _key(raw).replace_strict({answer_key(c): c for c in codes}, default=None)
    return Parsed(
        value,
        raw.is_not_null() & value.is_null(),
        f"is not one of the answers allowed: {answers_text(codes)}",
    )


TWO_DIGIT_YEAR = r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}$"


def _date(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    iso = raw.str.to_date("%Y-%m-%d", strict=False)
    long_year = raw.str.contains(r"/[0-9]{4}$")
    british = pl.when(long_year).then(raw.str.to_date("%d/%m/%Y", strict=False))
    # DD/MM/YY: the latest century that does not put the date after today (50 is 1950, 24 is
    # 2024), with a warning to check it.
    short = raw.str.contains(TWO_DIGIT_YEAR)
    this_century = raw.str.replace(r"/([0-9]{2})$", "/20$1").str.to_date("%d/%m/%Y", strict=False)
    two_digit = pl.when(short).then(
        pl.when(this_century > dt.date.today())
        .then(this_century.dt.offset_by("-100y"))
        .otherwise(this_century)
    )
    value = pl.coalesce(iso, british, two_digit)
    # 12/25/2026: a second number that can only be a day, so written month first.
    month_first = raw.str.contains(r"^(0?[1-9]|1[0-2])/(1[3-9]|2[0-9]|3[01])/([0-9]{2}|[0-9]{4})$")
    return Parsed(
        value,
        raw.is_not_null() & value.is_null(),
        pl.when(month_first)
        .then(
            pl.lit(
                "is written month first, which uploads do not accept; write it day first, "
                "as DD/MM/YYYY (or YYYY-MM-DD)"
            )
        )
        .otherwise(pl.lit(f"is not a date; {DATE_HELP}")),
        normalised=short & value.is_not_null(),
        normalised_message=pl.lit("read as ")
        + value.dt.strftime("%-d %b %Y")
        + " (a two-digit year): please check the century",
    )


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
    whole = raw.str.contains(r"^[+-]?[0-9]{1,9}(\.0+)?$")
    value = pl.when(whole).then(raw.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False))
    invalid = raw.is_not_null() & (value.is_null() | ~_in_range(value, spec))
    return Parsed(value, invalid, _range_text(spec, "whole number"))


def _number(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    value = raw.cast(pl.Float64, strict=False)
    finite = value.is_not_null() & value.is_finite()
    invalid = raw.is_not_null() & (~finite | ~_in_range(value, spec)).fill_null(True)
    return Parsed(value, invalid, _range_text(spec, "number"))


def _nhs_number(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    digits = raw.str.replace_all(" ", "", literal=True)
    # ASCII digits only: a regex \d also matches Arabic-Indic or full-width digits.
    ten_digits = digits.str.contains(r"^[0-9]{10}$")
    placeholder = digits.str.contains(
        r"^(0{10}|1{10}|2{10}|3{10}|4{10}|5{10}|6{10}|7{10}|8{10}|9{10}|0123456789)$"
    )
    checked = nhs_number_is_valid(digits).fill_null(False)
    valid = ten_digits & ~placeholder & checked
    message = (
        pl.when(~ten_digits)
        .then(pl.lit("must be 10 digits 0-9 (spaces allowed)"))
        .when(placeholder)
        .then(pl.lit("is a placeholder, not a real NHS number"))
        .otherwise(pl.lit("is not a valid NHS number: the check digit (modulus 11) does not match"))
    )
    return Parsed(digits, raw.is_not_null() & ~valid, message)


def _postcode(spec: FieldSpec, raw: pl.Expr, _: Dictionary) -> Parsed:
    compact = raw.str.to_uppercase().str.replace_all(r"\s+", "")
    valid = compact.str.contains(POSTCODE)
    # Stored in the usual form: outward code, one space, inward code.
    value = compact.str.slice(0, compact.str.len_chars() - 3) + " " + compact.str.slice(-3)
    return Parsed(value, raw.is_not_null() & ~valid, "is not a UK postcode (for example SW1A 1AA)")


def _alternatives(codes: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(c) for c in codes) + ")"


def _therapy(spec: FieldSpec, raw: pl.Expr, dictionary: Dictionary) -> Parsed:
    drugs = dictionary.codesets[spec.drugs or ""].codes
    outcomes = dictionary.outcome_codes(spec)
    # Each answer, joined by ';', as its code or its words (Informed decline), in any case.
    read = {answer_key(c): c for c in (*drugs, *outcomes)}
    parts = (
        raw.str.split(";")
        .list.eval(_key(pl.element()))
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.eval(pl.element().replace(read))
    )
    value = parts.list.join(";")
    drug = _alternatives(drugs)
    drug_list = f"{drug}(?:;{drug})*" if spec.multiple else drug
    valid_shape = value.str.contains(f"^(?:{drug_list}|{_alternatives(outcomes)})$")
    repeated = parts.list.n_unique() < parts.list.len()
    allowed = (
        f"one or more drugs ({answers_text(drugs)}) joined by ';'"
        if spec.multiple
        else f"one drug ({answers_text(drugs)})"
    ) + f", or one of: {answers_text(outcomes)}"
    unknown = parts.list.eval(~pl.element().is_in([*drugs, *outcomes])).list.any()
    has_outcome = parts.list.eval(pl.element().is_in(outcomes)).list.any()
    message = (
        pl.when(unknown)
        .then(pl.lit(f"is not one of the answers allowed: {allowed}"))
        .when(has_outcome)
        .then(
            pl.lit(
                "gives a drug together with an answer that is not a drug ("
                + ", ".join(answer_words(c) for c in outcomes)
                + "); give the drugs, or that one answer"
            )
        )
        .when(repeated)
        .then(pl.lit("gives the same answer twice"))
        .otherwise(pl.lit(f"gives more than one answer; allowed: {allowed}"))
    )
    invalid = raw.is_not_null() & (~valid_shape | repeated)
    # Quoted in words (Alendronate; Informed decline), as a form's ticked boxes read.
    words = {c: answer_words(c) for c in (*drugs, *outcomes)}
    quoted = parts.list.eval(pl.element().replace(words)).list.join("; ")
    return Parsed(value.replace("", None), invalid, message, quoted=quoted)


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


# The parsers by the dictionary, the columns present and the day (a two-digit year is read
# against today), with each field's output columns and the typed cells kept for a few rows
# (`ingest.cells`): built once, not for every batch or every record saved. A few sets.
_PARSED: OrderedDict[tuple[int, tuple[str, ...], tuple[str, ...], dt.date], _Parsers] = (
    OrderedDict()
)
_PARSED_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Parsers:
    dictionary: Dictionary
    parsed: dict[str, Parsed]
    outputs: dict[str, list[pl.Expr]]
    cells: CellMemo
    typed: list[pl.Expr]  # every field's stored column, from the parsed ones (`_stored`)


def _outputs(name: str, parser: Parsed) -> list[pl.Expr]:
    """A field's typed columns: its values, whether each broke its type, and (for a parser that
    may read a value as something else) whether it was."""
    out = [parser.values.alias(name), parser.invalid.fill_null(False).alias(f"{name}__bad")]
    if parser.normalised is not None:
        out.append(parser.normalised.fill_null(False).alias(f"{name}__read_as"))
    return out


def _parsers(
    fields: tuple[FieldSpec, ...], dictionary: Dictionary, columns: tuple[str, ...]
) -> _Parsers:
    """Each present field's parser (polars expressions are immutable: shared)."""
    present = [spec for spec in fields if spec.name in columns]
    names = tuple(spec.name for spec in fields)
    key = (id(dictionary), names, tuple(spec.name for spec in present), dt.date.today())
    with _PARSED_LOCK:
        found = _PARSED.get(key)
        if found is not None and found.dictionary is dictionary:
            _PARSED.move_to_end(key)
            return found
    parsed = {s.name: PARSERS[s.type](s, pl.col(s.name), dictionary) for s in present}
    outputs = {name: _outputs(name, p) for name, p in parsed.items()}
    kept = frozenset(spec.name for spec in present if not spec.identifiable)
    made = _Parsers(
        dictionary, parsed, outputs, CellMemo(kept), _stored(fields, parsed, dictionary)
    )
    with _PARSED_LOCK:
        _PARSED[key] = made
        while len(_PARSED) > 8:
            _PARSED.popitem(last=False)
    return made


def parse_columns(
    raw: pl.DataFrame,
    fields: tuple[FieldSpec, ...],
    dictionary: Dictionary,
    *,
    check_required: bool = True,
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Typed frame with every dictionary column, and issues for bad or missing values (blank
    required values only with `check_required`: an upload that keeps stored values checks
    them on the record as it would be stored) and values read as something else."""
    parsers = _parsers(fields, dictionary, tuple(raw.columns))
    parsed = parsers.parsed
    typed = typed_columns(raw, parsers.outputs, parsers.cells)
    issues = []
    for spec in fields:
        if spec.name not in parsed:
            continue
        flag = f"{spec.name}__bad"
        if typed[flag].any():
            bad = raw.filter(typed[flag])
            issues.append(
                issue_frame(
                    bad,
                    spec.name,
                    "error",
                    pl.lit(f"{spec.label}: '")
                    + (
                        pl.col(spec.name)
                        if parsed[spec.name].quoted is None
                        else parsed[spec.name].quoted
                    )
                    + "' "
                    + parsed[spec.name].message,
                    pl.col(spec.name),
                )
            )
        parser = parsed[spec.name]
        read_as = f"{spec.name}__read_as"
        if read_as in typed.columns and typed[read_as].any():
            changed = raw.filter(typed[read_as])
            if changed.height:
                issues.append(
                    issue_frame(
                        changed,
                        spec.name,
                        "warning",
                        pl.lit(f"{spec.label}: '")
                        + pl.col(spec.name)
                        + "' "
                        + parser.normalised_message,
                        pl.col(spec.name),
                    )
                )
        if check_required and spec.required and raw[spec.name].null_count():
            reported = (
                pl.col(REPORTED).list.contains(spec.name).fill_null(False)
                if REPORTED in raw.columns
                else pl.lit(False)
            )
            blank = raw.filter(pl.col(spec.name).is_null() & ~reported)
            issues.append(
                issue_frame(
                    blank,
                    spec.name,
                    "error",
                    f"{spec.label} is required but blank",
                    pl.col(spec.name),
                )
            )
    typed = typed.select(pl.col(ROW), *parsers.typed)
    return typed, issues


def _stored(
    fields: tuple[FieldSpec, ...], parsed: dict[str, Parsed], dictionary: Dictionary
) -> list[pl.Expr]:
    """Every field's column as stored: values that broke their type become null so that later
    rules do not report them twice, and a field the rows lack is null."""
    return [
        pl.when(~pl.col(f"{s.name}__bad"))
        .then(pl.col(s.name))
        .cast(storage_dtype(s, dictionary))
        .alias(s.name)
        if s.name in parsed
        else pl.lit(None, dtype=storage_dtype(s, dictionary)).alias(s.name)
        for s in fields
    ]
