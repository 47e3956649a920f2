"""Empty upload templates derived from the dictionary: CSV, and XLSX with drop-down lists."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

import xlsxwriter

from flsdb.dictionary.docs import describe_type
from flsdb.dictionary.schema import Dictionary
from flsdb.sheets import write_cell, xlsx_workbook

Kind = Literal["records", "services"]


def write_csv_template(dictionary: Dictionary, kind: Kind, path: Path) -> Path:
    """Write the header row of an upload file."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow([f.name for f in dictionary.fields(kind)])
    return path


def write_xlsx_template(dictionary: Dictionary, kind: Kind, path: Path, rows: int = 5000) -> Path:
    """Write an XLSX template: header, drop-down lists for coded columns, and a guide sheet."""
    with xlsx_workbook(path) as book:
        sheet = book.add_worksheet(kind)
        guide = book.add_worksheet("guide")
        codes_sheet = book.add_worksheet("codes")
        header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        required = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.freeze_panes(1, 0)
        for col, spec in enumerate(dictionary.fields(kind)):
            write_cell(sheet, 0, col, spec.name, required if spec.required else header)
            sheet.write_comment(0, col, f"{spec.label}: {spec.help}")
            sheet.set_column(col, col, max(14, len(spec.name) + 2))
            codes = dictionary.codes(spec)
            if spec.type == "code" or (spec.type == "therapy" and not spec.multiple):
                # Lists live on the codes sheet: Excel limits inline lists to 255 characters.
                write_cell(codes_sheet, 0, col, spec.name, header)
                for i, code in enumerate(codes, start=1):
                    write_cell(codes_sheet, i, col, code)
                letter = xlsxwriter.utility.xl_col_to_name(col)
                sheet.data_validation(
                    1,
                    col,
                    rows,
                    col,
                    {
                        "validate": "list",
                        "source": f"=codes!${letter}$2:${letter}${len(codes) + 1}",
                        # Excel takes a title of at most 32 characters (it drops the list
                        # if longer).
                        "error_title": spec.label[:32],
                        "error_message": "Choose one of the listed codes.",
                    },
                )
            elif spec.type == "date":
                sheet.set_column(col, col, 14, date_format)
        titles = ["column", "FLS-DB", "required", "type / codes", "description"]
        for c, title in enumerate(titles):
            write_cell(guide, 0, c, title, header)
        for row, spec in enumerate(dictionary.fields(kind), start=1):
            values = [
                spec.name,
                spec.question or "",
                "yes" if spec.required else "no",
                describe_type(dictionary, spec).replace("`", ""),
                spec.help,
            ]
            for c, value in enumerate(values):
                write_cell(guide, row, c, value)
        guide.set_column(0, 0, 32)
        guide.set_column(3, 4, 60)
    return path
