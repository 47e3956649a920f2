"""The shape an upload's rows take between ingest, which makes them, and storage, which writes
them: both read it from here, so neither imports the other.

- `ROW`: the column that carries each row's spreadsheet row number (the header is row 1).
- `LOST_LABEL`: the prefix of the columns a profile's mapping adds beside the fields, one per
  field whose label lost detail (`_label_lost__fracture_site` holds 'Non hip/non spine' where
  the file gave it), kept with the rows so that the store can note it in the audit trail.
- `storage_dtype`: each field's type in memory (code columns as Enums keep a million rows
  small), as ingest types the rows and the writer reads stored ones.
- `merged_columns`: the record fields a `keep` upload's checks read from the stored record.
"""

from __future__ import annotations

import polars as pl

from flsdb.dictionary.schema import Dictionary, FieldSpec

ROW = "_row"
LOST_LABEL = "_label_lost__"


def storage_dtype(spec: FieldSpec, dictionary: Dictionary) -> pl.DataType:
    """Typed column in memory; code columns as Enums keep a million rows small."""
    if spec.type == "code":
        return pl.Enum(dictionary.codes(spec))
    return {"date": pl.Date(), "integer": pl.Int64(), "number": pl.Float64()}.get(
        spec.type, pl.String()
    )


def merged_columns(dictionary: Dictionary) -> tuple[str, ...]:
    """The record fields a `keep` upload's checks read from the stored record: the required
    ones and those a rule across fields reads (either side); the others' checks see only the
    file's own cells."""
    found: set[str] = set()
    for spec in dictionary.records:
        refs = [*spec.not_before, *spec.warn_before]
        refs += [r.column for r in (spec.requires_when, spec.warn_unless) if r is not None]
        refs += [spec.date_pair] if spec.date_pair else []
        if refs or spec.warn_window_weeks or spec.age_at_fracture or spec.required:
            found.update([spec.name, *refs])
    return tuple(f.name for f in dictionary.records if f.name in found)
