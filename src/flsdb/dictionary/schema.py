"""Typed, frozen model of the data dictionary, validated when it is loaded."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FieldType = Literal[
    "text", "code", "date", "integer", "number", "nhs_number", "postcode", "therapy", "service_ref"
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CodeSet(_Frozen):
    codes: tuple[str, ...]
    groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _groups_use_codes(self) -> CodeSet:
        for group, members in self.groups.items():
            unknown = set(members) - set(self.codes)
            if unknown:
                raise ValueError(f"group {group} names unknown codes {sorted(unknown)}")
        return self


class AgeRange(_Frozen):
    min: int
    max: int


class RequiresWhen(_Frozen):
    value: str
    column: str


class WarnUnless(_Frozen):
    column: str
    value: str
    message: str


class WeekWindow(_Frozen):
    min: int
    max: int


class FieldSpec(_Frozen):
    """One column of an upload file, with the rules that apply to its values."""

    name: str
    type: FieldType
    label: str
    help: str
    required: bool = False
    question: str | None = None
    identifiable: bool = False
    unique: bool = False
    uppercase: bool = False
    codes: str | None = None
    drugs: str | None = None
    outcomes: str | None = None
    multiple: bool = True
    pattern: str | None = None
    pattern_help: str | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    min_date: dt.date | None = None
    not_before: tuple[str, ...] = ()
    warn_before: tuple[str, ...] = ()
    warn_window_weeks: WeekWindow | None = None
    warn_unless: WarnUnless | None = None
    requires_when: RequiresWhen | None = None
    # The record form shows the field only when `column` holds `value` (display only).
    shown_when: RequiresWhen | None = None
    date_pair: str | None = None
    # What a blank means when it is an answer ("not assessed"): such a field is never counted
    # as missing on the worklist of records missing key fields.
    blank_means: str | None = None
    age_at_fracture: AgeRange | None = None


class Dictionary(_Frozen):
    """The whole dictionary: code sets, the services file and the records file."""

    version: str
    codesets: dict[str, CodeSet]
    sections: dict[str, str] = Field(default_factory=dict)
    services: tuple[FieldSpec, ...]
    records: tuple[FieldSpec, ...]
    record_key: tuple[str, ...]

    @model_validator(mode="after")
    def _references_resolve(self) -> Dictionary:
        for table in (self.services, self.records):
            names = [f.name for f in table]
            if len(names) != len(set(names)):
                raise ValueError("duplicated field name")
            for spec in table:
                for ref in (spec.codes, spec.drugs, spec.outcomes):
                    if ref is not None and ref not in self.codesets:
                        raise ValueError(f"{spec.name}: unknown code set {ref}")
                if spec.type == "code" and spec.codes is None:
                    raise ValueError(f"{spec.name}: a code field needs a code set")
                if spec.type == "therapy" and (spec.drugs is None or spec.outcomes is None):
                    raise ValueError(f"{spec.name}: a therapy field needs drugs and outcomes")
                columns = [*spec.not_before, *spec.warn_before]
                columns += [x.column for x in (spec.requires_when, spec.warn_unless) if x]
                columns += [spec.date_pair] if spec.date_pair else []
                for column in columns:
                    if column not in names:
                        raise ValueError(f"{spec.name}: refers to unknown column {column}")
        missing_key = set(self.record_key) - {f.name for f in self.records}
        if missing_key:
            raise ValueError(f"record key names unknown columns {sorted(missing_key)}")
        return self

    def codes(self, spec: FieldSpec) -> tuple[str, ...]:
        """Every code a field accepts (drugs and outcomes for a therapy field)."""
        if spec.type == "therapy":
            assert spec.drugs and spec.outcomes
            return self.codesets[spec.drugs].codes + self.codesets[spec.outcomes].codes
        return self.codesets[spec.codes].codes if spec.codes else ()

    def outcome_codes(self, spec: FieldSpec) -> tuple[str, ...]:
        assert spec.outcomes is not None
        return self.codesets[spec.outcomes].codes

    def drug_codes(self) -> tuple[str, ...]:
        return self.codesets["drug"].codes

    def drug_groups(self) -> dict[str, tuple[str, ...]]:
        return self.codesets["drug"].groups

    @cached_property
    def record_fields(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.records}

    @cached_property
    def service_fields(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.services}

    def fields(self, kind: Literal["records", "services"]) -> tuple[FieldSpec, ...]:
        return self.records if kind == "records" else self.services

    def labels(self, kind: Literal["records", "services"] = "records") -> dict[str, str]:
        """Each field's label by its name, as pages, reports and messages show it."""
        return {f.name: f.label for f in self.fields(kind)}
