"""Load and validate the curated lexicon: YAML data files, one per category.

Errors name the file, the line, the entry and the field, and nothing is partially loaded: a
lexicon with any problem raises `LexiconError` listing every problem found.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from blamelex.findings import SEVERITIES, Source

from .patterns import PatternError, TokenPattern, compile_pattern

CATEGORIES: dict[str, str] = {
    "responsibility_choice": "Responsibility and choice",
    "consent_relationship": "Consent and relationship",
    "sexualising_label": "Sexualising labels",
    "criminalising": "Criminalising the child",
    "minimising_risk": "Minimising risk and normalising missing episodes",
    "credibility_engagement": "Credibility and engagement",
    "adultification": "Adultification",
    "abuse_euphemism": "Abuse euphemisms",
    "missing_status": "Outdated missing-person status",
}
"""The built-in categories, in catalogue order."""

APPLIES_TO = ("child", "any")
_CODE = re.compile(r"^[A-Z]{2,6}\d{3,4}$")
_ENTRY_FIELDS = {
    "code", "term", "severity", "applies_to", "patterns", "not_when", "explanation",
    "suggestions", "sources", "examples", "prior", "category",
}


class LexiconError(ValueError):
    """The lexicon data is invalid. ``problems`` lists each one as ``file:line: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the lexicon:\n"
        super().__init__(head + "\n".join(f"  {p}" for p in self.problems))


@dataclass(frozen=True)
class Entry:
    """One lexicon entry: a harmful form, why, what to write instead and where that comes from."""

    code: str
    term: str
    category: str
    severity: str
    patterns: tuple[str, ...]
    explanation: str
    suggestions: tuple[str, ...]
    sources: tuple[Source, ...]
    examples_flag: tuple[str, ...]
    examples_ok: tuple[str, ...]
    applies_to: str = "child"
    not_when: tuple[str, ...] = ()
    prior: float | None = None
    file: str = ""
    line: int = 0


@dataclass
class Lexicon:
    """A validated set of entries and the shared word sets their patterns use."""

    entries: list[Entry]
    sets: dict[str, list[str]]
    files: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_code = {e.code: e for e in self.entries}

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Any:
        return iter(self.entries)

    def get(self, code: str) -> Entry | None:
        """Return the entry with this code, or None."""
        return self._by_code.get(code.upper())

    def categories(self) -> list[str]:
        """Categories present, in catalogue order."""
        seen = {e.category for e in self.entries}
        ordered = [c for c in CATEGORIES if c in seen]
        return ordered + sorted(seen - set(ordered))

    def filtered(
        self,
        select: Iterable[str] = (),
        ignore: Iterable[str] = (),
        min_severity: str | None = None,
    ) -> Lexicon:
        """Return a lexicon limited to selected codes/categories, minus ignored ones.

        Codes match by prefix (``VB1`` selects VB100-VB199); categories match by name.
        """
        sel = [s.strip() for s in select if s.strip()]
        ign = [s.strip() for s in ignore if s.strip()]

        def hit(entry: Entry, keys: list[str]) -> bool:
            return any(
                entry.category == k or entry.code.startswith(k.upper()) for k in keys
            )

        kept = []
        for entry in self.entries:
            if sel and not hit(entry, sel):
                continue
            if ign and hit(entry, ign):
                continue
            if min_severity and SEVERITIES.index(entry.severity) < SEVERITIES.index(min_severity):
                continue
            kept.append(entry)
        return Lexicon(kept, self.sets, list(self.files))


class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader that records the line of every mapping as ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror or exc}")
        return None
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return None
    try:
        loader = _LineLoader(text)  # a SafeLoader subclass: no arbitrary objects
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problems.append(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}")
        return None


def builtin_dir() -> Path:
    """The folder holding the bundled lexicon files."""
    return Path(str(resources.files("blamelex") / "data" / "lexicon"))


def builtin_files() -> list[Path]:
    """The bundled category files, in catalogue order."""
    folder = builtin_dir()
    files = {p.stem: p for p in folder.glob("*.yaml") if not p.name.startswith("_")}
    ordered = [files.pop(c) for c in CATEGORIES if c in files]
    return ordered + [files[k] for k in sorted(files)]


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _load_sets(paths: Iterable[Path], problems: list[str]) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    for path in paths:
        data = _read_yaml(path, problems)
        if data is None:
            continue
        raw = data.get("sets", {}) if isinstance(data, dict) else None
        if not isinstance(raw, dict):
            problems.append(f"{path}: 'sets' must be a mapping of name -> list of words")
            continue
        for name, words in raw.items():
            if name == "__line__":
                continue
            if not _strings(words):
                problems.append(f"{path}: set {name!r} must be a list of words")
                continue
            sets[name] = [w.lower() for w in words]
    return sets


_Shape = tuple[Hashable, ...]
"""A compiled pattern reduced to what it matches: one hashable item per token element."""

_RANGES = {None: (1, 1), "?": (0, 1), "*": (0, None), "+": (1, None)}
_BOUNDS = re.compile(r"^\{(\d*),(\d*)\}$")


def _op_range(op: Any) -> Hashable:
    """An element's repeat count as (min, max): ``?`` is ``{0,1}``, no OP is ``{1,1}``."""
    if op in _RANGES:
        return _RANGES[op]
    bounds = _BOUNDS.match(op) if isinstance(op, str) else None
    if bounds is None:
        return str(op)  # e.g. "!": kept as written
    return (int(bounds.group(1) or 0), int(bounds.group(2)) if bounds.group(2) else None)


def _values(value: Any) -> Hashable:
    """A token attribute's value as a set: ``"x"`` and ``{"IN": ["x"]}`` are the same."""
    if isinstance(value, str):
        return (("IN", frozenset({value})),)
    if isinstance(value, dict):
        return tuple(
            sorted(
                (op, frozenset(v) if isinstance(v, list) else v) for op, v in value.items()
            )
        )
    return repr(value)  # e.g. IS_SPACE's False


def _shape(tokens: list[TokenPattern]) -> _Shape:
    """Reduce a compiled pattern to what it matches, so equal shapes mean the same pattern.

    Each element becomes its attributes with their values as sets (alternatives in any order,
    a lemma or ``@set`` by the words it stands for) and its repeat count as a range.
    """
    shape: list[Hashable] = []
    for token in tokens:
        attrs: list[tuple[str, Hashable]] = []
        for key, value in token.items():
            if key == "OP":
                continue
            if key == "ORTH" and _no_case(value):
                key = "LOWER"  # an exact match on a caseless word (the optional hyphen)
            attrs.append((key, _values(value)))
        shape.append((tuple(sorted(attrs, key=lambda attr: attr[0])), _op_range(token.get("OP"))))
    return tuple(shape)


def _no_case(value: Any) -> bool:
    """Whether ``value`` (a word or ``{"IN": [...]}``) names only words without letter case."""
    if isinstance(value, dict) and set(value) == {"IN"}:
        words = value["IN"]
    elif isinstance(value, str):
        words = [value]
    else:
        return False
    return all(isinstance(w, str) and w.lower() == w.upper() for w in words)


def _parse_entry(
    raw: Any,
    path: Path,
    category: str,
    sets: dict[str, list[str]],
    problems: list[str],
    shapes: list[_Shape] | None = None,
) -> Entry | None:
    """Validate one entry; on success, append the shape of each of its patterns to ``shapes``."""
    line = raw.get("__line__", 0) if isinstance(raw, dict) else 0
    where = f"{path}:{line}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: each entry must be a mapping")
        return None
    code = raw.get("code")
    label = f"entry {code}" if isinstance(code, str) else "entry without a code"
    before = len(problems)

    def bad(field_name: str, message: str) -> None:
        problems.append(f"{where}: {label}: field '{field_name}': {message}")

    for key in raw:
        if key != "__line__" and key not in _ENTRY_FIELDS:
            bad(key, f"unknown field (known: {', '.join(sorted(_ENTRY_FIELDS))})")
    if not isinstance(code, str) or not _CODE.match(code):
        bad("code", "required; letters then 3-4 digits, e.g. VB101")
    cat = raw.get("category", category)
    if not isinstance(cat, str) or not cat:
        bad("category", "required at file level or on the entry")
    for name in ("term", "explanation"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            bad(name, "required; a non-empty string")
    severity = raw.get("severity")
    if severity not in SEVERITIES:
        bad("severity", f"must be one of {', '.join(SEVERITIES)}")
    applies_to = raw.get("applies_to", "child")
    if applies_to not in APPLIES_TO:
        bad("applies_to", f"must be one of {', '.join(APPLIES_TO)}")
    prior = raw.get("prior")
    if prior is not None and not (isinstance(prior, (int, float)) and 0 < prior <= 1):
        bad("prior", "must be a number in (0, 1]")
    patterns: list[str] = raw.get("patterns") or []
    if not _strings(patterns):
        bad("patterns", "required; a list of pattern strings")
        patterns = []
    not_when: list[str] = raw.get("not_when") or []
    if not_when and not _strings(not_when):
        bad("not_when", "must be a list of pattern strings")
        not_when = []
    pattern_shapes: list[_Shape] = []
    for kind, pats in (("patterns", patterns), ("not_when", not_when)):
        for pat in pats:
            try:
                compiled = compile_pattern(pat, sets)
            except PatternError as exc:
                bad(kind, f"{pat!r}: {exc}")
                continue
            if kind == "patterns":
                pattern_shapes.append(_shape(compiled))
    suggestions: list[str] = raw.get("suggestions") or []
    if not _strings(suggestions):
        bad("suggestions", "required; at least one suggestion")
        suggestions = []
    sources: list[Source] = []
    raw_sources = raw.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        bad("sources", "required; at least one {title, url}")
    else:
        for src in raw_sources:
            if not isinstance(src, dict) or not isinstance(src.get("title"), str) or not str(
                src.get("url", "")
            ).startswith(("http://", "https://")):
                bad("sources", "each source needs a 'title' and an http(s) 'url'")
            else:
                sources.append(Source(title=src["title"].strip(), url=src["url"].strip()))
    examples = raw.get("examples")
    flag: list[str] = []
    ok: list[str] = []
    if not isinstance(examples, dict):
        bad("examples", "required; a mapping with 'flag' and 'ok' lists")
    else:
        flag, ok = examples.get("flag", []), examples.get("ok", [])
        if not _strings(flag) or not flag:
            bad("examples.flag", "at least one sentence this entry must flag")
            flag = []
        if not _strings(ok) or not ok:
            bad("examples.ok", "at least one near-miss sentence this entry must not flag")
            ok = []
    if len(problems) > before:
        return None
    if shapes is not None:
        shapes.extend(pattern_shapes)
    return Entry(
        code=str(code),
        term=raw["term"].strip(),
        category=str(cat),
        severity=str(severity),
        applies_to=str(applies_to),
        patterns=tuple(p.strip() for p in patterns),
        not_when=tuple(p.strip() for p in not_when),
        explanation=" ".join(raw["explanation"].split()),
        suggestions=tuple(s.strip() for s in suggestions),
        sources=tuple(sources),
        examples_flag=tuple(flag),
        examples_ok=tuple(ok),
        prior=float(prior) if prior is not None else None,
        file=str(path),
        line=int(line),
    )


def load_lexicon(
    files: Sequence[str | Path] | None = None,
    extra: Sequence[str | Path] = (),
) -> Lexicon:
    """Load and validate lexicon files (default: the bundled ones) plus ``extra`` files.

    Raises `LexiconError` naming every problem; nothing is partially loaded.
    """
    problems: list[str] = []
    paths = [Path(f) for f in files] if files is not None else builtin_files()
    paths += [Path(f) for f in extra]
    set_files = [builtin_dir() / "_sets.yaml"] + [p for p in paths if p.name == "_sets.yaml"]
    sets = _load_sets(dict.fromkeys(set_files), problems)
    entries: list[Entry] = []
    shapes: list[_Shape] = []  # the shape of every pattern of every entry, in order
    for path in paths:
        if path.name == "_sets.yaml":
            continue
        data = _read_yaml(path, problems)
        if data is None:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            problems.append(f"{path}: top level must be a mapping with an 'entries' list")
            continue
        for name, words in (data.get("sets") or {}).items():
            if name != "__line__" and _strings(words):
                sets[name] = [w.lower() for w in words]
        category = data.get("category", "")
        if category and not isinstance(category, str):
            problems.append(f"{path}: 'category' must be a string")
            continue
        for raw in data["entries"]:
            entry = _parse_entry(raw, path, category, sets, problems, shapes)
            if entry is not None:
                entries.append(entry)
    problems.extend(_duplicates(entries, shapes))
    if problems:
        raise LexiconError(problems)
    return Lexicon(entries, sets, [str(p) for p in paths])


def _norm(pattern: str) -> str:
    return " ".join(pattern.lower().split())


def _duplicates(entries: Sequence[Entry], shapes: Sequence[_Shape]) -> list[str]:
    """Report reused codes, and patterns that two entries share by meaning.

    ``shapes`` holds the `_shape` of every pattern of ``entries``, in order. Two patterns are the
    same when their shapes are equal, however they are written (``<put|place>`` and
    ``place|placed|places|placing|put|puts|putting``). A pattern repeated within one entry is not
    reported.
    """
    problems = []
    codes: dict[str, Entry] = {}
    seen: dict[_Shape, tuple[Entry, str]] = {}
    shape_of = iter(shapes)
    for entry in entries:
        if entry.code in codes:
            first = codes[entry.code]
            problems.append(
                f"{entry.file}:{entry.line}: entry {entry.code}: field 'code': duplicate code, "
                f"first used at {first.file}:{first.line}"
            )
        codes.setdefault(entry.code, entry)
        for pattern in entry.patterns:
            key = next(shape_of)
            other, written = seen.setdefault(key, (entry, pattern))
            if other.code != entry.code:
                same = "" if _norm(written) == _norm(pattern) else f" as {written!r}"
                problems.append(
                    f"{entry.file}:{entry.line}: entry {entry.code}: field 'patterns': "
                    f"duplicate pattern {pattern!r}, already in {other.code}{same} "
                    f"({other.file}:{other.line})"
                )
    return problems


__all__ = [
    "CATEGORIES",
    "Entry",
    "Lexicon",
    "LexiconError",
    "PatternError",
    "builtin_files",
    "compile_pattern",
    "load_lexicon",
]
