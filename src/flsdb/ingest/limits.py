"""What an upload may be, checked before the work it would cost: its size, its columns, its
cells, its rows, and for XLSX what its compressed parts unpack to."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """Defaults suit the command line; the web application takes 50 MB files (`WEB`)."""

    max_bytes: int = 2048 * MB
    max_columns: int = 300
    max_cell_chars: int = 10_000
    max_rows: int = 10_000_000
    max_header_bytes: int = 1 * MB
    # XLSX: the workbook's parts unpacked, the shared strings, and how far a part may inflate.
    max_unzipped_bytes: int = 4096 * MB
    max_shared_strings_bytes: int = 256 * MB
    max_inflation: int = 200

    def size_text(self) -> str:
        return f"{self.max_bytes / MB:,.0f} MB"


WEB = UploadLimits(
    max_bytes=50 * MB,
    max_rows=1_000_000,
    max_unzipped_bytes=1024 * MB,
    max_shared_strings_bytes=128 * MB,
)
