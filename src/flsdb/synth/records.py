"""Synthetic patient records, vectorised: realistic case mix, dates consistent with each other
and with the extract date, per-FLS performance and missingness."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from flsdb.dictionary import load_dictionary

SITES = ("hip", "spine", "humerus", "pelvis", "wrist", "other")
SITE_MIX_NON_SPINE = (0.13, 0.0, 0.13, 0.07, 0.27, 0.40)
AGE_BANDS = ((50, 65, 0.25), (65, 75, 0.27), (75, 85, 0.29), (85, 101, 0.19))
DRUG_MIX = {
    "alendronate": 0.50,
    "zoledronate": 0.15,
    "denosumab": 0.12,
    "risedronate": 0.08,
    "ibandronate": 0.02,
    "teriparatide": 0.04,
    "romosozumab": 0.04,
    "abaloparatide": 0.01,
    "raloxifene": 0.02,
    "hrt": 0.01,
    "alfacalcidol": 0.01,
}
RECOMMEND_OUTCOMES = (
    "inappropriate",
    "informed_decline",
    "referred_clinical_opinion",
    "referred_to_gp",
    "not_known",
)


def _series(name: str, values: np.ndarray | pl.Series | None, n: int) -> pl.Series:
    if isinstance(values, pl.Series):
        return values.alias(name)
    if values is None:
        return pl.Series(name, [None] * n, dtype=pl.String)
    if values.dtype == object or values.dtype.kind == "U":
        return pl.Series(name, values.tolist(), dtype=pl.String)
    return pl.Series(name, values)


class _Draw:
    """Helpers over one random generator and a number of rows."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng = rng
        self.n = n

    def chance(self, p: np.ndarray | float) -> np.ndarray:
        return self.rng.random(self.n) < p

    def pick(
        self, options: tuple[str, ...] | list[str], p: tuple[float, ...] | list[float]
    ) -> np.ndarray:
        weights = np.asarray(p, dtype=float)
        return np.asarray(options, dtype=object)[
            self.rng.choice(len(options), size=self.n, p=weights / weights.sum())
        ]

    def days(self, low: int, high: int) -> np.ndarray:
        return self.rng.integers(low, high + 1, self.n)


def nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct valid NHS numbers starting with 9 (never issued to patients), shuffled."""
    numbers = np.empty(0, dtype=np.int64)
    while len(numbers) < n:
        base = rng.integers(900_000_000, 999_999_999, int((n - len(numbers)) * 1.3) + 16)
        # Digit by digit: a (rows x 9) matrix of digits would take gigabytes for 10 million.
        total = np.zeros(len(base), dtype=np.int64)
        for weight, power in zip(range(10, 1, -1), range(8, -1, -1), strict=True):
            total += (base // 10**power % 10) * weight
        check = 11 - total % 11
        check = np.where(check == 11, 0, check)
        valid = check != 10
        numbers = np.unique(np.concatenate([numbers, base[valid] * 10 + check[valid]]))
    rng.shuffle(numbers)
    return numbers[:n]


def _postcodes(draw: _Draw) -> pl.Series:
    """Random postcodes (area, district, sector, unit), 5% not recorded; built by polars
    (numpy's character functions take seconds per million)."""
    rng, n = draw.rng, draw.n
    letters = pl.Series(list("ABCDEFGHJKLMNPRSTUWYZ"))
    area = rng.integers(0, len(letters), (n, 2))
    district = rng.integers(1, 30, n)
    sector = rng.integers(0, 10, n)
    unit = rng.integers(0, len(letters), (n, 2))
    blank = draw.chance(0.05)
    frame = pl.DataFrame(
        {
            "a": letters.gather(area[:, 0]),
            "b": letters.gather(area[:, 1]),
            "district": district,
            "sector": sector,
            "c": letters.gather(unit[:, 0]),
            "d": letters.gather(unit[:, 1]),
            "blank": blank,
        }
    )
    parts = ("a", "b", "district", " ", "sector", "c", "d")
    text = pl.concat_str([pl.lit(p) if p == " " else pl.col(p) for p in parts])
    return frame.select(
        postcode=pl.when(pl.col("blank")).then(pl.lit(None, pl.String)).otherwise(text)
    )["postcode"]


def _where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`values` where mask holds, None (not recorded) elsewhere."""
    out = np.asarray(values).astype(object)
    out[~mask] = None
    return out


def _blank(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = values.astype(object)
    out[mask] = None
    return out


def make_records(
    rng: np.random.Generator,
    services: pl.DataFrame,
    per_service: np.ndarray,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    patient_numbers: np.ndarray,
) -> pl.DataFrame:
    """Records for each service (counts in `per_service`) diagnosed between start and end."""
    n = int(per_service.sum())
    draw = _Draw(rng, n)
    index = np.repeat(np.arange(services.height), per_service)
    prof = {c: services[c].to_numpy()[index] for c in services.columns if c.startswith("p_")}
    span = (end - start).days
    fracture = np.datetime64(start) + rng.integers(0, span + 1, n).astype("timedelta64[D]")
    as_of64 = np.datetime64(as_of)

    band = draw.pick([str(i) for i in range(len(AGE_BANDS))], [b[2] for b in AGE_BANDS]).astype(int)
    lows = np.array([b[0] for b in AGE_BANDS])[band]
    highs = np.array([b[1] for b in AGE_BANDS])[band]
    # A few days' margin inside each band keeps whole-year ages within the audited range.
    age_days = (rng.uniform(lows + 0.02, highs - 0.02) * 365.25).astype(int)
    born = fracture - age_days.astype("timedelta64[D]")

    spine = draw.chance(prof["p_spine_share"])
    site = np.where(spine, "spine", draw.pick(SITES, SITE_MIX_NON_SPINE)).astype(object)
    higher_risk = site != "other"
    missing = prof["p_missingness"]

    def gap(low: int, high: int) -> np.ndarray:
        return draw.days(low, high).astype("timedelta64[D]")

    def by_as_of(dates: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Events after the extract date have not happened yet."""
        return keep & (dates <= as_of64)

    assessed_on_time = draw.chance(prof["p_assessed_90d"])
    assessed_late = ~assessed_on_time & draw.chance(0.5)
    assessment = np.where(assessed_on_time, fracture + gap(0, 90), fracture + gap(91, 240))
    has_assessment = by_as_of(assessment, assessed_on_time | assessed_late)

    dxa_on_time = draw.chance(prof["p_dxa_90d"])
    dxa_late = ~dxa_on_time & draw.chance(0.35)
    dxa_date = np.where(dxa_on_time, fracture + gap(1, 90), fracture + gap(91, 300))
    performed = by_as_of(dxa_date, dxa_on_time | dxa_late)
    dxa = np.where(
        performed,
        "performed",
        draw.pick(("ordered", "not_ordered", "not_known"), (0.45, 0.45, 0.10)),
    )
    reason = _where(
        dxa == "not_ordered",
        draw.pick(
            ("treat_without_dxa", "not_appropriate", "declined", "other"), (0.5, 0.3, 0.1, 0.1)
        ),
    )
    t_score = np.round(np.clip(rng.normal(-2.3, 1.0, n), -7, 4), 1)

    recommend = draw.chance(
        np.clip(prof["p_recommend_aom"] * np.where(higher_risk, 1.15, 0.8), 0, 1)
    )
    drug = draw.pick(list(DRUG_MIX), list(DRUG_MIX.values()))
    very_low = spine & (t_score <= -3.5) & performed
    drug = np.where(
        very_low & draw.chance(0.35), draw.pick(("teriparatide", "romosozumab"), (0.6, 0.4)), drug
    )
    combined = np.char.add(np.char.add(drug.astype(str), ";"), "alfacalcidol").astype(object)
    drug = np.where(draw.chance(0.02) & (drug != "alfacalcidol"), combined, drug)
    recommended = np.where(
        recommend, drug, draw.pick(RECOMMEND_OUTCOMES, (0.3, 0.25, 0.1, 0.25, 0.1))
    )

    fu16_date = fracture + np.where(draw.chance(0.9), gap(70, 112), gap(113, 150))
    fu16 = by_as_of(fu16_date, draw.chance(prof["p_followup_16w"]))
    # A follow-up not made while its window is still open (20 or 64 weeks) is not yet recorded.
    open16 = fracture + np.timedelta64(140, "D") > as_of64
    fu16_code = _blank(
        np.where(fu16, "yes", draw.pick(("no", "not_known"), (0.8, 0.2))), open16 & ~fu16
    )
    started = fu16 & recommend & draw.chance(0.85)
    therapy16 = np.where(
        started,
        drug,
        _where(
            fu16,
            draw.pick(
                ("not_started", "no_longer_appropriate", "informed_decline"), (0.6, 0.2, 0.2)
            ),
        ),
    )
    fu52_date = fracture + np.where(draw.chance(0.9), gap(330, 392), gap(393, 440))
    fu52_date = np.maximum(fu52_date, fu16_date + np.timedelta64(1, "D"))
    fu52 = by_as_of(fu52_date, draw.chance(prof["p_followup_52w"]))
    open52 = fracture + np.timedelta64(448, "D") > as_of64
    fu52_code = _blank(
        np.where(fu52, "yes", draw.pick(("no", "not_known"), (0.8, 0.2))), open52 & ~fu52
    )
    therapy52 = np.where(
        fu52 & recommend & draw.chance(0.75),
        drug,
        _where(fu52, draw.pick(("not_started", "no_longer_appropriate"), (0.6, 0.4))),
    )

    asked = draw.chance(prof["p_ng249_asked"])
    fallen = _where(asked, draw.pick(("yes", "no"), (0.45, 0.55)))
    fell = fallen == "yes"

    def if_fell(p: float) -> np.ndarray:
        return _where(fell, np.where(draw.chance(p), "yes", "no"))

    y_n_u = ("yes", "no", "not_known")
    columns = {
        "service_code": services["service_code"].to_numpy()[index],
        "nhs_number": patient_numbers.astype(str),
        "date_of_birth": born,
        "sex": draw.pick(("female", "male", "other", "not_known"), (0.75, 0.24, 0.003, 0.007)),
        "postcode": _postcodes(draw),
        "care_home_resident": draw.pick(y_n_u, (0.08, 0.85, 0.07)),
        "date_fls_assessment": np.where(has_assessment, assessment, np.datetime64("NaT")),
        "admitted_to_hospital": np.where(site == "hip", "yes", draw.pick(y_n_u, (0.3, 0.65, 0.05))),
        "date_fracture_diagnosed": fracture,
        "fracture_type": np.where(
            spine & draw.chance(0.4),
            "incidental_vertebral",
            draw.pick(("clinical", "not_known"), (0.95, 0.05)),
        ),
        "fracture_site": site,
        "fracture_site_2": _blank(draw.pick(SITES, (1, 1, 1, 1, 1, 2)), ~draw.chance(0.03)),
        "fracture_site_3": None,
        "previous_fracture": draw.pick(y_n_u, (0.25, 0.62, 0.13)),
        "bone_therapy_at_presentation": draw.pick(
            ("none", "alendronate", "denosumab", "not_known"), (0.75, 0.1, 0.04, 0.11)
        ),
        "dxa": dxa,
        "dxa_not_ordered_reason": reason,
        "date_dxa": np.where(performed, dxa_date, np.datetime64("NaT")),
        "t_score": np.where(performed & draw.chance(0.9), t_score, np.nan),
        "bone_therapy_recommended": recommended,
        "calcium_vitamin_d_recommended": draw.pick(y_n_u, (0.7, 0.2, 0.1)),
        "falls_assessment": np.where(
            draw.chance(prof["p_falls_assessment"]),
            draw.pick(("assessed", "referred"), (0.7, 0.3)),
            draw.pick(("not_indicated", "not_done", "not_known"), (0.4, 0.4, 0.2)),
        ),
        "fallen_past_12_months": fallen,
        "two_or_more_falls": if_fell(0.4),
        "fear_of_falling": if_fell(0.5),
        "unable_to_get_up": if_fell(0.2),
        "loss_of_consciousness": if_fell(0.1),
        "living_with_frailty": if_fell(0.35),
        "strength_balance_referred": draw.pick(
            ("yes", "no", "not_appropriate", "not_known"), (0.4, 0.35, 0.15, 0.1)
        ),
        "followup_16w": fu16_code,
        "date_followup_16w": np.where(fu16, fu16_date, np.datetime64("NaT")),
        "bone_therapy_16w": therapy16,
        "strength_balance_started_16w": _where(
            fu16, np.where(draw.chance(prof["p_strength_balance"]), "yes", "no")
        ),
        "followup_52w": fu52_code,
        "date_followup_52w": np.where(fu52, fu52_date, np.datetime64("NaT")),
        "bone_therapy_52w": therapy52,
        "refractures_since_index": np.where(fu52, rng.poisson(0.1, n), -1),
    }
    # Optional fields go unrecorded at each FLS's own rate (required ones never do).
    optional = [
        f.name
        for f in load_dictionary().records
        if not f.required and not f.name.startswith("date_") and f.name not in ("t_score", "dxa")
    ]
    for name in optional:
        values = columns[name]
        if isinstance(values, pl.Series):
            unrecorded = pl.Series(draw.chance(missing * 0.5))
            columns[name] = values.zip_with(~unrecorded, pl.Series([None] * n, dtype=values.dtype))
        elif isinstance(values, np.ndarray) and values.dtype == object:
            columns[name] = _blank(values, draw.chance(missing * 0.5))
    frame = pl.DataFrame([_series(k, v, n) for k, v in columns.items()])
    date_columns = [f.name for f in load_dictionary().records if f.type == "date"]
    return frame.with_columns(
        [pl.col(c).cast(pl.Date) for c in date_columns]
        + [
            pl.col("fracture_site_3").cast(pl.String),
            pl.col("t_score").fill_nan(None),
            pl.when(pl.col("refractures_since_index") >= 0)
            .then(pl.col("refractures_since_index"))
            .cast(pl.Int64),
        ]
    ).select([f.name for f in load_dictionary().records])
