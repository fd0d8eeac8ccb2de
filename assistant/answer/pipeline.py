"""The answer pipeline: flat named steps, streamed as typed events and traced.

guard -> follow up -> retrieve -> gather (candidates in context, ranked) -> evidence event ->
read (the LLM's yes/no per candidate, when an LLM is configured) -> decide -> compose. The
evidence goes out before anything slow runs, so a caller can show the sources at once. Every
step adds one line to `Answer.trace`; the trace is written, never read. Not here: storage,
settings parsing, formatting for people.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from assistant.answer import reader
from assistant.answer.compose import Citer, citation, compose
from assistant.answer.decide import Decision, decide, eligible
from assistant.answer.evidence import Documents, Evidence, candidates, rank
from assistant.answer.followup import FollowUp, follow_up
from assistant.answer.guards import asserted_claims, instructions
from assistant.answer.question import Question, read_question
from assistant.core import prompts
from assistant.core.dates import PartialDate
from assistant.core.errors import LLMError
from assistant.core.models import Answer, AnswerStream, Event, EvidenceEvent, FinalEvent, TextDelta
from assistant.core.settings import Settings
from assistant.core.text import numbers
from assistant.index.retrieval import HybridRetriever
from assistant.index.store import Chunk

POOL = 16  # candidates ranked; the first `evidence_sentences` are shown and read


@dataclass
class Trace:
    steps: list[dict[str, Any]] = field(default_factory=list)

    def add(self, stage: str, decision: str, reason: str = "", **details: Any) -> None:
        self.steps.append({"stage": stage, "decision": decision, "reason": reason, **details})


class AnswerPipeline:
    def __init__(self, settings: Settings, embedder: Any, retriever: HybridRetriever,
                 documents: Documents, generator: Any = None) -> None:
        """`generator`: the LLM that reads the candidates; None answers on relevance alone."""
        self.settings = settings
        self.embedder = embedder
        self.retriever = retriever
        self.documents = documents
        self.generator = generator

    def stream(self, question: str, history: list[dict[str, str]],
               as_of: PartialDate | None = None) -> AnswerStream:
        return AnswerStream(self._run(question, history, as_of))

    def _run(self, question: str, history: list[dict[str, str]], as_of: PartialDate | None,
             ) -> Iterator[Event]:
        t0, trace, timings = time.perf_counter(), Trace(), {}
        asked = self.guard(question, trace)
        turn = follow_up(asked, history)
        q = read_question(asked) if asked else None
        if q:
            trace.add("question", q.wants(), "only a sentence that holds this can answer",
                      names=sorted(q.names), figures=sorted(q.figures))
        evidence, unknown = self.gather(q, turn, as_of, trace) if q else ([], [])
        timings["evidence_s"] = time.perf_counter() - t0
        shown = evidence[: self.settings.evidence_sentences]
        yield EvidenceEvent([citation(e, e.number, e.relevance) for e in shown])
        read, notice, judged = self.read(asked, q, shown, turn, trace, timings)
        evidence = read + evidence[len(shown):]
        decision = (decide(q, evidence, unknown, judged, given=turn.referents, last=turn.last) if q
                    else Decision("refuse", reason="nothing but instructions"))
        trace.add("decide", decision.action, decision.reason, scores=decision.scores,
                  chosen=[e.number for e in decision.chosen], denies=decision.no)
        citer = Citer()
        text, conflicts = compose(decision, citer, turn.query) if q else (
            prompts.REFUSAL_INSTRUCTIONS, [])
        timings["first_sentence_s"] = timings["total_s"] = time.perf_counter() - t0
        for word in re.findall(r"\S+\s*", text):
            yield TextDelta(word)
        yield FinalEvent(Answer(
            question=question, text=text, citations=citer.citations,
            refused=decision.action == "refuse", conflicts=conflicts,
            standalone_question=turn.query, backend=self.settings.llm, notice=notice,
            timings=timings, trace=trace.steps))

    # --- the steps ------------------------------------------------------------------------
    def guard(self, question: str, trace: Trace) -> str:
        """The question without instructions to the assistant and statements set before it."""
        asked, removed = instructions(question)
        asked, claims = asserted_claims(asked)
        trace.add("guard", "removed" if removed or claims else "kept",
                  "instructions are not obeyed and statements in a question are not evidence"
                  if removed or claims else "", removed=removed, claims=claims)
        return asked

    def gather(self, q: Question, turn: FollowUp, as_of: PartialDate | None, trace: Trace,
               ) -> tuple[list[Evidence], list[str]]:
        """The ranked candidates, and the names asked about that no retrieved text mentions."""
        vector = self.embedder.embed([turn.query])[0]
        chunks = self.retriever.retrieve(turn.query, vector, self.settings.top_k, as_of)
        unknown = self.unknown(q, chunks)
        found = candidates(chunks, self.documents)
        vectors = self.vectors(found)
        idf = self.retriever.lexical.idf(turn.query)
        # "How much was it?" is about the last turn, whose names are the question's own
        about = replace(q, words=q.words | turn.referents, names=q.names | turn.referents)
        ranked = rank(about, vector, found, vectors, POOL, self.settings.evidence_threshold, idf)
        trace.add("retrieve", f"{len(chunks)} chunks, {len(ranked)} candidates",
                  f"as of {as_of}" if as_of else "", chunks=[c.chunk_id for c in chunks],
                  unknown=unknown)
        return ranked, unknown

    def unknown(self, q: Question, chunks: list[Chunk]) -> list[str]:
        """The question's names and figures that no retrieved chunk (or its title) holds."""
        said = " ".join(f"{c.title} {c.source} {c.text}" for c in chunks)
        lowered, figures = said.lower(), numbers(said)
        return sorted([n for n in q.names if n not in lowered] + sorted(q.figures - figures))

    def vectors(self, found: list[Evidence]) -> dict[tuple[str, int, int], Any]:
        """Each candidate's stored vector; a sentence without one (a store from another
        embedding backend, a sentence cut at a chunk's edge) is embedded now."""
        keys = [(e.doc_id, e.start, e.end) for e in found]
        stored = self.retriever.store.sentence_vectors(keys)
        missing = [e for e in found if (e.doc_id, e.start, e.end) not in stored]
        if missing:
            for e, v in zip(missing, self.embedder.embed([e.text for e in missing]), strict=True):
                stored[(e.doc_id, e.start, e.end)] = v
        return stored

    def read(self, asked: str, q: Question | None, shown: list[Evidence], turn: FollowUp,
             trace: Trace, timings: dict[str, float]) -> tuple[list[Evidence], str, bool]:
        """The shown candidates, those that could answer (`eligible`) with the LLM's P(yes)
        that they do, a notice, and whether the reader read; unchanged without an LLM, or
        (with a notice) when it fails and ASSISTANT_EXTRACTIVE_FALLBACK is on."""
        if self.generator is None or q is None or not shown:
            return shown, "", False
        worth = [e for e in shown if eligible(q, e, turn.referents)]
        start = time.perf_counter()
        try:
            got = reader.read(self.generator, asked, worth, turn.earlier)
        except LLMError as exc:
            if not self.settings.extractive_fallback:
                raise
            trace.add("read", "failed", str(exc))
            return shown, prompts.FALLBACK_NOTICE.format(reason=exc), False
        timings["read_s"] = time.perf_counter() - start
        if got is None:
            trace.add("read", "skipped", "the LLM endpoint gives no logprobs")
            return shown, "", False
        done, evaluated, total = got
        timings["prompt_tokens"], timings["prompt_tokens_total"] = float(evaluated), float(total)
        trace.add("read", f"{len(done)} of {len(shown)} read",
                  "the others hold no answer of the kind asked", readings={e.number: e.reading for e in done})
        readings = {e.number: e for e in done}
        return [readings.get(e.number, e) for e in shown], "", True
