"""Typed, frozen model of a mapping profile, validated on load against the data dictionary.

A profile says how another system's files relate to flsdb's records: which column holds which
dictionary field (by question number or by name), which columns are known and not used, the
labels that stand for each code, the date formats and text encodings, and the layout files are
written back in. Import, export, `flsdb profile detect` and the documentation all read it.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flsdb.dictionary.schema import Dictionary

QUESTION = re.compile(r"^(\d{1,2}\.\d{2})(?![\d.])")


def question_of(header: str) -> str | None:
    """The FLS-DB question number a column title starts with ('1.10 TypeOfFractue' -> '1.10')."""
    found = QUESTION.match(header.strip())
    return found.group(1) if found else None


def name_key(text: str) -> str:
    """A column name with case, spaces and underscores made irrelevant."""
    return " ".join(text.replace("_", " ").lower().split())


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Column(_Frozen):
    """One column of a layout: a dictionary field, or a known column flsdb does not use."""

    header: str
    field: str | None = None
    unused: str | None = Field(default=None, description="why flsdb does not use the column")
    aliases: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _field_or_unused(self) -> Column:
        if (self.field is None) == (self.unused is None):
            raise ValueError(f"column {self.header}: give either field or unused")
        return self


class Layout(_Frozen):
    """The columns of a file in order, and the labels this layout writes differently."""

    description: str
    columns: tuple[Column, ...]
    # code set -> code -> the label written for it (e.g. the 2023 layout's coarser sites).
    export_labels: dict[str, dict[str, str]] = Field(default_factory=dict)


class TextSpec(_Frozen):
    """What a CSV file of this source may be: its encodings (tried in order) and delimiters."""

    encodings: tuple[Literal["utf-8", "windows-1252"], ...] = ("utf-8",)
    delimiters: tuple[Literal[",", ";"], ...] = (",",)
    # Written back: Windows-1252 or UTF-8 with a byte-order mark ('utf-8-sig').
    export_encoding: Literal["utf-8", "utf-8-sig", "windows-1252"] = "utf-8"


class DateSpec(_Frozen):
    """Date formats read (in order), the one written, and how to say it to a person."""

    read: tuple[str, ...]
    write: str
    help: str


class LossyLabel(_Frozen):
    """A label that maps to a coarser code: stored with a warning that detail is lost."""

    code: str
    warning: str


class Profile(_Frozen):
    """A mapping profile: another system's columns, labels, dates and encodings."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,30}$")
    title: str
    description: str
    # `question`: a column is matched by the FLS-DB question number its title starts with (the
    # dictionary's `question`), whatever title follows; `name`: by the column's name.
    match: Literal["question", "name"]
    # `labels`: values are read through the label tables; `codes`: values are flsdb's own codes.
    values: Literal["labels", "codes"]
    # flsdb's own column names are accepted besides the layout's.
    dictionary_names: bool = False
    # What a column the profile does not know is: an error, or information (listed, not used).
    unknown_columns: Literal["error", "info"] = "error"
    # Fields the file has no column for: `keep` leaves a stored record's values as they are (a
    # new record has them blank); `blank` clears them, as an upload in flsdb's format does.
    absent_fields: Literal["keep", "blank"] = "blank"
    text: TextSpec = Field(default_factory=TextSpec)
    dates: DateSpec | None = None
    separator: str = ";"
    # Garbled text (double-encoded characters) replaced before a label is read.
    repairs: dict[str, str] = Field(default_factory=dict)
    # Labels that mean `not_known` in every field (blank in a field without `not_known`).
    not_known: tuple[str, ...] = ()
    # code set -> code -> labels; the first label of a code is the one written on export.
    labels: dict[str, dict[str, tuple[str, ...]]] = Field(default_factory=dict)
    # code set -> label -> the coarser code it is stored as, with the warning.
    lossy: dict[str, dict[str, LossyLabel]] = Field(default_factory=dict)
    layouts: dict[str, Layout] = Field(default_factory=dict)
    default_layout: str | None = None
    # Readings where the mapping is a judgement, shown in the documentation.
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _default_layout_exists(self) -> Profile:
        if self.layouts and self.default_layout not in self.layouts:
            raise ValueError(f"default_layout must be one of {sorted(self.layouts)}")
        if self.values == "labels" and self.dates is None:
            raise ValueError("a profile that reads labels needs its date formats (dates)")
        return self

    @cached_property
    def known_columns(self) -> tuple[Column, ...]:
        """Every column of every layout, once per header (first layout first)."""
        seen: dict[str, Column] = {}
        for layout in self.layouts.values():
            for column in layout.columns:
                seen.setdefault(name_key(column.header), column)
        return tuple(seen.values())

    def layout(self, name: str | None = None) -> Layout | None:
        """A layout by name (the default when none is named); None for a profile without."""
        if not self.layouts:
            return None
        return self.layouts[name or self.default_layout or ""]

    def check(self, dictionary: Dictionary) -> None:
        """Every field, code set and code the profile names exists in the dictionary, and every
        layout column numbered as the dictionary numbers its field."""
        problems: list[str] = []
        fields = dictionary.record_fields
        targets = [(f"labels {s}", s, tuple(codes)) for s, codes in self.labels.items()]
        targets += [
            (f"lossy {s}", s, tuple(label.code for label in labels.values()))
            for s, labels in self.lossy.items()
        ]
        targets += [
            (f"layout {n} export_labels {s}", s, tuple(codes))
            for n, layout in self.layouts.items()
            for s, codes in layout.export_labels.items()
        ]
        for where, codeset, codes in targets:
            if codeset not in dictionary.codesets:
                problems.append(f"{where}: unknown code set")
                continue
            known = dictionary.codesets[codeset].codes
            problems += [f"{where}: unknown code {c}" for c in codes if c not in known]
        for name, layout in self.layouts.items():
            for column in layout.columns:
                if column.field is not None:
                    spec = fields.get(column.field)
                    if spec is None:
                        problems.append(f"layout {name}: unknown field {column.field}")
                    elif self.match == "question" and question_of(column.header) != spec.question:
                        problems.append(
                            f"layout {name}: {column.header} is not question {spec.question}"
                        )
                elif self.match == "question" and (number := question_of(column.header)):
                    used = {f.question for f in dictionary.records}
                    if number in used:
                        problems.append(f"layout {name}: {column.header} is a used question")
        if problems:
            raise ValueError(f"profile {self.name}: " + "; ".join(problems))
