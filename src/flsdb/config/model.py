"""Typed, frozen thresholds, validated on load; a user's file is merged over the defaults."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flsdb.errors import ConfigurationError

PACKAGED = "thresholds.yaml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rag(_Frozen):
    """Thresholds in percent (or a count when measure is numerator)."""

    green: float
    amber: float | None = None
    measure: Literal["percent", "numerator"] = "percent"
    direction: Literal["higher", "lower"] = "higher"

    def rates(self, values: NDArray[np.float64]) -> NDArray[np.object_]:
        """The rating of each value: "green", "amber" or "red" (None where it is NaN)."""
        values = np.asarray(values, dtype=float)
        none = np.zeros(len(values), dtype=bool)
        if self.direction == "lower":
            green = values < self.green
            amber = values < self.amber if self.amber is not None else none
        else:
            green = values >= self.green
            amber = values >= self.amber if self.amber is not None else none
        rated = np.where(green, "green", np.where(amber, "amber", "red")).astype(object)
        rated[np.isnan(values)] = None
        return rated

    def rate(self, value: float | None) -> str | None:
        """The rating of one value (`rates`)."""
        return None if value is None else self.rates(np.array([value], dtype=float))[0]

    def text(self) -> str:
        """Plain-English thresholds."""
        unit = "" if self.measure == "numerator" else "%"
        if self.direction == "lower":
            return f"green < {self.green:g}{unit}, else red"
        if self.amber is None:
            return f"green >= {self.green:g}{unit}, red < {self.green:g}{unit}"
        return (
            f"green >= {self.green:g}{unit}, amber {self.amber:g}{unit} to < {self.green:g}"
            f"{unit}, red < {self.amber:g}{unit}"
        )


class RagSettings(_Frozen):
    schemes: dict[str, Rag] = Field(default_factory=dict)
    measures: dict[str, Rag | str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _schemes_exist(self) -> RagSettings:
        for measure, rag in self.measures.items():
            if isinstance(rag, str) and rag not in self.schemes:
                raise ValueError(f"rag.measures.{measure}: unknown scheme '{rag}'")
        return self


class Suppression(_Frozen):
    """Counts from 1 to below - 1 are small; complement: also denominator - numerator."""

    below: int = Field(5, ge=1, le=100)
    complement: bool = True

    def small(self, value: float) -> bool:
        return 1 <= value < self.below

    @property
    def label(self) -> str:
        return f"<{self.below}"


class Caseload(_Frozen):
    rate: float = Field(0.015, gt=0, lt=1)
    spine_share: float = Field(0.20, ge=0, le=1)


class FunnelSettings(_Frozen):
    method: Literal["wilson", "arcsine", "exact"] = "arcsine"
    overdispersion: Literal["none", "multiplicative", "additive"] = "additive"
    winsorise: float = Field(0.10, ge=0, lt=0.5)
    alert: float = Field(0.95, gt=0.5, lt=1)
    alarm: float = Field(0.998, gt=0.5, lt=1)

    @model_validator(mode="after")
    def _alarm_outside_alert(self) -> FunnelSettings:
        if self.alarm <= self.alert:
            raise ValueError("funnel.alarm must be a wider limit than funnel.alert")
        return self


class SpcSettings(_Frozen):
    months: int = Field(24, ge=2, le=120)
    baseline_months: int | None = Field(12, ge=2)
    baseline_from: str | None = None  # YYYY-MM, with baseline_to: a fixed baseline range
    baseline_to: str | None = None
    shift: int = Field(7, ge=2)
    trend: int = Field(7, ge=2)
    chart: Literal["p", "pprime"] = "p"
    # Patients a point needs (the median over the points) for process limits: below it an
    # FLS's months are charted by quarter, and below it by quarter too, as a run chart.
    min_denominator: int = Field(20, ge=1)


class ModelPart(_Frozen):
    kpi: str | None = None
    kpis: tuple[str, ...] = ()
    at_least: float

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.kpi,) if self.kpi else self.kpis


class Model805080(_Frozen):
    identify: ModelPart
    recommend: ModelPart
    follow_up: ModelPart


class Recommendation(_Frozen):
    """A rule that turns a KPI result into a recommendation, with its threshold stated."""

    kpi: str
    level: Literal["region", "service"]
    # below: the value is under the threshold; at_least: it is the threshold or more (for a
    # measure where lower is better, such as kpi01's count of fields); alarm_low: below the
    # outer funnel limit.
    test: Literal["below", "at_least", "alarm_low"]
    audience: str
    text: str
    threshold: float | None = None
    # What the threshold compares: the percentage, or the numerator (kpi01 counts key fields).
    measure: Literal["percent", "numerator"] = "percent"

    @model_validator(mode="after")
    def _threshold_for_below(self) -> Recommendation:
        if self.test in ("below", "at_least") and self.threshold is None:
            raise ValueError(f"recommendation for {self.kpi}: '{self.test}' needs a threshold")
        return self

    def threshold_words(self) -> str:
        """The threshold in words: 'below 80%', '5 or more key fields', ..."""
        if self.test == "alarm_low":
            return "below the outer funnel limit (alarm level)"
        unit = "%" if self.measure == "percent" else ""
        if self.test == "below":
            return f"below {self.threshold:g}{unit}"
        return f"{self.threshold:g}{unit} or more"

    def sentence(self) -> str:
        return self.text.format(threshold=self.threshold or 0)


class Thresholds(_Frozen):
    version: str
    rag: RagSettings
    suppression: Suppression = Suppression()
    caseload: Caseload = Caseload()
    funnel: FunnelSettings = FunnelSettings()
    spc: SpcSettings = SpcSettings()
    model_80_50_80: Model805080
    recommendations: tuple[Recommendation, ...] = ()
    # Where these came from, for the reports to cite (set by load_thresholds).
    source: str = "packaged defaults"

    def rag_for(self, measure_id: str) -> Rag | None:
        rag = self.rag.measures.get(measure_id)
        return self.rag.schemes[rag] if isinstance(rag, str) else rag


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (lists, numbers) is replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _packaged() -> dict[str, Any]:
    text = resources.files("flsdb.config").joinpath(PACKAGED).read_text("utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "the file"
    # pydantic names its own classes ("or instance of RagSettings"): not for the user.
    message = re.sub(r" or instance of \w+", "", str(first["msg"]))
    return f"{where}: {message}"


@cache
def _defaults() -> Thresholds:
    return Thresholds.model_validate(_packaged())


def load_thresholds(path: Path | None = None) -> Thresholds:
    """The packaged thresholds, with a user's YAML file (if given) merged over them."""
    if path is None:
        return _defaults()
    try:
        raw = path.read_bytes()
        user = yaml.safe_load(raw.decode("utf-8")) or {}
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read the thresholds file {path}: {exc.strerror}."
        ) from None
    except (UnicodeDecodeError, yaml.YAMLError):
        raise ConfigurationError(f"{path} is not a readable YAML file.") from None
    if not isinstance(user, dict):
        raise ConfigurationError(f"{path} must hold YAML mappings like the packaged thresholds.")
    user.pop("source", None)
    try:
        merged = Thresholds.model_validate(_merge(_packaged(), user))
    except ValidationError as exc:
        raise ConfigurationError(f"{path}: {_first_error(exc)}") from None
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return merged.model_copy(update={"source": f"{path.name} (sha256 {digest}…)"})
