"""Answerability: do the evidence sentences state what the question asks, and which of them?

With an LLM, one decision read from the next-token logits after the shared answer prefix
(system prompt, evidence, question) plus a short question ("which sentence states the
answer? 0 if none"): llama.cpp has already evaluated the prefix, so the decision costs
the judge's ~60 tokens and one forward pass, and the answer that follows reuses the prefix.
Without an LLM (`none`), deterministic checks on the question profile: some sentence must
hold the kind of answer asked for and the question's own words. Not here: checking the
generated answer (`verify.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant import prompts
from assistant.evidence import Evidence
from assistant.llm import Generator, Message
from assistant.question import QuestionProfile, has_answer_kind
from assistant.text import content_words, covers

NONE_OPTION = "0"
REFUSE_AT = 0.5  # refuse when "none of them" is at least this likely
PICK_AT = 0.15  # a sentence counts as stating the answer from this probability
FOCUS_COVERAGE = 0.25  # deterministic: least share of the question's focus words a sentence holds
LEAST_RELEVANCE = 0.5  # deterministic: an answering sentence is at least this relevant


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
    """One-token decisions of the loaded LLM, after the answer prompt's prefix."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    def judge(self, question: QuestionProfile, evidence: list[Evidence]) -> Verdict | None:
        messages = answer_messages(question.text, evidence)
        messages[-1] = Message("user", messages[-1].content + prompts.JUDGE_PICK)
        options = [NONE_OPTION] + [str(e.number) for e in evidence if e.number < 10]
        probs = self.generator.choose(messages, options)
        if probs is None:
            return None
        scores = {k: round(v, 4) for k, v in probs.items()}
        picked = tuple(int(o) for o in sorted(probs, key=probs.__getitem__, reverse=True)
                       if o != NONE_OPTION and probs[o] >= PICK_AT)
        if probs[NONE_OPTION] >= REFUSE_AT or not picked:
            return Verdict(False, (), f"judge: none of the sentences states it "
                                      f"(p={probs[NONE_OPTION]:.2f})", scores)
        return Verdict(True, picked, f"judge: sentence {picked[0]} states it "
                                     f"(p={probs[str(picked[0])]:.2f})", scores)


class RuleJudge:
    """Deterministic answerability for the extractive backend."""

    def judge(self, question: QuestionProfile, evidence: list[Evidence]) -> Verdict:
        focus = question.focus
        typed = [e for e in evidence if has_answer_kind(question, e.text)]
        if not typed:
            return Verdict(False, (), f"no sentence holds the kind of answer asked for "
                                      f"({question.kind}{' of ' + question.unit if question.unit else ''})")
        scores = {str(e.number): round(covers(focus, content_words(e.text)), 3)
                  for e in typed}
        picked = tuple(e.number for e in typed if (focus and scores[str(e.number)] == 1.0) or (
            e.relevance >= LEAST_RELEVANCE and (not focus or scores[str(e.number)] >= FOCUS_COVERAGE)))
        if not picked:
            return Verdict(False, (), "no sentence with that kind of answer holds all the words "
                                      f"{sorted(focus)}, or a quarter of them and is relevant "
                                      f"enough (>= {LEAST_RELEVANCE})", scores)
        return Verdict(True, picked, f"sentence {picked[0]} has the kind of answer and the "
                                     "question's words", scores)
