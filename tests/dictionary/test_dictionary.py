"""The dictionary and catalogue are the single source: validated, complete, documented."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from flsdb.dictionary import load_dictionary
from flsdb.dictionary.docs import dictionary_markdown
from flsdb.dictionary.schema import Dictionary
from flsdb.kpi import load_catalogue
from flsdb.reports.methodology import methodology_markdown

SPEC_RECORD_COLUMNS = [
    "service_code",
    "nhs_number",
    "date_of_birth",
    "sex",
    "postcode",
    "care_home_resident",
    "date_fls_assessment",
    "admitted_to_hospital",
    "date_fracture_diagnosed",
    "fracture_type",
    "fracture_site",
    "fracture_site_2",
    "fracture_site_3",
    "previous_fracture",
    "bone_therapy_at_presentation",
    "dxa",
    "dxa_not_ordered_reason",
    "date_dxa",
    "t_score",
    "bone_therapy_recommended",
    "calcium_vitamin_d_recommended",
    "falls_assessment",
    "fallen_past_12_months",
    "two_or_more_falls",
    "fear_of_falling",
    "unable_to_get_up",
    "loss_of_consciousness",
    "living_with_frailty",
    "strength_balance_referred",
    "followup_16w",
    "date_followup_16w",
    "bone_therapy_16w",
    "strength_balance_started_16w",
    "followup_52w",
    "date_followup_52w",
    "bone_therapy_52w",
    "refractures_since_index",
]


def test_record_columns_follow_the_spec_in_order() -> None:
    assert [f.name for f in load_dictionary().records] == SPEC_RECORD_COLUMNS


def test_every_field_is_documented() -> None:
    text = dictionary_markdown(load_dictionary())
    for spec in (*load_dictionary().records, *load_dictionary().services):
        assert f"| `{spec.name}` |" in text


def test_every_kpi_is_in_the_methodology_and_readme() -> None:
    from pathlib import Path

    text = methodology_markdown(load_catalogue())
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert text in readme, "README methodology is stale: run `flsdb methodology` and paste it"
    for kpi in load_catalogue().kpi_ids:
        assert f"| {kpi} |" in text


def test_unknown_keys_and_codesets_are_rejected() -> None:
    raw = yaml.safe_load(
        (
            __import__("importlib.resources").resources.files("flsdb.dictionary")
            / "dictionary.yaml"
        ).read_text()
    )
    raw["records"][3]["codez"] = "sex"
    with pytest.raises(ValidationError):
        Dictionary.model_validate(raw)
    del raw["records"][3]["codez"]
    raw["records"][3]["codes"] = "no_such_codes"
    with pytest.raises(ValidationError, match="unknown code set"):
        Dictionary.model_validate(raw)
