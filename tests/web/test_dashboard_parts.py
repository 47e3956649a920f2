"""A dashboard's parts (issue 19, items 4 and 5): the patients behind a KPI's 'not met' and
'not yet due' counts for an FLS's staff, every table as CSV and XLSX at the viewer's
disclosure level, charts fetched on their own, and no link a role cannot follow."""

from __future__ import annotations

import csv
import io
import re

from tests.factory import nhs_number
from tests.web.conftest import Site

PARAMS = {"period": "2024"}
# FLS01 in 2024: fractures on 1 Mar, 1 May and 1 Jul; only the July patient assessed (19 days).


def _link(html: str, kpi: str, status: str) -> tuple[str, str]:
    found = re.search(
        rf'<a class="patients" href="([^"]*kpi={kpi}&amp;status={status}[^"]*)"[^>]*>(\d+)</a>',
        html,
    )
    assert found is not None, (kpi, status)
    return found.group(1).replace("&amp;", "&"), found.group(2)


def _listed(html: str) -> set[str]:
    table = re.search(r'<table class="data" id="patients">(.*?)</table>', html, re.S)
    if table is None:
        return set()
    return set(re.findall(r"<tr><td>(\d{10})</td>", table.group(1)))


def test_a_kpis_counts_open_the_patients_behind_them(viewed_site: Site) -> None:
    nurse = viewed_site.client("nurse")
    # On 15 Jul 2024, KPI 4's 90 days had passed for the March patient alone.
    params = {"period": "2024", "as_of": "2024-07-15"}
    page = nurse.get("/fls/FLS01", params=params)
    assert page.status_code == 200
    href, count = _link(page.text, "kpi04", "not_met")
    assert count == "1"
    listed = nurse.get(href)
    assert listed.status_code == 200
    assert _listed(listed.text) == {nhs_number(1)}
    assert "1 Mar 2024" in listed.text  # UK dates
    href, count = _link(page.text, "kpi04", "not_due")
    assert count == "2"
    assert _listed(nurse.get(href).text) == {nhs_number(2), nhs_number(3)}
    # A year on, all three are due: two not assessed within 90 days.
    page = nurse.get("/fls/FLS01", params={"period": "2024", "as_of": "2025-07-01"})
    href, count = _link(page.text, "kpi04", "not_met")
    listed = nurse.get(href)
    assert count == "2" and _listed(listed.text) == {nhs_number(1), nhs_number(2)}
    ids = re.findall(r'href="/records/(\d+)"', listed.text)
    assert len(ids) == 2 and all(nurse.get(f"/api/records/{i}").status_code == 200 for i in ids)
    # No patient's identifier in an address.
    assert not any(n in href for n in (nhs_number(1), nhs_number(2)))


def test_the_patients_list_has_the_records_apis_scope(viewed_site: Site) -> None:
    path = "/fls/FLS01/patients"
    params = {"period": "2024", "kpi": "kpi04", "status": "not_met"}
    assert viewed_site.client("nurse2").get(path, params=params).status_code == 404  # another FLS
    for name in ("viewer", "analyst", "admin"):
        assert viewed_site.client(name).get(path, params=params).status_code in (403, 404), name
    nurse = viewed_site.client("nurse")
    assert nurse.get(path, params={**params, "kpi": "kpi01"}).status_code == 404  # no patients
    assert nurse.get(path, params={**params, "status": "met"}).status_code == 404
    # The dashboard links only what the viewer can follow: no patients, no worklist.
    for name in ("viewer", "analyst"):
        page = viewed_site.client(name).get("/fls/FLS01", params=PARAMS)
        assert page.status_code == 200
        assert "/patients?" not in page.text and "/fls/FLS01/worklist" not in page.text
    own = nurse.get("/fls/FLS01", params=PARAMS).text
    assert "/fls/FLS01/worklist" in own and "/fls/FLS01/patients?" in own


def test_fls_names_link_only_where_the_viewer_can_follow(viewed_site: Site) -> None:
    expected = {
        "nurse": {"FLS01"},
        "viewer": {"FLS01", "FLS02"},
        "analyst": {"FLS01", "FLS02", "WAL01"},
    }
    for name, codes in expected.items():
        client = viewed_site.client(name)
        page = client.get("/nation", params=PARAMS)
        assert page.status_code == 200
        linked = set(re.findall(r'<a href="/fls/([A-Z0-9]+)">', page.text))
        assert linked == codes, name
        assert all(client.get(f"/fls/{c}", params=PARAMS).status_code == 200 for c in linked)
        # KPI names as the comparison table's headings, codes only in their tooltips.
        headings = re.search(
            r'<table class="data sortable small" id="benchmark">.*?</thead>', page.text, re.S
        )
        assert headings is not None
        assert 'title="kpi04">FLS assessment' in headings.group(0)
        assert ">kpi04<" not in page.text


def test_the_fls_comparators_are_its_nation_and_england_and_wales(viewed_site: Site) -> None:
    page = viewed_site.client("nurse").get("/fls/FLS01", params=PARAMS).text
    head = re.search(r'<table class="data kpis" id="kpi-table">.*?</thead>', page, re.S)
    assert head is not None
    headings = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', head.group(0))
    assert headings[-2:] == ["England", "England and Wales"]
    wales = viewed_site.client("analyst").get("/fls/WAL01", params=PARAMS).text
    head = re.search(r'<table class="data kpis" id="kpi-table">.*?</thead>', wales, re.S)
    assert head is not None and re.findall(r">([^<]+)</th></tr></thead>", head.group(0)) == [
        "England and Wales"
    ]
    assert ">Wales</th>" in head.group(0)
    # The page carries no chart data: each chart is fetched as it comes into view.
    assert '"$schema"' not in page
    src = re.search(r'id="funnel-kpi04" data-src="([^"]+)"', page)
    assert src is not None
    spec = viewed_site.client("nurse").get(src.group(1).replace("&amp;", "&"))
    assert spec.status_code == 200 and spec.json()["layer"]
    assert viewed_site.client("nurse2").get(src.group(1).replace("&amp;", "&")).status_code == 404


def _csv(response: object) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))  # type: ignore[attr-defined]


def test_every_table_downloads_as_csv_and_xlsx(viewed_site: Site) -> None:
    import openpyxl

    nurse = viewed_site.client("nurse")
    page = nurse.get("/fls/FLS01", params=PARAMS).text
    links = sorted(set(re.findall(r'href="(/tables/fls/FLS01/[a-z]+\.(?:csv|xlsx)\?[^"]+)"', page)))
    tables = {re.sub(r"\.(csv|xlsx)\?.*", "", link.split("/")[-1]) for link in links}
    assert tables == {"kpis", "completeness", "mix", "funnels"}  # and months with 12 months
    for link in links:
        got = nurse.get(link.replace("&amp;", "&"))
        assert got.status_code == 200, link
        assert "attachment" in got.headers["content-disposition"]
    own = {r["kpi"]: r for r in _csv(nurse.get("/tables/fls/FLS01/kpis.csv", params=PARAMS))}
    assert (own["kpi04"]["KPI"], own["kpi04"]["n"], own["kpi04"]["N"]) == (
        "FLS assessment within 90 days",
        "1",
        "3",
    )
    assert own["kpi04"]["not met"] == "2" and "England and Wales percent" in own["kpi04"]
    book = openpyxl.load_workbook(
        io.BytesIO(nurse.get("/tables/fls/FLS01/kpis.xlsx", params=PARAMS).content)
    )
    rows = list(book.active.iter_rows(values_only=True))
    kpi04 = next(r for r in rows if r[0] == "kpi04")
    assert rows[0][:4] == ("kpi", "KPI", "n", "N") and kpi04[2:4] == (1, 3)  # numbers
    # A region viewer sees the FLS as published: its counts of 1 to 4 withheld.
    viewer = viewed_site.client("viewer")
    shown = {r["kpi"]: r for r in _csv(viewer.get("/tables/fls/FLS01/kpis.csv", params=PARAMS))}
    assert shown["kpi04"]["n"] == "<5" and shown["kpi04"]["not met"] == ""
    benchmark = _csv(viewer.get("/tables/nation/all/benchmark.csv", params=PARAMS))
    assert {r["FLS code"] for r in benchmark} == {"FLS01", "FLS02", "WAL01"}
    assert all(
        r["kpi04 FLS assessment within 90 days n"] in ("<5", "c", "", "0") for r in benchmark
    )
    full = _csv(
        viewed_site.client("analyst").get("/tables/nation/all/benchmark.csv", params=PARAMS)
    )
    assert {r["FLS code"]: r["kpi04 FLS assessment within 90 days n"] for r in full}["FLS01"] == "1"
    # Published figures are for whole years; another FLS's table is not there for its staff.
    assert viewer.get("/tables/fls/FLS01/kpis.csv", params={"period": "2024-Q1"}).status_code == 422
    assert (
        viewed_site.client("nurse2").get("/tables/fls/FLS01/kpis.csv", params=PARAMS).status_code
        == 404
    )
    assert nurse.get("/tables/fls/FLS01/kpis.pdf", params=PARAMS).status_code == 404
