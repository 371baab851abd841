"""`Finding.to_dict` matches `dataclasses.asdict` field for field and round-trips."""

from __future__ import annotations

import json
from dataclasses import asdict

import blamelex
from blamelex.findings import Finding


def test_to_dict_equals_asdict_and_round_trips(audit_detector: blamelex.Detector) -> None:
    texts = ["YP is putting herself at risk and is a regular misper.",
             'She said she was "streetwise". There is no evidence she chose to go missing.']
    seen = 0
    for text in texts:
        doc = audit_detector.nlp(text)
        for f in list(doc._.blamelex) + audit_detector.component.suppressed(doc):
            assert f.to_dict() == asdict(f)
            assert Finding.from_dict(json.loads(json.dumps(f.to_dict()))) == f
            seen += 1
    assert seen >= 4
