"""Scoring: one score and one keep/drop decision per candidate, from the inputs the earlier
stages wrote (lexicon prior, context modifiers, model probability). It never rewrites them.

The fusion policy (docs/ARCHITECTURE.md, "Fusion policy"):

- A context modifier with effect ``drop`` drops its candidate, with or without the model.
- Without a model the score is ``prior x product(modifier factors)``.
- With a model, the calibrator turns the inputs into a calibrated probability ``p``:
  - a lexicon hit that a context rule weakened (a ``factor`` modifier) keeps its rule score:
    the model never overrides a context rule;
  - an ``avoid``-tier lexicon hit that no context rule touched scores ``max(rule, p)``: the
    model may raise it, never veto it;
  - a ``caution``-tier hit that no context rule touched scores ``max(rule, p)`` too, unless the
    model's own probability is below ``FusionPolicy.caution_veto``: then ``min(rule, p)``;
  - a model-only span scores ``p``.
- A candidate is kept when its score reaches the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from blamelex.findings import TraceStep, drops
from blamelex.lexicon import Entry
from blamelex.matching import Candidate

if TYPE_CHECKING:
    from blamelex.model.fusion import Calibrator

DEFAULT_PRIORS = {"avoid": 0.9, "caution": 0.7}
"""Prior probability that a lexicon match is victim-blaming, by severity tier."""


@dataclass(frozen=True)
class FusionPolicy:
    """What the model may do to lexicon candidates, and what it needs to add its own.

    Chosen on the real-text development set (docs/ARCHITECTURE.md gives the figures).
    """

    caution_veto: float = 0.0
    """Below this model probability an untouched ``caution`` hit is scored
    ``min(rule, calibrated)``. 0 (the default) means the model never lowers a lexicon hit: on
    the real-text dev set any veto (0.02 ... 0.2) cost 34 of the lexicon's own must-flag
    examples and passage F1 (docs/ARCHITECTURE.md)."""
    proposal_min_prob: float | None = None
    """The least mean token probability of a span the model proposes on its own; ``None``: the
    model proposes nothing. The bundled v1 model's proposals are off: on the real-text dev set
    they flag more neutral than blaming passages at every threshold (docs/ARCHITECTURE.md)."""


@dataclass(frozen=True)
class Scored:
    """A candidate's score, whether it is kept, and how that was decided."""

    candidate: Candidate
    score: float
    keep: bool
    trace: tuple[TraceStep, ...]


@lru_cache(maxsize=1024)
def _prior_step(code: str, severity: str, prior: float) -> TraceStep:
    return TraceStep("lexicon", "prior", prior, f"lexicon {code} ({severity}): prior {prior:.2f}")


@lru_cache(maxsize=4096)
def _modifier_step(name: str, rule: str, trigger: str, effect: str, factor: float,
                   value: float) -> TraceStep:
    what = "dropped" if effect == "drop" else f"x{factor:.2f}"
    return TraceStep("context", name, factor,
                     f"{name} by {rule} on {trigger!r}: {what} -> {value:.2f}")


@dataclass
class Scorer:
    """Scores candidates (see the module docstring for the policy).

    ``calibrator`` and ``model_name`` come from the model stage; without them the score is the
    lexicon rule score alone.
    """

    threshold: float = 0.5
    priors: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRIORS))
    calibrator: Calibrator | None = None
    policy: FusionPolicy = field(default_factory=FusionPolicy)
    model_name: str = "model"
    use_context: bool = True
    """False: the calibrator does not see the modifiers (the ablation without context)."""

    def prior(self, entry: Entry) -> float:
        """The entry's own prior, or its severity tier's."""
        return entry.prior if entry.prior is not None else self.priors.get(entry.severity, 0.7)

    def rule(self, cand: Candidate) -> tuple[float, list[TraceStep]]:
        """The lexicon rule score (prior x modifier factors) and its steps."""
        steps: list[TraceStep] = []
        if cand.origin == "lexicon":
            value = self.prior(cand.entry)
            steps.append(_prior_step(cand.entry.code, cand.entry.severity, value))
        else:
            value = 0.0
        for mod in cand.modifiers:
            value *= mod.factor
            steps.append(_modifier_step(mod.name, mod.rule, mod.trigger, mod.effect,
                                        mod.factor, value))
        return round(value, 4), steps

    def score(self, cand: Candidate) -> Scored:
        """Score ``cand`` and decide whether it is kept."""
        rule, steps = self.rule(cand)
        if drops(cand.modifiers):
            steps.append(TraceStep("scoring", "decision", 0.0, "dropped by a context rule"))
            return Scored(cand, 0.0, False, tuple(steps))
        if self.calibrator is None:
            return Scored(cand, rule, rule >= self.threshold, tuple(steps))
        from blamelex.model.fusion import candidate_features

        prob = cand.model_prob or 0.0
        steps.append(TraceStep("model", "probability", round(prob, 4),
                               f"model {self.model_name}: p={prob:.3f}"))
        prior = self.prior(cand.entry) if cand.origin == "lexicon" else 0.0
        mods = [m.name for m in cand.modifiers] if self.use_context else []
        p = round(self.calibrator.probability(candidate_features(
            cand.origin, prior, cand.entry.severity, prob, mods, self.calibrator.features)), 4)
        steps.append(TraceStep("scoring", "calibrated", p, f"calibrated score {p:.3f}"))
        if cand.origin != "lexicon":
            value, why = p, "model span: calibrated score"
        elif cand.modifiers:
            value, why = rule, "a context rule weakened this hit: the model may not override it"
        elif cand.entry.severity == "avoid":
            value, why = max(rule, p), "avoid-tier hit no context rule touched: the model may " \
                "raise its score, not lower it"
        elif prob < self.policy.caution_veto:
            value, why = min(rule, p), f"model p below {self.policy.caution_veto:.2f}: " \
                "the model lowers this caution hit"
        else:
            value, why = max(rule, p), "caution hit: the model may raise its score"
        keep = value >= self.threshold
        steps.append(TraceStep("scoring", "decision", value,
                               f"{why}; score {value:.3f} {'>=' if keep else '<'} threshold "
                               f"{self.threshold:.2f}: {'kept' if keep else 'dropped'}"))
        return Scored(cand, value, keep, tuple(steps))
