"""The risk-grading check on the real-text passages that carry ``risk_grading``
(../shared/realtext/dev.jsonl; never copied): per item id, what the check read and reported.
Prints ids and figures only.

    python scripts/risk_real_dev.py [../shared/realtext/dev.jsonl]
"""

from __future__ import annotations

import sys
from collections import Counter

from blamelex.detector import load
from blamelex.evaluate import REAL_DEV, read_real
from blamelex.risk import RiskCheck


def main(path: str = REAL_DEV) -> int:
    items = [it for it in read_real(path) if it.get("risk_grading")]
    detector = load(model=None)
    check = RiskCheck()
    found = Counter()
    for it, findings in zip(items, detector.scan_many([it["text"] for it in items]), strict=True):
        rg = sorted({f.code for f in findings if f.category == "risk_grading"})
        reading = check.read(it["text"])
        read = "no grade read" if reading is None else (
            f"grade rank {reading.grade.rank} ({reading.grade.kind}), "
            f"{len(reading.indicators)} indicator(s)")
        info = it["risk_grading"]
        print(f"{it['id']} kind={it['kind']} criticised={info.get('criticised')} "
              f"gold_indicators={len(info.get('indicators', []))} -> {read}; "
              f"RG: {','.join(rg) or '-'}")
        found["flagged" if rg else "not flagged"] += 1
    print(f"{len(items)} passages with risk_grading: {dict(found)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
