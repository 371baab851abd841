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
from pathlib import Path

from spacy.lang.en.lex_attrs import like_num
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from blamelex.context_rules import (
    SENSE,
    ContextRuleError,
    ContextRuleSet,
    Effect,
    TriggerRule,
    load_context_rules,
)
from blamelex.findings import Modifier
from blamelex.lexicon.patterns import PatternError, parse_pattern
from blamelex.matching import Candidate
from blamelex.sentences import sentence_bounds
from blamelex.tokenregex import TokenMatcher, TokenText


def _cancelled(trigger: tuple[str, int, int], pseudo: Mapping[str, list[tuple[int, int]]]) -> bool:
    """Whether a pseudo-trigger of the trigger's rule overlaps it ("not only" is no negation)."""
    key, start, end = trigger
    return any(ps < end and start < pe for ps, pe in pseudo.get(key, []))


class ContextRules:
    """Applies the context rules to the candidates of one doc.

    ``rules``: a rule set from `blamelex.context_rules.load_context_rules`; by default the
    bundled rules plus those in the ``extra_rules`` files (an organisation's own). Raises
    `ContextRuleError` (``file:line: ...``) for an invalid file or a pattern that cannot compile.
    """

    def __init__(
        self,
        vocab: Vocab,
        sets: Mapping[str, list[str]],
        rules: ContextRuleSet | None = None,
        *,
        extra_rules: Sequence[str | Path] = (),
    ) -> None:
        spec = rules if rules is not None else load_context_rules(extra_rules)
        self.spec = spec
        self._matcher = TokenMatcher()
        self.effects: Mapping[str, Effect] = spec.effects
        self._overriding = any(e.overrides for e in spec.effects.values())
        self.rules: dict[str, TriggerRule] = {r.id: r for r in spec.rules}
        self._shared: frozenset[str] = frozenset().union(*(r.shares for r in spec.rules))
        problems: list[str] = []
        for rule in spec.rules:
            where = f"rule {rule.id}"
            self._add(rule.id, rule.patterns, rule.file, rule.pattern_lines, where, sets, problems)
            self._add("PSEUDO:" + rule.id, rule.pseudo, rule.file, rule.pseudo_lines,
                      f"{where}: pseudo", sets, problems)
        self.quote_modifier = spec.quotation.modifier
        self.quote_open = spec.quotation.open
        self.quote_close = spec.quotation.close
        self._quote_marks = self.quote_open | self.quote_close
        ref = spec.referent
        self.referent = ref
        self.ref_modifier = ref.modifier
        self.ref_window = ref.window
        self.adult_age = ref.adult_age
        self.prepositions = ref.prepositions
        self.boundaries = ref.boundaries
        self.collectives = ref.collectives
        self.pronouns = ref.pronouns
        self._age_words = ref.age_ends | ref.age_joiners  # the words of "34 - year - old"
        self._cue_kinds: dict[str, tuple[str, str]] = {}
        counts: dict[str, int] = {}
        for cue in ref.cues:
            i = counts[cue.kind] = counts.get(cue.kind, -1) + 1
            key = f"CUE:{cue.kind}:{cue.gender}:{i}"
            self._cue_kinds[key] = (cue.kind, cue.gender)
            self._add(key, [cue.pattern], cue.file, (cue.line,), f"referent: {cue.kind} cue",
                      sets, problems)
        if problems:
            raise ContextRuleError(problems)

    def _add(
        self,
        key: str,
        patterns: Sequence[str],
        file: str,
        lines: Sequence[int],
        what: str,
        sets: Mapping[str, list[str]],
        problems: list[str],
    ) -> None:
        compiled = []
        for pat, line in zip(patterns, lines, strict=True):
            try:
                compiled.append(parse_pattern(pat, sets))
            except PatternError as exc:
                problems.append(f"{file}:{line}: {what}: {pat!r}: {exc}")
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

        A candidate whose ``sense`` the matcher set (a match of the entry's own ``not_when``
        patterns: benign senses are settled before overlaps) is marked SENSE first; ``senses``
        adds benign-sense ranges (token start, end) by entry code; ``text`` is the doc's
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
            if cand.sense is not None:
                self._mark(cand, SENSE, f"sense.{cand.entry.code}", Span(doc, *cand.sense).text)
            for s, e in senses.get(cand.entry.code, ()):
                if s < cand.span.end and cand.span.start < e:
                    self._mark(cand, SENSE, f"sense.{cand.entry.code}", Span(doc, s, e).text)
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
            if cand.entry.applies_to == "child":
                adult = self._adult_referent(doc, lowers, s_start, cand, cues)
                if adult:
                    self._mark(cand, self.ref_modifier, "referent.adult", adult)
            if self._overriding and cand.modifiers:
                lifted = {name for m in cand.modifiers
                          for name in self.effects[m.name].overrides if m.name in self.effects}
                if lifted:
                    cand.modifiers[:] = [m for m in cand.modifiers if m.name not in lifted]

    def voice(self, modifiers: Sequence[Modifier]) -> str:
        """The voice a candidate's modifiers give it: ``reported`` when an ``attribute``
        modifier says so, else ``own``."""
        for m in modifiers:
            if m.effect == "attribute":
                effect = self.effects.get(m.name)
                if effect is not None and effect.voice:
                    return effect.voice
        return "own"

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
        factor = 0.0 if effect.effect == "drop" else effect.factor  # attribute: 1.0
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

    def _age_cue(self, lowers: Sequence[str], i: int, s_start: int) -> int | None:
        """The age if token ``i`` ends an age expression ("34-year-old", "aged 34", "34yo")."""
        low = lowers[i]
        ref = self.referent
        if low in ref.age_ends:
            j = i - 1
            while j >= s_start and lowers[j] in ref.age_joiners:
                j -= 1
            if j >= s_start and lowers[j].isdecimal():
                return int(lowers[j])
            return None
        if not low[:1].isdecimal():  # most tokens: no age ends here
            return None
        if low.isdecimal():
            if i > s_start and lowers[i - 1] in ref.age_before:
                return int(low)
            # an age in brackets or between commas after a noun: "boyfriend (24)", "Kai, 15,"
            youngest, oldest = ref.bracket_ages
            if youngest <= int(low) <= oldest and i > s_start and i + 1 < len(lowers) \
                    and lowers[i - 1] in ref.bracket_open and lowers[i + 1] in ref.bracket_close:
                return int(low)
            return None
        for suffix in ref.age_suffixes:
            if low.endswith(suffix) and low[:-len(suffix)].isdecimal():
                return int(low[:-len(suffix)])
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
                # "a group of adults": the cue is the head of the subject
                return not (low in self.referent.collective_links and before in self.collectives)
            if low not in self.referent.determiners \
                    and not like_num(low):  # type: ignore[no-untyped-call]
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
            # a boundary ends the clause, except before "to": "believed to be" keeps its subject
            if low in self.boundaries and nxt not in self.referent.continues_with:
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

    def _cue_len(self, lowers: Sequence[str], i: int) -> int:
        """How many tokens the cue ending at ``i`` has ("34 - year - old": 5)."""
        j = i
        while j > 0 and lowers[j] in self._age_words:
            j -= 1
        return i - j + 1

    def _cue_text(self, doc: Doc, lowers: Sequence[str], i: int, s_start: int) -> str:
        return Span(doc, max(s_start, i - self._cue_len(lowers, i) + 1), i + 1).text
