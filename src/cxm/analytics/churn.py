"""Churn risk: a calibrated logistic model on the company's own history, its time-split evaluation and reasons.

The model: features (`churn_features.py`) are imputed with the training means, skewed ones log1p-transformed,
standardised (clipped at +-4 standard deviations), and fitted by an L2 logistic regression; the probability is
Platt-calibrated on out-of-fold predictions of the training cut-off (scikit-learn
`CalibratedClassifierCV(method="sigmoid", ensemble=False)`, so one logistic model remains and its coefficients
explain each score). A customer's reasons are the features
with the largest positive contributions coefficient x standardised deviation from the training mean, among those
whose coefficient points the expected way (`EXPECTED`).
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from threadpoolctl import ThreadpoolController

from cxm.analytics.churn_features import ChurnSettings, feature_labels, feature_names, features_at, newest_order
from cxm.analytics.engines import Engine
from cxm.core.errors import InvalidInput

SKEWED = ("recency_days", "orders", "spend", "tenure_days", "low_scores", "complaints", "unanswered", "response_hours")
BASELINE = ("recency_days",)
MIN_CUSTOMERS = 20
REASONS = 3
SMALLEST = 0.05  # contributions below this (on the log-odds scale) are no reason
# The direction in which each feature is expected to raise the risk. A reason is shown only where the fitted
# coefficient agrees: correlated features (orders and spend, complaints and purchases) can take the "wrong" sign in
# a fit, and "spent a lot" is no reason to give a person for their churn risk.
EXPECTED = {
    "recency_days": 1, "orders": -1, "spend": -1, "tenure_days": -1, "nps_mean": -1, "csat_mean": -1,
    "ces_mean": -1, "low_scores": 1, "complaints": 1, "unanswered": 1, "response_hours": 1, "rung_level": -1,
}  # fmt: skip
CLIP = 4.0
# The thread limits are process-wide: two fits limiting and restoring them at once could leave the process on one
# thread for good, so fits in one process take turns.
_limiting = threading.RLock()


def _thread_pools() -> ThreadpoolController:
    """The BLAS and OpenMP libraries loaded in this process, looked up again only when modules were imported since
    (one may have loaded another library; the look-up takes ~5 ms)."""
    return _pools_with(len(sys.modules))


@lru_cache(maxsize=1)
def _pools_with(modules: int) -> ThreadpoolController:
    """The libraries' thread pools as found when `modules` modules were imported."""
    return ThreadpoolController()


@contextmanager
def one_thread() -> Iterator[None]:
    """Inside the block BLAS and OpenMP run on one thread: the fit is small, and on a machine with few cores their
    thread pools fought the web server (and each other) for the CPU, which made the fit itself slower."""
    with _limiting, _thread_pools().limit(limits=1):
        yield


@dataclass
class ChurnModel:
    """A fitted model: which features, how they were imputed and scaled, and the calibrated classifier."""

    features: list[str]
    means: np.ndarray
    scales: np.ndarray
    classifier: CalibratedClassifierCV

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Standardised feature values (missing values at the training mean, i.e. zero)."""
        raw = _transformed(frame, self.features)
        # Clipped: a feature that barely varied at training (e.g. tenure when everyone joined at once) must not
        # swing a later cut-off's scores by dozens of standard deviations.
        z = np.clip((raw - self.means) / self.scales, -CLIP, CLIP)
        return np.where(np.isnan(z), 0.0, z)

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probabilities."""
        with one_thread():
            return np.asarray(self.classifier.predict_proba(self.matrix(frame))[:, 1])

    @property
    def coefficients(self) -> np.ndarray:
        """The logistic model's coefficients on standardised features."""
        base = self.classifier.calibrated_classifiers_[0].estimator
        return np.asarray(base.coef_[0])

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        """Per customer and feature: coefficient x standardised deviation from the training mean."""
        return np.asarray(self.matrix(frame) * self.coefficients)


def _transformed(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    values = frame[features].astype("float64").to_numpy(copy=True)
    for j, name in enumerate(features):
        if name in SKEWED:
            values[:, j] = np.log1p(np.clip(values[:, j], 0, None))
    return values


def fit(frame: pd.DataFrame, features: list[str]) -> ChurnModel:
    """Fit the calibrated logistic model on one cut-off's features and labels."""
    y = frame["churned"].to_numpy()
    if len(frame) < MIN_CUSTOMERS or y.min() == y.max():
        raise InvalidInput(
            "not enough history to fit a churn model: it needs customers who stayed and customers who left",
            details={"customers": len(frame), "churned": int(y.sum())},
        )
    raw = _transformed(frame, features)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means, scales = np.nanmean(raw, axis=0), np.nanstd(raw, axis=0)
    means, scales = np.nan_to_num(means), np.where(np.isnan(scales) | (scales == 0), 1.0, scales)
    model = ChurnModel(
        features, means, scales, CalibratedClassifierCV(_logistic(), method="sigmoid", cv=_folds(y), ensemble=False)
    )
    with one_thread():
        model.classifier.fit(model.matrix(frame), y)
    return model


def _logistic() -> LogisticRegression:
    return LogisticRegression(C=1.0, max_iter=2000)


def _folds(y: np.ndarray) -> int:
    """Cross-validation folds for the calibration: 5, fewer when one class is rare."""
    return int(max(2, min(5, np.bincount(y).min())))


@dataclass(frozen=True)
class Cutoffs:
    """The cut-offs of an evaluation: train at `train`, test at `test` (train + horizon <= test)."""

    train: datetime
    test: datetime


def data_now(engine: Engine) -> datetime:
    """Just after the newest order: the data's "now" when no time is given."""
    with engine.connect() as tables:
        newest = newest_order(tables)
    if newest is None:
        raise InvalidInput("no orders yet: churn needs order history")
    return newest + timedelta(seconds=1)


def cutoffs(engine: Engine, settings: ChurnSettings, test: datetime | None) -> Cutoffs:
    """Test at the given cut-off, else the newest one whose label window has passed; train one horizon earlier."""
    test = test or data_now(engine) - settings.horizon
    return Cutoffs(train=test - settings.horizon, test=test)


def evaluate(
    engine: Engine, settings: ChurnSettings, test: datetime | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train at one cut-off, test at a later one: AUC and Brier of the model and the recency-only baseline,
    and the model's calibration table on the test cut-off."""
    at = cutoffs(engine, settings, test)
    with engine.connect() as tables:
        train, tested = features_at(tables, at.train, settings), features_at(tables, at.test, settings)
    if tested["churned"].min() == tested["churned"].max():
        raise InvalidInput(
            "the test cut-off has only one outcome: AUC is undefined", details={"customers": len(tested)}
        )
    rows = []
    for name, features in (("model", feature_names()), ("recency_baseline", list(BASELINE))):
        predicted = fit(train, features).probability(tested)
        rows.append(_scores(name, tested["churned"].to_numpy(), predicted, train, at))
        if name == "model":
            table = calibration_table(tested["churned"].to_numpy(), predicted)
    return pd.DataFrame(rows), table


def _scores(name: str, y: np.ndarray, predicted: np.ndarray, train: pd.DataFrame, at: Cutoffs) -> dict[str, object]:
    return {
        "model": name,
        "auc": float(roc_auc_score(y, predicted)),
        "brier": float(brier_score_loss(y, predicted)),
        "brier_no_skill": float(np.mean(y) * (1 - np.mean(y))),
        "n_train": len(train),
        "n_test": len(y),
        "churn_rate_train": float(train["churned"].mean()),
        "churn_rate_test": float(np.mean(y)),
        "mean_predicted": float(np.mean(predicted)),
        "train_cutoff": at.train.isoformat(),
        "test_cutoff": at.test.isoformat(),
    }


def calibration_table(y: np.ndarray, predicted: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Predicted vs observed churn in equal-width probability bins (empty bins left out)."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(predicted, edges[1:-1]), 0, bins - 1)
    rows = [
        {"bin_low": edges[b], "bin_high": edges[b + 1], "n": int((index == b).sum()),
         "mean_predicted": float(predicted[index == b].mean()), "observed_rate": float(y[index == b].mean())}
        for b in range(bins) if (index == b).any()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "n", "mean_predicted", "observed_rate"])


def reasons(model: ChurnModel, frame: pd.DataFrame, top: int = REASONS) -> list[list[str]]:
    """Per customer the features pushing the risk up most, as readable text (value vs the typical value)."""
    agrees = np.array(
        [np.sign(c) == EXPECTED.get(f, np.sign(c)) for f, c in zip(model.features, model.coefficients, strict=True)]
    )
    contributions, labels = np.where(agrees, model.contributions(frame), 0.0), feature_labels()
    typical = _typical(model)
    found = []
    for row, values in zip(contributions, frame[model.features].to_numpy(dtype="float64"), strict=True):
        order = [j for j in np.argsort(-row, kind="stable")[:top] if row[j] > SMALLEST]
        found.append([_reason(labels[model.features[j]], values[j], typical[j]) for j in order])
    return found


def _typical(model: ChurnModel) -> np.ndarray:
    """The training mean of each feature on its own scale (undoing log1p)."""
    return np.array([np.expm1(m) if f in SKEWED else m for f, m in zip(model.features, model.means, strict=True)])


def _reason(label: str, value: float, typical: float) -> str:
    shown = "unknown" if np.isnan(value) else f"{value:,.1f}".removesuffix(".0")
    return f"{label}: {shown} (typical {typical:,.1f})".replace(".0)", ")")


def score_now(engine: Engine, settings: ChurnSettings, now: datetime | None = None) -> tuple[pd.DataFrame, ChurnModel]:
    """Every customer active now with a churn probability and reasons; the model fitted on the last full horizon."""
    current = now or data_now(engine)
    trained_at = current - settings.horizon
    with engine.connect() as tables:
        train, scored = features_at(tables, trained_at, settings), features_at(tables, current, settings)
    model = fit(train, feature_names())
    scored["churn_probability"] = model.probability(scored)
    found = reasons(model, scored)
    for k in range(REASONS):
        scored[f"reason_{k + 1}"] = [r[k] if len(r) > k else None for r in found]
    scored.attrs["as_of"], scored.attrs["trained_at"] = current.isoformat(), trained_at.isoformat()
    return scored, model
