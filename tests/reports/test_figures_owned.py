"""The figures own what is made from them (issue 18 item 7): views and chart layouts are kept on
the figures object, bounded, made once however many threads ask, and drawn by one thread at a
time; nothing is kept in the process by `id()`."""

from __future__ import annotations

import dataclasses
import pickle
import threading

import pytest

from flsdb.figures import Kept, PeriodFigures
from flsdb.reports import spc_panels
from flsdb.reports.spc_panels import spc_figure
from tests.reports.cases import CASES_GROUP, computed_case_figures

# With the reports' test set's modules (one xdist group): the KPI cases' figures of 2024 are
# computed once per process there (tests/reports/cases.py), not again here (about 1.7 CPU s).
pytestmark = CASES_GROUP


@pytest.fixture(scope="module")
def figures() -> PeriodFigures:
    """The KPI cases' figures of 2024 as computed: a copy with views of its own (none yet)."""
    return computed_case_figures()


def test_kept_views_are_bounded_and_made_once() -> None:
    kept = Kept(size=3)
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    for key in ("a", "b", "c", "a", "d", "e"):
        assert kept.get(key, lambda key=key: make(key)) == key.upper()
    # 'a' was used again before 'd' and 'e' came, so 'b' and 'c' were dropped, 'a' kept.
    assert made == ["a", "b", "c", "d", "e"]
    assert len(kept) == 3
    assert kept.get("a", lambda: make("a")) == "A" and made[-1] == "e"
    assert kept.get("b", lambda: make("b")) == "B" and made[-1] == "b"


def test_a_view_asked_for_by_many_threads_at_once_is_made_once() -> None:
    kept = Kept()
    started = threading.Barrier(8)
    release = threading.Event()
    calls: list[int] = []

    def make() -> int:
        calls.append(1)
        release.wait(30)
        return 42

    results: list[int] = []

    def ask() -> None:
        started.wait(30)
        results.append(kept.get("view", make))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    # The first thread is inside make(); the others are queued on the key (not making it).
    while not calls:
        threading.Event().wait(0.01)
    release.set()
    for thread in threads:
        thread.join(30)
    assert results == [42] * 8
    assert calls == [1]


def test_views_stay_with_their_figures(figures: PeriodFigures) -> None:
    row = figures.row("service", "FLS01", "kpi03", published=False)
    assert row and len(figures.kept) > 0
    # A copy sent to a worker process (or audited into new published rows) starts with none of
    # the old views: nothing computed from other rows can leak into it.
    assert len(pickle.loads(pickle.dumps(figures)).kept) == 0
    other = dataclasses.replace(figures, kept=Kept())
    assert len(other.kept) == 0
    assert other.row("service", "FLS01", "kpi03", published=False) == row
    # No process-wide grid cache keyed by id() is left in the reports.
    assert not hasattr(spc_panels, "_GRIDS")


def _drawn(figures: PeriodFigures, unit: str) -> tuple[bytes, bytes | None]:
    graphic = spc_figure(figures, figures.monthly_service, unit, unit)[0]
    return graphic.image, graphic.overlay


def test_a_shared_chart_layout_is_drawn_by_one_thread_at_a_time(
    figures: PeriodFigures,
) -> None:
    units = sorted(set(figures.monthly_service["unit"]))[:2]
    assert len(units) == 2
    alone = {u: _drawn(figures, u) for u in units}
    assert alone[units[0]] != alone[units[1]]
    together: dict[int, tuple[bytes, bytes | None]] = {}
    ready = threading.Barrier(4)

    def draw(i: int) -> None:
        ready.wait(30)
        unit = units[i % 2]
        together[i] = _drawn(figures, unit)

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert [together[i] == alone[units[i % 2]] for i in range(4)] == [True] * 4
