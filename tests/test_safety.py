"""Integrity: nothing loads pickles or unsafe YAML; shipped model files are of safe kinds."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNSAFE = re.compile(
    r"\bpickle\b|\bjoblib\b|\bcloudpickle\b|\bdill\b|torch\.load\(|allow_pickle\s*=\s*True|"
    r"yaml\.load\(|yaml\.unsafe_load|marshal\.loads|(?<![\w.])eval\(|(?<![\w.])exec\("
)
SAFE_MODEL_SUFFIXES = {".onnx", ".json", ".md", ".safetensors", ".txt"}


def test_no_pickle_or_unsafe_loading_in_the_package() -> None:
    hits = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]  # comments may name what we avoid
            if UNSAFE.search(code):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert hits == []


def test_the_scanner_would_catch_a_pickle_load() -> None:
    assert UNSAFE.search("data = pickle.load(fh)")
    assert UNSAFE.search("yaml.load(text)")
    assert not UNSAFE.search("yaml.safe_load(text)")
    assert not UNSAFE.search("model.eval()")


def test_models_folder_holds_only_safe_formats() -> None:
    files = [p for p in (ROOT / "models").rglob("*") if p.is_file()]
    assert files, "no model shipped"
    bad = [str(p) for p in files
           if p.suffix not in SAFE_MODEL_SUFFIXES and not p.name.startswith(".")]
    assert bad == []
    for p in files:
        if p.suffix == ".json":
            assert not p.read_bytes().startswith(b"\x80"), f"{p} looks like a pickle"
