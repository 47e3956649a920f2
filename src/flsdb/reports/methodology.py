"""The methodology document, generated from the KPI catalogue and the data dictionary."""

from __future__ import annotations

from flsdb.config import Thresholds, load_thresholds
from flsdb.kpi.caseload import CrudeRateEstimator
from flsdb.kpi.catalogue import Catalogue, Condition
from flsdb.reports.trends import METHOD as TREND_METHOD

# Readings of the specification where it is silent or open; each is what the code does.
CHOICES = (
    "Rows in error messages are spreadsheet rows: the header is row 1, the first record row 2.",
    "Service codes are matched case-insensitively and stored in upper case; codes in lower case.",
    "A record is in a period by its date_fracture_diagnosed; periods are calendar years, "
    "quarters or months, and a period can be split into quarters or months.",
    '"Within N days" is 0 <= event date - fracture date <= N; a blank event date is not within.',
    '"Due" uses the extract date `as_of`: date_fracture_diagnosed + 90 (90 days), + 112 (16 '
    "weeks) or + 392 (52 weeks) days <= as_of. Records not yet due leave the denominator and are "
    "counted in `not_due`. A kpi01 key field with a window (date_fls_assessment at 90 days, "
    "followup_16w and followup_52w at 16 and 52 weeks) applies only to records due for it: one "
    "that cannot be recorded yet is not missing.",
    "A value that is blank or `not_known` never meets a condition (for example, fracture_site "
    "not hip is false for a blank site, which validation forbids anyway).",
    '"Holds a drug code" is read on the validated, normalised cell: drug codes joined by `;` '
    "never mix with outcome codes, so a cell holds a drug code when it is recorded and is not an "
    "outcome code.",
    "kpi01 for an FLS (and an age, sex or care-home group) counts key fields with more than 20% "
    "missing among applicable records; a field with no applicable records is not counted; its "
    "percentage is that count over 17, and a unit with no records gets no kpi01 value. For a "
    "region or nation, kpi01 is the share of its FLSs with records whose completeness is green "
    "(fewer than 5 key fields over 20% missing), as the national audit reports it; it has no "
    "RAG rating.",
    "kpi02's expected caseload per unit is the sum over its FLSs whose caseload is known (given or "
    "estimated); its numerator counts records of those FLSs only. kpi02 is not reported for "
    "age, sex and care-home breakdowns, which have no expected caseload.",
    "When only one of expected_spine and expected_non_spine is given, the given one is used and "
    "the other is estimated from population_50plus.",
    "Percentages are rounded half up to one decimal place (2.25 -> 2.3); RAG ratings use the "
    "unrounded value, so 79.96% is amber although it displays as 80.0.",
    "Intervals are reported in percent to one decimal; none when the denominator is 0. kpi02's "
    "expected caseload for a period is rounded to a whole number of patients (half up) and "
    "its interval is exact Poisson, so it has one above 100% too.",
    "Nations: `england`, `wales` and `all` (both). Regions and nations include FLSs with no "
    "records in the period (their counts are 0).",
    "Breakdowns: age band from whole years of age at the fracture (50-64, 65-74, 75-84, 85+); "
    "sex and care_home_resident by their codes, with blank as `not_recorded`.",
    "Warnings about the 16- and 52-week follow-up windows measure weeks after the fracture date.",
    "A date written with slashes is read day first (DD/MM/YYYY, the UK order). Where its day "
    "and month are both 12 or less (05/03/2024) it could be read either way: the file's other "
    "slash dates decide, across all its date columns. Where they show day first (a day over 12), "
    "or nothing shows the order, it is read day first with a warning naming the row, the field "
    "and both readings; where the file writes dates month first (12/25/2024, which uploads do "
    "not accept) or both ways, it is refused, since either reading could be wrong. A date "
    "whose day and month are equal reads the same either way and is not flagged.",
    "A follow-up not done for a recorded reason (followup_16w or followup_52w `declined`, "
    "`unable_to_contact`, `died` or `moved_away`) is an answer: kpi01 does not count the field "
    "missing, and the worklists take the patient off the due and overdue lists. kpi08 to kpi11 "
    "keep the record in their denominators (due, and for kpi09 to kpi11 a drug recommended) and "
    "count it as not followed up, since their numerators need the follow-up done (`yes` with its "
    "date, therapy or strength and balance), as the national audit counts a follow-up that was "
    "not done. The FLS-DB export writes such a reason as 'No - ' and the reason.",
    "An insert made in the form or the API keeps the record's values in its audit row (as its "
    "after-values: restoring a version needs them); an import's insert row keeps the record's "
    "key alone (the values are the stored record, and a later update keeps them as its "
    "before-values); updates keep before and after; deletes keep before. Record ids are never "
    "given twice (SQLite's `AUTOINCREMENT`, from migration 0009, which starts above every id "
    "the store or its audit trail has used; PostgreSQL's sequence), and a record's history "
    "holds only the rows from its creation on, of FLSs the reader may see: a deleted record's "
    "trail never reaches the record, of any FLS, created after it.",
    "A national FLS-DB export of 2023 or before gives the site 'Non hip/non spine'; imported "
    "(`--profile fls-db`) it is stored as `other`, a site not at higher risk, with a warning, "
    "and the audit trail notes it. The national report's methods count the records of the "
    "period whose index fracture site still comes from that label.",
)


def lost_sites_sentence(shown: str, period: str) -> str:
    """How many records' index fracture site came from the 2023 'Non hip/non spine' label."""
    return (
        f"{shown} {'record' if shown == '1' else 'records'} diagnosed in {period} "
        f"{'has' if shown == '1' else 'have'} the index fracture site recorded as other because "
        "they were imported from a national FLS-DB export of 2023 or before, whose label 'Non "
        "hip/non spine' does not say whether the fracture was of the humerus, pelvis, wrist or "
        "elsewhere; they count as sites not at higher risk (hr01 to hr03)."
    )


def statistics(thresholds: Thresholds) -> dict[str, str]:
    """The benchmarking statistics as configured, one paragraph each, by topic."""
    funnel = thresholds.funnel
    spc = thresholds.spc
    policy = thresholds.suppression
    method_words = {
        "wilson": "`wilson` (target +/- z sqrt(target (1 - target) / n), the proportions whose "
        "Wilson interval just reaches the target, as the UK public health indicator methods)",
        "arcsine": "`arcsine` (sin^2(asin(sqrt(target)) +/- z se), se = 1 / (2 sqrt(n)), as "
        "FunnelPlotR draws proportions)",
        "exact": "`exact` (binomial quantiles interpolated as in Spiegelhalter 2005)",
    }
    adjustment = {
        "additive": "additive random effects: a DerSimonian-Laird tau-squared is added to each "
        "FLS's variance",
        "multiplicative": "multiplicative: limits widened by sqrt(phi)",
        "none": "none",
    }
    baseline = (
        f"{spc.baseline_from} to {spc.baseline_to}"
        if spc.baseline_from and spc.baseline_to
        else f"the first {spc.baseline_months} months shown"
        if spc.baseline_months
        else "every month shown"
    )
    return {
        "intervals": (
            "Confidence intervals: Wilson score 95% for proportions; for kpi02 (records over an "
            "expected caseload) an exact Poisson 95% interval on the observed count divided by the "
            "expected count, as public health methods give for standardised ratios; kpi01 none "
            "(it counts fields, or FLSs). Exact (Clopper-Pearson) intervals are in `flsdb.stats`."
        ),
        "funnels": (
            "Funnel plots: target = the national (pooled) value; limits by "
            f"{method_words[funnel.method]}"
            f" at {funnel.alert:.0%} (inner) and {funnel.alarm:.1%} (outer). Overdispersion "
            f"(Spiegelhalter 2005): z-scores Winsorised at {funnel.winsorise:.0%}/"
            f"{1 - funnel.winsorise:.0%} give phi; adjustment: "
            f"{adjustment[funnel.overdispersion]}; "
            "when phi is 1 or less the limits are not adjusted. A point on a limit is inside. Each "
            "funnel states its method, target, phi and tau-squared."
        ),
        "outliers": (
            "Outliers (national clinical audit outlier guidance): alert beyond the inner limit, "
            "alarm "
            "beyond the outer limit; only alarm-level FLSs are named in recommendations."
        ),
        "coverage": (
            "Funnel plots and SPC charts cover the proportion KPIs (kpi03 to kpi11, hr02, hr03, "
            "fa01, "
            "fa02): kpi01 counts fields and kpi02 is a ratio to an estimate, so neither has "
            "binomial "
            "limits."
        ),
        "inequity": (
            "Inequity between FLSs, per KPI: number of FLSs with patients (whose values may be "
            "published), median, interquartile range, range, 90th over 10th percentile (none when "
            "the 10th is 0), FLSs outside the limits."
        ),
        "spc": (
            f"SPC: monthly {'p-charts' if spc.chart == 'p' else 'p-prime charts (Laney)'} over the "
            f"{spc.months} months to the end of the period; mean and limits from the baseline "
            f"({baseline}), 3-sigma limits per month, clipped to [0, 1]; months without patients "
            "are "
            f"left out. Making Data Count rules: outside the limits; a shift of {spc.shift} on one "
            f"side of the mean (a point on it breaks the run); a trend of {spc.trend} each "
            "strictly "
            "above/below the one before; 2 of 3 beyond two-thirds of the way to a limit on one "
            "side. "
            "Signals are improvement or concern by the KPI's better direction (higher for all but "
            "kpi01; hr01 has none). Variation icon: the latest month's signal; assurance icon: the "
            "latest limits against the target (the KPI's green threshold). Process limits need a "
            f"median of {spc.min_denominator} patients a point: a unit with fewer a month is "
            "charted by quarter (each quarter drawn at its last month), and with fewer a quarter "
            "too, as a run chart of its quarters about their median, whose signals are Anhoej's "
            "rules (a run longer than log2(n) + 3 points on one side, too few crossings of the "
            "median) and which has no limits or assurance icon. Run charts use Anhoej's rules."
        ),
        "mix": (
            "Treatment mix: each record counts once, in the first group its recommendation holds "
            "in the order anabolic, denosumab, intravenous, oral bisphosphonate, other. A record "
            "with no drug recommended is a clinical decision when its outcome is not appropriate, "
            "informed decline, referred for a clinical opinion or referred to the GP, and not "
            "recorded when the outcome is not known or blank: the two are shown apart."
        ),
        "disclosure": (
            f"Disclosure control: in the national and region reports and the benchmark tables, a "
            f"count of patients from 1 to {policy.below - 1} shows as {policy.label}; a KPI cell "
            f"whose denominator is that small"
            + (", or whose patients without the outcome are that few," if policy.complement else "")
            + " has its numerator hidden too; a hidden count takes its percentage, interval and "
            "RAG with it. Secondary suppression: no hidden count can be recovered by subtraction "
            "(a region is the sum of its FLSs, a nation of its regions, England and Wales of the "
            "whole, the groups of each breakdown of the whole, kpi02 of its spine and non-spine "
            "parts, and counts of the same patients under two KPIs are equal): where a sum would "
            "have exactly one hidden count, another is withheld (shown as `c`), the smallest FLS "
            "first. Before anything is published, an audit by linear programming (as tau-ARGUS "
            "and sdcTable audit a suppression pattern) takes every published count together: the "
            "KPI tables, the case-mix's fracture sites, the reasons no drug was recommended, "
            "the treatment mix and Appendix B's completeness counts, with every sum and tie "
            "between them (the sites add up to the records, spine fractures are kpi03's "
            "numerator, the reasons are the records without a drug, a key field of every record "
            "applies to the records, its missing answers are the not-known groups, the date "
            "of FLS assessment applies to kpi04's denominator, the follow-up fields apply to "
            "records that hold kpi08's, kpi09's and kpi11's denominators and lie within those "
            "due at 90 days and the records; an FLS's treatment groups add up to its "
            "records and its drugs to kpi07's numerator, each national share is the sum of the "
            "FLSs' groups, taken as any count that rounds to the share printed; the records "
            "whose site came from a 2023 label are among the records of other sites; the "
            "national SPC charts' months or quarters add up to their year's national count, "
            "each numerator within its denominator; and which FLSs sent records is known, so "
            "an FLS's withheld records are 1 or more, or 0), "
            "attacked by an outsider and by each FLS knowing its own counts (its own patients "
            "in every age "
            "band, sex and care home group, site, reason, treatment group and key field too); "
            "more counts are withheld until every hidden count of 1 to 4 can still be any of 1 "
            "to 4. Then each region's and nation's count of 50 or more withheld only to protect "
            "others is shown again wherever the same audit still passes (a national audit "
            "rarely needs to withhold a total of hundreds). A month of the national SPC charts "
            "with a count of 1 to 4 is withheld like a KPI cell, with another month where its "
            "year's count would give it back, and is not drawn; where an earlier year's "
            "printed count leaves its small months too little room to each be any of 1 to 4 "
            "(three of them beside a year's count of 5), they are printed as withheld (c) "
            "instead of <5. An FLS whose records or kpi07 "
            "numerator are withheld has no treatment bar "
            "(the bar would give them back); a treatment group withheld is drawn with the "
            "hatched part of its bar, a national share withheld is printed as withheld. "
            "Charts draw only what the tables show. kpi01 counts fields (or FLSs) and "
            "kpi02's "
            "denominator is an estimate: neither is a count of patients. An FLS's own report shows "
            "its own counts unsuppressed; its comparators are the published values. "
            "Unsuppressed output, for internal use, goes to a separate folder marked not for "
            "publication."
        ),
        "recommendations": (
            "Recommendations are the rules in the thresholds file, addressed to ICBs and health "
            "boards, to FLSs and to executive teams; each states the finding behind it and the "
            "threshold that picks out its regions or FLSs: "
            + "; ".join(
                f"{r.audience}: {r.kpi}, "
                + ("a region" if r.level == "region" else "an FLS")
                + (
                    f" with {r.threshold_words()} key fields more than 20% missing"
                    if r.measure == "numerator"
                    else f" {r.threshold_words()}"
                )
                for r in thresholds.recommendations
            )
            + "."
        ),
        "ranks": (
            "Ranks: the benchmark table gives each FLS's 95% rank interval among the FLSs with a "
            "published value (1 = best), never a single rank on its point estimate: its "
            "proportion is drawn 4,000 times from its Jeffreys posterior, Beta(x + 1/2, n - x + "
            "1/2) (for identification, Gamma(x + 1/2) over the expected count), the FLSs are "
            "ranked in each draw, and the interval runs from the 2.5th to the 97.5th percentile "
            "of its ranks (Marshall and Spiegelhalter 1998; a fixed seed, so the same counts give "
            "the same intervals). kpi01, a count of key fields, is not ranked."
        ),
        "trends": TREND_METHOD,
        "participation": (
            "Participation and coverage: FLSs in the services file and those with records in the "
            "period; the ICBs and Welsh health boards with no FLS taking part, from the packaged "
            "list of regions (public ODS codes, approximate populations aged 50 and over); the "
            "share of the population aged 50 and over in the catchments of the FLSs with records "
            "(population_50plus from the services file, else the expected caseload divided by "
            f"the caseload rate of {thresholds.caseload.rate:.1%} a year). Identification (kpi02) "
            "is measured against each FLS's own expected caseload, so areas with no FLS are in "
            "no KPI."
        ),
        "casemix": (
            "Case-mix: records by age band, sex and care home residence (the published breakdown "
            "tables' record counts) and by index fracture site. Reasons no drug was recommended: "
            "patients whose recommendation holds no drug code, by the outcome recorded (not "
            "appropriate, informed decline, referred for a clinical opinion, referred to the GP: "
            "clinical decisions; not known and blank: not recorded). Both are England and Wales "
            "together; small counts are hidden by the same disclosure control as the treatment "
            "mix, a table whose total is withheld elsewhere is withheld whole, and the audit of "
            "every published count (see disclosure control) may withhold more of them."
        ),
        "thresholds": (f"Thresholds: {thresholds.source} (version {thresholds.version})."),
    }


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


def definition_rows(catalogue: Catalogue, thresholds: Thresholds) -> list[tuple[str, ...]]:
    """kpi, name, numerator, denominator, due and RAG of every KPI, in words."""
    rows: list[tuple[str, ...]] = []
    for m in catalogue.measures:
        rag = thresholds.rag_for(m.id)
        rag_words = rag.text() if rag else "–"
        if m.kind == "completeness":
            fields = ", ".join(
                k.column + (f" (when {describe(k.applicable, catalogue)})" if k.applicable else "")
                for k in m.key_fields
            )
            rows.append(
                (
                    m.id,
                    m.name,
                    f"key fields with more than {m.missing_threshold:g}% missing (blank or "
                    f"`not_known`): {fields}; for a region or nation, FLSs whose completeness is "
                    "green",
                    f"the {len(m.key_fields)} key fields; for a region or nation, its FLSs with "
                    "records",
                    "–",
                    rag_words + " (FLSs and groups only)",
                )
            )
        elif m.kind == "caseload":
            for part_id, part in m.parts.items():
                rows.append(
                    (
                        part_id,
                        part.name,
                        describe(part.records, catalogue),
                        f"expected {part.expected.replace('_', '-')} caseload x days of the period "
                        "to the extract date / days in year",
                        "–",
                        rag_words,
                    )
                )
        else:
            due = f"{m.due} ({catalogue.due_windows[m.due]} days)" if m.due else "–"
            rows.append(
                (
                    m.id,
                    m.name,
                    describe(m.numerator, catalogue),
                    describe(m.denominator, catalogue),
                    due,
                    rag_words,
                )
            )
    return rows


def methodology_markdown(catalogue: Catalogue, thresholds: Thresholds | None = None) -> str:
    thresholds = thresholds or load_thresholds()
    lines = [
        "## Methodology",
        "",
        f"Generated from the KPI catalogue (version {catalogue.version}) and the thresholds "
        f"(version {thresholds.version}). A numerator counts only records in its denominator. "
        "Each KPI is reported with numerator, denominator, percent (one decimal), a 95% interval "
        "and a RAG rating.",
        "",
        f"Expected caseload (kpi02): {CrudeRateEstimator.from_thresholds(thresholds).description}.",
        "",
        "| kpi | name | numerator | denominator | due | RAG |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in definition_rows(catalogue, thresholds)]
    lines += ["", "### How the specification was read", ""]
    lines += [f"- {choice}" for choice in CHOICES]
    lines += ["", "### Benchmarking statistics", ""]
    lines += [f"- {item}" for item in statistics(thresholds).values()]
    return "\n".join(lines) + "\n"
