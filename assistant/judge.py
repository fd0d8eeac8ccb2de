"""Answerability: do the evidence sentences state what the question asks, and which of them?

Deterministic checks first (`RuleJudge`, the whole judge for `none`): some sentence must hold
the kind of answer asked for (a count, a date, a new name, advice) and the question's focus
words. With an LLM (`LLMJudge`), one yes/no decision read from the next-token logits after
the shared answer prefix (system prompt, evidence, question): llama.cpp has already evaluated
that prefix, so the decision costs its ~25 tokens and one forward pass, and the answer that
follows reuses the prefix. The LLM is asked only where the rules refuse (see `LLMJudge`).
Not here: checking the generated answer (`verify.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant import prompts
from assistant.evidence import Evidence, SentenceVectors
from assistant.llm import Generator, Message
from assistant.question import QuestionProfile, has_answer_kind
from assistant.text import content_forms, content_words, same_word

RESCUE_FROM = 0.5  # the LLM overrules the rules' "refuse" (evidence of the right kind) from this
FOCUS_COVERAGE = 0.25  # deterministic: least share of the question's focus words a sentence holds
LEAST_RELEVANCE = 0.5  # deterministic: an answering sentence is at least this relevant
SYNONYM_SIMILARITY = 0.75  # two words this similar alone count as the same focus word (see README)


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


class LLMJudge:
    """The loaded LLM's yes/no answer to "does the evidence state the answer?", read from the
    next-token logits after the answer prompt's prefix (which the answer then reuses). It is
    asked only when the deterministic checks refuse, and overrules them when it is sure the
    evidence answers (paraphrases the word checks miss). It used to veto their "answer" too
    (P(yes) < 0.25): on the golden set that refused four answerable questions and no
    unanswerable one, because the verifier already drops the drafts those vetoes were for.
    The threshold was chosen on the golden set; see the README."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    def p_yes(self, question: QuestionProfile, evidence: list[Evidence]) -> float | None:
        """P("yes") as the reply's first token; None when the backend offers no logits."""
        messages = answer_messages(question.text, evidence)
        messages[-1] = Message("user", messages[-1].content + prompts.JUDGE_ANSWERABLE)
        probs = self.generator.choose(messages, ["yes", "no", "Yes", "No"])
        return None if probs is None else probs["yes"] + probs["Yes"]

    def judge(self, question: QuestionProfile, evidence: list[Evidence], rules: Verdict,
              ) -> Verdict | None:
        """A rescue of the rules' refusal, or their verdict; None when no logits are offered."""
        if rules.answerable:
            return rules
        yes = self.p_yes(question, evidence)
        if yes is None:
            return None
        scores = {"p_yes": round(yes, 4)}
        if yes >= RESCUE_FROM:
            typed = tuple(e.number for e in evidence if has_answer_kind(question, e.text))
            return Verdict(True, typed, f"judge: the evidence states it (P(yes)={yes:.2f} >= "
                                        f"{RESCUE_FROM}), though the word checks did not find it",
                           scores)
        return Verdict(False, (), f"judge agrees (P(yes)={yes:.2f} < {RESCUE_FROM}) with the word "
                                  f"checks: {rules.reason}", scores)


def _wanted(question: QuestionProfile) -> frozenset[str]:
    """The words an answering sentence must hold: the focus words, or, when the question is
    only about its names ("Who is Sam Altman?"), the names."""
    return question.focus or question.names


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
        if missing and question.focus and self.words is not None:  # names have no synonyms
            asked = content_forms(question.text)
            said = [w for s, w in content_forms(sentence).items() if s not in question.names]
            wanted = [asked[w] for w in missing if w in asked]
            if wanted and said:
                similar = self.words(wanted) @ self.words(said).T
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
                                      f"({question.kind}{' of ' + question.unit if question.unit else ''})")
        covered = {e.number: self.coverage(question, e.text) for e in typed}
        scores = {str(n): round(share, 3) for n, (share, _) in covered.items()}
        answering = [e for e in typed if (focus and scores[str(e.number)] == 1.0) or (
            e.relevance >= LEAST_RELEVANCE and (not focus or scores[str(e.number)] >= FOCUS_COVERAGE))]
        # The sentence holding more of what is asked comes first; relevance breaks ties.
        answering.sort(key=lambda e: (-covered[e.number][0], -e.relevance))
        picked = tuple(e.number for e in answering)
        if not picked:
            return Verdict(False, (), "no sentence with that kind of answer holds all the words "
                                      f"{sorted(focus)}, or a quarter of them and is relevant "
                                      f"enough (>= {LEAST_RELEVANCE})", scores)
        synonyms = covered[picked[0]][1]
        return Verdict(True, picked, f"sentence {picked[0]} has the kind of answer and the "
                                     "question's words" + (f" (synonyms: {', '.join(synonyms)})"
                                                           if synonyms else ""), scores)
