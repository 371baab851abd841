"""The annotated corpus (data/corpus/*.jsonl) as Hugging Face `datasets` objects, and the tools
that check it: near duplicates across splits, template families, n-gram diversity.

The corpus lives in the source tree (``data/``), not in the wheel: `load` finds it next to the
package in a source checkout, or in ``$BLAMELEX_DATA``, or in the folder you pass.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SPLITS = ("train", "dev", "test", "challenge")


def data_dir(path: str | Path | None = None) -> Path:
    """The corpus folder: ``path``, else ``$BLAMELEX_DATA``, else ``<checkout>/data/corpus``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("BLAMELEX_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data" / "corpus"


def read_split(split: str, path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read one split (train, dev, test, challenge) or a JSONL file as a list of dicts."""
    candidate = Path(split)
    if split not in SPLITS and candidate.suffix == ".jsonl":
        file = candidate
    else:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; use one of {SPLITS} or a .jsonl file")
        file = data_dir(path) / f"{split}.jsonl"
    if not file.exists():
        raise FileNotFoundError(
            f"{file} not found: build the corpus with 'python scripts/build_corpus.py' in a "
            "source checkout, or set BLAMELEX_DATA to the folder holding the JSONL files"
        )
    with file.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load(split: str, path: str | Path | None = None) -> Any:
    """Return a split as a `datasets.Dataset` (local files only; needs the ``datasets`` package)."""
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("blamelex.corpus.load needs 'datasets': pip install "
                          "'blamelex[data]'") from exc
    rows = read_split(split, path)
    span = datasets.Features({
        "start": datasets.Value("int32"), "end": datasets.Value("int32"),
        "category": datasets.Value("string"), "code": datasets.Value("string"),
        "text": datasets.Value("string"),
        "voice": datasets.Value("string"),  # own / reported (corpus v2; null in v1 files)
    })
    features = datasets.Features({
        "id": datasets.Value("string"), "text": datasets.Value("string"),
        "spans": datasets.List(span), "label": datasets.Value("int8"),
        "kind": datasets.Value("string"), "scenario": datasets.Value("string"),
        "type": datasets.Value("string"), "neg_type": datasets.Value("string"),
        "pair_of": datasets.Value("string"), "batch": datasets.Value("string"),
        "split": datasets.Value("string"), "capability": datasets.Value("string"),
        "pair_id": datasets.Value("string"),
    })
    clean = [{k: row.get(k) for k in features} for row in rows]
    return datasets.Dataset.from_list(clean, features=features)


def _char_ngrams(texts: Sequence[str], n: int = 5) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    vec = HashingVectorizer(analyzer="char", ngram_range=(n, n), n_features=2**22,
                            binary=True, norm=None, alternate_sign=False, lowercase=True)
    return vec.transform(texts).astype("float32")


def jaccard_matrix(a: Sequence[str], b: Sequence[str], n: int = 5) -> Any:
    """Dense-free Jaccard similarities of character n-gram sets: a sparse matrix a x b."""
    import numpy as np

    xa, xb = _char_ngrams(a, n), _char_ngrams(b, n)
    inter = (xa @ xb.T).tocoo()
    size_a = np.asarray(xa.sum(axis=1)).ravel()
    size_b = np.asarray(xb.sum(axis=1)).ravel()
    union = size_a[inter.row] + size_b[inter.col] - inter.data
    inter.data = inter.data / np.maximum(union, 1)
    return inter


def near_duplicate_pairs(a: Sequence[str], b: Sequence[str], threshold: float = 0.6,
                         n: int = 5) -> list[tuple[int, int]]:
    """Index pairs (i in a, j in b) whose character n-gram Jaccard is >= threshold."""
    if not a or not b:
        return []
    m = jaccard_matrix(a, b, n)
    keep = m.data >= threshold
    return list(zip(m.row[keep].tolist(), m.col[keep].tolist(), strict=True))


_NAMEISH = re.compile(r"\b[A-Z][a-z]+\b")
_NUM = re.compile(r"\d+")


def skeleton(text: str) -> str:
    """Text with names and numbers masked, for finding template families."""
    return _NUM.sub("0", _NAMEISH.sub("X", text)).lower()


def template_families(texts: Sequence[str], threshold: float = 0.6) -> list[int]:
    """Sizes of template families: items linked when their masked skeletons' character 5-gram
    Jaccard is >= threshold (connected components)."""
    import numpy as np
    from scipy.sparse.csgraph import connected_components

    sk = [skeleton(t) for t in texts]
    m = jaccard_matrix(sk, sk)
    keep = m.data >= threshold
    from scipy.sparse import coo_matrix

    graph = coo_matrix((np.ones(int(keep.sum())), (m.row[keep], m.col[keep])),
                       shape=(len(texts), len(texts)))
    _, labels = connected_components(graph, directed=False)
    sizes: list[int] = np.bincount(labels).tolist()
    return sizes


def trigram_diversity(texts: Sequence[str]) -> float:
    """Distinct word trigrams / all word trigrams over the texts."""
    total = 0
    seen: set[tuple[str, ...]] = set()
    for t in texts:
        words = t.lower().split()
        grams = list(zip(words, words[1:], words[2:], strict=False))
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def paraphrase_share(items: Sequence[dict[str, Any]], detector: Any) -> float:
    """Share of positive items on whose gold spans ``detector`` finds nothing (pass the
    lexicon-only detector, ``blamelex.load(model=None)``, to measure paraphrases)."""
    positives = [i for i in items if i["label"]]
    missed = 0
    for item, findings in zip(positives, detector.scan_many(i["text"] for i in positives),
                              strict=True):
        if not any(f.start < s["end"] and s["start"] < f.end
                   for s in item["spans"] for f in findings):
            missed += 1
    return missed / len(positives) if positives else 0.0
