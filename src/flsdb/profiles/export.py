"""Records written back in a profile's layout: its columns in order, codes as its labels, dates in
its format, several drugs joined by its separator; columns it has and flsdb does not keep are
left blank. Every value written is one the dictionary constrains (a code, a date, a number, an
NHS number, a postcode), so no cell can start a spreadsheet formula."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from flsdb.dictionary.schema import Dictionary, FieldSpec
from flsdb.errors import ConfigurationError
from flsdb.profiles.labels import field_labels
from flsdb.profiles.schema import Profile


def layout_columns(
    profile: Profile, dictionary: Dictionary, layout: str | None = None
) -> list[tuple[str, str | None]]:
    """(header, field or None for a column flsdb does not keep), in the layout's order; a
    profile without layouts writes the dictionary's columns."""
    chosen = profile.layout(layout)
    if chosen is None:
        return [(f.name, f.name) for f in dictionary.records]
    return [(c.header, c.field) for c in chosen.columns]


def not_written(profile: Profile, dictionary: Dictionary, layout: str | None = None) -> list[str]:
    """The record fields the layout has no column for (besides service_code)."""
    written = {f for _, f in layout_columns(profile, dictionary, layout)}
    return [f.name for f in dictionary.records if f.name not in written | {"service_code"}]


def _cell(profile: Profile, dictionary: Dictionary, spec: FieldSpec, layout: str | None) -> pl.Expr:
    value = pl.col(spec.name)
    if profile.values == "codes":
        return value.cast(pl.String)
    if spec.type in ("code", "therapy"):
        written = field_labels(profile, dictionary, spec, layout).written
        if spec.type == "code":
            return value.cast(pl.String).replace_strict(written, default=None)
        return (
            value.cast(pl.String)
            .str.split(";")
            .list.eval(pl.element().replace_strict(written, default=None))
            .list.join(profile.separator)
        )
    if spec.type == "date" and profile.dates is not None:
        return value.dt.strftime(profile.dates.write)
    return value.cast(pl.String)


def export_frame(
    records: pl.DataFrame, profile: Profile, dictionary: Dictionary, layout: str | None = None
) -> pl.DataFrame:
    """Typed records (the store's columns) as text in the profile's layout."""
    if profile.layouts and layout is not None and layout not in profile.layouts:
        raise ConfigurationError(
            f"The {profile.name} profile has no layout '{layout[:20]}'; its layouts are "
            f"{', '.join(profile.layouts)}."
        )
    fields = dictionary.record_fields
    return records.select(
        _cell(profile, dictionary, fields[name], layout).alias(header)
        if name is not None
        else pl.lit(None, pl.String).alias(header)
        for header, name in layout_columns(profile, dictionary, layout)
    )


def write_csv(frame: pl.DataFrame, path: Path, encoding: str) -> None:
    """CSV as Excel writes it: commas, CRLF line ends, in the given encoding."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(frame.columns)
        for row in frame.iter_rows():
            writer.writerow(["" if v is None else v for v in row])
