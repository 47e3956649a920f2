"""Uploads read through a mapping profile: another system's columns, labels and dates turned
into the dictionary's columns, codes and ISO dates batch by batch, before validation, so that
every rule downstream is the one flsdb's own format meets.

What cannot be mapped is an issue naming the file's column and the value as written, with the
labels that would be accepted; columns the profile knows and flsdb does not use are listed once,
as information. A cell whose label cannot be read is left blank for the rules that follow (and
is not reported again as blank).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl

from flsdb.dictionary.schema import Dictionary, FieldSpec
from flsdb.errors import FileFormatError
from flsdb.ingest.issues import ROW, IssueCollector, Level, issue_frame, single_issue
from flsdb.ingest.parse import REPORTED
from flsdb.ingest.reader import UploadFile
from flsdb.ingest.text import TextOptions
from flsdb.ingest.validate import LOST_LABEL
from flsdb.profiles.columns import SERVICE, ColumnPlan, plan_columns
from flsdb.profiles.labels import BLANK, FieldLabels, field_labels, label_key
from flsdb.profiles.schema import Profile

UNREAD = "\x00unread"  # what a label no table holds maps to, before it is reported
LOSSY_ROWS_SHOWN = 5
_WORK = "\x00mapped "  # the working columns' names: no file's column is named so


def _key(text: pl.Expr) -> pl.Expr:
    """As `label_key`: lower case, underscores as spaces, runs of spaces as one."""
    return (
        text.str.to_lowercase()
        .str.replace_all("_", " ", literal=True)
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


@dataclass(frozen=True)
class _Mapped:
    value: pl.Expr  # the value in flsdb's terms, as text (null when blank)
    failed: pl.Expr  # a value the profile cannot read
    message: pl.Expr | str
    lost: pl.Expr | None = None  # the label as written where it lost detail
    # Working columns the expressions above read, worked out first (each once, however often
    # the expressions use it).
    first: tuple[pl.Expr, ...] = ()


@dataclass
class MappedUpload(UploadFile):
    """An upload whose batches are the dictionary's columns, mapped by a profile."""

    inner: UploadFile | None = None
    profile: Profile | None = None
    plan: ColumnPlan | None = None
    dictionary: Dictionary | None = None
    service: str | None = None
    _found: IssueCollector = field(default_factory=IssueCollector)
    # (column, label) -> [rows read from a label that lost detail, the first of them...]
    _lossy: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _expressions: dict[str, _Mapped] = field(default_factory=dict)  # by the file's column

    def batches(self, rows: int | None = None) -> Iterator[pl.DataFrame]:
        assert self.inner is not None
        self._found = IssueCollector()
        self._lossy = {}
        for raw in self.inner.batches(rows):
            yield self._map(raw)

    def _mapped(self, spec: FieldSpec, column: str) -> _Mapped:
        """The column's expressions, built once per upload (the plan and profile are fixed)."""
        assert self.profile is not None and self.dictionary is not None and self.plan
        if column not in self._expressions:
            self._expressions[column] = map_column(
                self.profile, self.dictionary, spec, column, self.plan.title(column)
            )
        return self._expressions[column]

    def _map(self, raw: pl.DataFrame) -> pl.DataFrame:
        """The batch in the dictionary's columns. Each column's mapping is worked out once, in
        one pass with the others (its value, whether it failed, the label it lost detail from,
        kept beside the file's columns), and the issues are read from that."""
        assert self.plan is not None and self.dictionary is not None
        fields = self.dictionary.record_fields
        mapped = [(c, fields[f], self._mapped(fields[f], c)) for c, f in self.plan.mapped.items()]
        work = raw.with_columns(e for _, _, m in mapped for e in m.first).with_columns(
            expression
            for i, (_, _, m) in enumerate(mapped)
            for expression in (
                m.failed.fill_null(False).alias(f"{_WORK}failed{i}"),
                m.value.alias(f"{_WORK}value{i}"),
                *([] if m.lost is None else [m.lost.alias(f"{_WORK}lost{i}")]),
            )
        )
        out: list[pl.Expr] = [pl.col(ROW)]
        reported: list[pl.Expr] = []
        for i, (column, spec, m) in enumerate(mapped):
            failed = pl.col(f"{_WORK}failed{i}")
            if work[f"{_WORK}failed{i}"].any():
                bad = work.filter(failed)
                title = self.plan.title(column)
                self._found.add(issue_frame(bad, title, "error", m.message, pl.col(column)))
            value = pl.col(f"{_WORK}value{i}")
            out.append(pl.when(failed).then(None).otherwise(value).alias(spec.name))
            if spec.required:
                reported.append(pl.when(failed).then(pl.lit(spec.name)))
            if m.lost is not None:
                if work[f"{_WORK}lost{i}"].is_not_null().any():
                    lost = work.select(ROW, pl.col(f"{_WORK}lost{i}").alias("lost"))
                    by_label = lost.drop_nulls("lost").group_by("lost", maintain_order=True)
                    for (label,), rows in by_label:
                        counted = self._lossy.setdefault((column, str(label)), [0])
                        counted[0] += rows.height
                        counted += rows[ROW].head(LOSSY_ROWS_SHOWN + 1 - len(counted)).to_list()
                out.append(pl.col(f"{_WORK}lost{i}").alias(f"{LOST_LABEL}{spec.name}"))
        if self.service is not None:
            if self.plan.has_service:
                self._check_service(raw)
            else:
                out.append(pl.lit(self.service).alias(SERVICE))
        if reported:
            out.append(pl.concat_list(reported).list.drop_nulls().alias(REPORTED))
        return work.select(out)

    def _check_service(self, raw: pl.DataFrame) -> None:
        assert self.plan is not None and self.service is not None
        column = next(c for c, f in self.plan.mapped.items() if f == SERVICE)
        other = raw.filter(pl.col(column).str.to_uppercase() != self.service.upper())
        if other.height:
            self._found.add(
                issue_frame(
                    other,
                    self.plan.title(column),
                    "error",
                    f"this upload is for the FLS {self.service}; the row names another",
                    pl.col(column),
                )
            )

    def lossy_rows(self) -> dict[str, int]:
        """Per column, the rows read from a label that lost detail."""
        counts: dict[str, int] = {}
        for (column, _), (count, *_rows) in self._lossy.items():
            counts[column] = counts.get(column, 0) + count
        return counts

    def source_issues(self) -> list[pl.DataFrame]:
        collector = IssueCollector()
        self.collect_issues(collector)
        return collector.frames

    def collect_issues(self, collector: IssueCollector) -> None:
        assert self.inner is not None and self.plan is not None
        self.inner.collect_issues(collector)
        collector.extend(
            header_issues(self.profile, self.plan, self.dictionary, self.keeps_absent_fields)
        )
        collector.absorb(self._found)
        collector.extend(self._lossy_warnings())

    def _lossy_warnings(self) -> list[pl.DataFrame]:
        assert self.plan is not None and self.profile is not None and self.dictionary
        warnings = []
        for (column, label), (count, *rows) in self._lossy.items():
            spec = self.dictionary.record_fields[self.plan.mapped[column]]
            labels = field_labels(self.profile, self.dictionary, spec)
            found = labels.lossy[label_key(label)]
            shown = ", ".join(str(r) for r in rows[:LOSSY_ROWS_SHOWN])
            more = ", ..." if count > LOSSY_ROWS_SHOWN else ""
            where = f"row {shown}" if count == 1 else f"{count:,} rows ({shown}{more})"
            warnings.append(
                single_issue(
                    "warning",
                    None,
                    self.plan.title(column),
                    "",
                    f"{where[:1].upper()}{where[1:]}: {found.warning}.",
                )
            )
        return warnings

    def issue_columns(self) -> dict[str, str]:
        assert self.plan is not None and self.profile is not None
        titles = self.plan.field_titles()
        layout = self.profile.layout()
        for column in layout.columns if layout else ():
            if column.field in self.plan.absent:
                titles.setdefault(column.field, column.header)
        return titles


def map_column(
    profile: Profile, dictionary: Dictionary, spec: FieldSpec, column: str, title: str
) -> _Mapped:
    """The expressions that map one column of the file to a field."""
    raw = pl.col(column)
    if profile.values == "codes":
        return _Mapped(raw, pl.lit(False), "")
    repaired = (
        raw.str.replace_many(list(profile.repairs), list(profile.repairs.values()))
        if profile.repairs
        else raw
    )
    not_known = _key(repaired).is_in([label_key(label) for label in profile.not_known])
    where = f"{spec.label} ({title})"
    if spec.type in ("code", "therapy"):
        labels = field_labels(profile, dictionary, spec)
        return _labelled(spec, labels, column, repaired, where, profile.separator)
    if spec.type == "date":
        assert profile.dates is not None
        read = pl.coalesce(
            [
                repaired.str.to_datetime(f, strict=False).dt.date()
                if "%H" in f
                else repaired.str.to_date(f, strict=False)
                for f in profile.dates.read
            ]
        )
        parsed = pl.col(f"{_WORK}date {column}")  # `read`, worked out once (first)
        # A year of fewer than four digits (5/10/26) is refused, never read as the year 26.
        short = parsed.is_not_null() & (parsed.dt.year() < 1000)
        parsed = pl.when(short).then(None).otherwise(parsed)
        failed = raw.is_not_null() & parsed.is_null() & ~not_known
        problem = f"is not a date; {profile.dates.help}"
        short_problem = (
            f"has a two-digit year, which could be any century; {profile.dates.help} with the "
            "year in full (05/10/2026)"
        )
        message = (
            pl.when(short)
            .then(_message(spec, where, short_problem, column))
            .otherwise(_message(spec, where, problem, column))
        )
        return _Mapped(
            parsed.dt.strftime("%Y-%m-%d"),
            failed | short,
            message,
            first=(read.alias(f"{_WORK}date {column}"),),
        )
    value = pl.when(not_known).then(None).otherwise(raw)
    if spec.type == "number":
        # A decimal comma, as Excel writes numbers where semicolons separate the columns.
        comma = raw.str.contains(r"^[+-]?[0-9]+,[0-9]+$")
        value = pl.when(comma).then(raw.str.replace(",", ".", literal=True)).otherwise(value)
    return _Mapped(value, pl.lit(False), "")


def _message(spec: FieldSpec, where: str, problem: str, column: str | None = None) -> pl.Expr:
    """'Sex (1.03 Gender): 'Femal' is not ...': the value as written, except an identifier's
    (an NHS number, date of birth or postcode is never repeated in a message)."""
    if spec.identifiable or column is None:
        return pl.lit(f"{where}: the value {problem}")
    return pl.lit(f"{where}: '") + pl.col(column) + pl.lit(f"' {problem}")


def _labelled(
    spec: FieldSpec, labels: FieldLabels, column: str, repaired: pl.Expr, where: str, sep: str
) -> _Mapped:
    raw = pl.col(column)
    table = {**labels.read, **{k: v.code for k, v in labels.lossy.items()}}
    if spec.type == "therapy":
        parts = (
            repaired.str.split(sep)
            .list.eval(_key(pl.element()))
            .list.eval(pl.element().filter(pl.element() != ""))
            .list.eval(pl.element().replace_strict(table, default=UNREAD, return_dtype=pl.String))
            .list.eval(pl.element().filter(pl.element() != BLANK))
        )
        failed = raw.is_not_null() & parts.list.contains(UNREAD)
        value: pl.Expr = pl.when(parts.list.len() > 0).then(parts.list.join(";"))
        lost = None
    else:
        key = _key(repaired)
        code = key.replace_strict(table, default=UNREAD, return_dtype=pl.String)
        failed = raw.is_not_null() & (code == UNREAD)
        value = pl.when(raw.is_null() | (code == BLANK)).then(None).otherwise(code)
        # The profile's own spelling of the label (as written, it may hold any spacing).
        canonical = labels.lossy_names
        lost = (
            pl.when(key.is_in(list(canonical))).then(
                key.replace_strict(canonical, default=None, return_dtype=pl.String)
            )
            if canonical
            else None
        )
    problem = f"is not a label flsdb reads; accepted: {labels.accepted}"
    return _Mapped(value, failed, _message(spec, where, problem, column), lost)


def header_issues(
    profile: Profile | None, plan: ColumnPlan, dictionary: Dictionary | None, keeps: bool
) -> list[pl.DataFrame]:
    """Columns not used, not known or given twice; fields the file has no column for."""
    assert profile is not None and dictionary is not None
    issues = [
        single_issue("info", 1, plan.title(c), "", f"not used by flsdb: {why}")
        for c, why in plan.unused.items()
    ]
    level: Level = "error" if profile.unknown_columns == "error" else "info"
    issues += [
        single_issue(
            level,
            1,
            plan.title(c),
            "",
            f"a column the {profile.title} profile does not know"
            + ("; it is not used" if level == "info" else "; remove it or rename it"),
        )
        for c in plan.unknown
    ]
    fields = dictionary.record_fields
    issues += [
        single_issue(
            "error",
            1,
            plan.title(c),
            "",
            f"a second column for {f} ({fields[f].label}); keep one of them",
        )
        for c, f in plan.repeated.items()
    ]
    optional = [f for f in plan.absent if not fields[f].required]
    if optional:
        named = ", ".join(
            f"{f} ({fields[f].question})" if fields[f].question else f for f in optional
        )
        what = (
            "new records have them blank and stored records keep their values"
            if keeps
            else "they are stored blank"
        )
        message = f"The file has no column for {named}: {what}."
        issues.append(single_issue("info", None, "", "", message))
    return issues


def text_options(profile: Profile) -> TextOptions:
    """The encodings and delimiters a CSV file may have under the profile."""
    return TextOptions(profile.text.encodings, profile.text.delimiters)


def apply_profile(
    upload: UploadFile,
    profile: Profile,
    dictionary: Dictionary,
    service: str | None = None,
) -> UploadFile:
    """The upload read through the profile (flsdb's own format without --service is read as it
    is); FileFormatError when no FLS is named for a file without a service_code column."""
    plan = plan_columns(profile, dictionary, upload.columns, upload.titles)
    if not plan.mapped and len(upload.columns) > 2:
        raise FileFormatError(
            f"None of the columns of {upload.name} is one the {profile.title} has: choose the "
            "layout it was written in (a national FLS-DB export, for instance).",
            command_line="'flsdb profile detect FILE' says which profile reads it (--profile "
            "fls-db for the national FLS-DB export).",
        )
    if profile.values == "codes" and service is None:
        return upload
    if service is None and not plan.has_service:
        raise FileFormatError(
            f"{upload.name} has no column naming the FLS: say which FLS its records belong to.",
            command_line="Give it with --service CODE.",
        )
    fields = [f.name for f in dictionary.records]
    columns = [f for f in fields if f in plan.mapped.values()]
    if service is not None and not plan.has_service:
        columns.append(SERVICE)
    return MappedUpload(
        path=upload.path,
        name=upload.name,
        sha256=upload.sha256,
        columns=tuple(sorted(columns, key=fields.index)),
        limits=upload.limits,
        titles=tuple(columns),
        keeps_absent_fields=profile.absent_fields == "keep",
        inner=upload,
        profile=profile,
        plan=plan,
        dictionary=dictionary,
        service=service.strip().upper() if service else None,
    )
