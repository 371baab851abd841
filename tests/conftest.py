"""Shared fixtures: one detector per session (loading is the slow part)."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

import blamelex

_CACHE_DIR: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """The tests use a blamelex cache of their own (a temporary folder), never the user's."""
    global _CACHE_DIR
    if "BLAMELEX_CACHE_DIR" not in os.environ:
        _CACHE_DIR = tempfile.mkdtemp(prefix="blamelex-test-cache-")
        os.environ["BLAMELEX_CACHE_DIR"] = _CACHE_DIR


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CACHE_DIR is not None:
        os.environ.pop("BLAMELEX_CACHE_DIR", None)
        shutil.rmtree(_CACHE_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def detector() -> blamelex.Detector:
    return blamelex.load(model=None)


@pytest.fixture(scope="session")
def audit_detector() -> blamelex.Detector:
    """Keeps suppressed candidates, to check which rule removed them."""
    return blamelex.load(model=None, keep_suppressed=True)


EXTRA = """\
category: minimising_risk
entries:
  - code: ORG101
    term: frequent runner
    severity: caution
    patterns: ["frequent runner|runners"]
    explanation: Local shorthand that normalises repeat missing episodes.
    suggestions: ["child who has been missing [number] times; each episode needs a risk review"]
    sources:
      - title: HMICFRS, Metropolitan Police accelerated causes of concern (2023)
        url: https://hmicfrs.justiceinspectorates.gov.uk/publication-html/metropolitan-police-accelerated-causes-of-concern/
    examples:
      flag: ["Known frequent runner, will return."]
      ok: ["Runner beans in the garden."]
"""


@pytest.fixture()
def extra_lexicon(tmp_path_factory: pytest.TempPathFactory) -> object:
    path = tmp_path_factory.mktemp("lex") / "our-terms.yaml"
    path.write_text(EXTRA, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def detector_model() -> blamelex.Detector:
    """The combined detector with the bundled model."""
    return blamelex.load(model="default")
