"""UK dates everywhere (issue 20 item 4): no page shows a date as ISO text (2026-12-06) to a
person, and every date input is the one DD/MM/YYYY text input with our calendar, never the
browser's type=date."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.factory import nhs_number, record, write_records
from tests.web.conftest import Site
from tests.web.test_pages import _csrf, _signed_in

ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


class _Text(HTMLParser):
    """The words a person reads: text outside scripts and styles, and the values of the
    attributes read aloud or shown (title, aria-label, placeholder, alt, a visible value)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        found = dict(attrs)
        for name in ("title", "aria-label", "placeholder", "alt"):
            if found.get(name):
                self.parts.append(str(found[name]))
        if tag == "input" and found.get("type") not in ("hidden",) and found.get("value"):
            self.parts.append(str(found["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def shown_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def _pages(site: Site, upload_id: str) -> dict[str, list[str]]:
    record_id = site.record_id("FLS01")
    return {
        "nurse": [
            "/records",
            "/records?fracture_from=01/01/2024&fracture_to=2024-12-31",
            f"/records/{record_id}",
            f"/records/{record_id}/history",
            f"/records/{record_id}/followup",
            "/uploads/" + upload_id,
            "/fls/FLS01/worklist",
            "/fls/FLS01/worklist?tab=overdue",
            "/fls/FLS01/worklist?tab=missing",
            "/fls/FLS01?period=2024&as_of=31/01/2026",
            "/fls/FLS01/patients?period=2024&kpi=kpi04&status=not_met",
            "/uploads",
            "/kpis",
            "/locks",
            "/records/new",
        ],
        "admin": [
            "/admin/audit",
            "/admin/audit?from=01/01/2020&to=2099-12-31",
            "/admin/users",
            "/admin/users/nurse",
            "/admin/services",
            "/locks",
            "/nation?period=2024&as_of=2026-01-31",
            "/region/QE1?period=2024",
        ],
        "analyst": ["/extracts", "/nation?period=2024"],
    }


def test_no_page_shows_a_date_as_iso_text(site: Site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    nurse, _ = _signed_in(site, "nurse")
    # An upload with its warnings (a two-digit year) and a stored change, so the upload list,
    # the audit log and the history hold dates of every kind.
    page = nurse.get("/uploads")
    path = write_records(
        tmp_path / "dates.csv",
        [
            record(
                service_code="FLS01",
                nhs_number=nhs_number(60),
                date_of_birth="05/05/50",
                date_fls_assessment="2099-01-01",
            )
        ],
    )
    checked = nurse.post(
        "/uploads",
        data={"csrf_token": _csrf(page.text)},
        files={"file": ("dates.csv", path.read_bytes(), "text/csv")},
    )
    assert checked.status_code == 200, checked.text
    found: dict[str, list[str]] = {}
    upload_id = checked.url.path.rsplit("/", 1)[-1]
    for role, addresses in _pages(site, upload_id).items():
        client = nurse if role == "nurse" else _signed_in(site, role)[0]
        for address in addresses:
            response = client.get(address)
            assert response.status_code in (200, 503), (address, response.status_code)
            assert 'type="date"' not in response.text, address
            dates = ISO.findall(shown_text(response.text))
            if dates:
                found[f"{role} {address}"] = dates
    assert found == {}


def test_date_inputs_read_dd_mm_yyyy_and_refuse_in_words(site: Site) -> None:
    nurse, _ = _signed_in(site, "nurse")
    listed = nurse.get("/records?fracture_from=01/05/2024&fracture_to=2024-12-31")
    assert listed.status_code == 200
    text = listed.text
    # Typed DD/MM/YYYY and ISO alike, shown back as DD/MM/YYYY with the calendar's mark.
    assert re.search(r'name="fracture_from" value="01/05/2024"[^>]*data-date', text)
    assert 'name="fracture_to" value="31/12/2024"' in text
    assert "2 records" in text  # 1 May and 1 Jul 2024; not 1 Mar
    wrong = nurse.get("/records?fracture_from=31/02/2024").text.replace("&#39;", "'")
    assert "Fracture from: '31/02/2024' is not a date in the calendar." in wrong
    assert 'name="fracture_from" value="31/02/2024"' in wrong  # kept as typed
    dashboard = nurse.get("/fls/FLS01?period=2024&as_of=31/01/2026")
    assert dashboard.status_code in (200, 503)
    assert 'name="as_of" value="31/01/2026"' in dashboard.text
    refused = nurse.get("/fls/FLS01?period=2024&as_of=2026-13-01").text.replace("&#39;", "'")
    assert "Data as of: '2026-13-01' is not a date in the calendar." in refused
