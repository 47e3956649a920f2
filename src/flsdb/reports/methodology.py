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
    return "\n".join(lines) + "\n"
