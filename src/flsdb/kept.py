"""Answers kept by key: a bounded, lock-guarded map, owned by one set of figures (the views
made of them) or by a module (answers that depend only on their key's values: never keyed by
`id()`, which a reused id would confuse and which would keep every object it ever saw).

Figures never change after they are computed (a change to the records makes new figures), so a
view made from them (a dashboard's rows, a chart's layout) can be kept with them and dropped with
them. Several threads may ask for the same view at once (a web server's requests): each key is
made by one of them while the others wait, and the map keeps at most `size` views, the least
recently used dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Kept:
    """At most `size` views by key, made once each (`get`)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def __getstate__(self) -> dict[str, Any]:
        # Figures cross to a worker process and back: their views (and locks) stay behind.
        return {"size": self.size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["size"])  # type: ignore[misc]

    def __deepcopy__(self, memo: dict[int, Any]) -> Kept:
        return Kept(self.size)

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The view kept under `key`, made by `make` if there is none (once, however many
        threads ask at the same time)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if key in self._values:
                    self._values.move_to_end(key)
                    return self._values[key]
            try:
                value = make()
            except BaseException:
                with self._lock:
                    self._making.pop(key, None)
                raise
            with self._lock:
                self._values[key] = value
                self._values.move_to_end(key)
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
                self._making.pop(key, None)
        return value
