"""Double annotation of the corpus (data/ANNOTATION.md, "Double annotation and adjudication").

    python scripts/agreement.py blind      # writes data/adjudication/blind/<batch>.jsonl
    python scripts/agreement.py compare    # agreement figures + data/adjudication/disagreements.jsonl

The second-annotation sample is every item whose id hashes into one fifth of the hash space
(sha1(id) mod 5 == 0): reproducible, about 20 % of every batch, chosen before anyone labels.
`blind` writes those items' plain text (markup stripped) for the second annotator, who writes
`data/adjudication/second/<batch>.jsonl` lines ``{"id": ..., "text": <the same text with
[[words|category]] / [[words|category|reported]] markup>}`` without seeing the first labels.
`compare` reads both and prints Cohen's kappa on the sentence label, span-overlap and
exact-boundary F1 between annotators, category and voice agreement on overlapping spans, and
writes every disagreement for adjudication.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from build_corpus import parse  # noqa: E402

ADJ = ROOT / "data" / "adjudication"
FOLDERS = (ROOT / "data" / "batches", ROOT / "data" / "challenge")


def sampled(item_id: str) -> bool:
    """True if ``item_id`` is in the double-annotation sample."""
    return int(hashlib.sha1(item_id.encode()).hexdigest(), 16) % 5 == 0


def raw_items() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for folder in FOLDERS:
        for path in sorted(folder.glob("*.jsonl")):
            out[path.stem] = [json.loads(line) for line in path.open(encoding="utf-8")
                              if line.strip()]
    return out


def blind() -> None:
    folder = ADJ / "blind"
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for batch, items in raw_items().items():
        rows = [{"id": i["id"], "kind": i["kind"], "text": parse(i["text"])[0]}
                for i in items if sampled(i["id"])]
        total += len(rows)
        with (folder / f"{batch}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{total} items written to {folder}")


def kappa(a: list[int], b: list[int]) -> float:
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return (po - pe) / (1 - pe) if pe < 1 else 1.0


def f1(tp_p: int, n_p: int, tp_r: int, n_r: int) -> float:
    p = tp_p / n_p if n_p else 1.0
    r = tp_r / n_r if n_r else 1.0
    return 2 * p * r / (p + r) if p + r else 0.0


def overlaps(s: dict[str, Any], t: dict[str, Any]) -> bool:
    return s["start"] < t["end"] and t["start"] < s["end"]


def compare() -> dict[str, Any]:
    first = {i["id"]: i for items in raw_items().values() for i in items}
    second: dict[str, dict[str, Any]] = {}
    for path in sorted((ADJ / "second").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            if line.strip():
                row = json.loads(line)
                second[row["id"]] = row
    ids = [i for i in second if i in first]
    la, lb = [], []
    ov_a = ov_b = ex = n_a = n_b = 0
    cat_same = cat_n = voice_same = 0
    confusion: Counter[tuple[str, str]] = Counter()
    disagreements = []
    for item_id in ids:
        ta, sa = parse(first[item_id]["text"])
        tb, sb = parse(second[item_id]["text"])
        if ta != tb:
            raise SystemExit(f"{item_id}: the second annotator changed the text")
        la.append(int(bool(sa)))
        lb.append(int(bool(sb)))
        n_a += len(sa)
        n_b += len(sb)
        ov_a += sum(any(overlaps(s, t) for t in sb) for s in sa)
        ov_b += sum(any(overlaps(t, s) for s in sa) for t in sb)
        ex += sum(any(s["start"] == t["start"] and s["end"] == t["end"] for t in sb) for s in sa)
        differs = len(sa) != len(sb)
        for s in sa:
            match = next((t for t in sb if overlaps(s, t)), None)
            if match is None:
                differs = True
                continue
            cat_n += 1
            cat_same += s["category"] == match["category"]
            voice_same += s["voice"] == match["voice"]
            confusion[(s["category"], match["category"])] += 1
            if (s["start"], s["end"], s["category"], s["voice"]) != (
                    match["start"], match["end"], match["category"], match["voice"]):
                differs = True
        if differs:
            disagreements.append({"id": item_id, "first": first[item_id]["text"],
                                  "second": second[item_id]["text"]})
    figures = {
        "items": len(ids),
        "sentence_kappa": round(kappa(la, lb), 3) if ids else None,
        "sentence_agreement": round(sum(x == y for x, y in zip(la, lb, strict=True))
                                    / len(ids), 3) if ids else None,
        "spans_first": n_a, "spans_second": n_b,
        "span_overlap_f1": round(f1(ov_b, n_b, ov_a, n_a), 3),
        "span_exact_f1": round(f1(ex, n_b, ex, n_a), 3),
        "category_agreement": round(cat_same / cat_n, 3) if cat_n else None,
        "voice_agreement": round(voice_same / cat_n, 3) if cat_n else None,
        "items_with_a_disagreement": len(disagreements),
        "category_confusions": {f"{a} / {b}": n for (a, b), n in confusion.most_common()
                                if a != b},
    }
    ADJ.mkdir(parents=True, exist_ok=True)
    with (ADJ / "disagreements.jsonl").open("w", encoding="utf-8") as fh:
        for row in disagreements:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (ADJ / "agreement.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    {"blind": blind, "compare": compare}[sys.argv[1] if len(sys.argv) > 1 else "compare"]()
