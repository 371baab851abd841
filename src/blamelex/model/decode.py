"""Decode token label probabilities of the span model into (start, end, category, prob) spans.

numpy only (the scan path never imports torch). Two decodings:

``argmax`` (the bundled model's): each token takes its argmax label; a span is a run of non-O
tokens, cut where a B- tag follows inside a run; its category is the most frequent one among the
tokens' argmax labels.

``span_mean``: a span is a run of tokens whose argmax label is not O, cut only where a B- tag
starts a run of a *different* category than the run so far would get; its category is the one
with the highest mean probability (B- and I- summed) over the span's tokens. One category per
span, decided by all its tokens together, so a span whose tokens hesitate between two
neighbouring categories is neither split nor given a category by a few tokens' argmax.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from blamelex.model.labels import majority

DECODINGS = ("argmax", "span_mean")


def category_probs(probs: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """(n_tokens, n_categories) probability of each category (B- + I-), and the category names."""
    cats: list[str] = []
    for lab in labels:
        if lab != "O" and lab[2:] not in cats:
            cats.append(lab[2:])
    out = np.zeros((probs.shape[0], len(cats)), dtype=np.float64)
    for j, lab in enumerate(labels):
        if lab != "O":
            out[:, cats.index(lab[2:])] += probs[:, j]
    return out, cats


def decode_spans(
    probs: np.ndarray, offsets: np.ndarray, labels: Sequence[str], how: str = "argmax",
    min_prob: float = 0.5,
) -> list[tuple[int, int, str, float]]:
    """Spans of one text from its token probabilities ``probs`` and character ``offsets``."""
    if how not in DECODINGS:
        raise ValueError(f"unknown decoding {how!r}; use one of {DECODINGS}")
    outside = labels.index("O")
    found: list[tuple[int, int, str, float]] = []
    if not len(probs) or probs[:, outside].min() > 0.5:
        # most sentences: O is every token's argmax (over half of each token's mass), no span
        return found
    tags = probs.argmax(axis=-1)
    if not (tags != outside).any():
        return found
    if how == "span_mean":
        cprobs, cats = category_probs(probs, labels)
    current: list[int] = []

    def close() -> None:
        if not current:
            return
        if how == "argmax":
            votes = [labels[tags[k]][2:] for k in current]
            category = majority(votes)
        else:
            category = cats[int(cprobs[current].mean(axis=0).argmax())]
        prob = float(1.0 - probs[current, outside].mean())
        if prob >= min_prob:
            found.append((int(offsets[current[0], 0]), int(offsets[current[-1], 1]), category,
                          prob))
        current.clear()

    for k, lab in enumerate(tags):
        name = labels[lab]
        if name == "O":
            close()
            continue
        if name.startswith("B-") and current:
            if how == "argmax":
                close()
            else:
                so_far = cats[int(cprobs[current].mean(axis=0).argmax())]
                if name[2:] != so_far:
                    close()
        current.append(k)
    close()
    return found
