"""Drafters: the answer backends, each turning a question and evidence into draft text.

`LLMDrafter` (local llama.cpp or an OpenAI-compatible endpoint) writes sentences with [n]
markers from the answer prompt; `ExtractiveDrafter` (ASSISTANT_LLM=none) quotes the
sentences the judge picked. Both also rewrite follow-ups into standalone questions: the LLM
by prompt, the extractive one by putting the name the last answer gave in place of the
follow-up's pronoun. Whatever a drafter writes is verified afterwards (`verify.py`).
Not here: choosing evidence or deciding answerability.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import Protocol

from assistant.answer.evidence import Evidence
from assistant.answer.judge import Verdict, answer_messages
from assistant.answer.question import QuestionProfile, has_answer_kind
from assistant.answer.roles import NameRun, modified_phrase
from assistant.answer.verify import MARKER, affirms, negated_stems
from assistant.core import prompts
from assistant.core.text import content_words
from assistant.llm.generators import Generator, Message, Usage, complete

EXTRACTIVE_MARGIN = 0.08  # an extractive answer also quotes sentences this close to the best
_PRONOUN = re.compile(r"\b(it|its|they|their|them|he|his|she|her|the company)\b", re.IGNORECASE)
# "that"/"this" standing for a whole noun phrase, after a verb or preposition ("Until when does
# that last?", "Which month was that?", "What happened after that?"): not a determiner ("does
# that acronym mean"), nor a relative pronoun ("the deal that was signed").
_DEMONSTRATIVE = re.compile(r"\b(is|was|are|were|does|do|did|will|would|has|had|about|after|before|"
                            r"since|from|of|for|with|on|in)\s+(that|this)\s*(?=$|[?.!]|\s(is|was|does|do|did|"
                            r"last|lasts|mean|means|happen|happened|cost|costs|take|takes|end|ends|"
                            r"start|starts|started|begin|began)\b)", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][\w’'&-]*(?:\s+[A-Z][\w’'&-]*)*")

History = list[dict[str, str]]
# Question words that start a sentence capitalised, so a name run may begin with them.
_OPENERS = frozenset("what which who whom whose when where why how is are was were do does did "
                     "has have had can could will would should until since and".split())


class Drafter(Protocol):
    name: str

    def condense_traced(self, question: str, history: History) -> tuple[str, str]:
        """The standalone question, and why a rewrite was set aside ("" when none was)."""
        ...

    def draft(self, question: QuestionProfile, evidence: list[Evidence], verdict: Verdict,
              ) -> Iterator[str]: ...

    @property
    def usage(self) -> Usage: ...


def _names_in(text: str, as_referents: bool = False) -> Iterator[str]:
    """Capitalised word runs that name something: not a pronoun or article that starts a
    sentence ("It began ..."), without a possessive ("Oracle's chairman" -> "Oracle"). With
    `as_referents`, what a pronoun after the text may stand for: a name that modifies a noun
    gives the noun phrase ("Where is the first Stargate site?": "it" is the site, not Stargate)."""
    text = re.sub(r"\[\d+\]", "", text)
    for match in _NAME.finditer(text):
        name = re.sub(r"['’]s$", "", match.group())
        if content_words(name):
            run = NameRun(name.split(), match.start(), match.start() + len(name))
            yield (as_referents and modified_phrase(text, run)) or name


_ASKS_WHICH = re.compile(r"\W*(who|whom|which)\b", re.IGNORECASE)  # asks for a name


def _about_names(question: str) -> bool:
    """"Who is Satya Nadella?" asks about the name it gives, not for another one, as "Who is
    OpenAI's largest investor?" does."""
    return bool(re.match(r"\W*(?i:who|what) (?i:is|was|are|were) (?:the )?[A-Z][\w-]*(?: [A-Z][\w-]*)*\W*$",
                         question))


def invented_names(standalone: str, question: str, history: History) -> list[str]:
    """Names a rewritten follow-up gives that neither it nor the conversation gave ("Which
    month was that?" after "In 2023." rewritten as "Which month was June?"): the rewrite
    answered instead of resolving a reference, so it cannot be used."""
    said = " ".join([question, *(t["content"] for t in history)]).lower()
    return [n for n in _names_in(standalone) if n.lower() not in said
            and not (n.split()[0].lower() in _OPENERS and " ".join(n.split()[1:]).lower() in said)]


def unresolved(standalone: str, history: History) -> bool:
    """A rewrite that names nothing though the last turn named something ("How much was it?"
    after a turn about Microsoft's 2019 investment, rewritten as "How much was the investment?")
    still leans on the conversation: it is not standalone."""
    last = " ".join(t["content"] for t in history[-2:])
    return next(_names_in(standalone), None) is None and next(_names_in(last), None) is not None


def drops_the_answer(standalone: str, question: str, history: History) -> bool:
    """A rewrite of a follow-up whose "that" stands for what the last answer gave ("Until when
    does that last?" after "Exclusivity on OpenAI's APIs ...") that keeps no word of that
    answer beyond the last question's ("Until when does Microsoft keep under the new deal?"):
    the thing asked about was lost."""
    if not _DEMONSTRATIVE.search(question):
        return False
    asked, answered = _last(history, "user"), _gave(history)
    if not answered:
        return False
    given = content_words(answered) - content_words(asked) - content_words(question)
    if not any(w[0].isalpha() for w in given):
        return False  # "In 2023.": "that" is the event asked about ("Which month was that?")
    return not given & content_words(standalone)


def rewrite_fault(candidate: str, question: str, history: History) -> str:
    """Why an LLM rewrite of a follow-up cannot stand for it ("" when it can)."""
    if not candidate:
        return "is empty"
    if len(candidate) > 3 * len(question) + 200:
        return "is far longer than the question"
    invented = invented_names(candidate, question, history)
    if invented:
        return f"gives names the conversation never gave: {invented}"
    if unresolved(candidate, history):
        return "names nothing, though the last turn named something"
    if drops_the_answer(candidate, question, history):
        return "keeps nothing of the last answer, which \"that\" stood for"
    return ""


def _put_name(name: str, pronoun: re.Match[str]) -> str:
    possessive = pronoun.group().lower() in ("its", "their", "his", "her")
    return name + ("’s" if possessive else "")


def _last(history: History, role: str) -> str:
    return next((t["content"] for t in reversed(history) if t["role"] == role), "")


_NO_ANSWER = tuple(t.split("{")[0] for t in (prompts.REFUSAL, prompts.REFUSAL_UNKNOWN_NAME,
                                               prompts.REFUSAL_CLOSE, prompts.PREMISE_CORRECTION))


def _gave(history: History) -> str:
    """What the last answer stated, without its markers and quotes; "" when it stated nothing
    (one of our refusals or corrections: "that" cannot stand for it)."""
    answered = _last(history, "assistant").strip()
    if answered.startswith(_NO_ANSWER):
        return ""
    return re.sub(r"“[^”]*”", "", MARKER.sub("", answered))


class LLMDrafter:
    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.name = generator.name

    @property
    def usage(self) -> Usage:
        return self.generator.usage

    def condense_traced(self, question: str, history: History) -> tuple[str, str]:
        if not history:
            return question, ""
        turns = "\n".join(f"{t['role']}: {t['content'][:600]}" for t in history[-6:])
        messages = [Message("system", prompts.CONDENSE_SYSTEM),
                    Message("user", prompts.CONDENSE_USER.format(history=turns, question=question))]
        lines = complete(self.generator, messages, max_tokens=60).strip().splitlines()
        candidate = lines[0].strip().strip('"') if lines else ""
        fault = rewrite_fault(candidate, question, history)
        if fault:
            return (ExtractiveDrafter().condense(question, history),
                    f"the LLM's rewrite {candidate!r} {fault}, so the deterministic one is used")
        return candidate, ""

    def draft(self, question: QuestionProfile, evidence: list[Evidence], verdict: Verdict,
              ) -> Iterator[str]:
        yield from self.generator.stream(answer_messages(question.text, evidence))


class ExtractiveDrafter:
    """Quotes evidence verbatim: the judge's picks, best first, and one more as close."""

    name = "none (extractive)"

    def __init__(self) -> None:
        self._usage = Usage()

    @property
    def usage(self) -> Usage:
        return self._usage

    def condense_traced(self, question: str, history: History) -> tuple[str, str]:
        return self.condense(question, history), ""

    def condense(self, question: str, history: History) -> str:
        """The follow-up with its first pronoun replaced by what the last turn was about: the
        name the last answer gave when the last question asked for one ("Who is the largest
        investor?" -> "Microsoft." -> "When did it first invest?" -> "When did Microsoft first
        invest?"), else the first name in the last question ("What is the Stargate Project?"
        -> "How much will it invest?" -> "How much will Stargate Project invest?"), or the noun
        phrase it is a modifier in ("the first Stargate site"), else the first name in the
        answer. A follow-up without a pronoun comes first, the last question after it in
        brackets, as context; the last answer too when the follow-up says "that" for what the
        answer gave ("Until when does that last?" after "Exclusivity on OpenAI's APIs ...")."""
        if not history:
            return question
        asked, answered = _last(history, "user"), _last(history, "assistant")
        asked_names = list(_names_in(asked))
        given = [n for n in _names_in(answered) if n not in asked_names]
        asked_for_a_name = bool(_ASKS_WHICH.match(asked)) and not _about_names(asked)
        referents = (given if asked_for_a_name else []) + list(_names_in(asked, as_referents=True)) + given
        if referents and _PRONOUN.search(question):
            return _PRONOUN.sub(partial(_put_name, referents[0]), question, count=1)
        context = f"{asked} {_gave(history)}" if _DEMONSTRATIVE.search(question) else asked
        return f"{question} ({context.strip()})".strip()  # what is asked comes first

    def draft(self, question: QuestionProfile, evidence: list[Evidence], verdict: Verdict,
              ) -> Iterator[str]:
        yield " ".join(f"{e.text} [{e.number}]" for e in quoted(question, evidence, verdict))


def quoted(question: QuestionProfile, evidence: list[Evidence], verdict: Verdict) -> list[Evidence]:
    """The evidence an extractive answer quotes: the judge's two best picks (the second only
    when about as relevant), or both sides of a yes/no question."""
    by_number = {e.number: e for e in evidence}
    picked = [by_number[n] for n in verdict.picked if n in by_number]
    if not picked:
        picked = [e for e in evidence if has_answer_kind(question, e.text)][:1]
    top = picked[0].relevance if picked else 0.0
    chosen = [e for e in picked[:2] if e.relevance >= top - EXTRACTIVE_MARGIN]
    if question.kind == "yesno":
        chosen = _both_sides(question, picked) or chosen
    return chosen


def _both_sides(question: QuestionProfile, picked: list[Evidence]) -> list[Evidence]:
    """For a yes/no question, the best sentence that negates what is asked about and the best
    that affirms it, when the picked sentences hold both ("no longer exclusive" and "exclusivity
    on the APIs continues"): either alone would lose the nuance. Empty when they do not."""
    negating = [e for e in picked if negated_stems(e.text) & question.focus]
    if not negating:
        return []
    point = negated_stems(negating[0].text) & question.focus
    affirming = [e for e in picked if affirms(e.text, point)]
    if not affirming:
        return []
    return sorted([negating[0], affirming[0]], key=lambda e: -e.relevance)
