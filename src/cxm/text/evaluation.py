"""Accuracy and macro-F1 of sentiment scores against positive / negative labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, f1_score


@dataclass(frozen=True)
class Figures:
    """How well scores agree with labels: the sign of a score is its prediction."""

    n: int
    accuracy: float
    macro_f1: float

    def describe(self) -> str:
        """One line for people."""
        return f"n={self.n} accuracy={self.accuracy:.3f} macro-F1={self.macro_f1:.3f}"


def figures(labels: Sequence[str], scores: Sequence[float] | np.ndarray) -> Figures:
    """Accuracy and macro-F1 (over positive and negative) of `score > 0` as positive."""
    predicted = np.where(np.asarray(scores) > 0, "positive", "negative")
    truth = list(labels)
    return Figures(
        n=len(truth),
        accuracy=round(float(accuracy_score(truth, predicted)), 4),
        macro_f1=round(float(f1_score(truth, predicted, average="macro", labels=["negative", "positive"])), 4),
    )
