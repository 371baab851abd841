"""Rebuild src/blamelex/data/inflections.json: every lemminflect lookup the bundled data needs.

    python scripts/build_inflections.py

Run it after changing the bundled lexicon, context rules or suggestion templates;
tests/test_inflect.py fails while the file differs from a fresh build.
"""

from __future__ import annotations

import json
from pathlib import Path

from blamelex.inflect import bundled_table

OUT = Path(__file__).resolve().parents[1] / "src" / "blamelex" / "data" / "inflections.json"

if __name__ == "__main__":
    table = bundled_table()
    OUT.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: " + ", ".join(f"{len(v)} {k}" for k, v in table.items()))
