"""Build the annotated corpus from the raw authoring batches.

    python scripts/build_corpus.py     # writes data/corpus/*.jsonl and data/corpus/stats.json

Steps: parse the ``[[span|category]]`` / ``[[span|category|reported]]`` markup
(data/ANNOTATION.md) into character offsets with each span's voice; add the lexicon code of any
lexicon candidate that overlaps a span; assign each batch to train/dev/test (data/splits.yaml);
drop dev/test items that have a near duplicate in train (character 5-gram Jaccard >= 0.6);
write one JSONL file per split plus the challenge set, and the corpus statistics.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from blamelex.corpus import (  # noqa: E402
    near_duplicate_pairs,
    paraphrase_share,
    template_families,
    trigram_diversity,
)

SPAN = re.compile(r"\[\[([^\[\]|]+)\|([a-z_]+)(?:\|(own|reported))?\]\]")
THRESHOLD = 0.6


def parse(marked: str) -> tuple[str, list[dict[str, Any]]]:
    """Strip the markup; return the plain text and spans with character offsets."""
    out: list[str] = []
    spans: list[dict[str, Any]] = []
    pos = 0
    length = 0
    for m in SPAN.finditer(marked):
        before = marked[pos : m.start()]
        out.append(before)
        length += len(before)
        words, category, voice = m.group(1), m.group(2), m.group(3) or "own"
        spans.append({"start": length, "end": length + len(words), "category": category,
                      "voice": voice, "text": words})
        out.append(words)
        length += len(words)
        pos = m.end()
    out.append(marked[pos:])
    text = "".join(out)
    for s in spans:
        assert text[s["start"] : s["end"]] == s["text"]
    return text, spans


def add_codes(items: list[dict[str, Any]]) -> None:
    """Attach the code of a lexicon candidate overlapping each span (None when none does)."""
    import spacy

    from blamelex.lexicon import load_lexicon
    from blamelex.pipeline import Pipeline

    nlp = spacy.blank("en")
    # the pipeline's candidate stage alone: which entry matches, whatever the context says
    pipeline = Pipeline.build(nlp.vocab, load_lexicon())
    docs = list(nlp.pipe(i["text"] for i in items))
    for item, cands in zip(items, pipeline.prepare(docs).candidates, strict=True):
        for span in item["spans"]:
            span["code"] = None
            for c in cands:
                if c.span.start_char < span["end"] and span["start"] < c.span.end_char:
                    span["code"] = c.entry.code
                    break


def load_batches(folder: Path) -> list[dict[str, Any]]:
    items = []
    for path in sorted(folder.glob("*.jsonl")):
        batch = path.stem
        for line in path.open(encoding="utf-8"):
            if not line.strip():
                continue
            raw = json.loads(line)
            text, spans = parse(raw["text"])
            items.append({
                "id": raw["id"], "text": text, "spans": spans,
                "label": int(bool(spans)), "kind": raw["kind"], "scenario": raw["scenario"],
                "type": raw["type"], "neg_type": raw.get("neg_type"),
                "pair_of": raw.get("pair_of"), "batch": batch,
                "capability": raw.get("capability"), "pair_id": raw.get("pair_id"),
            })
    return items


def main() -> None:
    splits_cfg = yaml.safe_load((ROOT / "data" / "splits.yaml").read_text(encoding="utf-8"))
    batch_split = {b: s for s, batches in splits_cfg["splits"].items() for b in batches}
    items = load_batches(ROOT / "data" / "batches")
    unknown = sorted({i["batch"] for i in items} - set(batch_split))
    if unknown:
        sys.exit(f"batches without a split in data/splits.yaml: {unknown}")
    for item in items:
        item["split"] = batch_split[item["batch"]]
    add_codes(items)

    train = [i for i in items if i["split"] == "train"]
    held = [i for i in items if i["split"] != "train"]
    pairs = near_duplicate_pairs([i["text"] for i in held], [i["text"] for i in train], THRESHOLD)
    drop = {held[a]["id"] for a, _ in pairs}
    kept = [i for i in items if i["id"] not in drop]

    out_dir = ROOT / "data" / "corpus"
    out_dir.mkdir(exist_ok=True)
    for split in ("train", "dev", "test"):
        with (out_dir / f"{split}.jsonl").open("w", encoding="utf-8") as fh:
            for item in kept:
                if item["split"] == split:
                    fh.write(json.dumps(item, ensure_ascii=False) + "\n")

    challenge = load_batches(ROOT / "data" / "challenge")
    for item in challenge:
        item["split"] = "challenge"
    add_codes(challenge)
    with (out_dir / "challenge.jsonl").open("w", encoding="utf-8") as fh:
        for item in challenge:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")

    stats = corpus_stats(kept, challenge, dropped=len(drop))
    import blamelex

    stats["paraphrase_share"] = round(paraphrase_share(kept, blamelex.load(model=None)), 4)
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(stats, indent=2))


def corpus_stats(items: list[dict[str, Any]], challenge: list[dict[str, Any]],
                 dropped: int) -> dict[str, Any]:
    sent = [i for i in items if i["kind"] == "sentence"]
    notes = [i for i in items if i["kind"] == "note"]
    pos = [i for i in items if i["label"]]
    cat = Counter(s["category"] for i in items for s in i["spans"])
    pos_by_cat = Counter(c for i in pos for c in {s["category"] for s in i["spans"]})
    families = template_families([i["text"] for i in items])
    return {
        "items": len(items),
        "sentences": len(sent),
        "notes": len(notes),
        "positives": len(pos),
        "negatives": len(items) - len(pos),
        "hard_negatives": sum(i["type"] == "hard_negative" for i in items),
        "hard_negatives_by_type": dict(Counter(i["neg_type"] for i in items
                                               if i["type"] == "hard_negative")),
        "spans_by_category": dict(sorted(cat.items())),
        "spans_by_voice": dict(sorted(Counter(s.get("voice", "own") for i in items
                                              for s in i["spans"]).items())),
        "v2_batches_items": sum(1 for i in items if int(i["batch"][1:]) >= 26),
        "v2_batches_positive_share": round(
            sum(1 for i in items if int(i["batch"][1:]) >= 26 and i["label"])
            / max(1, sum(1 for i in items if int(i["batch"][1:]) >= 26)), 3),
        "positive_items_by_category": dict(sorted(pos_by_cat.items())),
        "by_split": {s: Counter(i["split"] for i in items)[s] for s in ("train", "dev", "test")},
        "positives_by_split": {s: sum(1 for i in pos if i["split"] == s)
                               for s in ("train", "dev", "test")},
        "by_scenario": dict(Counter(i["scenario"] for i in items).most_common()),
        "batches": len({i["batch"] for i in items}),
        "spans_without_lexicon_code": sum(1 for i in items for s in i["spans"] if not s["code"]),
        "spans": sum(len(i["spans"]) for i in items),
        "near_duplicates_dropped_from_dev_test": dropped,
        "distinct_word_trigram_ratio": round(trigram_diversity([i["text"] for i in items]), 4),
        "largest_template_family_share": round(max(families) / len(items), 4) if items else 0,
        "challenge_pairs": len({c["pair_id"] for c in challenge}),
        "challenge_items": len(challenge),
        "challenge_by_capability": dict(Counter(c["capability"] for c in challenge)),
    }


if __name__ == "__main__":
    main()
