"""Evidence (`evidence.py`): candidate sentences read in context, with exact offsets; metadata
lines (front matter, bylines, "Published:" lines, picture credits) and headings never among them.

Two small documents written here (a Markdown article with front matter, a news text with a
byline, a "Published:" line, a dateline and an "Image source:" line) are ingested into a real
Chroma store with the real embedding model; the metadata lines are named below as text, so
the test finds their offsets itself. Pure functions (headings, coverage, ranking) are tables.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import make_settings

from assistant import Assistant
from assistant.answer.evidence import (
    CONTEXT_WEIGHT,
    DocumentView,
    Evidence,
    candidates,
    coverage,
    heading_above,
    is_heading,
    labelled,
    list_lead,
    rank,
    states_something,
)
from assistant.answer.question import read_question
from assistant.core.text import sentence_spans

ARTICLE = """---
title: "Acme opens its Denver plant"
author: "Jane Roe"
date: 2024-05-02
tags: [plants, denver, hiring]
---

# Acme opens its Denver plant

Acme opens its Denver plant in May. The plant will employ 400 people. It cost $80 million to build.

## Products

The plant makes bicycle frames. Acme sells them in Europe and Canada.
"""
NEWS = """Acme names a manager for its Denver plant

By John Smith, Staff Writer, Denver Ledger
Published: June 3, 2024

DENVER — Acme has named Lena Park as manager of its Denver plant. She will start on July 1.

Image source: Acme press kit.

Park spent ten years at Boulder Metals. The company makes steel tubing for bicycles, and her team \
there had 40 engineers.
"""
MANIFEST = """["plant-manager.txt"]
title = "Acme names a plant manager"
publisher = "Denver Ledger"
"""
# What each document says about itself: never evidence.
METADATA = {
    "denver-plant.md": ['title: "Acme opens its Denver plant"', 'author: "Jane Roe"', "date: 2024-05-02",
                        "tags: [plants, denver, hiring]"],
    "plant-manager.txt": ["By John Smith, Staff Writer, Denver Ledger", "Published: June 3, 2024",
                          "Image source: Acme press kit."],
}
HEADINGS = ["# Acme opens its Denver plant", "## Products", "Acme names a manager for its Denver plant"]
# Questions aimed at the metadata, and ordinary ones: no candidate of any is a metadata line.
QUERIES = ["Who wrote the article about the Denver plant?", "Who is the author?",
           "When was the plant manager story published?", "What is the publication date?",
           "What tags does the article have?", "Where does the image come from?",
           "Which press kit supplied the picture?", "Who is the staff writer at the Denver Ledger?",
           "How many people will the plant employ?", "When does Lena Park start?"]


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    folder = tmp_path_factory.mktemp("evidence-docs")
    (folder / "denver-plant.md").write_text(ARTICLE, encoding="utf-8")
    (folder / "plant-manager.txt").write_text(NEWS, encoding="utf-8")
    (folder / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    assistant = Assistant(make_settings(tmp_path_factory.mktemp("evidence-data"), llm="none"))
    assert assistant.ingest([folder]).ok
    return assistant


def found(bot: Assistant, query: str) -> list[Evidence]:
    pipeline = bot._pipeline(extractive=True)
    vector = bot._embedder.embed([query])[0]
    return candidates(pipeline.retriever.retrieve(query, vector, 8), pipeline.documents)


def spans_of(bot: Assistant, source: str, lines: list[str]) -> list[tuple[int, int]]:
    doc = next(d for d in bot.documents() if d.source == source)
    text = bot.document(doc.doc_id).text
    assert all(line in text for line in lines), "the table must quote the document"
    return [(text.index(line), text.index(line) + len(line)) for line in lines]


def test_metadata_lines_and_headings_are_never_candidates(bot: Assistant) -> None:
    metadata = {(d.doc_id, s, e) for d in bot.documents() for s, e in spans_of(
        bot, d.source, METADATA[d.source])}
    by_source = {d.source: d.doc_id for d in bot.documents()}
    for query in QUERIES:
        for e in found(bot, query):
            for doc_id, s, end in metadata:
                assert not (e.doc_id == doc_id and e.start < end and s < e.end), (query, e.text)
            assert e.text.strip() not in HEADINGS, (query, e.text)
            assert not e.text.startswith(("---", "title:", "By ", "Published:", "Image source"))
    assert by_source.keys() == METADATA.keys()


def test_the_document_date_comes_from_its_metadata(bot: Assistant) -> None:
    dates = {e.source: e.published for e in found(bot, "Denver plant")}
    assert dates == {"denver-plant.md": "2024-05-02", "plant-manager.txt": "2024-06-03"}


def test_offsets_are_exact_and_the_lead_joins_the_sentence_before(bot: Assistant) -> None:
    for query in QUERIES:
        for e in found(bot, query):
            text = bot.document(e.doc_id).text
            assert text[e.start:e.end] == e.text
            if e.lead:
                assert text[e.start - len(e.lead):e.start] == e.lead
                assert e.lead.strip() == e.context
                wide = e.widened()
                assert text[wide.start:wide.end] == wide.text and wide.end == e.end


# (sentence, the sentence before it in its document, its title)
CONTEXTS = [
    ("The plant will employ 400 people.", "Acme opens its Denver plant in May.",
     "Acme opens its Denver plant"),
    ("It cost $80 million to build.", "The plant will employ 400 people.", "Acme opens its Denver plant"),
    ("She will start on July 1.", "DENVER — Acme has named Lena Park as manager of its Denver plant.",
     "Acme names a plant manager"),
    # the "Image source:" line between them is metadata: the context passes over it
    ("Park spent ten years at Boulder Metals.", "She will start on July 1.", "Acme names a plant manager"),
    ("The company makes steel tubing for bicycles, and her team there had 40 engineers.",
     "Park spent ten years at Boulder Metals.", "Acme names a plant manager"),
]


@pytest.mark.parametrize("sentence,before,title", CONTEXTS, ids=[s[:24] for s, _, _ in CONTEXTS])
def test_a_candidate_is_read_with_the_sentence_before_and_its_title(bot: Assistant, sentence: str,
                                                                   before: str, title: str) -> None:
    pool = {e.text: e for q in QUERIES for e in found(bot, q)}
    e = pool[sentence]
    assert (e.context, e.title) == (before, title)
    assert e.in_context == f"{before} {sentence}" and title in e.around and before in e.around


def test_the_context_s_words_make_a_sentence_relevant(bot: Assistant) -> None:
    """"The company makes steel tubing" is about Boulder Metals only through the sentence before."""
    pool = {e.text: e for e in found(bot, "What does Boulder Metals make?")}
    e = pool["The company makes steel tubing for bicycles, and her team there had 40 engineers."]
    q = read_question("What does Boulder Metals make?")
    assert coverage(q, e) > coverage(q, replace(e, context="", title="Untitled"))


# --- pure functions -------------------------------------------------------------------------
@pytest.mark.parametrize("lines,heading", [
    (["# Acme opens its Denver plant", "## Products", "Frequently asked questions",
      "What's new", "* **Handwriting search**", "Affected products"], True),
    (["The plant will employ 400 people.", "Is there a free trial?",
      "It requires a minimum of three users, and extra seats can be added at any time."], False),
    (["Built for groups that share notebooks and want one invoice and one admin console for all of "
      "their members and guests"], False),  # long: a sentence without its stop, not a heading
])
def test_a_heading_is_a_short_line_without_a_stop(lines: list[str], heading: bool) -> None:
    for line in lines:
        text = f"Before.\n{line}\nAfter."
        (start, end), = [(s, e) for s, e in sentence_spans(text) if 8 <= s < 8 + len(line)]
        assert is_heading(text, start, end) is heading, line


@pytest.mark.parametrize("line,heading", [
    ("2. What is covered, and for how long", True), ("10. Contact us", True),
    ("3.1 Exclusions", True), ("2. Keep the battery above 0 °C.", False),
])
def test_a_numbered_heading_is_a_heading(line: str, heading: bool) -> None:
    """A section number before it ("2. What is covered") does not make a heading a sentence: it
    was quoted as the older document's word in an update."""
    text = f"Before.\n{line}\nAfter."
    start, end = [(s, e) for s, e in sentence_spans(text) if 8 <= s < 8 + len(line)][-1]
    assert is_heading(text, start, end) is heading, text[start:end]


def test_a_list_item_ending_in_a_semicolon_is_no_heading() -> None:
    """"- theft, and damage caused by an attempted theft;" is short and on a line of its own,
    but it is an item of a list and states something."""
    text = "This warranty does not cover:\n- theft, and damage caused by an attempted theft;\n- rust.\n"
    start = text.index("theft,")
    assert not is_heading(text, start, text.index(";") + 1)


@pytest.mark.parametrize("line,value", [
    ("Weight: 23.5 kg", True), ("Opening hours: 9:00 to 17:00", True),
    ("Maximum load per axle: 11.5 t", True), ("- Fee: €35 per night", True),
    ("Chapter 2: Getting started", False), ("Figure 3: Sales", False),  # the figure labels
    ("Stad 7: the city bike", False), ("Note: see the back page", False),  # no value stated
    ("Heavy goods vehicles and their drivers: 2024", False),  # a long label: a caption
    ("Appendix: 2024 figures", False), ("Part One: The 1990s", False),  # a period, no value
    ("https://example.com/v2", False), ("Opened: 12 May 2019", True),
])
def test_a_labelled_value_on_a_line_of_its_own_is_no_heading(line: str, value: bool) -> None:
    """A spec sheet's "Weight: 23.5 kg" was read as a heading, so no question could be answered
    from it; a heading with a colon stays one."""
    text = f"Before.\n{line}\nAfter."
    start, end = [(s, e) for s, e in sentence_spans(text) if 8 <= s < 8 + len(line)][-1]
    assert labelled(text[start:end]) is value
    assert is_heading(text, start, end) is not value, line


SHEET = ("Our bikes.\n## **Veloria Stad 7**\nThe easy-going city bike.\nMotor: H40 hub motor, 40 Nm\n"
         "Weight: 23.5 kg\nFAQ\nQ: Can I carry a child seat?\nA: Yes, up to 22 kg\n"
         "Care\nWash it by hand. Never use a pressure washer.\nMax. pressure: 4 bar\n")


@pytest.mark.parametrize("value,heading", [
    ("Weight: 23.5 kg", "Veloria Stad 7"),  # through a tagline and another value
    ("A: Yes, up to 22 kg", ""),  # its question is its context, not the heading "FAQ"
    ("Max. pressure: 4 bar", ""),  # a paragraph of two sentences between: it is the context
])
def test_a_labelled_value_is_read_under_its_heading(value: str, heading: str) -> None:
    span = heading_above(view_of(SHEET), SHEET.index(value))
    assert (SHEET[span[0]:span[1]] if span else "") == heading


@pytest.mark.parametrize("question,value,context", [
    ("What does the Stad 7 weigh?", "Weight: 23.5 kg", "Veloria Stad 7"),
    ("Can I carry a child seat, and how heavy?", "A: Yes, up to 22 kg", "Q: Can I carry a child seat?"),
])
def test_a_labelled_value_answers_from_a_real_store(tmp_path: Path, question: str, value: str,
                                                     context: str) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "bikes.txt").write_text(SHEET, encoding="utf-8")
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    assert bot.ingest([tmp_path / "docs"]).ok
    (e,) = [e for e in found(bot, question) if e.text == value]
    assert e.context == context
    answer = bot.ask(question)
    assert not answer.refused and value in [c.quote for c in answer.citations], answer.text
    if e.heading:  # the value is quoted after its heading, both cited: whose weight it is
        assert answer.text.startswith(f"{context} [1]: {value} [2]"), answer.text


def view_of(text: str) -> DocumentView:
    return DocumentView(text, "Terms", "terms.txt", "", "", sentence_spans(text), [])


# (document, the start of an item, the lead-in above its list)
LISTS = [
    # bullets, and an item hard-wrapped over two lines above it
    ("Our terms.\nThis warranty does not cover:\n- parts that wear out, such as tyres,\nbrake pads "
     "and chains;\n- theft, and damage caused by an attempted theft;\n- rust on the chain.\n",
     "theft, and damage", "This warranty does not cover:"),
    # numbered items
    ("Refunds are rare.\nWe will not refund:\n1. fees paid to third parties;\n2. tickets bought "
     "at a discount.\n", "tickets bought", "We will not refund:"),
    # no bullets at all (a list of an HTML page, one item a line, each ending in ";")
    ("The plan includes:\nunlimited notebooks;\nsharing with up to five people;\nphone support for "
     "every member.\n", "sharing with", "The plan includes:"),
    # numbered items that are sentences, the number its own span ("1.")
    ("Refunds are rare.\n**We will not refund:**\n1. Fees paid to third parties.\n2. Tickets bought "
     "at a discount.\n", "Tickets bought", "We will not refund:**"),
]
NOT_ITEMS = [
    # a sentence ended between, a heading between, a sentence inside a line
    ("This warranty does not cover:\n- theft.\nThe frame is covered for ten years.\n", "The frame"),
    ("We will not refund:\n- fees paid to others;\nWhat is covered\n- the motor and the battery;\n",
     "the motor"),
    ("Note: we will not refund fees. Tickets bought at a discount are final.\n", "Tickets bought"),
    # a sentence on a line of its own after a colon, with no bullet: prose, not an item
    ("Don't forget:\nThe frame is covered for ten years from the date of purchase.\n", "The frame"),
]


@pytest.mark.parametrize("text,item,lead", LISTS, ids=["bullets", "numbers", "lines", "sentences"])
def test_a_list_item_knows_the_sentence_that_introduces_its_list(text: str, item: str,
                                                                  lead: str) -> None:
    view = view_of(text)
    (start, end), = [(s, e) for s, e in view.sentences if s <= text.index(item) < e]
    span = list_lead(view, start, end)
    assert span is not None and text[span[0]:span[1]] == lead


@pytest.mark.parametrize("text,sentence", NOT_ITEMS, ids=["ended", "heading", "in-a-line", "prose"])
def test_a_sentence_that_is_no_item_has_no_lead_in(text: str, sentence: str) -> None:
    view = view_of(text)
    (start, end), = [(s, e) for s, e in view.sentences if s <= text.index(sentence) < e]
    assert list_lead(view, start, end) is None


def test_a_sentence_inside_a_line_is_no_heading() -> None:
    text = "Acme opens its Denver plant in May. The plant will employ 400 people.\n"
    start = text.index("The plant")
    assert not is_heading(text, start, text.index("people.") + len("people."))


@pytest.mark.parametrize("sentences,states", [
    (["The plant will employ 400 people.", "Fernhill paid $3,000.", "Up to 3 notebooks",
      "2 May 2024"], True),  # four words, or a figure
    (["Yes.", "Read more.", "Log in", "Thanks, everyone!"], False),
    (["Do I need to do anything to get priority boarding?", "Will the 2026 season open late?",
      "Is the warranty void if I open the case?”", "What does the $40 fee cover?)"],
     False),  # a question asks; the sentence after it answers
])
def test_a_candidate_states_something(sentences: list[str], states: bool) -> None:
    assert [states_something(s) for s in sentences] == [states] * len(sentences)


def ev(text: str, *, context: str = "", title: str = "Notes", relevance: float = 0.0,
       start: int = 0, doc: str = "a") -> Evidence:
    return Evidence(0, doc, title, f"{doc}.txt", text, start, start + len(text), relevance, context)


@pytest.mark.parametrize("family", [["How many people will the Denver plant employ?",
                                     "How many people does the Denver plant employ?",
                                     "How many workers will Denver's plant employ?"]])
def test_a_name_in_context_counts_as_held(family: list[str]) -> None:
    """"The plant" is the Denver plant the sentence before names: the name counts fully."""
    alone = ev("The Denver plant will employ 400 people and workers.")
    in_context = ev("The plant will employ 400 people and workers.",
                    context="Acme opens its Denver plant in May.")
    in_title = ev("The plant will employ 400 people and workers.", title="Denver plant opens")
    without = ev("The plant will employ 400 people and workers.")
    for question in family:
        q = read_question(question)
        assert coverage(q, without) < coverage(q, in_context) == pytest.approx(coverage(q, alone))
        assert coverage(q, in_title) == pytest.approx(coverage(q, alone))


@pytest.mark.parametrize("family", [["How many people will the new plant employ?",
                                     "How many people does the new plant employ?"]])
def test_other_words_in_context_count_less(family: list[str]) -> None:
    """"It will employ 400 people" after "Acme builds a new plant": the sentence may answer
    something else than the sentence before is about, so a word held only there counts less."""
    alone = ev("The new plant will employ 400 people.")
    in_context = ev("It will employ 400 people.", context="Acme builds a new plant in May.")
    without = ev("It will employ 400 people.")
    for question in family:
        q = read_question(question)
        assert coverage(q, without) < coverage(q, in_context) < coverage(q, alone)
        share = coverage(q, alone) - coverage(q, without)  # what "new" and "plant" weigh
        assert coverage(q, in_context) == pytest.approx(coverage(q, without) + share * CONTEXT_WEIGHT)


def test_the_sentence_before_lends_no_words_when_it_holds_the_answer() -> None:
    """"Acme opens its Denver plant on 3 May 2024. It hired 40 people." for "when": the date stands
    in the context, so the context is the answer, not a lender of words to the sentence after it."""
    q = read_question("When does the Denver plant open?")
    after = ev("It hired 40 people.", context="Acme opens its Denver plant on 3 May 2024.")
    plain = ev("It hired 40 people.", context="Acme opens its Denver plant soon.")
    assert coverage(q, after) < coverage(q, plain)


def test_rare_words_weigh_more_with_idf() -> None:
    q = read_question("What is the minimum plan size?")
    rare, common = ev("There is a minimum of three seats."), ev("Every plan has a size of three seats.")
    assert coverage(q, rare) < coverage(q, common)  # unweighted, the common one holds two words
    idf = {"minimum": 5.0, "plan": 0.5, "size": 0.5}
    assert coverage(q, rare, idf) > coverage(q, common, idf)


def test_rank_numbers_the_most_relevant_from_one() -> None:
    q = read_question("How many people will the Denver plant employ?")
    pool = [ev("The plant makes bicycle frames.", start=0),
            ev("The Denver plant will employ 400 people.", start=40),
            ev("Acme sells frames in Europe.", start=90),
            ev("The Denver plant employs people.", start=130)]
    vector = np.zeros(4)
    vectors = {("a", e.start, e.end): np.zeros(4) for e in pool}
    ranked = rank(q, vector, pool, vectors, limit=2, threshold=0.05)
    assert [e.number for e in ranked] == [1, 2]
    assert ranked[0].text == "The Denver plant will employ 400 people."
    assert ranked[0].relevance >= ranked[1].relevance >= 0.05
    assert all(e.text != "Acme sells frames in Europe." for e in rank(q, vector, pool, vectors, 10, 0.05))
