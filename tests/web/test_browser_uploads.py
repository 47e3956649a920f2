"""In Chromium against `flsdb serve` (issue 16): a file holding a record's key and its 16-week
follow-up, every other cell blank, previews the one value it changes (field label, before and
after) and stores it keeping every other stored value; the history page then restores the
record's first version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from flsdb.storage.tables import records
from tests.factory import nhs_number, record, write_records
from tests.web.live import put_back
from tests.web.test_browser import _login, _shot


def _stored(engine: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(records).where(records.c.nhs_number == nhs_number(3))).one()


def test_blank_cell_upload_keeps_values_and_history_restores(
    browser: Any,
    live: tuple[str, Any, str],
    tmp_path: Path,
) -> None:
    base, engine, backend = live
    before = _stored(engine)
    row = {c: "" for c in record()}
    row.update(
        service_code="FLS01",
        nhs_number=nhs_number(3),
        date_fracture_diagnosed="2024-07-01",
        followup_16w="yes",
        date_followup_16w="2024-10-20",
    )
    path = write_records(tmp_path / "follow-up.csv", [row])
    page = _login(browser, base, "nurse", "/uploads")
    page.set_input_files("#file", str(path))
    page.get_by_role("button", name="Check the file").click()
    text = page.locator("main").inner_text()
    assert "insert 0, update 1" in text, text
    assert "keep the stored values" in text
    changes = page.locator("table.changes tbody tr")
    assert changes.count() == 1
    cells = changes.first.locator("td").all_inner_texts()
    assert cells == ["2", str(before.id), "Date of 16-week follow-up", "1 Oct 2024", "20 Oct 2024"]
    _shot(page, backend, "nurse-upload-changes")
    page.get_by_role("button", name="Store these records").click()
    assert "Stored: 0 inserted, 1 updated" in page.locator("main").inner_text()
    after = _stored(engine)
    assert str(after.date_followup_16w) == "2024-10-20"
    assert (after.date_fls_assessment, after.postcode, after.sex, after.fracture_site) == (
        before.date_fls_assessment,
        before.postcode,
        before.sex,
        before.fracture_site,
    )
    assert after.date_fls_assessment is not None and after.postcode == "SW1A 1AA"
    # The history page restores version 1, after asking.
    page.goto(f"{base}/records/{before.id}/history")
    page.get_by_role("button", name="Restore this version").first.click()
    text = page.locator("main").inner_text()
    assert "Restore version 1 of record" in text and "20 Oct 2024" in text
    _shot(page, backend, "nurse-restore-confirm")
    page.get_by_role("button", name="Restore version 1").click()
    page.wait_for_load_state()
    restored = _stored(engine)
    assert (restored.version, str(restored.date_followup_16w)) == (3, "2024-10-01")
    page.goto(f"{base}/records/{before.id}/history")
    assert "restore" in page.locator("main").inner_text()
    put_back(page)
