"""How much of an outcome's variance each driver accounts for: Johnson's relative weights and Shapley (LMG).

Both split the R^2 of a linear regression of the outcome on the drivers into one non-negative share per
driver that sums to R^2, so correlated drivers share credit instead of one of them taking it all (as
standardised betas would). Both work from the correlation matrix alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from math import factorial

import numpy as np
from numpy.typing import NDArray

from cxm.core.errors import InvalidInput

Matrix = NDArray[np.float64]
Weigher = Callable[[Matrix, Matrix], Matrix]
MAX_SHAPLEY_DRIVERS = 15
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Importance:
    """Each driver's share of R^2, with percentile bootstrap intervals."""

    weights: Matrix
    ci_low: Matrix
    ci_high: Matrix
    r_squared: float
    share_ci_low: Matrix  # the same intervals for each weight as % of its resample's R^2
    share_ci_high: Matrix


def _correlations(x: Matrix, y: Matrix) -> tuple[Matrix, Matrix]:
    """The drivers' correlation matrix and their correlations with the outcome."""
    r = np.atleast_2d(np.corrcoef(np.column_stack([x, y]), rowvar=False))
    return r[:-1, :-1], r[:-1, -1]


def relative_weights(x: Matrix, y: Matrix) -> Matrix:
    """Johnson's (2000) relative weights: regress on the closest orthogonal drivers, map back through R^(1/2)."""
    rxx, rxy = _correlations(x, y)
    values, vectors = np.linalg.eigh(rxx)
    root = vectors @ np.diag(np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    beta = np.linalg.solve(root, rxy)
    weights: Matrix = (root**2) @ (beta**2)
    return weights


@cache
def _subsets(p: int) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Per subset size: the driver indices of every subset, and each subset's bit mask."""
    found = []
    for size in range(1, p + 1):
        members = np.array(list(combinations(range(p), size)), dtype=np.int64)
        found.append((members, (1 << members).sum(axis=1)))
    return found


def _r_squared_of_subsets(rxx: Matrix, rxy: Matrix) -> Matrix:
    """R^2 of the regression on every subset of drivers, indexed by bit mask (one batched solve per size)."""
    p = len(rxy)
    r2 = np.zeros(1 << p)
    for members, masks in _subsets(p):
        blocks = rxx[members[:, :, None], members[:, None, :]]
        targets = rxy[members]
        solved = np.linalg.solve(blocks, targets[..., None])[..., 0]
        r2[masks] = np.einsum("ij,ij->i", targets, solved)
    return r2


@cache
def _orders(p: int) -> tuple[NDArray[np.int64], NDArray[np.int64], Matrix]:
    """Per driver: the subsets without it, the same subsets with it, and each subset's Shapley share."""
    masks = np.arange(1 << p)
    sizes = np.array([bin(mask).count("1") for mask in masks])
    share = np.array([factorial(k) * factorial(p - k - 1) / factorial(p) if k < p else 0.0 for k in range(p + 1)])
    without = np.array([masks[(masks >> j) & 1 == 0] for j in range(p)])
    return without, without | (1 << np.arange(p))[:, None], share[sizes[without]]


def shapley_weights(x: Matrix, y: Matrix) -> Matrix:
    """Shapley value (LMG) of each driver: its R^2 gain averaged over every order of entering the model."""
    rxx, rxy = _correlations(x, y)
    r2 = _r_squared_of_subsets(rxx, rxy)
    without, with_driver, share = _orders(len(rxy))
    weights: Matrix = np.sum(share * (r2[with_driver] - r2[without]), axis=1)
    return weights


METHODS: dict[str, Weigher] = {"relative_weights": relative_weights, "shapley": shapley_weights}


def check_fit(x: Matrix, y: Matrix, names: list[str], method: str) -> None:
    """Refuse what cannot be split: too few rows, constant columns, too many drivers for Shapley."""
    if method not in METHODS:
        raise InvalidInput(f"unknown importance method '{method}'", details={"methods": list(METHODS)})
    if method == "shapley" and len(names) > MAX_SHAPLEY_DRIVERS:
        raise InvalidInput(f"Shapley importance takes at most {MAX_SHAPLEY_DRIVERS} drivers")
    if len(y) < len(names) + 3:
        raise InvalidInput(f"too few complete answers ({len(y)}) for {len(names)} driver(s)")
    constant = [
        name for name, column in zip(["outcome", *names], np.column_stack([y, x]).T, strict=True) if np.ptp(column) == 0
    ]
    if constant:
        raise InvalidInput(f"'{constant[0]}' has the same value in every answer: it explains nothing")
    if np.linalg.matrix_rank(np.corrcoef(x, rowvar=False)) < len(names):
        raise InvalidInput("the drivers are perfectly collinear: drop one that is a copy of another")


def seed_of(x: Matrix, y: Matrix) -> int:
    """A seed from the data itself, so the same answers always give the same intervals on every engine."""
    rounded = np.round(np.column_stack([x, y]), 6)
    return zlib.crc32(rounded.tobytes())


RESAMPLES = {"relative_weights": 500, "shapley": 200}  # Shapley costs ~30 ms a fit at 15 drivers


def importance(x: Matrix, y: Matrix, *, method: str = "relative_weights", resamples: int | None = None) -> Importance:
    """Weights (summing to R^2) with percentile bootstrap CIs from `resamples` resamples of the rows."""
    weigh, resamples = METHODS[method], RESAMPLES[method] if resamples is None else resamples
    weights = weigh(x, y)
    if resamples <= 0:
        none = np.full_like(weights, np.nan)
        return Importance(weights, none, none, float(weights.sum()), none, none)
    rng = np.random.default_rng(seed_of(x, y))
    drawn = np.array([_resampled(weigh, x, y, rng.integers(0, len(y), len(y))) for _ in range(resamples)])
    low, high = _percentiles(drawn)
    share_low, share_high = _percentiles(100 * drawn / drawn.sum(axis=1, keepdims=True))
    return Importance(weights, low, high, float(weights.sum()), share_low, share_high)


def _percentiles(drawn: Matrix) -> tuple[Matrix, Matrix]:
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.nanpercentile(drawn, [tail, 100 - tail], axis=0)
    return low, high


def _resampled(weigh: Weigher, x: Matrix, y: Matrix, rows: NDArray[np.int64]) -> Matrix:
    """Weights on one resample; NaN where the resample cannot be split (a column without variance)."""
    sample_x, sample_y = x[rows], y[rows]
    if np.ptp(sample_y) == 0 or (np.ptp(sample_x, axis=0) == 0).any():
        return np.full(x.shape[1], np.nan)
    try:
        return weigh(sample_x, sample_y)
    except np.linalg.LinAlgError:
        return np.full(x.shape[1], np.nan)
