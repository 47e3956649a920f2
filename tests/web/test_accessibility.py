"""WCAG 2.2 AA in Debian's Chromium (issue 20, item 8): axe-core (vendored from npm, see
tests/web/vendor/axe-core/) finds no violation on any page of the application, for each role and
anonymously, at 1366x900 and 390x844; every page has one h1 and no skipped heading level; after
a failed save focus is on the error summary and each error is tied to its field.

The pages are found by walking the application's routes: every GET route outside the API is a
page unless it is named below as something else (a download, a chart's data), so a new page is
visited without changing this test. Its path parameters come from the small site's data; the
pages behind a form step (a failed save, previews and confirmations) are reached by doing the
step. The `flsdb serve` of the browser modules (on SQLite: what is checked is the HTML, the same
on either backend) and their browser serve the walk, in one window that each role signs in to in
turn; each route is asked for once per role, and each page to check is loaded once and checked at
both sizes (the window resized between the two axe runs; the next page is loaded at the size the
last one ended at)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from flsdb.web.app import application_routes
from tests.factory import SERVICES, nhs_number, record, write_records, write_services
from tests.web.conftest import PASSWORD, RECORDS, Site

playwright_api = pytest.importorskip("playwright.sync_api")

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SOURCE = AXE.read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
ROLES = ("nurse", "viewer", "analyst", "admin")

# GET routes outside the API that are not pages, and why.
NOT_PAGES = {
    "/healthz": "the service manager's health check (JSON)",
    "/openapi.json": "the API's schema",
    "/static": "stylesheets, scripts and the vendored libraries",
    "/admin/audit.csv": "a download (CSV)",
    "/extracts/pseudonymised": "a download (CSV or Parquet)",
    "/templates/records.{suffix}": "a download (the XLSX or CSV template)",
    "/download/{kind}/{unit}.{fmt}": "a report download (PDF, or the HTML the PDF is made from)",
    "/charts/{level}/{unit}/{chart}": "a chart's Vega-Lite specification (JSON)",
    "/tables/{level}/{unit}/{table}.{fmt}": "a download (CSV or XLSX)",
}
# Query strings a page needs to show what it is for.
QUERIES = {
    "/fls/{service_code}/patients": "kpi=kpi04&status=not_met&period=2024",
    "/fls/{service_code}": "period=2024",
    "/region/{region_code}": "period=2024",
    "/nation": "period=2024",
    "/kpis": "period=2024",
    "/records/{record_id}/followup": "list=overdue_16w",
}

CHECK = """async (tags) => {
  for (let i = 0; i < 3; i++) {  // the page's own handling of a resize comes first
    await new Promise(done => requestAnimationFrame(done));
  }
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    rules: {"target-size": {enabled: true}},  // WCAG 2.2's 2.5.8, off in axe by default
    resultTypes: ["violations"],
  });
  const violations = result.violations.map(v => ({
    rule: v.id, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
  const headings = Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6"))
    .filter(h => h.checkVisibility())
    .map(h => [Number(h.tagName[1]), h.textContent.trim().slice(0, 60)]);
  return {violations, headings};
}"""


def _viewport(size: str) -> dict[str, int]:
    width, height = SIZES[size]
    return {"width": width, "height": height}


def heading_problems(headings: list[list[Any]]) -> list[str]:
    """One h1, first; no level skipped on the way down."""
    problems = []
    levels = [int(level) for level, _ in headings]
    if levels.count(1) != 1 or levels[:1] != [1]:
        problems.append(f"headings {levels}: one h1, first, is wanted")
    for (before, _), (level, text) in itertools.pairwise(headings):
        if int(level) > int(before) + 1:
            problems.append(f"h{level} '{text}' follows h{before}: a level is skipped")
    return problems


class Walk:
    """The pages checked so far (their routes) and what was found wrong on them."""

    def __init__(self, browser: Any, base: str) -> None:
        self.browser, self.base = browser, base
        self.failures: list[str] = []
        self.routes_seen: set[str] = set()
        self.page: Any = None

    def window(self) -> Any:
        """The walk's one window (1366x900), which every role uses in turn (`become`): a new
        browser context for each role cost about 1.8 s of processor time (Chromium starts a
        renderer for it, which compiles axe again), a change of user 0.05 s."""
        if self.page is None:
            width, height = SIZES["desktop"]
            context = self.browser.new_context(viewport={"width": width, "height": height})
            # axe (650 kB) given to the context once, run in every document it opens before the
            # page's own scripts, through the browser's debugging protocol, which the pages'
            # Content-Security-Policy does not apply to. Sent to each page checked instead, it
            # cost about a fifth of a second a page (the text crossing Playwright's two pipes,
            # then compiled), more than the documents opened on the way take to compile it.
            context.add_init_script(AXE_SOURCE)
            self.page = context.new_page()
        return self.page

    def become(self, name: str | None) -> Any:
        """The window with nobody signed in (its cookies cleared), then (`name`) `name` signed
        in through the API, in the window's own cookies: the sign-in form's page is checked
        anonymously and its use is tested in test_browser.py; the pages after it are what each
        role is walked for."""
        page = self.window()
        page.context.clear_cookies()
        if name:
            body = {"username": name, "password": PASSWORD}
            signed = page.request.post(f"{self.base}/api/login", data=body)
            assert signed.status == 200, f"{name} could not sign in"
        return page

    def check(self, page: Any, who: str, what: str) -> None:
        """axe and the headings at both sizes, on the page as it is now: at the window's size
        first, then resized to the other, where the window stays (the next page is loaded and
        checked at that size first: resizing back cost a relayout, and on a dashboard charts
        drawn, of a page about to be left, about 0.06 s of processor time a page)."""
        page.wait_for_load_state()
        for size in sorted(SIZES, key=lambda size: page.viewport_size != _viewport(size)):
            if page.viewport_size != _viewport(size):
                page.set_viewport_size(_viewport(size))
            width = SIZES[size][0]
            found = page.evaluate(CHECK, TAGS)
            where = f"{who}, {what} ({page.url.removeprefix(self.base)}), {size}"
            for v in found["violations"]:
                self.failures.append(f"{where}: {v['rule']} ({v['help']}) at {v['targets']}")
            self.failures += [f"{where}: {p}" for p in heading_problems(found["headings"])]
            if size == "phone":
                wide = page.evaluate("document.documentElement.scrollWidth")
                if wide > width:
                    self.failures.append(f"{where}: the page is {wide} px wide")

    def visit(self, page: Any, who: str, path: str, what: str, status: int | None = None) -> None:
        """Load `path` and check it (`status`: what a request for it was answered with)."""
        response = page.goto(self.base + path)
        if status is not None:
            assert response is not None and response.status == status, (who, path, status)
        self.check(page, who, what)


def _page_routes(app: Any) -> list[str]:
    """The GET routes outside the API that are pages (every one not named in NOT_PAGES)."""
    found = []
    for path, route in application_routes(app.routes):
        if path.startswith("/api") or path in NOT_PAGES:
            continue
        if isinstance(route, APIRoute) and "GET" in route.methods:
            found.append(path)
    return found


def _fracture_site(base: str, sites: tuple[str, ...]) -> dict[str, Any]:
    """The first record's fracture site saved as each of `sites` in turn, by its nurse; the
    record as it was before."""
    with httpx.Client(base_url=base, timeout=60) as client:
        signed = client.post("/api/login", json={"username": "nurse", "password": PASSWORD})
        client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
        listed = client.get("/api/records", params={"service": "FLS01"}).json()["records"]
        first: dict[str, Any] = next(r for r in listed if r["nhs_number"] == nhs_number(1))
        version = first["version"]
        for site in sites:
            changed = {**first, "version": version, "fracture_site": site}
            del changed["id"]
            saved = client.put(f"/api/records/{first['id']}", json=changed)
            assert saved.status_code == 200, saved.text
            version = saved.json()["version"]
    return first


def _prepare(base: str, folder: Path) -> dict[str, str]:
    """Data the pages show: a record with a second version (so its history offers a restore)
    and the values of the routes' path parameters."""
    first = _fracture_site(base, ("humerus", "pelvis"))
    upload = write_records(
        folder / "upload.csv",
        [
            {**RECORDS[1], "fracture_site": "hip"},
            record(service_code="FLS01", nhs_number="123", date_fracture_diagnosed="2024-13-01"),
        ],
    )
    return {
        "record_id": str(first["id"]),
        "service_code": "FLS01",
        "region_code": "QE1",
        "username": "nurse",
        "action": "disable",
        "upload": str(upload),
        "fracture_site": str(first["fracture_site"]),
    }


def _fill(path: str, values: dict[str, str]) -> str:
    names = re.findall(r"{(\w+)}", path)
    missing = [n for n in names if n not in values]
    assert not missing, f"{path}: give the test a value for {missing} (from the small site)"
    filled = path.format(**{n: values[n] for n in names})
    query = QUERIES.get(path)
    return f"{filled}?{query}" if query else filled


def _failed_save(walk: Walk, page: Any, who: str, what: str) -> None:
    """After a failed save: focus on the error summary, each error tied to its field."""
    page.wait_for_load_state()
    focused = page.evaluate(
        "document.activeElement && document.activeElement.closest('.summary') !== null"
    )
    if not focused:
        walk.failures.append(f"{who}, {what}: focus is not on the error summary")
    untied = page.evaluate(
        """() => Array.from(document.querySelectorAll('.field.invalid')).filter(field => {
          const errors = Array.from(field.querySelectorAll('.msg.error')).map(e => e.id);
          const invalid = field.querySelector('[aria-invalid="true"]');
          const control = field.querySelector('[aria-describedby]');
          const described = control ? (control.getAttribute('aria-describedby') || '') : '';
          return !invalid || !errors.length
            || errors.some(id => !id || !described.split(' ').includes(id));
        }).map(field => field.id)"""
    )
    if untied:
        walk.failures.append(f"{who}, {what}: errors not tied to their fields: {untied}")
    walk.check(page, who, what)


def _nurse_steps(walk: Walk, page: Any, values: dict[str, str]) -> None:
    base, record_id = walk.base, values["record_id"]
    page.goto(f"{base}/uploads")
    page.set_input_files("#file", values["upload"])
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state()
    values["upload_id"] = page.url.split("/uploads/")[1].split("?")[0]
    page.goto(f"{base}/records/new")
    page.get_by_role("button", name="Save record").click()
    _failed_save(walk, page, "nurse", "a new record not saved")
    page.goto(f"{base}/records/{record_id}/followup?list=overdue_16w")
    page.select_option("#f-followup_16w", "yes")
    page.get_by_role("button", name="Save", exact=True).click()
    _failed_save(walk, page, "nurse", "a follow-up not saved")
    page.goto(f"{base}/records/{record_id}/history")
    page.get_by_role("button", name="Restore this version").first.click()
    walk.check(page, "nurse", "restore: confirm")
    page.goto(f"{base}/locks")
    page.get_by_role("textbox", name="Quarter").fill("2024-Q1")
    page.get_by_role("button", name="Sign off this quarter").click()
    walk.check(page, "nurse", "sign-off: confirm")
    page.goto(f"{base}/records")
    page.get_by_role("textbox", name="NHS number").fill(nhs_number(2))
    page.get_by_role("button", name="Search").click()
    walk.check(page, "nurse", "records found by NHS number")


def _analyst_steps(walk: Walk, page: Any, values: dict[str, str]) -> None:
    page.goto(f"{walk.base}/locks")
    page.get_by_role("textbox", name="Year").fill("2024")
    page.get_by_role("button", name="Lock this year").click()
    walk.check(page, "analyst", "lock: confirm")


def _admin_steps(walk: Walk, page: Any, values: dict[str, str], folder: Path) -> None:
    base = walk.base
    page.goto(f"{base}/admin/users")
    page.fill("#nu", "nurse")  # a name already taken
    page.fill("#np", PASSWORD)
    page.get_by_role("button", name="Add user").click()
    page.wait_for_load_state()
    if page.evaluate("document.activeElement.id") != "form-error":
        walk.failures.append("admin, a user not added: focus is not on the error")
    walk.check(page, "admin", "a user not added")
    services = write_services(
        folder / "services-changed.csv",
        [{**SERVICES[0], "service_name": "North Fracture Liaison Service"}, *SERVICES[1:]],
    )
    page.goto(f"{base}/admin/services")
    page.set_input_files("#sf", str(services))
    page.get_by_role("button", name="Check the file").click()
    walk.check(page, "admin", "services: preview")
    with httpx.Client(base_url=base, timeout=60) as client:  # a sign-off to lift
        signed = client.post("/api/login", json={"username": "nurse2", "password": PASSWORD})
        client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
        body = {"period": "2024-Q1", "service": "FLS02", "confirm": True}
        assert client.post("/api/locks", json=body).status_code == 201
    page.goto(f"{base}/locks")
    page.get_by_role("button", name="Lift").first.click()
    walk.check(page, "admin", "lift a sign-off")


# The HTML checked is the same on either backend: on SQLite, on the server the browser modules
# share (tests/web/conftest.py `live`: the locks the walk leaves are lifted after it, and the
# record it edits is put back below, as the other browser tests expect the small site).
@pytest.mark.parametrize("served_site", ["sqlite"], indirect=True)
def test_every_page_for_every_role_passes_axe(
    live: tuple[str, Any, str], browser: Any, tmp_path: Path
) -> None:
    base, folder = live[0], tmp_path
    from flsdb.web.app import create_app
    from flsdb.web.settings import Settings

    routes = _page_routes(create_app(Settings(database_url="sqlite://", secret_key="s" * 48)))
    values = _prepare(base, folder)
    try:
        _walk(browser, base, folder, routes, values)
    finally:  # the record's fracture site as it was (a third version)
        _fracture_site(base, (values["fracture_site"],))


def _walk(browser: Any, base: str, folder: Path, routes: list[str], values: dict[str, str]) -> None:
    walk = Walk(browser, base)

    anonymous = walk.become(None)
    walk.visit(anonymous, "anonymous", "/login", "sign-in")
    anonymous.fill("#username", "nurse")
    anonymous.fill("#password", "not the password")
    anonymous.click("form.narrow button[type=submit]")
    walk.check(anonymous, "anonymous", "sign-in refused")
    walk.visit(anonymous, "anonymous", "/no-such-page", "no such page")

    for who in ROLES:
        page = walk.become(who)
        if who == "nurse":
            _nurse_steps(walk, page, values)
        refused = False
        seen: set[str] = set()
        for route in routes:
            if route == "/login":
                continue
            path = _fill(route, values)
            # Asked first with the page's own cookies (nothing drawn): the browser loads only
            # the pages it checks, not every refusal after the first nor a page seen already.
            response = page.request.get(walk.base + path)
            status = response.status
            if status in (403, 404):
                if not refused:  # one error page per role
                    refused = True
                    walk.visit(page, who, path, f"refused {route}", status)
                continue
            assert status == 200, f"{who} GET {path}: {status}"
            assert response.headers["content-type"].startswith("text/html"), route
            walk.routes_seen.add(route)
            opened = response.url.split("?")[0]
            if opened in seen:  # "/" opens one of the role's pages
                continue
            seen.add(opened)
            walk.visit(page, who, path, route, status)
        if who == "analyst":
            _analyst_steps(walk, page, values)
        if who == "admin":
            _admin_steps(walk, page, values, folder)
    walk.window().context.close()

    unvisited = set(routes) - walk.routes_seen - {"/login"}
    assert not unvisited, f"pages no role could open: {sorted(unvisited)}"
    assert not walk.failures, "\n".join(walk.failures)


def _ids(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


def test_a_failed_save_ties_each_error_to_its_field(site: Site) -> None:
    """Without a browser, on both backends: the summary is focusable and marked to be focused,
    every error has an id its control's aria-describedby names, each section has a heading, and
    the long form has Save and Cancel at its top and Save record and Cancel at its foot."""
    client = site.client("nurse")
    form = client.get("/records/new")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf
    fresh = client.post(
        "/records/new",
        data={"csrf_token": csrf.group(1), "service_code": "FLS01", "sex": "female"},
    )
    assert fresh.status_code == 422
    page = fresh.text
    assert re.search(r'<div class="summary" role="alert"[^>]* tabindex="-1" data-focus>', page)
    errors = _ids(page, r'<p class="msg error" id="(e-(\w+)-\d+)"><span class="sr">Error: </span>')
    assert {field for _, field in errors} == {
        "nhs_number",
        "date_of_birth",
        "date_fracture_diagnosed",
        "fracture_site",
    }
    for error_id, field in errors:
        control = re.search(rf'<(?:input|select|div)[^>]* id="f-{field}"[^>]*>', page)
        assert control, field
        assert re.search(rf'aria-describedby="{error_id} [^"]*h-{field}"', control.group(0))
        assert 'aria-invalid="true"' in control.group(0)
    # A field without an error is described by its help alone.
    assert re.search(r'id="f-sex"[^>]* aria-describedby="h-sex"', page)
    assert "<legend><h2>Patient and fracture</h2></legend>" in page
    first, last = page.index('<div class="buttons first">'), page.rindex('<div class="buttons">')
    assert first < page.index("<fieldset") < last
    assert re.search(
        r'<button type="submit">Save</button> <a href="/records" class="cancel">'
        r"Cancel",
        page[first:],
    )
    assert re.search(
        r'<button type="submit">Save record</button> <a href="/records" '
        r'class="cancel">Cancel',
        page[last:],
    )
    # The short follow-up form: its Cancel goes back to the same worklist.
    record_id = site.record_id("FLS01")
    short = client.post(
        f"/records/{record_id}/followup?list=overdue_16w",
        data={"csrf_token": csrf.group(1), "version": "1", "followup_16w": "yes"},
    )
    assert short.status_code == 422
    assert re.search(r'<p class="msg error" id="e-date_followup_16w-1">', short.text)
    assert re.search(
        r'id="f-date_followup_16w"[^>]* aria-describedby="e-date_followup_16w-1 '
        r'h-date_followup_16w" aria-invalid="true"',
        short.text,
    )
    assert re.search(
        r'<a href="/fls/FLS01/worklist\?list=overdue_16w" class="cancel">Cancel', short.text
    )
