"""The record form, generated from the data dictionary: sections by question number, one widget
per field type, help text, conditional fields and the server's messages beside each field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flsdb.dictionary import FieldSpec, load_dictionary
from flsdb.web.dates import typed_date


@dataclass(frozen=True)
class Widget:
    name: str
    label: str
    question: str
    help: str
    kind: str  # select, multi, date, number, text
    required: bool
    options: tuple[str, ...]
    value: Any
    chosen: tuple[str, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    shown_when: tuple[str, str] | None
    identifiable: bool


@dataclass(frozen=True)
class Section:
    title: str
    widgets: tuple[Widget, ...]


def _kind(spec: FieldSpec) -> str:
    if spec.type == "therapy":
        return "multi"
    if spec.type in ("code", "service_ref"):
        return "select"
    if spec.type == "date":
        return "date"
    if spec.type in ("integer", "number"):
        return "number"
    return "text"


def _help(spec: FieldSpec, kind: str) -> str:
    """The dictionary's help, with a file's wording (codes joined by ';') put for a form."""
    if kind != "multi":
        return spec.help
    kept = [s for s in spec.help.split(". ") if "';'" not in s and "code" not in s.lower()]
    return " ".join([*kept, "Tick one or more drugs, or one outcome."]).strip()


def _section_key(spec: FieldSpec) -> str:
    question = spec.question or "1"
    return "NG249" if question.startswith("NG249") else question.split(".")[0]


def record_form(
    values: Mapping[str, Any],
    issues: list[dict[str, Any]],
    service_codes: list[str],
) -> list[Section]:
    dictionary = load_dictionary()
    by_column: dict[str, list[dict[str, Any]]] = {}
    for issue in issues:
        by_column.setdefault(str(issue["column"]), []).append(issue)
    sections: dict[str, list[Widget]] = {}
    for spec in dictionary.records:
        kind = _kind(spec)
        options = (
            tuple(service_codes)
            if spec.type == "service_ref"
            else dictionary.codes(spec)
            if kind in ("select", "multi")
            else ()
        )
        value = values.get(spec.name)
        text = "" if value is None else str(value)
        if kind == "date":
            text = typed_date(text)  # DD/MM/YYYY, as UK users type it (ISO text as it came)
        found = by_column.get(spec.name, [])
        title = dictionary.sections.get(_section_key(spec), "Other")
        sections.setdefault(title, []).append(
            Widget(
                name=spec.name,
                label=spec.label,
                question=spec.question or "",
                help=_help(spec, kind),
                kind=kind,
                required=spec.required,
                options=options,
                value=text,
                chosen=tuple(v for v in text.split(";") if v),
                errors=tuple(i["message"] for i in found if i["level"] == "error"),
                warnings=tuple(i["message"] for i in found if i["level"] == "warning"),
                shown_when=(
                    (spec.shown_when.column, spec.shown_when.value) if spec.shown_when else None
                ),
                identifiable=spec.identifiable,
            )
        )
    return [Section(title, tuple(widgets)) for title, widgets in sections.items()]


def form_values(form: Mapping[str, Any], multi: Mapping[str, list[str]]) -> dict[str, Any]:
    """The record's values from a submitted form: blanks are absent, multiple choices joined."""
    values: dict[str, Any] = {}
    for spec in load_dictionary().records:
        if multi.get(spec.name):
            values[spec.name] = ";".join(v for v in multi[spec.name] if v)
        else:
            raw = form.get(spec.name)
            values[spec.name] = raw.strip() if isinstance(raw, str) and raw.strip() else None
            if spec.type == "date" and values[spec.name] is not None:
                values[spec.name] = iso_date(values[spec.name])
    return values


def iso_date(text: str) -> str:
    """A typed date (DD/MM/YYYY, D/M/YYYY, or ISO) as ISO text; anything else as typed, for the
    validation to refuse in words (a two-digit year is read there, with a warning)."""
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if found is None:
        return text
    day, month, year = (int(g) for g in found.groups())
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return text  # 31/02/2026: refused by the validation as typed
