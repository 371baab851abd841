"""The annotated corpus: size, balance, honest splits, valid offsets, challenge pairs, loading."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from blamelex import corpus
from blamelex.lexicon import CATEGORIES

ROOT = Path(__file__).resolve().parents[1]
SPLITS = {s: corpus.read_split(s) for s in ("train", "dev", "test")}
CHALLENGE = corpus.read_split("challenge")
ALL = [i for items in SPLITS.values() for i in items]


def test_size_and_balance() -> None:
    sentences = [i for i in ALL if i["kind"] == "sentence"]
    notes = [i for i in ALL if i["kind"] == "note"]
    positives = [i for i in ALL if i["label"]]
    assert len(sentences) >= 6000 and len(notes) >= 300
    assert len(positives) >= 2500
    per_cat = Counter(c for i in positives for c in {s["category"] for s in i["spans"]})
    assert set(per_cat) == set(CATEGORIES)
    assert min(per_cat.values()) >= 200, per_cat
    negatives = [i for i in ALL if not i["label"]]
    hard = [i for i in negatives if i["type"] == "hard_negative"]
    assert len(negatives) >= 3000 and len(hard) >= 1500
    assert {i["neg_type"] for i in hard} == {"benign_sense", "adult_referent", "negated",
                                              "quoted", "meta", "rewrite", "aware"}


def test_notes_have_three_or_more_sentences_and_v2_notes_run_long() -> None:
    import re

    lengths = []
    for item in ALL:
        if item["kind"] == "note":
            n = len([s for s in re.split(r"(?<=[.!?])\s+|\n+", item["text"]) if s.strip()])
            assert 3 <= n <= 60, (item["id"], n)
            lengths.append(n)
    # corpus v2 (data/README.md): whole entries of up to 25 lines, not only 3-12 sentences
    assert sum(n > 12 for n in lengths) >= 25


def _outside_spans(item: dict) -> str:  # type: ignore[type-arg]
    text = item["text"]
    for s in sorted(item["spans"], key=lambda s: -s["start"]):
        text = text[:s["start"]] + " " + text[s["end"]:]
    return text


def test_shortcut_probe_words_outside_spans_do_not_predict_the_label() -> None:
    # issue 14: a bag-of-words logistic regression trained on train, seeing only the words
    # OUTSIDE every gold span (quotation marks count as words), must not tell positives from
    # negatives on test: AUC <= 0.65 (the v1 corpus: 0.80-0.85)
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    train, test = SPLITS["train"], SPLITS["test"]
    vec = CountVectorizer(token_pattern=r"(?u)\b\w+\b|[\"'“”‘’]", binary=True, min_df=2)
    x = vec.fit_transform([_outside_spans(i) for i in train])
    clf = LogisticRegression(max_iter=2000).fit(x, [i["label"] for i in train])
    p = clf.predict_proba(vec.transform([_outside_spans(i) for i in test]))[:, 1]
    auc = roc_auc_score([i["label"] for i in test], p)
    assert auc <= 0.65, auc
    # the probe can fail: with the spans' own words left in, it separates the classes
    x_in = vec.fit_transform([i["text"] for i in train])
    clf_in = LogisticRegression(max_iter=2000).fit(x_in, [i["label"] for i in train])
    p_in = clf_in.predict_proba(vec.transform([i["text"] for i in test]))[:, 1]
    assert roc_auc_score([i["label"] for i in test], p_in) > auc + 0.1


def test_every_span_has_a_voice_and_both_voices_occur() -> None:
    voices = Counter(s["voice"] for i in ALL + CHALLENGE for s in i["spans"])
    assert set(voices) == {"own", "reported"}, voices
    assert voices["reported"] >= 300


def test_spans_are_exact_and_disjoint() -> None:
    for item in ALL + CHALLENGE:
        last = -1
        for s in sorted(item["spans"], key=lambda s: s["start"]):
            assert item["text"][s["start"]:s["end"]] == s["text"], item["id"]
            assert s["start"] >= last and s["category"] in CATEGORIES
            last = s["end"]
        assert item["label"] == int(bool(item["spans"]))


def test_splits_are_by_batch() -> None:
    cfg = yaml.safe_load((ROOT / "data" / "splits.yaml").read_text())["splits"]
    listed = [b for bs in cfg.values() for b in bs]
    assert len(listed) == len(set(listed)), "a batch is in two splits"
    batch_split: dict[str, set[str]] = defaultdict(set)
    for split, items in SPLITS.items():
        for i in items:
            batch_split[i["batch"]].add(split)
            assert i["split"] == split
    assert all(len(s) == 1 for s in batch_split.values())
    assert {s for ss in batch_split.values() for s in ss} == {"train", "dev", "test"}


def test_no_near_duplicates_cross_splits() -> None:
    held = [i["text"] for i in SPLITS["dev"] + SPLITS["test"]]
    train = [i["text"] for i in SPLITS["train"]]
    pairs = corpus.near_duplicate_pairs(held, train, threshold=0.6)
    assert pairs == [], [(held[a][:60], train[b][:60]) for a, b in pairs[:5]]
    chal = corpus.near_duplicate_pairs([c["text"] for c in CHALLENGE], train, threshold=0.6)
    assert chal == [], "challenge items must be kept apart from train"


def test_near_duplicate_check_can_fail() -> None:
    a = ["YP reported missing at 2300hrs by her mum, last seen on Elm Road with older males."]
    b = ["YP reported missing at 2310hrs by her mum, last seen on Elm Road with older males!"]
    assert corpus.near_duplicate_pairs(a, b, 0.6) == [(0, 0)]
    assert corpus.near_duplicate_pairs(a, ["Consent form signed."], 0.6) == []


def test_variety() -> None:
    texts = [i["text"] for i in ALL]
    assert corpus.trigram_diversity(texts) >= 0.6
    assert max(corpus.template_families(texts)) / len(texts) <= 0.01
    assert len({i["batch"] for i in ALL}) >= 20


def test_challenge_pairs() -> None:
    pairs: dict[str, list[dict]] = defaultdict(list)
    for c in CHALLENGE:
        pairs[c["pair_id"]].append(c)
    assert len(pairs) >= 400
    caps = Counter(v[0]["capability"] for v in pairs.values())
    assert set(caps) == {"negation", "referent", "quotation", "meta", "word_sense",
                         "inflection", "spelling", "abbreviations", "paraphrase"}
    for pid, items in pairs.items():
        assert sorted(i["label"] for i in items) == [0, 1], pid
        assert len({i["capability"] for i in items}) == 1


def test_built_corpus_matches_batches() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_corpus

    raw = {i["id"]: i for i in build_corpus.load_batches(ROOT / "data" / "batches")}
    for item in ALL:
        src = raw[item["id"]]
        assert src["text"] == item["text"]
        assert [(s["start"], s["end"], s["category"]) for s in src["spans"]] == [
            (s["start"], s["end"], s["category"]) for s in item["spans"]]


def test_load_returns_datasets_object() -> None:
    datasets = pytest.importorskip("datasets")
    ds = corpus.load("dev")
    assert isinstance(ds, datasets.Dataset)
    assert len(ds) == len(SPLITS["dev"])
    row = next(r for r in ds if r["spans"])
    span = row["spans"][0]
    assert row["text"][span["start"]:span["end"]] == span["text"]
    assert {s["voice"] for r in ds for s in r["spans"]} == {"own", "reported"}  # v2: every span


def test_raw_batches_pass_the_checker() -> None:
    files = sorted(str(p) for p in (ROOT / "data" / "batches").glob("*.jsonl"))
    files += sorted(str(p) for p in (ROOT / "data" / "challenge").glob("*.jsonl"))
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_batch.py"), *files],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:]


def test_paraphrase_share(detector) -> None:  # type: ignore[no-untyped-def]
    stats = json.loads((ROOT / "data" / "corpus" / "stats.json").read_text())
    share = corpus.paraphrase_share(ALL, detector)  # the lexicon-only detector
    assert share >= 0.25
    assert abs(stats["paraphrase_share"] - share) < 0.005, "rebuild: scripts/build_corpus.py"
