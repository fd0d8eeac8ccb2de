"""Deterministic metrics: each a small object with a `name` and `compute(case) -> Score | None`.

A `Case` is one question with everything measured about it (the answer, the retrieved chunk
texts, document texts, support scorers). A `Score` is a sum and a count, so rates pool over
any group of rows: overall and by tag add up. `None` means "not applicable" (for example
fact accuracy on an unanswerable question). Citation recall and precision follow ALCE
(Gao et al., 2023) with `lexical_support` below as the support check instead of an NLI model:
it shares no code with the assistant, so it is evidence about the assistant. Unlike ALCE,
sentences and citations are pooled over answers rather than averaged per answer.
The one non-deterministic metric, `Judge`, runs only when ASSISTANT_JUDGE_BASE_URL names an
OpenAI-compatible endpoint. Not here: running the assistant (`runner.py`), files and charts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

from assistant.core.models import Answer
from evals.dataset import Row

Support = Callable[[str, list[str]], bool]  # (claim, cited quotes) -> do they support it?

MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?=\s+[\"'“‘(]?[A-Z0-9])")
_ABBREVIATION = re.compile(r"(\b[A-Za-z]|\b(?:Mr|Mrs|Ms|Dr|Inc|Corp|Co|Ltd|Jr|Sr|St|vs|U\.S|"
                           r"e\.g|i\.e))\.$")
_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?|[a-z]+(?:['’][a-z]+)*")
_STOPWORD_LIST = (
    "a about after all also an and any are as at be been being but by can could did do does "
    "doing for from had has have having he her his how i if in into is it its it's just may "
    "me might more most must my no not of on or our over own said says she should so some "
    "such than that that's the their them then there these they this those through to too "
    "under until up very was we were what when where which while who whom why will with "
    "would you your")
_STOPWORDS = frozenset(_STOPWORD_LIST.split())
LEXICAL_SHARE = 0.6  # least share of a claim's content words found in its cited quotes


def strip_markers(text: str) -> str:
    return MARKER.sub("", text).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer, each keeping its [n] markers (which come before the stop); a
    source quoted whole in “…” stays inside the sentence that quotes it."""
    found = []
    for line in text.splitlines():
        begin = 0
        for end in _SENTENCE_END.finditer(line):
            if end.group().startswith(".") and _ABBREVIATION.search(line[: end.start() + 1]):
                continue
            if line.count("“", 0, end.end()) > line.count("”", 0, end.end()):
                continue  # inside a quotation (its closing ” after the stop ends it)
            found.append(line[begin:end.end()].strip())
            begin = end.end()
        found.append(line[begin:].strip())
    return [s for s in found if any(c.isalnum() for c in strip_markers(s))]


def cited_numbers(sentence: str) -> list[int]:
    return [int(n) for group in MARKER.findall(sentence) for n in group.split(",")]


def missing_facts(text: str, facts: list[list[str]]) -> list[list[str]]:
    """The fact groups none of whose alternatives occurs in `text`."""
    return [g for g in facts if not any(re.search(p, text, re.IGNORECASE) for p in g)]


# A quotation after a denial: "never say “X”", "do not call him “X”".
_DENIED_QUOTE = re.compile(r"(\b(?:never|not|no)\b[^“”.]{0,24}?)“([^“”]*)”", re.IGNORECASE)


def forbidden_claims(text: str, forbid: list[str]) -> list[str]:
    """'pattern' -> 'matched text' for each forbidden pattern found in `text`."""
    hits = ((p, re.search(p, text, re.IGNORECASE)) for p in forbid)
    return [f"/{p}/ matched {m.group()!r}" for p, m in hits if m]


def _content(text: str) -> tuple[set[str], set[str]]:
    """(content-word keys, numbers) of `text`; keys are crude stems: 'exclusivity' ~ 'exclusive'."""
    words, numbers = set(), set()
    for token in _TOKEN.findall(text.lower()):
        if token[0].isdigit():
            numbers.add(token.replace(",", "").rstrip("."))
            continue
        token = re.sub(r"['’]s$", "", token)
        if token in _STOPWORDS or len(token) < 2:
            continue
        words.add(token[:6] if len(token) > 6 else token.removesuffix("s"))
    return words, numbers


# Words that name a source rather than claim anything ("Newest, <title>, <date>: <quote>").
_ATTRIBUTION = _content("newest earlier source sources differ say says said no undated given "
                        "january february march april may june july august september october "
                        "november december")[0]


def one_line(text: str) -> str:
    """White space runs as one space: an answer writes a quote that spans lines on one line."""
    return " ".join(text.split())


def attributed(claim: str, quote: str, title: str, published: str) -> bool:
    """The sentence is the quote, word for word, with nothing around it but its source's title,
    date and words that attribute it: what it claims is what the quote says."""
    quote, claim = one_line(quote).rstrip(".!?"), one_line(claim)  # answers quote on one line
    if not quote or quote not in claim:
        return False
    words, numbers = _content(claim.replace(quote, " "))
    title_words, title_numbers = _content(f"{title} {published.replace('-', ' ')}")
    return words <= title_words | _ATTRIBUTION and numbers <= title_numbers | {
        n.lstrip("0") for n in title_numbers}


def lexical_support(claim: str, quotes: list[str], share: float = LEXICAL_SHARE) -> bool:
    """Every number of the claim and `share` of its content words are in the quotes' union."""
    words, numbers = _content(strip_markers(claim))
    quote_words, quote_numbers = _content(" ".join(quotes))
    if not quotes or not numbers <= quote_numbers:
        return False
    return not words or len(words & quote_words) / len(words) >= share


def retrieval_rank(evidence: list[str], hits: list[str]) -> int | None:
    """1-based rank of the first hit containing (or contained in) an evidence quote."""
    for rank, hit in enumerate(hits, 1):
        if any(quote in hit or hit in quote for quote in evidence):
            return rank
    return None


def percentile(values: Iterable[float], q: float) -> float | None:
    data = list(values)
    return float(np.percentile(data, q)) if data else None


@dataclass(frozen=True)
class Score:
    value: float  # sum over the items scored (a pass is 1)
    count: int  # items scored
    why: tuple[str, ...] = ()  # what went wrong, for people


@dataclass
class Case:
    """One question and everything measured about it."""

    row: Row
    answer: Answer
    document_text: Callable[[str], str | None]  # None when the document is gone
    hits: list[str]  # texts of the retrieved chunks, best first
    scorers: dict[str, Support]  # "lexical"
    published: Callable[[str], str] = lambda _doc_id: ""  # a document's ISO date, "" if undated
    _support: dict[tuple[str, str, tuple[str, ...]], bool] = field(default_factory=dict)

    @cached_property
    def plain_text(self) -> str:
        return strip_markers(self.answer.text)

    @cached_property
    def claimed_text(self) -> str:
        """The answer without what it reports rather than claims: a cited source's sentence
        quoted whole (“…” around exactly a citation's quote), and the question's own words
        quoted after a denial ("never say “Microsoft CEO Sam Altman”"). Any other quoted text,
        a fragment of a source or the question's words used as a subject, is still a claim."""
        text = self.plain_text
        for c in self.answer.citations:
            for quote in {one_line(c.quote), one_line(c.quote).rstrip(".")}:
                if quote:  # the answer may write a quote that spans lines on one line
                    spaced = r"\s+".join(re.escape(w) for w in quote.split())
                    text = re.sub(f"“{spaced}”", "“…”", text)

        return self._without_denials(text)

    def _without_denials(self, text: str) -> str:
        """The question's own words quoted after a denial ("never say “…”") left out."""
        def denied(match: re.Match[str]) -> str:
            quoted = match.group(2).strip()
            return match.group(1) + "“…”" if quoted and quoted in self.row.question else match.group()

        return _DENIED_QUOTE.sub(denied, text)

    @cached_property
    def sentences(self) -> list[tuple[str, list[int]]]:
        """Each answer sentence (what it claims: a denial of the question's words is not a
        claim its citation must support) and the citation numbers it gives."""
        return [(strip_markers(s), cited_numbers(s))
                for s in split_sentences(self._without_denials(self.answer.text))]

    def supports(self, scorer: str, claim: str, numbers: list[int]) -> bool:
        """Whether the cited quotes support the sentence; a sentence that is one of its cited
        quotes whole with only its source named around it ("Newest, <title>, 1 May 2024:
        <quote>") is that quote."""
        cites = {c.number: c for c in self.answer.citations}
        cited = tuple(cites[n].quote if n in cites else "" for n in numbers)
        key = (scorer, claim, cited)
        if key not in self._support:
            whole = any(attributed(claim, cites[n].quote, cites[n].title,
                                   getattr(cites[n], "published", None) or "")
                        for n in numbers if n in cites)
            self._support[key] = any(cited) and (whole or self.scorers[scorer](claim, list(cited)))
        return self._support[key]


class Metric(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def higher_is_better(self) -> bool: ...

    def compute(self, case: Case) -> Score | None: ...


@dataclass(frozen=True)
class FactAccuracy:
    name: str = "fact_accuracy"
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if not case.row.answerable:
            return None
        why = [f"fact missing: none of {g}" for g in missing_facts(case.plain_text, case.row.facts)]
        why += [f"forbidden claim: {f}" for f in forbidden_claims(case.claimed_text, case.row.forbid)]
        if case.answer.refused:
            why = ["refused an answerable question"]
        return Score(0.0 if why else 1.0, 1, tuple(why))


@dataclass(frozen=True)
class CorrectRefusal:
    name: str = "correct_refusal"
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if case.row.answerable:
            return None
        why = [] if case.answer.refused else ["answered an unanswerable question"]
        why += [f"forbidden claim: {f}" for f in forbidden_claims(case.claimed_text, case.row.forbid)]
        return Score(0.0 if why else 1.0, 1, tuple(why))


@dataclass(frozen=True)
class OverRefusal:
    name: str = "over_refusal"
    higher_is_better: bool = False

    def compute(self, case: Case) -> Score | None:
        if not case.row.answerable:
            return None
        refused = case.answer.refused
        return Score(float(refused), 1, ("refused an answerable question",) if refused else ())


@dataclass(frozen=True)
class CitationValidity:
    """A citation is valid when its quote is exactly the document text at its offsets."""

    name: str = "citation_validity"
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if not case.answer.citations:
            return None
        why = []
        for c in case.answer.citations:
            text = case.document_text(c.doc_id)
            if text is None:
                why.append(f"citation [{c.number}]: document {c.doc_id} is not in the store")
            elif text[c.start:c.end] != c.quote:
                why.append(f"citation [{c.number}]: quote differs from {c.doc_id}"
                           f"[{c.start}:{c.end}] = {text[c.start:c.end][:60]!r}")
        return Score(float(len(case.answer.citations) - len(why)), len(case.answer.citations),
                     tuple(why))


@dataclass(frozen=True)
class CitationRecall:
    """Share of answer sentences that their own citations, taken together, support."""

    name: str
    scorer: str
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if case.answer.refused or not case.sentences:
            return None
        why = tuple(f"sentence {i} {numbers or '(uncited)'} not supported ({self.scorer})"
                    for i, (claim, numbers) in enumerate(case.sentences, 1)
                    if not case.supports(self.scorer, claim, numbers))
        return Score(float(len(case.sentences) - len(why)), len(case.sentences), why)


@dataclass(frozen=True)
class CitationPrecision:
    """ALCE: a citation counts when its sentence is supported and it is not redundant, i.e. it
    supports the sentence alone, or the sentence's other citations do not without it."""

    name: str
    scorer: str
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if case.answer.refused:
            return None
        good, total, why = 0, 0, []
        for i, (claim, numbers) in enumerate(case.sentences, 1):
            joint = case.supports(self.scorer, claim, numbers)
            for n in numbers:
                rest = [m for m in numbers if m != n]
                precise = joint and (len(numbers) == 1 or case.supports(self.scorer, claim, [n])
                                     or not case.supports(self.scorer, claim, rest))
                good, total = good + precise, total + 1
                if not precise:
                    why.append(f"citation [{n}] of sentence {i} does not support it "
                               f"({self.scorer})")
        return Score(float(good), total, tuple(why)) if total else None


@dataclass(frozen=True)
class AnswerRelevance:
    """Share of an answer's sentences that are on the point asked: each states one of the row's
    facts, or is lexically supported by the row's own evidence quotes (or, on an update row, by
    the superseded ones it may report). A sentence that is cited
    and true but about something else (a tempting neighbour of the answer) does not count."""

    name: str = "answer_relevance"
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if not case.row.answerable or case.answer.refused or not case.sentences:
            return None
        alternatives = [a for group in case.row.facts for a in group]
        why = tuple(f"sentence {i} is not about the point asked: {claim[:60]!r}"
                    for i, (claim, _) in enumerate(case.sentences, 1)
                    if not any(re.search(a, claim, re.IGNORECASE) for a in alternatives)
                    and not lexical_support(claim, [*case.row.evidence, *case.row.superseded]))
        return Score(float(len(case.sentences) - len(why)), len(case.sentences), why)


@dataclass(frozen=True)
class HitAtK:
    name: str = "hit_at_k"
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if not case.row.answerable:
            return None
        found = retrieval_rank(case.row.evidence, case.hits) is not None
        return Score(float(found), 1, () if found else (f"no evidence in the top {len(case.hits)}"
                                                        " retrieved chunks",))


@dataclass(frozen=True)
class MeanReciprocalRank:
    name: str = "mrr"
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if not case.row.answerable:
            return None
        rank = retrieval_rank(case.row.evidence, case.hits)
        return Score(1.0 / rank if rank else 0.0, 1)


def _overlaps(quote: str, wanted: list[str]) -> bool:
    """A cited quote and an expected one are the same passage: one holds the other."""
    return any(w in quote or quote in w for w in wanted)


@dataclass(frozen=True)
class UpdateLead:
    """On a question about a point a later document changed (`current` quotes on the row): the
    answer's first citation is the newest value."""

    name: str = "update_lead"
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if not case.row.current or case.answer.refused:
            return None
        first = min(case.answer.citations, key=lambda c: c.number, default=None)
        ok = first is not None and _overlaps(first.quote, case.row.current)
        return Score(float(ok), 1, () if ok else ("the first citation is not the newest value",))


@dataclass(frozen=True)
class UpdateBoth:
    """... and it cites both the newest value and the one it replaced."""

    name: str = "update_both"
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if not case.row.current or not case.row.superseded or case.answer.refused:
            return None
        quotes = [c.quote for c in case.answer.citations]
        new = any(_overlaps(q, case.row.current) for q in quotes)
        old = any(_overlaps(q, case.row.superseded) for q in quotes)
        why = [w for w, missing in (("the newest value is not cited", not new),
                                    ("the value it replaced is not cited", not old)) if missing]
        return Score(float(not why), 1, tuple(why))


def _period(date: str, end: bool) -> str:
    """The first (or last) day an ISO date of any precision covers, as YYYY-MM-DD."""
    parts = date.split("-")
    fill = ["12", "31"] if end else ["01", "01"]
    return "-".join([*parts, *fill[len(parts) - 1:]])


@dataclass(frozen=True)
class AsOfRespected:
    """On a question asked as of a date: no citation comes from a document published after it
    (an undated document may be cited)."""

    name: str = "as_of_respected"
    higher_is_better: bool = True

    def compute(self, case: Case) -> Score | None:
        if not case.row.as_of:
            return None
        limit = _period(case.row.as_of, end=True)
        late = sorted({c.title for c in case.answer.citations
                       if (d := case.published(c.doc_id)) and _period(d, end=False) > limit})
        return Score(float(not late), 1, tuple(f"cites a document published after "
                                                f"{case.row.as_of}: {t}" for t in late))


_NEGATION = re.compile(r"\b(not|no|never|none|neither|nor|without|cannot|no longer|"
                       r"exclud\w*|\w+n['’]t)\b", re.IGNORECASE)


def _negated_words(text: str) -> set[str]:
    """Content words within three words after a negation ("does not cover water damage")."""
    found: set[str] = set()
    for match in _NEGATION.finditer(text):
        after = _TOKEN.findall(text[match.end():].lower())[:3]
        found |= {w for w in after if w not in _STOPWORDS}
    return found


@dataclass(frozen=True)
class OppositeOfQuote:
    """Answer sentences that state the opposite of their own quote: the quote negates a word
    the sentence affirms without any negation ("Yes, water damage is covered" from "does not
    cover water damage"), or the sentence negates what the quote affirms. Lower is better;
    a sentence that is its quote word for word cannot count."""

    name: str = "opposite_of_quote"
    higher_is_better: bool = False

    def compute(self, case: Case) -> Score | None:
        if case.answer.refused or not case.sentences:
            return None
        quotes = {c.number: c.quote for c in case.answer.citations}
        why = []
        for i, (claim, numbers) in enumerate(case.sentences, 1):
            cited = " ".join(quotes.get(n, "") for n in numbers)
            if not cited or claim.strip(" .“”") in cited:
                continue
            words = set(_TOKEN.findall(claim.lower())) - _STOPWORDS
            claim_negates = bool(_NEGATION.search(claim))
            flipped = (not claim_negates and _negated_words(cited) & words) or (
                claim_negates and not _NEGATION.search(cited) and _negated_words(claim)
                & set(_TOKEN.findall(cited.lower())))
            if flipped:
                why.append(f"sentence {i} states the opposite of its quote")
        return Score(float(len(why)), len(case.sentences), tuple(why))


METRICS: list[Metric] = [
    FactAccuracy(), CorrectRefusal(), OverRefusal(), CitationValidity(),
    CitationRecall("citation_recall", "lexical"),
    CitationPrecision("citation_precision", "lexical"),
    AnswerRelevance(), HitAtK(), MeanReciprocalRank(), UpdateLead(), UpdateBoth(),
    AsOfRespected(), OppositeOfQuote(),
]


JUDGE_PROMPT = """\
Grade an assistant's answer against a reference answer. Question: {question}
Reference: {reference}
Answer: {answer}
If the documents do not answer the question (answerable: {answerable}), the answer is CORRECT
only when it declines. Otherwise it is CORRECT when it agrees with the reference and claims
nothing that contradicts it. Reply with one word: CORRECT or INCORRECT."""


@dataclass(frozen=True)
class Judge:
    """LLM-judged correctness, next to the deterministic metrics; a failed call scores nothing."""

    base_url: str
    model: str
    api_key: str = field(repr=False)
    name: str = "judge_correctness"
    higher_is_better: bool = True

    @classmethod
    def from_env(cls) -> Judge | None:
        url = os.environ.get("ASSISTANT_JUDGE_BASE_URL", "").rstrip("/")
        return cls(url, os.environ.get("ASSISTANT_JUDGE_MODEL", "judge"),
                   os.environ.get("ASSISTANT_JUDGE_API_KEY", "not-needed")) if url else None

    def compute(self, case: Case) -> Score | None:
        import httpx

        prompt = JUDGE_PROMPT.format(question=case.row.question, reference=case.row.reference,
                                     answer=case.plain_text, answerable=case.row.answerable)
        try:
            response = httpx.post(f"{self.base_url}/chat/completions", timeout=120,
                                  headers={"Authorization": f"Bearer {self.api_key}"},
                                  json={"model": self.model, "temperature": 0, "max_tokens": 5,
                                        "messages": [{"role": "user", "content": prompt}]})
            response.raise_for_status()
            verdict = response.json()["choices"][0]["message"]["content"].strip().upper()
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            return Score(0.0, 0, (f"judge call failed: {exc}",))
        correct = verdict.startswith("CORRECT")
        return Score(float(correct), 1, () if correct else ("the LLM judge says incorrect",))


LATENCY = {"total_s": "latency_total_s", "first_sentence_s": "latency_first_sentence_s",
           "evidence_s": "latency_evidence_s"}


def aggregate(scores: Iterable[dict[str, Score | None]], names: list[str],
              ) -> dict[str, float | None]:
    """Pooled rate of each metric: sum of values / sum of counts (None when nothing scored)."""
    sums = dict.fromkeys(names, 0.0)
    counts = dict.fromkeys(names, 0)
    for row in scores:
        for name in names:
            score = row.get(name)
            if score is not None:
                sums[name] += score.value
                counts[name] += score.count
    return {n: (sums[n] / counts[n] if counts[n] else None) for n in names}


def latency(timings: list[dict[str, float]]) -> dict[str, float | None]:
    """Median and p90 of each timing in LATENCY, over the answers that have it."""
    found: dict[str, float | None] = {}
    for key, name in LATENCY.items():
        values = [t[key] for t in timings if key in t]
        found[f"{name}_median"] = percentile(values, 50)
        found[f"{name}_p90"] = percentile(values, 90)
    return found
