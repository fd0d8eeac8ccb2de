"""The answer pipeline: condense -> retrieve -> evidence -> generate -> verify, streamed.

Streaming is by verified sentence: the model's draft is buffered until a sentence is
complete, that sentence is checked against the evidence and only then emitted (word by
word), re-cited or dropped. So the streamed text is always exactly the final answer text,
and nothing unsupported ever reaches the screen. Not here: storage, settings parsing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from assistant import prompts
from assistant.embedding import MiniLMEmbedding
from assistant.errors import LLMError
from assistant.evidence import (
    Evidence,
    SentenceVectors,
    expects_answer_type,
    generic_words,
    select_evidence,
)
from assistant.guards import specifics, strip_instructions
from assistant.llm import Generator, Message
from assistant.models import Answer, Citation, Conflict
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.text import sentence_spans
from assistant.verify import check_sentence, find_conflicts, normalise_markers

EXTRACTIVE_MARGIN = 0.08  # an extractive answer uses sentences this close to the most relevant
CONFLICT_POOL = 16  # relevant sentences searched for disagreements, beyond the prompt's few
@dataclass
class _Citer:
    """Numbers citations 1, 2, ... in the order the answer first uses each evidence sentence."""

    evidence: list[Evidence]
    numbers: dict[int, int] = field(default_factory=dict)
    citations: list[Citation] = field(default_factory=list)

    def cite(self, evidence_number: int, score: float) -> int:
        if evidence_number not in self.numbers:
            e = self.evidence[evidence_number - 1]
            self.numbers[evidence_number] = len(self.numbers) + 1
            self.citations.append(Citation(self.numbers[evidence_number], e.doc_id, e.title,
                                           e.source, e.text, e.start, e.end, round(score, 4)))
        return self.numbers[evidence_number]


def _with_markers(claim: str, numbers: list[int]) -> str:
    claim = claim.rstrip()
    end = claim[-1] if claim and claim[-1] in ".!?" else "."
    body = claim[:-1].rstrip() if claim and claim[-1] in ".!?" else claim
    return body + "".join(f" [{n}]" for n in numbers) + end


def _words(text: str) -> Iterator[str]:
    yield from re.findall(r"\S+\s*|\s+", text)


class AnswerStream:
    """Iterate for text deltas; `answer` holds the final Answer once iteration ends."""

    def __init__(self, deltas: Iterator[str]) -> None:
        self._deltas = deltas
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        return self._deltas


class AnswerPipeline:
    def __init__(self, settings: Settings, embedder: MiniLMEmbedding, retriever: HybridRetriever,
                 vectors: SentenceVectors, generator: Callable[[], Generator] | None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.retriever = retriever
        self.vectors = vectors
        self.generator = generator  # None: extractive answers

    # --- steps ---------------------------------------------------------------------------
    def condense(self, question: str, history: list[dict[str, str]]) -> str:
        """A standalone form of a follow-up question (the question itself when there is no history)."""
        if not history:
            return question
        last_user = next((t["content"] for t in reversed(history) if t["role"] == "user"), "")
        if self.generator is None:
            return f"{last_user} {question}".strip()
        turns = "\n".join(f"{t['role']}: {t['content'][:600]}" for t in history[-6:])
        messages = [Message("system", prompts.CONDENSE_SYSTEM),
                    Message("user", prompts.CONDENSE_USER.format(history=turns, question=question))]
        rewritten = self.generator().complete(messages, max_tokens=60).strip().splitlines()
        candidate = rewritten[0].strip().strip('"') if rewritten else ""
        if not candidate or len(candidate) > 3 * len(question) + 200:
            return f"{last_user} {question}".strip()
        return candidate

    def gather(self, standalone: str) -> list[Evidence]:
        """Evidence for the question, most relevant first. None when the question names a year
        or a name that no retrieved text has, or asks for a number or date that no evidence
        sentence holds ("How many jobs ...?" answered by a count of buildings)."""
        vector = self.embedder.embed([standalone])[0]
        chunks = self.retriever.retrieve(standalone, vector, self.settings.top_k)
        retrieved = " ".join(c.text for c in chunks).lower()
        if any(name not in retrieved for name in specifics(standalone)):
            return []
        pool = select_evidence(standalone, vector, chunks, self.vectors, CONFLICT_POOL,
                               self.settings.evidence_threshold)
        prompt = pool[: self.settings.evidence_sentences]
        return pool if any(expects_answer_type(standalone, e.text) for e in prompt) else []

    def _draft(self, question: str, evidence: list[Evidence], timings: dict[str, float],
               ) -> Iterator[str]:
        if self.generator is None:  # extractive: the best sentences that have the right kind of answer
            top = evidence[0].relevance
            fitting = [e for e in evidence if expects_answer_type(question, e.text)]
            picked = [e for e in fitting[:2] if e.relevance >= top - EXTRACTIVE_MARGIN]
            yield " ".join(f"{e.text} [{e.number}]" for e in picked)
            return
        listing = "\n".join(f"[{e.number}] {e.text}" for e in evidence)
        user = prompts.ANSWER_USER.format(evidence=listing, question=question)
        messages = [Message("system", prompts.ANSWER_SYSTEM), Message("user", user)]
        generator = self.generator()
        tokens = generator.count_tokens(prompts.ANSWER_SYSTEM + user)
        if tokens is not None:
            timings["prompt_tokens"] = float(tokens)
        yield from generator.stream(messages)

    # --- the whole pipeline --------------------------------------------------------------
    def stream(self, question: str, history: list[dict[str, str]]) -> AnswerStream:
        result = AnswerStream(iter(()))
        result._deltas = self._run(question, history, result)
        return result

    def _run(self, question: str, history: list[dict[str, str]], out: AnswerStream,
             ) -> Iterator[str]:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        asked = strip_instructions(question)  # instructions in a question are not obeyed
        standalone = self.condense(asked, history) if asked else ""
        timings["condense_s"] = time.perf_counter() - t0
        pool = self.gather(standalone) if standalone else []  # by relevance; the prompt gets a few
        evidence = pool[: self.settings.evidence_sentences]
        timings["retrieve_s"] = time.perf_counter() - t0 - timings["condense_s"]
        citer = _Citer(pool)
        generic = generic_words(pool)
        emitted: list[str] = []
        notice = ""

        def emit(sentence: str) -> Iterator[str]:
            piece = (" " if emitted else "") + sentence
            emitted.append(piece)
            if "first_token_s" not in timings:
                timings["first_token_s"] = time.perf_counter() - t0
            yield from _words(piece)

        def verified(draft_sentence: str) -> Iterator[str]:
            checked = check_sentence(draft_sentence, evidence, self.vectors,
                                     self.settings.support_threshold, standalone, generic)
            if checked.supported:
                numbers = [citer.cite(n, checked.support) for n in checked.evidence]
                yield from emit(_with_markers(checked.text, numbers))

        if evidence:
            buffer = ""
            try:
                for delta in self._draft(standalone, evidence, timings):
                    buffer = normalise_markers(buffer + delta)
                    spans = sentence_spans(buffer)
                    for start, end in spans[:-1]:  # the last may still be growing
                        yield from verified(buffer[start:end])
                    if len(spans) > 1:
                        buffer = buffer[spans[-1][0]:]
            except LLMError as exc:
                if not self.settings.extractive_fallback or emitted:
                    raise
                notice = prompts.FALLBACK_NOTICE.format(reason=exc)
                self.generator, saved = None, self.generator
                try:
                    buffer = "".join(self._draft(standalone, evidence, timings))
                finally:
                    self.generator = saved
            for start, end in sentence_spans(normalise_markers(buffer)):
                yield from verified(normalise_markers(buffer)[start:end])

        refused = not emitted
        conflicts: list[Conflict] = []
        if refused:
            citer.citations.clear()
            yield from emit(prompts.REFUSAL)
        else:
            for a, b in find_conflicts(standalone, pool):
                na, nb = citer.cite(a.number, a.relevance), citer.cite(b.number, b.relevance)
                cites = {c.number: c for c in citer.citations}
                conflicts.append(Conflict(standalone, (cites[na], cites[nb])))
                yield from emit(prompts.CONFLICT_NOTE.format(
                    first=f"“{a.text.rstrip('.')}”", a=na, second=f"“{b.text.rstrip('.')}”", b=nb))
        timings["total_s"] = time.perf_counter() - t0
        out.answer = Answer(
            question=question, text="".join(emitted), citations=list(citer.citations),
            refused=refused, conflicts=conflicts, standalone_question=standalone,
            backend=self.settings.llm, notice=notice, timings=timings)
