"""Double annotation of the corpus (data/ANNOTATION.md, "Double annotation and adjudication").

    python scripts/agreement.py blind [BATCH ...]   # data/adjudication/blind/<batch>.jsonl
    python scripts/agreement.py compare [--at REV]  # agreement figures + disagreements.jsonl

The second-annotation sample is every item whose id hashes into one fifth of the hash space
(sha1(id) mod 5 == 0) in the 25 v1 batches and the challenge set, and into two fifths
(mod 5 in {0, 1}) in the v2 batches (b26 onwards), so that at least 20 % of the whole corpus
is labelled twice: reproducible, chosen before anyone labels. ``compare --at REV`` reads the
first annotator's labels as they stood at git revision REV (the figures before adjudication
are measured at the commit before the adjudication commit; the working tree holds the
adjudicated labels).
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


V2_FIRST = 26
"""The first batch of corpus v2 (b26)."""


def sampled(item_id: str) -> bool:
    """True if ``item_id`` is in the double-annotation sample."""
    bucket = int(hashlib.sha1(item_id.encode()).hexdigest(), 16) % 5
    batch = item_id.split("-")[0]
    v2 = batch.startswith("b") and batch[1:].isdigit() and int(batch[1:]) >= V2_FIRST
    return bucket in ((0, 1) if v2 else (0,))


def raw_items(at: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every raw batch's items, from the working tree or as they stood at git revision ``at``."""
    import subprocess

    out: dict[str, list[dict[str, Any]]] = {}
    for folder in FOLDERS:
        for path in sorted(folder.glob("*.jsonl")):
            if at is None:
                text = path.read_text(encoding="utf-8")
            else:
                rel = path.relative_to(ROOT).as_posix()
                shown = subprocess.run(["git", "show", f"{at}:{rel}"], cwd=ROOT,
                                       capture_output=True, text=True, check=False)
                if shown.returncode != 0:
                    continue  # the batch did not exist yet
                text = shown.stdout
            out[path.stem] = [json.loads(line) for line in text.splitlines() if line.strip()]
    return out


def blind(batches: list[str]) -> None:
    folder = ADJ / "blind"
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for batch, items in raw_items().items():
        if batches and batch not in batches:
            continue
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


def compare(at: str | None = None, out: str | None = "",
            batches: list[str] | None = None) -> dict[str, Any]:
    first = {i["id"]: i for items in raw_items(at).values() for i in items
             if not batches or i["id"].split("-")[0] in batches}
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
    total = sum(len(v) for v in raw_items().values())
    figures = {
        "first_labels_at": at or "working tree",
        "items": len(ids),
        "corpus_items": total,
        "share_double_annotated": round(len(ids) / total, 3) if total else None,
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
    if out is not None:
        ADJ.mkdir(parents=True, exist_ok=True)
        with (ADJ / f"disagreements{out}.jsonl").open("w", encoding="utf-8") as fh:
            for row in disagreements:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        (ADJ / f"agreement{out}.json").write_text(json.dumps(figures, indent=2) + "\n",
                                                   encoding="utf-8")
    print(json.dumps(figures, indent=2))
    return figures


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("blind", help="write the sample's plain texts for the second annotator")
    b.add_argument("batches", nargs="*", help="only these batches (default: all)")
    c = sub.add_parser("compare", help="agreement figures and the disagreements")
    c.add_argument("--at", help="read the first annotator's labels at this git revision")
    c.add_argument("--batches", nargs="*", help="only these batches' items")
    c.add_argument("--out", default="", help="suffix of the files written "
                   "(agreement<SUFFIX>.json, disagreements<SUFFIX>.jsonl)")
    args = ap.parse_args()
    if args.command == "blind":
        blind(args.batches)
    else:
        compare(args.at, args.out, args.batches)


if __name__ == "__main__":
    main()
