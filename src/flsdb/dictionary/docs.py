"""The dictionary as Markdown, for users mapping their exports and for the README."""

from __future__ import annotations

from flsdb.dictionary.schema import Dictionary, FieldSpec

_TYPE_TEXT = {
    "text": "text",
    "date": "date (YYYY-MM-DD or DD/MM/YYYY)",
    "integer": "whole number",
    "number": "number",
    "nhs_number": "NHS number (10 digits, modulus-11 check)",
    "postcode": "UK postcode",
    "service_ref": "service code from the services table",
}


def describe_type(dictionary: Dictionary, spec: FieldSpec) -> str:
    """Plain-English type of a field, with its codes or range."""
    if spec.type == "code":
        return "one of: " + ", ".join(f"`{c}`" for c in dictionary.codes(spec))
    if spec.type == "therapy":
        assert spec.drugs and spec.outcomes
        drugs = "drug code" if not spec.multiple else "drug codes joined by `;`"
        outcomes = ", ".join(f"`{c}`" for c in dictionary.codesets[spec.outcomes].codes)
        return f"{drugs}, or one of: {outcomes}"
    text = _TYPE_TEXT[spec.type]
    if spec.pattern_help:
        text += f", {spec.pattern_help}"
    if spec.max_length:
        text += f", at most {spec.max_length} characters"
    if spec.min is not None or spec.max is not None:
        low = "" if spec.min is None else f"{spec.min:g}"
        high = "" if spec.max is None else f"{spec.max:g}"
        text += f", {low} to {high}" if high else f", at least {low}"
    return text


def dictionary_markdown(dictionary: Dictionary) -> str:
    """Every column of both upload files, their codes and rules, as Markdown tables."""
    lines = [f"# flsdb data dictionary (version {dictionary.version})", ""]
    for kind, title in (("services", "Services file"), ("records", "Records file")):
        lines += [f"## {title}", "", "| column | FLS-DB | required | type / codes | description |"]
        lines += ["|---|---|---|---|---|"]
        for spec in dictionary.fields(kind):  # type: ignore[arg-type]
            lines.append(
                f"| `{spec.name}` | {spec.question or '–'} | {'yes' if spec.required else 'no'} "
                f"| {describe_type(dictionary, spec)} | {spec.help} |"
            )
        lines.append("")
    lines += ["## Drug codes by treatment group", ""]
    for group, codes in dictionary.drug_groups().items():
        lines.append(f"- {group.replace('_', ' ')}: " + ", ".join(f"`{c}`" for c in codes))
    lines += ["", "Record key: " + ", ".join(f"`{k}`" for k in dictionary.record_key), ""]
    return "\n".join(lines)
