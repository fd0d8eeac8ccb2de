"""Hybrid retrieval over the corpus: the obvious queries find the right document first; hits
carry exact offsets and dates; as_of and k are checked; the answer path's candidates (`gather`)
rank the sentence that answers among the first."""

from __future__ import annotations

import json

import pytest

from assistant import Assistant
from assistant.answer.evidence import Evidence
from assistant.answer.followup import follow_up
from assistant.answer.pipeline import Trace
from assistant.answer.question import read_question
from assistant.core.errors import InputError, QuestionError
from assistant.index.retrieval import terms

AINEWS = "ainews-microsoft-loses-exclusive-cloud-role.txt"
TECHCRUNCH = "techcrunch-microsoft-no-longer-exclusive-cloud-provider.txt"

OBVIOUS = [
    ("Stargate investment", AINEWS),
    ("Abilene", AINEWS),
    ("Larry Ellison White House press conference", AINEWS),
    ("Oracle stock surged", AINEWS),
    ("Copilot intellectual property", AINEWS),
    ("artificial general intelligence AGI", TECHCRUNCH),
    ("shareholder pressure Oracle deal June 2023", TECHCRUNCH),
    ("revenue-sharing through 2030", TECHCRUNCH),
    ("Which city hosts the first data center site?", AINEWS),
    ("What happens if OpenAI builds AGI?", TECHCRUNCH),
]


@pytest.mark.parametrize("query,source", OBVIOUS)
def test_obvious_query_ranks_the_right_document_first(corpus_bot: Assistant, query: str,
                                                      source: str) -> None:
    hits = corpus_bot.search(query, k=3)
    assert hits[0].source == source, [h.source for h in hits]


def test_right_of_first_refusal_is_found_in_both_documents(corpus_bot: Assistant) -> None:
    hits = corpus_bot.search("right of first refusal", k=4)
    assert {h.source for h in hits[:2]} == {AINEWS, TECHCRUNCH}
    assert all("first refusal" in h.text for h in hits[:2])


def test_hits_carry_offsets_and_scores(corpus_bot: Assistant) -> None:
    hits = corpus_bot.search("Microsoft Azure commitment", k=5)
    assert len(hits) == 5
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    for hit in hits:
        assert corpus_bot.document(hit.doc_id).text[hit.start : hit.end] == hit.text


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_empty_or_huge_query_is_a_clear_error(corpus_bot: Assistant, question: str) -> None:
    with pytest.raises(QuestionError, match="empty|limit"):
        corpus_bot.search(question)


@pytest.mark.parametrize("text,expected", [
    ("Who is OpenAI's biggest backer?", ["who", "is", "openai", "biggest", "backer"]),
    ("Microsoft’s role", ["microsoft", "role"]),  # a curly apostrophe too
    ("Oracle’s and SoftBank's", ["oracle", "and", "softbank"]),
])
def test_bm25_drops_a_possessive(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_a_possessive_question_meets_the_bare_name(corpus_bot: Assistant) -> None:
    """"OpenAI's" had been a word of its own, so BM25 ranked only chunks with "OpenAI's"."""
    lexical = corpus_bot._pipeline().retriever.lexical
    hits = lexical.search("Who is OpenAI's biggest financial backer?", 10)
    assert any("the largest investor in OpenAI" in h.text for h in hits)


def test_an_index_of_other_terms_is_rebuilt(corpus_bot: Assistant) -> None:
    lexical = corpus_bot._pipeline().retriever.lexical
    lexical.refresh()
    state = lexical.folder / "state.json"
    saved = json.loads(state.read_text())
    state.write_text(json.dumps({**saved, "tokens": "words"}))  # as built before possessives
    try:
        assert not lexical._load(corpus_bot._store.generation())
        assert lexical._cached_tokens() == ({}, [])
    finally:
        state.write_text(json.dumps(saved))


def gathered(bot: Assistant, question: str, as_of: str | None = None) -> list[Evidence]:
    pipeline = bot._pipeline(extractive=True)
    ranked, _ = pipeline.gather(read_question(question), follow_up(question, []),
                                bot._as_of(as_of), Trace())
    return ranked


INVESTOR, CHAIRMAN = "Microsoft, the largest investor in OpenAI", "Oracle Chairman Larry Ellison"


@pytest.mark.parametrize(("question", "answer"), [
    pytest.param("Which company is the top financial backer of OpenAI?", INVESTOR,
                 marks=pytest.mark.xfail(strict=True, reason="'top financial backer' shares no word "
                                         "with 'the largest investor': the sentence is not in the top "
                                         "3 candidates (and ask refuses)")),
    ("Who is OpenAI's biggest investor?", INVESTOR),
    ("Which company has invested the most in OpenAI?", INVESTOR),
    pytest.param("Who heads Oracle's board?", CHAIRMAN, marks=pytest.mark.xfail(
        strict=True, reason="'heads ... board' shares no word with 'Chairman': the sentence is not "
        "in the top 3 candidates (and ask refuses)")),
    ("Who chairs Oracle?", CHAIRMAN),
    ("Who is the chairman of Oracle?", CHAIRMAN)])
def test_an_appositive_or_a_title_makes_its_sentence_relevant(corpus_bot: Assistant, question: str,
                                                              answer: str) -> None:
    """"Microsoft, the largest investor in OpenAI, has relinquished its role ..." is about the
    role, but its appositive answers who backs OpenAI; "Oracle Chairman Larry Ellison" answers
    who chairs Oracle."""
    pool = gathered(corpus_bot, question)
    assert any(answer in e.text for e in pool[:3]), [e.text[:60] for e in pool[:3]]


def test_gathered_candidates_are_numbered_exact_spans(corpus_bot: Assistant) -> None:
    pool = gathered(corpus_bot, "Where is the first Stargate site?")
    assert [e.number for e in pool] == list(range(1, len(pool) + 1))
    assert [e.relevance for e in pool] == sorted((e.relevance for e in pool), reverse=True)
    for e in pool:
        assert corpus_bot.document(e.doc_id).text[e.start:e.end] == e.text


def test_hits_carry_their_document_dates(corpus_bot: Assistant) -> None:
    dates = {d.doc_id: d.published for d in corpus_bot.documents()}
    for hit in corpus_bot.search("Stargate investment", k=5):
        assert hit.published == (dates[hit.doc_id] or None)


def test_as_of_keeps_documents_published_by_then(corpus_bot: Assistant) -> None:
    published = {d.published for d in corpus_bot.documents()}
    assert published and all(published), "the seed corpus is dated"
    latest = max(published)
    assert corpus_bot.search("Stargate investment", k=3, as_of=latest)
    assert corpus_bot.search("Stargate investment", k=3, as_of="2020-01-01") == []


@pytest.mark.parametrize("k", [0, 51, -1, 2.5, "3", True])
def test_a_bad_k_is_a_clear_error(corpus_bot: Assistant, k: object) -> None:
    with pytest.raises(InputError, match="k must be"):
        corpus_bot.search("Stargate", k=k)  # type: ignore[arg-type]
