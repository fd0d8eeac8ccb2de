"""Answerability: do the evidence sentences state what the question asks, and which of them?

Deterministic checks first (`RuleJudge`, the whole judge for `none`): some sentence must hold
the kind of answer asked for (a count, a date, a new name, a role of the name asked about,
advice), a count or amount only with every name asked about in it or the sentence before, and
the question's focus words. Where they refuse and an LLM is loaded (`LLMJudge`), the LLM
proposes an answer (its draft) and a separate one-token yes/no, read from the next-token
logits, decides whether the evidence the draft cites states the draft's first sentence. Not
here: checking every sentence of the answer (`verify.py`), generating the draft (`drafting.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from assistant.answer.evidence import Evidence, SentenceVectors
from assistant.answer.question import QuestionProfile, amount_noun, has_answer_kind, states_money
from assistant.answer.roles import name_runs, role_phrases
from assistant.answer.verify import claim_and_citations, says_unknown
from assistant.core import prompts
from assistant.core.text import content_forms, content_words, covers, lemma, same_word, words
from assistant.llm.generators import Generator, Message

STATED_AT = 0.5  # the LLM's least P("yes") that the evidence states a claim
FOCUS_COVERAGE = 0.25  # deterministic: least share of the question's focus words a sentence holds
LEAST_RELEVANCE = 0.5  # deterministic: an answering sentence is at least this relevant
SYNONYM_SIMILARITY = 0.75  # two words this similar alone count as the same focus word (see README)
STATED_QUOTES = 3  # evidence sentences a claim that cites none is checked against


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    picked: tuple[int, ...]  # evidence numbers that state the answer, most likely first
    reason: str
    scores: dict[str, float] = field(default_factory=dict)


def answer_messages(question: str, evidence: list[Evidence]) -> list[Message]:
    listing = "\n".join(f"[{e.number}] {e.text}" for e in evidence)
    return [Message("system", prompts.ANSWER_SYSTEM),
            Message("user", prompts.ANSWER_USER.format(evidence=listing, question=question))]


def stated(generator: Generator, claim: str, quotes: list[str]) -> float | None:
    """P("yes") that the numbered `quotes` state `claim`, read from the reply's first token;
    None when the backend offers no logits. A declarative claim is what the 1.5B model judges
    well (P(yes) 0.86-0.88 for stated claims, 0.11-0.30 for unstated ones in a probe); asked
    whether the evidence "answers the question" it gave 0.2-0.5 to everything."""
    listing = "\n".join(f"[{i}] {q}" for i, q in enumerate(quotes, 1))
    messages = [Message("system", prompts.CLAIM_SYSTEM),
                Message("user", prompts.CLAIM_USER.format(evidence=listing, claim=claim))]
    probs = generator.choose(messages, ["yes", "no"])
    return None if probs is None else probs["yes"]


class LLMJudge:
    """The LLM's answer, checked as a claim, where the deterministic checks refuse: they miss
    paraphrases ("Which companies are behind Stargate?" against "a joint venture between OpenAI,
    Oracle, SoftBank, and others"). The draft's first sentence states the answer; it rescues the
    question when it gives the kind of answer asked for, it or the evidence it cites (with the
    sentence before, which says who "the companies" are, and the document's title and source:
    "the AiNews article") holds every name the question asks about, and either it copies an
    evidence sentence word for word or the LLM, asked apart from the draft, says that evidence
    states it (P(yes) >= STATED_AT).
    Replaced in the fourth session: a yes/no on "does the evidence answer this question?" after
    the answer prompt, whose P(yes) did not separate answerable from unanswerable questions."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    def rescue(self, question: QuestionProfile, first_sentence: str, evidence: list[Evidence],
               ) -> Verdict | None:
        """Whether the draft's first sentence answers; None when the backend gives no logits."""
        claim, cited = claim_and_citations(first_sentence, evidence)
        if not claim or says_unknown(claim):
            return Verdict(False, (), "the drafter, too, finds no answer in the evidence")
        if not has_answer_kind(question, claim):
            return Verdict(False, (), f"the draft's answer ({claim!r}) is not the kind asked for "
                                      f"({question.kind})")
        by_number = {e.number: e for e in evidence}
        copied = next((e for e in evidence if words(e.text) == words(claim)), None)
        if copied and question.focus and not covers(question.focus, content_words(copied.text)):
            copied = None  # a copy of a sentence without the question's words: let the LLM judge
        quoted = [copied] if copied else [by_number[n] for n in cited] or evidence[:STATED_QUOTES]
        # the evidence's context: the sentence before it; and, for a name the question uses for a
        # document ("the AiNews article"), that document's title and source
        said = f"{claim} {' '.join(f'{e.context} {e.text}' for e in quoted)}".lower()
        documents = " ".join(f"{e.title} {e.source}" for e in quoted).lower()
        missing = sorted(n for n in question.names if n not in said
                         and not (n in question.documents and n in documents))
        if missing:
            return Verdict(False, (), f"neither the draft's answer nor its evidence mentions "
                                      f"{', '.join(missing)}, which the question asks about")
        if copied:  # a sentence states itself; the yes/no once rated "Image Source: ChatGPT-4o" 0.22
            return Verdict(True, (copied.number,), f"the draft's answer is evidence sentence "
                                                   f"{copied.number}, word for word")
        # an appositive goes first as a statement of its own ("Microsoft, the largest investor
        # in OpenAI"): in a probe the 1.5B model gave "Microsoft is the top financial backer"
        # 0.44 from the whole sentence, which is about a role given up, and 0.55 with it
        apart = [p for e in quoted for p in role_phrases(e.text, titled=False)]
        yes = stated(self.generator, claim, [*apart, *(e.text for e in quoted)])
        if yes is None:
            return None
        scores = {"p_stated": round(yes, 4)}
        if yes < STATED_AT:
            return Verdict(False, (), f"the judge finds the draft's answer ({claim!r}) not stated "
                                      f"by its evidence (P(yes)={yes:.2f} < {STATED_AT}"
                                      f"{', its appositives set apart' if apart else ''})", scores)
        return Verdict(True, tuple(cited), f"judge: the evidence states the draft's answer "
                                           f"(P(yes)={yes:.2f} >= {STATED_AT}"
                                           f"{', its appositives set apart' if apart else ''}), "
                                           "though the word checks did not find it", scores)


def _wanted(question: QuestionProfile) -> frozenset[str]:
    """The words an answering sentence must hold: the focus words, or, when the question is
    only about its names ("Who is Sam Altman?"), the names."""
    return question.focus or question.names


def _named(question: QuestionProfile) -> list[frozenset[str]]:
    """The question's names, each a set of its words ("Stargate Project": stargate, project;
    "OpenAI's API": two names)."""
    parts = [part for r in name_runs(question.text)  # "OpenAI's API" is two names
             for part in re.split(r"['’]s\s+", question.text[r.start:r.end])]
    named = [frozenset(content_words(part)) & question.names for part in parts]
    return [n for n in named if n]


def _counts_what_is_asked(question: QuestionProfile, e: Evidence) -> bool:
    """A count or an amount is of what its sentence is about: every name the question asks
    about is in the sentence, or one of them only in the sentence before, which "The
    initiative" or "It" refers back to. "10 buildings ... in Texas" does not count buildings in
    Abilene; "The initiative aims to invest up to $500 billion" may be Stargate's (named just
    before), but not Oracle's investment in Stargate as well (both named only before)."""
    said, before = content_words(e.text), content_words(e.context)
    elsewhere = [n for n in _named(question) if not n & said]  # "Stargate Project" is one name
    return len(elsewhere) <= 1 and all(n & before for n in elsewhere)


def _named_share(question: QuestionProfile, e: Evidence) -> bool:
    """A percentage about the very names asked about answers a percentage question whose verb
    the sentence puts in other words ("By what percentage did Oracle shares climb?" - "Oracle's
    stock surged by 7%"): a percentage is a narrow kind of answer, and the names pin it down."""
    return question.percent and bool(question.names) and question.names <= content_words(e.text)


class RuleJudge:
    """Deterministic answerability for the extractive backend.

    With `words` (a vector cache of the embedding model), a focus word the sentence lacks
    still counts when one of its words means nearly the same ("news" ~ "announcement",
    "write" ~ "writing"): MiniLM's similarity of the two words alone >= SYNONYM_SIMILARITY."""

    def __init__(self, words: SentenceVectors | None = None) -> None:
        self.words = words

    def coverage(self, question: QuestionProfile, sentence: str) -> tuple[float, list[str]]:
        """Share of the focus words the sentence holds, and the synonyms that were counted."""
        focus = _wanted(question)
        found = content_words(sentence)
        missing = [w for w in focus if w not in found and not any(same_word(w, f) for f in found)]
        synonyms: list[str] = []
        if question.money and states_money(sentence):  # "the Stargate budget": "to invest $500 billion"
            synonyms = [f"{w}~a sum of money" for w in missing if amount_noun(w)]
        unmatched = [w for w in missing if not (synonyms and amount_noun(w))]
        if unmatched and question.focus and self.words is not None:  # names have no synonyms
            asked = content_forms(question.text)
            said = [w for s, w in content_forms(sentence).items() if s not in question.names]
            wanted = [asked[w] for w in unmatched if w in asked]
            if wanted and said:
                # the word as asked or its dictionary form ("wrote" ~ "writing" only as "write")
                similar = np.maximum(self.words(wanted) @ self.words(said).T,
                                     self.words([lemma(w) for w in wanted]) @ self.words(said).T)
                for i, word in enumerate(wanted):
                    best = int(np.argmax(similar[i]))
                    if similar[i][best] >= SYNONYM_SIMILARITY:
                        synonyms.append(f"{word}~{said[best]}")
        matched = len(focus) - len(missing) + len(synonyms)
        return (matched / len(focus) if focus else 1.0), synonyms

    def judge(self, question: QuestionProfile, evidence: list[Evidence]) -> Verdict:
        focus = _wanted(question)
        typed = [e for e in evidence if has_answer_kind(question, e.text)]
        if not typed:
            return Verdict(False, (), f"no sentence holds the kind of answer asked for "
                                      f"({question.kind}{' of ' + question.unit if question.unit else ''}"
                                      f"{' in money' if question.money else ''})")
        if question.kind == "quantity" and not question.duration:
            typed = [e for e in typed if _counts_what_is_asked(question, e)]
            if not typed:
                return Verdict(False, (), "no sentence with a quantity names what the question "
                                          f"counts ({', '.join(sorted(question.names))}): each must be "
                                          "in it, or one alone in the sentence before it")
        covered = {e.number: self.coverage(question, e.text) for e in typed}
        scores = {str(n): round(share, 3) for n, (share, _) in covered.items()}
        answering = [e for e in typed if (focus and scores[str(e.number)] == 1.0) or (
            e.relevance >= LEAST_RELEVANCE and (not focus or scores[str(e.number)] >= FOCUS_COVERAGE
                                                 or _named_share(question, e)))]
        # The sentence holding more of what is asked comes first; relevance breaks ties.
        answering.sort(key=lambda e: (-covered[e.number][0], -e.relevance))
        picked = tuple(e.number for e in answering)
        if not picked:
            return Verdict(False, (), "no sentence with that kind of answer holds all the words "
                                      f"{sorted(focus)}, or a quarter of them and is relevant "
                                      f"enough (>= {LEAST_RELEVANCE})", scores)
        share, synonyms = covered[picked[0]]
        if share < FOCUS_COVERAGE and focus:  # picked only as a percentage about the names asked
            return Verdict(True, picked, f"sentence {picked[0]} states a percentage about "
                                         f"{', '.join(sorted(question.names))}, the names asked about",
                           scores)
        return Verdict(True, picked, f"sentence {picked[0]} has the kind of answer and the "
                                     "question's words" + (f" (synonyms: {', '.join(synonyms)})"
                                                           if synonyms else ""), scores)
