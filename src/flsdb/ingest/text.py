"""What a CSV file's text is: its encoding (UTF-8, with or without a byte-order mark, or
Windows-1252 where allowed) and its delimiter (comma, or semicolon where allowed).

Excel saves "CSV" in the computer's code page (Windows-1252 in the UK) and, in locales that
write decimal commas, with semicolons between columns. A file is UTF-8 when every byte of it
decodes as UTF-8 (text in Windows-1252 with any accented letter or curly quote almost never
does); otherwise it is read as Windows-1252 if the caller allows it. Flsdb's own format stays
UTF-8 with commas.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flsdb.errors import FileFormatError

_CHUNK = 1 << 20
UTF8 = "utf-8"
CP1252 = "windows-1252"
BOM = codecs.BOM_UTF8
NAMES = {UTF8: "UTF-8", "utf-8-sig": "UTF-8 (with a byte-order mark)", CP1252: "Windows-1252"}
DELIMITER_NAMES = {",": "commas", ";": "semicolons"}


@dataclass(frozen=True)
class TextOptions:
    """The encodings (in order of preference) and delimiters a CSV upload may use."""

    encodings: tuple[str, ...] = (UTF8,)
    delimiters: tuple[str, ...] = (",",)

    @property
    def detects(self) -> bool:
        """Whether there is a choice to make (and so one to report)."""
        return len(self.encodings) > 1 or len(self.delimiters) > 1


@dataclass(frozen=True)
class Scan:
    sha256: str
    encoding: str  # UTF8, "utf-8-sig" or CP1252
    carriage_returns_only: bool

    @property
    def needs_copy(self) -> bool:
        """Whether DuckDB must read a UTF-8 copy with line feeds instead of the file."""
        return self.encoding == CP1252 or self.carriage_returns_only


def _unreadable(name: str, byte: int, offset: int, options: TextOptions) -> FileFormatError:
    if CP1252 in options.encodings:
        return FileFormatError(
            f"{name} is neither UTF-8 nor Windows-1252 text (unreadable byte 0x{byte:02x} at "
            f"position {offset}). Save it from Excel as 'CSV UTF-8' and upload it again."
        )
    return FileFormatError(
        f"{name} is not UTF-8 text (unreadable byte 0x{byte:02x} at position {offset}). Save it "
        "as 'CSV UTF-8' and upload it again."
    )


def scan_text(path: Path, options: TextOptions) -> Scan:
    """SHA-256 of the file, checking that it is text in an allowed encoding; and whether its
    lines end in bare carriage returns (streamed, one pass)."""
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder(UTF8)()
    utf8_failure: tuple[int, int] | None = None  # (byte, position)
    cp1252_failure: tuple[int, int] | None = None
    allow_cp1252 = CP1252 in options.encodings
    position = 0
    saw_cr = saw_lf = False
    head = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            head = head or chunk[:3]
            if b"\x00" in chunk:
                raise FileFormatError(f"{path.name} is not a CSV text file (it holds binary data).")
            saw_cr = saw_cr or b"\r" in chunk
            saw_lf = saw_lf or b"\n" in chunk
            if utf8_failure is None:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8_failure = (chunk[exc.start], position + exc.start)
            if allow_cp1252 and cp1252_failure is None:
                try:
                    chunk.decode(CP1252)
                except UnicodeDecodeError as exc:
                    cp1252_failure = (chunk[exc.start], position + exc.start)
            if utf8_failure is not None and (not allow_cp1252 or cp1252_failure is not None):
                failure = cp1252_failure if allow_cp1252 else utf8_failure
                assert failure is not None
                raise _unreadable(path.name, *failure, options)
            position += len(chunk)
    ends_inside = False
    if utf8_failure is None:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            ends_inside = True
    if utf8_failure is None and not ends_inside:
        encoding = "utf-8-sig" if head.startswith(BOM) else UTF8
    elif allow_cp1252 and cp1252_failure is None:
        encoding = CP1252
    elif ends_inside:
        raise FileFormatError(f"{path.name} ends in the middle of a character: not UTF-8.")
    else:
        byte, offset = cp1252_failure or utf8_failure or (0, position)
        raise _unreadable(path.name, byte, offset, options)
    return Scan(digest.hexdigest(), encoding, saw_cr and not saw_lf)


def utf8_copy(path: Path, scan: Scan) -> Path:
    """A temporary copy in UTF-8 with line feeds (deleted with the upload; readable by its owner
    only, as it holds the upload's values)."""
    handle, name = tempfile.mkstemp(prefix="flsdb-upload-", suffix=".csv")
    with os.fdopen(handle, "wb") as out, path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            if scan.encoding == CP1252:
                chunk = chunk.decode(CP1252).encode(UTF8)
            if scan.carriage_returns_only:
                chunk = chunk.replace(b"\r", b"\n")
            out.write(chunk)
    return Path(name)


def choose_delimiter(line: str, options: TextOptions) -> str:
    """The allowed delimiter that splits the header line into the most columns (a comma when
    none splits it)."""
    best, most = options.delimiters[0], 0
    for delimiter in options.delimiters:
        try:
            fields = len(next(csv.reader(io.StringIO(line), delimiter=delimiter)))
        except (csv.Error, StopIteration):
            continue
        if fields > most:
            best, most = delimiter, fields
    return best


def described(encoding: str, delimiter: str) -> str:
    """'Windows-1252 text, with semicolons between columns'."""
    between = DELIMITER_NAMES[delimiter]
    return f"{NAMES.get(encoding, encoding)} text, with {between} between columns"
