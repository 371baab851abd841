"""`blamelex.load()` -> `Detector`: a thin shell around a spaCy pipeline with the component."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import spacy
from spacy.language import Language

from blamelex.component import BlamelexComponent
from blamelex.findings import Finding, shift
from blamelex.rephrase import Edit, apply_suggestions
from blamelex.textutil import clean_text, pieces

MAX_TEXT_CHARS = 20_000_000
"""The longest text scanned as one doc; `Detector.scan_many` cuts longer ones into pieces."""
LONG_TEXT_PIECE = 1_000_000
"""Characters per piece of a text longer than `MAX_TEXT_CHARS`."""

T = TypeVar("T")


Piece = tuple[T, int, bool]
"""A text's context, where the piece begins in the text, and whether it is the last piece."""


def split_long(items: Iterable[tuple[str, T]]) -> Iterator[tuple[str, Piece[T]]]:
    """Each (text, context) as (text, (context, 0, True)); a text longer than `MAX_TEXT_CHARS`
    as its pieces of at most `LONG_TEXT_PIECE` characters, cut at line breaks (or spaces)."""
    for text, context in items:
        if len(text) <= MAX_TEXT_CHARS:
            yield text, (context, 0, True)
            continue
        for start, end in pieces(text, LONG_TEXT_PIECE):
            yield text[start:end], (context, start, end == len(text))


def join_long(
    results: Iterable[tuple[Piece[T], list[Finding]]],
) -> Iterator[tuple[T, list[Finding]]]:
    """(context, findings) of each text from the findings of its pieces (`split_long`), with
    offsets into the whole text."""
    found: list[Finding] = []
    for (context, start, last), piece_found in results:
        found += shift(piece_found, start)
        if last:
            yield context, found
            found = []


def _restore(text: str | None, findings: list[Finding]) -> list[Finding]:
    """Findings of a cleaned text with their text taken from the original ``text`` (``None``:
    cleaning left the text as it was)."""
    if text is None:
        return findings
    return [replace(f, text=text[f.start:f.end]) for f in findings]


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
        return next(self.scan_many([text]))

    def scan_many(
        self, texts: Iterable[str], batch_size: int = 64, n_process: int = 1
    ) -> Iterator[list[Finding]]:
        """Stream the findings of each text, in input order (uses ``nlp.pipe``).

        A text longer than `MAX_TEXT_CHARS` is scanned in pieces of `LONG_TEXT_PIECE`
        characters cut at line breaks (or spaces), its findings given offsets into the whole
        text.
        """
        def cleaned() -> Iterator[tuple[str, tuple[str | None, Piece[None]]]]:
            # (clean_text returns the text itself when it has nothing to replace)
            for part, piece in split_long((text, None) for text in texts):
                clean = clean_text(part)
                yield clean, (None if clean is part else part, piece)

        docs = self.nlp.pipe(cleaned(), as_tuples=True, batch_size=batch_size,
                             n_process=n_process)
        for _, found in join_long((piece, _restore(original, list(doc._.blamelex)))
                                  for doc, (original, piece) in docs):
            yield found

    def rewrite(self, text: str) -> tuple[str, list[Edit]]:
        """Return ``text`` with each finding replaced by its first suggestion, and the edits."""
        return apply_suggestions(text, self.scan(text))


class _SafeTokenizer:
    """Wraps spaCy's tokenizer so text with lone surrogates tokenizes (offsets unchanged)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Any:
        return self.tokenizer(clean_text(text))

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Any]:
        for text in texts:
            yield self(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tokenizer, name)

    def to_disk(self, path: Any, **kwargs: Any) -> None:
        self.tokenizer.to_disk(path, **kwargs)

    def from_disk(self, path: Any, **kwargs: Any) -> Any:
        self.tokenizer.from_disk(path, **kwargs)
        return self

    def to_bytes(self, **kwargs: Any) -> bytes:
        return bytes(self.tokenizer.to_bytes(**kwargs))

    def from_bytes(self, data: bytes, **kwargs: Any) -> Any:
        self.tokenizer.from_bytes(data, **kwargs)
        return self


def build_nlp(
    *,
    extra_lexicons: Sequence[str | Path] = (),
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    min_severity: str | None = None,
    threshold: float = 0.5,
    keep_suppressed: bool = False,
    model: str | Path | None = None,
    screener: bool = False,
    context: bool = True,
    model_threads: int | None = None,
    proposal_min_prob: float | None = None,
) -> Language:
    """A blank English pipeline with the blamelex component added."""
    nlp = spacy.blank("en")
    # spaCy's default limit (1,000,000 characters) guards its parser and NER; this pipeline
    # has neither and needs memory in proportion to the text, so one text may be longer.
    nlp.max_length = MAX_TEXT_CHARS
    nlp.tokenizer = _SafeTokenizer(nlp.tokenizer)
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
            "model_threads": model_threads,
            "proposal_min_prob": proposal_min_prob,
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
    model: str | Path | None = "default",
    screener: bool = False,
    context: bool = True,
    model_threads: int | None = None,
    proposal_min_prob: float | None = None,
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
            sentences (only with a model; off by default: see docs/benchmarks.md).
        context: apply the context rules (``False`` only for ablation studies).
        model_threads: sentences the model runs at once, one core each (default: every core
            this process may use; give 1 per task where a scheduler such as Spark already
            runs one task per core).
        proposal_min_prob: let the model report spans the lexicon lacks when its mean token
            probability reaches this (``None``, the default: it proposes nothing; the bundled
            model's proposals are off because on real text they flag more neutral passages than
            blaming ones at every threshold, docs/ARCHITECTURE.md). Proposals must be whole
            words with a content word; context rules and ``select``/``ignore`` apply to them.
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
            model_threads=model_threads,
            proposal_min_prob=proposal_min_prob,
        )
    )
