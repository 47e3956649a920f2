"""Which mapping profile fits a file: each profile reads the file's header (and, where it reads
labels, every value), and says what it would map, leave unused, or fail on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flsdb.dictionary import Dictionary, load_dictionary
from flsdb.errors import FileFormatError
from flsdb.ingest.issues import ISSUE_SCHEMA
from flsdb.ingest.limits import UploadLimits
from flsdb.ingest.mapped import MappedUpload, apply_profile, text_options
from flsdb.ingest.reader import UploadFile, open_upload
from flsdb.profiles import Profile, load_profile, profile_names
from flsdb.profiles.columns import SERVICE, ColumnPlan, plan_columns

EXAMPLES = 3


@dataclass(frozen=True)
class ValueProblems:
    """Values of one column the profile cannot read: how many, and a few of them (never an
    identifier's)."""

    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Fit:
    """How one profile reads a file."""

    profile: Profile
    refused: str | None = None  # why the file cannot be read at all under this profile
    plan: ColumnPlan | None = None
    read_as: str = ""
    missing: tuple[str, ...] = ()  # required fields without a column (service_code aside)
    values: dict[str, ValueProblems] = field(default_factory=dict)  # column title -> problems
    lossy: dict[str, int] = field(default_factory=dict)  # column title -> rows

    @property
    def mapped(self) -> int:
        return len(self.plan.mapped) if self.plan else 0

    @property
    def fits(self) -> bool:
        """Readable, every required column there, and no column it would refuse."""
        if self.refused is not None or self.plan is None or not self.plan.mapped:
            return False
        unknown_refused = self.profile.unknown_columns == "error" and self.plan.unknown
        return not (self.missing or unknown_refused or self.plan.repeated)

    def rank(self) -> tuple[int, int, int, int]:
        unknown = len(self.plan.unknown) if self.plan else 0
        return (-int(self.fits), -self.mapped, unknown, sum(p.count for p in self.values.values()))


def _value_problems(upload: MappedUpload, dictionary: Dictionary) -> dict[str, ValueProblems]:
    for _ in upload.batches():
        pass
    assert upload.plan is not None
    identifiers = {
        upload.plan.title(c)
        for c, f in upload.plan.mapped.items()
        if dictionary.record_fields[f].identifiable
    }
    frames = [f for f in upload.source_issues() if f.height]
    errors = pl.concat([pl.DataFrame(schema=ISSUE_SCHEMA), *frames]).filter(
        (pl.col("level") == "error") & (pl.col("row") > 1)
    )
    found = {}
    for (column,), rows in errors.group_by("column", maintain_order=True):
        examples = () if column in identifiers else tuple(rows["value"].unique(maintain_order=True))
        found[str(column)] = ValueProblems(rows.height, examples[:EXAMPLES])
    return found


def fit(
    path: Path,
    profile: Profile,
    dictionary: Dictionary,
    limits: UploadLimits,
    sheet: str | None = None,
) -> Fit:
    """How the profile reads the file (refused in words when it cannot)."""
    try:
        upload: UploadFile = open_upload(path, limits, sheet, text_options(profile))
    except FileFormatError as exc:
        return Fit(profile, refused=str(exc))
    plan = plan_columns(profile, dictionary, upload.columns, upload.titles)
    read_as = ""
    notes = upload.source_issues()
    if notes:
        read_as = str(notes[0]["message"][0])
    fields = set(plan.mapped.values())
    missing = tuple(
        f.name for f in dictionary.records if f.required and f.name not in fields | {SERVICE}
    )
    result = Fit(profile, plan=plan, read_as=read_as, missing=missing)
    if profile.values != "labels" or not plan.mapped:
        return result
    mapped = apply_profile(upload, profile, dictionary, service=None if plan.has_service else "-")
    assert isinstance(mapped, MappedUpload)
    try:
        values = _value_problems(mapped, dictionary)
    except FileFormatError as exc:
        return Fit(profile, refused=str(exc), plan=plan)
    lossy = {plan.title(c): count for c, count in mapped.lossy_rows().items()}
    return Fit(profile, plan=plan, read_as=read_as, missing=missing, values=values, lossy=lossy)


def detect(path: Path, sheet: str | None = None, limits: UploadLimits | None = None) -> list[Fit]:
    """Every profile's reading of the file, the best fit first."""
    dictionary = load_dictionary()
    fits = [
        fit(path, load_profile(name), dictionary, limits or UploadLimits(), sheet)
        for name in profile_names()
    ]
    return sorted(fits, key=Fit.rank)
