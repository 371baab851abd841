"""The one orchestration of blamelex's stages, which every way in calls (the spaCy component,
and through it `blamelex.load()`, the CLI and the service; calibration and evaluation too):

    Doc -> lexicon candidates -> model proposals -> context -> scoring -> scored candidates
                                                                     -> risk grading (whole note)

Each stage owns its output. The matcher yields candidates of the *whole* lexicon; the model
stage attaches probabilities and proposes the spans the lexicon lacks; context rules alone
write modifiers; scoring alone decides keep or drop. A user's selection (``select``,
``ignore``, ``min_severity``) is a view on the scored candidates, so ignoring an entry hides its
findings and never lets the model report the same words under another code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from spacy.tokens import Doc
from spacy.vocab import Vocab

from blamelex.context import ContextRules
from blamelex.findings import Finding, Selection
from blamelex.lexicon import Lexicon
from blamelex.matching import Candidate, LexiconMatcher
from blamelex.risk import RiskCheck
from blamelex.scoring import Scored, Scorer
from blamelex.sentences import sentence_bounds
from blamelex.tokenregex import TokenText

if TYPE_CHECKING:
    from blamelex.model import ModelScorer

EVERYTHING = Selection()
"""The selection that admits every finding."""


@dataclass
class Batch:
    """Docs on their way through the pipeline (`Pipeline.prepare`, then `Pipeline.finish`)."""

    docs: Sequence[Doc]
    tokens: list[TokenText]
    candidates: list[list[Candidate]]
    bounds: list[tuple[Doc, list[Candidate], list[tuple[int, int]]]] = field(
        default_factory=list)
    jobs: list[tuple[int, int, int]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    """The sentences for the model."""
    risk: list[list[Finding]] = field(default_factory=list)
    """Each doc's risk-grading findings the selection admits (after `Pipeline.finish`)."""


class Pipeline:
    """The stages, in order. Build it with `Pipeline.build` or from its parts."""

    def __init__(
        self,
        matcher: LexiconMatcher,
        context: ContextRules | None,
        scorer: Scorer,
        model: ModelScorer | None = None,
        selection: Selection = EVERYTHING,
        risk: RiskCheck | None = None,
    ) -> None:
        self.matcher = matcher
        self.context = context
        self.scorer = scorer
        self.model = model
        self.selection = selection
        self.risk = risk

    @classmethod
    def build(
        cls,
        vocab: Vocab,
        lexicon: Lexicon,
        *,
        tokenize: Callable[[str], list[str]] | None = None,
        selection: Selection = EVERYTHING,
        threshold: float = 0.5,
        model: ModelScorer | None = None,
        context: bool = True,
        extra_context_rules: Sequence[str | Path] = (),
        risk: bool = True,
        extra_risk_rules: Sequence[str | Path] = (),
    ) -> Pipeline:
        """The stages for ``lexicon`` (the whole lexicon: ``selection`` filters findings);
        ``extra_context_rules`` and ``extra_risk_rules`` are an organisation's own files."""
        matcher = LexiconMatcher(vocab, lexicon, tokenize)
        rules = ContextRules(vocab, lexicon.sets, extra_rules=extra_context_rules) \
            if context else None
        scorer = Scorer(threshold=threshold, use_context=context)
        if model is not None:
            scorer.calibrator = model.calibrator
            scorer.model_name = model.name
        check = RiskCheck(extra_risk_rules) if risk else None
        return cls(matcher, rules, scorer, model, selection, check)

    def wanted(self, cand: Candidate) -> bool:
        """True if the user's selection admits the candidate's code and voice."""
        e = cand.entry
        return self.selection.admits(e.code, e.category, e.severity) and \
            self.selection.admits_voice(self.voice(cand))

    def voice(self, cand: Candidate) -> str:
        """The candidate's voice, from its context modifiers (``own`` without context rules)."""
        return self.context.voice(cand.modifiers) if self.context is not None else "own"

    # -- the stages ---------------------------------------------------------------------------

    def prepare(self, docs: Sequence[Doc]) -> Batch:
        """Token strings and lexicon candidates of ``docs``, one step over all of them before
        the next (each step's tables then stay in the CPU caches; docs/benchmarks.md), and the
        sentences the model is to read."""
        texts = [TokenText.of(doc) for doc in docs]
        windows = [self.matcher.windows(doc, text) for doc, text in zip(docs, texts, strict=True)]
        found = [self.matcher(doc, text, w) if w else []
                 for doc, text, w in zip(docs, texts, windows, strict=True)]
        work = Batch(docs, texts, found)
        if self.model is not None:
            work.bounds = [(doc, cands, sentence_bounds(doc, text))
                           for doc, cands, text in zip(docs, found, texts, strict=True)]
            work.jobs, work.texts = self.model.prepare(work.bounds)
        return work

    def propose(self, work: Batch) -> None:
        """The model stage: probabilities on candidates and its own proposals (in place)."""
        if self.model is not None:
            self.model.apply(work.bounds, work.jobs, self.model.infer(work.texts))

    def contextualise(self, work: Batch) -> None:
        """The context stage: modifiers on every candidate (in place)."""
        if self.context is None:
            return
        for doc, cands, text in zip(work.docs, work.candidates, work.tokens, strict=True):
            if cands:
                self.context.apply(doc, cands, text=text)

    def score(self, work: Batch) -> list[list[Scored]]:
        """The scoring stage, on the candidates the selection admits."""
        select = bool(self.selection)
        return [[self.scorer.score(c) for c in cands if not select or self.wanted(c)]
                for cands in work.candidates]

    def grade_risk(self, work: Batch, scored: list[list[Scored]]) -> None:
        """The risk-grading stage: each whole note read with its kept findings (of the whole
        lexicon, whatever the selection: a blaming reason is linked to its VB finding); the RG
        findings the selection admits go to ``work.risk``."""
        if self.risk is None:
            work.risk = [[] for _ in work.docs]
            return
        sel = self.selection
        work.risk = [
            [f for f in self.risk.assess(doc.text, [_Kept(s) for s in found if s.keep])
             if not sel or sel.admits(f.code, f.category, f.severity)]
            for doc, found in zip(work.docs, scored, strict=True)]

    def finish(self, work: Batch) -> list[list[Scored]]:
        """Model, context, scoring and risk grading on a prepared batch (the RG findings are in
        ``work.risk``)."""
        self.propose(work)
        self.contextualise(work)
        if self.risk is None or not self.selection:
            scored = self.score(work)
            self.grade_risk(work, scored)
            return scored
        everything = [[self.scorer.score(c) for c in cands] for cands in work.candidates]
        self.grade_risk(work, everything)
        return [[s for s in found if self.wanted(s.candidate)] for found in everything]

    def run(self, docs: Sequence[Doc]) -> list[list[Scored]]:
        """Every stage on ``docs``: each doc's scored candidates, kept and dropped."""
        return self.finish(self.prepare(docs))


class _Kept:
    """A kept scored candidate as the risk stage reads it (code, category, term, offsets)."""

    __slots__ = ("category", "code", "end", "start", "term", "text")

    def __init__(self, scored: Scored) -> None:
        cand = scored.candidate
        self.code, self.category, self.term = cand.entry.code, cand.entry.category, cand.entry.term
        self.start, self.end, self.text = cand.span.start_char, cand.span.end_char, cand.span.text
