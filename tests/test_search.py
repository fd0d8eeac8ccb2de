"""Hybrid retrieval over the corpus: the obvious queries find the right document first."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.errors import QuestionError

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
