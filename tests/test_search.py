"""Hybrid retrieval over the corpus: the obvious queries find the right document first."""

from __future__ import annotations

import json

import pytest

from assistant import Assistant
from assistant.answer.pipeline import Trace
from assistant.answer.question import profile
from assistant.core.errors import QuestionError
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


def test_an_appositive_makes_its_sentence_relevant(corpus_bot: Assistant) -> None:
    """"Microsoft, the largest investor in OpenAI, has relinquished its role ..." is about
    the role; its appositive answers who backs OpenAI."""
    pipeline = corpus_bot._pipeline(extractive=True)
    question = profile("Which company is the top financial backer of OpenAI?")
    pool = pipeline.gather(question, Trace())
    assert pool[0].text.startswith("Microsoft, the largest investor in OpenAI")


def test_a_titled_name_makes_its_sentence_relevant_to_who(corpus_bot: Assistant) -> None:
    pipeline = corpus_bot._pipeline(extractive=True)
    pool = pipeline.gather(profile("Who heads Oracle's board?"), Trace())
    assert "Oracle Chairman Larry Ellison" in pool[0].text
