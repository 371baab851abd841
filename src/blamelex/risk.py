"""The risk-grading check: a missing child's risk grade (or 'absent' status) read against the
indicators in the same note (docs/risk.md).

The stage after scoring. It reads the whole note: the grade or status stated (the last one, the
current grade), the indicators (``data/risk/indicators.yaml``), the rules that say which grade
they point to (``data/risk/rules.yaml``) and the reasons written for the grade; and it reports
ordinary findings in the category ``risk_grading``:

* RG101: a grade below the grade the indicators point to under the rules;
* RG102: 'absent' for a child whose whereabouts are unknown;
* RG103: a grade recorded with no reasons;
* RG104: a grade whose reasons blame the child (``related`` links the VB finding they rest on).

Each finding carries the indicators it read (``Finding.related``) and suggestions that leave the
decision to a person: they say what the indicators are and which grade the rules point to, and
ask for the reasons to be recorded. They are never applied by ``rewrite`` (origin ``risk``).

It works on the text alone (no spaCy), is cheap on notes that state no grade (one regular
expression), and reads its data files on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from blamelex.findings import Finding, Related, Source, Suggestion, TraceStep
from blamelex.yamldata import DataError, LineList, LineMap, YamlDataError, read_yaml

CATEGORY = "risk_grading"
ORIGIN = "risk"
CODES = ("RG101", "RG102", "RG103", "RG104")
GRADES = ("no apparent risk", "low", "medium", "high")
"""The scale, lowest first (index = rank); 'very low' and 'absent' rank with no apparent risk."""
BUNDLED = ("indicators.yaml", "rules.yaml")


class RiskDataError(DataError):
    """Invalid risk indicator or rule files; ``problems`` lists ``file:line: message``."""

    what = "the risk rules"


class Flagged(Protocol):
    """A finding as the check reads it (a `Finding`, or the pipeline's view of a kept
    candidate)."""

    code: str
    category: str
    term: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    patterns: tuple[re.Pattern[str], ...]
    explanation: str
    sources: tuple[Source, ...]
    age: tuple[int, int] | None = None
    where: str = ""


@dataclass(frozen=True)
class Rule:
    id: str
    points_to: int
    any: tuple[str, ...]
    all: tuple[str, ...]
    at_least: tuple[int, tuple[str, ...]] | None
    rationale: str
    sources: tuple[Source, ...]
    where: str = ""

    def holds(self, present: set[str]) -> bool:
        if self.all and not set(self.all) <= present:
            return False
        if self.any and not present & set(self.any):
            return False
        if self.at_least is not None:
            n, of = self.at_least
            if len(present & set(of)) < n:
                return False
        return True


@dataclass(frozen=True)
class Code:
    code: str
    term: str
    severity: str
    explanation: str
    sources: tuple[Source, ...]


@dataclass
class RiskData:
    indicators: dict[str, Indicator] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    blaming: list[re.Pattern[str]] = field(default_factory=list)
    codes: dict[str, Code] = field(default_factory=dict)


# -- reading and validating the data files ----------------------------------------------------

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS_FILE = {"sources", "indicators", "rules", "blaming_reasons", "findings"}
_KEYS_IND = {"label", "patterns", "explanation", "sources", "age"}
_KEYS_RULE = {"id", "points_to", "any", "all", "at_least", "rationale", "sources"}
_KEYS_CODE = {"term", "severity", "explanation", "sources"}


def _compile(pattern: Any, at: str, problems: list[str]) -> re.Pattern[str] | None:
    if not isinstance(pattern, str) or not pattern.strip():
        problems.append(f"{at}: a pattern must be a non-empty string")
        return None
    try:
        return re.compile(r"(?<!\w)(?:" + pattern + r")(?!\w)", re.IGNORECASE)
    except re.error as exc:
        problems.append(f"{at}: invalid regular expression {pattern!r}: {exc}")
        return None


def _sources(raw: Any, at: str, problems: list[str]) -> tuple[Source, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{at}: sources: at least one {{title, url}}")
        return ()
    out = []
    for src in raw:
        if isinstance(src, dict) and set(src) == {"title", "url"} and \
                isinstance(src["title"], str) and str(src["url"]).startswith(("http://", "https://")):
            out.append(Source(" ".join(src["title"].split()), str(src["url"]).strip()))
        else:
            problems.append(f"{at}: sources: each has a 'title' and an http(s) 'url', nothing else")
    return tuple(out)


def _text(raw: LineMap, key: str, at: str, problems: list[str]) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{at}: {key}: required; a non-empty string")
        return ""
    return " ".join(value.split())


def _ids(raw: Any, at: str, problems: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw) or not raw:
        problems.append(f"{at}: a non-empty list of indicator ids")
        return ()
    return tuple(raw)


def _grade_rank(value: Any) -> int | None:
    key = str(value).strip().lower()
    key = {"very low": "no apparent risk", "nar": "no apparent risk"}.get(key, key)
    return GRADES.index(key) if key in GRADES else None


def _read_file(source: Any, where: str, data: RiskData, problems: list[str]) -> None:
    try:
        raw = read_yaml(source, where)
    except YamlDataError as exc:
        problems.append(str(exc))
        return
    if not isinstance(raw, LineMap) or not set(raw) & (_KEYS_FILE - {"sources"}):
        problems.append(f"{where}:1: the top level must be a mapping with 'indicators', 'rules', "
                        "'blaming_reasons' or 'findings'")
        return
    for key in raw:
        if key not in _KEYS_FILE:
            problems.append(f"{where}:{raw.line_of(key)}: unknown key {key!r} (known: "
                            f"{', '.join(sorted(_KEYS_FILE))})")
    inds = raw.get("indicators") or LineMap()
    if not isinstance(inds, LineMap):
        problems.append(f"{where}:{raw.line_of('indicators')}: indicators: a mapping of id to "
                        "indicator")
        inds = LineMap()
    for ind_id, spec in inds.items():
        at = f"{where}:{inds.line_of(ind_id)}: indicator {ind_id}"
        if not isinstance(ind_id, str) or not _ID.match(ind_id):
            problems.append(f"{at}: id: lower-case letters, digits and _")
            continue
        if not isinstance(spec, LineMap):
            problems.append(f"{at}: must be a mapping of {', '.join(sorted(_KEYS_IND))}")
            continue
        for key in spec:
            if key not in _KEYS_IND:
                problems.append(f"{where}:{spec.line_of(key)}: indicator {ind_id}: {key}: unknown "
                                f"field (known: {', '.join(sorted(_KEYS_IND))})")
        pats = spec.get("patterns")
        compiled: list[re.Pattern[str]] = []
        if not isinstance(pats, LineList) or not pats:
            problems.append(f"{at}: patterns: at least one regular expression")
        else:
            for k, p in enumerate(pats):
                c = _compile(p, f"{where}:{pats.item_lines[k]}: indicator {ind_id}", problems)
                if c is not None:
                    compiled.append(c)
        age = spec.get("age")
        age_range = None
        if age is not None:
            if isinstance(age, list) and len(age) == 2 and all(isinstance(a, int) for a in age):
                age_range = (int(age[0]), int(age[1]))
                if not all("(?P<age>" in p.pattern for p in compiled):
                    problems.append(f"{at}: age: every pattern needs a group named 'age'")
            else:
                problems.append(f"{where}:{spec.line_of('age')}: indicator {ind_id}: age: "
                                "[min, max], two whole numbers")
        data.indicators[ind_id] = Indicator(
            ind_id, _text(spec, "label", at, problems), tuple(compiled),
            _text(spec, "explanation", at, problems), _sources(spec.get("sources"), at, problems),
            age_range, at.split(": ")[0])
    rules = raw.get("rules") or []
    if not isinstance(rules, list):
        problems.append(f"{where}:{raw.line_of('rules')}: rules: a list of rules")
        rules = []
    for k, spec in enumerate(rules):
        line = rules.item_lines[k] if isinstance(rules, LineList) else 0
        at = f"{where}:{line}: rule"
        if not isinstance(spec, LineMap):
            problems.append(f"{at}: must be a mapping of {', '.join(sorted(_KEYS_RULE))}")
            continue
        rid = spec.get("id")
        at = f"{where}:{line}: rule {rid}"
        for key in spec:
            if key not in _KEYS_RULE:
                problems.append(f"{where}:{spec.line_of(key)}: rule {rid}: {key}: unknown field "
                                f"(known: {', '.join(sorted(_KEYS_RULE))})")
        if not isinstance(rid, str) or not _ID.match(rid):
            problems.append(f"{at}: id: required; lower-case letters, digits and _")
        rank = _grade_rank(spec.get("points_to"))
        if rank is None:
            problems.append(f"{where}:{spec.line_of('points_to')}: rule {rid}: points_to: one of "
                            f"{', '.join(GRADES)}")
        any_ = _ids(spec.get("any"), f"{at}: any", problems)
        all_ = _ids(spec.get("all"), f"{at}: all", problems)
        least = spec.get("at_least")
        at_least = None
        if least is not None:
            if isinstance(least, dict) and set(least) == {"n", "of"} and \
                    isinstance(least["n"], int) and least["n"] >= 1:
                at_least = (int(least["n"]), _ids(least["of"], f"{at}: at_least: of", problems))
            else:
                problems.append(f"{at}: at_least: {{n: a whole number, of: [indicator ids]}}")
        if not (any_ or all_ or at_least):
            problems.append(f"{at}: needs a condition: any, all or at_least")
        data.rules.append(Rule(str(rid), rank or 0, any_, all_, at_least,
                               _text(spec, "rationale", at, problems),
                               _sources(spec.get("sources"), at, problems), at))
    blaming = raw.get("blaming_reasons", None)
    if blaming is None:
        blaming = LineList()
        blaming.item_lines = []
    if not isinstance(blaming, LineList):
        problems.append(f"{where}:{raw.line_of('blaming_reasons')}: blaming_reasons: a list of "
                        "regular expressions")
        blaming = LineList()
        blaming.item_lines = []
    for k, p in enumerate(blaming):
        c = _compile(p, f"{where}:{blaming.item_lines[k]}: blaming_reasons", problems)
        if c is not None:
            data.blaming.append(c)
    codes = raw.get("findings") or LineMap()
    for code, spec in codes.items() if isinstance(codes, LineMap) else ():
        at = f"{where}:{codes.line_of(code)}: finding {code}"
        if code not in CODES:
            problems.append(f"{at}: unknown code (the check reports {', '.join(CODES)})")
            continue
        if not isinstance(spec, LineMap) or set(spec) - _KEYS_CODE:
            problems.append(f"{at}: a mapping of {', '.join(sorted(_KEYS_CODE))}")
            continue
        sev = spec.get("severity")
        if sev not in ("caution", "avoid"):
            problems.append(f"{at}: severity: caution or avoid")
        data.codes[code] = Code(code, _text(spec, "term", at, problems), str(sev),
                                _text(spec, "explanation", at, problems),
                                _sources(spec.get("sources"), at, problems))


def load_risk_data(extra: Sequence[str | Path] = ()) -> RiskData:
    """The bundled indicators and rules, then each ``extra`` file (an organisation's own: an
    indicator or rule with an id already read replaces it). Raises `RiskDataError` naming every
    problem as ``file:line: ...``."""
    data = RiskData()
    problems: list[str] = []
    folder = resources.files("blamelex") / "data" / "risk"
    for name in BUNDLED:
        _read_file(folder / name, f"risk/{name}", data, problems)
    for path in extra:
        before = {r.id for r in data.rules}
        n_rules = len(data.rules)
        _read_file(Path(path), str(path), data, problems)
        added = data.rules[n_rules:]
        kept = [r for r in data.rules[:n_rules] if r.id not in {a.id for a in added}]
        data.rules = kept + added
        del before
    for rule in data.rules:
        named = set(rule.any) | set(rule.all) | set(rule.at_least[1] if rule.at_least else ())
        for ind in sorted(named - set(data.indicators)):
            problems.append(f"{rule.where}: unknown indicator {ind!r} (known: "
                            f"{', '.join(data.indicators)})")
    missing = [c for c in CODES if c not in data.codes]
    if missing and not problems:
        problems.append(f"risk/rules.yaml:1: findings: {', '.join(missing)} missing")
    if problems:
        raise RiskDataError(problems)
    return data


@cache
def bundled_risk_data() -> RiskData:
    """The bundled data, read once."""
    return load_risk_data()


def code_info(code: str) -> Code | None:
    """The explanation and sources of an RG code (for ``blamelex explain``), else None."""
    return bundled_risk_data().codes.get(code.upper())


# -- reading a note ---------------------------------------------------------------------------

_GATE = re.compile(r"risk|grad|\bNAR\b|absent|\bRA\b", re.IGNORECASE)
_WORD = r"(?P<g>very low|no apparent risk|high|medium|med|low|NAR)"
_GRADE_PATTERNS = (
    re.compile(r"\b" + _WORD + r"(?:[- ]risk)\b", re.IGNORECASE),
    re.compile(r"\brisk(?: level| grading| grade| assessment| rating)?(?:,? (?:is|was|remains|"
               r"now|set at|assessed as|assessed at|graded|of))?\s*[:=\-–]?\s*" + _WORD + r"\b",
               re.IGNORECASE),
    re.compile(r"\b(?:graded?|grading|RA|assessed|rated|set at|upgraded|downgraded|"
               r"categori[sz]ed|classed|recorded)(?: the episode| as| at| to| was| is| remains|"
               r" now|:)*\s*" + _WORD + r"\b", re.IGNORECASE),
    re.compile(r"\b(?P<g>NAR)\b"),
    re.compile(r"\bno apparent risk\b", re.IGNORECASE),
    re.compile(r"\b(?i:risk|RA|grade|graded)\s*[:\-–]?\s*(?P<g>[HML])\b"),
)
_ABSENT = re.compile(r"\b(?P<g>absent)\b(?! from)(?!ee)", re.IGNORECASE)
_ABSENT_STATUS = re.compile(r"\b(?:recorded|classed|classified|categori[sz]ed|graded|logged|"
                            r"treated|treating|status|is|as|she is|he is|say she is|say he is|"
                            r"now)\W+"
                            r"(?:as\W+)?$", re.IGNORECASE)
_ABSENT_OTHER = re.compile(r"\b(?:mum|dad|mother|father|parents?|carers?|teacher|staff|sw|worker|"
                           r"chair|officer)\s+$", re.IGNORECASE)
_RANK = {"very low": 0, "no apparent risk": 0, "nar": 0, "low": 1, "l": 1, "medium": 2,
         "med": 2, "m": 2, "high": 3, "h": 3, "absent": 0}
_OTHER_SENSE = re.compile(
    r"\b(?:re-?offend\w*|offend\w*|MAPPA|OASys|probation|licence|harm to others|slips?|trips?|"
    r"falls?|fire|health and safety|H&S|COSHH|BP|blood (?:pressure|sugar)|sats|obs|reading|"
    r"glucose|credit|flood\w*|infection|medication|suicide risk assessment)\b", re.IGNORECASE)
_RISK_OF = re.compile(r"^\s*(?:risk\s+)?of\s+(?P<what>[\w\s-]{1,30})", re.IGNORECASE)
_RISK_OF_OK = re.compile(r"^(?:serious |significant )?(?:harm|CSE|CCE|exploitation|sexual "
                         r"exploitation|criminal exploitation|abuse)", re.IGNORECASE)
_META = re.compile(
    r"\b(?:should|must|guidance|policy|procedures?|APP|training|slide|reminder|practice note|"
    r"definitions?|defined|means|continuum|categories|any child|a child|children(?!'?s? home)|"
    r"young people|all reports|missing persons are|officers should|where there is|a person|"
    r"forces|always (?:high|medium|low)|indicators? of)\b",
    re.IGNORECASE)
_MISSING_CONTEXT = re.compile(
    r"\b(?:missing|MFH|MISPER|whereabouts|not (?:returned|back|home|come home|arrive\w*)|"
    r"absent|AWOL|no trace|curfew|RHI|return home|not come home|has not come|returned|"
    r"located|episode)\b", re.IGNORECASE)
_REASON_AFTER = re.compile(
    r"\b(?:as|because|due to|given|owing to|in view of|on the basis of|based on|in light of|"
    r"considering|reasons?|rationale)\b", re.IGNORECASE)
_REASON_BEFORE = re.compile(r"\b(?:due to|because of|given|in view of|as a result of|therefore|"
                            r"so|hence|thus)\b", re.IGNORECASE)
_REASON_NEXT = re.compile(r"^\W*(?:rationale|reasons?|justification|due to|this is (?:due|"
                          r"because)|grading rationale)\b", re.IGNORECASE)
_REASON_SKIP = re.compile(r"(?:[- ]?risk\b)?(?:\s+(?:MFH|MISPER|misper))?(?:\s+(?:per|by)\s+"
                          r"(?:the\s+)?(?:police|control(?: room)?|sgt|inspector|insp|duty \w+))?",
                          re.IGNORECASE)
_KNOWN = re.compile(r"\b(?:whereabouts (?:are |is )?known|location is known|location known|"
                    r"known to be (?:at|with))\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:no|not|nil|denies|denied|never|without|none|negative for)\b[^.;]*$",
                       re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?;\n]+(?:[.!?;]+|\n|$)")


@dataclass(frozen=True)
class Grade:
    start: int
    end: int
    text: str
    rank: int
    kind: str
    """``grade`` or ``absent``."""


@dataclass(frozen=True)
class Hit:
    indicator: str
    label: str
    start: int
    end: int
    text: str


@dataclass
class RiskReading:
    """What the check read in one note."""

    grade: Grade
    indicators: list[Hit]
    points_to: int
    rules: list[Rule]
    reasons: tuple[int, int] | None
    blaming: list[tuple[int, int, str]]
    """(start, end, text) of blaming wording in the reasons."""
    whereabouts_known: bool


def _sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()]


def _sentence_of(bounds: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for a, b in bounds:
        if a <= pos < b:
            return a, b
    return 0, 0


class RiskCheck:
    """Reads notes and reports RG findings; ``extra`` are an organisation's own data files."""

    def __init__(self, extra: Sequence[str | Path] = ()) -> None:
        self.data = load_risk_data(extra) if extra else bundled_risk_data()

    # -- the grade --------------------------------------------------------------------------

    def _grades(self, text: str, bounds: list[tuple[int, int]]) -> list[Grade]:
        found: dict[tuple[int, int], Grade] = {}
        for pattern in _GRADE_PATTERNS:
            for m in pattern.finditer(text):
                a, b = (m.start("g"), m.end("g")) if "g" in pattern.groupindex else m.span()
                word = text[a:b].lower()
                if not any(x[0] <= a < x[1] for x in found):
                    found[(a, b)] = Grade(a, b, text[a:b], _RANK.get(word, 0), "grade")
        for m in _ABSENT.finditer(text):
            a, b = m.span("g")
            before = text[max(0, a - 40):a]
            if _ABSENT_OTHER.search(before) or not (_ABSENT_STATUS.search(before)
                                                    or text[a:b].isupper()):
                continue
            found[(a, b)] = Grade(a, b, text[a:b], 0, "absent")
        out = []
        for g in sorted(found.values(), key=lambda g: g.start):
            s, e = _sentence_of(bounds, g.start)
            sentence = text[s:e]
            if _OTHER_SENSE.search(sentence) or _META.search(sentence):
                continue
            after = _RISK_OF.match(text, g.end) if text[g.end:g.end + 12].lower().lstrip(
                " -").startswith(("risk of", "of")) else None
            if after and not _RISK_OF_OK.match(after.group("what")):
                continue
            distinct = {w.lower() for w in re.findall(r"\b(?:high|medium|low)\b", sentence,
                                                       re.IGNORECASE)}
            if len(distinct) >= 3:
                continue  # a list of grades: the scale, not this child's grade
            out.append(g)
        return out

    # -- indicators -------------------------------------------------------------------------

    def indicators(self, text: str) -> list[Hit]:
        """Every indicator in ``text`` that is not negated, one hit per indicator (its first)."""
        hits: list[Hit] = []
        for ind in self.data.indicators.values():
            for pattern in ind.patterns:
                hit = None
                for m in pattern.finditer(text):
                    if ind.age is not None:
                        age = int(m.group("age"))
                        if not ind.age[0] <= age <= ind.age[1]:
                            continue
                    lead = text[max(0, m.start() - 30):m.start()]
                    if _NEGATION.search(lead):
                        continue
                    hit = Hit(ind.id, ind.label, m.start(), m.end(), m.group())
                    break
                if hit is not None:
                    hits.append(hit)
                    break
        if any(h.indicator == "age_under_13" for h in hits):
            hits = [h for h in hits if h.indicator != "age_13_15"]
        return sorted(hits, key=lambda h: h.start)

    # -- the whole note ---------------------------------------------------------------------

    def read(self, text: str) -> RiskReading | None:
        """The note's current grade (its last) and what goes with it, or None when the note
        states no grade or status of a missing child."""
        if not _GATE.search(text) or not _MISSING_CONTEXT.search(text):
            return None
        bounds = _sentences(text)
        grades = self._grades(text, bounds)
        if not grades:
            return None
        grade = grades[-1]
        hits = self.indicators(text)
        present = {h.indicator for h in hits}
        fired = [r for r in self.data.rules if r.holds(present)]
        points = max((r.points_to for r in fired), default=0)
        reasons = self._reasons(text, bounds, grade)
        blaming = []
        if reasons is not None:
            a, b = reasons
            for pattern in self.data.blaming:
                for m in pattern.finditer(text, a, b):
                    blaming.append((m.start(), m.end(), m.group()))
        return RiskReading(grade, hits, points, fired, reasons, sorted(set(blaming)),
                           bool(_KNOWN.search(text)))

    @staticmethod
    def _reasons(text: str, bounds: list[tuple[int, int]], grade: Grade) -> tuple[int, int] | None:
        s, e = _sentence_of(bounds, grade.start)
        lead = _REASON_SKIP.match(text, grade.end, e)
        after = lead.end() if lead else grade.end
        rest = text[after:e]
        stripped = rest.strip().rstrip(".!?;")
        words = re.findall(r"[A-Za-z]+", stripped)
        m = _REASON_AFTER.search(rest)
        if m and len(re.findall(r"[A-Za-z]+", rest[m.end():])) >= 1:
            return after + m.start(), e
        if stripped[:1] in "-–:(," and len(words) >= 2:
            return after, e
        if _REASON_BEFORE.search(text, s, grade.start):
            return s, grade.start
        k = bounds.index((s, e)) if (s, e) in bounds else -1
        if 0 <= k < len(bounds) - 1:
            a, b = bounds[k + 1]
            if _REASON_NEXT.match(text[a:b]):
                return a, b
        return None

    def assess(self, text: str, findings: Iterable[Flagged] = ()) -> list[Finding]:
        """The RG findings of a note; ``findings`` are the note's kept lexicon/model findings
        (a VB finding in the reasons for the grade is linked from RG104)."""
        reading = self.read(text)
        if reading is None:
            return []
        g = reading.grade
        codes = self.data.codes
        ind_related = tuple(Related("indicator", h.indicator, h.start, h.end, h.text, h.label)
                            for h in reading.indicators)
        labels = "; ".join(f"{h.label} ('{h.text}')" for h in reading.indicators)
        listed = f"Indicators in this note: {labels}." if labels else \
            "No indicator of the rules was found in this note."
        out: list[Finding] = []

        def make(code: str, detail: str, suggestion: str,
                 related: tuple[Related, ...] = ind_related) -> None:
            info = codes[code]
            out.append(Finding(
                start=g.start, end=g.end, text=g.text, code=code, category=CATEGORY,
                severity=info.severity, score=1.0,
                explanation=f"{info.explanation} {detail}".strip(),
                suggestions=(Suggestion(suggestion, g.start, g.end),),
                sources=info.sources, origin=ORIGIN, term=info.term,
                trace=(TraceStep("risk", "grade", float(g.rank),
                                 f"grade or status {g.text!r} (rank {g.rank} of "
                                 f"{len(GRADES) - 1})"),
                       TraceStep("risk", "points_to", float(reading.points_to),
                                 "rules: " + (", ".join(r.id for r in reading.rules) or "none")
                                 + f" -> {GRADES[reading.points_to]}")),
                related=related))

        target = GRADES[reading.points_to]
        if reading.points_to > g.rank:
            why = " ".join(f"Rule {r.id} ({GRADES[r.points_to]}): {r.rationale}"
                           for r in reading.rules if r.points_to > g.rank)
            make("RG101", f"{listed} {why}",
                 f"Review the grade with all the information held. {listed} Under the rules "
                 f"they point to at least {target} risk. Record the reasons for the grade.")
        if g.kind == "absent" and not reading.whereabouts_known:
            make("RG102", listed,
                 "Record the child as missing (whereabouts unknown) and grade the risk: no "
                 f"apparent risk/very low, low, medium or high. {listed} Under the rules they "
                 f"point to at least {target}. Record the reasons for the grade.")
        if g.kind == "grade" and reading.reasons is None:
            make("RG103", listed,
                 f"Record the reasons for the grade. {listed} Under the rules they point to at "
                 f"least {target}.")
        if g.kind == "grade" and reading.reasons is not None:
            a, b = reading.reasons
            # wording that names an indicator raises the grade, whatever its words (the VB
            # finding on them stands on its own): only the rest can be a blaming reason
            hits = reading.indicators

            def names_indicator(start: int, end: int) -> bool:
                # the wording itself, or its object just after it ("associating with [older
                # males]")
                return any(h.start < end + 15 and start < h.end for h in hits)

            vb = [f for f in findings if f.category != CATEGORY and a < f.end and f.start < b
                  and not names_indicator(f.start, f.end)]
            blaming = [x for x in reading.blaming if not names_indicator(x[0], x[1])]
            if vb or blaming:
                rel = tuple(Related("finding", f.code, f.start, f.end, f.text, f.term)
                            for f in vb)
                shown = ", ".join(f"'{f.text}' ({f.code})" for f in vb) or ", ".join(
                    f"'{t}'" for _, _, t in blaming)
                make("RG104", f"The reason given rests on {shown}. {listed}",
                     "Record the reasons for the grade in terms of the risk to the child and what "
                     f"is known, not the child's behaviour. {listed} Under the rules they point "
                     f"to at least {target}.", rel + ind_related)
        return out


__all__ = ["CATEGORY", "CODES", "GRADES", "RiskCheck", "RiskData", "RiskDataError",
           "RiskReading", "bundled_risk_data", "code_info", "load_risk_data"]
