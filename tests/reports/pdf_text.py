"""The text of a written PDF's pages, extracted once per test process: several report tests read
every page of the same PDFs, and a written report does not change. The key holds the file's size
and modification time, so a file written again is read again.

The text is Poppler's (`pdftotext`, which the tests' system packages install with `pdftoppm`),
in the order the page draws it (`-raw`: no words joined across a line's hyphen, as pypdf reads
it too): about a twentieth of the processor time of pypdf's extraction, which was most of these
tests' time (2 CPU s for a 24-page national report, 0.1 with `pdftotext`)."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path


def pdf_of(paths: list[Path]) -> Path:
    """The PDF among one report's files."""
    return next(p for p in paths if p.suffix == ".pdf")


def raw_page_texts(pdf: Path) -> tuple[str, ...]:
    """Each page's text as `pdftotext -raw` extracts it."""
    stat = pdf.stat()
    return _extracted(pdf.resolve(), stat.st_size, stat.st_mtime_ns)


def page_texts(pdf: Path) -> list[str]:
    """Each page's text with its white space made single spaces."""
    return [" ".join(text.split()) for text in raw_page_texts(pdf)]


@cache
def _extracted(pdf: Path, size: int, modified: int) -> tuple[str, ...]:
    done = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True
    )
    # Each page's text ends with a form feed: the last split is what follows the last page.
    *pages, rest = done.stdout.decode("utf-8").split("\f")
    assert not rest.strip(), rest
    return tuple(pages)
