"""`flsdb users` and `flsdb serve` as users run them: accounts by role, refusals in one
sentence, tokens printed once, the secret file private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.command import flsdb_here
from tests.factory import write_services


def _db(tmp_path: Path) -> str:
    db = str(tmp_path / "site.db")
    done = flsdb_here(
        "load-services", str(write_services(tmp_path / "s.csv")), "--db", db, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    return db


def _users(tmp_path: Path, db: str, *args: str, password: str | None = None):  # type: ignore[no-untyped-def]
    """`flsdb users ...`, in-process (tests/command.py), the password on standard input."""
    return flsdb_here(
        "users",
        *args,
        "--db",
        db,
        input=(password + "\n") if password is not None else None,
        cwd=tmp_path,
    )


def test_users_add_list_disable_role_token(tmp_path: Path) -> None:
    db = _db(tmp_path)
    added = _users(
        tmp_path,
        db,
        "add",
        "Nurse.One",
        "--role",
        "fls_staff",
        "--service",
        "fls01",
        "--password-stdin",
        password="a long password",
    )
    assert added.returncode == 0, added.stderr
    assert "Added nurse.one as fls_staff." in added.stdout
    viewer = _users(
        tmp_path,
        db,
        "add",
        "viewer",
        "--role",
        "region_viewer",
        "--region",
        "QE1",
        "--password-stdin",
        password="a long password",
    )
    assert viewer.returncode == 0, viewer.stderr
    listed = _users(tmp_path, db, "list")
    assert "nurse.one" in listed.stdout and "FLS01" in listed.stdout and "QE1" in listed.stdout
    assert _users(tmp_path, db, "disable", "nurse.one").returncode == 0
    assert "disabled" in _users(tmp_path, db, "list").stdout
    assert _users(tmp_path, db, "enable", "nurse.one").returncode == 0
    moved = _users(tmp_path, db, "set-role", "viewer", "--role", "national_analyst")
    assert moved.returncode == 0 and "national_analyst" in _users(tmp_path, db, "list").stdout
    token = _users(tmp_path, db, "token", "nurse.one")
    assert (
        token.returncode == 0
        and token.stdout.startswith("flsdb_")
        and len(token.stdout.strip()) > 40
    )
    reset = _users(
        tmp_path, db, "reset-password", "nurse.one", "--password-stdin", password="another long one"
    )
    assert reset.returncode == 0


def test_user_refusals_in_one_sentence(tmp_path: Path) -> None:
    db = _db(tmp_path)
    cases = [
        (("add", "x1", "--role", "boss"), "is not a role"),
        (("add", "x2", "--role", "fls_staff"), "needs one or more FLSs"),
        (("add", "x3", "--role", "fls_staff", "--service", "NOPE1"), "There is no FLS NOPE1"),
        (("add", "x4", "--role", "region_viewer", "--region", "ZZZ"), "There is no region ZZZ"),
        (("add", "x5", "--role", "admin", "--service", "FLS01"), "has no FLS or region"),
        (("disable", "nobody"), "There is no user nobody"),
    ]
    for args, fragment in cases:
        done = (
            _users(tmp_path, db, *args, "--password-stdin", password="a long password")
            if args[0] == "add"
            else _users(tmp_path, db, *args)
        )
        assert done.returncode != 0, args
        assert fragment in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    short = _users(
        tmp_path, db, "add", "x6", "--role", "admin", "--password-stdin", password="short"
    )
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    twice = [
        _users(
            tmp_path,
            db,
            "add",
            "same",
            "--role",
            "admin",
            "--password-stdin",
            password="a long password",
        )
        for _ in range(2)
    ]
    assert twice[0].returncode == 0 and "already a user same" in twice[1].stderr


def test_an_existing_user_is_a_conflict_and_other_refusals_are_not(tmp_path: Path) -> None:
    """`flsdb demo` run again takes `UserExists` (a Conflict) to mean the account is there;
    any other refusal (a region that does not exist, say) is not taken for it."""
    from flsdb.errors import ConfigurationError, Conflict
    from flsdb.services import accounts
    from flsdb.services.access import Role
    from flsdb.storage import open_engine

    engine = open_engine(_db(tmp_path))
    accounts.add_user(engine, "same", Role.ADMIN, "a long password")
    with pytest.raises(accounts.UserExists, match="There is already a user same") as exists:
        accounts.add_user(engine, "same", Role.ADMIN, "a long password")
    assert isinstance(exists.value, Conflict)
    with pytest.raises(ConfigurationError, match="There is no region ZZZ") as refused:
        accounts.add_user(engine, "other", Role.REGION_VIEWER, "a long password", region="ZZZ")
    assert not isinstance(refused.value, accounts.UserExists)
    engine.dispose()


def test_secret_key_file_is_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flsdb.errors import ConfigurationError
    from flsdb.web.settings import SECRET_ENV, SECRET_FILE, secret_key

    monkeypatch.delenv(SECRET_ENV, raising=False)
    first = secret_key(tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(tmp_path) == first and len(first) >= 32
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="can be read by others"):
        secret_key(tmp_path)
    monkeypatch.setenv(SECRET_ENV, "too short")
    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        secret_key(tmp_path)


def test_token_life_cycle_from_the_command_line(tmp_path: Path) -> None:
    """`users token --expires-days`, `users tokens` (never the token), `users revoke-token` one
    or --all; reset-password revokes every token and enable brings none back."""
    from flsdb.services.accounts import token_actor
    from flsdb.storage import open_engine

    db = _db(tmp_path)
    added = _users(
        tmp_path, db, "add", "nurse", "--role", "admin", "--password-stdin", password="a long one!"
    )
    assert added.returncode == 0, added.stderr
    first = _users(tmp_path, db, "token", "nurse", "--expires-days", "7").stdout.strip()
    second = _users(tmp_path, db, "token", "nurse").stdout.strip()
    third = _users(tmp_path, db, "token", "nurse").stdout.strip()
    listed = _users(tmp_path, db, "tokens", "nurse")
    assert listed.returncode == 0, listed.stderr
    assert first not in listed.stdout and "flsdb_" not in listed.stdout
    assert "never" in listed.stdout  # not used yet
    engine = open_engine(db)
    try:
        assert token_actor(engine, first) is not None
        refused = _users(tmp_path, db, "token", "nurse", "--expires-days", "0")
        assert refused.returncode != 0 and "1 to 3650 days" in refused.stderr
        neither = _users(tmp_path, db, "revoke-token", "nurse")
        assert neither.returncode != 0 and "one token id or --all" in neither.stderr
        one = _users(tmp_path, db, "revoke-token", "nurse", "1")
        assert one.returncode == 0 and "Revoked 1 token of nurse." in one.stdout
        assert token_actor(engine, first) is None and token_actor(engine, second) is not None
        missing = _users(tmp_path, db, "revoke-token", "nurse", "1")
        assert missing.returncode != 0 and "nurse has no token 1" in missing.stderr
        reset = _users(
            tmp_path, db, "reset-password", "nurse", "--password-stdin", password="another one!"
        )
        assert reset.returncode == 0
        assert token_actor(engine, second) is None and token_actor(engine, third) is None
        fourth = _users(tmp_path, db, "token", "nurse").stdout.strip()
        assert _users(tmp_path, db, "disable", "nurse").returncode == 0
        assert _users(tmp_path, db, "enable", "nurse").returncode == 0
        assert token_actor(engine, fourth) is None
        assert "no API tokens" in _users(tmp_path, db, "tokens", "nurse").stdout
        fifth = _users(tmp_path, db, "token", "nurse").stdout.strip()
        everything = _users(tmp_path, db, "revoke-token", "nurse", "--all")
        assert everything.returncode == 0 and "Revoked 1 token of nurse." in everything.stdout
        assert token_actor(engine, fifth) is None
    finally:
        engine.dispose()
