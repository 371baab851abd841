"""Context rules (ConText-style, as data) that write modifiers on candidates.

The rules live in ``data/context_rules.yaml``. Every rule works inside one sentence:

* trigger rules (NEGATED, REPORTED, META): a trigger phrase before / after / around the candidate,
  within a window of tokens and not cut off by a terminator; a pseudo-trigger overlapping the
  trigger cancels it ("not only" is no negation; "staff state" is the record's own voice);
* QUOTED: the candidate lies inside quotation marks;
* REFERENT: the subject of the candidate's clause is an adult (an age of 18 or more, "the man",
  "the suspect", "Mr", "mother"...), found by walking back from the candidate to the nearest
  nominal cue, skipping prepositional objects ("by an older male") and resolving a subject
  pronoun to an earlier cue of compatible gender in the same clause;
* SENSE: one of the entry's own ``not_when`` patterns overlaps the candidate.

What each modifier does to the score is data too (``effects``): ``drop`` or a ``factor``.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from spacy.lang.en.lex_attrs import like_num
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from blamelex.findings import Modifier
from blamelex.lexicon.patterns import PatternError, compile_pattern
from blamelex.matching import Candidate
from blamelex.sentences import sentence_bounds
from blamelex.tokenregex import TokenMatcher, TokenText

_DETERMINERS = frozenset(
    "the a an this that these those his her their its older old young younger local known "
    "unknown adult several two three some other another same alleged named said".split()
)


# words that end an age expression ("34-year-old", "15 years"); other age cues start with a digit
_AGE_ENDS = frozenset({"old", "olds", "yo", "yrs", "yr", "years"})


class ContextRuleError(ValueError):
    """The context rules file is invalid."""


@dataclass(frozen=True)
class TriggerRule:
    """One trigger rule: a modifier, its direction and window, its patterns' key."""

    id: str
    modifier: str
    direction: str
    window: int
    quoted_window: int
    terminators: frozenset[str]
    applies_to: str = "any"
    enclosing: bool = False
    shares: frozenset[str] = frozenset()
    """Words a trigger may end on when the candidate starts with the same word ("describes
    the 14-year-old as" + "as his partner"): the trigger then stands right before it."""


@dataclass(frozen=True)
class Effect:
    """What a modifier does to a candidate's score."""

    effect: str
    factor: float


def _load_rules_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        text = (resources.files("blamelex") / "data" / "context_rules.yaml").read_text("utf-8")
        where = "context_rules.yaml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        where = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContextRuleError(f"{where}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ContextRuleError(f"{where}: top level must be a mapping")
    return data


def _cancelled(trigger: tuple[str, int, int], pseudo: Mapping[str, list[tuple[int, int]]]) -> bool:
    """Whether a pseudo-trigger of the trigger's rule overlaps it ("not only" is no negation)."""
    key, start, end = trigger
    return any(ps < end and start < pe for ps, pe in pseudo.get(key, []))


class ContextRules:
    """Applies the context rules to the candidates of one doc."""

    def __init__(
        self,
        vocab: Vocab,
        sets: Mapping[str, list[str]],
        path: Path | None = None,
    ) -> None:
        data = _load_rules_file(path)
        self._matcher = TokenMatcher()
        self.effects = {
            name: Effect(str(v.get("effect", "drop")), float(v.get("factor", 0.0)))
            for name, v in data.get("effects", {}).items()
        }
        default_terms = frozenset(t.lower() for t in data.get("terminators", []))
        self.rules: dict[str, TriggerRule] = {}
        self._shared: frozenset[str] = frozenset()
        for raw in data.get("rules", []):
            rule = TriggerRule(
                id=str(raw["id"]),
                modifier=str(raw["modifier"]),
                direction=str(raw.get("direction", "backward")),
                window=int(raw.get("window", 5)),
                quoted_window=int(raw.get("quoted_window", raw.get("window", 5))),
                terminators=default_terms | {t.lower() for t in raw.get("terminators", [])},
                applies_to=str(raw.get("applies_to", "any")),
                enclosing=bool(raw.get("enclosing", False)),
                shares=frozenset(str(w).lower() for w in raw.get("shares", [])),
            )
            if rule.direction not in {"backward", "forward", "both"}:
                raise ContextRuleError(f"rule {rule.id}: direction must be backward/forward/both")
            if rule.modifier not in self.effects:
                raise ContextRuleError(f"rule {rule.id}: no effect defined for {rule.modifier}")
            self.rules[rule.id] = rule
            self._shared |= rule.shares
            self._add(rule.id, raw.get("patterns", []), sets)
            self._add("PSEUDO:" + rule.id, raw.get("pseudo", []), sets)
        quotation = data.get("quotation", {})
        self.quote_modifier = str(quotation.get("modifier", "QUOTED"))
        self.quote_open = frozenset(quotation.get("open", []))
        self.quote_close = frozenset(quotation.get("close", []))
        self._quote_marks = self.quote_open | self.quote_close
        ref = data.get("referent", {})
        self.ref_modifier = str(ref.get("modifier", "REFERENT"))
        self.ref_window = int(ref.get("window", 15))
        self.adult_age = int(ref.get("adult_age", 18))
        self.prepositions = frozenset(p.lower() for p in ref.get("prepositions", []))
        self.boundaries = frozenset(b.lower() for b in ref.get("boundaries", []))
        self.collectives = frozenset(c.lower() for c in ref.get("collectives", []))
        self.pronouns = {k.lower(): str(v) for k, v in ref.get("pronouns", {}).items()}
        self._cue_kinds: dict[str, tuple[str, str]] = {}
        for kind in ("adult", "child"):
            for i, cue in enumerate(ref.get(kind, [])):
                key = f"CUE:{kind}:{cue.get('gender', 'unknown')}:{i}"
                self._cue_kinds[key] = (kind, str(cue.get("gender", "unknown")))
                self._add(key, [cue["pattern"]], sets)

    def _add(self, key: str, patterns: Sequence[str], sets: Mapping[str, list[str]]) -> None:
        compiled = []
        for pat in patterns:
            try:
                compiled.append(compile_pattern(pat, sets))
            except PatternError as exc:
                raise ContextRuleError(f"context rule {key}: {pat!r}: {exc}") from exc
        if compiled:
            self._matcher.add(key, compiled)

    # -- application -------------------------------------------------------------------------

    def apply(
        self,
        doc: Doc,
        candidates: Sequence[Candidate],
        senses: Mapping[str, list[tuple[int, int]]] | None = None,
        text: TokenText | None = None,
    ) -> None:
        """Write modifiers on each candidate (in place).

        SENSE is normally set by the matcher already (benign senses are settled before overlaps);
        ``senses`` adds further benign-sense ranges by entry code; ``text`` is the doc's
        `TokenText` if the caller already has it.
        """
        senses = senses or {}
        if not candidates:
            return
        if text is None:
            text = TokenText.of(doc)
        bounds = sentence_bounds(doc, text)
        starts = [b[0] for b in bounds]
        triggers: list[tuple[str, int, int]] = []
        pseudo: dict[str, list[tuple[int, int]]] = {}
        cues: dict[int, tuple[str, str, int]] = {}
        # every rule works inside one sentence: match only the sentences holding candidates
        wanted = sorted({max(bisect.bisect_right(starts, c.span.start) - 1, 0)
                         for c in candidates})
        found = []
        for k in wanted:
            s_start, s_end = bounds[k]
            found += self._matcher(text, s_start, s_end)
        for key, start, end in found:
            if key.startswith("PSEUDO:"):
                pseudo.setdefault(key[7:], []).append((start, end))
            elif key.startswith("CUE:"):
                kind, gender = self._cue_kinds[key]
                head = end - 1
                if head not in cues or end - start > cues[head][2]:
                    cues[head] = (kind, gender, end - start)
            else:
                triggers.append((key, start, end))
        triggers = [t for t in triggers if not _cancelled(t, pseudo)]
        lowers = text.lowers
        for cand in candidates:
            idx = bisect.bisect_right(starts, cand.span.start) - 1
            s_start, s_end = bounds[max(idx, 0)]
            quoted = self._in_quotes(doc, lowers, s_start, s_end, cand.span.start, cand.span.end)
            for key, t_start, t_end in triggers + self._sharing(text, s_start, cand, pseudo):
                if t_start < s_start or t_end > s_end:
                    continue
                rule = self.rules[key]
                if rule.applies_to != "any" and rule.applies_to != cand.entry.applies_to:
                    continue
                window = rule.quoted_window if quoted else rule.window
                if self._in_scope(lowers, rule, window, t_start, t_end, cand):
                    self._mark(cand, rule.modifier, rule.id, Span(doc, t_start, t_end).text)
            if quoted:
                self._mark(cand, self.quote_modifier, "quotation.marks", quoted)
            for s, e in senses.get(cand.entry.code, []):
                if s < cand.span.end and cand.span.start < e:
                    self._mark(cand, "SENSE", f"sense.{cand.entry.code}", Span(doc, s, e).text)
            if cand.entry.applies_to == "child":
                adult = self._adult_referent(doc, lowers, s_start, cand, cues)
                if adult:
                    self._mark(cand, self.ref_modifier, "referent.adult", adult)

    def _sharing(
        self, text: TokenText, s_start: int, cand: Candidate,
        pseudo: Mapping[str, list[tuple[int, int]]],
    ) -> list[tuple[str, int, int]]:
        """Triggers that end on the candidate's first word when a rule shares that word
        (searched up to that word: a trigger's longest match could run on past it; `_in_scope`
        checks the rule)."""
        first = cand.span.start
        if first <= s_start or text.lowers[first] not in self._shared:
            return []
        return [t for t in self._matcher(text, s_start, first + 1)
                if t[2] == first + 1 and t[0] in self.rules and not _cancelled(t, pseudo)]

    def _mark(self, cand: Candidate, name: str, rule: str, trigger: str) -> None:
        if any(m.name == name for m in cand.modifiers):
            return
        effect = self.effects.get(name, Effect("drop", 0.0))
        factor = 0.0 if effect.effect == "drop" else effect.factor
        cand.modifiers.append(Modifier(name, rule, trigger, effect.effect, factor))

    def _in_scope(
        self,
        lowers: Sequence[str],
        rule: TriggerRule,
        window: int,
        t_start: int,
        t_end: int,
        cand: Candidate,
    ) -> bool:
        c_start, c_end = cand.span.start, cand.span.end
        # a terminator inside a trigger's wildcards ends its scope too ("describes her mood as
        # low; however, as ..."): words after the trigger's first one are checked with the gap
        if not rule.terminators.isdisjoint(lowers[t_start + 1:t_end - 1]):
            return False
        if t_start < c_start and t_end == c_start + 1 and lowers[c_start] in rule.shares \
                and rule.direction in {"backward", "both"}:
            return True  # the trigger ends on the word the candidate starts with (`shares`)
        if t_start < c_end and c_start < t_end:
            # a trigger inside the candidate is part of the term itself; one that wraps around
            # it ("replace ... with") counts only for enclosing rules
            return rule.enclosing and t_start < c_start and c_end < t_end
        if t_end <= c_start and rule.direction in {"backward", "both"}:
            gap = range(t_end, c_start)
        elif t_start >= c_end and rule.direction in {"forward", "both"}:
            gap = range(c_end, t_start)
        else:
            return False
        if len(gap) > window:
            return False
        return rule.terminators.isdisjoint(lowers[gap.start : gap.stop])

    def _in_quotes(
        self, doc: Doc, lowers: Sequence[str], s_start: int, s_end: int, c_start: int, c_end: int
    ) -> str:
        """The quoted text containing the candidate, or '' if it is not in quotation marks."""
        if self._quote_marks.isdisjoint(lowers[s_start:s_end]):
            return ""
        open_at: int | None = None
        for i in range(s_start, s_end):
            text = lowers[i]
            if open_at is None:
                if text in self.quote_open:
                    open_at = i
            elif text in self.quote_close:
                if open_at < c_start and c_end <= i:
                    return Span(doc, open_at, i + 1).text
                open_at = None
        return ""

    @staticmethod
    def _age_cue(lowers: Sequence[str], i: int, s_start: int) -> int | None:
        """The age if token ``i`` ends an age expression ("34-year-old", "aged 34", "34yo")."""
        low = lowers[i]
        if low not in _AGE_ENDS and not low[:1].isdecimal():  # most tokens: no age ends here
            return None
        if low in _AGE_ENDS:
            j = i - 1
            while j >= s_start and lowers[j] in {"-", "year", "years", "yr", "yrs"}:
                j -= 1
            if j >= s_start and lowers[j].isdecimal():
                return int(lowers[j])
            return None
        if low.isdecimal() and i > s_start and lowers[i - 1] in {"aged", "age"}:
            return int(low)
        # an age in brackets or between commas after a noun: "boyfriend (24)", "Kai, 15,"
        if low.isdecimal() and 10 <= int(low) <= 99 and i > s_start \
                and i + 1 < len(lowers) and lowers[i - 1] in {"(", ","} \
                and lowers[i + 1] in {")", ","}:
            return int(low)
        if low[:1].isdecimal() and low.endswith(("yo", "yrs", "yr")):
            digits = low.rstrip("oyrs")
            if digits.isdecimal():
                return int(digits)
        return None

    def _cue_at(
        self, lowers: Sequence[str], i: int, s_start: int, cues: Mapping[int, tuple[str, str, int]]
    ) -> tuple[str, str] | None:
        age = self._age_cue(lowers, i, s_start)
        if age is not None:
            return ("adult" if age >= self.adult_age else "child", "unknown")
        if i in cues:
            kind, gender, _ = cues[i]
            # an age right before or after the noun decides: "16yo male", "his cousin, 21,"
            for j in (i - 1, i - 2, i + 2, i + 3):
                if s_start <= j < len(lowers) and j != i:
                    near = self._age_cue(lowers, j, s_start)
                    if near is not None:
                        return ("adult" if near >= self.adult_age else "child", gender)
            return (kind, gender)
        return None

    def _is_object(self, lowers: Sequence[str], i: int, s_start: int, length: int = 1) -> bool:
        """True if the cue ending at ``i`` follows a preposition ("by an older male")."""
        j = i - length
        for _ in range(4):
            if j < s_start:
                return False
            low = lowers[j]
            if low in self.prepositions:
                before = lowers[j - 1] if j - 1 >= s_start else ""
                return not (low == "of" and before in self.collectives)
            if low not in _DETERMINERS and not like_num(low):  # type: ignore[no-untyped-call]
                return False
            j -= 1
        return False

    def _adult_referent(
        self,
        doc: Doc,
        lowers: Sequence[str],
        s_start: int,
        cand: Candidate,
        cues: Mapping[int, tuple[str, str, int]],
    ) -> str:
        """Return the adult cue text if the candidate's clause is about an adult, else ''."""
        i = cand.span.start - 1
        stop = max(s_start, cand.span.start - self.ref_window)
        pronoun: str | None = None
        while i >= stop:
            low = lowers[i]
            nxt = lowers[i + 1] if i + 1 < len(lowers) else ""
            if low in self.boundaries and nxt != "to":  # "believed to be" keeps its subject
                break
            cue = self._cue_at(lowers, i, s_start, cues)
            if cue is not None and not self._is_object(lowers, i, s_start,
                                                       self._cue_len(lowers, i)):
                kind, gender = cue
                if pronoun is None:
                    return self._cue_text(doc, lowers, i, s_start) if kind == "adult" else ""
                compatible = "unknown" in (gender, pronoun) or gender == pronoun
                if compatible:
                    return self._cue_text(doc, lowers, i, s_start) if kind == "adult" else ""
            elif pronoun is None and low in self.pronouns:
                pronoun = self.pronouns[low]
            i -= 1
        return ""

    @staticmethod
    def _cue_len(lowers: Sequence[str], i: int) -> int:
        j = i
        while j > 0 and lowers[j] in {"old", "-", "year", "years", "yo", "yrs"}:
            j -= 1
        return i - j + 1

    def _cue_text(self, doc: Doc, lowers: Sequence[str], i: int, s_start: int) -> str:
        return Span(doc, max(s_start, i - self._cue_len(lowers, i) + 1), i + 1).text
