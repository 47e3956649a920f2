"""A block's programme solved as moves away from the true counts (`Centred`), for audits asked
again with more counts shown (`flsdb.disclosure.reaudit`).

The simplex answers at a vertex: every variable its objective does not need is left at one of
its bounds, so a solution that proves one hidden count can reach 1 has moved nearly every other
hidden count to 0 or its marker's end, and stops being a solution as soon as any of them is
shown. Written as moves (each count = its true value + up - down, up and down 0 or more), a
variable left at its bound is a move of 0: a solution moves only the counts it needs, and still
proves what it proved when a count it did not move is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import hstack

from flsdb.disclosure.lp import ERROR, INFINITY, Programme, Rows, highs_model


class Centred(Programme):
    """`Programme` with the same questions and answers (in the counts' own terms), solved as
    moves from `centre`, a point within every bound and constraint (the true counts, which
    every attacker's bounds allow)."""

    def __init__(
        self,
        width: int,
        eq_rows: Rows,
        ub_rows: Rows,
        lower: NDArray[np.float64],
        upper: NDArray[np.float64],
        centre: NDArray[np.float64],
    ) -> None:
        self.centre = np.asarray(centre, dtype=float).copy()
        super().__init__(width, eq_rows, ub_rows, lower, upper)

    def _highs(self) -> Any:
        self._columns = np.arange(2 * self.width, dtype=np.int32)
        self._at_centre = self.matrix @ self.centre
        up, down = self._moves(np.arange(self.width))
        return highs_model(
            hstack([self.matrix, -self.matrix]).tocsr(),
            np.zeros(2 * self.width),
            np.concatenate([up, down]),
            self.row_lower - self._at_centre,
            self.row_upper - self._at_centre,
        )

    def _moves(self, index: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """How far each column may move up and down from the centre (never below 0)."""
        centre = self.centre[index]
        up = np.maximum(self.upper[index] - centre, 0.0)
        down = np.maximum(centre - self.lower[index], 0.0)
        return up, down

    def _columns_bounds(self, index: NDArray[np.int32]) -> None:
        up, down = self._moves(index)
        both = np.concatenate([index, index + self.width]).astype(np.int32)
        top = np.concatenate([up, down])
        top = np.where(np.isinf(top), INFINITY, top)
        highs: Any = self.highs  # only called with HiGHS present
        if highs.changeColsBounds(len(both), both, np.zeros(len(both)), top) == ERROR:
            raise RuntimeError("HiGHS refused new bounds")

    def _rows_bounds(
        self, index: NDArray[np.int32], low: NDArray[np.float64], high: NDArray[np.float64]
    ) -> None:
        shift = self._at_centre[index]
        super()._rows_bounds(index, low - shift, high - shift)

    def _cost(self, objective: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.concatenate([objective, -objective])

    def _point(self, columns: Sequence[float]) -> NDArray[np.float64]:
        moves = np.asarray(columns)
        return self.centre + moves[: self.width] - moves[self.width :]
