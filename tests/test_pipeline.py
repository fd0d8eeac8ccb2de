"""The answer pipeline on the judged-answers issue's own examples, stage by stage and end to end.

Each row is a question a new user asked, with what a careful analyst expects: a refusal that
says what the documents do say, a correction of a false premise, or an answer on the point.
The extractive rows run in the fast suite; the same rows with the local model are `slow`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_settings

from assistant import Answer, Assistant
from assistant.core.errors import EmptyStoreError
from assistant.core.models import Citation

HEADING = "Oracle’s Role and Growing Cloud Partnerships"

# (question, expectation): "refuse", or a regex the answer must match; `not:` what it must not say.
EXAMPLES = [
    ("How much is Oracle investing in Stargate?", "refuse", r"Oracle[^.]*invest[^.]*500"),
    ("What did Microsoft pay for its right of first refusal?", "refuse", r"paid"),
    ("How many data centers does CoreWeave run for OpenAI?", "refuse", r"CoreWeave (runs|operates)"),
    ("When did Oracle buy CoreWeave?", "refuse", r"Oracle (bought|acquired)"),
    ("Which Texas city hosts the second Stargate site?", "refuse", r"Abilene (is|hosts) the second"),
    ("Why did OpenAI stop using Azure entirely?", "refuse|commit|continue", r"(stopped|stops) using Azure"),
    ("Does Microsoft still have any exclusivity?", r"\bAPI", r"^No\b"),
    ("Who chairs Oracle?", r"Ellison", None),
    ("What does Microsoft act as for OpenAI?", r"investor|provider|host", None),
    ("Should OpenAI trust this deal?", "refuse", r"should trust"),
    ("How has the Oracle-Microsoft relationship changed?", r"collaborat|Azure|deal", None),
    ("What role did Microsoft give up in its relationship with OpenAI?", r"exclusive", HEADING),
]


def check_example(bot: Assistant, answer: Answer, expect: str, forbid: str | None) -> None:
    why = f"{answer.text}\n" + "\n".join(str(s) for s in answer.trace)
    if "refuse" in expect.split("|"):
        ok = answer.refused or bool(re.search(expect, answer.text))
    else:
        ok = not answer.refused and bool(re.search(expect, answer.text))
    assert ok, why
    if forbid:
        claims = re.sub(r"“[^”]*”", "", answer.text)  # what a refusal quotes is not a claim
        assert not re.search(forbid, claims), why
    if answer.refused:  # a refusal says so plainly and quotes, cited, at most what is close
        assert answer.text.startswith(("I can't answer", "The documents do not")), why
        assert len(answer.citations) <= 1
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", re.sub(r"\s*\[\d+\]", "", answer.text))]
    assert len(sentences) == len(set(sentences)), f"a sentence is repeated: {why}"
    for c in answer.citations:
        assert bot.document(c.doc_id).text[c.start:c.end] == c.quote
    stages = [s["stage"] for s in answer.trace]
    assert stages[0] == "guard" and "retrieve" in stages and stages[-1] in ("assemble", "verify",
                                                                            "complete")


# Where the deterministic judge cannot tell: "give up" is "relinquished" (MiniLM rates the two
# words 0.26 alike): the role question finds the sentence giving Microsoft its role, but it
# lacks the question's "relationship", so the question is refused, quoting that sentence.
# strict: the day it passes, the mark must go.
EXTRACTIVE_LIMITS = {"What role did Microsoft give up in its relationship with OpenAI?"}


@pytest.mark.parametrize("question,expect,forbid", [
    pytest.param(*row, marks=pytest.mark.xfail(strict=True, reason="needs the LLM judge"))
    if row[0] in EXTRACTIVE_LIMITS else row for row in EXAMPLES])
def test_issue_examples_extractive(corpus_bot: Assistant, question: str, expect: str,
                                   forbid: str | None) -> None:
    check_example(corpus_bot, corpus_bot.ask(question), expect, forbid)


# Where the local 1.5B model still fails (not strict: its wording varies with the evidence order):
# "Oracle-Microsoft" gets the announcement sentence because the collaboration sentence ranks below
# it. ("What does Microsoft act as?" left this list: the role kind picks the sentences that give
# Microsoft a role, and a failed wording of them gives way to them, quoted.)
LOCAL_LIMITS = {"How has the Oracle-Microsoft relationship changed?"}


@pytest.mark.slow
@pytest.mark.parametrize("question,expect,forbid", [
    pytest.param(*row, marks=pytest.mark.xfail(reason="the 1.5B model's answer; see LOCAL_LIMITS"))
    if row[0] in LOCAL_LIMITS else row for row in EXAMPLES])
def test_issue_examples_local(local_bot: Assistant, question: str, expect: str,
                              forbid: str | None) -> None:
    check_example(local_bot, local_bot.ask(question), expect, forbid)


# Found on the golden set with the local model: a draft about a neighbouring sentence ("The first
# site, in Abilene, ...") is replaced by the sentence the judge picked; a draft that swaps two
# people's titles ("Microsoft CEO Sam Altman") is dropped, though every word is in the evidence;
# a bare "July" cut from the picked sentence stands; a draft that says "I don't know" where the
# judge found the answer gives way to the picked sentence, quoted; a "Yes" to a question whose
# words no evidence has is dropped.
@pytest.mark.slow
@pytest.mark.parametrize("question,expect,forbid", [
    ("In which US state is Stargate construction already underway?", r"Texas", None),
    ("In which month did Microsoft identify OpenAI as a competitor?", r"July", None),
    ("Microsoft is still OpenAI's exclusive cloud provider, right? Confirm it.", r"no longer",
     r"^Yes"),
    # a "Yes" claims the question itself: the documents never say Microsoft overrode a clause
    ("Did Microsoft override the exclusivity clause?", r"refuse|no longer", r"^Yes"),
    # a failed answer ("... in the area of AI workloads") gives way to the picked sentence ("How
    # much is Oracle investing in Stargate?" is refused before any draft: EXAMPLES)
    ("In what area is Microsoft still OpenAI's sole compute supplier?", r"\bAPI", r"AI workloads"),
])
def test_local_answers_rest_on_the_picked_evidence(local_bot: Assistant, question: str,
                                                   expect: str, forbid: str | None) -> None:
    check_example(local_bot, local_bot.ask(question), expect, forbid)


# Found on the golden set: the 1.5B model answered one part of a two-part question (Oracle's role
# now, not how it first came in). For a question of several parts, the evidence the judge picked
# that the answer does not cite is quoted after it; the trace says so. (Since the seventh session
# the model's draft here fails - it echoes "first", which no evidence says - and the picked
# sentences, both parts, replace it, so the complete stage finds nothing to add.)
@pytest.mark.slow
def test_every_part_of_a_two_part_question_is_answered(local_bot: Assistant) -> None:
    answer = local_bot.ask("How did Oracle first come in as an OpenAI cloud partner, and what is "
                           "its role now?")
    check_example(local_bot, answer, r"2023", None)
    assert re.search(r"key initial technology partner", answer.text), answer.text
    completed = [s for s in answer.trace if s["stage"] == "complete"]
    assert completed and (completed[0]["added"] or completed[0]["decision"] == "nothing to add"), \
        answer.trace


# A question that gives a person another's title is corrected, with the sentence that names them,
# by both backends and before any LLM is asked (the verifier's name-binding check on the question);
# so is one that asks why something stopped that the evidence says goes on.
PREMISES = [
    ("What did Microsoft CEO Sam Altman say about the change on the podcast?",
     "Microsoft CEO Sam Altman", r"Nadella.*OpenAI CEO Sam Altman"),
    ("What did Microsoft Chairman Larry Ellison confirm?", "Microsoft Chairman Larry Ellison",
     r"Oracle Chairman Larry Ellison confirmed that construction"),
    # a question asking why something stopped that the evidence says goes on
    ("Why did OpenAI stop using Azure entirely?", "OpenAI stop using Azure entirely",
     r"commitment to Azure, continuing|continue to run exclusively on Microsoft’s Azure"),
    ("Why did OpenAI end its partnership with Microsoft?", "OpenAI end its partnership with Microsoft",
     r"maintain a close partnership"),
]


@pytest.mark.parametrize("llm", ["none", pytest.param("local", marks=pytest.mark.slow)])
@pytest.mark.parametrize("question,premise,quote", PREMISES)
def test_a_false_title_in_the_question_is_corrected(request: pytest.FixtureRequest, llm: str,
                                                    question: str, premise: str, quote: str) -> None:
    bot: Assistant = request.getfixturevalue("corpus_bot" if llm == "none" else "local_bot")
    answer = bot.ask(question)
    why = f"{answer.text}\n{answer.trace}"
    assert not answer.refused, why
    assert answer.text.startswith(f"The sources found never say “{premise}”; they say: “"), why
    # one sentence that titles the person; up to two that say what "stopped" goes on
    assert re.search(quote, answer.text) and 1 <= len(answer.citations) <= 2, why
    for c in answer.citations:
        assert bot.document(c.doc_id).text[c.start:c.end] == c.quote and c.quote in answer.text
    assert [s["decision"] for s in answer.trace if s["stage"] == "premise"] == ["false"], why
    assert "answerability" not in [s["stage"] for s in answer.trace], why  # no LLM was asked


@pytest.mark.parametrize("question", [
    "What did OpenAI CEO Sam Altman discuss on the podcast?",  # the title the evidence gives
    "Summarize Sam Altman's comments on the podcast.",  # a capitalised verb is not a title
    "Did the Texas Stargate Project start?",  # nor is a place the evidence puts before no name
    "Why did Microsoft stop being OpenAI's exclusive cloud provider?",  # the evidence says it did
])
def test_a_true_or_absent_title_is_not_a_false_premise(corpus_bot: Assistant, question: str) -> None:
    answer = corpus_bot.ask(question)
    assert [s["decision"] for s in answer.trace if s["stage"] == "premise"] == ["not contradicted"]
    assert "never say" not in answer.text, answer.text


def test_a_follow_up_to_a_correction_is_not_corrected_again(corpus_bot: Assistant) -> None:
    """The premise is checked in the user's own words, not in a rewrite that carries the
    corrected question along."""
    asked = PREMISES[0][0]
    first = corpus_bot.ask(asked)
    history = [{"role": "user", "content": asked}, {"role": "assistant", "content": first.text}]
    answer = corpus_bot.ask("Where did the discussion take place?", history=history)
    assert [s["decision"] for s in answer.trace if s["stage"] == "premise"] == ["not contradicted"]


@pytest.mark.parametrize("question", ["What does Microsoft act as for OpenAI?",
                                      "Did Microsoft override the exclusivity clause?",
                                      "Should OpenAI trust this deal?"])
def test_questions_are_not_erased_by_the_guard(corpus_bot: Assistant, question: str) -> None:
    answer = corpus_bot.ask(question)
    guard = answer.trace[0]
    assert guard["stage"] == "guard" and guard["decision"] == "kept" and answer.standalone_question


def test_compound_name_is_not_an_unknown_name(corpus_bot: Assistant) -> None:
    answer = corpus_bot.ask("How has the Oracle-Microsoft relationship changed?")
    assert not any(s.get("unknown") for s in answer.trace), answer.trace


@pytest.mark.parametrize("asked,answered,follow_up,standalone", [
    # the last question asked for a name: the answer's name is what "it" means
    ("Who is the largest investor in OpenAI?", "Microsoft.", "When did it first invest?",
     "When did Microsoft first invest?"),
    ("Which third-party provider supplemented Azure?", "CoreWeave [1].",
     "How many data centers does it run?", "How many data centers does CoreWeave run?"),
    # "Who is OpenAI's largest investor?" asks for a name, not about OpenAI (a possessive)
    ("Who is OpenAI's largest investor?", "Microsoft is OpenAI's largest investor [1].",
     "How much did it put in at first?", "How much did Microsoft put in at first?"),
    # it asked about a name: that name is what "it" means, whatever names the answer gives
    ("What is the Stargate Project?", "A joint venture between OpenAI, Oracle and SoftBank.",
     "How much will it invest?", "How much will Stargate Project invest?"),
    ("Who is Satya Nadella?", "Microsoft's CEO.", "Who did he talk to?",
     "Who did Satya Nadella talk to?"),
    # a name that modifies a noun: "it" is the thing the noun names
    ("Where is the first Stargate site?", "In Abilene, Texas.", "What role is it expected to play?",
     "What role is the first Stargate site expected to play?"),
    ("How has the Oracle-Microsoft relationship changed?", "Oracle extends Azure [1].",
     "When did it begin?", "When did the Oracle-Microsoft relationship begin?"),
    # no pronoun: the last question goes along, in brackets
    ("What does Microsoft keep under the new deal?", "Exclusivity on the APIs.",
     "Until when?", "Until when? (What does Microsoft keep under the new deal?)"),
])
def test_extractive_condense(asked: str, answered: str, follow_up: str, standalone: str) -> None:
    from assistant.answer.drafting import ExtractiveDrafter

    history = [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    assert ExtractiveDrafter().condense(follow_up, history) == standalone


def test_extractive_follow_up_resolves_the_pronoun(corpus_bot: Assistant) -> None:
    history = [{"role": "user", "content": "Who is the largest investor in OpenAI?"},
               {"role": "assistant", "content": "Microsoft."}]
    answer = corpus_bot.ask("When did it first invest?", history=history)
    assert answer.standalone_question == "When did Microsoft first invest?"
    assert "2019" in answer.text and not answer.refused


def test_a_role_question_about_a_name_the_evidence_gives_no_role_is_asked_openly(
        corpus_bot: Assistant) -> None:
    """"What role is Abilene expected to play?": no sentence gives Abilene a role, so the role
    is not required, and the trace says so."""
    answer = corpus_bot.ask("What role is Abilene expected to play?")
    opened = [s for s in answer.trace if s["stage"] == "profile" and s["decision"] == "other"]
    assert opened and "Abilene a role" in opened[0]["reason"], answer.trace
    assert not answer.refused and "central role" in answer.text, answer.text


def test_a_role_the_evidence_gives_is_not_stretched_to_the_question(corpus_bot: Assistant) -> None:
    """"Stargate, a major infrastructure deal between OpenAI, ..." says what Stargate is, not
    what role it is expected to play; the site's role is not Stargate's. (The follow-up that
    once asked this, after "Where is the first Stargate site?", now asks about the site.)"""
    answer = corpus_bot.ask("What role is Stargate expected to play?")
    assert answer.refused and "“The first site, in Abilene" in answer.text, answer.text


def test_a_heading_is_never_evidence(corpus_bot: Assistant) -> None:
    stream = corpus_bot.stream("What role did Microsoft give up in its relationship with OpenAI?")
    events = list(stream.events())
    assert all(c.quote != HEADING for c in stream.evidence)
    assert stream.answer is not None and HEADING not in stream.answer.text
    assert events  # the evidence event came first
    assert type(events[0]).__name__ == "EvidenceEvent"


@pytest.mark.parametrize("question", ["What role did Microsoft give up in its relationship with OpenAI?",
                                      "Did Microsoft override the exclusivity clause?"])
def test_no_conflict_note_where_the_sources_agree(corpus_bot: Assistant, question: str) -> None:
    answer = corpus_bot.ask(question)
    assert not answer.conflicts and "sources differ" not in answer.text, answer.text


def test_a_conflict_note_names_two_statements_on_the_point(corpus_bot: Assistant) -> None:
    answer = corpus_bot.ask("Do OpenAI's models still run exclusively on Azure?")
    for conflict in answer.conflicts:
        a, b = conflict.sides
        assert isinstance(a, Citation) and a.doc_id != b.doc_id or a.quote != b.quote
        for side in (a, b):
            assert side.quote.rstrip().endswith((".", "”", "\"")), side.quote  # statements
            assert re.search(r"exclusiv", side.quote, re.I), side.quote  # on the point asked


def test_an_empty_store_is_a_clear_error(tmp_path: Path) -> None:
    bot = Assistant(make_settings(tmp_path / "empty", llm="none"))
    with pytest.raises(EmptyStoreError, match="assistant ingest"):
        bot.ask("Where is the first Stargate site?")


@pytest.mark.parametrize("asked,answered,follow_up,rewrite,invented", [
    # the LLM answered instead of resolving "that": a name the conversation never gave
    ("In what year did OpenAI start using Oracle?", "In 2023.", "Which month was that?",
     "Which month was June?", ["June"]),
    ("Is there a condition under which Microsoft loses access?",
     "If OpenAI develops artificial general intelligence (AGI), it does [1].",
     "What does that acronym stand for?", "What does the Stargate Project stand for?",
     ["Stargate Project"]),
    # resolved references keep to the conversation's names (a question word may start a run)
    ("In what year did OpenAI start using Oracle?", "In 2023.", "Which month was that?",
     "Which month in 2023 did OpenAI start using Oracle?", []),
    ("Is there a condition under which Microsoft loses access?",
     "If OpenAI develops artificial general intelligence (AGI), it does [1].",
     "What does that acronym stand for?", "What does AGI stand for?", []),
    ("Who is the largest investor in OpenAI?", "Microsoft.", "When did it first invest?",
     "Did Microsoft first invest in 2019?", []),
])
def test_llm_condense_may_not_invent_names(asked: str, answered: str, follow_up: str, rewrite: str,
                                           invented: list[str]) -> None:
    """A rewrite with an invented name is not used; the deterministic condense takes over."""
    from assistant.answer.drafting import invented_names

    history = [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    assert invented_names(rewrite, follow_up, history) == invented


@pytest.mark.parametrize("rewrite,unresolved", [
    ("How much was the investment?", True),  # names nothing; the last turn named Microsoft
    ("How much did Microsoft invest in 2019?", False),
])
def test_llm_condense_must_name_what_the_last_turn_named(rewrite: str, unresolved: bool) -> None:
    from assistant.answer import drafting

    history = [{"role": "user", "content": "How did Microsoft's role in OpenAI's growth begin?"},
               {"role": "assistant", "content": "It began in 2019 with an investment."}]
    assert drafting.unresolved(rewrite, history) is unresolved


KEEPS = ("What does Microsoft keep under the new deal?", "Exclusivity on OpenAI's APIs and access to "
         "OpenAI's IP.")


@pytest.mark.parametrize("asked,answered,follow_up,rewrite,dropped", [
    # "that" is what the answer gave; the rewrite kept only the last question's words
    (*KEEPS, "Until when does that last?", "Until when does Microsoft keep under the new deal?", True),
    (*KEEPS, "Until when does that last?", "Until when does Microsoft's API exclusivity last?", False),
    # "that" is the event asked about, whose year the answer gave
    ("In what year did OpenAI start using Oracle?", "In 2023.", "Which month was that?",
     "In which month did OpenAI start using Oracle?", False),
    # "that acronym": a determiner, the referent is named by the rewrite's own check
    ("Is there a condition under which Microsoft loses access?", "If OpenAI develops AGI.",
     "What does that acronym stand for?", "What does Microsoft stand for?", False),
    # "that" as a relative pronoun stands for nothing in the conversation
    (*KEEPS, "Was the deal that was signed in 2023 the first?", "Was Oracle's 2023 deal the first?", False),
    # after a refusal "that" cannot stand for what the answer gave: it gave nothing
    ("What does Microsoft keep?", "The documents do not answer that question. What they do say: "
     "“Exclusivity on the APIs.” [1].", "Until when does that last?", "Until when does it last?", False),
])
def test_llm_condense_must_keep_what_that_stands_for(asked: str, answered: str, follow_up: str,
                                                     rewrite: str, dropped: bool) -> None:
    from assistant.answer.drafting import ExtractiveDrafter, drops_the_answer

    history = [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    assert drops_the_answer(rewrite, follow_up, history) is dropped
    if dropped:  # the deterministic condense carries the answer along
        assert answered in ExtractiveDrafter().condense(follow_up, history)


def test_the_sentence_holding_the_question_is_promoted_into_the_prompt(corpus_bot: Assistant) -> None:
    """Four sentences about "the changes" outrank, by relevance, the one saying when the change
    was revealed; it holds more of the question's words, so it takes the last shown place."""
    from assistant.answer.evidence import Evidence
    from assistant.answer.pipeline import Trace
    from assistant.answer.question import profile

    def sentence(number: int, text: str, relevance: float) -> Evidence:
        return Evidence(number, "doc", "Title", "doc.txt", text, 0, len(text), relevance)

    pipeline = corpus_bot._pipeline(extractive=True)
    shown = corpus_bot.settings.evidence_sentences
    pool = [sentence(i, f"The changes to the partnership reflect complexity number {i}.", 0.9 - i / 100)
            for i in range(1, shown + 2)]
    pool.append(sentence(shown + 2, "The change in their partnership was revealed during the "
                                    "announcement of the Stargate Project.", 0.6))
    question = profile("During which announcement was the change in the partnership revealed?")
    trace = Trace()
    promoted = pipeline.promote_covering(question, pool, trace)
    assert "revealed" in promoted[shown - 1].text
    assert [e.number for e in promoted] == list(range(1, len(pool) + 1))
    assert any(s["decision"] == "promoted" for s in trace.steps)
    # nothing moves when a shown sentence already holds as much of the question
    assert pipeline.promote_covering(question, promoted, Trace()) == promoted
    answer = corpus_bot.ask("During which announcement was the change in the Microsoft–OpenAI "
                            "partnership revealed?")
    assert "Stargate" in answer.text and not answer.refused


@pytest.mark.parametrize("deltas,first,pulled", [
    # the draft is read only until the next sentence starts; its marker moves before the stop
    (["Oracle joined", " in 2023.", " [1]", " It grew", " fast."], "Oracle joined in 2023 [1].", 4),
    (["Oracle joined in 2023. [", "1", "] It", " grew."], "Oracle joined in 2023 [1].", 3),
    (["I don't know."], "I don't know.", 1),
    (["[1]"], "[1]", 1),
    ([], "", 0),
])
def test_the_rescue_draft_stops_after_its_first_sentence(deltas: list[str], first: str,
                                                         pulled: int) -> None:
    from assistant.answer.pipeline import first_sentence

    seen: list[str] = []

    def stream() -> Iterator[str]:
        for delta in deltas:
            seen.append(delta)
            yield delta

    assert first_sentence(stream()) == first
    assert len(seen) == pulled


def test_the_rescue_draft_releases_the_model_it_stops() -> None:
    """The local generator holds its lock while it streams; the judge takes the same lock
    next, so the unfinished draft must let go of it, on an error too."""
    import threading

    from assistant.answer.pipeline import first_sentence

    lock = threading.Lock()

    def stream(fail: bool) -> Iterator[str]:
        with lock:
            yield "Oracle joined in 2023 [1]."
            if fail:
                raise RuntimeError("the model failed")
            yield " It grew."
            yield " More."

    assert first_sentence(stream(fail=False)) == "Oracle joined in 2023 [1]."
    assert not lock.locked()
    with pytest.raises(RuntimeError):
        first_sentence(stream(fail=True))
    assert not lock.locked()
