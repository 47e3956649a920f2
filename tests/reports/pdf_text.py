"""The text of a written PDF's pages, extracted once per test process: several report tests read
every page of the same PDFs (pypdf's extraction is most of their time), and a written report
does not change. The key holds the file's size and modification time, so a file written again
is read again."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pypdf import PdfReader


def pdf_of(paths: list[Path]) -> Path:
    """The PDF among one report's files."""
    return next(p for p in paths if p.suffix == ".pdf")


def raw_page_texts(pdf: Path) -> tuple[str, ...]:
    """Each page's text as pypdf extracts it."""
    stat = pdf.stat()
    return _extracted(pdf.resolve(), stat.st_size, stat.st_mtime_ns)


def page_texts(pdf: Path) -> list[str]:
    """Each page's text with its white space made single spaces."""
    return [" ".join(text.split()) for text in raw_page_texts(pdf)]


@cache
def _extracted(pdf: Path, size: int, modified: int) -> tuple[str, ...]:
    return tuple(page.extract_text() for page in PdfReader(pdf).pages)
