"""Claim checking: is each claim of a statement supported, contradicted, or not in the documents?

`split_claims` cuts a statement into claims (sentences, then clauses joined by "and", "but",
"while", "whereas" or ";"),
deterministically, keeping each claim's offsets in the statement. `ClaimChecker` gathers
evidence for each claim with the answer pipeline's own retrieval and evidence stages, then
decides in two layers:

1. Deterministic checks, with every backend: a name or year that no retrieved text mentions
   (not in the documents); a number or year that differs from the one the best-matching
   sentence states in the same place (contradicted); a different party in the same role
   (contradicted); the opposite polarity ("still exclusive" vs "no longer exclusive") or
   direction ("fell" vs "surged"); an overstatement ("all exclusivity") against a sentence
   saying part of it continues (partly supported). With `ASSISTANT_LLM=none`, content-word
   coverage decides the rest.
2. With an LLM, a claim the rules leave open and whose best match is unsure is a one-token
   yes/no ("does the evidence state that the claim is true?") read from the next-token logits
   after the claim and its numbered evidence; the fixed instructions come first so llama.cpp
   reuses their KV state. Without one, the match score (relevance + coverage) decides.

A final check in code holds for every backend: `supported` needs a cited span that holds all of
the claim's numbers and names; otherwise the verdict falls to `not in the documents`.
Where two documents disagree on the claim's point, `conflict` cites both.
Not here: answering questions (`answering.py`), formatting for people (CLI, UI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.answer.evidence import Evidence
from assistant.answer.judge import STATED_AT, stated
from assistant.answer.question import profile
from assistant.core.models import Citation, ClaimCheck, ClaimVerdict, VerdictName
from assistant.core.text import content_words, covers, numbers, same_word, sentence_spans

if TYPE_CHECKING:
    from assistant.answer.pipeline import AnswerPipeline
    from assistant.llm.generators import Generator

CANDIDATES = 5  # evidence sentences a claim is weighed against
LLM_CANDIDATES = 3  # of which the LLM sees the best: a short prompt, a few seconds a claim
# The LLM decides claims whose best match score falls in this band; above it the words and
# numbers of a sentence state the claim, below it no sentence is close.
LLM_BAND = (0.45, 0.9)
SUPPORT_AT = 0.62  # deterministic: least match score (relevance + coverage) to be supported
ON_POINT = 0.6  # least share of the claim's words (no numbers) a sentence needs to contradict it

# A clause boundary ("and", "but", ";" ...) with at least three words on each side (so that
# "OpenAI, Oracle and SoftBank" stays one claim).
_JOIN = re.compile(r"\s*(?:;|,?\s+(?:and|but|while|whereas))\s+", re.IGNORECASE)
_NEGATION = re.compile(r"\b(no longer|not|never|no|n't|lost|lose|loses|loss|relinquish\w*|"
                       r"(?:gave|give|gives|given|giving) up|ended|ends|stopped|without|none)\b", re.I)
_ALL = re.compile(r"\b(all|any|entirely|completely|every|fully|totally|whole|everything)\b", re.I)
_NUMBER = re.compile(r"(\w+\s+)?\$?(\d[\d,]*(?:\.\d+)?)(\s*%|\s+percent)?(\s+[A-Za-z]+)?")
# Capitalised words that open a sentence without naming anything.
_OPENERS = frozenset("""however additionally meanwhile previously despite moving forward over
while although according reports one two three four five six seven eight nine ten twenty""".split())
_YEAR = re.compile(r"^(19|20)\d{2}$")
_CONDITIONAL = re.compile(r"\bif\b", re.IGNORECASE)
_PAST = re.compile(r"\b(previously|formerly|used to|until now)\b", re.IGNORECASE)
_UP = re.compile(r"\b(ris(e|es|en|ing)|rose|surg\w*|soar\w*|increas\w*|grew|grow\w*|jump\w*|"
                 r"climb\w*|gain\w*)\b", re.IGNORECASE)
_DOWN = re.compile(r"\b(f[ae]ll\w*|drop\w*|declin\w*|decreas\w*|shr[aiu]nk\w*|plung\w*|"
                   r"slump\w*|tumbl\w*)\b", re.IGNORECASE)
_TOKEN = re.compile(r"[\w’'&-]+")
_LEAD_NAME = re.compile(r"^\W*([A-Z][\w’'&-]*)")


# --- splitting ------------------------------------------------------------------------------
def split_claims(statement: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each claim in `statement`: sentences, then joined clauses."""
    spans: list[tuple[int, int]] = []
    for s, e in sentence_spans(statement):
        begin = s
        for m in _JOIN.finditer(statement, s, e):
            left, right = statement[begin:m.start()], statement[m.end():e]
            if len(left.split()) >= 3 and len(right.split()) >= 3:
                spans.append((begin, m.start()))
                begin = m.end()
        spans.append((begin, e))
    return [(s, e) for s, e in spans if any(c.isalnum() for c in statement[s:e])]


def claim_text(statement: str, start: int, end: int) -> str:
    """The claim as checked: a clause without its own subject ("and keeps API exclusivity")
    borrows the first name of the sentence it came from."""
    text = statement[start:end].strip().rstrip(".;,")
    if _LEAD_NAME.match(text):
        return text
    before = statement[:start]
    sentence_start = max((s for s, _ in sentence_spans(statement) if s <= start), default=0)
    subject = _LEAD_NAME.match(before[sentence_start:])
    return f"{subject.group(1)} {text}" if subject else text


# --- deterministic pieces -------------------------------------------------------------------
def names(text: str) -> set[str]:
    """Lower-cased names, the first word included when it is capitalised and names something."""
    found = set(profile(text).names)
    lead = _LEAD_NAME.match(text)
    if lead and content_words(lead.group(1)) and lead.group(1).lower() not in _OPENERS:
        found |= {n for n in profile("x " + lead.group(1)).names}
    return found


def stated_numbers(text: str) -> dict[str, tuple[str, str]]:
    """Each number in `text` -> (its unit, the word before it): the unit is "year" for
    19xx/20xx, "%" for a percentage, else the word after it ("10 buildings" -> building)."""
    found = {}
    for m in _NUMBER.finditer(text):
        value = next(iter(numbers(m.group(2))), "")
        if not value:
            continue
        before = (m.group(1) or "").strip().lower()
        if _YEAR.match(value):
            found[value] = ("year", before)
        elif m.group(3):
            found[value] = ("%", before)
        else:
            found[value] = ((m.group(4) or "").strip().lower().rstrip("s"), before)
    return found


def negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def negated_words(text: str) -> set[str]:
    """The content words a negation governs: the next three after each ("no longer the
    exclusive cloud provider" -> exclus, cloud, provider)."""
    found: set[str] = set()
    for m in _NEGATION.finditer(text):
        following = [w for word in text[m.end():].split()[:6] for w in content_words(word)]
        found |= set(following[:3])
    return found


def polarity_clash(claim: str, sentence: str) -> bool:
    """The sentence negates what the claim affirms, or affirms what the claim negates."""
    key = point_words(claim) - names(claim)
    said = negated_words(sentence) & key
    if negated(claim):
        denied = negated_words(claim) & key
        return bool(denied) and not (denied & negated_words(sentence)) and \
            bool(denied & content_words(sentence))
    return bool(said)


def point_words(claim: str) -> set[str]:
    """The claim's content words without its numbers: what a sentence must share to be about it."""
    return {w for w in content_words(claim) if not w[0].isdigit()}


def coverage(claim: str, e: Evidence) -> float:
    wanted = point_words(claim)
    return max(covers(wanted, content_words(e.text)),
               0.9 * covers(wanted, content_words(f"{e.context} {e.text}")))


def match_score(claim: str, e: Evidence) -> float:
    return 0.5 * e.relevance + 0.5 * coverage(claim, e)


def number_clash(claim: str, e: Evidence) -> str:
    """A number of the claim that the sentence states differently in the same unit, as
    "claim says X, the sentence says Y"; "" when none."""
    theirs = stated_numbers(e.text)
    for value, (unit, before) in stated_numbers(claim).items():
        if value in theirs:
            continue
        other = [v for v, (u, b) in theirs.items() if (unit and u == unit) or (before and b == before)]
        if other:
            return f"the claim says {value}, the source says {other[0]}"
    return ""


def party_clash(claim: str, e: Evidence) -> str:
    """A name of the claim that the sentence, stating the claim's point, replaces by another
    in the same place: the name next to the claim's neighbouring word ("SoftBank Chairman"
    vs "Oracle Chairman", "Oracle is the largest investor" vs "Microsoft, the largest
    investor"). "" when the sentence is not about the point or names no one in that place."""
    ours, theirs = names(claim), f"{e.context} {e.text}".lower()
    missing = sorted(n for n in ours if n not in theirs)
    if not missing or covers(point_words(claim) - ours, content_words(e.text)) < 0.75:
        return ""
    candidates = names(e.text) - ours
    tokens = _TOKEN.findall(e.text)

    def named(window: list[str]) -> str:
        return next((n for t in window if (n := _bare(t)) in candidates and len(n) >= 3), "")

    words = _TOKEN.findall(claim)
    for name in missing:
        at = next((i for i, w in enumerate(words) if _bare(w) == name), None)
        if at is None:
            continue
        after = next((w for w in words[at + 1:] if point_words(w)), "")
        before = next((w for w in reversed(words[:at]) if point_words(w)), "")
        for i, token in enumerate(tokens):
            other = ""
            if after and point_words(token) == point_words(after):
                other = named(tokens[max(0, i - 3):i])  # the name just before the same word
            elif before and not after and point_words(token) == point_words(before):
                other = named(tokens[i + 1:i + 4])
            if other:
                return f"the source names {other.title()}, not {name.title()}"
    return ""


def _bare(token: str) -> str:
    return re.sub(r"(’s|'s)$", "", token).lower()


def holds(claim: str, quote: str) -> bool:
    """Whether `quote` holds every number and name of the claim (the rule for `supported`)."""
    lowered = quote.lower()
    return numbers(claim) <= numbers(quote) and all(
        n in lowered or any(same_word(n, w) for w in content_words(quote)) for n in names(claim))


# --- the checker ----------------------------------------------------------------------------
@dataclass
class _Decision:
    verdict: VerdictName
    reason: str
    cited: list[Evidence]
    against: Evidence | None = None
    part: str = ""


class ClaimChecker:
    def __init__(self, pipeline: AnswerPipeline, documents: Any,
                 generator: Generator | None = None) -> None:
        """`documents(doc_id) -> text`: for citations that take in the sentence before."""
        from functools import lru_cache

        self.pipeline = pipeline
        self.documents = lru_cache(maxsize=None)(documents)
        self.generator = generator

    def check(self, statement: str, backend: str = "") -> ClaimCheck:
        import time

        from assistant.answer.pipeline import Trace

        t0 = time.perf_counter()
        verdicts = []
        for start, end in split_claims(statement):
            claim = claim_text(statement, start, end)
            pool = self._gather(claim, Trace())
            decision = self.decide(claim, pool)
            verdicts.append(self._verdict(statement, start, end, claim, pool, decision))
        return ClaimCheck(statement, verdicts, backend,
                          {"total_s": round(time.perf_counter() - t0, 3)})

    def _gather(self, claim: str, trace: Any) -> list[Evidence]:
        """Evidence for the claim. When a name or year of it is in no retrieved chunk, the
        search runs again without those words: the sentence with the real year, or the other
        party, can then contradict it, and a name in none of that evidence is still unknown."""
        pool = self.pipeline.gather(profile(claim), trace)
        unknown: list[str] = next((s["unknown"] for s in trace.steps if s.get("unknown")), [])
        if not pool and unknown:
            pattern = r"\b(" + "|".join(re.escape(u) for u in unknown) + r")\w*"
            rest = re.sub(pattern, "", claim, flags=re.IGNORECASE)
            pool = self.pipeline.gather(profile(rest), trace) if point_words(rest) else []
        return pool

    def decide(self, claim: str, pool: list[Evidence]) -> _Decision:
        """The verdict on one claim, given its evidence pool."""
        unknown = sorted(n for n in names(claim) if not any(
            n in f"{e.context} {e.text}".lower() for e in pool))
        if not pool or unknown:
            what = ", ".join(u.title() for u in unknown) or "it"
            return _Decision("not in the documents",
                             f"none of the sentences retrieved for it mentions {what}", [])
        ranked = sorted(pool, key=lambda e: match_score(claim, e), reverse=True)[:CANDIDATES]
        rule = self._rules(claim, ranked, pool)
        if rule is not None:
            return rule
        unstated = numbers(claim) - numbers(" ".join(e.text for e in pool))
        if unstated:  # and no sentence states another figure in its place (the rules above)
            return _Decision("not in the documents",
                             f"no document states {', '.join(sorted(unstated))}", [])
        best = ranked[0]
        if self.generator is not None and LLM_BAND[0] <= match_score(claim, best) < LLM_BAND[1]:
            chosen = self._llm(claim, ranked[:LLM_CANDIDATES])
            if chosen is not None:
                return chosen
        if match_score(claim, best) >= SUPPORT_AT and numbers(claim) <= numbers(best.text):
            return _Decision("supported", f"sentence matches the claim "
                                          f"(score {match_score(claim, best):.2f})", [best])
        return _Decision("not in the documents", "no sentence states it (best match "
                         f"{match_score(claim, best):.2f} < {SUPPORT_AT})", [])

    def _rules(self, claim: str, ranked: list[Evidence], pool: list[Evidence]) -> _Decision | None:
        """The deterministic contradictions and overstatements; None when they do not apply."""
        on_point = [e for e in ranked if coverage(claim, e) >= ON_POINT]
        claim_numbers = stated_numbers(claim)
        for e in on_point:
            if claim_numbers and all(v in stated_numbers(e.text) for v in claim_numbers):
                break  # a sentence stating the claim's own numbers: no clash to look for
            clash = number_clash(claim, e)
            if clash:
                return _Decision("contradicted", clash, [], e)
        for e in on_point[:2]:
            clash = party_clash(claim, e)
            if clash:
                return _Decision("contradicted", clash, [], e)
        if not on_point:
            return None
        best = on_point[0]
        if negated(claim) and _ALL.search(claim):
            neg = next((e for e in on_point if negated(e.text)), None)
            key = point_words(_NEGATION.sub(" ", claim)) - names(claim)
            pos = next((e for e in pool if not negated(e.text) and _continues(key, e.text)), None)
            if neg is not None and pos is not None:
                part = re.sub(r"\s+", " ", _ALL.sub("", claim)).strip()
                word = _ALL.search(claim).group()  # type: ignore[union-attr]
                return _Decision("partly supported", f"overstated: “{part}” is supported, but not "
                                 f"“{word}”: the source says part of it continues", [neg], pos, part)
        if _direction(claim) and _direction(best.text) == -_direction(claim):
            return _Decision("contradicted", "the source says it went the other way", [], best)
        if polarity_clash(claim, best.text) and coverage(claim, best) >= 0.75:
            return _Decision("contradicted", "the source states the opposite", [], best)
        return None

    def _llm(self, claim: str, ranked: list[Evidence]) -> _Decision | None:
        """Is the claim stated by its best sentences? One yes/no read from the logits; None
        when the endpoint offers no logprobs. "No" means not stated: contradictions are the
        rules' job (the 1.5B model cannot tell false from unstated)."""
        assert self.generator is not None
        yes = stated(self.generator, claim, [e.text for e in ranked])
        if yes is None:
            return None
        if yes >= STATED_AT:
            proof = next((e for e in ranked if holds(claim, f"{e.context} {e.text}")
                          and numbers(claim) <= numbers(e.text)), ranked[0])
            return _Decision("supported", f"judge: stated (p={yes:.2f})", [proof])
        return _Decision("not in the documents", f"judge: not stated (p={yes:.2f})", [])

    # --- citations -----------------------------------------------------------------------
    def _cite(self, e: Evidence, number: int, claim: str) -> Citation:
        """The sentence, or with the sentence before it when only that names the claim's names."""
        start = e.start
        if e.context and not holds(claim, e.text) and holds(claim, f"{e.context} {e.text}"):
            text = self.documents(e.doc_id)
            found = text.rfind(e.context, 0, e.start)
            start = found if found >= 0 else start
        quote = self.documents(e.doc_id)[start:e.end]
        return Citation(number, e.doc_id, e.title, e.source, quote, start, e.end,
                        round(e.relevance, 4))

    def _verdict(self, statement: str, start: int, end: int, claim: str, pool: list[Evidence],
                 d: _Decision) -> ClaimVerdict:
        citations = [self._cite(e, i, claim) for i, e in enumerate(d.cited, 1)]
        against = self._cite(d.against, len(citations) + 1, claim) if d.against else None
        verdict, reason = d.verdict, d.reason
        if verdict == "supported" and not any(holds(claim, c.quote) for c in citations):
            # the final check: a supported claim is proven by a span holding its numbers and names
            verdict, citations = "not in the documents", []
            reason = "no cited span holds all of the claim's numbers and names"
        conflict = None
        pair = disagreement(claim, pool) if verdict != "not in the documents" else None
        if pair is not None:
            n = len(citations) + (2 if against else 1)
            conflict = (self._cite(pair[0], n, claim), self._cite(pair[1], n + 1, claim))
        return ClaimVerdict(statement[start:end], start, end, verdict, reason, citations,
                            against, d.part, conflict)


def negated_head(text: str, key: set[str]) -> str:
    """The first of `key` that a negation in `text` governs ("" when none)."""
    for m in _NEGATION.finditer(text):
        following = [w for word in text[m.end():].split()[:6] for w in content_words(word)]
        head = next((w for w in following[:3] if w in key), "")
        if head:
            return head
    return ""


def disagreement(claim: str, pool: list[Evidence]) -> tuple[Evidence, Evidence] | None:
    """Two documents on the claim's point, one negating what the other says continues: the
    sentence that negates first. Conditionals ("if OpenAI develops AGI ..."), the past
    ("Previously, ...") and lines without a full stop (titles) do not disagree with the present."""
    key = point_words(_NEGATION.sub(" ", claim)) - names(claim)
    facts = [e for e in pool if not _CONDITIONAL.search(e.text) and not _PAST.search(e.text)
             and coverage(claim, e) >= 0.4 and e.text.rstrip("\"'”’)").endswith((".", "!", "?"))]
    pairs = []
    for a in facts:
        head = negated_head(a.text, key)
        for b in facts if head else []:
            if b.doc_id != a.doc_id and not negated(b.text) and coverage(claim, b) >= 0.5 \
                    and _continues({head}, b.text):
                pairs.append((coverage(claim, a) + coverage(claim, b), a, b))
    return max(pairs, key=lambda p: p[0])[1:] if pairs else None


def _direction(text: str) -> int:
    """+1 for a rise ("surged", "rose"), -1 for a fall ("fell", "dropped"), 0 for neither."""
    return (1 if _UP.search(text) else 0) - (1 if _DOWN.search(text) else 0)


def _continues(key: set[str], sentence: str) -> bool:
    """Whether the sentence affirms part of the claim's point ("exclusivity ... will continue")."""
    words = content_words(sentence)
    return any(any(same_word(k, w) for w in words) for k in key) and \
        bool(re.search(r"\b(continu\w*|retain\w*|remain\w*|keep\w*|still)\b", sentence, re.I))
