"""Load and validate the curated lexicon: YAML data files, one per category.

Errors name the file, the line, the entry and the field, and nothing is partially loaded: a
lexicon with any problem raises `LexiconError` listing every problem found.

Every pattern is parsed once, while its entry is validated; the `Lexicon` keeps the parsed
forms (`Lexicon.parsed`) for the matcher. A lexicon that loaded without problems is kept in the
on-disk cache (`blamelex.cache`), keyed by the bytes of its files: loading it again reads one
JSON file instead of parsing and validating the YAML.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from blamelex import cache
from blamelex.findings import SEVERITIES, Source
from blamelex.yamldata import DataError

from .patterns import Pattern, PatternError, TokenPattern, compile_pattern, parse_pattern

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


class LexiconError(DataError):
    """The lexicon data is invalid. ``problems`` lists each one as ``file:line: message``."""

    what = "the lexicon"


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


class ParsedPatterns:
    """Patterns already parsed, by their text. Those of a lexicon read from the cache are
    read from it on the first `get` (the matcher's own cached tables seldom need them)."""

    def __init__(
        self,
        known: dict[str, Pattern] | None = None,
        load: Callable[[], dict[str, Pattern] | None] | None = None,
    ) -> None:
        self._known = dict(known or {})
        self._load = load

    def get(self, text: str) -> Pattern | None:
        """The parsed form of the pattern ``text``, if known."""
        if self._load is not None:
            load, self._load = self._load, None
            self._known.update(load() or {})
        return self._known.get(text)

    def __len__(self) -> int:
        return len(self._known)

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data (the patterns known so far)."""
        return {text: pattern.to_data() for text, pattern in self._known.items()}


@dataclass
class Lexicon:
    """A validated set of entries and the shared word sets their patterns use."""

    entries: list[Entry]
    sets: dict[str, list[str]]
    files: list[str] = field(default_factory=list)
    parsed: ParsedPatterns = field(default_factory=ParsedPatterns, repr=False, compare=False)
    """Patterns already parsed with ``sets`` (by `load_lexicon`; the matcher parses any
    pattern missing here)."""

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
        return Lexicon(kept, self.sets, list(self.files), self.parsed)


class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader that records the line of every mapping as ``__line__``."""


_CBase: Any = getattr(yaml, "CSafeLoader", None)  # libyaml's parser, where PyYAML has it


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)
_Loaders: list[Any] = [_LineLoader]
if _CBase is not None:
    class _CLineLoader(_CBase):  # type: ignore[misc]
        """`_LineLoader` on libyaml's parser (the same safe constructor; ~10x faster)."""

    _CLineLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
    )
    _Loaders.insert(0, _CLineLoader)


def _parse_yaml(text: str) -> Any:
    """The data of one YAML document, read with the fastest safe line-recording loader; a
    document it rejects is read again with the pure-Python one, whose messages the errors
    quote."""
    for loader_class in _Loaders:
        loader = loader_class(text)  # a SafeLoader: no arbitrary objects
        try:
            return loader.get_single_data()
        except yaml.YAMLError:
            if loader_class is _Loaders[-1]:
                raise
        finally:
            loader.dispose()
    raise AssertionError("unreachable")  # pragma: no cover


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
        return _parse_yaml(text)
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
"""A parsed pattern reduced to what it matches (`Pattern.shape`)."""


def _shape(tokens: list[TokenPattern]) -> _Shape:
    """The `Pattern.shape` of a spaCy token pattern of the kinds `compile_pattern` writes."""
    return Pattern.from_token_pattern(tokens).shape()


def _parse_entry(
    raw: Any,
    path: Path,
    category: str,
    sets: dict[str, list[str]],
    problems: list[str],
    shapes: list[_Shape] | None = None,
    parsed: dict[str, Pattern] | None = None,
) -> Entry | None:
    """Validate one entry; on success, append the shape of each of its patterns to ``shapes``
    and put every pattern parsed into ``parsed`` (by its text)."""
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
    done: dict[str, Pattern] = {}
    for kind, pats in (("patterns", patterns), ("not_when", not_when)):
        for pat in pats:
            try:
                compiled = parse_pattern(pat, sets)
            except PatternError as exc:
                bad(kind, f"{pat!r}: {exc}")
                continue
            done[pat.strip()] = compiled
            if kind == "patterns":
                pattern_shapes.append(compiled.shape())
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
    if parsed is not None:
        parsed.update(done)
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

    Raises `LexiconError` naming every problem; nothing is partially loaded. A lexicon loaded
    before from files with the same bytes comes from the on-disk cache (`blamelex.cache`).
    """
    paths = [Path(f) for f in files] if files is not None else builtin_files()
    paths += [Path(f) for f in extra]
    set_files = list(dict.fromkeys([builtin_dir() / "_sets.yaml"]
                                   + [p for p in paths if p.name == "_sets.yaml"]))
    digest = _cache_key(set_files, paths) if cache.enabled() else None
    if digest is not None:
        hit = _from_data(cache.load("lexicon", digest))
        if hit is not None:
            hit.parsed = ParsedPatterns(load=lambda: _patterns_from(cache.load("patterns",
                                                                                digest)))
            return hit
    lexicon = _load(paths, set_files)
    if digest is not None:
        cache.store("lexicon", digest, _to_data(lexicon))
        cache.store("patterns", digest, lexicon.parsed.to_data())
    return lexicon


def _load(paths: list[Path], set_files: list[Path]) -> Lexicon:
    problems: list[str] = []
    sets = _load_sets(set_files, problems)
    entries: list[Entry] = []
    shapes: list[_Shape] = []  # the shape of every pattern of every entry, in order
    parsed: dict[str, Pattern] = {}
    redefined = False
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
                words = [w.lower() for w in words]
                redefined = redefined or sets.get(name, words) != words
                sets[name] = words
        category = data.get("category", "")
        if category and not isinstance(category, str):
            problems.append(f"{path}: 'category' must be a string")
            continue
        for raw in data["entries"]:
            entry = _parse_entry(raw, path, category, sets, problems, shapes, parsed)
            if entry is not None:
                entries.append(entry)
    problems.extend(_duplicates(entries, shapes))
    if problems:
        raise LexiconError(problems)
    # a set a later file gave other words: patterns parsed before then are parsed again by the
    # matcher, with the final words (as it always has)
    return Lexicon(entries, sets, [str(p) for p in paths],
                   ParsedPatterns({} if redefined else parsed))


# -- the on-disk cache -------------------------------------------------------------------------


def _cache_key(set_files: Sequence[Path], paths: Sequence[Path]) -> str | None:
    """The cache key of a lexicon loaded from these files: their names and bytes (None if a
    file cannot be read: the load then reports it)."""
    parts: list[bytes | str] = []
    for group in (set_files, paths):
        parts.append(f"{len(group)} files")
        for path in group:
            try:
                parts += [str(path), path.read_bytes()]
            except OSError:
                return None
    return cache.key("lexicon", parts)


def _to_data(lexicon: Lexicon) -> dict[str, Any]:
    """A lexicon as plain JSON data (`_from_data` reads it back)."""
    entries = []
    for entry in lexicon.entries:
        row: dict[str, Any] = {}
        for f in fields(Entry):
            value = getattr(entry, f.name)
            if f.name == "sources":
                value = [[s.title, s.url] for s in value]
            elif isinstance(value, tuple):
                value = list(value)
            row[f.name] = value
        entries.append(row)
    return {"entries": entries, "sets": lexicon.sets, "files": lexicon.files}


def _from_data(data: Any) -> Lexicon | None:
    """The lexicon `_to_data` wrote, or None for anything else."""
    if not isinstance(data, dict):
        return None
    try:
        tuples = {f.name for f in fields(Entry) if str(f.type).startswith("tuple")}
        entries = []
        for row in data["entries"]:
            values: dict[str, Any] = {name: tuple(value) if name in tuples else value
                                      for name, value in row.items()}
            values["sources"] = tuple(Source(title, url) for title, url in row["sources"])
            entries.append(Entry(**values))
        sets = {str(name): [str(w) for w in words] for name, words in data["sets"].items()}
        return Lexicon(entries, sets, [str(f) for f in data["files"]])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _patterns_from(data: Any) -> dict[str, Pattern] | None:
    """The parsed patterns `ParsedPatterns.to_data` wrote, or None for anything else."""
    if not isinstance(data, dict):
        return None
    try:
        return {str(text): Pattern.from_data(p) for text, p in data.items()}
    except (TypeError, ValueError):
        return None


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
    "Pattern",
    "PatternError",
    "builtin_files",
    "compile_pattern",
    "load_lexicon",
    "parse_pattern",
]
