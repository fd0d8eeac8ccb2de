"""Claim checking: is each claim of a statement supported, contradicted, outdated, or not in
the documents? The same evidence and checks as answers, with the claim in place of a question.

`split_claims` cuts a statement into claims (its sentences), keeping offsets. Each claim
gets the answer pipeline's candidates (sentences in context, ranked). A name no retrieved text
mentions makes it "not in the documents". Candidates on the claim's point (holding most of its
words, in context) then decide it, with the general checks of `checks.py`:
- one that negates what the claim affirms, binds its action to another name, says its value
  changed, or states other figures or names in its place, contradicts it;
- one with every figure of the claim (itself: its context says what "it" is, not what it
  costs) and every name (it or its context) and no clash supports it, when the LLM judge
  says it states the claim (asked of each such sentence in its context; two questions, read
  from the logits) or, without an LLM, when it holds enough of the claim's words;
- when the supporting and contradicting sentences come from documents of different dates, the
  newer decides: true before and changed since is "outdated", with both spans; with no
  supporting sentence, one that says the value changed from the claim's ("rises from €4,350 to
  €4,590") makes it "outdated" too, citing that sentence (it holds both values).
Not here: answering questions (`pipeline.py`), formatting for people (the surfaces).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.answer.checks import (
    changed_from,
    excluded,
    misbound,
    missing_specifics,
    negates,
    polarity_clash,
    replaced,
)
from assistant.answer.evidence import Evidence, coverage
from assistant.answer.question import Question, read_question
from assistant.core import prompts
from assistant.core.models import Citation, ClaimCheck, ClaimVerdict, VerdictName
from assistant.core.text import content_words, covers, one_line, sentence_spans, stems
from assistant.llm.generators import Generator, Message

CANDIDATES = 3  # candidates a claim is weighed against
ON_POINT = 0.5  # least share of the claim's words a candidate (in context) holds to bear on it
SUPPORT_AT = 0.62  # without an LLM: least (relevance + coverage) / 2 to support
STATED_AT = 0.25  # the LLM judge's least mean of P(yes) and P(true) that a passage states the claim
OWN_WORDS = 0.75  # without an LLM: least share of the claim's words, names aside, its support holds
CLOSER = 0.1  # a contradicting sentence this near the supporting one's coverage wins

Gather = Callable[[Question], tuple[list[Evidence], list[str]]]


def split_claims(statement: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each claim in `statement`: its sentences. Clauses joined by
    "and", "but" or ";" are not split: that gained only on the dev claims (see
    docs/evaluation.md)."""
    return [(s, e) for s, e in sentence_spans(statement) if any(c.isalnum() for c in statement[s:e])]


def stated(generator: Generator, claim: str, passage: str) -> float | None:
    """How surely `passage` states the claim: the mean of P("yes") to "does it state it?" and
    P("true") to "true, false or not stated?", each read from the reply's first token (the
    passage and claim come first, so the second question costs only its own tokens); None when
    the backend offers no logits."""
    probs = []
    for question, options, wanted in ((prompts.CLAIM_STATES, ["yes", "no"], "yes"),
                                      (prompts.CLAIM_TRUTH, ["true", "false", "unknown"], "true")):
        user = prompts.CLAIM_USER.format(passage=passage, claim=claim, question=question)
        got = generator.choose([Message("system", prompts.CLAIM_SYSTEM), Message("user", user)], options)
        if got is None:
            return None
        probs.append(got[wanted])
    return sum(probs) / len(probs)


def first_stated(generator: Generator, claim: str, holding: list[Evidence],
                 ) -> tuple[Evidence, float] | None:
    """The most relevant sentence the judge says states the claim (in its context), or else the
    one it rated highest, with its score; None when the backend gives no logits. The most
    relevant, not the highest rated: the sentence after the one that states a claim rates as
    high, since the judge reads it after its context (measured on the dev claims)."""
    rated: list[tuple[Evidence, float]] = []
    for e in holding:
        p = stated(generator, claim, e.in_context)
        if p is None:
            return None
        if p >= STATED_AT:
            return e, p
        rated.append((e, p))
    return max(rated, key=lambda r: r[1])


@dataclass
class _Verdict:
    verdict: VerdictName
    reason: str
    cited: list[Evidence] = field(default_factory=list)
    against: Evidence | None = None


def listed_against(claim: str, e: Evidence) -> bool:
    """The claim affirms an item of a list whose lead-in negates it ("The warranty covers theft"
    against "- theft;" under "This warranty does not cover:")."""
    return excluded(claim, e.text, e.under, e.title) and not negates(claim)


class ClaimChecker:
    def __init__(self, gather: Gather, generator: Generator | None = None) -> None:
        self.gather = gather
        self.generator = generator

    def check(self, statement: str, backend: str = "") -> ClaimCheck:
        t0 = time.perf_counter()
        verdicts = []
        for start, end in split_claims(statement):
            claim = statement[start:end].strip().rstrip(".;,")
            pool, unknown = self.gather(read_question(claim))
            decided = self.decide(claim, pool, unknown)
            verdicts.append(self._verdict(statement, start, end, decided))
        return ClaimCheck(statement, verdicts, backend, {"total_s": round(time.perf_counter() - t0, 3)})

    def decide(self, claim: str, pool: list[Evidence], unknown: list[str]) -> _Verdict:
        q = read_question(claim)
        names = [n for n in unknown if n in q.names]
        if not pool or names:
            what = ", ".join(n.title() for n in names) or "it"
            return _Verdict("not in the documents", f"no retrieved sentence mentions {what}")
        on_point = [e for e in pool[:CANDIDATES] if coverage(q, e) >= ON_POINT]
        against = [e for e in on_point if polarity_clash(claim, e.text) or listed_against(claim, e)
                   or misbound(claim, e.text)
                   or changed_from(claim, e.text)
                   or (missing_specifics(claim, f"{e.title} {e.in_context}") and replaced(claim, e.text))]
        # Against, the context lends its figures (a neighbour of the sentence that states the
        # claim's figure is not another figure in its place); for support, it lends only names.
        holding = [e for e in on_point if e not in against
                   and not missing_specifics(claim, e.text, f"{e.title} {e.context}")]
        support, why = self._support(claim, holding)
        if support and against:
            newer = max(against, key=lambda e: e.published)
            if newer.published and support.published and newer.published > support.published:
                return _Verdict("outdated", f"true by {support.title} ({support.published}), changed "
                                f"by {newer.title} ({newer.published})", [support], newer)
            if coverage(q, against[0]) >= coverage(q, support) - CLOSER:
                support = None  # a sentence as close to the claim says otherwise
        if support:
            return _Verdict("supported", why, [support])
        change = against[0] if against and changed_from(claim, against[0].text) else None
        if change is not None:  # "rises from €4,350 to €4,590": the claim's value held until then
            dated = f" ({change.title}, {change.published})" if change.published else ""
            return _Verdict("outdated", f"sentence {change.number}{dated} says that value changed "
                            "from the claim's", [change])
        if against:
            e = against[0]
            why = ("it states the opposite" if polarity_clash(claim, e.text)
                   else f"its list says “{one_line(e.under)}”" if listed_against(claim, e)
                   else f"it binds that to another name ({'; '.join(misbound(claim, e.text))})"
                   if misbound(claim, e.text) else "it states other figures or names in their place")
            return _Verdict("contradicted", f"sentence {e.number} is on the claim's point and {why}",
                            against=e)
        return _Verdict("not in the documents", why or "no sentence on its point states it")

    def _support(self, claim: str, holding: list[Evidence]) -> tuple[Evidence | None, str]:
        """The sentence that states the claim, if one does, and why."""
        if not holding:
            return None, ""
        if self.generator is not None:
            judged = first_stated(self.generator, claim, holding)
            if judged is not None:
                best, p = judged
                why = f"judge: sentence {best.number} rated {p:.2f} (at least {STATED_AT} states the claim)"
                return (best if p >= STATED_AT else None), why
        best = holding[0]
        q = read_question(claim)
        match = (best.relevance + coverage(q, best)) / 2
        own = set(q.words) - stems(q.names)
        held = covers(own, content_words(best.in_context)) if own else 1.0
        why = (f"best match {match:.2f} (at least {SUPPORT_AT} supports), holding {held:.2f} of its "
               f"words (at least {OWN_WORDS})")
        return (best if match >= SUPPORT_AT and held >= OWN_WORDS else None), why

    def _verdict(self, statement: str, start: int, end: int, d: _Verdict) -> ClaimVerdict:
        def cite(e: Evidence, n: int) -> Citation:
            return Citation(n, e.doc_id, e.title, e.source, e.text, e.start, e.end,
                            round(e.relevance, 4), e.published or None)

        citations = [cite(e, i) for i, e in enumerate(d.cited, 1)]
        against = cite(d.against, len(citations) + 1) if d.against else None
        conflict = (against, citations[0]) if d.verdict == "outdated" and against else None
        return ClaimVerdict(statement[start:end], start, end, d.verdict, d.reason, citations,
                            against, "", conflict)
