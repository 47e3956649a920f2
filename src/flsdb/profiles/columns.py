"""Which column of a file holds which dictionary field under a profile, which are known and not
used, and which the profile does not know: decided from the header alone."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flsdb.dictionary.schema import Dictionary
from flsdb.profiles.schema import Profile, name_key, question_of

SERVICE = "service_code"
_NUMBERED = re.compile(r"^\d{1,2}\.\d{2}$")


@dataclass(frozen=True)
class ColumnPlan:
    """A file's columns under a profile. Columns are the upload's names (trimmed, lower case);
    `titles` gives each as its header wrote it."""

    mapped: dict[str, str]  # column -> dictionary field
    unused: dict[str, str]  # column -> why flsdb does not use it
    unknown: tuple[str, ...]  # columns the profile does not know
    repeated: dict[str, str]  # a second column for a field already mapped -> that field
    absent: tuple[str, ...]  # record fields with no column (service_code aside)
    titles: dict[str, str]

    @property
    def has_service(self) -> bool:
        return SERVICE in self.mapped.values()

    def title(self, column: str) -> str:
        return self.titles.get(column, column)

    def field_titles(self) -> dict[str, str]:
        """Each mapped field with the title of its column in the file."""
        return {field: self.title(column) for column, field in self.mapped.items()}


def _by_question(dictionary: Dictionary) -> dict[str, str]:
    return {
        f.question: f.name for f in dictionary.records if f.question and _NUMBERED.match(f.question)
    }


def _by_name(profile: Profile, dictionary: Dictionary) -> dict[str, tuple[str, str]]:
    """Name key -> ('field', name) or ('unused', reason), from the profile's layouts (titles and
    aliases) and, where the profile accepts them, the dictionary's names."""
    found: dict[str, tuple[str, str]] = {name_key(SERVICE): ("field", SERVICE)}
    if profile.dictionary_names or profile.match == "name":
        found.update({name_key(f.name): ("field", f.name) for f in dictionary.records})
    for column in profile.known_columns:
        target = ("field", column.field) if column.field else ("unused", column.unused or "")
        for header in (column.header, *column.aliases):
            found.setdefault(name_key(header), target)
    return found


def plan_columns(
    profile: Profile, dictionary: Dictionary, columns: tuple[str, ...], titles: tuple[str, ...]
) -> ColumnPlan:
    """Match every column of a header to a field, a known unused column, or nothing."""
    numbers = _by_question(dictionary) if profile.match == "question" else {}
    unused_numbers = {
        number: column.unused or ""
        for column in profile.known_columns
        if column.unused and (number := question_of(column.header))
    }
    names = _by_name(profile, dictionary)
    mapped: dict[str, str] = {}
    unused: dict[str, str] = {}
    unknown: list[str] = []
    repeated: dict[str, str] = {}
    shown = dict(zip(columns, titles or columns, strict=False))
    for column in columns:
        title = shown.get(column, column)
        number = question_of(title) if profile.match == "question" else None
        target: tuple[str, str] | None
        if number is not None:
            target = (
                ("field", numbers[number])
                if number in numbers
                else ("unused", unused_numbers[number])
                if number in unused_numbers
                else None
            )
        else:
            target = names.get(name_key(title))
        if target is None:
            unknown.append(column)
        elif target[0] == "unused":
            unused[column] = target[1]
        elif target[1] in mapped.values():
            repeated[column] = target[1]
        else:
            mapped[column] = target[1]
    fields = set(mapped.values())
    absent = tuple(f.name for f in dictionary.records if f.name not in fields and f.name != SERVICE)
    return ColumnPlan(
        mapped=mapped,
        unused=unused,
        unknown=tuple(unknown),
        repeated=repeated,
        absent=absent,
        titles=shown,
    )
