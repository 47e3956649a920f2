"""The web's plumbing in one place: each error class carries its HTTP status (read by the one
handler), and every route that is not public gets its actor from the one dependency."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from flsdb import errors
from flsdb.services import signin
from flsdb.web import auth
from flsdb.web.app import application_routes, create_app, route_decision
from flsdb.web.settings import Settings

STATUSES = {
    errors.FlsdbError: 400,
    errors.FileFormatError: 422,
    errors.ValidationFailed: 422,
    errors.ConfigurationError: 422,
    errors.StorageError: 503,
    errors.NotFound: 404,
    errors.Forbidden: 403,
    errors.Conflict: 409,
    errors.Locked: 423,
    errors.Pending: 503,
    signin.LoginFailed: 401,
    signin.AccountLocked: 429,
    signin.Busy: 503,
    auth.Unauthenticated: 401,
    auth.CsrfRefused: 403,
}


def test_each_error_class_carries_its_status() -> None:
    assert {kind: kind.status for kind in STATUSES} == STATUSES
    # A subclass answers as its parent unless it says otherwise (a duplicate record is a
    # conflict).
    from flsdb.services.accounts import UserExists
    from flsdb.storage.edits import DuplicateRecord

    assert UserExists.status == DuplicateRecord.status == 409


def _calls(dependant: Any) -> set[Any]:
    found = {dependant.call}
    for inner in dependant.dependencies:
        found |= _calls(inner)
    return found


def test_every_signed_in_route_takes_the_actor_as_a_dependency(tmp_path: Any) -> None:
    """Pages and API alike: no handler asks for the actor by hand (`await current_actor`),
    so none can forget to (the routes that are public, and sign-in itself, excepted)."""
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'flsdb.db'}", secret_key="s" * 48)
    )
    try:
        missing = []
        checked = 0
        for path, route in application_routes(app.routes):
            if not isinstance(route, APIRoute) or route_decision(route) == ("public",):
                continue
            checked += 1
            if auth.current_actor not in _calls(route.dependant):
                missing.append(f"{sorted(route.methods)} {path}")
        assert checked > 60
        assert not missing, missing
    finally:
        app.state.engine.dispose()
