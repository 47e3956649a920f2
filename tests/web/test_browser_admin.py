"""In Chromium against `flsdb serve` (issue 20): an administrator adds a user with the FLS picker's
search, changes the user's FLSs, disables the account after confirming and enables it again,
filters the audit log in words; an analyst finds the extract page. On SQLite (see the test);
with FLSDB_SCREENSHOTS=1, screenshots at 1366x900 and 390x844 go to
artifacts/screenshots/sqlite/."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests.web.conftest import PASSWORD
from tests.web.live import SCREENSHOTS, put_back, signed_in
from tests.web.test_browser import _shot

SIZES = {"wide": (1366, 900), "phone": (390, 844)}


def _page(browser: Any, base: str, name: str, size: str, start: str) -> Any:
    """Signed in as `name` in a browser of `size`, on the page `start` (tests/web/live.py's
    `signed_in`)."""
    return signed_in(browser, base, name, start, size=SIZES[size], locale="en-US")


# What this test checks happens in the browser (layout, scripts, downloads), the same on either
# backend: it runs on SQLite. What the database does on the way is checked on both backends
# in-process (adding, changing, disabling and enabling a user, the audit log's filters:
# test_admin_pages.py) and in a browser by this module's other tests.
@pytest.mark.parametrize("served_site", ["sqlite"], indirect=True)
def test_admin_manages_a_user_in_the_browser(browser: Any, live: tuple[str, Any, str]) -> None:
    base, _, backend = live
    page = _page(browser, base, "admin", "wide", "/admin/users")
    # The picker's search narrows the FLSs by name; the ticked one stays in view.
    find = page.get_by_label("Find an FLS by name or code")
    find.fill("north")
    visible = page.locator(".picker-list label.choice:visible")
    assert [" ".join(t.split()) for t in visible.all_inner_texts()] == ["North FLS FLS01"]
    page.get_by_label("North FLS").check()
    assert "1 of 3 ticked; 1 shown." in page.locator("[data-picker-count]").inner_text()
    page.get_by_label("User name").fill("t")
    page.locator("#np").fill(PASSWORD)
    page.get_by_role("button", name="Add user").click()
    # The error keeps the form: the name and the ticked FLS are still there.
    assert "'t' cannot be a user name" in page.locator("main").inner_text()
    assert page.get_by_label("User name").input_value() == "t"
    assert page.get_by_label("North FLS").is_checked()
    _shot(page, backend, "admin-users-error")
    page.get_by_label("User name").fill(f"temp.{backend}")
    page.locator("#np").fill(PASSWORD)
    page.get_by_role("button", name="Add user").click()
    assert f"User temp.{backend} added." in page.locator("main").inner_text()
    page.get_by_role("link", name=f"Change temp.{backend}").click()
    page.get_by_label("Find an FLS by name or code").fill("FLS02")
    page.locator(".picker-list label.choice:visible input[value=FLS02]").check()
    _shot(page, backend, "admin-user")
    page.get_by_role("button", name="Save role and FLSs").click()
    assert "role and FLSs are saved" in page.locator("main").inner_text()
    assert "FLS staff of FLS01, FLS02" in page.locator("main").inner_text()
    page.get_by_role("link", name=f"Disable temp.{backend}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Disable temp.{backend}?"
    _shot(page, backend, "admin-confirm-disable")
    page.get_by_role("button", name=f"Yes, disable temp.{backend}").click()
    row = page.locator("tr.user", has_text=f"temp.{backend}")
    assert "disabled" in row.inner_text()
    page.get_by_role("link", name=f"Change temp.{backend}").click()
    page.get_by_role("link", name=f"Enable temp.{backend}").click()
    page.get_by_role("button", name=f"Yes, enable temp.{backend}").click()
    assert "active" in page.locator("tr.user", has_text=f"temp.{backend}").inner_text()
    page.goto(f"{base}/admin/audit")
    page.get_by_label("Action").select_option(label="User disabled")
    page.get_by_role("button", name="Show").click()
    text = page.locator("main").inner_text()
    assert "1 event, newest first" in text and f"temp.{backend}" in text
    _shot(page, backend, "admin-audit")
    # The calendar beside a DD/MM/YYYY field draws its own month, whatever the browser's
    # locale (this browser is en-US): the day chosen is typed as DD/MM/YYYY.
    page.get_by_role("button", name="Choose From from a calendar").click()
    _shot(page, backend, "admin-audit-calendar")
    page.get_by_role("button", name=re.compile(r"^6 [A-Z][a-z]+ [0-9]{4}$")).click()
    assert re.fullmatch(
        r"06/[0-9]{2}/[0-9]{4}", page.get_by_role("textbox", name="From", exact=True).input_value()
    )
    page.get_by_role("textbox", name="From", exact=True).fill(
        "2025-01-31"
    )  # the ISO form is read too
    page.get_by_role("button", name="Show").click()
    assert page.get_by_role("textbox", name="From", exact=True).input_value() == "31/01/2025"
    page.goto(f"{base}/admin/services")
    _shot(page, backend, "admin-services")
    # Straight to the extract page (an analyst's start page, the KPIs, computes figures).
    analyst = _page(browser, base, "analyst", "wide", "/extracts")
    # The administrator's pages are loaded again at each size only for their screenshots (nothing
    # is asserted on them): without screenshots, four page loads fewer.
    shots = os.environ.get(SCREENSHOTS) == "1"
    for size, (width, height) in SIZES.items():
        # Each page loaded again in the window resized to `size` (one window per user).
        for window in (page, analyst) if shots else (analyst,):
            window.set_viewport_size({"width": width, "height": height})
        for path, name in (("/admin/users", "users"), ("/admin/audit", "audit")) if shots else ():
            page.goto(f"{base}{path}")
            _shot(page, backend, f"admin-{name}-{size}")
        if size != "wide":
            analyst.goto(f"{base}/extracts")
        # In the menu (folded behind its button on a phone).
        assert analyst.locator('#main-menu a[href="/extracts"]').inner_text() == "Extracts"
        assert "This server has no pseudonym key" in analyst.locator("main").inner_text()
        _shot(analyst, backend, f"analyst-extracts-{size}")
    put_back(page, analyst)
