"""One block's linear programme, solved many times over: for the lowest and highest value of
each protected quantity, and for each attacker (an outsider, then each FLS with its own counts
fixed).

The audit asks hundreds of questions of the same constraints, changing only the objective or
a few variables' bounds between them. HiGHS (the solver scipy's `linprog(method="highs")`
calls) keeps its last basis when only costs or bounds change, so each question after the first
costs a few simplex iterations instead of a fresh solve, and none pays `linprog`'s checking
and conversion of the whole model again (that overhead was most of the audit's time). The
bindings are HiGHS's own Python package, `highspy` (a dependency); scipy bundles the same
module privately (`scipy.optimize._highspy._core`), taken if `highspy` were missing, and were
both missing, `linprog` would answer the same questions from scratch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

_core: Any
try:
    import highspy

    _core = highspy
except ImportError:  # pragma: no cover - highspy is a dependency
    try:
        from scipy.optimize._highspy import _core as _bundled

        _core = _bundled
    except ImportError:
        _core = None

Rows = Sequence[tuple[Sequence[int], Sequence[float], float]]

# Counted for the benchmarks and the README's figures (one process: the audit is synchronous).
SOLVED = {"programmes": 0, "solves": 0}


def _matrix(rows: Rows, width: int) -> Any:
    r: list[int] = []
    c: list[int] = []
    v: list[float] = []
    for i, (columns, coefs, _) in enumerate(rows):
        r += [i] * len(columns)
        c += list(columns)
        v += list(coefs)
    return coo_matrix((v, (r, c)), shape=(len(rows), width)).tocsr()


class Programme:
    """min c @ x subject to eq_rows (== rhs), ub_rows (<= rhs) and column bounds (upper
    np.inf: none); the bounds of any columns, and the right-hand sides of inequality rows, may
    be changed between solves."""

    def __init__(
        self,
        width: int,
        eq_rows: Rows,
        ub_rows: Rows,
        lower: NDArray[np.float64],
        upper: NDArray[np.float64],
    ) -> None:
        self.width = width
        self.lower = np.asarray(lower, dtype=float).copy()
        self.upper = np.asarray(upper, dtype=float).copy()
        rows = [*eq_rows, *ub_rows]
        self.matrix = _matrix(rows, width)
        rhs = np.array([row[2] for row in rows], dtype=float)
        self.row_lower = np.concatenate([rhs[: len(eq_rows)], np.full(len(ub_rows), -np.inf)])
        self.row_upper = rhs
        self.equalities = len(eq_rows)
        self.highs = self._highs() if _core is not None else None
        SOLVED["programmes"] += 1

    def _highs(self) -> Any:
        highs = _core._Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("presolve", "off")  # keep the basis from one solve to the next
        # Primal simplex: a new objective leaves the last basis feasible, so it starts there.
        highs.setOptionValue("simplex_strategy", 4)
        # No bound perturbation: the audit's counts are whole numbers and its programmes small;
        # unperturbed, the same optima take ~10% fewer iterations and ~15% less CPU a solve.
        highs.setOptionValue("primal_simplex_bound_perturbation_multiplier", 0.0)
        lp = _core.HighsLp()
        lp.num_col_ = self.width
        lp.num_row_ = self.matrix.shape[0]
        lp.col_cost_ = np.zeros(self.width)
        lp.col_lower_ = self.lower
        lp.col_upper_ = np.where(np.isinf(self.upper), _core.kHighsInf, self.upper)
        lp.row_lower_ = np.where(np.isinf(self.row_lower), -_core.kHighsInf, self.row_lower)
        lp.row_upper_ = self.row_upper
        lp.a_matrix_.format_ = _core.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = self.matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = self.matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = self.matrix.data.astype(float)
        lp.a_matrix_.num_col_ = self.width
        lp.a_matrix_.num_row_ = self.matrix.shape[0]
        if highs.passModel(lp) == _core.HighsStatus.kError:
            raise RuntimeError("HiGHS refused the audit's programme")
        self._columns = np.arange(self.width, dtype=np.int32)
        return highs

    def set_bounds(
        self,
        columns: Sequence[int],
        lower: Sequence[float] | NDArray[np.float64],
        upper: Sequence[float] | NDArray[np.float64],
    ) -> None:
        """New bounds of some columns (upper np.inf: none)."""
        if not len(columns):
            return
        index = np.asarray(columns, dtype=np.int32)
        self.lower[index] = np.asarray(lower, dtype=float)
        self.upper[index] = np.asarray(upper, dtype=float)
        if self.highs is not None:
            # HiGHS refuses a set with a column twice: each column once, as now stored.
            index = np.unique(index)
            low, high = self.lower[index], self.upper[index]
            top = np.where(np.isinf(high), _core.kHighsInf, high)
            status = self.highs.changeColsBounds(len(index), index, low, top)
            if status == _core.HighsStatus.kError:
                raise RuntimeError(f"HiGHS refused new bounds ({status})")

    def set_row_upper(
        self, rows: Sequence[int], upper: Sequence[float] | NDArray[np.float64]
    ) -> None:
        """New right-hand sides of some inequality rows (`rows`: numbers among all rows)."""
        if not len(rows):
            return
        index = np.asarray(rows, dtype=np.int32)
        self.row_upper[index] = np.asarray(upper, dtype=float)
        if self.highs is not None:
            index = np.unique(index)
            low = np.where(np.isinf(self.row_lower[index]), -_core.kHighsInf, self.row_lower[index])
            status = self.highs.changeRowsBounds(len(index), index, low, self.row_upper[index])
            if status == _core.HighsStatus.kError:
                raise RuntimeError(f"HiGHS refused new row bounds ({status})")

    def feasible(self, x: NDArray[np.float64], tolerance: float = 1e-7) -> bool:
        """Whether `x` meets every constraint and the columns' current bounds."""
        if np.any(x < self.lower - tolerance) or np.any(x > self.upper + tolerance):
            return False
        rows = self.matrix @ x
        if np.any(rows > self.row_upper + tolerance):
            return False
        return not np.any(rows[: self.equalities] < self.row_lower[: self.equalities] - tolerance)

    def feasible_among(
        self, solutions: Sequence[NDArray[np.float64]], tolerance: float = 1e-7
    ) -> list[NDArray[np.float64]]:
        """Those of `solutions` that meet every constraint and the current bounds (as
        `feasible`, all checked in one product)."""
        if not solutions:
            return []
        grid = np.vstack(solutions)
        ok = np.all(grid >= self.lower - tolerance, axis=1)
        ok &= np.all(grid <= self.upper + tolerance, axis=1)
        rows = (self.matrix @ grid.T).T
        ok &= np.all(rows <= self.row_upper + tolerance, axis=1)
        eq = self.equalities
        ok &= np.all(rows[:, :eq] >= self.row_lower[:eq] - tolerance, axis=1)
        return [x for x, good in zip(solutions, ok, strict=True) if good]

    def solve(self, objective: NDArray[np.float64]) -> tuple[str, NDArray[np.float64] | None]:
        """("optimal", x), ("unbounded", None) or ("infeasible", None)."""
        SOLVED["solves"] += 1
        if self.highs is None:
            return self._linprog(objective)
        highs = self.highs
        highs.changeColsCost(self.width, self._columns, np.asarray(objective, dtype=float))
        highs.run()
        status = highs.getModelStatus()
        if status == _core.HighsModelStatus.kOptimal:
            return "optimal", np.asarray(highs.getSolution().col_value)
        if status in (
            _core.HighsModelStatus.kUnbounded,
            _core.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            # Every audited model holds the true counts, so it is never infeasible.
            return "unbounded", None
        if status == _core.HighsModelStatus.kInfeasible:
            return "infeasible", None
        # Anything else (a numerical stall): the same question from scratch.
        highs.clearSolver()
        highs.run()
        if highs.getModelStatus() == _core.HighsModelStatus.kOptimal:
            return "optimal", np.asarray(highs.getSolution().col_value)
        return self._linprog(objective)

    def _linprog(self, objective: NDArray[np.float64]) -> tuple[str, NDArray[np.float64] | None]:
        eq = slice(0, self.equalities)
        ub = slice(self.equalities, None)
        has_eq = self.equalities > 0
        has_ub = self.matrix.shape[0] > self.equalities
        bounds = [
            (float(lo), None if np.isinf(hi) else float(hi))
            for lo, hi in zip(self.lower, self.upper, strict=True)
        ]
        result = linprog(
            objective,
            A_ub=self.matrix[ub] if has_ub else None,
            b_ub=self.row_upper[ub] if has_ub else None,
            A_eq=self.matrix[eq] if has_eq else None,
            b_eq=self.row_upper[eq] if has_eq else None,
            bounds=bounds,
            method="highs",
        )
        if result.status == 0:
            return "optimal", np.asarray(result.x)
        if result.status == 3:
            return "unbounded", None
        return "infeasible", None
