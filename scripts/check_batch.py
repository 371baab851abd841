"""Check a raw corpus batch file (data/batches/bNN.jsonl): markup, fields and counts.

Usage: python scripts/check_batch.py data/batches/b01.jsonl [...]
"""
from __future__ import annotations

import collections
import json
import re
import sys

from blamelex.categories import categories

CATEGORIES = set(categories())
NEG_TYPES = {"benign_sense", "adult_referent", "negated", "quoted", "meta", "rewrite", "aware"}
SPAN = re.compile(r"\[\[([^\[\]|]+)\|([a-z_]+)(?:\|(own|reported))?\]\]")


def check(path: str) -> int:
    errors = 0
    counts: collections.Counter[str] = collections.Counter()
    ids: set[str] = set()
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"{path}:{n}: invalid JSON: {exc}")
            errors += 1
            continue
        text = item.get("text", "")
        spans = SPAN.findall(text)
        leftover = SPAN.sub("", text)
        problems = []
        if "[[" in leftover or "]]" in leftover:
            problems.append("unbalanced or malformed [[...|category]] markup")
        for words, cat, voice in spans:
            if words != words.strip():
                problems.append(f"span {words!r} starts or ends with a space")
            counts["voice:" + (voice or "own")] += 1
            if cat not in CATEGORIES:
                problems.append(f"unknown category {cat!r}")
            counts["span:" + cat] += 1
        typ = item.get("type")
        if typ not in {"positive", "hard_negative", "negative"}:
            problems.append(f"type must be positive/hard_negative/negative, got {typ!r}")
        if typ == "positive" and not spans:
            problems.append("positive item without a [[span|category]]")
        if typ != "positive" and spans:
            problems.append("negative item with a span")
        if typ == "hard_negative" and item.get("neg_type") not in NEG_TYPES:
            problems.append(f"hard_negative needs neg_type in {sorted(NEG_TYPES)}")
        if item.get("kind") not in {"sentence", "note"}:
            problems.append("kind must be sentence or note")
        if item.get("id") in ids:
            problems.append(f"duplicate id {item.get('id')}")
        ids.add(item.get("id"))
        if not item.get("scenario"):
            problems.append("missing scenario")
        for p in problems:
            print(f"{path}:{n}: {p}")
        errors += len(problems)
        counts[f"{item.get('kind')}:{typ}"] += 1
        if typ == "hard_negative":
            counts["neg_type:" + str(item.get("neg_type"))] += 1
    for key in sorted(counts):
        print(f"  {key:40s} {counts[key]}")
    print(f"{path}: {errors} error(s)")
    return errors


if __name__ == "__main__":
    sys.exit(1 if sum(check(p) for p in sys.argv[1:]) else 0)
