"""The answer pipeline, in named stages, streamed as typed events and traced.

guard -> condense -> profile -> retrieve -> evidence -> premise -> answerability -> generate ->
verify -> assemble (a false premise goes straight to assemble, corrected). The evidence event
goes out before anything is generated, so a caller can show the sources at once. Generated
text is buffered until a sentence is complete; that sentence is verified and only then
emitted, so the streamed text is always exactly the final answer. Every stage adds a line
to `Answer.trace` saying what it decided and why. Not here: storage, settings parsing,
formatting for people.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from assistant.answer.drafting import Drafter, ExtractiveDrafter, quoted
from assistant.answer.evidence import Evidence, SentenceVectors, generic_words, select_evidence
from assistant.answer.guards import asserted_claims, instructions
from assistant.answer.judge import LLMJudge, RuleJudge, Verdict
from assistant.answer.question import QuestionProfile, as_question, has_answer_kind, profile
from assistant.answer.roles import titles
from assistant.answer.verify import (
    MARKER,
    Cessation,
    CheckedSentence,
    Misbinding,
    cessation,
    check_sentence,
    contradicts_cessation,
    find_conflicts,
    misbound_names,
    normalise_markers,
    states_cessation,
    support_scores,
)
from assistant.core import prompts
from assistant.core.errors import LLMError
from assistant.core.models import (
    Answer,
    AnswerStream,
    Citation,
    Conflict,
    Event,
    EvidenceEvent,
    FinalEvent,
    TextDelta,
)
from assistant.core.settings import Settings
from assistant.core.text import content_words, covers, sentence_spans
from assistant.index.retrieval import HybridRetriever

CONFLICT_POOL = 16  # relevant sentences searched for disagreements, beyond the prompt's few
REPEAT_OVERLAP = 0.8  # a sentence sharing this much of an emitted one's words is a repeat
PROMOTE_SHARE = 0.5  # least share of the question's focus words a promoted sentence holds


# --- small helpers --------------------------------------------------------------------------
@dataclass
class Trace:
    steps: list[dict[str, Any]] = field(default_factory=list)

    def add(self, stage: str, decision: str, reason: str = "", **details: Any) -> None:
        self.steps.append({"stage": stage, "decision": decision, "reason": reason, **details})


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
            self.citations.append(_citation(e, self.numbers[evidence_number], score))
        return self.numbers[evidence_number]


def _citation(e: Evidence, number: int, score: float) -> Citation:
    return Citation(number, e.doc_id, e.title, e.source, e.text, e.start, e.end, round(score, 4))


def _with_markers(claim: str, numbers: list[int]) -> str:
    claim = claim.rstrip()
    end = claim[-1] if claim and claim[-1] in ".!?" else "."
    body = claim[:-1].rstrip() if claim and claim[-1] in ".!?" else claim
    return body + "".join(f" [{n}]" for n in numbers) + end


def _words(text: str) -> Iterator[str]:
    yield from re.findall(r"\S+\s*|\s+", text)


def _is_repeat(claim: str, emitted: list[str]) -> bool:
    words = content_words(claim)
    for earlier in emitted:
        seen = content_words(earlier)
        if words and len(words & seen) >= REPEAT_OVERLAP * len(words):
            return True
    return False


def first_sentence(deltas: Iterator[str]) -> str:
    """The streamed draft up to the end of its first sentence, markers included ("... [1]."
    though the model wrote "... . [1]"); the rest is never generated."""
    buffer = ""
    try:
        for delta in deltas:
            buffer = normalise_markers(buffer + delta)
            spans = sentence_spans(buffer)
            if len(spans) > 1 and re.search(r"[^\W\d]", buffer[spans[1][0]:]):  # not a lone "[1"
                return buffer[spans[0][0]:spans[0][1]]
    finally:
        close = getattr(deltas, "close", None)
        if close is not None:
            close()  # a generator: stops the LLM
    spans = sentence_spans(buffer)
    return buffer[spans[0][0]:spans[0][1]] if spans else buffer.strip()


def off_point(sentence: str, supporting: tuple[int, ...], verdict: Verdict,
              question: QuestionProfile) -> bool:
    """A supported sentence that does not answer: every evidence sentence that supports it is one
    the judge did not pick as stating the answer, and it shares none of the question's words,
    names included. (True and cited, but about a tempting neighbour of the answer.)"""
    return (bool(verdict.picked) and not set(supporting) & set(verdict.picked)
            and covers(question.content, content_words(sentence)) == 0)


class AnswerPipeline:
    def __init__(self, settings: Settings, embedder: Any, retriever: HybridRetriever,
                 vectors: SentenceVectors, drafter: Drafter,
                 judge: LLMJudge | None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.retriever = retriever
        self.vectors = vectors
        self.drafter = drafter
        self.judge = judge  # None: the deterministic checks (`self.rules`) decide alone
        self.rules = RuleJudge(SentenceVectors(embedder, limit=5_000))  # word vectors, for synonyms

    # --- stages --------------------------------------------------------------------------
    def guard(self, question: str, trace: Trace) -> str:
        asked, removed = instructions(question)
        asked, claims = asserted_claims(asked)
        decision = " and ".join(d for d, found in (("removed instructions", removed),
                                                   ("set claims aside", claims)) if found)
        reasons = [r for r, found in (
            ("imperative clauses aimed at the assistant are not obeyed", removed),
            ("statements made in the question are not evidence", claims)) if found]
        trace.add("guard", decision or "kept", "; ".join(reasons), removed=removed, claims=claims)
        return asked

    def condense(self, question: str, history: list[dict[str, str]], trace: Trace) -> str:
        standalone, fault = self.drafter.condense_traced(question, history) if history else (question, "")
        if history:
            trace.add("condense", "rewritten" if standalone != question else "kept", fault,
                      standalone=standalone)
        return standalone

    def gather(self, question: QuestionProfile, trace: Trace) -> list[Evidence]:
        """Evidence sentences for the question, most relevant first (the pool for conflicts)."""
        vector = self.embedder.embed([question.text])[0]
        chunks = self.retriever.retrieve(question.text, vector, self.settings.top_k)
        retrieved = " ".join(c.text for c in chunks).lower()
        unknown = sorted(n for n in question.specifics if n not in retrieved)
        trace.add("retrieve", f"{len(chunks)} chunks", chunks=[c.chunk_id for c in chunks])
        if unknown:
            trace.add("retrieve", "refuse", "the question names what no retrieved text mentions",
                      unknown=unknown)
            return []
        pool = select_evidence(question, vector, chunks, self.vectors, CONFLICT_POOL,
                               self.settings.evidence_threshold)
        pool = self.promote_covering(question, pool, trace)
        trace.add("evidence", f"{len(pool)} sentences",
                  relevance={e.number: e.relevance for e in pool[: self.settings.evidence_sentences]})
        return pool

    def promote_covering(self, question: QuestionProfile, pool: list[Evidence], trace: Trace,
                         ) -> list[Evidence]:
        """The pool, with the sentence holding most of the question's focus words (at least half
        of them) moved into the last place the prompt shows when it holds more of them than
        every sentence there, synonyms counted as the judge counts them: relevance mixes in
        similarity of topic, and four sentences about "the changes" can outrank the one saying
        when the change was revealed. Numbers follow the new order."""
        shown = self.settings.evidence_sentences
        if len(pool) <= shown or not question.focus:
            return pool
        # candidates by words alone (word vectors for the whole pool would cost ~0.1 s)
        plain = {e.number: covers(question.focus, content_words(e.text)) for e in pool}
        best = max(pool[shown:], key=lambda e: plain[e.number])
        if plain[best.number] < PROMOTE_SHARE or plain[best.number] <= max(
                plain[e.number] for e in pool[:shown]):
            return pool
        share = self.rules.coverage(question, best.text)[0]
        if share <= max(self.rules.coverage(question, e.text)[0] for e in pool[:shown]):
            return pool
        order = [*pool[:shown - 1], best, *(e for e in pool[shown - 1:] if e is not best)]
        trace.add("evidence", "promoted", f"sentence {best.number} holds more of the question's "
                  f"words ({share:.2f}) than the {shown} most relevant", sentence=best.text)
        return [replace(e, number=i) for i, e in enumerate(order, 1)]

    def open_role(self, question: QuestionProfile, evidence: list[Evidence], trace: Trace,
                  ) -> QuestionProfile:
        """A role question ("What does Microsoft act as?") is answered by a sentence that gives
        its name a role or title, when the evidence has one; when none does, the question is
        asked as an open one, since a role can be told in other words ("is expected to play a
        central role in ..."), and the judge decides as before."""
        if question.kind != "role" or not evidence or any(
                has_answer_kind(question, e.text) for e in evidence):
            return question
        trace.add("profile", "other", f"no evidence sentence gives {question.subject} a role or "
                  "a title, so the question is asked as an open one")
        return replace(question, kind="other", subject="")

    def premise(self, asked: str, pool: list[Evidence], trace: Trace,
                ) -> tuple[Misbinding | Cessation, list[Evidence]] | None:
        """A question whose premise the evidence contradicts, and the sentence that does:
        - it gives a name words no evidence gives it ("What did Microsoft CEO Sam Altman
          say?", where the evidence has "OpenAI CEO Sam Altman"); the most relevant sentence
          that puts a title before the name is the correction (the verifier's own check);
        - it asks why something stopped ("Why did OpenAI stop using Azure entirely?"), no
          evidence says it did, and a sentence says it goes on ("OpenAI's AI models will
          continue to run exclusively on Microsoft's Azure platform").
        On the user's own words (`asked`), not on a rewrite that carries an earlier question
        along. Nothing else about the premise is decided here (an unknown name is the retrieve
        stage's, a premise echoed in the answer the verifier's)."""
        stopped = cessation(asked)
        if stopped and not any(states_cessation(stopped, e.text) for e in pool):
            going_on = [e for e in pool if contradicts_cessation(stopped, e.text)]
            if going_on:
                trace.add("premise", "false", f"the question takes it that “{stopped}”; no evidence "
                          "found says so, and these sentences say it goes on",
                          sentences=[e.text for e in going_on[:2]])
                return stopped, going_on[:2]  # "maintain a close partnership", "will continue"
        for misbinding in misbound_names(asked, " ".join(e.text for e in pool)):
            naming = [e for e in pool if misbinding.name in e.text]
            titled = [e for e in naming if titles(misbinding.name, e.text)]
            if naming:
                sentence = (titled or naming)[0]
                trace.add("premise", "false", f"the question says “{misbinding}”; no evidence found "
                          f"puts “{misbinding.words}” before {misbinding.name}", sentence=sentence.text)
                return misbinding, [sentence]
        trace.add("premise", "not contradicted")
        return None

    def answerable(self, question: QuestionProfile, evidence: list[Evidence], trace: Trace,
                   timings: dict[str, float]) -> tuple[Verdict, str | None]:
        """The judge's verdict, and the LLM's draft when it was written to decide (the rules
        refused and the LLM judge checked the draft's answer): the answer then reuses it. That
        draft stops at its first sentence, the one judged: a refusal comes sooner, and no
        rescued answer in the golden set kept a second sentence (each was a repeat or padding)."""
        start = time.perf_counter()
        rules = self.rules.judge(question, evidence)
        verdict, draft = rules, None
        if not rules.answerable and self.judge is not None:  # an LLMError goes to the caller
            draft = first_sentence(self.drafter.draft(question, evidence, rules))
            drafted = self.drafter.usage
            rescued = self.judge.rescue(question, draft, evidence)
            if self.drafter.usage is not drafted:  # the judge's yes/no counted its own tokens
                timings["judge_prompt_tokens"] = float(self.drafter.usage.prompt_evaluated)
                self.drafter.usage.prompt_evaluated += drafted.prompt_evaluated
                self.drafter.usage.generated += drafted.generated
            if rescued is not None:
                verdict = rescued
        timings["judge_s"] = time.perf_counter() - start
        trace.add("answerability", "answer" if verdict.answerable else "refuse", verdict.reason,
                  picked=list(verdict.picked), scores={**rules.scores, **verdict.scores},
                  rules="answer" if rules.answerable else "refuse", rules_picked=list(rules.picked),
                  **({"draft": draft} if draft is not None else {}))
        return verdict, (draft if verdict.answerable else None)

    # --- the whole pipeline --------------------------------------------------------------
    def stream(self, question: str, history: list[dict[str, str]]) -> AnswerStream:
        return AnswerStream(self._run(question, history))

    def _run(self, question: str, history: list[dict[str, str]]) -> Iterator[Event]:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        trace = Trace()
        asked = self.guard(question, trace)
        standalone = self.condense(asked, history, trace) if asked else ""
        asked_profile = profile(as_question(standalone))
        trace.add("profile", asked_profile.kind,
                  f"the request asks “{asked_profile.text}”" if asked_profile.text != standalone
                  else "", names=sorted(asked_profile.names),
                  years=sorted(asked_profile.years), unit=asked_profile.unit,
                  money=asked_profile.money, duration=asked_profile.duration,
                  parts=asked_profile.parts, **({"subject": asked_profile.subject}
                                                if asked_profile.subject else {}))
        timings["condense_s"] = time.perf_counter() - t0
        pool = self.gather(asked_profile, trace) if standalone else []
        evidence = pool[: self.settings.evidence_sentences]
        asked_profile = self.open_role(asked_profile, evidence, trace)
        timings["evidence_s"] = time.perf_counter() - t0
        yield EvidenceEvent([_citation(e, e.number, e.relevance) for e in evidence])

        citer = _Citer(pool)
        generic = generic_words(pool)
        emitted: list[str] = []
        claims: list[str] = []  # kept sentences
        cited: set[int] = set()  # the evidence numbers the kept sentences rest on
        dropped: list[str] = []  # dropped sentences (other than the answer's lost first claim)
        lost_answer: list[CheckedSentence] = []  # the first sentence, when what it claims failed
        lost_closest: list[int] = []  # ... and the evidence sentence it came closest to
        # Sentences kept but supported only by evidence the judge did not pick, held back until
        # one that rests on a picked sentence arrives; if none does, the draft answered a
        # neighbouring question and the picked sentences are quoted instead (after generation).
        held: list[tuple[str, tuple[int, ...], float]] = []
        holding = not isinstance(self.drafter, ExtractiveDrafter)
        notice = ""
        refusal = prompts.REFUSAL

        def emit(sentence: str) -> Iterator[Event]:
            piece = (" " if emitted else "") + sentence
            emitted.append(piece)
            if "first_sentence_s" not in timings:
                timings["first_sentence_s"] = time.perf_counter() - t0
                timings["first_sentence_tokens"] = float(self.drafter.usage.generated)
            for word in _words(piece):
                yield TextDelta(word)

        def release() -> Iterator[Event]:
            nonlocal holding
            holding = False  # the answer rests on a picked sentence: what follows streams at once
            for text, supporting, support in held:
                yield from emit(_with_markers(text, [citer.cite(n, support) for n in supporting]))
            held.clear()

        def verified(draft_sentence: str) -> Iterator[Event]:
            judged_first = drafted is not None and not (claims or dropped or lost_answer)
            checked = check_sentence(draft_sentence, evidence, self.vectors,
                                     self.settings.support_threshold, asked_profile.text, generic,
                                     judged=judged_first)
            if lost_answer:
                trace.add("verify", "dropped", "the answer's first claim failed, so this is not an "
                          "answer to the question", sentence=checked.text)
            elif (checked.failed_claim or (judged_first and not checked.supported)) and not (
                    claims or dropped):
                # The first sentence states the answer; when it is unsupported, what follows is
                # padding around an answer that failed ("The initiative aims to invest ..."). The
                # sentence the LLM judge rescued the question for must itself pass, for any reason.
                lost_answer.append(checked)
                if checked.text and evidence:  # what it rests on (the model's own [n] is often wrong)
                    scores = support_scores(checked.text, [e.text for e in evidence], self.vectors,
                                            generic)
                    lost_closest.append(evidence[max(range(len(scores)), key=scores.__getitem__)].number)
                trace.add("verify", "dropped", f"{checked.reason}; it was the answer, so the rest "
                          "is not one", sentence=checked.text, support=round(checked.support, 3),
                          closest=list(lost_closest))
            elif checked.supported and _is_repeat(checked.text, claims):
                trace.add("verify", "dropped", "repeats an earlier sentence", sentence=checked.text)
            elif checked.supported and off_point(checked.text, checked.evidence, verdict, asked_profile):
                trace.add("verify", "dropped", "does not address the question: supported only by "
                          "sentences the judge did not pick, and shares none of its words",
                          sentence=checked.text, evidence=list(checked.evidence))
            elif checked.supported:
                claims.append(checked.text)
                cited.update(checked.evidence)
                drafted_as = MARKER.sub("", draft_sentence).strip()  # before the claim was cut out
                trace.add("verify", "kept", sentence=checked.text, support=round(checked.support, 3),
                          evidence=list(checked.evidence),
                          **({"drafted": drafted_as} if drafted_as not in ("", checked.text) else {}))
                held.append((checked.text, checked.evidence, checked.support))
                if not holding or set(checked.evidence) & set(verdict.picked) or not verdict.picked:
                    yield from release()
            elif checked.text:
                dropped.append(checked.text)
                trace.add("verify", "dropped", checked.reason, sentence=checked.text,
                          support=round(checked.support, 3))

        def complete() -> Iterator[Event]:
            """For a question of several parts, the evidence an extractive answer would quote
            that the drafted answer does not cite, quoted after it: the 1.5B model tends to
            answer one part ("How did Oracle come in, and what is its role now?" got only the
            role) and the judge picked sentences for the rest. Not for one-part questions: there
            the extra quotes were mostly beside the point (answer relevance 0.915 -> 0.842)."""
            missing = [e for e in quoted(asked_profile, evidence, verdict) if e.number not in cited]
            trace.add("complete", f"quoted {len(missing)} more" if missing else "nothing to add",
                      f"the question asks {asked_profile.parts} things; "
                      + ("the answer does not cite evidence the judge picked" if missing
                         else "the answer cites every sentence an extractive answer quotes"),
                      added=[e.number for e in missing])
            for e in missing:
                yield from verified(f"{e.text} [{e.number}]")

        verdict = Verdict(False, (), "no evidence")
        drafted: str | None = None  # the draft the LLM judge checked, when it rescued the question
        failure: LLMError | None = None  # set when the LLM failed and the extractive fallback is on
        false_premise = self.premise(asked, pool, trace) if pool else None
        if false_premise:
            pass  # corrected below, instead of an answer
        elif not evidence and standalone:
            unknown = [s for s in trace.steps if s.get("unknown")]
            if unknown:
                refusal = prompts.REFUSAL_UNKNOWN_NAME.format(names=", ".join(unknown[0]["unknown"]))
        elif not any(has_answer_kind(asked_profile, e.text) for e in evidence):
            trace.add("answerability", "refuse", f"no evidence sentence holds a {asked_profile.kind} "
                      f"answer{' about ' + asked_profile.unit if asked_profile.unit else ''}"
                      f"{' in money' if asked_profile.money else ''}")
        else:
            try:
                verdict, drafted = self.answerable(asked_profile, evidence, trace, timings)
            except LLMError as exc:
                if not self.settings.extractive_fallback:
                    raise
                failure = exc
                verdict = self.rules.judge(asked_profile, evidence)
                trace.add("answerability", "answer" if verdict.answerable else "refuse",
                          f"the LLM failed, so the deterministic checks decided: {verdict.reason}")
        if verdict.answerable:
            buffer = ""
            if failure is None:  # after a failed judge, do not wait for the LLM a second time
                try:
                    deltas = [drafted] if drafted is not None else self.drafter.draft(
                        asked_profile, evidence, verdict)
                    for delta in deltas:
                        buffer = normalise_markers(buffer + delta)
                        spans = sentence_spans(buffer)
                        for start, end in spans[:-1]:  # the last may still be growing
                            yield from verified(buffer[start:end])
                        if len(spans) > 1:
                            buffer = buffer[spans[-1][0]:]
                except LLMError as exc:
                    if not self.settings.extractive_fallback or emitted:
                        raise
                    failure = exc
            if failure is not None:
                trace.add("generate", "fell back to extractive", str(failure))
                buffer = "".join(ExtractiveDrafter().draft(asked_profile, evidence, verdict))
            for start, end in sentence_spans(normalise_markers(buffer)):
                yield from verified(normalise_markers(buffer)[start:end])
            declined = bool(lost_answer) and lost_answer[0].declined and bool(verdict.picked)
            # The deterministic checks found the answer, and the LLM's wording of it failed: a
            # paraphrase too loose for the support score ("The last until 2030"), or a misreading
            # ("Microsoft acts as a competitor"), or an answer to a neighbouring question ("...
            # sole supplier in the area of Copilot"). The picked evidence is the answer; it is
            # quoted, as the extractive backend would; so it is when no sentence of the draft
            # stood. Not after a rescue: there the checks found nothing, and the picked sentence
            # is the one the failed draft itself cited.
            failed_wording = (drafted is None and bool(verdict.picked) and bool(lost_answer or not claims)
                              and not isinstance(self.drafter, ExtractiveDrafter))
            if held or declined or failed_wording:
                if held:  # no kept sentence rests on a sentence the judge picked as the answer
                    trace.add("verify", "replaced", "the draft is supported only by evidence the "
                              "judge did not pick, so it does not answer the question; the picked "
                              "evidence is quoted instead", sentences=[text for text, _, _ in held],
                              picked=list(verdict.picked))
                elif declined:  # as when the LLM fails: the judge found the answer, the drafter none
                    trace.add("verify", "replaced", "the drafter said it does not know, but the "
                              "judge found the answer in the picked evidence, which is quoted "
                              "instead", sentences=[lost_answer[0].text], picked=list(verdict.picked))
                elif not lost_answer:
                    trace.add("verify", "replaced", "no sentence of the draft passed the checks, "
                              "though the deterministic checks found the answer; the picked "
                              "evidence is quoted instead", sentences=list(dropped),
                              picked=list(verdict.picked))
                else:
                    near = set(lost_closest) & set(verdict.picked)
                    trace.add("verify", "replaced", "the draft's answer failed " + (
                        "on the evidence the deterministic checks picked as the answer" if near else
                        "and comes closest to evidence they did not pick: it answered a "
                        "neighbouring question") + "; the picked evidence is quoted instead",
                              sentences=[lost_answer[0].text], closest=list(lost_closest),
                              picked=list(verdict.picked))
                if not held:
                    lost_answer.clear()
                    lost_closest.clear()
                    dropped.clear()
                held.clear()
                claims.clear()
                cited.clear()
                holding = False
                extract = "".join(ExtractiveDrafter().draft(asked_profile, evidence, verdict))
                for start, end in sentence_spans(extract):
                    yield from verified(extract[start:end])
            if claims and asked_profile.parts > 1 and failure is None and not isinstance(
                    self.drafter, ExtractiveDrafter):
                yield from complete()
            usage = self.drafter.usage
            timings["prompt_tokens"] = float(usage.prompt_evaluated)
            timings["prompt_tokens_total"] = float(usage.prompt_total)
            timings["generated_tokens"] = float(usage.generated)
        if failure:
            notice = prompts.FALLBACK_NOTICE.format(reason=failure)

        refused = not emitted and not false_premise
        conflicts: list[Conflict] = []
        if false_premise:
            premise, said = false_premise
            correction = prompts.PREMISE_CORRECTION.format(premise=premise, quotes=". They also say: ".join(
                f"“{e.text}” [{citer.cite(e.number, e.relevance)}]" for e in said))
            trace.add("assemble", "corrected the premise", correction)
            yield from emit(correction)
        elif refused:
            citer.citations.clear()
            citer.numbers.clear()
            if evidence and refusal == prompts.REFUSAL:
                close = evidence[0]
                refusal = prompts.REFUSAL_CLOSE.format(quote=f"“{close.text}”",
                                                       n=citer.cite(close.number, close.relevance))
            trace.add("assemble", "refused", refusal)
            yield from emit(refusal)
        else:
            for a, b in find_conflicts(standalone, pool):
                na, nb = citer.cite(a.number, a.relevance), citer.cite(b.number, b.relevance)
                cites = {c.number: c for c in citer.citations}
                conflicts.append(Conflict(standalone, (cites[na], cites[nb])))
                trace.add("assemble", "conflict noted", first=a.text, second=b.text)
                yield from emit(prompts.CONFLICT_NOTE.format(
                    first=f"“{a.text.rstrip('.')}”", a=na, second=f"“{b.text.rstrip('.')}”", b=nb))
        timings["total_s"] = time.perf_counter() - t0
        yield FinalEvent(Answer(
            question=question, text="".join(emitted), citations=list(citer.citations),
            refused=refused, conflicts=conflicts, standalone_question=standalone,
            backend=self.settings.llm, notice=notice, timings=timings, trace=trace.steps))
