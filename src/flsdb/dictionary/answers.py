"""A code's words, as a person reads and writes an answer: `not_known` is "Not known",
`referred_to_gp` is "Referred to GP". An upload may hold either: both read as the code."""

from __future__ import annotations

import re

_CAPITALS = re.compile(r"\b(hrt|gp|dxa|fls|icb|nhs|aom)\b")


def answer_words(code: str) -> str:
    """The words of a code: 'not_ordered' -> 'Not ordered', 'referred_to_gp' -> 'Referred to GP'."""
    words = _CAPITALS.sub(lambda m: m.group(1).upper(), code.replace("_", " "))
    return words[:1].upper() + words[1:]


def answers_text(codes: tuple[str, ...] | list[str]) -> str:
    """The answers a field allows, in words: 'Yes, No, Not known'."""
    return ", ".join(answer_words(c) for c in codes)


def answer_key(text: str) -> str:
    """What a cell and a code have in common when they are the same answer: case, underscores
    and runs of spaces made irrelevant ('Not  known', 'not_known', 'NOT KNOWN')."""
    return " ".join(text.replace("_", " ").lower().split())
