"""What a request waits for (issue 19, 300 staff): a save writes its access event in its own
transaction (committed with the change, none for a refused save); a session is looked up (and
its once-a-minute touch written) in a thread, never on the event loop, and its use still moves
the idle limit on."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select, update

from flsdb.services import records, signin
from flsdb.storage.tables import events, web_sessions
from tests.web.conftest import Site


def _events(site: Site, record_id: int, action: str) -> int:
    with site.engine.connect() as conn:
        found = conn.execute(
            select(events.c.id)
            .where(events.c.record_id == record_id)
            .where(events.c.action == action)
        ).all()
    return len(found)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_save_writes_its_event_with_the_change_and_a_refused_one_none(site: Site) -> None:
    client = site.client("nurse")
    record_id = site.record_id("FLS01")
    body = client.get(f"/api/records/{record_id}").json()
    changed = {**body, "sex": "male" if body["sex"] != "male" else "female"}
    saved = client.put(f"/api/records/{record_id}", json=changed)
    assert saved.status_code == 200 and saved.json()["version"] == body["version"] + 1
    assert _events(site, record_id, "update_record") == 1
    stale = client.put(f"/api/records/{record_id}", json={**body, "sex": "other"})
    assert stale.status_code == 409
    assert _events(site, record_id, "update_record") == 1  # refused: no event
    same = client.put(f"/api/records/{record_id}", json={**saved.json()})
    assert same.status_code == 200 and same.json()["version"] == body["version"] + 1
    assert _events(site, record_id, "update_record") == 2  # nothing changed: still read


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_session_is_looked_up_and_touched_from_a_thread(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = site.client("nurse")
    record_id = site.record_id("FLS01")
    long_ago = dt.datetime.now() - dt.timedelta(minutes=5)
    with site.engine.begin() as conn:
        conn.execute(update(web_sessions).values(last_seen_at=long_ago))
    looked_up_in: list[str] = []
    look_up = signin.session_actor

    def noted(*args: Any, **kwargs: Any) -> signin.Live | None:
        looked_up_in.append(threading.current_thread().name)
        return look_up(*args, **kwargs)

    monkeypatch.setattr("flsdb.web.auth.session_actor", noted)
    with client:
        loop_thread = client.portal.call(threading.current_thread)  # type: ignore[union-attr]
        assert client.get(f"/api/records/{record_id}").status_code == 200
        assert client.get(f"/api/records/{record_id}").status_code == 200  # not due again
    assert len(looked_up_in) == 2 and loop_thread.name not in looked_up_in
    with site.engine.connect() as conn:
        seen = conn.execute(select(web_sessions.c.last_seen_at)).scalars().all()
    assert max(seen) > long_ago + dt.timedelta(minutes=4)  # the nurse's: used now


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_save_whose_event_cannot_be_written_is_not_kept(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = site.client("nurse")
    record_id = site.record_id("FLS01")
    body = client.get(f"/api/records/{record_id}").json()
    write_event = records.record_event

    def refused(target: Any, user: str, action: str, **kwargs: Any) -> None:
        if action == "update_record":
            raise RuntimeError("the access log refused the row")
        write_event(target, user, action, **kwargs)

    monkeypatch.setattr(records, "record_event", refused)
    changed = {**body, "sex": "male" if body["sex"] != "male" else "female"}
    assert client.put(f"/api/records/{record_id}", json=changed).status_code == 500
    monkeypatch.undo()
    after = client.get(f"/api/records/{record_id}").json()
    assert (after["version"], after["sex"]) == (body["version"], body["sex"])
