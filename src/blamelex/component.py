"""The spaCy component ``blamelex``: candidates -> context -> scoring -> risk grading -> findings
on the Doc.

Registered through the ``spacy_factories`` entry point, so ``nlp.add_pipe("blamelex")`` works
without importing blamelex first. Findings go to ``doc.spans["blamelex"]`` (label = code) and
``span._.blamelex`` (a `Finding`); ``doc._.blamelex`` lists them all.
"""

from __future__ import annotations

import json
import shutil
import weakref
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from blamelex.findings import SEVERITIES, VOICES, Finding, Selection, severity_rank
from blamelex.lexicon import Lexicon, load_lexicon
from blamelex.lexicon.categories import category_entries
from blamelex.matching import Tokenize
from blamelex.pipeline import Pipeline
from blamelex.rephrase import attribution, render_all
from blamelex.scoring import Scored
from blamelex.tokenregex import TokenText

CHUNK_DOCS = 32
"""Without a model, the docs the component annotates together (see `pipe`)."""
BATCH_TOKENS = 8192
"""With a model, the most spaCy tokens the component annotates in one batch (see `pipe`)."""
SPANS_KEY = "blamelex"
SUPPRESSED_KEY = "blamelex_suppressed"
_DATA_ATTR = "blamelex_data"
_DATA_KEY = ("._.", _DATA_ATTR, None, None)
"""Where spaCy keeps ``doc._.blamelex_data`` in ``doc.user_data`` (read directly on the hot
path: ``doc._.get`` builds an accessor object per call; tests check the key is spaCy's)."""


# The Finding objects a doc's dicts were made from, while the doc lives: reading
# ``doc._.blamelex`` then needs no rebuild. The dicts stay the record (they survive DocBin and
# ``n_process``); a cached list is used only while the doc still holds the very same dict list.
_FINDINGS: weakref.WeakKeyDictionary[Doc, tuple[list[dict[str, Any]], list[Finding]]] = (
    weakref.WeakKeyDictionary())


def _doc_findings(doc: Doc) -> list[Finding]:
    user_data: dict[Any, Any] = doc.user_data  # (typed by spaCy as keyed by str)
    data = user_data.get(_DATA_KEY)
    if not data:
        return []
    cached = _FINDINGS.get(doc)
    if cached is not None and cached[0] is data:
        return list(cached[1])
    return [Finding.from_dict(d) for d in data if not d.get("_suppressed")]


def _span_finding(span: Span) -> Finding | None:
    for data in span.doc._.get(_DATA_ATTR) or []:
        if data["start"] == span.start_char and data["end"] == span.end_char:
            return Finding.from_dict(data)
    return None


def register_extensions() -> None:
    """Register the Doc/Span extensions (idempotent)."""
    if not Doc.has_extension(_DATA_ATTR):
        Doc.set_extension(_DATA_ATTR, default=None)
    if not Doc.has_extension("blamelex"):
        Doc.set_extension("blamelex", getter=_doc_findings)
    if not Span.has_extension("blamelex"):
        Span.set_extension("blamelex", getter=_span_finding)


_Found = tuple[list[tuple[Span, dict[str, Any]]], list[tuple[Span, dict[str, Any]]], list[Finding]]
"""One doc's (kept, dropped, findings of the kept)."""


class BlamelexComponent:
    """Finds victim-blaming language in a Doc. Create it with ``nlp.add_pipe("blamelex")``."""

    def __init__(
        self,
        nlp: Language,
        name: str = "blamelex",
        *,
        extra_lexicons: Sequence[str] = (),
        extra_context_rules: Sequence[str] = (),
        select: Sequence[str] = (),
        ignore: Sequence[str] = (),
        min_severity: str | None = None,
        threshold: float = 0.5,
        keep_suppressed: bool = False,
        lexicon: Lexicon | None = None,
        model: str | None = "default",
        screener: bool = False,
        context: bool = True,
        model_threads: int | None = None,
        proposal_min_prob: float | None = None,
        risk: bool = True,
        extra_risk_rules: Sequence[str] = (),
        voice: str = "all",
    ) -> None:
        if min_severity is not None and min_severity not in SEVERITIES:
            raise ValueError(f"min_severity must be one of {SEVERITIES}, got {min_severity!r}")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
        register_extensions()
        self.name = name
        self.extra_lexicons = [str(p) for p in extra_lexicons]
        self.extra_context_rules = [str(p) for p in extra_context_rules]
        self.select = list(select)
        self.ignore = list(ignore)
        self.min_severity = min_severity
        self.threshold = float(threshold)
        self.keep_suppressed = bool(keep_suppressed)
        self.model_name = model
        self.screener = bool(screener)
        self.use_context = bool(context)
        self.model_threads = model_threads
        self.proposal_min_prob = proposal_min_prob
        if voice not in (*VOICES, "all"):
            raise ValueError(f"voice must be one of own, reported, all; got {voice!r}")
        self.voice = voice
        self.use_risk = bool(risk)
        self.extra_risk_rules = [str(p) for p in extra_risk_rules]
        self._build(nlp.vocab, lexicon if lexicon is not None
                    else load_lexicon(extra=self.extra_lexicons), Tokenize(nlp.tokenizer))

    def _build(self, vocab: Any, full: Lexicon, tokenize: Any) -> None:
        """The pipeline over the whole lexicon ``full``, with this component's settings."""
        selection = Selection.of(self.select, self.ignore, self.min_severity, self.voice)
        if selection:
            from blamelex.risk import CATEGORY, CODES

            model_entries = category_entries().values()
            selection.check(codes=[e.code for e in (*full, *model_entries)] + list(CODES),
                            categories=list(dict.fromkeys(
                                [*(e.category for e in model_entries), *full.categories(),
                                 CATEGORY])))
        self.lexicon = full.filtered(self.select, self.ignore, self.min_severity)
        """The entries whose findings are reported."""
        self.model = self._load_model()
        self.pipeline = Pipeline.build(vocab, full, tokenize=tokenize, selection=selection,
                                       threshold=self.threshold, model=self.model,
                                       context=self.use_context,
                                       extra_context_rules=self.extra_context_rules,
                                       risk=self.use_risk,
                                       extra_risk_rules=self.extra_risk_rules)
        self.matcher = self.pipeline.matcher
        self.context = self.pipeline.context
        self.scorer = self.pipeline.scorer

    def _load_model(self) -> Any:
        from blamelex.model import ModelScorer, resolve_model

        folder = resolve_model(self.model_name)
        if folder is None:
            return None
        return ModelScorer(folder, screener=self.screener, threads=self.model_threads,
                           context=self.use_context, min_prob=self.proposal_min_prob)

    def __call__(self, doc: Doc) -> Doc:
        """Annotate ``doc`` with findings."""
        self._process([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        """Annotate docs in batches (the model runs once per batch of sentences).

        Without a model, docs are annotated `CHUNK_DOCS` at a time and handed on at once: a
        small chunk lets each step run over several docs in turn, and its docs still die young
        (which keeps garbage collection cheap on long streams).
        """
        if self.model is None:
            docs = iter(stream)
            while chunk := list(islice(docs, CHUNK_DOCS)):
                self._process(chunk)
                yield from chunk
            return
        # with the model, a batch also ends at BATCH_TOKENS tokens: a few long docs (chunks of
        # a large file) then make a batch as a few dozen short records do, and memory stays
        # bounded either way. (Overlapping the model's runs with the next batch's matching was
        # measured and gained nothing on 2 cores: the runs already use every core.)
        for batch in self._batches(stream, batch_size):
            self._process(batch)
            yield from batch

    @staticmethod
    def _batches(stream: Iterable[Doc], batch_size: int) -> Iterator[list[Doc]]:
        batch: list[Doc] = []
        tokens = 0
        for doc in stream:
            batch.append(doc)
            tokens += len(doc)
            if len(batch) >= batch_size or tokens >= BATCH_TOKENS:
                yield batch
                batch, tokens = [], 0
        if batch:
            yield batch

    def _process(self, docs: Sequence[Doc]) -> None:
        """Annotate ``docs``: the pipeline's scored candidates become findings on each doc."""
        work = self.pipeline.prepare(docs)
        scored_docs = self.pipeline.finish(work)
        for doc, scored, text, risk in zip(docs, scored_docs, work.tokens, work.risk,
                                           strict=True):
            found = self._findings(scored, text)
            if risk:
                found = self._with_risk(doc, found, risk)
            self._store(doc, found)

    @staticmethod
    def _with_risk(doc: Doc, found: _Found, risk: list[Finding]) -> _Found:
        """The risk-grading findings added to one doc's, all in order of position."""
        kept, dropped, findings = found
        for f in risk:
            span = doc.char_span(f.start, f.end, label=f.code, alignment_mode="expand")
            if span is not None:
                kept.append((span, f.to_dict()))
                findings.append(f)
        kept.sort(key=lambda pair: (pair[1]["start"], pair[1]["end"]))
        findings.sort(key=lambda f: (f.start, f.end))
        return kept, dropped, findings

    def _findings(self, scored: list[Scored], text: TokenText) -> _Found:
        """The findings kept and dropped (built only if `keep_suppressed`) of one doc."""
        kept: list[tuple[Span, dict[str, Any]]] = []
        dropped: list[tuple[Span, dict[str, Any]]] = []
        findings: list[Finding] = []
        lowers = text.lowers if scored else []
        for result in scored:
            if not result.keep and not self.keep_suppressed:
                continue  # nobody will see it: no finding is built
            finding = self._finding(result, lowers)
            data = finding.to_dict()
            if not result.keep:
                data["_suppressed"] = True
                dropped.append((result.candidate.span, data))
            else:
                kept.append((result.candidate.span, data))
                findings.append(finding)
        return kept, dropped, findings

    def _store(self, doc: Doc, found: _Found) -> None:
        """Write one doc's findings on it: span groups and the data attribute."""
        kept, dropped, findings = found
        doc.spans[SPANS_KEY] = [self._labelled(span, data) for span, data in kept]
        if self.keep_suppressed:
            doc.spans[SUPPRESSED_KEY] = [self._labelled(s, d) for s, d in dropped]
        if not kept and not dropped:
            # a fresh doc reads as having no findings (the attribute's default); only a doc
            # annotated before (its custom attributes live in user_data) needs them cleared
            if doc.user_data:
                doc._.set(_DATA_ATTR, [])
            return
        all_data = [d for _, d in kept] + [d for _, d in dropped]
        doc._.set(_DATA_ATTR, all_data)
        if findings:
            _FINDINGS[doc] = (all_data, findings)

    @staticmethod
    def _labelled(span: Span, data: dict[str, Any]) -> Span:
        if span.label and span.label_ == data["code"]:  # the matcher's spans are labelled
            return span
        return Span(span.doc, span.start, span.end, label=data["code"])

    def _finding(self, result: Scored, lowers: Sequence[str]) -> Finding:
        cand = result.candidate
        entry = cand.entry
        span = cand.span
        text = span.text
        voice = self.pipeline.voice(cand)
        suggestions = render_all(entry.suggestions, span, lowers, text)
        if voice == "reported":
            suggestions = (attribution(text, span.start_char, span.end_char), *suggestions)
        return Finding(
            start=span.start_char,
            end=span.end_char,
            text=text,
            code=entry.code,
            category=entry.category,
            severity=entry.severity,
            score=result.score,
            explanation=entry.explanation,
            suggestions=suggestions,
            sources=entry.sources,
            modifiers=tuple(cand.modifiers),
            origin=cand.origin,
            term=entry.term,
            trace=result.trace,
            voice=voice,
        )

    def suppressed(self, doc: Doc) -> list[Finding]:
        """Candidates that context rules or the threshold removed (needs keep_suppressed)."""
        data = doc._.get(_DATA_ATTR) or []
        return [Finding.from_dict(d) for d in data if d.get("_suppressed")]

    # -- serialisation ------------------------------------------------------------------------

    def to_disk(self, path: str | Path, *, exclude: Sequence[str] = ()) -> None:
        """Save settings and copies of the extra lexicon files."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        copies = []
        for i, src in enumerate(self.extra_lexicons):
            name = f"extra_{i}_{Path(src).name}"
            shutil.copyfile(src, folder / name)
            copies.append(name)
        rule_copies = []
        for i, src in enumerate(self.extra_context_rules):
            name = f"context_{i}_{Path(src).name}"
            shutil.copyfile(src, folder / name)
            rule_copies.append(name)
        risk_copies = []
        for i, src in enumerate(self.extra_risk_rules):
            name = f"risk_{i}_{Path(src).name}"
            shutil.copyfile(src, folder / name)
            risk_copies.append(name)
        settings = {
            "extra_lexicons": copies,
            "extra_context_rules": rule_copies,
            "select": self.select,
            "ignore": self.ignore,
            "min_severity": self.min_severity,
            "threshold": self.threshold,
            "keep_suppressed": self.keep_suppressed,
            "model": self.model_name,
            "screener": self.screener,
            "context": self.use_context,
            "proposal_min_prob": self.proposal_min_prob,
            "risk": self.use_risk,
            "voice": self.voice,
            "extra_risk_rules": risk_copies,
        }
        (folder / "settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")

    def from_disk(self, path: str | Path, *, exclude: Sequence[str] = ()) -> BlamelexComponent:
        """Restore what `to_disk` saved."""
        folder = Path(path)
        settings = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
        extra = [str(folder / name) for name in settings["extra_lexicons"]]
        self.extra_lexicons = extra
        self.extra_context_rules = [str(folder / name)
                                    for name in settings.get("extra_context_rules", [])]
        self.select = list(settings["select"])
        self.ignore = list(settings["ignore"])
        self.min_severity = settings["min_severity"]
        self.threshold = float(settings["threshold"])
        self.keep_suppressed = bool(settings["keep_suppressed"])
        self.model_name = settings.get("model")
        self.screener = bool(settings.get("screener", False))
        self.use_context = bool(settings.get("context", True))
        self.proposal_min_prob = settings.get("proposal_min_prob")
        self.use_risk = bool(settings.get("risk", True))
        self.voice = str(settings.get("voice", "all"))
        self.extra_risk_rules = [str(folder / name)
                                 for name in settings.get("extra_risk_rules", [])]
        self._build(self.matcher.vocab, load_lexicon(extra=extra), None)
        return self


@Language.factory(
    "blamelex",
    default_config={
        "extra_lexicons": [],
        "extra_context_rules": [],
        "select": [],
        "ignore": [],
        "min_severity": None,
        "threshold": 0.5,
        "keep_suppressed": False,
        "model": "default",
        "screener": False,
        "context": True,
        "model_threads": None,
        "proposal_min_prob": None,
        "risk": True,
        "extra_risk_rules": [],
        "voice": "all",
    },
)
def make_blamelex(
    nlp: Language,
    name: str,
    extra_lexicons: list[str],
    extra_context_rules: list[str],
    select: list[str],
    ignore: list[str],
    min_severity: str | None,
    threshold: float,
    keep_suppressed: bool,
    model: str | None,
    screener: bool,
    context: bool,
    model_threads: int | None,
    proposal_min_prob: float | None,
    risk: bool,
    extra_risk_rules: list[str],
    voice: str,
) -> BlamelexComponent:
    """spaCy factory for the blamelex component."""
    return BlamelexComponent(
        nlp,
        name,
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


__all__ = ["SPANS_KEY", "BlamelexComponent", "make_blamelex", "severity_rank"]
