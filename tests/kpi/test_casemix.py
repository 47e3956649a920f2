"""The treatment mix keeps a decision not to treat apart from a missing answer, and the case-mix
and reasons count every record once (hand-counted records)."""

from __future__ import annotations

from pathlib import Path

from flsdb.kpi import parse_period
from flsdb.kpi.casemix import counts_by_field
from flsdb.kpi.mix import MIX_GROUPS, treatment_mix
from flsdb.kpi.sources import source_from_files
from tests.factory import nhs_number, record, write_records, write_services
from tests.kpi.cases import AS_OF

# FLS01: one drug, one informed decline, one referred to the GP, one not known, one blank;
# sites: 2 hip, 1 spine, 2 wrist.
RECOMMENDED = [
    ("alendronate", "hip"),
    ("informed_decline", "hip"),
    ("referred_to_gp", "spine"),
    ("not_known", "wrist"),
    ("", "wrist"),
]


def _source(tmp_path: Path):
    rows = [
        record(nhs_number=nhs_number(i), bone_therapy_recommended=drug, fracture_site=site)
        for i, (drug, site) in enumerate(RECOMMENDED, start=1)
    ]
    return source_from_files(
        write_records(tmp_path / "r.csv", rows),
        write_services(tmp_path / "s.csv"),
        upload_date=AS_OF,
    )


def test_no_drug_is_a_decision_or_not_recorded(tmp_path: Path) -> None:
    mix = treatment_mix(_source(tmp_path), parse_period("2024")).set_index("service_code")
    assert MIX_GROUPS[-2:] == ("decision", "not_recorded")
    fls = mix.loc["FLS01"]
    assert (fls["oral_bisphosphonate"], fls["decision"], fls["not_recorded"]) == (1, 2, 2)
    assert fls["records"] == 5
    assert mix.loc["FLS02", "records"] == 0  # every FLS has a row


def test_sites_and_reasons_per_fls(tmp_path: Path) -> None:
    source = _source(tmp_path)
    period = parse_period("2024")
    sites = counts_by_field(source, period, "fracture_site").set_index("service_code")
    assert list(sites.columns) == [
        "hip", "spine", "humerus", "pelvis", "wrist", "other", "not_recorded"
    ]  # fmt: skip
    assert sites.loc["FLS01"].tolist() == [2, 1, 0, 0, 2, 0, 0]
    reasons = counts_by_field(source, period, "bone_therapy_recommended").set_index("service_code")
    # The drug is left out; each outcome once; the blank is not recorded.
    assert reasons.loc["FLS01"].to_dict() == {
        "inappropriate": 0,
        "informed_decline": 1,
        "referred_clinical_opinion": 0,
        "referred_to_gp": 1,
        "not_known": 1,
        "not_recorded": 1,
    }
