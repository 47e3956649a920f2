"""`flsdb serve` started as users start it, on a free loopback port, and Debian's Chromium;
browser pages signed in as a user of the small site (each user signs in through the form once
per server, later pages start from the cookies that sign-in left, in a window an earlier test put
back when there is one)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tests.command import FLSDB

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# The session secret of the test applications, in-process (tests/web/conftest.py) and served.
SECRET = "s" * 48
# The small site's users' password (tests/web/conftest.py gives each user this one).
PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(
    url: str, cwd: Path, refresh: str = "0", workers: int = 1, threads: int | None = None
) -> Iterator[str]:
    """The web application on `url`'s database; yields its base URL."""
    port = _free_port()
    log = (cwd / "serve.log").open("w")
    more = [] if threads is None else ["--threads", str(threads)]
    process = subprocess.Popen(
        [FLSDB, "serve", "--db", url, "--port", str(port), "--workers", str(workers), *more],
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "FLSDB_SECRET_KEY": SECRET,
            "FLSDB_DASHBOARD_REFRESH": refresh,
            "FLSDB_DASHBOARD_WAIT": "600" if refresh == "0" else "0",
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        # One client for every try: `httpx.get` makes a client, and its TLS context, each time
        # (about 12 ms of processor time: 1.2 s over a start of 20 s on a loaded machine).
        with httpx.Client(timeout=2) as client:
            while True:
                try:
                    if client.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((cwd / "serve.log").read_text())
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# Screenshots are for people to look at (no test reads them): taken when this is set to 1. The 65
# of a run of the browser modules cost 13 s of processor time (Chromium drawing the whole page
# and encoding it) and 26 s of their time on a loaded machine.
SCREENSHOTS = "FLSDB_SCREENSHOTS"


def screenshot(page: Any, backend: str, name: str) -> None:
    """With $FLSDB_SCREENSHOTS=1, the whole page as artifacts/screenshots/sqlite/`name`.png, from
    the SQLite server only: the browser draws the same HTML from either store, and what each
    store gives the pages is checked on both (by the browser tests that take the screenshots,
    and in-process)."""
    if backend != "sqlite" or os.environ.get(SCREENSHOTS) != "1":
        return
    folder = ARTIFACTS / backend
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


# The cookies (Playwright's storage state) a sign-in through the form left, by (server, user).
_SIGNED_IN: dict[tuple[str, str], Any] = {}


def sign_in(page: Any, base: str, name: str, start: str | None = None) -> None:
    """`name` signs in through the sign-in form in `page` (the one it shows, else a new one;
    `start`: the page to go on to, else the role's start page); the cookies are kept for
    `signed_in` pages on this server."""
    if not page.url.startswith(f"{base}/login"):
        page.goto(f"{base}/login" + (f"?next={quote(start, safe='/')}" if start else ""))
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{name} could not sign in"
    _SIGNED_IN[(base, name)] = page.context.storage_state()


# Windows the tests are done with (`put_back`), by (browser, server, locale, other options of
# the context): a later `signed_in` with the same options takes one and changes its user.
_SPARE: dict[tuple[Any, ...], list[Any]] = {}
_OPTIONS: dict[int, tuple[Any, ...]] = {}


def signed_in(
    browser: Any,
    base: str,
    name: str,
    start: str | None = None,
    *,
    size: tuple[int, int] = (1280, 900),
    locale: str = "en-GB",
    fresh: bool = False,
    **options: Any,
) -> Any:
    """A page of `size`, signed in as `name`, on `start` (None: a blank page, or the role's
    start page when it signs in). A user signs in through the form once per server (the form, a
    POST and a page: about 0.9 s of processor time over Chromium and the server); later windows
    start from that session's cookies, as a second tab would. The window is one a test put back
    (`put_back`) with the same browser options, its cookies replaced, or a new browser context
    (about 0.75 s of processor time over Chromium's browser, GPU and renderer processes).
    `fresh`: a new context, and `name` signs in through the form again (a second browser, a
    session of its own)."""
    state = None if fresh else _SIGNED_IN.get((base, name))
    page = window(browser, base, state, size=size, locale=locale, fresh=fresh, **options)
    if state is not None:
        if start is None:
            return page
        page.goto(base + start)
        if not page.url.startswith(f"{base}/login"):
            return page
        # The session ended (its idle limit passed, or a test ended it): sign in again.
    sign_in(page, base, name, start)
    return page


def window(
    browser: Any,
    base: str,
    state: Any = None,
    *,
    size: tuple[int, int] = (1280, 900),
    locale: str = "en-GB",
    fresh: bool = False,
    **options: Any,
) -> Any:
    """A blank page of `size` with `state`'s cookies (Playwright's storage state; None: nobody
    signed in): one a test put back (`put_back`) with the same browser options, its cookies
    replaced, or (`fresh`, or none put back) a new browser context's."""
    key = (id(browser), base, locale, tuple(sorted(options.items())))
    width, height = size
    spare = None if fresh else (_SPARE.get(key) or [None]).pop()
    if spare is not None and not spare.is_closed():
        page = spare
        page.context.clear_cookies()
        page.set_viewport_size({"width": width, "height": height})
        page.goto("about:blank")
        if state is not None:
            page.context.add_cookies(state["cookies"])
        return page
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale=locale,
        storage_state=state,
        **options,
    )
    page = context.new_page()
    _OPTIONS[id(page)] = key
    return page


def put_back(*pages: Any) -> None:
    """Windows of `signed_in` a test is done with, kept for later tests' `signed_in` (with the
    same browser options) instead of closed."""
    for page in pages:
        _SPARE.setdefault(_OPTIONS[id(page)], []).append(page)


def become(page: Any, base: str, name: str, start: str | None = None) -> None:
    """`page`'s window signed in as `name` instead of its user (its cookies replaced by those
    `name`'s sign-in left, or `name` signs in through the form), then on `start`: one window
    for users in turn costs a page load each, not a new browser context each (about 0.75 s of
    processor time: Chromium starts a renderer for it)."""
    state = _SIGNED_IN.get((base, name))
    page.context.clear_cookies()
    if state is None:
        sign_in(page, base, name, start)
        return
    page.context.add_cookies(state["cookies"])
    if start is not None:
        page.goto(base + start)
        if page.url.startswith(f"{base}/login"):  # the session ended: sign in again
            sign_in(page, base, name, start)
