"""Typed, frozen model of the KPI catalogue, checked against the data dictionary on load."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from flsdb.dictionary import load_dictionary


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ColumnValue(_Frozen):
    column: str
    value: str


class ColumnValues(_Frozen):
    column: str
    values: tuple[str, ...]


class ColumnDays(_Frozen):
    column: str
    days: int


class ColumnNumber(_Frozen):
    column: str
    value: float


class Condition(_Frozen):
    """A record filter; exactly one key is set."""

    all_of: tuple[Condition, ...] | None = Field(None, alias="all")
    any_of: tuple[Condition, ...] | None = Field(None, alias="any")
    not_: Condition | None = Field(None, alias="not")
    ref: str | None = None
    equals: ColumnValue | None = None
    in_: ColumnValues | None = Field(None, alias="in")
    within_days: ColumnDays | None = None
    holds_drug: str | None = None
    holds_any: ColumnValues | None = None
    at_most: ColumnNumber | None = None
    due: str | None = None

    @model_validator(mode="after")
    def _one_key(self) -> Condition:
        set_keys = [k for k, v in self if v is not None]
        if len(set_keys) != 1:
            raise ValueError(f"a condition has exactly one key, found {set_keys or 'none'}")
        return self

    def columns(self) -> set[str]:
        """Every record column the condition reads."""
        found: set[str] = set()
        for _, value in self:
            if isinstance(value, tuple):
                for child in value:
                    found |= child.columns()
            elif isinstance(value, Condition):
                found |= value.columns()
            elif isinstance(value, ColumnValue | ColumnValues | ColumnDays | ColumnNumber):
                found.add(value.column)
        if self.holds_drug:
            found.add(self.holds_drug)
        return found

    def refs(self) -> set[str]:
        found = {self.ref} if self.ref else set()
        for child in (*(self.all_of or ()), *(self.any_of or ()), self.not_):
            if child is not None:
                found |= child.refs()
        return found

    def dues(self) -> set[str]:
        found = {self.due} if self.due else set()
        for child in (*(self.all_of or ()), *(self.any_of or ()), self.not_):
            if child is not None:
                found |= child.dues()
        return found


class KeyField(_Frozen):
    column: str
    applicable: Condition | None = None


class CaseloadPart(_Frozen):
    name: str
    description: str | None = None
    records: Condition | None = None
    expected: Literal["all", "spine", "non_spine"] = "all"


class Measure(_Frozen):
    id: str
    name: str
    description: str
    kind: Literal["proportion", "completeness", "caseload"] = "proportion"
    # Which way is better, for SPC signals and recommendations.
    direction: Literal["higher", "lower", "neither"] = "higher"
    numerator: Condition | None = None
    denominator: Condition | None = None
    due: str | None = None
    key_fields: tuple[KeyField, ...] = ()
    missing_threshold: float = 20.0
    parts: dict[str, CaseloadPart] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shape(self) -> Measure:
        if self.kind == "proportion" and self.numerator is None:
            raise ValueError(f"{self.id}: a proportion needs a numerator")
        if self.kind == "completeness" and not self.key_fields:
            raise ValueError(f"{self.id}: completeness needs key_fields")
        if self.kind == "caseload" and self.id not in self.parts:
            raise ValueError(f"{self.id}: a caseload measure lists itself among its parts")
        return self

    def conditions(self) -> list[Condition]:
        found = [c for c in (self.numerator, self.denominator) if c is not None]
        found += [k.applicable for k in self.key_fields if k.applicable is not None]
        found += [p.records for p in self.parts.values() if p.records is not None]
        return found

    @property
    def output_ids(self) -> tuple[str, ...]:
        """The KPI ids this measure reports (a caseload measure reports its parts)."""
        return tuple(self.parts) if self.kind == "caseload" else (self.id,)


class Catalogue(_Frozen):
    version: str
    due_windows: dict[str, int]
    definitions: dict[str, Condition]
    measures: tuple[Measure, ...]

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalogue:
        columns = set(load_dictionary().record_fields)
        ids = [m.id for m in self.measures]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicated measure id")
        conditions = [c for m in self.measures for c in m.conditions()]
        conditions += list(self.definitions.values())
        for condition in conditions:
            unknown = condition.columns() - columns
            if unknown:
                raise ValueError(f"condition reads unknown columns {sorted(unknown)}")
            if condition.refs() - set(self.definitions):
                raise ValueError(f"unknown definitions {sorted(condition.refs())}")
            if condition.dues() - set(self.due_windows):
                raise ValueError(f"unknown due windows {sorted(condition.dues())}")
        for measure in self.measures:
            if measure.due is not None and measure.due not in self.due_windows:
                raise ValueError(f"{measure.id}: unknown due window {measure.due}")
            for key in measure.key_fields:
                if key.column not in columns:
                    raise ValueError(f"{measure.id}: unknown key field {key.column}")
        return self

    def measure(self, measure_id: str) -> Measure:
        for measure in self.measures:
            if measure_id in (measure.id, *measure.output_ids):
                return measure
        raise KeyError(measure_id)

    def name(self, kpi: str) -> str:
        """The name of a KPI id (a caseload part has its own)."""
        measure = self.measure(kpi)
        return measure.parts[kpi].name if kpi in measure.parts else measure.name

    def description(self, kpi: str) -> str:
        """The definition of a KPI id in words (a caseload part has its own)."""
        measure = self.measure(kpi)
        part = measure.parts.get(kpi)
        return part.description if part and part.description else measure.description

    @property
    def kpi_ids(self) -> tuple[str, ...]:
        return tuple(i for m in self.measures for i in m.output_ids)


@cache
def load_catalogue() -> Catalogue:
    """Load the packaged catalogue (cached: it is immutable)."""
    text = resources.files("flsdb.kpi").joinpath("catalogue.yaml").read_text("utf-8")
    return Catalogue.model_validate(yaml.safe_load(text))
