"""Access, proved over every route of the OpenAPI schema: for each role, a resource in its scope
and one outside it, the status expected. A new route without a line here fails the test."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import USERS, Site

ROLES = tuple(USERS)  # nurse (FLS01), nurse2 (FLS02), viewer (QE1), analyst, admin

# (method, path) -> role -> (status in scope, status outside scope); None: the table below.
# "In scope" is FLS01's record and nurse's upload; outside is FLS02's record and an unknown upload.
EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("GET", "/api/me"): {r: (200, 200) for r in ROLES},
    ("GET", "/api/services"): {r: (200, 200) for r in ROLES},
    ("GET", "/api/records"): {
        "nurse": (200, 404),
        "nurse2": (404, 200),
        "viewer": (403, 403),
        "analyst": (403, 403),
        "admin": (403, 403),
    },
    ("POST", "/api/records/search"): {
        "nurse": (200, 404),
        "nurse2": (404, 200),
        "viewer": (403, 403),
        "analyst": (403, 403),
        "admin": (403, 403),
    },
    ("POST", "/api/records"): {
        "nurse": (422, 404),
        "nurse2": (404, 422),
        "viewer": (403, 403),
        "analyst": (403, 403),
        "admin": (403, 403),
    },
    ("GET", "/api/records/{record_id}"): {
        "nurse": (200, 404),
        "nurse2": (404, 200),
        **{r: (404, 404) for r in ("viewer", "analyst", "admin")},
    },
    ("PUT", "/api/records/{record_id}"): {
        "nurse": (422, 404),
        "nurse2": (404, 422),
        **{r: (404, 404) for r in ("viewer", "analyst", "admin")},
    },
    ("DELETE", "/api/records/{record_id}"): {
        "nurse": (409, 404),
        "nurse2": (404, 409),
        **{r: (404, 404) for r in ("viewer", "analyst", "admin")},
    },
    ("GET", "/api/records/{record_id}/history"): {
        "nurse": (200, 404),
        "nurse2": (404, 200),
        **{r: (404, 404) for r in ("viewer", "analyst", "admin")},
    },
    # Restoring version 1 of a record at version 1: nothing to restore (409), if it is seen.
    ("POST", "/api/records/{record_id}/restore"): {
        "nurse": (409, 404),
        "nurse2": (404, 409),
        **{r: (404, 404) for r in ("viewer", "analyst", "admin")},
    },
    ("POST", "/api/uploads"): {
        "nurse": (422, 422),
        "nurse2": (422, 422),
        **{r: (403, 403) for r in ("viewer", "analyst", "admin")},
    },
    ("GET", "/api/uploads/{upload_id}"): {
        "nurse": (200, 404),
        "nurse2": (404, 404),
        **{r: (403, 403) for r in ("viewer", "analyst", "admin")},
    },
    ("POST", "/api/uploads/{upload_id}/commit"): {
        "nurse": (409, 404),
        "nurse2": (404, 404),
        **{r: (403, 403) for r in ("viewer", "analyst", "admin")},
    },
    ("GET", "/api/uploads/{upload_id}/errors.csv"): {
        "nurse": (200, 404),
        "nurse2": (404, 404),
        **{r: (403, 403) for r in ("viewer", "analyst", "admin")},
    },
    ("GET", "/api/kpis"): {r: (200, 200) for r in ROLES},
    ("GET", "/api/audit"): {r: ((200, 200) if r == "admin" else (403, 403)) for r in ROLES},
    ("GET", "/api/worklists/{service_code}"): {
        "nurse": (200, 404),
        "nurse2": (404, 200),
        **{r: (403, 403) for r in ("viewer", "analyst", "admin")},
    },
    ("GET", "/api/locks"): {r: (200, 200) for r in ROLES},
    # Without "confirm": what would be locked, nothing changed (200; issue 16).
    ("POST", "/api/locks"): {
        "nurse": (200, 404),
        "nurse2": (404, 200),
        **{r: (403, 403) for r in ("viewer", "analyst", "admin")},
    },
    ("POST", "/api/locks/{lock_id}/lift"): {
        r: ((404, 404) if r == "admin" else (403, 403)) for r in ROLES
    },
    # DELETE no longer lifts a lock: it says to use .../lift with a reason (issue 16).
    ("DELETE", "/api/locks/{lock_id}"): {
        r: ((405, 405) if r == "admin" else (403, 403)) for r in ROLES
    },
    ("GET", "/api/extracts/pseudonymised"): {
        r: ((200, 200) if r == "analyst" else (403, 403)) for r in ROLES
    },
    # Signed out by the first call: the second finds no session.
    ("POST", "/api/logout"): {r: (204, 401) for r in ROLES},
}
UNAUTHENTICATED_OK = {("POST", "/api/login")}


def _routes(site: Site) -> set[tuple[str, str]]:
    schema = site.app.openapi()
    return {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}


def _call(client: Any, method: str, path: str, scope: dict[str, str], records_in: bool) -> int:
    url = path.format(**scope)
    kwargs: dict[str, Any] = {}
    service = "FLS01" if records_in else "FLS02"
    if (method, path) == ("GET", "/api/records"):
        kwargs["params"] = {"service": service}
    elif (method, path) == ("POST", "/api/records/search"):
        kwargs["json"] = {"service": service}
    elif (method, path) == ("POST", "/api/records"):
        kwargs["json"] = {"service_code": service}
    elif method == "PUT":
        kwargs["json"] = {"version": 1, "service_code": service}
    elif method == "DELETE":
        kwargs["params"] = {"version": 999}
    elif path.endswith("/restore"):
        kwargs["json"] = {"version": 1}
    elif (method, path) == ("POST", "/api/uploads"):
        kwargs["files"] = {"file": ("notes.txt", b"not a table", "text/plain")}
    elif path == "/api/locks/{lock_id}/lift":
        kwargs["json"] = {"reason": "entered by mistake"}
    elif (method, path) == ("POST", "/api/locks"):
        kwargs["json"] = {"period": "2023-Q4", "service": service}
    elif path == "/api/extracts/pseudonymised":
        kwargs["params"] = {"period": "2024"}
    elif (method, path) == ("GET", "/api/kpis"):
        # A year: published figures (a region's, for all but the national team) are yearly.
        kwargs["params"] = {"period": "2024", "by": "region", "as_of": "2026-01-31"}
    return int(client.request(method, url, **kwargs).status_code)


def test_every_route_has_an_access_decision(site: Site) -> None:
    routes = _routes(site)
    assert routes - UNAUTHENTICATED_OK == set(EXPECTED), "add the new route to EXPECTED"


def test_access_table(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLSDB_PSEUDONYM_KEY", "k" * 40)
    nurse = site.client("nurse")
    upload = nurse.post(
        "/api/uploads",
        files={"file": ("a.csv", b"service_code,nhs_number\nFLS01,123\n", "text/csv")},
    )
    assert upload.status_code == 200
    inside = {
        "record_id": str(site.record_id("FLS01")),
        "upload_id": upload.json()["id"],
        "service_code": "FLS01",
        "lock_id": "999999",
    }
    outside = {
        "record_id": str(site.record_id("FLS02")),
        "upload_id": "0" * 32,
        "service_code": "FLS02",
        "lock_id": "999999",
    }
    anonymous = site.client()
    failures = []
    for method, path in sorted(EXPECTED):
        status = _call(anonymous, method, path, inside, True)
        if status != 401:
            failures.append(f"anonymous {method} {path}: {status}")
    clients = {role: site.client(role) for role in ROLES}
    for (method, path), by_role in sorted(
        EXPECTED.items(), key=lambda item: item[0][1] == "/api/logout"
    ):
        for role, (want_in, want_out) in by_role.items():
            client = clients[role]
            got_in = _call(client, method, path, inside, True)
            got_out = _call(client, method, path, outside, False)
            if (got_in, got_out) != (want_in, want_out):
                failures.append(
                    f"{role} {method} {path}: {(got_in, got_out)} not {(want_in, want_out)}"
                )
    assert not failures, "\n".join(failures)
