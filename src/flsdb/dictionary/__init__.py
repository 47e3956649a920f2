"""The data dictionary: one declarative definition of every services and record column."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from flsdb.dictionary.schema import CodeSet, Dictionary, FieldSpec

__all__ = ["CodeSet", "Dictionary", "FieldSpec", "load_dictionary"]


@cache
def load_dictionary() -> Dictionary:
    """Load and validate the packaged dictionary (cached: it is immutable)."""
    text = resources.files("flsdb.dictionary").joinpath("dictionary.yaml").read_text("utf-8")
    return Dictionary.model_validate(yaml.safe_load(text))
