"""A CSV file's encoding and delimiter where a profile allows more than UTF-8 and commas: found,
said, and the strict checks kept; flsdb's own format still UTF-8 with commas."""

from __future__ import annotations

from pathlib import Path

import pytest

from flsdb.errors import FileFormatError
from flsdb.ingest import open_upload
from flsdb.ingest.csv_file import CsvUpload
from flsdb.ingest.text import TextOptions

WIDE = TextOptions(("utf-8", "windows-1252"), (",", ";"))


def _open(path: Path, text: TextOptions = WIDE) -> CsvUpload:
    upload = open_upload(path, text=text)
    assert isinstance(upload, CsvUpload)
    return upload


@pytest.mark.parametrize(
    ("data", "encoding", "delimiter"),
    [
        ("sex;care\r\nfemale;Donít know\r\n".encode("cp1252"), "windows-1252", ";"),
        ("sex,care\nfemale,Don’t know\n".encode("cp1252"), "windows-1252", ","),
        (b"\xef\xbb\xbfsex;care\nfemale;x\n", "utf-8-sig", ";"),
        ("sex,care\nfemale,Donâ€™t know\n".encode(), "utf-8", ","),
        ("sex;care\rfemale;Donít\r".encode("cp1252"), "windows-1252", ";"),
    ],
)
def test_encoding_and_delimiter_are_found(
    tmp_path: Path, data: bytes, encoding: str, delimiter: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    upload = _open(path)
    assert (upload.encoding, upload.delimiter) == (encoding, delimiter)
    assert upload.columns == ("sex", "care")
    frame = upload.read_all()
    assert frame["sex"].to_list() == ["female"]
    assert frame["care"][0] in ("Donít know", "Don’t know", "x", "Donâ€™t know", "Donít")
    (note,) = upload.source_issues()
    assert note["level"][0] == "info" and note["message"][0].startswith("f.csv was read as ")


def test_bytes_neither_encoding_has_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b"sex,care\nfemale,\x81\x8d\n")
    with pytest.raises(FileFormatError, match=r"neither UTF-8 nor Windows-1252 text .*0x81"):
        _open(path)


def test_utf8_then_a_stray_byte_is_refused_not_misread(tmp_path: Path) -> None:
    """UTF-8 text holding a byte Windows-1252 lacks ('Ł' is C5 81), then a byte that is not
    UTF-8, more than a read-chunk later: neither encoding reads the whole file."""
    path = tmp_path / "mixed.csv"
    body = ("sex,care\n" + "female,Łódź\n" * 100_000).encode() + b"male,\xe9\n"
    path.write_bytes(body)
    with pytest.raises(FileFormatError, match="neither UTF-8 nor Windows-1252"):
        _open(path)


def test_the_strict_row_check_holds_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_bytes("sex;care\nfemale;Donít know;extra\n".encode("cp1252"))
    with pytest.raises(FileFormatError, match=r"ragged\.csv line 2 has more than 2 fields"):
        _open(path).read_all()


def test_flsdb_format_stays_utf8_with_commas(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("sex,care\nfemale,Donít\n".encode("cp1252"))
    with pytest.raises(FileFormatError, match="is not UTF-8 text"):
        open_upload(latin)
    semi = tmp_path / "semi.csv"
    semi.write_text("sex;care\nfemale;x\n")
    with pytest.raises(FileFormatError, match="does not look like a comma-separated file"):
        open_upload(semi)
    plain = tmp_path / "plain.csv"
    plain.write_text("sex,care\nfemale,x\n")
    assert open_upload(plain).source_issues() == []
