"""The shipped span model at run time: scores lexicon candidates in context and adds the spans the
lexicon lacks. Inference uses ONNX Runtime and `tokenizers` only; training lives in
``blamelex.model.train`` (``train`` extra) and is never imported here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spacy.tokens import Doc, Span

from blamelex.lexicon.categories import category_entries
from blamelex.matching import Candidate

if TYPE_CHECKING:
    from blamelex.model.runtime import TokenProbs

DEFAULT_MODEL = "blamelex-span-v2"

def has_evidence(span: Span, start: int, end: int) -> bool:
    """True if a span the model proposes is whole words and carries meaning of its own.

    ``start``/``end`` are the model's own character offsets; ``span`` is the run of whole
    tokens around them. A proposal must start and end at word boundaries, hold at least two
    words, and at least one content word: lower-case, alphabetic, three letters or more and not
    a stop word. So a name, a pronoun, an auxiliary or a determiner, alone or together ("Priya
    is", "of the"), is never a finding, nor is a single word the lexicon does not know.
    """
    if len(span) == 0 or span.start_char != start:
        return False
    if any(ch.isalpha() for ch in span.doc.text[end:span.end_char]):
        return False  # the model stopped inside a word
    words = [tok for tok in span if not (tok.is_punct or tok.is_space)]
    return len(words) >= 2 and any(
        tok.is_alpha and tok.is_lower and not tok.is_stop and len(tok) >= 3 for tok in words)


def default_model_dir() -> Path:
    """Folder of the bundled model: inside the installed package, or models/ in a checkout."""
    try:
        packaged = Path(str(resources.files("blamelex._bundled") / DEFAULT_MODEL))
        if packaged.is_dir():
            return packaged
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[3] / "models" / DEFAULT_MODEL


def resolve_model(model: str | Path | None) -> Path | None:
    """``None`` -> no model; ``"default"`` -> the bundled one; otherwise a folder path."""
    if model is None or model == "" or model == "none":
        return None
    if model == "default":
        return default_model_dir()
    return Path(model)


class ModelScorer:
    """Runs the span model over the sentences of a batch of docs and scores candidates.

    ``screener``: skip the transformer for sentences the cheap screener calls clearly benign and
    that hold no lexicon candidate. ``context``: use the calibrator that sees context modifiers
    (``False`` is the ablation "combined without context rules").
    """

    def __init__(self, folder: str | Path, *, screener: bool = False, threads: int | None = None,
                 min_prob: float | None = None, context: bool = True) -> None:
        from blamelex.model.fusion import Screener, load_calibration
        from blamelex.model.runtime import SpanModel

        self.folder = Path(folder)
        self.model = SpanModel(self.folder, threads=threads)
        calibrators = load_calibration(self.folder)
        self.calibrator = calibrators["full" if context else "no_context"]
        self.use_context = context
        screener_file = self.folder / "screener.json"
        self.screener = Screener.from_file(screener_file) if screener and \
            screener_file.exists() else None
        self.min_prob = min_prob
        self.categories = category_entries()
        meta = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        self.name = str(meta.get("name", self.folder.name))
        self.stats = {"sentences": 0, "to_model": 0}

    def prepare(
        self, batch: Sequence[tuple[Doc, list[Candidate], list[tuple[int, int]]]]
    ) -> tuple[list[tuple[int, int, int]], list[str]]:
        """The sentences to run the model on: (doc index, start token, end token) and text."""
        jobs: list[tuple[int, int, int]] = []
        texts: list[str] = []
        for d, (doc, cands, bounds) in enumerate(batch):
            for s, e in bounds:
                if e <= s:
                    continue
                if self.min_prob is None and not any(s <= c.span.start < e for c in cands):
                    continue  # proposals off: only sentences with a candidate need the model
                jobs.append((d, s, e))
                texts.append(Span(doc, s, e).text)
        self.stats["sentences"] += len(texts)
        if self.screener is not None and texts:
            keep = self.screener.keep(texts)
            for k, (d, s, e) in enumerate(jobs):
                if not keep[k] and any(s <= c.span.start < e for c in batch[d][1]):
                    keep[k] = True
            jobs = [j for j, kk in zip(jobs, keep, strict=True) if kk]
            texts = [t for t, kk in zip(texts, keep, strict=True) if kk]
        self.stats["to_model"] += len(texts)
        return jobs, texts

    def infer(self, texts: list[str]) -> list[TokenProbs]:
        """The model's token probabilities for each text."""
        return self.model.predict(texts)

    def apply(
        self,
        batch: Sequence[tuple[Doc, list[Candidate], list[tuple[int, int]]]],
        jobs: list[tuple[int, int, int]],
        probs: list[TokenProbs],
    ) -> None:
        """Write the model's output for ``jobs`` (from `prepare`) onto the batch's candidates."""
        for (d, s, e), tp in zip(jobs, probs, strict=True):
            doc, cands, _ = batch[d]
            base = doc[s].idx
            in_sent = [c for c in cands if s <= c.span.start < e]
            for c in in_sent:
                c.model_prob = self.model.span_probability(
                    tp, c.span.start_char - base, c.span.end_char - base)
            if self.min_prob is None:
                continue
            for start, end, category, prob in self.model.spans(tp, self.min_prob):
                span = doc.char_span(base + start, base + end, alignment_mode="expand")
                if span is None or not has_evidence(span, base + start, base + end):
                    continue
                if any(span.start < c.span.end and c.span.start < span.end for c in cands):
                    continue
                entry = self.categories.get(category)
                if entry is not None:
                    cands.append(Candidate(span, entry, origin="model", model_prob=prob))
            cands.sort(key=lambda c: c.span.start)
        for _doc, cands, _ in batch:
            for c in cands:
                if c.model_prob is None:
                    c.model_prob = 0.0  # skipped by the screener: clearly benign sentence

    def info(self) -> dict[str, Any]:
        """Name, folder and screener state, for reports."""
        return {"name": self.name, "folder": str(self.folder),
                "screener": self.screener is not None}
