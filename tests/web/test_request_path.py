"""What a request waits for (issue 19, 300 staff): a save writes its access event in its own
transaction (committed with the change, none for a refused save); a session is looked up (and
its once-a-minute touch written) in a thread, never on the event loop, and its use still moves
the idle limit on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from flsdb.services import records
from flsdb.storage.tables import events
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
