"""The spaCy pipeline blamelex runs in, and how a text too long for one doc is cut to fit it.

`build_nlp` makes a blank English pipeline with the ``blamelex`` component; `split_long` and
`join_long` cut a text longer than `MAX_TEXT_CHARS` into pieces and put their findings back
together with offsets into the whole text. `blamelex.parallel.scan_stream` uses both; it is the
one path every scan of more than one text takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import spacy
from spacy.language import Language

from blamelex.findings import Finding, shift
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


def restore(text: str | None, findings: list[Finding]) -> list[Finding]:
    """Findings of a cleaned text with their text taken from the original ``text`` (``None``:
    cleaning left the text as it was)."""
    if text is None:
        return findings
    return [replace(f, text=text[f.start:f.end]) for f in findings]


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
    extra_context_rules: Sequence[str | Path] = (),
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
    risk: bool = True,
    extra_risk_rules: Sequence[str | Path] = (),
    voice: str = "all",
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
            "extra_context_rules": [str(p) for p in extra_context_rules],
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
            "risk": risk,
            "extra_risk_rules": [str(p) for p in extra_risk_rules],
            "voice": voice,
        },
    )
    return nlp
