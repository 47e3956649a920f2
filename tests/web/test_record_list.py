"""The record list (issue 20): page numbers, sorting, a page-size choice, a page beyond the last
refused in words; error pages inside the layout, with the menu; link text saying what it opens."""

from __future__ import annotations

import re

from tests.factory import nhs_number, record
from tests.web.conftest import Site


def _add(site: Site, count: int) -> None:
    nurse = site.client("nurse")
    for i in range(count):
        row = record(nhs_number=nhs_number(500 + i), date_fracture_diagnosed=f"2024-08-{1 + i:02d}")
        made = nurse.post("/api/records", json={k: v or None for k, v in row.items()})
        assert made.status_code == 201, made.text


def _nhs_numbers(html: str) -> list[str]:
    return re.findall(r"<td>(\d{10})</td>", html)


def test_pages_sorting_and_page_size(site: Site) -> None:
    _add(site, 27)  # with the small site's 3 FLS01 records: 30
    nurse = site.client("nurse")
    first = nurse.get("/records", params={"size": "25"})
    assert first.status_code == 200
    assert "30 records; showing 25 (page 1 of 2). Sorted by fracture date, latest first." in (
        first.text
    )
    assert _nhs_numbers(first.text)[0] == nhs_number(526)  # 27 Aug 2024, the latest
    assert 'aria-current="page"' in first.text and "Next page" in first.text
    assert "/records?size=25&amp;sort=date_fracture_diagnosed&amp;order=desc&amp;page=2" in (
        first.text
    )
    second = nurse.get("/records", params={"size": "25", "page": "2"})
    assert len(_nhs_numbers(second.text)) == 5 and "Previous page" in second.text
    by_number = nurse.get("/records", params={"sort": "nhs_number", "order": "asc"})
    numbers = _nhs_numbers(by_number.text)
    assert numbers == sorted(numbers) and len(numbers) == 30
    assert 'aria-sort="ascending"' in by_number.text
    oldest = nurse.get("/records", params={"order": "asc"})
    assert _nhs_numbers(oldest.text)[0] == nhs_number(1)  # 1 Mar 2024
    assert "Open record " in first.text and ">Open<" not in first.text
    assert '<time datetime="2024-08-27">27 Aug 2024</time>' in first.text  # UK dates


def test_a_page_beyond_the_last_is_refused_in_words(site: Site) -> None:
    nurse = site.client("nurse")
    page = nurse.get("/records", params={"page": "9999"})
    assert page.status_code == 404
    assert "There is no page 9999: the 3 records found fill 1 page of 50." in page.text
    assert "page 9999 of" not in page.text and 'href="/records?' in page.text


def test_search_by_nhs_number_by_post(site: Site) -> None:
    nurse = site.client("nurse")
    form = nurse.get("/records").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    found = nurse.post(
        "/records/search",
        data={"csrf_token": token.group(1), "nhs_number": nhs_number(2), "status": ""},
    )
    assert found.status_code == 200 and _nhs_numbers(found.text) == [nhs_number(2)]
    dated = nurse.post(
        "/records/search",
        data={"csrf_token": token.group(1), "fracture_from": "2024-04-01", "size": "25"},
    )
    assert sorted(_nhs_numbers(dated.text)) == [nhs_number(2), nhs_number(3)]


def test_error_pages_keep_the_layout_and_menu(site: Site) -> None:
    nurse = site.client("nurse")
    for path in ("/records/abc", "/no/such/page", f"/records/{site.record_id('FLS02')}"):
        page = nurse.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert '<nav aria-label="Main"' in page.text and ">Records</a>" in page.text, path
    viewer = site.client("viewer")
    refused = viewer.get("/records")
    assert refused.status_code == 403 and '<nav aria-label="Main"' in refused.text
    assert site.client().get("/no/such/page").status_code == 404  # signed out: no menu
    api = nurse.get("/api/records/abc")
    assert api.status_code == 422 and api.headers["content-type"] == "application/json"
