"""Inference of the shipped span model with ONNX Runtime and `tokenizers` only (no torch).

A model folder holds ``model.onnx``, ``tokenizer.json``, ``labels.json``, ``config.json``,
``calibration.json`` (optional ``screener.json``) and ``manifest.json`` with the sha256 of every
other file. Loading checks every checksum first and refuses a folder whose files do not match.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from blamelex.model.decode import decode_spans


class ModelError(RuntimeError):
    """The model cannot be used: missing runtime, missing files, or failed integrity check."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_manifest(folder: Path) -> dict[str, str]:
    """Check every file listed in ``manifest.json``; raise `ModelError` naming any mismatch."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise ModelError(f"{folder}: no manifest.json; refusing to load an unverified model")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    files: dict[str, str] = manifest.get("files", {})
    if not files:
        raise ModelError(f"{manifest_path}: lists no files")
    for name, expected in files.items():
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ModelError(f"{manifest_path}: unsafe file name {name!r}")
        if not path.exists():
            raise ModelError(f"{folder}: {name} is listed in manifest.json but missing")
        actual = sha256_file(path)
        if actual != expected:
            raise ModelError(
                f"{path}: sha256 {actual[:12]}... does not match the manifest "
                f"({expected[:12]}...). The file was changed or corrupted; reinstall the model "
                "or run with --no-model."
            )
    return files


def write_manifest(folder: Path, names: Sequence[str]) -> None:
    """Write ``manifest.json`` with the sha256 of the named files."""
    files = {n: sha256_file(folder / n) for n in sorted(names)}
    (folder / "manifest.json").write_text(json.dumps({"files": files}, indent=2) + "\n",
                                          encoding="utf-8")


@dataclass
class TokenProbs:
    """Per-token character offsets and label probabilities for one text."""

    offsets: np.ndarray
    """(n_tokens, 2) character offsets into the text; special tokens removed."""
    probs: np.ndarray
    """(n_tokens, n_labels) softmax probabilities."""


MAX_BATCH_TOKENS = 1024
"""Padded tokens per model batch (see `SpanModel.predict`)."""


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class SpanModel:
    """The fine-tuned token classifier, run with ONNX Runtime.

    ``threads``: how many ONNX runs go at once, each on one thread (default: the cores this
    process may use). A short sentence gains little from several threads inside one run and
    loses to their hand-offs; runs side by side keep every core busy (docs/benchmarks.md).
    Results do not depend on it.
    """

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ModelError(f"model folder {self.folder} not found")
        files = verify_manifest(self.folder)
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelError(
                "the model needs onnxruntime and tokenizers: pip install onnxruntime tokenizers "
                "(or use --no-model / blamelex.load(model=None) for lexicon-only)"
            ) from exc
        self.config: dict[str, Any] = json.loads((self.folder / "config.json").read_text("utf-8"))
        self.labels: list[str] = json.loads((self.folder / "labels.json").read_text("utf-8"))
        self.max_length = int(self.config.get("max_length", 128))
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be 1 or more, got {threads}")
        self.threads = threads or available_cores()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        options = ort.SessionOptions()
        # one thread per run; `predict` runs several at once (a session's run is thread-safe)
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = _session(ort, self.folder / "model.onnx", files.get("model.onnx"),
                                options)
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.outside = self.labels.index("O")

    def predict(
        self, texts: Sequence[str], batch_size: int = 1, max_tokens: int = MAX_BATCH_TOKENS
    ) -> list[TokenProbs]:
        """Token probabilities for each text (texts longer than max_length are truncated).

        By default each text is one ONNX run. The int8 model quantizes its activations
        dynamically, with one scale per run, so a text run beside others can get different
        probabilities than alone (measured: up to 0.80, 1 % of token labels changed; the fp32
        model is unaffected): one text per run makes a text's findings independent of the rest
        of the input (docs/benchmarks.md). With a larger ``batch_size``, texts are sorted by
        length and run in batches of at most ``batch_size`` texts and ``max_tokens`` padded
        tokens: ONNX Runtime keeps its largest activation buffers for the session's life, so
        the token budget bounds memory (measured alone over 1,500 test items: 250 MiB peak
        with batches of 32 texts, 141 MiB at 1,024 tokens).
        """
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches: list[list[int]] = []
        for i in order:
            # sorted by length, so this text is the widest of its batch so far
            width = len(encodings[i].ids)
            if batches and len(batches[-1]) < batch_size \
                    and (len(batches[-1]) + 1) * width <= max_tokens:
                batches[-1].append(i)
            else:
                batches.append([i])
        batches.reverse()  # longest first: the last runs taken are short, so threads end together
        return _Runs(self, encodings, batches).result()

    def _run(self, encodings: list[Any], idx: list[int]) -> list[TokenProbs]:
        """One ONNX run over the encodings ``idx`` (padded to the longest)."""
        width = max(len(encodings[i].ids) for i in idx)
        ids = np.zeros((len(idx), width), dtype=np.int64)
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for row, i in enumerate(idx):
            n = len(encodings[i].ids)
            ids[row, :n] = encodings[i].ids
            mask[row, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        logits = self.session.run(None, feeds)[0]
        logits = logits - logits.max(axis=-1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=-1, keepdims=True)
        result = []
        for row, i in enumerate(idx):
            enc = encodings[i]
            # (each read of enc.offsets converts the whole list: read it once)
            offs = enc.offsets
            keep = [k for k, sp in enumerate(enc.special_tokens_mask) if not sp]
            offsets = np.array([offs[k] for k in keep], dtype=np.int64).reshape(-1, 2)
            result.append(TokenProbs(offsets, probs[row, keep]))
        return result

    def _executor(self) -> ThreadPoolExecutor:
        """The model's worker threads (``threads - 1``; the caller is the last). A process
        forked from this one (spaCy's ``n_process``) gets its own: the parent's threads do not
        exist there, and work handed to them would never run."""
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="blamelex-onnx")
            self._pool_pid = os.getpid()
        return self._pool

    def span_probability(self, tp: TokenProbs, start: int, end: int) -> float:
        """Mean probability, over the tokens inside [start, end), of being part of any span."""
        inside = (tp.offsets[:, 0] < end) & (tp.offsets[:, 1] > start)
        if not inside.any():
            return 0.0
        return float(1.0 - tp.probs[inside, self.outside].mean())

    def spans(self, tp: TokenProbs, min_prob: float = 0.5) -> list[tuple[int, int, str, float]]:
        """Decode contiguous non-O tokens into (start, end, category, mean probability)
        (`blamelex.model.decode`, argmax decoding)."""
        return decode_spans(tp.probs, tp.offsets, self.labels, "argmax", min_prob)


def _session(ort: Any, model: Path, sha256: str | None, options: Any) -> Any:
    """An ONNX Runtime session for ``model`` (whose checksum ``sha256`` has been verified).

    Most of a session's start is ONNX Runtime optimising the graph (measured: 56 of ~80 ms CPU
    on this model). The graph optimised up to ORT_ENABLE_EXTENDED, the last level that does not
    depend on the machine, is kept in the blamelex cache under a key of the model's sha256 and
    the ONNX Runtime version; later sessions load it, still with ``options`` (all
    optimisations), and start in ~30 ms. Their outputs are bit-identical (checked on 1,375
    test sentences). With the cache off (BLAMELEX_NO_CACHE=1) or unusable, the session is made
    from the model itself, as before.
    """
    from blamelex import cache

    providers = ["CPUExecutionProvider"]
    if sha256 and cache.enabled():
        digest = cache.key("onnx", [sha256, ort.__version__], code=False)
        optimized = cache.existing_file("onnx", digest, ".onnx")
        if optimized is None:
            def write(path: Path) -> None:
                save = ort.SessionOptions()
                save.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
                save.optimized_model_filepath = str(path)
                save.intra_op_num_threads = 1
                save.log_severity_level = 3  # no warnings on stderr
                ort.InferenceSession(str(model), save, providers=providers)

            optimized = cache.store_file("onnx", digest, ".onnx", write, keep=2)
        if optimized is not None:
            try:
                return ort.InferenceSession(str(optimized), options, providers=providers)
            except Exception:  # a damaged cache file: remove it, start from the model
                try:
                    optimized.unlink()
                except OSError:
                    pass
    return ort.InferenceSession(str(model), options, providers=providers)


class _Runs:
    """The ONNX runs of one `SpanModel.predict` call, taken in turn from a shared queue by the
    model's worker threads and by the caller (so at most ``threads`` threads compute)."""

    def __init__(self, model: SpanModel, encodings: list[Any], batches: list[list[int]]) -> None:
        self._model = model
        self._encodings = encodings
        self._batches = batches
        self._out: list[TokenProbs | None] = [None] * len(encodings)
        self._taken = 0
        self._lock = threading.Lock()
        helpers = range(min(model.threads - 1, len(batches) - 1))
        pool = model._executor() if helpers else None
        self._futures = [pool.submit(self._work) for _ in helpers] if pool is not None else []

    def _work(self) -> None:
        while True:
            with self._lock:
                j = self._taken
                self._taken += 1
            if j >= len(self._batches):
                return
            idx = self._batches[j]
            for i, tp in zip(idx, self._model._run(self._encodings, idx), strict=True):
                self._out[i] = tp

    def result(self) -> list[TokenProbs]:
        """The token probabilities of each text, in input order (takes runs too, then waits)."""
        self._work()
        for f in self._futures:
            f.result()
        return [o for o in self._out if o is not None]
