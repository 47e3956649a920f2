"""Hand-built records whose KPI values were computed by hand (see test_kpis.py)."""

from __future__ import annotations

import datetime as dt

from tests.factory import nhs_number, record

# Due at 90 days: fracture <= 2024-12-01; at 16 weeks: <= 2024-11-09; at 52 weeks: <= 2024-02-03.
AS_OF = dt.date(2025, 3, 1)


def _r(i: int, **changes: object) -> dict[str, str]:
    return record(nhs_number=nhs_number(i), **changes)


ROWS = [
    # R1: hip; assessed at exactly 90 days; DXA at 91 days; full follow-up at 112 and 392 days.
    _r(
        1,
        date_fracture_diagnosed="2024-01-10",
        fracture_site="hip",
        date_fls_assessment="2024-04-09",
        dxa="performed",
        date_dxa="2024-04-10",
        bone_therapy_recommended="alendronate",
        followup_16w="yes",
        date_followup_16w="2024-05-01",
        bone_therapy_16w="alendronate",
        strength_balance_started_16w="yes",
        followup_52w="yes",
        date_followup_52w="2025-02-05",
        bone_therapy_52w="alendronate",
        falls_assessment="assessed",
        fallen_past_12_months="yes",
        two_or_more_falls="yes",
    ),
    # R2: spine, T-score -3.6, anabolic; assessed at 91 days; follow-up at 113 days.
    _r(
        2,
        date_fracture_diagnosed="2024-01-20",
        fracture_site="spine",
        t_score="-3.6",
        dxa="performed",
        date_dxa="2024-02-01",
        bone_therapy_recommended="teriparatide",
        date_fls_assessment="2024-04-20",
        followup_16w="yes",
        date_followup_16w="2024-05-12",
        bone_therapy_16w="teriparatide",
        strength_balance_started_16w="yes",
        followup_52w="no",
        falls_assessment="referred",
        fallen_past_12_months="no",
    ),
    # R3: wrist, aged exactly 50; outcome code, not a drug.
    _r(
        3,
        date_fracture_diagnosed="2024-06-01",
        date_of_birth="1974-06-01",
        bone_therapy_recommended="informed_decline",
        falls_assessment="not_done",
        fallen_past_12_months="not_known",
        strength_balance_started_16w="no",
        followup_16w="no",
    ),
    # R4: humerus, not yet due at 16 weeks; assessed on the day.
    _r(
        4,
        date_fracture_diagnosed="2024-12-01",
        fracture_site="humerus",
        bone_therapy_recommended="denosumab;alfacalcidol",
        date_fls_assessment="2024-12-01",
        falls_assessment="assessed",
        fallen_past_12_months="yes",
        living_with_frailty="yes",
    ),
    # R5: other site, male, care home, aged 85; nothing recommended.
    _r(
        5,
        date_fracture_diagnosed="2024-03-15",
        fracture_site="other",
        sex="male",
        care_home_resident="yes",
        date_of_birth="1939-03-15",
        fallen_past_12_months="yes",
        unable_to_get_up="no",
    ),
    # R6: pelvis, due at 16 weeks on as_of exactly; follow-up at 111 days, not started.
    _r(
        6,
        date_fracture_diagnosed="2024-11-09",
        fracture_site="pelvis",
        bone_therapy_recommended="zoledronate",
        followup_16w="yes",
        date_followup_16w="2025-02-28",
        bone_therapy_16w="not_started",
        strength_balance_started_16w="no",
    ),
    # R7: wrist, one day short of due at 16 weeks.
    _r(7, date_fracture_diagnosed="2024-11-10", bone_therapy_recommended="risedronate"),
    # R8: FLS02, spine, T-score exactly -3.5, oral bisphosphonate.
    _r(
        8,
        service_code="FLS02",
        date_fracture_diagnosed="2024-05-05",
        fracture_site="spine",
        t_score="-3.5",
        dxa="performed",
        date_dxa="2024-05-05",
        bone_therapy_recommended="alendronate",
        date_fls_assessment="2024-05-05",
    ),
    # R9: Wales, hip, aged 84.
    _r(
        9,
        service_code="WAL01",
        date_fracture_diagnosed="2024-07-07",
        fracture_site="hip",
        date_of_birth="1939-07-08",
        bone_therapy_recommended="romosozumab",
        followup_16w="yes",
        date_followup_16w="2024-10-01",
        bone_therapy_16w="romosozumab",
        care_home_resident="no",
    ),
    # R10: before the period.
    _r(10, date_fracture_diagnosed="2023-12-31", fracture_site="spine"),
]

# kpi: (numerator, denominator, percent, rag, not_due) for nation = all, period 2024.
EXPECTED_ALL = {
    # Nationally kpi01 is the share of FLSs with green completeness: none of the three here.
    "kpi01": (0, 3, 0.0, None, None),
    "kpi02": (9, 400, 2.3, "red", None),
    "kpi02_spine": (2, 80, 2.5, "red", None),
    "kpi02_non_spine": (7, 320, 2.2, "red", None),
    "kpi03": (2, 9, 22.2, "green", None),
    # Every 2024 fracture is due at 90 days on AS_OF (R4's 90th day is 2025-03-01 exactly).
    "kpi04": (3, 9, 33.3, "red", 0),
    "kpi05": (2, 9, 22.2, "red", 0),
    "kpi06": (3, 9, 33.3, "red", None),
    "kpi07": (7, 9, 77.8, "green", None),
    "kpi08": (1, 5, 20.0, "red", 2),
    "kpi09": (3, 5, 60.0, "amber", 2),
    "kpi10": (2, 5, 40.0, "red", 2),
    "kpi11": (1, 2, 50.0, "amber", 5),
    "hr01": (8, 9, 88.9, None, None),
    "hr02": (7, 8, 87.5, "green", None),
    "hr03": (3, 5, 60.0, "amber", 2),
    "hr04": (1, 2, 50.0, None, None),
    "fa01": (4, 9, 44.4, "red", None),
    "fa02": (2, 2, 100.0, "green", None),
}
