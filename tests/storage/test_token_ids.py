"""API token ids are never given twice (migration 0012): a token is named by its id in listings,
in revokes and in the events trail, so a revoked token's id must not name a later one."""

from __future__ import annotations

from sqlalchemy import Engine, select

from flsdb.services import accounts
from flsdb.services.policy import Role
from flsdb.storage.database import HEAD_REVISION, upgrade
from flsdb.storage.tables import events
from tests.storage.revisions import store_at

PASSWORD = "a long enough password"


def token_ids(engine: Engine, name: str) -> list[int]:
    return [int(t["id"]) for t in accounts.list_tokens(engine, name)]


def test_a_revoked_tokens_id_never_goes_to_another_token(engine: Engine) -> None:
    accounts.add_user(engine, "alice", Role.ADMIN, PASSWORD)
    accounts.add_user(engine, "bob", Role.ADMIN, PASSWORD)
    accounts.new_token(engine, "alice")
    accounts.new_token(engine, "alice")
    [kept, newest] = token_ids(engine, "alice")
    assert accounts.revoke_tokens(engine, "alice", newest) == 1
    accounts.new_token(engine, "bob")
    [bobs] = token_ids(engine, "bob")
    assert bobs > newest > kept
    with engine.connect() as conn:
        trail = list(conn.execute(select(events.c.detail).order_by(events.c.id)).scalars())
    assert trail[-1].startswith(f"bob token {bobs},")
    assert sum(f"token {bobs}" in (d or "") for d in trail) == 1  # one token per id in the trail


def test_a_store_that_reused_token_ids_counts_on_above_every_id_it_named(db_url: str) -> None:
    """A store at 0011 where SQLite handed a revoked token's id out again: after 0012 the next
    token's id is above every id the table holds and every id the events trail names."""
    engine = store_at(db_url, "0011")
    accounts.add_user(engine, "alice", Role.ADMIN, PASSWORD)
    for _ in range(3):
        accounts.new_token(engine, "alice")
    first, second, third = token_ids(engine, "alice")
    accounts.revoke_tokens(engine, "alice", third)
    accounts.revoke_tokens(engine, "alice", second)
    sqlite = engine.dialect.name == "sqlite"
    accounts.new_token(engine, "alice")
    [_, again] = token_ids(engine, "alice")
    assert (again == second) is sqlite  # what SQLite did before 0012; PostgreSQL never did

    assert upgrade(engine) == HEAD_REVISION
    accounts.new_token(engine, "alice")
    assert token_ids(engine, "alice")[:2] == [first, again]
    assert token_ids(engine, "alice")[2] > max(third, again)
    engine.dispose()
