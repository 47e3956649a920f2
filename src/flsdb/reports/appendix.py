"""Appendix A for the readers of the national report: every measure in words (who is counted, of
whom, and the target), how the figures are counted, and how to read the statistics, without
formulas. The words for each measure are data (kpi/definitions.yaml); the targets come from the
thresholds file. The technical methods (conditions, formulas) are the README's methodology."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from flsdb.config import Rag, Thresholds
from flsdb.kpi.caseload import CrudeRateEstimator
from flsdb.kpi.catalogue import Catalogue


@cache
def _definitions() -> dict[str, object]:
    text = resources.files("flsdb.kpi").joinpath("definitions.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def measure_words() -> dict[str, dict[str, str]]:
    """kpi -> {"counted": ..., "out_of": ...}."""
    return dict(_definitions()["measures"])  # type: ignore[call-overload]


def target_words(rag: Rag | None) -> str:
    """A RAG rating in words: 'green at 80% or more, amber 50% to under 80%, red under 50%'."""
    if rag is None:
        return "no target (reported for information)"
    unit = "" if rag.measure == "numerator" else "%"
    green = f"{rag.green:g}{unit}"
    if rag.direction == "lower":
        return f"green under {green}, red at {green} or more"
    if rag.amber is None:
        return f"green at {green} or more, red under {green}"
    amber = f"{rag.amber:g}{unit}"
    return f"green at {green} or more, amber {amber} to under {green}, red under {amber}"


@dataclass(frozen=True)
class Definition:
    kpi: str
    name: str
    counted: str
    out_of: str
    target: str


def reader_definitions(catalogue: Catalogue, thresholds: Thresholds) -> list[Definition]:
    words = measure_words()
    out = []
    for kpi in catalogue.kpi_ids:
        entry = words.get(kpi, {})
        rag = thresholds.rag_for(catalogue.measure(kpi).id)
        target = target_words(rag)
        if kpi == "kpi01" and rag is not None:
            target = (
                f"an FLS: green with fewer than {rag.green:g} key questions more than 20% missing, "
                "else red; regions and nations have no rating"
            )
        out.append(
            Definition(
                kpi,
                catalogue.name(kpi),
                entry.get("counted", catalogue.description(kpi)),
                entry.get("out_of", ""),
                target,
            )
        )
    return out


def counting_rules(thresholds: Thresholds) -> list[str]:
    """How the figures are counted, in words, with the caseload estimate as configured."""
    rules = [str(r) for r in _definitions()["counting"]]  # type: ignore[attr-defined]
    estimator = CrudeRateEstimator.from_thresholds(thresholds)
    rules.append(
        "An FLS's expected caseload is the figure it gave in the services file or, where it gave "
        f"none, {estimator.rate:.1%} of its population aged 50 and over a year, "
        f"{estimator.spine_share:.0%} of them spine fractures."
    )
    return rules
