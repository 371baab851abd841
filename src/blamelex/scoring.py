"""Fuse the lexicon prior, context modifiers (and later the model) into one score per candidate.

Without a model the score is ``prior(severity) x product(modifier factors)``; a ``drop`` modifier
sets it to 0. The weights are parameters (defaults below), recorded in each finding's trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from blamelex.lexicon import Entry
from blamelex.matching import Candidate

DEFAULT_PRIORS = {"avoid": 0.9, "caution": 0.7}
"""Prior probability that a lexicon match is victim-blaming, by severity tier."""


@lru_cache(maxsize=1024)
def _prior_line(code: str, severity: str, prior: float) -> str:
    return f"lexicon {code} ({severity}): prior {prior:.2f}"


@dataclass(frozen=True)
class RuleScorer:
    """Scores candidates from the lexicon prior and the context modifiers."""

    priors: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRIORS))

    def prior(self, entry: Entry) -> float:
        """The entry's own prior, or its severity tier's."""
        return entry.prior if entry.prior is not None else self.priors.get(entry.severity, 0.7)

    def score(self, cand: Candidate) -> tuple[float, tuple[str, ...]]:
        """Return the score and a trace of how it was reached."""
        value = self.prior(cand.entry)
        trace = [_prior_line(cand.entry.code, cand.entry.severity, value)]
        for mod in cand.modifiers:
            value *= mod.factor
            what = "dropped" if mod.effect == "drop" else f"x{mod.factor:.2f}"
            trace.append(f"{mod.name} by {mod.rule} on {mod.trigger!r}: {what} -> {value:.2f}")
        return round(value, 4), tuple(trace)
