"""Context-rule files: read, validated and merged into one `ContextRuleSet` (the data side of
`blamelex.context`, which compiles and applies it).

The bundled file is ``data/context_rules.yaml`` (docs/context.md explains every section). An
organisation may add files of its own (``extra``), as it may add lexicon files; such a file may
hold ``effects`` (for new modifiers), ``terminators`` (for its own rules), ``rules`` and, under
``referent``, more ``adult`` and ``child`` cues. Every problem is reported as ``file:line:`` and
nothing is partially loaded: a file with any problem raises `ContextRuleError` listing them all.

The bundled file's ``effects`` name the context modifiers, in the order the model's calibrator
reads them (`modifier_names`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from blamelex.yamldata import DataError, LineList, LineMap, YamlDataError, read_yaml

BUNDLED = "context_rules.yaml"
"""The bundled rules file, in ``blamelex/data``."""

DIRECTIONS = ("backward", "forward", "both")
EFFECTS = ("drop", "factor", "attribute")
VOICES = ("own", "reported")
APPLIES_TO = ("any", "child")
GENDERS = ("female", "male", "unknown")
SENSE = "SENSE"
"""The modifier for a lexicon entry's own ``not_when`` pattern (a benign word sense)."""

_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_MODIFIER = re.compile(r"^[A-Z][A-Z_]*$")

_TOP = ("effects", "terminators", "rules", "quotation", "referent")
_TOP_EXTRA = ("effects", "terminators", "rules", "referent")
_RULE = ("id", "modifier", "direction", "window", "quoted_window", "terminators", "applies_to",
         "enclosing", "shares", "patterns", "pseudo")
_EFFECT = ("effect", "factor", "voice", "overrides")
_QUOTATION = ("modifier", "open", "close")
_REFERENT = ("modifier", "window", "adult_age", "prepositions", "boundaries", "continues_with",
             "collectives", "collective_links", "determiners", "pronouns", "age", "adult", "child")
_REFERENT_EXTRA = ("adult", "child")
_AGE = ("ends", "joiners", "before", "suffixes", "bracketed")
_BRACKETED = ("open", "close", "min", "max")
_CUE = ("pattern", "gender")


class ContextRuleError(DataError):
    """Invalid context rules. ``problems`` lists each one as ``file:line: message``."""

    what = "the context rules"


@dataclass(frozen=True)
class Effect:
    """What a modifier does to a candidate: ``drop`` it, multiply its score by ``factor``, or
    ``attribute`` its wording to someone (``voice``: the finding's voice, ``reported`` for
    wording the text attributes to a professional, agency, court or record), which lifts the
    modifiers named in ``overrides`` (quotation marks and a reported-speech frame mean nothing
    more once the attribution is known; docs/context.md, "Voice")."""

    effect: str
    factor: float
    voice: str | None = None
    overrides: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TriggerRule:
    """One trigger rule: a modifier, its direction and window, its patterns and pseudo-triggers."""

    id: str
    modifier: str
    direction: str
    window: int
    quoted_window: int
    terminators: frozenset[str]
    applies_to: str = "any"
    enclosing: bool = False
    """A trigger that wraps around the candidate counts ("replace ... with")."""
    shares: frozenset[str] = frozenset()
    """Words a trigger may end on when the candidate starts with the same word ("describes
    the 14-year-old as" + "as his partner"): the trigger then stands right before it."""
    patterns: tuple[str, ...] = ()
    pseudo: tuple[str, ...] = ()
    """Patterns that cancel a trigger they overlap ("not only" is no negation)."""
    file: str = ""
    line: int = 0
    pattern_lines: tuple[int, ...] = ()
    pseudo_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Cue:
    """A noun that names an adult or a child, for the REFERENT rule."""

    kind: str
    gender: str
    pattern: str
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Quotation:
    """The QUOTED rule: quotation marks that open and close a quoted region in a sentence."""

    modifier: str
    open: frozenset[str]
    close: frozenset[str]


@dataclass(frozen=True)
class Referent:
    """The REFERENT rule's settings and word lists (see data/context_rules.yaml)."""

    modifier: str
    window: int
    adult_age: int
    prepositions: frozenset[str]
    boundaries: frozenset[str]
    continues_with: frozenset[str]
    collectives: frozenset[str]
    collective_links: frozenset[str]
    determiners: frozenset[str]
    pronouns: Mapping[str, str]
    age_ends: frozenset[str]
    age_joiners: frozenset[str]
    age_before: frozenset[str]
    age_suffixes: tuple[str, ...]
    bracket_open: frozenset[str]
    bracket_close: frozenset[str]
    bracket_ages: tuple[int, int]
    cues: tuple[Cue, ...]


@dataclass(frozen=True)
class ContextRuleSet:
    """Every context rule, validated: the bundled file's and any extra files', merged."""

    effects: Mapping[str, Effect]
    rules: tuple[TriggerRule, ...]
    quotation: Quotation
    referent: Referent
    files: tuple[str, ...] = field(default=())

    def modifiers(self) -> tuple[str, ...]:
        """The modifier names, in the order their effects are defined."""
        return tuple(self.effects)


# -- reading ------------------------------------------------------------------------------------


class _Checker:
    """Collects problems for one file, each as ``file:line: where: message``."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems

    def bad(self, line: int, message: str) -> None:
        self.problems.append(f"{self.file}:{line}: {message}")

    def mapping(self, value: Any, line: int, what: str,
                known: Sequence[str] | None) -> LineMap | None:
        """``value`` if it is a mapping; keys not in ``known`` are reported (``None``: any key)."""
        if not isinstance(value, LineMap):
            self.bad(line, f"{what} must be a mapping")
            return None
        for key in value:
            if known is not None and key not in known:
                self.bad(value.line_of(key),
                         f"{what}: unknown key {key!r} (known: {', '.join(known)})")
        return value

    def words(self, value: Any, line: int, what: str) -> list[str]:
        """A list of non-empty strings, lower-cased."""
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            self.bad(line, f"{what} must be a list of words (quote any that YAML reads as "
                           f"something else: 'no', 'yes', 'on', numbers)")
            return []
        return [v.strip().lower() for v in value]

    def patterns(self, value: Any, line: int, what: str,
                 required: bool = False) -> tuple[tuple[str, ...], tuple[int, ...]]:
        if value is None and not required:
            return (), ()
        if not isinstance(value, LineList) or not value or not all(
                isinstance(v, str) and v.strip() for v in value):
            self.bad(line, f"{what}: {'required; ' if required else ''}"
                           f"a list of pattern strings")
            return (), ()
        return tuple(v.strip() for v in value), tuple(value.item_lines)

    def integer(self, value: Any, line: int, what: str, low: int = 0) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.bad(line, f"{what} must be a whole number >= {low}")
            return None
        return value

    def string(self, value: Any, line: int, what: str, choices: Sequence[str] = (),
               pattern: re.Pattern[str] | None = None, hint: str = "") -> str | None:
        if choices and value not in choices:
            self.bad(line, f"{what} must be one of {', '.join(choices)} (got {value!r})")
            return None
        if not isinstance(value, str) or not value.strip() or (
                pattern is not None and not pattern.match(value)):
            self.bad(line, f"{what} must be {hint or 'a non-empty string'} (got {value!r})")
            return None
        return value


@dataclass
class _File:
    """One file's validated sections (``None``: the file does not have that section)."""

    name: str
    effects: dict[str, tuple[Effect, int]]
    terminators: frozenset[str]
    rules: list[tuple[LineMap, int]]
    quotation: Quotation | None
    quotation_line: int
    referent: LineMap | None
    cues: list[Cue]


def _read(source: Any, name: str, bundled: bool, problems: list[str]) -> _File | None:
    try:
        data = read_yaml(source, name)
    except YamlDataError as exc:
        problems.append(str(exc))
        return None
    check = _Checker(name, problems)
    top = check.mapping(data, 1, "the top level", _TOP)
    if top is None:
        return None
    own_file = f"a file of your own may hold {', '.join(_TOP_EXTRA)} and, under referent, " \
               f"{' and '.join(_REFERENT_EXTRA)} cues"
    if not bundled and "quotation" in top:
        check.bad(top.line_of("quotation"), f"'quotation' can only be set in the bundled rules; "
                                            f"{own_file}")
    effects: dict[str, tuple[Effect, int]] = {}
    if "effects" in top:
        em = check.mapping(top["effects"], top.line_of("effects"), "effects", None)
        for key, raw in (em or {}).items():
            line = em.line_of(key) if em is not None else 0
            effect = _effect(check, key, raw, line)
            if effect is not None:
                effects[key] = (effect, line)
    elif bundled:
        check.bad(1, "effects: required (what each modifier does to a score)")
    terminators = frozenset(check.words(top.get("terminators"), top.line_of("terminators"),
                                        "terminators"))
    rules: list[tuple[LineMap, int]] = []
    raw_rules = top.get("rules")
    if raw_rules is not None:
        if not isinstance(raw_rules, LineList):
            check.bad(top.line_of("rules"), "rules must be a list of rules")
        else:
            for raw, line in zip(raw_rules, raw_rules.item_lines, strict=True):
                if isinstance(raw, LineMap):
                    rules.append((raw, line))
                else:
                    check.bad(line, "each rule must be a mapping with id, modifier, patterns")
    quotation = None
    if bundled:
        quotation = _quotation(check, top.get("quotation"), top.line_of("quotation"))
    referent = None
    if "referent" in top or bundled:
        referent = check.mapping(top.get("referent"), top.line_of("referent"), "referent",
                                 _REFERENT)
    if referent is not None and not bundled:
        for key in referent:
            if key in _REFERENT and key not in _REFERENT_EXTRA:
                check.bad(referent.line_of(key), f"referent: {key!r} can only be set in the "
                                                 f"bundled rules; {own_file}")
    cues = _cues(check, referent) if referent is not None else []
    return _File(name, effects, terminators, rules, quotation, top.line_of("quotation"),
                 referent if bundled else None, cues)


def _effect(check: _Checker, name: Any, raw: Any, line: int) -> Effect | None:
    what = f"effects: {name}"
    if not isinstance(name, str) or not _MODIFIER.match(name):
        check.bad(line, f"effects: modifier name {name!r} must be upper-case letters, "
                        f"e.g. NEGATED")
        return None
    em = check.mapping(raw, line, what, _EFFECT)
    if em is None:
        return None
    kind = check.string(em.get("effect"), em.line_of("effect"), f"{what}: effect", EFFECTS)
    factor = em.get("factor")
    if kind == "factor":
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) \
                or not 0 <= factor <= 1:
            check.bad(em.line_of("factor"), f"{what}: factor: required for effect 'factor'; "
                                            f"a number from 0 to 1")
            return None
        return Effect("factor", float(factor))
    if kind in ("drop", "attribute") and factor is not None:
        check.bad(em.line_of("factor"), f"{what}: factor: only for effect 'factor'")
        return None
    if kind != "attribute":
        for key in ("voice", "overrides"):
            if key in em:
                check.bad(em.line_of(key), f"{what}: {key}: only for effect 'attribute'")
                return None
        return Effect("drop", 0.0) if kind == "drop" else None
    voice = check.string(em.get("voice"), em.line_of("voice"), f"{what}: voice", VOICES)
    overrides = check.words(em.get("overrides"), em.line_of("overrides"), f"{what}: overrides")
    if voice is None:
        return None
    return Effect("attribute", 1.0, voice, frozenset(o.upper() for o in overrides))


def _quotation(check: _Checker, raw: Any, line: int) -> Quotation | None:
    qm = check.mapping(raw, line, "quotation", _QUOTATION)
    if qm is None:
        return None
    modifier = check.string(qm.get("modifier"), qm.line_of("modifier"), "quotation: modifier",
                            pattern=_MODIFIER, hint="upper-case letters")
    marks = {k: check.words(qm.get(k), qm.line_of(k), f"quotation: {k}") for k in ("open", "close")}
    if modifier is None:
        return None
    return Quotation(modifier, frozenset(marks["open"]), frozenset(marks["close"]))


def _cues(check: _Checker, ref: LineMap) -> list[Cue]:
    cues: list[Cue] = []
    for kind in ("adult", "child"):
        raw = ref.get(kind)
        if raw is None:
            continue
        if not isinstance(raw, LineList):
            check.bad(ref.line_of(kind), f"referent: {kind}: a list of {{pattern, gender}}")
            continue
        for item, line in zip(raw, raw.item_lines, strict=True):
            what = f"referent: {kind} cue"
            cm = check.mapping(item, line, what, _CUE)
            if cm is None:
                continue
            pattern = check.string(cm.get("pattern"), cm.line_of("pattern"), f"{what}: pattern")
            gender = check.string(cm.get("gender", "unknown"), cm.line_of("gender"),
                                  f"{what}: gender", GENDERS)
            if pattern is not None and gender is not None:
                cues.append(Cue(kind, gender, pattern.strip(), check.file, cm.line_of("pattern")))
    return cues


def _referent(check: _Checker, ref: LineMap, cues: list[Cue]) -> Referent | None:
    """The bundled file's referent section (cues from every file)."""
    before = len(check.problems)

    def words(key: str, within: LineMap = ref, prefix: str = "referent") -> frozenset[str]:
        return frozenset(check.words(within.get(key), within.line_of(key), f"{prefix}: {key}"))

    modifier = check.string(ref.get("modifier"), ref.line_of("modifier"), "referent: modifier",
                            pattern=_MODIFIER, hint="upper-case letters")
    window = check.integer(ref.get("window"), ref.line_of("window"), "referent: window", 1)
    adult_age = check.integer(ref.get("adult_age"), ref.line_of("adult_age"),
                              "referent: adult_age", 1)
    pronouns: dict[str, str] = {}
    pm = check.mapping(ref.get("pronouns"), ref.line_of("pronouns"), "referent: pronouns",
                       None)
    for word, gender in (pm or {}).items():
        g = check.string(gender, pm.line_of(word) if pm else 0, f"referent: pronouns: {word}",
                         GENDERS)
        if g is not None:
            pronouns[str(word).lower()] = g
    age = check.mapping(ref.get("age"), ref.line_of("age"), "referent: age", _AGE)
    bracketed = None
    if age is not None:
        bracketed = check.mapping(age.get("bracketed"), age.line_of("bracketed"),
                                  "referent: age: bracketed", _BRACKETED)
    ages = (0, 0)
    if bracketed is not None:
        low = check.integer(bracketed.get("min"), bracketed.line_of("min"),
                            "referent: age: bracketed: min")
        high = check.integer(bracketed.get("max"), bracketed.line_of("max"),
                             "referent: age: bracketed: max")
        ages = (low or 0, high or 0)
    empty = LineMap()
    empty.key_lines = {}
    age = age if age is not None else empty
    bracketed = bracketed if bracketed is not None else empty
    out = Referent(
        modifier=modifier or "",
        window=window or 0,
        adult_age=adult_age or 0,
        prepositions=words("prepositions"),
        boundaries=words("boundaries"),
        continues_with=words("continues_with"),
        collectives=words("collectives"),
        collective_links=words("collective_links"),
        determiners=words("determiners"),
        pronouns=pronouns,
        age_ends=words("ends", age, "referent: age"),
        age_joiners=words("joiners", age, "referent: age"),
        age_before=words("before", age, "referent: age"),
        age_suffixes=tuple(check.words(age.get("suffixes"), age.line_of("suffixes"),
                                       "referent: age: suffixes")),
        bracket_open=words("open", bracketed, "referent: age: bracketed"),
        bracket_close=words("close", bracketed, "referent: age: bracketed"),
        bracket_ages=ages,
        cues=tuple(cues),
    )
    return out if len(check.problems) == before else None


def _rule(check: _Checker, raw: LineMap, line: int, defaults: frozenset[str],
          effects: Mapping[str, Any]) -> TriggerRule | None:
    before = len(check.problems)
    rule_id = raw.get("id")
    label = f"rule {rule_id}" if isinstance(rule_id, str) else "rule without an id"
    for key in raw:
        if key not in _RULE:
            check.bad(raw.line_of(key), f"{label}: unknown key {key!r} (known: {', '.join(_RULE)})")
    if "id" not in raw:
        check.bad(line, f"{label}: id: required, e.g. negation.not")
    else:
        check.string(rule_id, raw.line_of("id"), f"{label}: id", pattern=_ID,
                     hint="lower-case words joined by dots, e.g. negation.not")
    modifier = raw.get("modifier")
    if "modifier" not in raw:
        check.bad(line, f"{label}: modifier: required (one of {', '.join(effects)})")
    elif modifier not in effects:
        check.bad(raw.line_of("modifier"), f"{label}: modifier {modifier!r} has no effect "
                                           f"(known: {', '.join(effects)}; a new modifier needs "
                                           f"an entry under 'effects')")
    direction = check.string(raw.get("direction", "backward"), raw.line_of("direction"),
                             f"{label}: direction", DIRECTIONS)
    window = check.integer(raw.get("window", 5), raw.line_of("window"), f"{label}: window")
    quoted = check.integer(raw.get("quoted_window", window or 0), raw.line_of("quoted_window"),
                           f"{label}: quoted_window")
    applies_to = check.string(raw.get("applies_to", "any"), raw.line_of("applies_to"),
                              f"{label}: applies_to", APPLIES_TO)
    enclosing = raw.get("enclosing", False)
    if not isinstance(enclosing, bool):
        check.bad(raw.line_of("enclosing"), f"{label}: enclosing must be true or false")
    own = check.words(raw.get("terminators"), raw.line_of("terminators"),
                      f"{label}: terminators")
    shares = check.words(raw.get("shares"), raw.line_of("shares"), f"{label}: shares")
    patterns, pattern_lines = check.patterns(raw.get("patterns"), raw.line_of("patterns"),
                                             f"{label}: patterns", required=True)
    pseudo, pseudo_lines = check.patterns(raw.get("pseudo"), raw.line_of("pseudo"),
                                          f"{label}: pseudo")
    if len(check.problems) > before:
        return None
    return TriggerRule(
        id=str(rule_id), modifier=str(modifier), direction=str(direction), window=int(window or 0),
        quoted_window=int(quoted or 0), terminators=defaults | frozenset(own),
        applies_to=str(applies_to), enclosing=enclosing, shares=frozenset(shares),
        patterns=patterns, pseudo=pseudo, file=check.file, line=line,
        pattern_lines=pattern_lines, pseudo_lines=pseudo_lines,
    )


def _merge(files: Sequence[_File], problems: list[str]) -> ContextRuleSet | None:
    """One rule set from the bundled file (first) and extra files; problems are appended."""
    bundled = files[0]
    checks = [_Checker(f.name, problems) for f in files]
    effects: dict[str, Effect] = {}
    where: dict[str, str] = {}
    for f, check in zip(files, checks, strict=True):
        for name, (effect, line) in f.effects.items():
            if name in effects:
                check.bad(line, f"effects: {name} is already defined at {where[name]}")
                continue
            effects[name] = effect
            where[name] = f"{f.name}:{line}"
    if bundled.effects and SENSE not in effects:
        checks[0].bad(1, f"effects: {SENSE} is required (a lexicon entry's own not_when)")
    rules: list[TriggerRule] = []
    seen: dict[str, str] = {}
    for f, check in zip(files, checks, strict=True):
        defaults = bundled.terminators | f.terminators
        for raw, line in f.rules:
            rule = _rule(check, raw, line, defaults, effects)
            if rule is None:
                continue
            if rule.id in seen:
                check.bad(raw.line_of("id"), f"rule {rule.id}: id already used at {seen[rule.id]}")
                continue
            seen[rule.id] = f"{f.name}:{raw.line_of('id')}"
            rules.append(rule)
    quotation = bundled.quotation
    if quotation is not None and quotation.modifier not in effects:
        checks[0].bad(bundled.quotation_line,
                      f"quotation: modifier {quotation.modifier!r} has no effect")
    referent = None
    if bundled.referent is not None:
        referent = _referent(checks[0], bundled.referent, [c for f in files for c in f.cues])
        if referent is not None and referent.modifier not in effects:
            checks[0].bad(bundled.referent.line_of("modifier"),
                          f"referent: modifier {referent.modifier!r} has no effect")
    if problems or quotation is None or referent is None:
        return None
    return ContextRuleSet(effects, tuple(rules), quotation, referent,
                          tuple(f.name for f in files))


@cache
def _bundled_file() -> _File:
    """The bundled file, read and checked once."""
    problems: list[str] = []
    parsed = _read(resources.files("blamelex") / "data" / BUNDLED, BUNDLED, True, problems)
    if problems or parsed is None:
        raise ContextRuleError(problems or [f"{BUNDLED}: cannot be read"])
    return parsed


def _load(extra: Sequence[str | Path]) -> ContextRuleSet:
    problems: list[str] = []
    files = [_bundled_file()]
    for path in extra:
        parsed = _read(Path(path), str(path), False, problems)
        if parsed is not None:
            files.append(parsed)
    merged = _merge(files, problems)
    if problems or merged is None:
        raise ContextRuleError(problems or ["the context rules are incomplete"])
    return merged


@cache
def _bundled() -> ContextRuleSet:
    return _load(())


def load_context_rules(extra: Sequence[str | Path] = ()) -> ContextRuleSet:
    """The bundled context rules plus those in ``extra`` files, validated and merged (the
    bundled ones alone are loaded once and shared).

    Raises `ContextRuleError` naming every problem as ``file:line: ...``.
    """
    return _load(extra) if extra else _bundled()


def modifier_names() -> tuple[str, ...]:
    """The bundled context modifiers, in the order the model's calibrator reads them."""
    return _bundled().modifiers()


__all__ = [
    "BUNDLED",
    "ContextRuleError",
    "ContextRuleSet",
    "Cue",
    "Effect",
    "Quotation",
    "Referent",
    "TriggerRule",
    "load_context_rules",
    "modifier_names",
]
