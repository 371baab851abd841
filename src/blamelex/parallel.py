"""Scan a stream of texts, in this process or on several CPU cores of one machine, keeping input
order: the one path every scan of several texts takes (`Detector.scan_many`, the CLI).

`scan_stream` pairs each text with a context object (a document, a record's columns) that stays
in the calling process; only the texts go to the worker processes, and only the findings come
back, as JSON text. Each worker has its own detector with the caller's settings: inherited by
``fork`` when the detector runs without a model (fast, and safe because a lexicon-only pipeline
starts no threads), rebuilt from the pipeline's config under ``spawn`` otherwise (ONNX Runtime
sessions must not cross a fork). At most a few chunks are in flight at once, so memory stays flat
however long the stream is.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from multiprocessing.pool import AsyncResult, Pool
from typing import Any, TypeVar

from spacy.language import Language

from blamelex.component import _DATA_ATTR
from blamelex.findings import Finding
from blamelex.nlp import build_nlp, join_long, restore, split_long
from blamelex.textutil import clean_text

T = TypeVar("T")

CHUNK_SIZE = 64
"""Texts sent to a worker at a time (large enough that process hand-offs cost little)."""

_INHERITED: Language | None = None  # set only while a fork pool starts, so workers inherit it
_WORKER: Language | None = None  # the pipeline of this worker process
_BATCH_SIZE = 32  # this worker's nlp.pipe batch size


def scan_stream(
    nlp: Language,
    items: Iterable[tuple[str, T]],
    n_process: int = 1,
    *,
    batch_size: int = 32,
    chunk_size: int = CHUNK_SIZE,
    start_method: str | None = None,
) -> Iterator[tuple[T, list[Finding]]]:
    """Yield (context, findings) for each (text, context) pair, in input order.

    ``nlp`` is a pipeline with the blamelex component (`blamelex.nlp.build_nlp`). With
    ``n_process`` 1 the texts are scanned in this process (``nlp.pipe``); with more, by that
    many worker processes, ``chunk_size`` texts at a time. ``start_method`` overrides the
    multiprocessing start method (default: ``fork`` for a pipeline without a model where the
    platform has it, else ``spawn``). Lone surrogates are scanned as U+FFFD (same offsets) and
    each finding's text is taken from the original.
    """
    if n_process < 1:
        raise ValueError(f"n_process must be 1 or more, got {n_process}")

    def cleaned() -> Iterator[tuple[str, tuple[Any, str | None]]]:
        # a text longer than the pipeline takes at once goes in pieces (nlp.split_long)
        for part, piece in split_long(items):
            clean = clean_text(part)  # (the text itself when there is nothing to replace)
            yield clean, (piece, None if clean is part else part)

    if n_process == 1:
        docs = nlp.pipe(cleaned(), as_tuples=True, batch_size=batch_size)
        found = ((piece, restore(original, list(doc._.blamelex)))
                 for doc, (piece, original) in docs)
    else:
        found = ((piece, restore(original, fs)) for (piece, original), fs in _scan_in_pool(
            nlp, cleaned(), n_process, batch_size, chunk_size,
            start_method or _default_start_method(nlp)))
    yield from join_long(found)


def _component(nlp: Language) -> Any:
    return nlp.get_pipe("blamelex")


def _default_start_method(nlp: Language) -> str:
    if _component(nlp).model is None and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def _pipeline_config(nlp: Language, n_process: int) -> dict[str, Any]:
    """The keyword arguments of `build_nlp` that rebuild ``nlp`` in each of ``n_process``
    worker processes."""
    from blamelex.model.runtime import available_cores

    config = dict(nlp.config["components"][_component(nlp).name])
    config.pop("factory", None)
    if config.get("model") and not config.get("model_threads"):
        # the workers share the cores (else each would run one model thread per core)
        config["model_threads"] = max(1, available_cores() // n_process)
    return config


def _scan_in_pool(
    nlp: Language,
    items: Iterator[tuple[str, T]],
    n_process: int,
    batch_size: int,
    chunk_size: int,
    start_method: str,
) -> Iterator[tuple[T, list[Finding]]]:
    global _INHERITED
    ctx = multiprocessing.get_context(start_method)
    config = _pipeline_config(nlp, n_process)
    _INHERITED = nlp if start_method == "fork" else None
    try:
        pool: Pool = ctx.Pool(n_process, initializer=_init_worker,
                              initargs=(json.dumps(config), batch_size))
    finally:
        _INHERITED = None
    # Two chunks queued per worker keep every worker busy while one result is read back.
    max_pending = 2 * n_process
    pending: deque[tuple[list[T], AsyncResult[str]]] = deque()
    try:
        while True:
            chunk = list(islice(items, chunk_size))
            if chunk:
                texts = [text for text, _ in chunk]
                pending.append(([c for _, c in chunk],
                                pool.apply_async(_scan_chunk, (texts,))))
            while pending and (len(pending) >= max_pending or not chunk):
                contexts, result = pending.popleft()
                for context, found in zip(contexts, json.loads(result.get()), strict=True):
                    yield context, [Finding.from_dict(f) for f in found]
            if not chunk:
                break
        pool.close()
        pool.join()
    finally:
        # Reached early on an error or when the caller stops reading: stop the workers now.
        pool.terminate()


def _init_worker(config_json: str, batch_size: int) -> None:
    global _WORKER, _BATCH_SIZE
    _BATCH_SIZE = batch_size
    if _INHERITED is not None:
        _WORKER = _INHERITED
        return
    _WORKER = build_nlp(**json.loads(config_json))


def _scan_chunk(texts: list[str]) -> str:
    """Findings of each text, as JSON text (plain data crosses the process boundary)."""
    assert _WORKER is not None, "worker used before _init_worker ran"
    # The component keeps each finding as its `Finding.to_dict()`; sending those dicts as they
    # are spares a Finding round trip per finding (``doc._.blamelex`` builds Findings).
    out = [[d for d in doc._.get(_DATA_ATTR) or [] if not d.get("_suppressed")]
           for doc in _WORKER.pipe(texts, batch_size=_BATCH_SIZE)]
    return json.dumps(out, ensure_ascii=False)
