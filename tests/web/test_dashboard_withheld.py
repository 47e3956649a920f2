"""A value a dashboard shows withheld is not given back, or contradicted, by anything else on the
page (review item 5): no funnel centre line, limits or place against them beside a withheld
England and Wales value; no Making Data Count icon beside a withheld value; no "0 / c"; a region
of one FLS is that FLS; and a page that says it shows everything in full does."""

from __future__ import annotations

import re
from typing import Any

import pytest

from flsdb.services import accounts
from flsdb.services.access import Role
from flsdb.web import dashboard_bodies
from flsdb.web.charts import NOT_JUDGED
from flsdb.web.pages import templates
from tests.web.conftest import PASSWORD, Site

PARAMS = {"period": "2024"}


def _rows(html: str, table: str) -> dict[str, list[str]]:
    """Each KPI row of a table: its cells' inner HTML."""
    body = re.search(rf'<table [^>]*id="{table}"[^>]*>(.*?)</table>', html, re.S)
    assert body is not None, table
    return {
        kpi: re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        for kpi, row in re.findall(r'<tr data-kpi="([^"]+)">(.*?)</tr>', body.group(1), re.S)
    }


def _withheld(cell: str) -> bool:
    return "&lt;5" in cell or re.search(r"(^|[\s/(>])c($|[\s/)<])", cell) is not None


def test_no_funnel_centre_or_limits_beside_a_withheld_england_and_wales(site: Site) -> None:
    nurse = site.client("nurse")
    page = nurse.get("/fls/FLS01", params=PARAMS).text
    rows = _rows(page, "kpi-table")
    hidden = [kpi for kpi, cells in rows.items() if _withheld(cells[-1])]
    assert "kpi04" in hidden  # the small site's England and Wales: 1 of 6, withheld
    for kpi in hidden:
        found = re.search(rf'id="funnel-{kpi}" data-src="([^"]+)"', page)
        if found is None:
            continue
        caption = re.search(rf'id="funnel-{kpi}"[^>]*aria-label="([^"]+)"', page)
        assert caption is not None and "centre line: all FLSs together" not in caption.group(1)
        assert "the England and Wales value is withheld here" in caption.group(1)
        spec = nurse.get(found.group(1).replace("&amp;", "&")).json()
        marks = [layer["mark"]["type"] for layer in spec["layer"]]
        assert marks == ["point"], (kpi, marks)  # no limits, no centre line
        flags = {p["flag"] for p in spec["layer"][0]["data"]["values"]}
        assert flags <= {"this FLS", NOT_JUDGED}, flags  # no place against the limits
    assert 'id="funnel-kpi04"' in page  # still drawn: the FLS among the others, as published


def test_no_icon_beside_a_withheld_value(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    icon = {
        "variation": "concern_low",
        "variation_words": "Special cause variation, of concern: lower values",
        "assurance": "fail",
        "assurance_words": "The target is consistently missed",
    }

    def every_kpi_has_icons(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        data = args[0]
        return [], [], [], {k: icon for k in data.published["nation"]["kpi"].unique()}

    monkeypatch.setattr(dashboard_bodies, "spc_views", every_kpi_has_icons)
    page = site.client("viewer").get("/nation", params=PARAMS).text
    rows = _rows(page, "headline")
    shown = [kpi for kpi, cells in rows.items() if not _withheld(cells[0])]
    hidden = [kpi for kpi, cells in rows.items() if _withheld(cells[0])]
    assert hidden and shown, (hidden, shown)
    for kpi in hidden:
        assert 'class="mdc"' not in "".join(rows[kpi]), kpi
    for kpi in shown:
        assert 'class="mdc"' in "".join(rows[kpi]), kpi


def test_a_count_of_none_is_not_shown_over_a_withheld_one() -> None:
    cell = templates.get_template("_charts.html").module.plain_cell  # type: ignore[attr-defined]
    assert str(cell({"numerator": 0, "denominator": "c", "percent": None})).strip() == "c"
    small = cell({"numerator": "<5", "denominator": 40, "percent": None})
    assert str(small).strip() == "&lt;5 / 40"


def test_a_region_of_one_fls_is_that_fls(site: Site) -> None:
    accounts.add_user(site.engine, "nurse3", Role.FLS_STAFF, PASSWORD, service_codes=["WAL01"])
    page = site.client("nurse3").get("/fls/WAL01", params=PARAMS).text
    rows = _rows(page, "kpi-table")
    assert len(rows) > 10
    for kpi, cells in rows.items():
        own, region = cells[0], cells[-3]
        if kpi == "kpi01":  # for a region: its FLSs with green completeness
            continue
        assert region == f"{own} <small>(its only FLS)</small>", (kpi, own, region)
        assert not _withheld(region)


def test_the_national_team_sees_an_fls_and_its_comparators_in_full(site: Site) -> None:
    page = site.client("analyst").get("/fls/FLS01", params=PARAMS).text
    lede = re.search(r'<p class="lede">(.*?)</p>', page, re.S)
    assert lede is not None
    assert "is shown in full, for the audit's own use, not for publication" in lede.group(1)
    assert "as published" not in lede.group(1)
    for kpi, cells in _rows(page, "kpi-table").items():
        assert not any(_withheld(c) for c in cells), (kpi, cells)
    # Its staff see the comparators as published (the small site's are withheld).
    nurse = site.client("nurse").get("/fls/FLS01", params=PARAMS).text
    assert any(_withheld(c) for cells in _rows(nurse, "kpi-table").values() for c in cells[-3:])
