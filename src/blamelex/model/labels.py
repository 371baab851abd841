"""The token label scheme of the span model: BIO tags, one pair per category."""

from __future__ import annotations

from collections.abc import Sequence

from blamelex.lexicon import CATEGORIES

LABELS: list[str] = ["O"] + [f"{p}-{c}" for c in CATEGORIES for p in ("B", "I")]
"""Label list; index = class id of the model's output."""
LABEL2ID = {label: i for i, label in enumerate(LABELS)}


def category_of(label_id: int) -> str | None:
    """Category of a label id, or None for O."""
    label = LABELS[label_id]
    return None if label == "O" else label[2:]


def majority(categories: Sequence[str]) -> str:
    """The most frequent category of a span's tokens; a tie goes to the one met first.

    (``max(set(...), key=...)`` broke ties by set order, which changes with Python's string
    hash seed: the same text could get another category in another process.)
    """
    return max(dict.fromkeys(categories), key=list(categories).count)
