"""Careless and hostile uploads: identifiers that only look right, files built to exhaust memory
or time. Each is refused with one sentence, within seconds; the bombs are made here, a few MB."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from flsdb.errors import FileFormatError
from flsdb.ingest import open_upload, validate
from flsdb.ingest.limits import MB, WEB, UploadLimits
from tests.factory import nhs_number, record, write_records

UPLOAD_DATE = __import__("datetime").date(2026, 1, 31)


def _nhs_issues(tmp_path: Path, value: str) -> list[str]:
    path = write_records(tmp_path / "nhs.csv", [record(nhs_number=value)])
    issues = validate(open_upload(path), "records", upload_date=UPLOAD_DATE).issues
    return [i.message for i in issues.issues() if i.column == "nhs_number"]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (
            "\u0668\u0663\u0660\u0661\u0666\u0666\u0661\u0663\u0661\u0663",
            "10 digits 0-9",
        ),  # ٨٣٠١٦٦١٣١٣
        (
            "\uff18\uff13\uff10\uff11\uff16\uff16\uff11\uff13\uff11\uff13",
            "10 digits 0-9",
        ),  # full width
        ("0000000000", "placeholder"),
        ("9999999999", "placeholder"),
        ("0123456789", "placeholder"),
        ("830166131", "10 digits 0-9"),
        ("83016613134", "10 digits 0-9"),
        ("830-166-1313", "10 digits 0-9"),
        ("8301661314", "check digit"),
    ],
)
def test_nhs_numbers_that_only_look_right(tmp_path: Path, value: str, fragment: str) -> None:
    messages = _nhs_issues(tmp_path, value)
    assert len(messages) == 1 and fragment in messages[0], messages


def test_nhs_number_with_spaces_is_stored_without_them(tmp_path: Path) -> None:
    assert _nhs_issues(tmp_path, "830 166 1313") == []
    path = write_records(tmp_path / "spaced.csv", [record(nhs_number="830 166 1313")])
    table = validate(open_upload(path), "records", upload_date=UPLOAD_DATE)
    assert table.frame["nhs_number"].to_list() == ["8301661313"]


def _refused_quickly(path: Path, fragment: str, limits: UploadLimits | None = None) -> float:
    # CPU seconds of this process, not wall time: the bound is on the work the reader does, which
    # other processes on a busy machine do not change.
    started = time.process_time()
    with pytest.raises(FileFormatError) as caught:
        open_upload(path, limits).read_all()
    elapsed = time.process_time() - started
    assert fragment in str(caught.value), str(caught.value)
    return elapsed


def _peak_memory_mb(code: str) -> tuple[float, str]:
    """Run `code` in a fresh interpreter; its own peak memory (MB) and what it printed. VmHWM,
    not ru_maxrss: Linux carries the parent's (this test process's) peak across exec into it."""
    probe = (
        f"{code}\nimport pathlib\nstatus = pathlib.Path('/proc/self/status').read_text()\n"
        "peak = next(x for x in status.splitlines() if x.startswith('VmHWM:'))\n"
        "print(int(peak.split()[1]) / 1024)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    lines = done.stdout.strip().splitlines()
    return float(lines[-1]), "\n".join(lines[:-1])


def test_a_million_columns_in_the_header(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n1\n")
    assert path.stat().st_size > 6 * MB
    assert _refused_quickly(path, "the header row is longer than 1,024 KB") < 5
    short = tmp_path / "short.csv"
    short.write_text(",".join("x" * 2 for _ in range(1000)) + "\n")
    _refused_quickly(short, "the header row has 1,000 columns; an upload may have at most 300")
    peak, said = _peak_memory_mb(
        "from pathlib import Path\nfrom flsdb.ingest import open_upload\n"
        f"try:\n    open_upload(Path({str(path)!r}))\nexcept Exception as exc:\n    print(exc)"
    )
    assert "header row is longer" in said
    assert peak < 400, peak


def test_the_file_size_limit_is_checked_first(tmp_path: Path) -> None:
    path = write_records(tmp_path / "big.csv", [record()] * 15_000)
    limits = replace(UploadLimits(), max_bytes=1 * MB)
    assert path.stat().st_size > MB
    _refused_quickly(path, "an upload may be at most 1 MB", limits)
    assert WEB.max_bytes == 50 * MB


def test_a_huge_cell(tmp_path: Path) -> None:
    path = tmp_path / "cell.csv"
    path.write_text("service_code,service_name\nA1B," + "x" * (50 * MB) + "\n")
    assert _refused_quickly(path, "cell.csv line 2 is longer than 4 MB") < 10
    path.write_text("service_code,service_name\nA1B," + "x" * (1 * MB) + "\n")
    _refused_quickly(path, "row 2, column service_name: the cell holds 1,048,576 characters")


def _xlsx_with_sheet(path: Path, sheet_xml_chunks, shared: bytes | None = None) -> Path:
    """A minimal workbook whose sheet XML is streamed in (so a bomb never sits in memory)."""
    book = openpyxl.Workbook()
    book.active.append(["sex"])
    book.active.append(["female"])
    book.save(path)
    with zipfile.ZipFile(path) as original:
        parts = {n: original.read(n) for n in original.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                out.writestr(name, data)
        if shared is not None:
            out.writestr("xl/sharedStrings.xml", shared)
        with out.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for chunk in sheet_xml_chunks:
                sheet.write(chunk)
    return path


_HEAD = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>sex</t></is></c></row>'
)
_TAIL = b"</sheetData></worksheet>"


def _deflated(data: bytes, last: bool = False) -> bytes:
    """`data` as raw deflate blocks that stand alone (a full flush), the stream's last if so."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)


def _xlsx_bomb(path: Path, block: bytes, repeats: int) -> Path:
    """A minimal workbook whose sheet is `block` repeated between the head and tail, its zip
    written here: the block is compressed once and its deflate blocks repeated, as compressed
    as deflate makes them, without 1.6 CPU s of compressing hundreds of MB (CRCs and sizes are
    the real ones: the file unpacks as any zip does)."""
    book = openpyxl.Workbook()
    book.active.append(["sex"])
    book.save(path)
    with zipfile.ZipFile(path) as original:
        parts = {n: original.read(n) for n in original.namelist()}
    crc = zlib.crc32(_HEAD)
    for _ in range(repeats):
        crc = zlib.crc32(block, crc)
    sheet = (zlib.crc32(_TAIL, crc), len(_HEAD) + len(block) * repeats + len(_TAIL))
    repeated, members = _deflated(block), []
    with path.open("wb") as out:
        for name, data in parts.items():
            if name == "xl/worksheets/sheet1.xml":
                (crc, size), chunks = sheet, [_deflated(_HEAD), *[repeated] * repeats]
                chunks.append(_deflated(_TAIL, last=True))
            else:
                crc, size, chunks = zlib.crc32(data), len(data), [_deflated(data, last=True)]
            packed, offset = sum(len(c) for c in chunks), out.tell()
            members.append((name.encode(), struct.pack("<3L", crc, packed, size), offset))
            # A local header: version 2.0, no flags, deflated, 1 Jan 1980, CRC and sizes.
            out.write(struct.pack("<4s5H", b"PK\x03\x04", 20, 0, 8, 0, 0x21) + members[-1][1])
            out.write(struct.pack("<2H", len(name), 0) + name.encode())
            out.writelines(chunks)
        start = out.tell()
        for encoded, sizes, offset in members:  # the central directory, then its end
            out.write(struct.pack("<4s6H", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21) + sizes)
            out.write(struct.pack("<5H2L", len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
        ends = (len(members), len(members), out.tell() - start, start, 0)
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, *ends))
    return path


def test_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    row = b'<row><c t="inlineStr"><is><t>female</t></is></c></row>'
    # ~600 MB of XML, about 2 MB compressed.
    path = _xlsx_bomb(tmp_path / "bomb.xlsx", row * 20_000, 600)
    with zipfile.ZipFile(path) as bomb:  # a zip as any other: its parts' sizes as written
        sizes = {i.filename: i.file_size for i in bomb.infolist()}
        assert bomb.read("[Content_Types].xml").startswith(b"<Types ")  # read back whole
    assert sizes["xl/worksheets/sheet1.xml"] == len(_HEAD) + len(row) * 20_000 * 600 + len(_TAIL)
    assert path.stat().st_size < 5 * MB
    assert _refused_quickly(path, "bomb.xlsx unpacks to") < 3


def test_shared_strings_beyond_the_limit(tmp_path: Path) -> None:
    strings = "".join(f"<si><t>{i:08d}{'x' * 40}</t></si>" for i in range(60_000))
    shared = (
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{strings}</sst>'
    ).encode()
    path = _xlsx_with_sheet(tmp_path / "strings.xlsx", [_HEAD, _TAIL], shared)
    limits = replace(UploadLimits(), max_shared_strings_bytes=1 * MB)
    _refused_quickly(path, "MB of text; an upload may hold at most 1 MB", limits)


def test_rows_beyond_excel_without_a_dimension_are_counted_fast(tmp_path: Path) -> None:
    # Rows that differ (so the XML compresses like a real sheet's), repeated past Excel's limit.
    block = b"".join(
        b'<row r="%d"><c r="A%d" t="n"><v>%d</v></c></row>' % (n, n, n * 7919 % 100_003)
        for n in range(2, 10_002)
    )

    def chunks():
        yield _HEAD
        for _ in range(110):
            yield block
        yield _TAIL

    path = _xlsx_with_sheet(tmp_path / "long.xlsx", chunks())
    assert _refused_quickly(path, "has more than 1,048,575 rows, the most one upload may hold") < 10
    small = replace(UploadLimits(), max_rows=1000)
    _refused_quickly(path, "has more than 1,000 rows", small)


def test_declared_dimension_beyond_the_limit(tmp_path: Path) -> None:
    head = _HEAD.replace(b"<sheetData>", b'<dimension ref="A1:A2000001"/><sheetData>')
    path = _xlsx_with_sheet(tmp_path / "declared.xlsx", [head, _TAIL])
    assert _refused_quickly(path, "has more than 1,048,575 rows") < 2


def test_formula_text_in_cells_is_data_not_a_formula(tmp_path: Path) -> None:
    """A CSV value like '=HYPERLINK(...)' is text to validate (a service name may be refused by
    its pattern, never run)."""
    path = tmp_path / "services.csv"
    path.write_text(
        "service_code,service_name,nation,region_code,region_name\n"
        'FLS01,"=HYPERLINK(""http://x"")",england,QE1,North\n'
    )
    table = validate(open_upload(path), "services")
    assert table.frame["service_name"].to_list() == ['=HYPERLINK("http://x")']


def test_issues_are_bounded_but_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flsdb.ingest import issues as issues_module

    rows = [record(nhs_number=nhs_number(i), sex="unknown-sex") for i in range(50)]
    path = write_records(tmp_path / "wrong.csv", rows)
    monkeypatch.setattr(issues_module, "MAX_LISTED", 10)
    table = validate(open_upload(path), "records", upload_date=UPLOAD_DATE).issues
    assert table.frame.height == 10
    assert table.error_count == 50
    assert table.unlisted == {"error": 40}


def test_typed_rows_wait_on_disk_not_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flsdb.ingest import upload_file

    rows = [record(nhs_number=nhs_number(i)) for i in range(30)]
    path = write_records(tmp_path / "rows.csv", rows)
    monkeypatch.setattr(upload_file, "BATCH_ROWS", 7)
    table = validate(open_upload(path), "records", upload_date=UPLOAD_DATE)
    assert [b.height for b in table.batches()] == [7, 7, 7, 7, 2]
    assert sorted(table.frame["_row"].to_list()) == list(range(2, 32))
    folder = table.rows.folder
    assert folder.is_dir() and oct(folder.stat().st_mode & 0o777) == "0o700"
    table.close()
    assert not folder.exists()
