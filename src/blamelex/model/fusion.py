"""Runtime pieces that sit around the span model: the calibrator and the sentence screener.

Both are stored as JSON (never pickles) and need only numpy (and scikit-learn's stateless
`HashingVectorizer` for the screener) at run time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from blamelex.context_rules import modifier_names

MODIFIER_NAMES = modifier_names()
"""The context modifiers, from the bundled context rules (their ``effects``), in the order the
calibrator was fitted with."""
FEATURES_FULL = ("lexicon", "prior", "avoid", "model_prob", "model_logit", *MODIFIER_NAMES)
FEATURES_NO_CONTEXT = ("lexicon", "prior", "avoid", "model_prob", "model_logit")


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def candidate_features(
    origin: str, prior: float, severity: str, model_prob: float, modifiers: Sequence[str],
    names: Sequence[str] = FEATURES_FULL,
) -> list[float]:
    """Feature vector of one candidate, in the order of ``names``."""
    values = {
        "lexicon": 1.0 if origin == "lexicon" else 0.0,
        "prior": prior if origin == "lexicon" else 0.0,
        "avoid": 1.0 if severity == "avoid" and origin == "lexicon" else 0.0,
        "model_prob": model_prob,
        "model_logit": _logit(model_prob),
    }
    for name in modifiers:
        values[name] = 1.0
    # a modifier the calibrator was not fitted with (an organisation's own rule) is not a
    # feature of it; a feature no modifier set is 0
    return [values.get(n, 0.0) for n in names]


@dataclass
class Calibrator:
    """Logistic regression over candidate features, fitted on dev (see calibrate.py)."""

    features: tuple[str, ...]
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        return cls(tuple(data["features"]), np.asarray(data["coef"], dtype=np.float64),
                   float(data["intercept"]))

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "coef": [float(c) for c in self.coef],
                "intercept": float(self.intercept)}

    def probability(self, x: Sequence[float]) -> float:
        """Calibrated probability that the candidate is victim-blaming language."""
        z = float(np.dot(self.coef, np.asarray(x, dtype=np.float64))) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


def load_calibration(folder: Path) -> dict[str, Calibrator]:
    """The calibrators in ``calibration.json`` by name (``full``, ``no_context``)."""
    path = folder / "calibration.json"
    if not path.exists():
        # uncalibrated (while fitting): the score is the model's own probability
        def raw(names: tuple[str, ...]) -> Calibrator:
            coef = np.array([1.0 if n == "model_logit" else 0.0 for n in names])
            return Calibrator(names, coef, 0.0)

        return {"full": raw(FEATURES_FULL), "no_context": raw(FEATURES_NO_CONTEXT)}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: Calibrator.from_dict(c) for name, c in data["calibrators"].items()}


class Screener:
    """A cheap sentence classifier (hashed word n-grams, linear) that lets clearly benign
    sentences skip the transformer. Sentences with a lexicon candidate are never skipped."""

    def __init__(self, data: dict[str, Any]) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.n_features = int(data["n_features"])
        self.ngram_range = tuple(data["ngram_range"])
        self.threshold = float(data["threshold"])
        self.vectorizer = HashingVectorizer(
            n_features=self.n_features, ngram_range=self.ngram_range,
            alternate_sign=False, norm="l2", lowercase=True, analyzer="word",
            token_pattern=r"(?u)\b\w+\b")
        self.weights = np.zeros(self.n_features, dtype=np.float32)
        self.weights[np.asarray(data["indices"], dtype=np.int64)] = np.asarray(
            data["values"], dtype=np.float32)
        self.intercept = float(data["intercept"])

    @classmethod
    def from_file(cls, path: Path) -> Screener:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def scores(self, sentences: Sequence[str]) -> np.ndarray:
        """Decision values (logits) for each sentence."""
        x = self.vectorizer.transform(sentences)
        return np.asarray(x @ self.weights).ravel() + self.intercept

    def keep(self, sentences: Sequence[str]) -> np.ndarray:
        """Boolean mask: True where the sentence must go to the transformer."""
        if not sentences:
            return np.zeros(0, dtype=bool)
        return self.scores(sentences) >= self.threshold
