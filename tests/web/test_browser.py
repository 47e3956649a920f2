"""End to end in Debian's Chromium against `flsdb serve` on SQLite and PostgreSQL: each role
signs in, a record is entered with errors and fixed, a file with errors then a clean one is
uploaded and stored, two browsers edit one record, and no role reaches what it may not.
With FLSDB_SCREENSHOTS=1, screenshots of every page go to artifacts/screenshots/sqlite/ (the
browser draws the same pages from either store; on PostgreSQL the tests do what the store can
change, see each test).

One server per backend serves the browser modules of a test process (tests/web/conftest.py:
`live`); each test starts from the small site's records, unlocked (what a test adds is deleted
after it, a lock it makes lifted). Each user signs in through the form once per server (the
first test here signs in every role); other pages start from the cookies that sign-in left
(tests/web/live.py: `signed_in`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factory import nhs_number, record, write_records
from tests.web.conftest import record_id_of
from tests.web.live import become, put_back, sign_in, signed_in, window
from tests.web.live import screenshot as _shot

playwright_api = pytest.importorskip("playwright.sync_api")


def _login(browser: Any, base: str, name: str, start: str | None = None) -> Any:
    """A 1280x900 page signed in as `name`, on `start` (None: a blank page, or the role's start
    page when it signs in through the form): tests/web/live.py's `signed_in`."""
    return signed_in(browser, base, name, start)


def test_each_role_signs_in_and_sees_its_pages(browser: Any, live: tuple[str, Any, str]) -> None:
    base, _, backend = live
    pages = {
        "nurse": ["/records", "/records/new", "/uploads", "/kpis?period=2024&by=service"],
        "viewer": ["/kpis?period=2024&by=service"],
        "analyst": ["/kpis?period=2024&by=region"],
        "admin": ["/admin/users", "/admin/services", "/admin/audit"],
    }
    # One window, each role in turn (its cookies cleared before the next signs in); put back
    # after, for the next test's window (a new browser context costs about 0.75 s of processor
    # time).
    page = window(browser, base)
    for name, paths in pages.items():
        page.context.clear_cookies()
        page.goto(f"{base}/login")
        if name == "nurse":
            _shot(page, backend, "login")
        sign_in(page, base, name)  # through the form, on the page shown
        assert name in page.locator("header").inner_text()
        for path in paths:
            if page.url != base + path:  # (the role's start page is open already)
                page.goto(base + path)
            assert page.locator("h1").count() == 1
            label = path.strip("/").split("?")[0].replace("/", "-")
            _shot(page, backend, f"{name}-{label}")
            if name == "viewer":  # a region viewer's table has its region's FLSs alone
                table = page.locator("table.data").inner_text()
                assert "FLS01" in table and "FLS02" in table and "WAL01" not in table
    put_back(page)


def test_enter_a_record_with_errors_and_fix_it(browser: Any, live: tuple[str, Any, str]) -> None:
    base, _, backend = live
    page = _login(browser, base, "nurse", "/records/new")
    assert page.locator("#w-date_dxa").is_hidden()  # shown only when DXA was performed
    page.select_option("#f-dxa", "performed")
    assert page.locator("#w-date_dxa").is_visible()
    page.fill("#f-nhs_number", "830 166 1314")
    page.fill("#f-date_of_birth", "1950-05-05")
    page.select_option("#f-sex", "female")
    page.fill("#f-date_fracture_diagnosed", "2024-09-01")
    page.select_option("#f-fracture_site", "wrist")
    page.fill("#f-date_dxa", "2024-10-01")
    page.get_by_role("button", name="Save record").click()
    summary = page.locator(".summary")
    assert "check digit" in summary.inner_text()
    assert page.locator("#f-nhs_number").get_attribute("aria-invalid") == "true"
    _shot(page, backend, "nurse-record-errors")
    page.fill("#f-nhs_number", nhs_number(90))
    page.get_by_role("button", name="Save record").click()
    assert "Saved." in page.locator(".notice").inner_text()
    assert nhs_number(90) not in page.url
    _shot(page, backend, "nurse-record-saved")
    page.get_by_role("link", name="Edit history").click()
    assert "insert" in page.locator("table.data").inner_text()
    _shot(page, backend, "nurse-record-history")
    put_back(page)


def test_upload_with_errors_then_clean_and_commit(
    browser: Any, live: tuple[str, Any, str], tmp_path: Path
) -> None:
    base, _, backend = live
    good = [
        record(
            service_code="FLS01",
            nhs_number=nhs_number(100 + i),
            date_fracture_diagnosed="2024-11-01",
        )
        for i in range(4)
    ]
    bad = write_records(
        tmp_path / "with-errors.csv",
        [*good, record(service_code="FLS01", nhs_number="0000000000", sex="f")],
    )
    clean = write_records(tmp_path / "clean.csv", good)
    page = _login(browser, base, "nurse", "/uploads")
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Check the file").click()
    text = page.locator("main").inner_text()
    assert "nothing can be stored" in text and "placeholder" in text
    with page.expect_download() as download:
        page.get_by_role("link", name="Download every error and warning (CSV)").click()
    assert "placeholder" in Path(download.value.path()).read_text()
    _shot(page, backend, "nurse-upload-errors")
    page.set_input_files("#file", str(clean))
    page.get_by_role("button", name="Check the file").click()
    assert "insert 4, update 0" in page.locator("main").inner_text()
    _shot(page, backend, "nurse-upload-preview")
    page.get_by_role("button", name="Store these records").click()
    assert "Stored: 4 inserted" in page.locator("main").inner_text()
    _shot(page, backend, "nurse-upload-stored")
    page.goto(f"{base}/records")
    assert "7 records" in page.locator("p.count").inner_text()
    put_back(page)


def test_two_browsers_edit_one_record(browser: Any, live: tuple[str, Any, str]) -> None:
    base, engine, backend = live
    record_id = record_id_of(engine, "FLS01")
    # Two browsers: the second signs in through the form (a session of its own).
    first = _login(browser, base, "nurse", f"/records/{record_id}")
    second = signed_in(browser, base, "nurse", f"/records/{record_id}", fresh=True)
    first.select_option("#f-sex", "male")
    first.get_by_role("button", name="Save record").click()
    assert "Saved." in first.locator(".notice").inner_text()
    second.select_option("#f-sex", "other")
    second.get_by_role("button", name="Save record").click()
    notice = second.locator(".notice").inner_text()
    assert "changed by nurse after you opened it" in notice
    _shot(second, backend, "nurse-record-conflict")
    second.goto(f"{base}/records/{record_id}")
    assert second.locator("#f-sex").input_value() == "male"  # the first save stands
    put_back(first, second)


def test_no_role_reaches_what_it_may_not(browser: Any, live: tuple[str, Any, str]) -> None:
    base, engine, backend = live
    fls01 = record_id_of(engine, "FLS01")
    other = _login(browser, base, "nurse2")
    response = other.goto(f"{base}/records/{fls01}")
    assert response.status == 404
    _shot(other, backend, "nurse2-other-fls-record")
    assert other.request.get(f"{base}/api/records/{fls01}").status == 404
    assert other.request.get(f"{base}/api/records/{fls01}/history").status == 404
    page = other
    for name in ("viewer", "analyst", "admin"):
        become(page, base, name)  # the same window, signed in as `name`
        assert page.goto(f"{base}/records").status == 403
        assert page.goto(f"{base}/records/{fls01}").status == 404
        assert page.request.get(f"{base}/api/records").status == 403
        assert page.request.get(f"{base}/api/records/{fls01}").status == 404
        if name != "admin":
            assert page.goto(f"{base}/admin/users").status == 403
    put_back(page)


def test_dashboards_show_the_apis_numbers(browser: Any, live: tuple[str, Any, str]) -> None:
    """The figures on the pages are the API's; the charts are drawn and a table sorts. Drawing
    and sorting, the browser's part, are the same on either store: checked on SQLite; on
    PostgreSQL each chart's specification is asked for (the store's part of a chart)."""
    base, _, backend = live
    draw = backend == "sqlite"
    page = _login(browser, base, "nurse", "/fls/FLS01?period=2024")
    # Each chart is drawn as it comes into view (issue 19): scroll through them all.
    charts = page.locator(".vega[data-src]")
    for index in range(charts.count()):
        if draw:
            charts.nth(index).scroll_into_view_if_needed()
            page.wait_for_selector(f".vega[data-src] >> nth={index} >> svg", timeout=20_000)
        else:
            _chart_specification(page, base, charts.nth(index))
    api = page.request.get(f"{base}/api/kpis?period=2024&by=service").json()
    for row in api:
        cell = page.locator(f'tr[data-kpi="{row["kpi"]}"] td.own')
        shown = cell.get_attribute("data-percent")
        assert shown == ("" if row["percent"] is None else str(row["percent"])), row["kpi"]
        assert cell.get_attribute("data-denominator") == str(row["denominator"]), row["kpi"]
    if draw:
        assert page.locator(".vega svg").count() >= 10  # charts drawn in the browser
    else:
        assert charts.count() >= 10
    assert "too few for an SPC chart" in page.locator("main").inner_text()  # 3 months here
    _shot(page, backend, "nurse-dashboard-fls")
    for name, path in (("viewer", "/region/QE1?period=2024"), ("analyst", "/nation?period=2024")):
        become(page, base, name, path)  # the same window, signed in as `name`
        if draw:
            page.locator("#identification").scroll_into_view_if_needed()
            page.wait_for_selector("#identification svg", timeout=20_000)
            page.locator("#benchmark thead th").nth(1).click()  # sortable
            sorted_by = page.locator("#benchmark thead th").nth(1).get_attribute("aria-sort")
            assert sorted_by == "descending"
            _shot(page, backend, f"{name}-dashboard")
        else:
            _chart_specification(page, base, page.locator("#identification"))
            assert page.locator("#benchmark thead th").count() > 1
    put_back(page)


def _chart_specification(page: Any, base: str, chart: Any) -> None:
    """The chart's Vega-Lite specification, as the page would fetch it to draw the chart, has
    data from the store."""
    got = page.request.get(base + chart.get_attribute("data-src"))
    assert got.status == 200, got.text()
    assert got.json()["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert '"data"' in got.text() or '"datasets"' in got.text()  # (in a layer, or at the top)


def test_worklist_entry_leaves_once_followed_up(browser: Any, live: tuple[str, Any, str]) -> None:
    """Issue 20: from the worklist, the short follow-up form; "Save and next" through the same
    list (its tab and choice kept), a reason takes the patient off, and the way back."""
    import datetime as dt

    base, _, backend = live
    page = _login(browser, base, "nurse")
    csrf = page.request.get(f"{base}/api/me").json()["csrf_token"]
    for seed, days in ((400, 125), (401, 120)):
        fracture = (dt.date.today() - dt.timedelta(days=days)).isoformat()
        row = record(
            service_code="FLS01",
            nhs_number=nhs_number(seed),
            date_fracture_diagnosed=fracture,
            bone_therapy_recommended="alendronate",
        )
        made = page.request.post(
            f"{base}/api/records",
            data={k: v or None for k, v in row.items()},
            headers={"X-CSRF-Token": csrf},
        )
        assert made.status == 201
    page.goto(f"{base}/fls/FLS01/worklist?list=overdue_16w")
    _shot(page, backend, "nurse-worklist")
    table = page.locator("table.data").inner_text()
    assert nhs_number(400) in table and "13 days overdue" in table and "wrist" in table
    page.get_by_role("link", name=f"Record the follow-up of {nhs_number(400)}").click()
    assert page.locator("h1").inner_text().startswith("Follow-up at 16 weeks")
    assert nhs_number(400) in page.locator(".facts").inner_text()
    assert page.locator("#f-sex").count() == 0  # only the follow-up section
    _shot(page, backend, "nurse-followup-form")
    page.select_option("#f-followup_16w", "declined")
    page.get_by_role("button", name="Save and next patient").click()
    assert "This is the next patient on the list" in page.locator(".notice").inner_text()
    assert nhs_number(401) in page.locator(".facts").inner_text()
    page.select_option("#f-followup_16w", "yes")
    page.fill("#f-date_followup_16w", dt.date.today().isoformat())
    page.get_by_role("button", name="Save and next patient").click()
    assert "That was the last patient on this list" in page.locator(".notice").inner_text()
    current = page.locator('.tabs a[aria-current="page"]').inner_text()
    assert current.startswith("16-week follow-up overdue")  # the list's tab kept
    main = page.locator("main").inner_text()
    assert nhs_number(400) not in main and nhs_number(401) not in main
    assert "whose follow-up was not done for a recorded reason (declined 1)" in main
    put_back(page)


# Every chart within the dashboard's drawing distance of the window (dashboard.js: 300 px) drawn,
# as a page's own charts are once it has loaded and fetched them.
CHARTS_IN_VIEW_DRAWN = """() => Array.from(document.querySelectorAll(".vega[data-src]"))
.every(c => {
  const box = c.getBoundingClientRect();
  const near = box.bottom > -300 && box.top < window.innerHeight + 300;
  return !near || c.classList.contains("drawn");
})"""

PHONE_PAGES = {
    "nurse": (
        "/records",
        "/records/new",
        "/records/ID",
        "/records/ID/followup?list=overdue_16w",
        "/records/ID/history",
        "/fls/FLS01/worklist",
        "/fls/FLS01/worklist?list=missing_fields",
        "/uploads",
        "/fls/FLS01",
        "/nation",
        "/kpis",
        "/locks",
        "/no/such/page",
    ),
    "admin": ("/admin/users", "/admin/services", "/admin/audit"),
}


# What this test checks happens in the browser (layout, scripts, downloads), the same on either
# backend: it runs on SQLite. What the database does on the way is checked on both backends
# in-process (every page of each role: test_pages.py, test_uk_dates.py, test_accessibility.py) and
# in a browser by this module's other tests.
@pytest.mark.parametrize("served_site", ["sqlite"], indirect=True)
def test_a_phone_sized_screen_has_no_sideways_scroll(
    browser: Any, live: tuple[str, Any, str]
) -> None:
    """Issue 20: at 390x844 the menu folds behind a button, tables scroll inside their box and
    no main page is wider than the screen."""
    base, engine, backend = live
    record_id = record_id_of(engine, "FLS01")
    for name, paths in PHONE_PAGES.items():
        page = signed_in(browser, base, name, paths[0], size=(390, 844))
        menu = page.get_by_role("button", name="Menu")
        assert menu.is_visible() and not page.locator("#main-menu").is_visible()
        menu.click()
        assert page.locator("#main-menu").is_visible()
        assert menu.get_attribute("aria-expanded") == "true"
        for path in paths:
            if path != paths[0]:  # (open already)
                page.goto(base + path.replace("ID", str(record_id)))  # returns once loaded
            if path in ("/fls/FLS01", "/nation"):  # and its charts in view, fetched and drawn
                page.wait_for_function(CHARTS_IN_VIEW_DRAWN, timeout=20_000)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
            shot = path.strip("/").replace("/", "-").split("?")[0] or "home"
            _shot(page, backend, f"phone-{name}-{shot}")
        put_back(page)


# What this test checks happens in the browser (layout, scripts, downloads), the same on either
# backend: it runs on SQLite. What the database does on the way is checked on both backends
# in-process (the records search by DD/MM/YYYY dates: test_uk_dates.py) and in a browser by this
# module's other tests.
@pytest.mark.parametrize("served_site", ["sqlite"], indirect=True)
def test_the_calendar_is_ours_and_works_by_keyboard_on_a_phone(
    browser: Any, live: tuple[str, Any, str]
) -> None:
    """Issue 20: the records search's dates are DD/MM/YYYY text inputs with our calendar, in
    an en-US browser at 390x844, used by keyboard alone: arrows move a day or a week, Page Down
    a month, Enter chooses, Escape closes and gives the focus back."""
    base, _engine, backend = live
    page = signed_in(browser, base, "nurse", "/records", size=(390, 844), locale="en-US")
    field = page.get_by_role("textbox", name="Fracture from", exact=True)
    assert (
        field.get_attribute("type") is None and field.get_attribute("placeholder") == "DD/MM/YYYY"
    )
    field.fill("15/03/2024")
    button = page.get_by_role("button", name="Choose Fracture from from a calendar")
    button.focus()
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true"
    focused = page.locator(":focus")
    assert focused.get_attribute("aria-label") == "15 March 2024"  # English, whatever the locale
    calendar = page.get_by_role("group", name="Calendar for Fracture from")
    box = calendar.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    _shot(page, backend, "phone-records-calendar")
    for key in ("ArrowRight", "ArrowDown", "PageDown"):
        page.keyboard.press(key)
    assert page.locator(":focus").get_attribute("aria-label") == "23 April 2024"
    page.keyboard.press("Enter")
    assert field.input_value() == "23/04/2024"
    button.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.className") == "calendar-button"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_load_state()
    # 1 May and 1 Jul 2024 of FLS01 (not 1 Mar), the date shown back as typed.
    assert "2 records" in page.locator("main").inner_text()
    assert page.get_by_role("textbox", name="Fracture from", exact=True).input_value() == (
        "23/04/2024"
    )
    put_back(page)


def test_locked_period_refuses_an_edit_with_the_reason(
    browser: Any, live: tuple[str, Any, str]
) -> None:
    base, engine, backend = live
    analyst = _login(browser, base, "analyst", "/locks")
    analyst.get_by_role("textbox", name="Year").fill("2024")
    analyst.get_by_role("button", name="Lock this year for the annual report").click()
    # What will be locked first, then the confirmation (issue 16).
    assert "Locking 2024 closes every FLS's" in analyst.locator("main").inner_text()
    analyst.get_by_role("button", name="Lock 2024", exact=True).click()
    assert "2024 is locked." in analyst.locator(".notice").inner_text()
    _shot(analyst, backend, "analyst-locks")
    page = analyst
    become(page, base, "nurse", f"/records/{record_id_of(engine, 'FLS01')}")  # the same window
    notice = page.locator(".notice").inner_text()
    assert "2024 was locked for the annual report by analyst" in notice
    assert page.locator("#f-sex").is_disabled()  # the form is closed, and says why
    assert page.get_by_role("button", name="Save record").count() == 0
    _shot(page, backend, "nurse-record-locked")
    put_back(page)
