"""The categories of victim-blaming language, as data (``data/categories.yaml``), read and
validated once.

Each category has a name (``consent_relationship``), a label for headings, and a category-level
entry (code ``VB200``, term, severity, explanation, suggestions, sources) for the spans the model
finds without a lexicon match. Adding a category is a change to the data file only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from blamelex.findings import SEVERITIES, Source
from blamelex.yamldata import DataError, LineMap, YamlDataError, read_yaml

BUNDLED = "categories.yaml"
"""The bundled categories file, in ``blamelex/data``."""

_NAME = re.compile(r"^[a-z][a-z_]*$")
_CODE = re.compile(r"^[A-Z]{2,6}\d00$")
_FIELDS = ("label", "code", "term", "severity", "explanation", "suggestions", "sources")


class CategoryError(DataError):
    """The categories file is invalid. ``problems`` lists each one as ``file:line: message``."""

    what = "the categories"


@dataclass(frozen=True)
class Category:
    """One category: its name and label, and the entry that model-only findings in it get."""

    name: str
    label: str
    code: str
    term: str
    severity: str
    explanation: str
    suggestions: tuple[str, ...]
    sources: tuple[Source, ...]
    file: str = BUNDLED
    line: int = 0


def _text(raw: LineMap, key: str, bad: Any) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        bad(key, "required; a non-empty string")
        return ""
    return " ".join(value.split())


def _category(name: Any, raw: Any, line: int, where: str, problems: list[str]) -> Category | None:
    before = len(problems)

    def bad(key: str, message: str) -> None:
        at = raw.line_of(key) if isinstance(raw, LineMap) else line
        problems.append(f"{where}:{at}: category {name}: {key}: {message}")

    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(f"{where}:{line}: category name {name!r}: lower-case words joined by _")
        return None
    if not isinstance(raw, LineMap):
        problems.append(f"{where}:{line}: category {name}: must be a mapping of "
                        f"{', '.join(_FIELDS)}")
        return None
    for key in raw:
        if key not in _FIELDS:
            bad(key, f"unknown field (known: {', '.join(_FIELDS)})")
    for key in _FIELDS:
        if key not in raw:
            problems.append(f"{where}:{line}: category {name}: {key}: required")
    label, term, explanation = (_text(raw, k, bad) if k in raw else "" for k in
                                ("label", "term", "explanation"))
    code = raw.get("code")
    if "code" in raw and (not isinstance(code, str) or not _CODE.match(code)):
        bad("code", "letters then a number ending in 00, e.g. VB100")
    severity = raw.get("severity")
    if "severity" in raw and severity not in SEVERITIES:
        bad("severity", f"must be one of {', '.join(SEVERITIES)}")
    suggestions = raw.get("suggestions")
    if "suggestions" in raw and (not isinstance(suggestions, list) or not suggestions or not all(
            isinstance(s, str) and s.strip() for s in suggestions)):
        bad("suggestions", "at least one suggestion (a string)")
    sources: list[Source] = []
    raw_sources = raw.get("sources")
    if "sources" in raw:
        if not isinstance(raw_sources, list) or not raw_sources:
            bad("sources", "at least one {title, url}")
        else:
            for src in raw_sources:
                if isinstance(src, dict) and set(src) == {"title", "url"} \
                        and isinstance(src["title"], str) and src["title"].strip() \
                        and str(src["url"]).startswith(("http://", "https://")):
                    sources.append(Source(src["title"].strip(), str(src["url"]).strip()))
                else:
                    bad("sources", "each source has a 'title' and an http(s) 'url', nothing else")
    if len(problems) > before:
        return None
    return Category(
        name=name, label=label, code=str(code), term=term, severity=str(severity),
        explanation=explanation, suggestions=tuple(str(s).strip() for s in suggestions or ()),
        sources=tuple(sources), file=where, line=line,
    )


def load_categories(path: str | Path | None = None) -> dict[str, Category]:
    """Read and validate a categories file (default: the bundled one), in file order.

    Raises `CategoryError` naming every problem as ``file:line: ...``.
    """
    source: Any = Path(path) if path is not None else \
        resources.files("blamelex") / "data" / BUNDLED
    where = str(path) if path is not None else BUNDLED
    problems: list[str] = []
    try:
        data = read_yaml(source, where)
    except YamlDataError as exc:
        raise CategoryError([str(exc)]) from exc
    raw = data.get("categories") if isinstance(data, LineMap) else None
    if not isinstance(data, LineMap) or not isinstance(raw, LineMap) or not raw:
        raise CategoryError([f"{where}:1: the top level must be a mapping with a "
                             f"'categories' mapping"])
    for key in data:
        if key != "categories":
            problems.append(f"{where}:{data.line_of(key)}: unknown key {key!r} "
                            f"(known: categories)")
    out: dict[str, Category] = {}
    codes: dict[str, Category] = {}
    for name, value in raw.items():
        category = _category(name, value, raw.line_of(name), where, problems)
        if category is None:
            continue
        if category.code in codes:
            first = codes[category.code]
            problems.append(f"{where}:{category.line}: category {name}: code: "
                            f"{category.code} already used by {first.name} "
                            f"({where}:{first.line})")
        codes.setdefault(category.code, category)
        out[category.name] = category
    if problems:
        raise CategoryError(problems)
    return out


@cache
def categories() -> Mapping[str, Category]:
    """The bundled categories by name, in catalogue order (read and validated once)."""
    return MappingProxyType(load_categories())


def category_labels() -> dict[str, str]:
    """Each bundled category's label by name, in catalogue order."""
    return {name: c.label for name, c in categories().items()}


__all__ = ["Category", "CategoryError", "categories", "category_labels", "load_categories"]
