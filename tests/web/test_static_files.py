"""The static files (stylesheets, scripts, the vendored Vega libraries) are kept by the browser
and checked with the server at each use (`Cache-Control: no-cache`, answered 304 while
unchanged); pages are never kept (`no-store`); both carry the other security headers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from flsdb.web.app import create_app
from flsdb.web.settings import Settings
from tests.web.live import SECRET


def test_static_files_are_revalidated_and_pages_never_kept() -> None:
    app = create_app(Settings(database_url="sqlite://", secret_key=SECRET))
    with TestClient(app, base_url="http://testserver") as client:
        first = client.get("/static/vendor/vega.min.js")
        assert first.status_code == 200 and len(first.content) > 100_000
        assert first.headers["cache-control"] == "no-cache"
        assert first.headers["x-content-type-options"] == "nosniff"
        etag = first.headers["etag"]
        again = client.get("/static/vendor/vega.min.js", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["cache-control"] == "no-cache"
        page = client.get("/login")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert client.get("/static/no-such-file.js").headers["cache-control"] == "no-store"
