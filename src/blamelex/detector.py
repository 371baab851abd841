"""`blamelex.load()` -> `Detector`: a thin shell around a spaCy pipeline with the component."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar

from spacy.language import Language

from blamelex.component import BlamelexComponent
from blamelex.findings import Finding
from blamelex.nlp import build_nlp
from blamelex.parallel import scan_stream
from blamelex.rephrase import Rewrite, apply_suggestions

T = TypeVar("T")


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
        """Stream the findings of each text, in input order.

        ``n_process`` > 1 scans on that many worker processes (`blamelex.parallel`). A text
        longer than `blamelex.nlp.MAX_TEXT_CHARS` is scanned in pieces cut at line breaks (or
        spaces), its findings given offsets into the whole text.
        """
        for _, found in self.scan_pairs(((text, None) for text in texts), n_process,
                                        batch_size=batch_size):
            yield found

    def scan_pairs(
        self, items: Iterable[tuple[str, T]], n_process: int = 1, *, batch_size: int = 32
    ) -> Iterator[tuple[T, list[Finding]]]:
        """(context, findings) for each (text, context) pair, in input order; the context (a
        document, a record's columns) stays in this process (`blamelex.parallel.scan_stream`)."""
        return scan_stream(self.nlp, items, n_process, batch_size=batch_size)

    def rewrite(self, text: str) -> Rewrite:
        """``text`` with each finding that is safe to rewrite replaced by its first suggestion;
        unpacks as ``(text, edits)``, and ``.skipped`` lists the findings left for a person."""
        return apply_suggestions(text, self.scan(text))


def load(
    *,
    extra_lexicons: Sequence[str | Path] = (),
    extra_context_rules: Sequence[str | Path] = (),
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
    risk: bool = True,
    extra_risk_rules: Sequence[str | Path] = (),
    voice: str = "all",
) -> Detector:
    """Load a detector.

    Args:
        extra_lexicons: an organisation's own lexicon files (same YAML format).
        extra_context_rules: an organisation's own context-rule files (the format of
            ``data/context_rules.yaml``; docs/context.md, "Rules of your own").
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
        risk: run the risk-grading check (findings RG101-RG104, category ``risk_grading``;
            docs/risk.md) on notes that state a missing child's risk grade or status.
        extra_risk_rules: an organisation's own risk indicator / rule files (the format of
            ``data/risk/indicators.yaml`` and ``rules.yaml``).
        voice: ``all`` (default), ``own`` (the text's own wording only) or ``reported`` (only
            labels the text attributes to a professional, agency, court or record: "officers
            described her as ..."). Every finding carries its ``voice``.
    """
    return Detector(
        build_nlp(
            extra_lexicons=extra_lexicons,
            extra_context_rules=extra_context_rules,
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
            risk=risk,
            extra_risk_rules=extra_risk_rules,
            voice=voice,
        )
    )


DetectorKey = tuple[tuple[str, Any], ...]
"""Hashable form of `blamelex.load` keyword arguments (see `detector_key`)."""

_DETECTORS: dict[DetectorKey, Detector] = {}
# One lock for the cache: worker processes are single-threaded, but a driver that scans from
# several threads must still load each configuration once.
_LOCK = threading.Lock()


def _freeze(value: Any) -> Any:
    """A hashable, comparable stand-in for one load argument (paths become strings)."""
    if isinstance(value, PathLike):
        return str(value)
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def detector_key(**load_kwargs: Any) -> DetectorKey:
    """The cache key for `blamelex.load(**load_kwargs)`: sorted, with lists and paths frozen.

    ``select=["VB1"]`` and ``select=("VB1",)`` give the same key, so they share a detector.
    """
    return tuple(sorted((name, _freeze(value)) for name, value in load_kwargs.items()))


def cached_detector(**load_kwargs: Any) -> Detector:
    """Return this process's detector for these `blamelex.load` arguments, loading it once.

    Every worker process (a `datasets` map worker, a Spark Python worker) keeps its own cache,
    so the detector is built once per process and is never pickled or shipped with a task.
    """
    key = detector_key(**load_kwargs)
    detector = _DETECTORS.get(key)
    if detector is None:
        with _LOCK:
            detector = _DETECTORS.get(key)
            if detector is None:
                detector = load(**load_kwargs)
                _DETECTORS[key] = detector
    return detector


def clear_cache() -> None:
    """Forget this process's cached detectors (for tests, or after changing a lexicon file)."""
    with _LOCK:
        _DETECTORS.clear()
