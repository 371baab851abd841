"""`blamelex.load()` -> `Detector`: a thin shell around a spaCy pipeline with the component."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import spacy
from spacy.language import Language

from blamelex.component import BlamelexComponent
from blamelex.findings import Finding
from blamelex.rephrase import Edit, apply_suggestions


class Detector:
    """Scans text for victim-blaming language. Build one with `blamelex.load()`."""

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp
        component = nlp.get_pipe("blamelex")
        assert isinstance(component, BlamelexComponent)
        self.component = component

    @property
    def lexicon_size(self) -> int:
        """Number of active lexicon entries."""
        return len(self.component.lexicon)

    def scan(self, text: str) -> list[Finding]:
        """Return the findings in ``text``, in order of position."""
        if not isinstance(text, str):
            raise TypeError(f"scan() needs a str, got {type(text).__name__}")
        return list(self.nlp(text)._.blamelex)

    def scan_many(
        self, texts: Iterable[str], batch_size: int = 64, n_process: int = 1
    ) -> Iterator[list[Finding]]:
        """Stream the findings of each text, in input order (uses ``nlp.pipe``)."""
        for doc in self.nlp.pipe(texts, batch_size=batch_size, n_process=n_process):
            yield list(doc._.blamelex)

    def rewrite(self, text: str) -> tuple[str, list[Edit]]:
        """Return ``text`` with each finding replaced by its first suggestion, and the edits."""
        return apply_suggestions(text, self.scan(text))


def build_nlp(
    *,
    extra_lexicons: Sequence[str | Path] = (),
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    min_severity: str | None = None,
    threshold: float = 0.5,
    keep_suppressed: bool = False,
    model: str | Path | None = None,
    screener: bool = True,
    context: bool = True,
) -> Language:
    """A blank English pipeline with the blamelex component added."""
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "blamelex",
        config={
            "extra_lexicons": [str(p) for p in extra_lexicons],
            "select": list(select),
            "ignore": list(ignore),
            "min_severity": min_severity,
            "threshold": threshold,
            "keep_suppressed": keep_suppressed,
            "model": str(model) if model is not None else None,
            "screener": screener,
            "context": context,
        },
    )
    return nlp


def load(
    *,
    extra_lexicons: Sequence[str | Path] = (),
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    min_severity: str | None = None,
    threshold: float = 0.5,
    keep_suppressed: bool = False,
    model: str | Path | None = None,
    screener: bool = True,
    context: bool = True,
) -> Detector:
    """Load a detector.

    Args:
        extra_lexicons: an organisation's own lexicon files (same YAML format).
        select: only these codes (prefixes, e.g. ``VB1``) or categories.
        ignore: drop these codes (prefixes) or categories.
        min_severity: ``caution`` (default, all) or ``avoid`` (only the most serious).
        threshold: minimum score for a finding to be reported (0-1).
        keep_suppressed: also keep candidates that context rules removed (see
            ``Detector.component.suppressed(doc)``), for audit.
        model: ``None`` for lexicon-only, ``"default"`` for the bundled span model, or the
            folder of another model.
        screener: let the cheap sentence screener skip the transformer on clearly benign
            sentences (only with a model).
        context: apply the context rules (``False`` only for ablation studies).
    """
    return Detector(
        build_nlp(
            extra_lexicons=extra_lexicons,
            select=select,
            ignore=ignore,
            min_severity=min_severity,
            threshold=threshold,
            keep_suppressed=keep_suppressed,
            model=model,
            screener=screener,
            context=context,
        )
    )
