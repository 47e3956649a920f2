"""The thresholds file: defaults, a user's file merged over them, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from flsdb.config import load_thresholds
from flsdb.errors import ConfigurationError
from flsdb.kpi import load_catalogue


def test_rag_thresholds_are_configuration() -> None:
    thresholds = load_thresholds()
    rate = {k: thresholds.rag_for(k) for k in ("kpi01", "kpi03", "kpi04", "kpi07")}
    assert rate["kpi04"].rate(80.0) == "green"  # type: ignore[union-attr]
    assert rate["kpi04"].rate(79.99) == "amber"  # type: ignore[union-attr]
    assert rate["kpi07"].rate(49.9) == "red"  # type: ignore[union-attr]
    assert rate["kpi03"].rate(10.0) == "amber"  # type: ignore[union-attr]
    assert rate["kpi01"].rate(4) == "green"  # type: ignore[union-attr]
    assert rate["kpi01"].rate(5) == "red"  # type: ignore[union-attr]
    assert thresholds.rag_for("hr01") is None


def test_every_threshold_names_a_catalogue_kpi() -> None:
    thresholds = load_thresholds()
    catalogue = load_catalogue()
    measures = {m.id for m in catalogue.measures}
    assert set(thresholds.rag.measures) <= measures
    assert {r.kpi for r in thresholds.recommendations} <= set(catalogue.kpi_ids)
    model = thresholds.model_80_50_80
    assert {*model.identify.ids, *model.recommend.ids, *model.follow_up.ids} <= set(
        catalogue.kpi_ids
    )


def test_a_user_file_changes_only_what_it_gives(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "suppression: {below: 10}\nrag:\n  measures:\n    kpi04: {green: 90, amber: 60}\n"
        "funnel: {overdispersion: none}\n"
    )
    thresholds = load_thresholds(path)
    assert thresholds.suppression.below == 10 and thresholds.suppression.label == "<10"
    assert thresholds.rag_for("kpi04").rate(85) == "amber"  # type: ignore[union-attr]
    assert thresholds.rag_for("kpi05").rate(85) == "green"  # type: ignore[union-attr]
    assert thresholds.funnel.overdispersion == "none"
    assert thresholds.funnel.method == "arcsine"
    assert thresholds.source.startswith("mine.yaml (sha256 ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("funnel: {method: magic}", "funnel.method"),
        ("suppression: {below: 0}", "suppression.below"),
        ("rag:\n  measures:\n    kpi04: nosuch\n", "unknown scheme 'nosuch'"),
        ("funnel: {alert: 0.99, alarm: 0.95}", "wider limit"),
        ("[1, 2", "not a readable YAML file"),
        ("- 1\n- 2\n", "must hold YAML mappings"),
        ("spc: {shift: 7, nonsense: 1}", "spc.nonsense"),
    ],
)
def test_bad_files_are_refused_with_one_sentence(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        load_thresholds(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Cannot read the thresholds file"):
        load_thresholds(tmp_path / "nope.yaml")
