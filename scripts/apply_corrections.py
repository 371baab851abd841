"""Apply annotation corrections to the raw batches (re-annotation under data/ANNOTATION.md v2, and
adjudication).

    python scripts/apply_corrections.py data/adjudication/reannotation/b01.jsonl [...]

Each line of a corrections file is ``{"id": ..., "text": <the item with its corrected markup>,
"reason": <short reason, from the guide>}`` and, when the item's label changes, ``"type"``
(``positive`` / ``hard_negative`` / ``negative``) and ``"neg_type"``. Only markup may change: the
plain text must stay the same character for character (the script refuses otherwise). The batch
file is rewritten in place, line order kept; re-applying the same file changes nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from build_corpus import parse  # noqa: E402

FOLDERS = (ROOT / "data" / "batches", ROOT / "data" / "challenge")


def batch_file(item_id: str) -> Path:
    stem = item_id.split("-")[0]
    for folder in FOLDERS:
        path = folder / f"{stem}.jsonl"
        if path.exists():
            return path
    raise SystemExit(f"{item_id}: no batch file for {stem}")


def apply(corrections: Path) -> int:
    rows = [json.loads(line) for line in corrections.open(encoding="utf-8") if line.strip()]
    by_file: dict[Path, dict[str, dict]] = {}
    for row in rows:
        by_file.setdefault(batch_file(row["id"]), {})[row["id"]] = row
    changed = 0
    for path, fixes in by_file.items():
        items = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
        seen = set()
        for item in items:
            fix = fixes.get(item["id"])
            if fix is None:
                continue
            seen.add(item["id"])
            old_plain, _ = parse(item["text"])
            new_plain, spans = parse(fix["text"])
            if old_plain != new_plain:
                raise SystemExit(f"{corrections}: {item['id']}: the plain text changed; only "
                                 "markup may change")
            if "[[" in new_plain or "]]" in new_plain:
                raise SystemExit(f"{corrections}: {item['id']}: malformed markup")
            item["text"] = fix["text"]
            if spans:
                item["type"], item["neg_type"] = "positive", None
                item["pair_of"] = None if item.get("pair_of") and fix.get("type") == "positive" \
                    else item.get("pair_of")
            elif item["type"] == "positive":
                item["type"] = fix.get("type", "negative")
                item["neg_type"] = fix.get("neg_type")
            elif "type" in fix:
                item["type"], item["neg_type"] = fix["type"], fix.get("neg_type")
            changed += 1
        missing = set(fixes) - seen
        if missing:
            raise SystemExit(f"{corrections}: ids not in {path.name}: {sorted(missing)[:5]}")
        with path.open("w", encoding="utf-8") as fh:
            for item in items:
                fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    return changed


if __name__ == "__main__":
    total = sum(apply(Path(p)) for p in sys.argv[1:])
    print(f"{total} item(s) corrected")
