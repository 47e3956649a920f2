"""A field's labels under a profile: what each label it may hold reads as, and what each code is
written as. Built from the profile's label tables and the dictionary's code sets."""

from __future__ import annotations

from dataclasses import dataclass

from flsdb.dictionary.schema import Dictionary, FieldSpec
from flsdb.profiles.schema import LossyLabel, Profile

NOT_KNOWN = "not_known"
BLANK = ""  # a label read as "not recorded" (Don't know in a field without not_known)
LABELLED = ("code", "therapy")


def label_key(text: str) -> str:
    """A label with case, underscores and runs of spaces made irrelevant ('Not  ordered',
    'not_ordered' and 'NOT ORDERED' are one label)."""
    return " ".join(text.replace("_", " ").lower().split())


def code_words(code: str) -> str:
    """The words of a code as a label: 'not_ordered' -> 'Not ordered'."""
    words = code.replace("_", " ")
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class FieldLabels:
    """How one field's values are read and written under a profile."""

    field: str
    read: dict[str, str]  # label key -> code, or BLANK
    lossy: dict[str, LossyLabel]  # label key -> the coarser code and its warning
    lossy_names: dict[str, str]  # label key -> the label as the profile spells it
    drugs: frozenset[str]  # the field's drug codes (a therapy field), else empty
    written: dict[str, str]  # code -> the label written (the default layout)
    accepted: str  # the labels a person may write, as a sentence part

    def code_of(self, label: str) -> str | None:
        """The code a label reads as (BLANK for not recorded), or None when it is no label."""
        key = label_key(label)
        if key in self.lossy:
            return self.lossy[key].code
        return self.read.get(key)


def _codesets(spec: FieldSpec) -> tuple[str, ...]:
    if spec.type == "therapy":
        return tuple(s for s in (spec.drugs, spec.outcomes) if s)
    return (spec.codes,) if spec.codes else ()


def _labels(profile: Profile, codeset: str, code: str) -> tuple[str, ...]:
    given = profile.labels.get(codeset, {}).get(code, ())
    if code == NOT_KNOWN and profile.not_known:
        given = (*given, *profile.not_known)
    return (*given, code_words(code), code)


def field_labels(
    profile: Profile, dictionary: Dictionary, spec: FieldSpec, layout: str | None = None
) -> FieldLabels:
    """The label tables of a code or therapy field; ValueError when a label would read as two
    codes (the profile is then inconsistent)."""
    read: dict[str, str] = {}
    written: dict[str, str] = {}
    shown: list[str] = []
    chosen = profile.layout(layout)
    codesets = _codesets(spec)

    def add(label: str, code: str) -> None:
        key = label_key(label)
        if read.setdefault(key, code) != code:
            raise ValueError(
                f"profile {profile.name}: the label '{label}' of {spec.name} reads as both "
                f"{read[key] or 'blank'} and {code or 'blank'}"
            )

    for codeset in codesets:
        for code in dictionary.codesets[codeset].codes:
            labels = _labels(profile, codeset, code)
            for label in labels:
                add(label, code)
            override = chosen.export_labels.get(codeset, {}) if chosen else {}
            written[code] = override.get(code, labels[0])
            shown.append(labels[0])
    codes = {c for s in codesets for c in dictionary.codesets[s].codes}
    for label in profile.not_known:
        key = label_key(label)
        if key not in read:
            add(label, NOT_KNOWN if NOT_KNOWN in codes else BLANK)
    lossy_labels = [(lab, f) for s in codesets for lab, f in profile.lossy.get(s, {}).items()]
    lossy = {label_key(label): found for label, found in lossy_labels}
    drugs = frozenset(dictionary.codesets[spec.drugs].codes) if spec.drugs else frozenset()
    if spec.type == "therapy":
        drug_labels = [written[c] for c in sorted(drugs, key=list(written).index)]
        outcome_labels = [written[c] for c in written if c not in drugs]
        accepted = (
            f"drug names ({', '.join(drug_labels)})"
            + (f" joined by '{profile.separator}'" if spec.multiple else ", one of them")
            + f", or one of: {', '.join(outcome_labels)}"
        )
    else:
        shown += [f"{label} (stored as {found.code})" for label, found in lossy_labels]
        accepted = ", ".join(shown)
        if NOT_KNOWN not in codes and profile.not_known:
            accepted += f" (or {profile.not_known[0]}, read as blank)"
    return FieldLabels(
        field=spec.name,
        read=read,
        lossy=lossy,
        lossy_names={label_key(label): label for label, _ in lossy_labels},
        drugs=drugs,
        written=written,
        accepted=accepted,
    )


def all_field_labels(
    profile: Profile, dictionary: Dictionary, layout: str | None = None
) -> dict[str, FieldLabels]:
    """The label tables of every code and therapy field of the records file."""
    return {
        spec.name: field_labels(profile, dictionary, spec, layout)
        for spec in dictionary.records
        if spec.type in LABELLED
    }
