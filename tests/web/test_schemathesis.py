"""Property test of the API from its own OpenAPI schema (schemathesis): no generated request,
valid or not, gets a server error, on SQLite and PostgreSQL. Requests carry an FLS user's API
token, so they reach the code behind authentication."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from flsdb.services.accounts import new_token
from tests.web.conftest import Site

schemathesis = pytest.importorskip("schemathesis")
EXAMPLES = 20


def test_no_server_errors(site: Site) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", site.app)
    headers = {"Authorization": f"Bearer {new_token(site.engine, 'nurse')}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    # One in-process client for every example (not one made per request), which reads no proxy
    # or netrc settings from the environment and keeps no cookie from one example to the next.
    with schemathesis.python.asgi.get_client(site.app) as client:
        client.trust_env = False
        for operation in operations:
            _no_server_errors(operation, client, headers)


def _no_server_errors(operation: Any, client: Any, headers: dict[str, str]) -> None:
    """No generated request of the operation (EXAMPLES of them), valid or not, gets a server
    error."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def no_server_error(case: Any) -> None:
        # A first KPI request computes the figures: slow on a busy machine, never an error.
        client.cookies.clear()
        response = case.call(session=client, headers=headers, timeout=120)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
        )

    no_server_error()
