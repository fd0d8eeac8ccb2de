"""The LLM as reader: for each candidate sentence, P(yes) that it answers the question.

One yes/no per candidate, read from the next-token logits after one forward pass, never
generated. The fixed instructions (with worked examples) and the question come first, so
llama.cpp evaluates them once and each candidate costs only its own tokens: the sentence before
it and the sentence, ~55 tokens. The 1.5B model's top pick is right about as often as the most
relevant sentence, but where they disagree it is more often right, and its P(yes) separates
answerable questions from the rest better than relevance does: `decide.py` adds the two. Not
here: choosing the candidates (`evidence.py`) or deciding (`decide.py`).
"""

from __future__ import annotations

from dataclasses import replace

from assistant.answer.evidence import Evidence
from assistant.core import prompts
from assistant.llm.generators import Generator, Message

CONTEXT_CHARS = 240  # of the sentence before: enough to say what "the plant" is


def reader_messages(question: str, e: Evidence, earlier: str = "") -> list[Message]:
    context = e.context[-CONTEXT_CHARS:]
    asked = prompts.READER_QUESTION.format(earlier=f"{earlier}\n" if earlier else "", question=question)
    passage = prompts.READER_PASSAGE.format(context=context, sentence=e.text)
    return [Message("system", prompts.READER_SYSTEM), Message("user", asked + passage)]


def read(generator: Generator, question: str, evidence: list[Evidence], earlier: str = "",
         ) -> tuple[list[Evidence], int, int] | None:
    """The evidence with `reading` set, the prompt tokens evaluated and in all; None when the
    backend gives no logits (an endpoint without logprobs)."""
    out, evaluated, total = [], 0, 0
    for e in evidence:
        probs = generator.choose(reader_messages(question, e, earlier), ["yes", "no"])
        if probs is None:
            return None
        evaluated += generator.usage.prompt_evaluated
        total += generator.usage.prompt_total
        out.append(replace(e, reading=round(probs["yes"], 4)))
    return out, evaluated, total
