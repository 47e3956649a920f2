"""Funnel limits against the UK public health indicator reference set, and their properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flsdb.stats import estimate_dispersion, funnel, funnel_limits

REFERENCE = Path(__file__).parents[1] / "data"
SIGNIFICANCE = {
    "high_alarm": "High (0.001)",
    "high_alert": "High (0.025)",
    "inside": "Not significant",
    "low_alert": "Low (0.025)",
    "low_alarm": "Low (0.001)",
}


@pytest.fixture(scope="module")
def inputs() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "phe_testdata_funnel_prop_inputs.csv", encoding="utf-8-sig")


def test_all_303_areas_have_the_published_significance(inputs: pd.DataFrame) -> None:
    result = funnel(inputs["numerator"], inputs["denominator"], method="wilson")
    assert round(result.target * 100, 6) == 80.642448
    got = [SIGNIFICANCE[f] for f in result.flags]  # type: ignore[index]
    assert len(got) == 303
    assert got == inputs["significance"].tolist()


def test_limits_by_population_match_the_published_table() -> None:
    table = pd.read_csv(REFERENCE / "phe_testdata_funnel_prop_outputs.csv", encoding="utf-8-sig")
    target = table["Baseline"].iloc[0] / 100
    for level, low, high in (
        (0.95, "Lower2s0025limit", "Upper2s0025limit"),
        (0.998, "Lower3s0001limit", "Upper3s0001limit"),
    ):
        lower, upper = funnel_limits(table["Population"], target, level)
        np.testing.assert_allclose(lower * 100, table[low], atol=1e-5)
        np.testing.assert_allclose(upper * 100, table[high], atol=1e-5)


def test_point_on_a_limit_is_inside() -> None:
    lower, upper = funnel_limits([100], 0.5, 0.95)
    result = funnel([upper[0] * 100, lower[0] * 100], [100, 100], target=0.5)
    assert result.flags == ["inside", "inside"]


def test_exact_limits_are_binomial_quantiles() -> None:
    # Binomial(20, 0.5): P(X <= 5) = 0.0207, P(X <= 6) = 0.0577, so the 2.5% point lies
    # between 5 and 6: alpha = (0.0577 - 0.025) / (0.0577 - 0.0207) = 0.884 -> (6 - 0.884) / 20.
    lower, upper = funnel_limits([20], 0.5, 0.95, method="exact")
    assert lower[0] == pytest.approx(
        (6 - (0.057659 - 0.025) / (0.057659 - 0.020695)) / 20, abs=1e-4
    )
    # 97.5% point: P(X <= 13) = 0.942341, P(X <= 14) = 0.979305 (not symmetric: discrete).
    assert upper[0] == pytest.approx(
        (14 - (0.979305 - 0.975) / (0.979305 - 0.942341)) / 20, abs=1e-4
    )


def test_arcsine_limits() -> None:
    lower, upper = funnel_limits([400], 0.25, 0.95, method="arcsine")
    centre = np.arcsin(np.sqrt(0.25))
    assert lower[0] == pytest.approx(np.sin(centre - 1.959964 / 40) ** 2, abs=1e-6)
    assert upper[0] == pytest.approx(np.sin(centre + 1.959964 / 40) ** 2, abs=1e-6)


def test_additive_arcsine_adjustment_hand_computed() -> None:
    """Spiegelhalter (2005) as FunnelPlotR computes proportions, step by step in plain NumPy."""
    num = np.array([30.0, 45, 80, 20, 150, 60, 10, 95, 40, 70])
    den = np.array([100.0, 120, 160, 90, 300, 150, 60, 200, 110, 130])
    target = num.sum() / den.sum()
    y = np.arcsin(np.sqrt(num / den))
    s = 1 / (2 * np.sqrt(den))
    z = (y - np.arcsin(np.sqrt(target))) / s
    low, high = np.percentile(z, [10, 90])  # R's quantile type 7
    phi = np.mean(np.clip(z, low, high) ** 2)
    w = 1 / s**2
    tau2 = (len(z) * phi - (len(z) - 1)) / (w.sum() - (w**2).sum() / w.sum())
    result = funnel(num, den, method="arcsine", overdispersion="additive")
    assert result.dispersion is not None
    assert result.dispersion.phi == pytest.approx(phi, rel=1e-12)
    assert result.dispersion.tau2 == pytest.approx(tau2, rel=1e-12)
    assert phi > 1 and result.adjusted
    centre = np.arcsin(np.sqrt(target))
    for level, z_level in ((0.95, 1.959964), (0.998, 3.090232)):
        lower = np.sin(centre - z_level * np.sqrt(s**2 + tau2)) ** 2
        upper = np.sin(centre + z_level * np.sqrt(s**2 + tau2)) ** 2
        np.testing.assert_allclose(result.limits[level][0], lower, atol=1e-6)
        np.testing.assert_allclose(result.limits[level][1], upper, atol=1e-6)
    assert "phi" in result.describe() and "tau-squared" in result.describe()


def test_no_adjustment_when_phi_is_at_most_one() -> None:
    # Binomial-looking data: every unit at the target, so phi is 0 and the limits stay plain.
    num, den = [20, 40, 60, 80], [100, 200, 300, 400]
    plain = funnel(num, den, method="arcsine")
    adjusted = funnel(num, den, method="arcsine", overdispersion="additive")
    assert adjusted.dispersion is not None and adjusted.dispersion.phi <= 1
    assert adjusted.dispersion.tau2 == 0 and not adjusted.adjusted
    for level in (0.95, 0.998):
        np.testing.assert_allclose(adjusted.limits[level][0], plain.limits[level][0])
    assert "no overdispersion" in adjusted.describe()
    multiplicative = funnel(num, den, method="wilson", overdispersion="multiplicative")
    np.testing.assert_allclose(multiplicative.limits[0.95][1], funnel(num, den).limits[0.95][1])


def test_alert_and_alarm_levels_are_parameters() -> None:
    result = funnel([50, 70], [100, 100], target=0.5, levels=(0.90, 0.99))
    assert set(result.limits) == {0.90, 0.99}
    assert result.flags[0] == "inside"
    assert result.flags[1] in ("high_alert", "high_alarm")


def test_dispersion_of_the_reference_set_is_large(inputs: pd.DataFrame) -> None:
    target = inputs["numerator"].sum() / inputs["denominator"].sum()
    dispersion = estimate_dispersion(inputs["numerator"], inputs["denominator"], target)
    assert dispersion.phi > 10
    assert dispersion.tau2 > 0
    adjusted = funnel(inputs["numerator"], inputs["denominator"], overdispersion="additive")
    assert adjusted.flags.count("inside") > 32


denominators = st.lists(st.integers(1, 100_000), min_size=2, max_size=30)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["wilson", "arcsine", "exact"]), st.floats(0.05, 0.95))
def test_limits_narrow_as_n_grows_and_stay_in_range(method: str, target: float) -> None:
    n = np.array([5, 20, 100, 1000, 10000])
    for level in (0.95, 0.998):
        lower, upper = funnel_limits(n, target, level, method=method)  # type: ignore[arg-type]
        assert ((lower >= 0) & (lower <= upper) & (upper <= 1)).all()
        assert (np.diff(upper - lower) <= 1e-9).all()
        assert (lower <= target + 1e-9).all() and (upper >= target - 1e-9).all()


@settings(max_examples=60, deadline=None)
@given(denominators, st.floats(0.05, 0.95), st.sampled_from(["multiplicative", "additive"]))
def test_overdispersed_limits_contain_unadjusted(n: list[int], share: float, kind: str) -> None:
    rng = np.random.default_rng(len(n))
    num = rng.binomial(n, np.clip(share + rng.normal(0, 0.1, len(n)), 0.01, 0.99))
    assume(0 < num.sum() < sum(n))  # a pooled target of 0% or 100% has no funnel
    plain = funnel(num, n)
    wide = funnel(num, n, overdispersion=kind)  # type: ignore[arg-type]
    for level in (0.95, 0.998):
        assert (wide.limits[level][0] <= plain.limits[level][0] + 1e-12).all()
        assert (wide.limits[level][1] >= plain.limits[level][1] - 1e-12).all()
