"""Shared fixtures: one detector per session (loading is the slow part)."""

from __future__ import annotations

import pytest

import blamelex


@pytest.fixture(scope="session")
def detector() -> blamelex.Detector:
    return blamelex.load()


@pytest.fixture(scope="session")
def audit_detector() -> blamelex.Detector:
    """Keeps suppressed candidates, to check which rule removed them."""
    return blamelex.load(keep_suppressed=True)
