"""The packaged profiles are data checked on load: unknown keys, codes and fields are refused,
every label the national export writes reads as a code of the dictionary, and the
documentation shows every column, label and judgement."""

from __future__ import annotations

from importlib import resources

import pydantic
import pytest
import yaml

from flsdb.dictionary import load_dictionary
from flsdb.errors import ConfigurationError
from flsdb.profiles import Profile, load_profile, profile_names
from flsdb.profiles.columns import plan_columns
from flsdb.profiles.docs import profile_markdown
from flsdb.profiles.labels import all_field_labels
from flsdb.profiles.schema import question_of

# Every label the issue lists, with the code an audit team reads it as, per field.
NATIONAL_LABELS = {
    "care_home_resident": {"Yes": "yes", "No": "no", "Don't know": "not_known"},
    "bone_therapy_recommended": {
        "Alendronate": "alendronate",
        "Zoledronate": "zoledronate",
        "Denosumab": "denosumab",
        "Systemic Oestrogens": "hrt",
        "Inappropriate": "inappropriate",
        "Informed decline": "informed_decline",
        "Referred for further clinical opinion": "referred_clinical_opinion",
        "Referred to GP to decide prescription": "referred_to_gp",
        "Don't know": "not_known",
    },
    "bone_therapy_16w": {
        "Not started": "not_started",
        "No longer appropriate": "no_longer_appropriate",
        "Refer for clinical opinion": "referred_clinical_opinion",
        "Informed decline": "informed_decline",
        "Alendronate": "alendronate",
    },
    "fracture_site": {
        "Spine": "spine",
        "Hip": "hip",
        "Humerus": "humerus",
        "Pelvis": "pelvis",
        "Wrist": "wrist",
        "Other": "other",
        "Non hip/non spine": "other",
    },
    "dxa": {"Not ordered": "not_ordered", "Performed": "performed", "Don't know": "not_known"},
    "fracture_type": {"Incidental vertebral": "incidental_vertebral", "Clinical": "clinical"},
    "falls_assessment": {"Yes": "assessed", "No": "not_done", "Referred": "referred"},
    "strength_balance_referred": {"Yes": "yes", "No": "no", "Not appropriate": "not_appropriate"},
    "bone_therapy_at_presentation": {"No": "none", "None": "none", "Denosumab": "denosumab"},
}


def test_both_profiles_load_flsdb_first() -> None:
    assert profile_names() == ("flsdb", "fls-db")
    assert load_profile().name == "flsdb"
    assert load_profile(" FLS-DB ").name == "fls-db"


def test_an_unknown_profile_is_refused_in_a_sentence() -> None:
    with pytest.raises(ConfigurationError, match="There is no mapping profile 'nhfd'; the "):
        load_profile("nhfd")


@pytest.mark.parametrize(("field", "labels"), NATIONAL_LABELS.items())
def test_every_national_label_reads_as_a_code(field: str, labels: dict[str, str]) -> None:
    tables = all_field_labels(load_profile("fls-db"), load_dictionary())
    dictionary = load_dictionary()
    codes = dictionary.codes(dictionary.record_fields[field])
    for label, code in labels.items():
        assert tables[field].code_of(label) == code, label
        assert code in codes


def test_dont_know_is_blank_where_a_field_has_no_not_known() -> None:
    tables = all_field_labels(load_profile("fls-db"), load_dictionary())
    assert tables["fracture_site_2"].code_of("Don't know") == ""
    assert tables["dxa_not_ordered_reason"].code_of("dont know") == ""
    assert tables["sex"].code_of("Unknown") == "not_known"


def test_the_2023_layout_writes_the_coarse_sites() -> None:
    tables = all_field_labels(load_profile("fls-db"), load_dictionary(), "2023")
    assert tables["fracture_site"].written == {
        "hip": "Hip",
        "spine": "Spine",
        "humerus": "Non hip/non spine",
        "pelvis": "Non hip/non spine",
        "wrist": "Non hip/non spine",
        "other": "Non hip/non spine",
    }


def _raw() -> dict:  # type: ignore[type-arg]
    text = resources.files("flsdb.profiles").joinpath("fls-db.yaml").read_text("utf-8")
    return yaml.safe_load(text)  # type: ignore[no-any-return]


def test_unknown_keys_are_refused() -> None:
    raw = _raw()
    raw["colums"] = []
    with pytest.raises(pydantic.ValidationError, match="colums"):
        Profile.model_validate(raw)
    raw = _raw()
    raw["layouts"]["2024"]["columns"][0]["feild"] = "nhs_number"
    with pytest.raises(pydantic.ValidationError, match="feild"):
        Profile.model_validate(raw)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r["labels"]["drug"].update(estrogen=["Estrogen"]), "unknown code estrogen"),
        (lambda r: r["labels"].update(sites={"hip": ["Hip"]}), "labels sites: unknown code set"),
        (
            lambda r: r["layouts"]["2024"]["columns"].append({"header": "1.10 X", "field": "dxa"}),
            "1.10 X is not question 3.01",
        ),
        (
            lambda r: r["layouts"]["2024"]["columns"].append({"header": "9.01 X", "field": "bmi"}),
            "unknown field bmi",
        ),
    ],
)
def test_names_the_dictionary_does_not_have_are_refused(change, problem) -> None:  # type: ignore[no-untyped-def]
    raw = _raw()
    change(raw)
    profile = Profile.model_validate(raw)
    with pytest.raises(ValueError, match=problem):
        profile.check(load_dictionary())


def test_a_label_read_as_two_codes_is_refused() -> None:
    raw = _raw()
    raw["labels"]["falls_assessment"]["not_indicated"].append("Yes")
    with pytest.raises(ValueError, match="the label 'Yes' of falls_assessment reads as both"):
        all_field_labels(Profile.model_validate(raw), load_dictionary())


def test_question_numbers() -> None:
    assert question_of("1.10 TypeOfFractue") == question_of("1.10 TypeOfFracture") == "1.10"
    assert question_of(" 5.04") == "5.04"
    assert question_of("1.101 x") is None
    assert question_of("Age Frac diagnosed") is None


def test_a_plan_from_the_header_alone() -> None:
    titles = ("1.01 NHSNo", "1.02 DOB", "1.10 TypeOfFracture", "Age at fracture", "Notes", "sex")
    plan = plan_columns(
        load_profile("fls-db"), load_dictionary(), tuple(t.lower() for t in titles), titles
    )
    assert plan.mapped == {
        "1.01 nhsno": "nhs_number",
        "1.02 dob": "date_of_birth",
        "1.10 typeoffracture": "fracture_type",
        "sex": "sex",
    }
    assert list(plan.unused) == ["age at fracture"]
    assert plan.unknown == ("notes",)
    assert not plan.has_service


def test_the_documentation_shows_every_column_label_and_judgement() -> None:
    profile = load_profile("fls-db")
    text = profile_markdown(profile, load_dictionary())
    layout = profile.layout()
    assert layout is not None
    for column in layout.columns:
        assert f"| {column.header}" in text
    for note in profile.notes:
        assert note in text
    for labels in NATIONAL_LABELS.values():
        for label in labels:
            if label not in ("None",):  # a second label of `none`; the first is shown
                assert label in text, label
    assert "windows-1252" not in text and "Windows-1252" in text


def test_the_readme_documents_every_profile_and_judgement() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "## Importing a national FLS-DB export" in readme
    for name in profile_names():
        assert f"`{name}`" in readme
    for phrase in (
        "5.01 RiskAssesByFLS",
        "5.10 Referrals",
        "`Systemic Oestrogens` is the drug",
        "`Refer for clinical opinion`",
        "1.06 DateFLSContact",
        "Windows-1252",
        "--layout 2023",
    ):
        assert phrase in readme, phrase
