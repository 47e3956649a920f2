"""The methodology document, generated from the KPI catalogue and the data dictionary."""

from __future__ import annotations

from flsdb.kpi.caseload import CrudeRateEstimator
from flsdb.kpi.catalogue import Catalogue, Condition
from flsdb.reports.kpi_tables import rag_text

# Readings of the specification where it is silent or open; each is what the code does.
CHOICES = (
    "Rows in error messages are spreadsheet rows: the header is row 1, the first record row 2.",
    "Service codes are matched case-insensitively and stored in upper case; codes in lower case.",
    "A record is in a period by its date_fracture_diagnosed; periods are calendar years, "
    "quarters or months, and a period can be split (`--interval quarter|month`).",
    '"Within N days" is 0 <= event date - fracture date <= N; a blank event date is not within.',
    '"Due" uses the extract date `as_of`: date_fracture_diagnosed + 112 (16 weeks) or + 392 '
    "(52 weeks) days <= as_of. Records not yet due leave the denominator and are counted in "
    "`not_due`.",
    "A value that is blank or `not_known` never meets a condition (for example, fracture_site "
    "not hip is false for a blank site, which validation forbids anyway).",
    '"Holds a drug code" is read on the validated, normalised cell: drug codes joined by `;` '
    "never mix with outcome codes, so a cell holds a drug code when it is recorded and is not an "
    "outcome code.",
    "kpi01 counts key fields with more than 20% missing among applicable records; a field with "
    "no applicable records is not counted. Its percentage is that count over 17. A unit with no "
    "records in the period gets no kpi01 value.",
    "kpi02's expected caseload per unit is the sum over its FLSs whose caseload is known (given or "
    "estimated); its numerator counts records of those FLSs only. kpi02 is not reported for "
    "age, sex and care-home breakdowns, which have no expected caseload.",
    "When only one of expected_spine and expected_non_spine is given, the given one is used and "
    "the other is estimated from population_50plus.",
    "Percentages are rounded half up to one decimal place (2.25 -> 2.3); RAG ratings use the "
    "unrounded value, so 79.96% is amber although it displays as 80.0.",
    "Wilson 95% intervals are reported in percent to one decimal; none when the denominator is "
    "0, or when the numerator exceeds the denominator (kpi02 above 100%).",
    "Nations: `england`, `wales` and `all` (both). Regions and nations include FLSs with no "
    "records in the period (their counts are 0).",
    "Breakdowns: age band from whole years of age at the fracture (50-64, 65-74, 75-84, 85+); "
    "sex and care_home_resident by their codes, with blank as `not_recorded`.",
    "Warnings about the 16- and 52-week follow-up windows measure weeks after the fracture date.",
    "An insert's audit row keeps no copy of the values (they are the stored record; a later "
    "update keeps them as its before-values); updates keep before and after; deletes keep before.",
)


STATISTICS = (
    "Confidence intervals: Wilson score 95% for every KPI (statsmodels); exact "
    "(Clopper-Pearson) is available in `flsdb.stats`.",
    "Funnel plots: target = the national (pooled) value; 95% and 99.8% limits at each "
    "denominator. `wilson` (default, as the UK public health indicator methods): target +/- z "
    "sqrt(target (1 - target) / n), which are the proportions whose Wilson interval just "
    "reaches the target; `arcsine`: sin^2(asin(sqrt(target)) +/- z / (2 sqrt(n))); `exact`: "
    "binomial quantiles interpolated as in Spiegelhalter (2005). A point on a limit is inside. "
    "Overdispersion (Spiegelhalter 2005): z-scores Winsorised at the 10th/90th percentiles give "
    "phi; `multiplicative` widens by sqrt(phi) when phi > 1, `additive` adds a DerSimonian-"
    "Laird tau-squared. With `exact` and an overdispersion adjustment, the normal scale is used.",
    "Funnel plots and SPC charts cover the proportion KPIs (kpi03 to kpi11, hr02, hr03, fa01, "
    "fa02): kpi01 counts fields and kpi02 is a ratio to an estimate, so neither has binomial "
    "limits.",
    "Inequity between FLSs, per KPI: number of FLSs with patients, median, interquartile range, "
    "range, 90th over 10th percentile (none when the 10th is 0), FLSs outside the 99.8% limits.",
    "SPC: monthly p-charts over the 24 months to the end of the period, centre = pooled over "
    "all months shown (the baseline is a parameter), 3-sigma limits per month, clipped to "
    "[0, 1]; months without patients are left out. Making Data Count rules: outside the limits; "
    "a shift of 7 on one side of the centre (a point on it breaks the run); a trend of 7 each "
    "strictly above/below the one before; 2 of 3 beyond two-thirds of the way to a limit on one "
    "side. Signals are improvement or concern by the KPI's better direction (higher for all "
    "but kpi01; hr01 has none). Run charts use Anhoej's rules.",
    "Treatment mix: each record counts once, in the first group its recommendation holds in "
    "the order anabolic, denosumab, intravenous, oral bisphosphonate, other; none = no drug.",
    "Suppression: in the national and region reports and the benchmark tables, counts of "
    "patients from 1 to 4 show as <5 and their percentage, interval and RAG are removed "
    "(kpi01 counts fields and kpi02's denominator is an estimate: neither is suppressed). An "
    "FLS's own report is for that FLS and is not suppressed. `--no-suppression` is for "
    "internal use.",
    "Recommendations are rules with stated thresholds: regions below 80% identification of "
    "spine or non-spine fractures; FLSs below the 95% funnel limit for kpi04 or kpi07; FLSs "
    "below 50% for hr02 or kpi09 and below 80% for fa01.",
)


def describe(condition: Condition | None, catalogue: Catalogue) -> str:
    """A condition in words."""
    if condition is None:
        return "every record in the period"
    c = condition
    if c.all_of is not None:
        return " and ".join(f"({describe(x, catalogue)})" for x in c.all_of)
    if c.any_of is not None:
        return " or ".join(f"({describe(x, catalogue)})" for x in c.any_of)
    if c.not_ is not None:
        return f"not ({describe(c.not_, catalogue)})"
    if c.ref is not None:
        return f"{c.ref} [{describe(catalogue.definitions[c.ref], catalogue)}]"
    if c.equals is not None:
        return f"{c.equals.column} = `{c.equals.value}`"
    if c.in_ is not None:
        return f"{c.in_.column} in ({', '.join(f'`{v}`' for v in c.in_.values)})"
    if c.within_days is not None:
        return f"{c.within_days.column} within {c.within_days.days} days of the fracture"
    if c.holds_drug is not None:
        return f"{c.holds_drug} holds a drug code"
    if c.holds_any is not None:
        return f"{c.holds_any.column} holds any of ({', '.join(c.holds_any.values)})"
    if c.at_most is not None:
        return f"{c.at_most.column} <= {c.at_most.value:g}"
    assert c.due is not None
    return f"due at {c.due} (fracture + {catalogue.due_windows[c.due]} days <= as_of)"


def methodology_markdown(catalogue: Catalogue) -> str:
    lines = [
        "## Methodology",
        "",
        f"Generated from the KPI catalogue (version {catalogue.version}). A numerator counts only "
        "records in its denominator. Each KPI is reported with numerator, denominator, percent "
        "(one decimal), a Wilson 95% interval and a RAG rating.",
        "",
        f"Expected caseload (kpi02): {CrudeRateEstimator().description}.",
        "",
        "| kpi | name | numerator | denominator | due | RAG |",
        "|---|---|---|---|---|---|",
    ]
    for m in catalogue.measures:
        rag = catalogue.rag_for(m)
        rag_words = rag_text(rag) if rag else "–"
        if m.kind == "completeness":
            fields = ", ".join(
                k.column + (f" (when {describe(k.applicable, catalogue)})" if k.applicable else "")
                for k in m.key_fields
            )
            lines.append(
                f"| {m.id} | {m.name} | key fields with more than {m.missing_threshold:g}% "
                f"missing (blank or `not_known`): {fields} | the {len(m.key_fields)} key fields "
                f"| – | {rag_words} |"
            )
        elif m.kind == "caseload":
            for part_id, part in m.parts.items():
                lines.append(
                    f"| {part_id} | {part.name} | {describe(part.records, catalogue)} | expected "
                    f"{part.expected.replace('_', '-')} caseload x days in period / days in year "
                    f"| – | {rag_words} |"
                )
        else:
            due = f"{m.due} ({catalogue.due_windows[m.due]} days)" if m.due else "–"
            lines.append(
                f"| {m.id} | {m.name} | {describe(m.numerator, catalogue)} "
                f"| {describe(m.denominator, catalogue)} | {due} | {rag_words} |"
            )
    lines += ["", "### How the specification was read", ""]
    lines += [f"- {choice}" for choice in CHOICES]
    lines += ["", "### Benchmarking statistics", ""]
    lines += [f"- {item}" for item in STATISTICS]
    return "\n".join(lines) + "\n"
