"""Mapping profiles: how another system's files (the national FLS-DB export) and flsdb's own
format relate to the data dictionary. Profiles are data (YAML in this package), validated on load;
import, export, `flsdb profile detect` and the documentation are derived from them."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from flsdb.dictionary import load_dictionary
from flsdb.errors import ConfigurationError
from flsdb.profiles.labels import all_field_labels
from flsdb.profiles.schema import Column, Layout, Profile

__all__ = ["DEFAULT", "Column", "Layout", "Profile", "load_profile", "profile_names"]

DEFAULT = "flsdb"


@cache
def profile_names() -> tuple[str, ...]:
    """The packaged profiles, flsdb's own first."""
    names = [
        p.name.removesuffix(".yaml")
        for p in resources.files("flsdb.profiles").iterdir()
        if p.name.endswith(".yaml")
    ]
    return tuple(sorted(names, key=lambda n: (n != DEFAULT, n)))


@cache
def load_profile(name: str | None = None) -> Profile:
    """A packaged profile, validated against the dictionary (cached: it is immutable)."""
    name = (name or DEFAULT).strip().lower()
    if name not in profile_names():
        raise ConfigurationError(
            f"There is no mapping profile '{name[:40]}'; the profiles are "
            f"{', '.join(profile_names())}."
        )
    text = resources.files("flsdb.profiles").joinpath(f"{name}.yaml").read_text("utf-8")
    profile = Profile.model_validate(yaml.safe_load(text))
    dictionary = load_dictionary()
    profile.check(dictionary)
    if profile.values == "labels":
        layouts: list[str | None] = [*profile.layouts] or [None]
        for layout in layouts:
            all_field_labels(profile, dictionary, layout)  # refuses a label read two ways
    return profile
