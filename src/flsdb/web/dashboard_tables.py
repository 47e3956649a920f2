"""Every dashboard table as a download: the rows the page shows (at the viewer's disclosure
level, so published values for roles that see published values), with the codes a machine
needs beside the names a person reads, as CSV or XLSX (cells never run as formulas)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import xlsxwriter

from flsdb.sheets import csv_text, plain_number, write_cell

Table = tuple[list[str], list[list[Any]]]  # headings, rows
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
COUNTS = ("numerator", "denominator", "percent", "rag")


def _cells(cell: dict[str, Any], keys: tuple[str, ...] = COUNTS) -> list[Any]:
    return [plain_number(cell.get(k)) for k in keys]


def _icons(body: dict[str, Any], kpi: str) -> list[Any]:
    """The Making Data Count icons' meanings, in words (blank: no monthly chart, or no icon
    shown: a run chart without a signal has no variation icon, and none has an assurance)."""
    icon = body.get("icons", {}).get(kpi)
    if not icon:
        return [None, None]
    return [
        icon["variation_words"] if icon["variation"] else None,
        icon["assurance_words"] if icon["assurance"] else None,
    ]


def fls_kpis(body: dict[str, Any]) -> Table:
    head = ["kpi", "KPI", "n", "N", "percent", "RAG", "95% low", "95% high", "variation"]
    head += ["assurance", "not met", "not yet due"]
    for name in (body["region_name"], body["nation_name"], body["all_name"]):
        head += [f"{name} n", f"{name} N", f"{name} percent", f"{name} RAG"]
    rows = []
    for k in body["kpis"]:
        own = k["own"]
        row = [k["kpi"], k["name"], *_cells(own), own.get("ci_low"), own.get("ci_high")]
        row += [*_icons(body, k["kpi"]), k["not_met"], own.get("not_due")]
        for side in ("region", "nation", "all"):
            row += _cells(k[side])
        rows.append(row)
    return head, rows


def completeness(body: dict[str, Any]) -> Table:
    head = ["field", "missing", "records", "percent missing", "over 20%"]
    rows = [
        [r["field"], r["missing"], r["applicable"], r["percent"], r["over"]]
        for r in body["completeness_rows"]
    ]
    return head, rows


def mix(body: dict[str, Any]) -> Table:
    return ["group", "percent"], [[r["group"], r["percent"]] for r in body["mix_rows"]]


def months(body: dict[str, Any]) -> Table:
    head = ["kpi", "KPI", "month", "n", "N", "percent", "mean", "lower limit", "upper limit"]
    head += ["signal", "rules", "point"]
    rows = []
    for view in body["spc"]:
        # A quarter's point is at its last month; a run chart's centre is the median.
        point = {"month": "month", "quarter": "quarter", "run": "quarter, run chart: median"}
        for p in view["points"]:
            rows.append(
                [view["kpi"], view["title"], p["month"]]
                + [
                    plain_number(p.get(k))
                    for k in ("numerator", "denominator", "percent", "centre", "lower", "upper")
                ]
                + [p.get("signal"), p.get("rules"), point[view.get("kind", "month")]]
            )
    return head, rows


def funnels(body: dict[str, Any]) -> Table:
    head = ["kpi", "KPI", "FLS code", "FLS", "n", "N", "percent", "against the limits"]
    rows = []
    for view in body["funnels"]:
        for p in view["points"]:
            rows.append(
                [view["kpi"], view["title"], p["code"], p["name"]]
                + [plain_number(p.get(k)) for k in ("numerator", "denominator", "percent")]
                + [p["words"]]
            )
    return head, rows


def group_kpis(body: dict[str, Any]) -> Table:
    head = ["kpi", "KPI", "n", "N", "percent", "RAG", "95% low", "95% high", "variation"]
    head += ["assurance"]
    rows = [
        [kpi, body["names"][kpi], *_cells(c), c.get("ci_low"), c.get("ci_high"), *_icons(body, kpi)]
        for kpi, c in body["headline"]
    ]
    return head, rows


def identification(body: dict[str, Any]) -> Table:
    head = ["unit", "records", "expected", "percent"]
    rows = [[r["unit"], r["records"], r["expected"], r["percent"]] for r in body["id_rows"]]
    return head, rows


def benchmark(body: dict[str, Any]) -> Table:
    head = ["FLS code", "FLS"]
    for kpi in body["kpis"]:
        head += [f"{kpi} {body['names'][kpi]} {part}" for part in ("n", "N", "percent", "RAG")]
    rows = []
    for r in body["rows"]:
        row = [r["code"], r["name"]]
        for kpi in body["kpis"]:
            row += _cells(r["cells"][kpi])
        rows.append(row)
    return head, rows


def variation(body: dict[str, Any]) -> Table:
    keys = ("units", "median", "q1", "q3", "minimum", "maximum", "ratio", "outside")
    head = ["kpi", "KPI", "FLSs", "median", "lower quartile", "upper quartile", "lowest"]
    head += ["highest", "90th / 10th", "alarms"]
    rows = [[r["kpi"], r["name"], *[plain_number(r[k]) for k in keys]] for r in body["inequity"]]
    return head, rows


FLS_TABLES: dict[str, Callable[[dict[str, Any]], Table]] = {
    "kpis": fls_kpis,
    "completeness": completeness,
    "mix": mix,
    "months": months,
    "funnels": funnels,
}
GROUP_TABLES: dict[str, Callable[[dict[str, Any]], Table]] = {
    "kpis": group_kpis,
    "identification": identification,
    "benchmark": benchmark,
    "variation": variation,
}


def as_csv(table: Table) -> bytes:
    """Numbers as written (a whole number stays whole), blanks blank, text never a formula."""
    head, rows = table
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_text(h) for h in head])
    for row in rows:
        writer.writerow(["" if v is None else csv_text(plain_number(v)) for v in row])
    return out.getvalue().encode("utf-8")


def as_xlsx(table: Table, sheet_name: str) -> bytes:
    head, rows = table
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name[:31])
    bold = book.add_format({"bold": True})
    for column, title in enumerate(head):
        write_cell(sheet, 0, column, title, bold)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            write_cell(sheet, number, column, value)
    book.close()
    return buffer.getvalue()
