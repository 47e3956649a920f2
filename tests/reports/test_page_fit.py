"""Text stays inside its table cell on the page (nothing runs into the next column)."""

from __future__ import annotations

from weasyprint import HTML

from flsdb.reports.render import environment


def _boxes(box, kind):
    if isinstance(box, kind):
        yield box
    for child in getattr(box, "children", []):
        yield from _boxes(child, kind)


def test_a_definition_s_name_wraps_inside_its_column() -> None:
    from weasyprint.formatting_structure.boxes import LineBox as Line
    from weasyprint.formatting_structure.boxes import TableCellBox

    css = str(environment().globals["css"])
    html = (
        f"<html><head><style>{css}</style></head><body>"
        '<table class="fixed definitions"><thead><tr><th class="text" style="width: 20%">'
        'measure</th><th class="text" style="width: 30%">who is counted</th>'
        '<th class="text" style="width: 30%">out of</th><th class="text" style="width: 20%">'
        'target</th></tr></thead><tr><td class="text"><b>kpi02 non spine</b> Identification '
        'of non-spine fractures</td><td class="text">Patients with a fracture</td>'
        '<td class="text">The expected caseload</td><td class="text">green at 80%</td></tr>'
        "</table></body></html>"
    )
    page = HTML(string=html).render().pages[0]
    cells = [c for c in _boxes(page._page_box, TableCellBox) if c.element_tag == "td"]
    first = cells[0]
    lines = list(_boxes(first, Line))
    assert len(lines) >= 2  # the name wraps
    right = first.content_box_x() + first.width
    for line in lines:
        ends = [child.position_x + child.margin_width() for child in line.children]
        assert max(ends) <= right + 0.5, (max(ends), right)
