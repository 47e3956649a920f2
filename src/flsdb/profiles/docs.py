"""A profile as Markdown: its columns, labels, dates and encodings, generated from the profile
itself (`flsdb profile show`, and beside the data dictionary in `flsdb dictionary`)."""

from __future__ import annotations

from flsdb.dictionary.schema import Dictionary
from flsdb.profiles.export import not_written
from flsdb.profiles.labels import all_field_labels
from flsdb.profiles.schema import Profile

ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte-order mark",
    "windows-1252": "Windows-1252",
}


def _columns(profile: Profile, dictionary: Dictionary) -> list[str]:
    layout = profile.layout()
    if layout is None:
        return ["Columns: the data dictionary's names (`flsdb dictionary`).", ""]
    fields = dictionary.record_fields
    lines = [
        "| column | flsdb field | |",
        "|---|---|---|",
    ]
    for column in layout.columns:
        also = f" (also read: {', '.join(column.aliases)})" if column.aliases else ""
        if column.field:
            spec = fields[column.field]
            lines.append(f"| {column.header}{also} | `{column.field}` | {spec.label} |")
        else:
            lines.append(f"| {column.header}{also} | – | not used: {column.unused} |")
    absent = not_written(profile, dictionary)
    lines += ["", "Fields the layout has no column for: " + ", ".join(f"`{f}`" for f in absent)]
    return [*lines, ""]


def _labels(profile: Profile, dictionary: Dictionary) -> list[str]:
    if profile.values != "labels":
        return ["Values: the data dictionary's codes.", ""]
    tables = all_field_labels(profile, dictionary)
    lines = ["| field | label = code |", "|---|---|"]
    for name, labels in tables.items():
        lines.append(
            f"| `{name}` | "
            + "; ".join(f"{label} = `{code}`" for code, label in labels.written.items())
            + "".join(
                f"; {labels.lossy_names[key]} = `{found.code}` (with a warning)"
                for key, found in labels.lossy.items()
            )
            + " |"
        )
    lines += [""]
    for name, layout in profile.layouts.items():
        for codeset, codes in layout.export_labels.items():
            written = ", ".join(f"`{c}` as {label}" for c, label in codes.items())
            lines.append(f"- The {name} layout writes {codeset.replace('_', ' ')} {written}.")
    return [*lines, ""]


def _unknown(profile: Profile) -> str:
    if profile.unknown_columns == "error":
        return "an error"
    return "listed as information and not used"


def profile_markdown(profile: Profile, dictionary: Dictionary) -> str:
    """Everything a person needs to know to prepare or read a file under the profile."""
    text = profile.text
    lines = [
        f"## Profile `{profile.name}`: {profile.title}",
        "",
        profile.description,
        "",
        "- Columns are matched by "
        + (
            "the FLS-DB question number their title starts with, whatever title follows"
            if profile.match == "question"
            else "name (case, spaces and underscores aside)"
        )
        + (", or by flsdb's own names" if profile.dictionary_names else "")
        + f"; a column it does not know is {_unknown(profile)}.",
        "- CSV text: "
        + " or ".join(ENCODINGS[e] for e in text.encodings)
        + (" (with or without a byte-order mark)" if "utf-8" in text.encodings else "")
        + ", columns separated by "
        + " or ".join(f"'{d}'" for d in text.delimiters)
        + f"; written back as {ENCODINGS[text.export_encoding]}.",
    ]
    if profile.dates:
        lines.append(
            f"- Dates: {profile.dates.help.removeprefix('use ')} (an Excel date cell and an ISO "
            "date are read too)."
        )
    if profile.values == "labels":
        lines.append(
            f"- Several drugs in one cell are joined by '{profile.separator}'. "
            + "Labels are read in any case; a code's own words are read too. "
            + ", ".join(f"'{label}'" for label in profile.not_known)
            + " mean `not_known` (blank where a field has no `not_known`)."
        )
    if profile.absent_fields == "keep":
        lines.append(
            "- Fields the file has no column for keep a stored record's values (a new record "
            "has them blank)."
        )
    if profile.layouts:
        lines.append(
            "- Layouts: "
            + "; ".join(f"`{n}` ({layout.description})" for n, layout in profile.layouts.items())
            + f"; `{profile.default_layout}` is written unless another is asked for."
        )
    lines += ["", *_columns(profile, dictionary), *_labels(profile, dictionary)]
    if profile.notes:
        lines += ["Readings that are a judgement:", ""]
        lines += [f"- {note}" for note in profile.notes]
        lines.append("")
    return "\n".join(lines)


def profiles_markdown(profiles: list[Profile], dictionary: Dictionary) -> str:
    """Every profile, for the data dictionary's documentation."""
    return "\n".join(
        ["# Mapping profiles", "", *[profile_markdown(p, dictionary) for p in profiles]]
    )
