"""The on-disk cache of the lexicon and the matcher's tables (blamelex.cache): a hit reads JSON
instead of building, a change of content misses, a damaged or unwritable cache only means
building again, BLAMELEX_NO_CACHE=1 turns it off, and findings are the same either way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import spacy

import blamelex
from blamelex import cache, matching
from blamelex import lexicon as lexicon_module
from blamelex.lexicon import LexiconError, load_lexicon
from blamelex.matching import LexiconMatcher, Tokenize


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("BLAMELEX_CACHE_DIR", str(folder))
    monkeypatch.delenv("BLAMELEX_NO_CACHE", raising=False)
    return folder


def _files(folder: Path) -> dict[str, Path]:
    return {p.name.split("-")[0]: p for p in folder.glob("*.json")} if folder.exists() else {}


def _fail(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("built although the cache holds it")


NLP = spacy.blank("en")


def _matcher(lexicon: Any, tokenize: Any = None) -> LexiconMatcher:
    return LexiconMatcher(NLP.vocab, lexicon, tokenize)


def test_where_the_cache_lives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BLAMELEX_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "blamelex"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "blamelex"
    monkeypatch.setenv("BLAMELEX_CACHE_DIR", str(tmp_path / "own"))
    assert cache.cache_dir() == tmp_path / "own"


def test_a_second_load_reads_the_cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_lexicon()
    _matcher(first)
    files = _files(cache_dir)
    assert {"lexicon", "patterns", "matcher"} <= set(files)
    for path in files.values():  # plain JSON, nothing else
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
    monkeypatch.setattr(lexicon_module, "_load", _fail)
    monkeypatch.setattr(matching, "_tables", _fail)
    again = load_lexicon()
    assert again == first  # every entry, field by field (file and line too)
    assert again.sets == first.sets and again.files == first.files
    assert len(_matcher(again)._index) == len(_matcher(first)._index)


def test_a_changed_file_misses(cache_dir: Path, tmp_path: Path, extra_lexicon: Path) -> None:
    ours = extra_lexicon.read_text(encoding="utf-8")  # conftest's organisation lexicon
    extra = tmp_path / "ours.yaml"
    extra.write_text(ours, encoding="utf-8")
    before = load_lexicon(extra=[extra])
    assert before.get("ORG101") is not None
    extra.write_text(ours.replace("frequent runner|runners", "frequent runner|runners|bolter")
                     .replace("term: frequent runner", "term: frequent bolter"),
                     encoding="utf-8")
    after = load_lexicon(extra=[extra])
    entry = after.get("ORG101")
    assert entry is not None and entry.term == "frequent bolter"
    assert entry.patterns == ("frequent runner|runners|bolter",)
    assert len(list(cache_dir.glob("lexicon-*.json"))) == 2
    doc = NLP("A frequent bolter again.")
    found = [c.entry.code for c in _matcher(after)(doc)]
    assert found == ["ORG101"]


def test_a_damaged_cache_is_built_again(cache_dir: Path) -> None:
    expected = load_lexicon()
    _matcher(expected)
    for path in cache_dir.glob("*.json"):
        path.write_text("{not json", encoding="utf-8")
    assert load_lexicon() == expected
    _matcher(load_lexicon())
    for path in cache_dir.glob("*.json"):  # written again, whole
        json.loads(path.read_text(encoding="utf-8"))
    # valid JSON of the wrong shape, and an entry for another key, are misses too
    for path in cache_dir.glob("*.json"):
        path.write_text(json.dumps({"format": cache.FORMAT, "kind": "x", "key": "y",
                                    "data": [1, 2]}), encoding="utf-8")
    assert load_lexicon() == expected
    _matcher(load_lexicon())
    for path in cache_dir.glob("matcher-*.json"):
        wrapper = json.loads(path.read_text(encoding="utf-8"))
        wrapper["data"]["arounds"] = "not a list"
        path.write_text(json.dumps(wrapper), encoding="utf-8")
    lexicon = load_lexicon()
    doc = NLP("She was putting herself at risk.")
    assert [c.entry.code for c in _matcher(lexicon)(doc)] == ["VB101"]


def test_an_unwritable_cache_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("BLAMELEX_CACHE_DIR", str(blocker / "cache"))  # cannot be made
    assert cache.store("lexicon", "0" * 64, {"a": 1}) is False
    assert cache.load("lexicon", "0" * 64) is None
    assert cache.store_file("onnx", "0" * 64, ".onnx", lambda p: p.write_bytes(b"x")) is None
    lexicon = load_lexicon()
    assert len(lexicon) > 150
    _matcher(lexicon)
    assert cache.store("x", "0" * 64, {"not": {"json"}}) is False  # a set is not JSON


def test_the_cache_can_be_turned_off(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_lexicon()
    assert _files(cache_dir)
    written = {p: p.stat().st_mtime_ns for p in cache_dir.iterdir()}
    monkeypatch.setenv("BLAMELEX_NO_CACHE", "1")
    assert not cache.enabled()
    digest = json.loads(next(cache_dir.glob("lexicon-*.json")).read_text("utf-8"))["key"]
    assert cache.load("lexicon", digest) is None  # there, but not read
    load_lexicon()
    _matcher(load_lexicon())
    assert {p: p.stat().st_mtime_ns for p in cache_dir.iterdir()} == written  # nothing written
    monkeypatch.setenv("BLAMELEX_NO_CACHE", "0")
    assert cache.enabled()


def test_findings_are_the_same_with_and_without_the_cache(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [x for e in load_lexicon() for x in (*e.examples_flag, *e.examples_ok)]
    texts += [p.read_text(encoding="utf-8") for p in sorted(
        (Path(__file__).resolve().parents[1] / "examples" / "notes").glob("*.txt"))]

    def findings() -> list[list[dict[str, Any]]]:
        detector = blamelex.load(model=None, keep_suppressed=True)
        return [[f.to_dict() for f in fs] for fs in detector.scan_many(texts)]

    built = findings()  # a cold cache: built, then stored
    assert {"lexicon", "matcher"} <= set(_files(cache_dir))
    monkeypatch.setattr(lexicon_module, "_load", _fail)
    monkeypatch.setattr(matching, "_tables", _fail)
    cached = findings()
    monkeypatch.undo()
    monkeypatch.setenv("BLAMELEX_NO_CACHE", "1")
    uncached = findings()
    assert built == cached == uncached
    assert sum(map(len, built)) > 600


def test_a_literal_the_tokenizer_splits_is_an_error_with_or_without_the_cache(
    cache_dir: Path, tmp_path: Path, extra_lexicon: Path
) -> None:
    ours = extra_lexicon.read_text(encoding="utf-8")  # conftest's organisation lexicon
    extra = tmp_path / "ours.yaml"
    extra.write_text(ours.replace("frequent runner|runners", "frequent didn't"),
                     encoding="utf-8")
    nlp = spacy.blank("en")
    tokenize = Tokenize(nlp.tokenizer)
    for _ in range(2):  # the second time, the lexicon and the tables come from the cache
        lexicon = load_lexicon(extra=[extra])
        with pytest.raises(LexiconError, match="split by the tokenizer"):
            LexiconMatcher(nlp.vocab, lexicon, tokenize)
        with pytest.raises(LexiconError, match="split by the tokenizer"):
            LexiconMatcher(nlp.vocab, lexicon, lambda s: [t.text for t in nlp.tokenizer(s)])
    assert not list(cache_dir.glob("tokens-*.json"))  # a failed check is not recorded


def test_a_tokenizer_check_that_passed_is_remembered(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nlp = spacy.blank("en")
    tokenize = Tokenize(nlp.tokenizer)
    assert tokenize("YP didn't") == ["YP", "did", "n't"]
    assert tokenize.cache_key == Tokenize(spacy.blank("en").tokenizer).cache_key
    lexicon = load_lexicon()
    LexiconMatcher(nlp.vocab, lexicon, tokenize)
    assert len(list(cache_dir.glob("tokens-*.json"))) == 1
    monkeypatch.setattr(matching, "_one_token_each", _fail)
    LexiconMatcher(nlp.vocab, lexicon, tokenize)  # not asked again
    other = spacy.blank("en")
    other.tokenizer.add_special_case("lifestyle", [{"ORTH": "life"}, {"ORTH": "style"}])
    assert Tokenize(other.tokenizer).cache_key != tokenize.cache_key
    monkeypatch.undo()
    with pytest.raises(LexiconError, match="'lifestyle' is split by the tokenizer"):
        LexiconMatcher(other.vocab, lexicon, Tokenize(other.tokenizer))


def test_clear_removes_only_cache_files(cache_dir: Path) -> None:
    load_lexicon()
    (cache_dir / "notes.json").write_text("{}", encoding="utf-8")
    assert cache.clear() >= 2
    assert [p.name for p in cache_dir.iterdir()] == ["notes.json"]


@pytest.mark.slow
def test_the_cached_optimised_model_gives_the_same_output(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from blamelex.model import default_model_dir
    from blamelex.model.runtime import SpanModel

    texts = [x for e in list(load_lexicon())[:60] for x in e.examples_flag]
    first = SpanModel(default_model_dir(), threads=1)  # makes the cached graph
    assert len(list(cache_dir.glob("onnx-*.onnx"))) == 1
    cached = SpanModel(default_model_dir(), threads=1)  # starts from it
    monkeypatch.setenv("BLAMELEX_NO_CACHE", "1")
    plain = SpanModel(default_model_dir(), threads=1)
    for a, b, c in zip(first.predict(texts), cached.predict(texts), plain.predict(texts),
                       strict=True):
        assert np.array_equal(a.probs, c.probs) and np.array_equal(b.probs, c.probs)
    monkeypatch.delenv("BLAMELEX_NO_CACHE")
    next(cache_dir.glob("onnx-*.onnx")).write_bytes(b"not a model")  # damaged: falls back
    assert np.array_equal(SpanModel(default_model_dir(), threads=1).predict(texts[:3])[0].probs,
                          plain.predict(texts[:3])[0].probs)
