"""The answer's wording (`compose.py`): every sentence a verbatim quote cited [n], numbered in the
order cited; updates with both dates, disagreements with both titles, corrections and refusals.

Decisions are constructed (no store, no LLM). Each row is a family of sentences, or of
decisions, that must all be worded alike.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from assistant.answer.compose import Citer, compose, with_marker
from assistant.answer.decide import Decision
from assistant.answer.evidence import Evidence
from assistant.core import prompts
from assistant.core.dates import parse_date

MARKER = re.compile(r"\s*\[(\d+)\]")


def ev(text: str, *, start: int = 0, doc: str = "a", title: str = "Plan changes",
       published: str = "", relevance: float = 0.6) -> Evidence:
    return Evidence(1, doc, title, f"{doc}.txt", text, start, start + len(text), relevance, "",
                    published)


def sentences(text: str) -> list[str]:
    """The answer's sentences without their markers."""
    return [s.strip() for s in re.split(r"(?<=[.!?”])\s+", MARKER.sub("", text)) if s.strip()]


def check_citations(text: str, citer: Citer) -> None:
    """Every [n] has a citation, every citation is used, numbered 1.. in the order first cited,
    and each citation's quote stands in the text."""
    used = [int(n) for n in MARKER.findall(text)]
    numbers = [c.number for c in citer.citations]
    assert sorted(set(used)) == numbers == list(range(1, len(numbers) + 1))
    assert [n for i, n in enumerate(used) if n not in used[:i]] == sorted(set(used))
    for c in citer.citations:
        assert c.quote.rstrip(".!?") in text


# --- with_marker: the marker before the closing stop ----------------------------------------
@pytest.mark.parametrize("family,expected", [
    (["The plant will employ 400 people.", "The plant will employ 400 people. ",
      "The plant will employ 400 people"], "The plant will employ 400 people [3]."),
    (["Is there a free trial?"], "Is there a free trial [3]?"),
    (["Plans change on November 1!"], "Plans change on November 1 [3]!"),
])
def test_the_marker_goes_before_the_stop(family: list[str], expected: str) -> None:
    assert {with_marker(s, 3) for s in family} == {expected}


# --- answers quote their sentences ---------------------------------------------------------
ANSWERS = [
    [ev("Plus rises from $5 to $6 per month when billed annually.", start=717)],
    [ev("Dev Kapoor has succeeded her as Head of Customer Support.", start=2439),
     ev("Marisol Vega left Fernhill Labs in August to start her own consultancy.", start=2274)],
    [ev("It requires a minimum of three users.", start=968, doc="pricing", title="Pricing"),
     ev("Extra seats can be added at any time.", start=1010, doc="pricing", title="Pricing"),
     ev("Team costs $14 per user per month.", start=900, doc="changes")],
]


@pytest.mark.parametrize("chosen", ANSWERS, ids=["one", "two", "three"])
def test_an_answer_quotes_each_chosen_sentence_cited_in_order(chosen: list[Evidence]) -> None:
    citer = Citer()
    text, conflicts = compose(Decision("answer", tuple(chosen)), citer, "asked")
    assert not conflicts
    check_citations(text, citer)
    assert [(c.doc_id, c.start, c.end) for c in citer.citations] == [(e.doc_id, e.start, e.end)
                                                                     for e in chosen]
    assert sentences(text) == [e.text for e in chosen]  # nothing but the quotes, none twice


def widened(before: str, gap: str, sentence: str, start: int, doc: str = "a",
            title: str = "Plan changes", published: str = "") -> Evidence:
    """`sentence` quoted with the one before it, as `decide` widens it (exact offsets)."""
    e = ev(sentence, start=start + len(before) + len(gap), doc=doc, title=title, published=published)
    return replace(e, context=before, lead=before + gap).widened()


# a sentence quoted with the one before it: one Evidence spanning both
WIDENED = [
    widened("Twelve of our aircraft are Aerion AT-76s.", " ", "It seats 76 passengers.", 400),
    widened("The ferry service will not return in 2025.", "\n", "The route carried fewer passengers.", 90),
    widened("Hollis succeeds Ben Adair.", "  ",
            "Adair is not leaving the company: he becomes chief architect.", 1200),
]


@pytest.mark.parametrize("quote", WIDENED, ids=["space", "line-break", "correction"])
@pytest.mark.parametrize("action", ["answer", "correct"])
def test_each_sentence_of_a_widened_quote_is_cited_on_its_own(quote: Evidence, action: str) -> None:
    citer = Citer()
    text, _ = compose(Decision(action, (quote,)), citer, "asked")  # type: ignore[arg-type]
    check_citations(text, citer)
    assert len(citer.citations) == 2 and len(MARKER.findall(text)) == 2
    for c in citer.citations:  # exact spans of the one quote, in order, together all of it
        assert quote.text[c.start - quote.start:c.end - quote.start] == c.quote
    first, second = citer.citations
    assert first.start == quote.start and second.end == quote.end
    assert not quote.text[first.end - quote.start:second.start - quote.start].strip()


@pytest.mark.parametrize("sentence", [
    "Fernhill paid a\nbounty of $3,000.",
    "Damage to a checked bag must be\nreported within seven days of the flight.",
    "The discount does not apply\nto Premium fares. or to baggage",  # a stop the split may misread
])
def test_a_sentence_on_two_lines_is_one_quote_and_one_citation(sentence: str) -> None:
    citer = Citer()
    text, _ = compose(Decision("answer", (ev(sentence, start=30),)), citer, "asked")
    assert len(citer.citations) == 1 and citer.citations[0].quote == sentence
    assert len(MARKER.findall(text)) == 1


def test_an_update_whose_newer_quote_is_widened_names_the_chosen_sentence_as_its_side() -> None:
    newer = widened("Fares change on 1 March.", " ", "The monthly pass rises from $60 to $65.", 10,
                    doc="new", title="Fare notice", published="2024-09-01")
    older = ev("The monthly pass costs $60.", start=50, doc="old", title="Fares", published="2024-01-01")
    citer = Citer()
    text, (conflict,) = compose(Decision("answer", (newer, older), update=True), citer, "asked")
    check_citations(text, citer)
    assert [c.quote for c in conflict.sides] == ["The monthly pass rises from $60 to $65.", older.text]


def test_a_sentence_chosen_twice_is_cited_and_said_once() -> None:
    e = ANSWERS[0][0]
    citer = Citer()
    assert citer.cite(e, 0.5) == citer.cite(e, 0.9) == 1 and len(citer.citations) == 1


@pytest.mark.parametrize("chosen", [
    ev("Data recovery does not cover notebooks kept in local-only mode."),
    ev("Monthly plans are not refunded, but you can cancel at any time."),
])
def test_a_denied_yes_no_question_leads_with_no(chosen: Evidence) -> None:
    citer = Citer()
    text, _ = compose(Decision("answer", (chosen,), no=True), citer, "asked")
    assert text.startswith(prompts.NO_LEAD) and text.count(chosen.text.rstrip(".")) == 1
    check_citations(text, citer)
    plain, _ = compose(Decision("answer", (chosen,)), Citer(), "asked")
    assert not plain.startswith(prompts.NO_LEAD)


def test_a_no_from_a_lists_lead_in_quotes_the_lead_in_first() -> None:
    """"No — theft, ...;" alone would not show why (nor would a plain answer quoting the item):
    the lead-in that negates is quoted too, on its own exact span, cited first, and once."""
    lead, item = "This warranty does not cover:", "theft, and damage caused by an attempted theft;"
    chosen = replace(ev(item, start=1630), under=lead, under_start=1598)
    citer = Citer()
    text, _ = compose(Decision("answer", (chosen,), no=True), citer, "asked")
    assert text == f"{prompts.NO_LEAD}{lead} [1] {item} [2]."
    assert [(c.quote, c.start, c.end) for c in citer.citations] == [
        (lead, 1598, 1598 + len(lead)), (item, 1630, 1630 + len(item))]
    plain, _ = compose(Decision("answer", (chosen,)), Citer(), "asked")  # "What is excluded?"
    assert plain == f"{lead} [1] {item} [2]."
    other = replace(chosen, text="rust on the chain;", start=1680, end=1698)
    both, _ = compose(Decision("answer", (chosen, other)), Citer(), "asked")
    assert both == f"{lead} [1] {item} [2]. rust on the chain; [3]."


# --- updates: the newer document leads, both cited with their dates -------------------------
UPDATES = [
    (ev("Its end of life moves from December 31, 2024 to June 30, 2025.", start=2061, doc="new",
        title="Changes to Quillmate plans", published="2024-09-24"),
     ev("Classic will reach end of life on 31 December 2024.", start=2294, doc="old",
        title="Quillmate Pricing", published="2024-03-01")),
    (ev("Plus rises from $5 to $6 per month when billed annually.", start=717, doc="new",
        title="Changes to Quillmate plans", published="2024-09"),
     ev("Plus costs $5 per month, billed annually.", start=300, doc="old", title="Quillmate Pricing",
        published="2024")),  # dates at any precision
]


@pytest.mark.parametrize("newer,older", UPDATES, ids=["day", "month-year"])
def test_an_update_cites_the_newer_first_and_both_dates(newer: Evidence, older: Evidence) -> None:
    citer = Citer()
    text, conflicts = compose(Decision("answer", (newer, older), update=True), citer, "asked")
    check_citations(text, citer)
    assert [c.doc_id for c in citer.citations] == [newer.doc_id, older.doc_id]
    for e in (newer, older):
        date = parse_date(e.published)
        assert date is not None and date.human() in text and e.title in text
        assert text.count(e.text.rstrip(".")) == 1  # each quoted once
    assert text.index(newer.text.rstrip(".")) < text.index(older.text.rstrip("."))
    (conflict,) = conflicts
    assert conflict.newer == 0 and conflict.sides[0].doc_id == newer.doc_id
    assert [c.published for c in conflict.sides] == [newer.published, older.published]


@pytest.mark.parametrize("first,second", [
    (ev("Plus costs $5 per month.", doc="a", title="Pricing"),
     ev("Plus costs $6 per month.", doc="b", title="Price list")),
    (ev("Vega heads support.", doc="a", title="Team page", published="2024-03-01"),
     ev("Kapoor heads support.", doc="b", title="Org chart", published="2024-03-01")),
])
def test_sources_that_differ_are_both_cited_by_title(first: Evidence, second: Evidence) -> None:
    citer = Citer()
    text, conflicts = compose(Decision("answer", (first, second), disagree=True), citer, "asked")
    check_citations(text, citer)
    assert first.title in text and second.title in text
    (conflict,) = conflicts
    assert conflict.newer is None and {c.doc_id for c in conflict.sides} == {"a", "b"}


# --- corrections and refusals ---------------------------------------------------------------
@pytest.mark.parametrize("denial", [
    ev("Adair is not leaving the company: he moves to a new role as chief architect."),
    ev("The review is not a response to any breach of customer data."),
])
def test_a_correction_quotes_the_sentence_that_denies_the_premise(denial: Evidence) -> None:
    citer = Citer()
    text, conflicts = compose(Decision("correct", (denial,)), citer, "asked")
    check_citations(text, citer)
    assert text == prompts.CORRECTION.format(quote=with_marker(denial.text, 1)) and not conflicts


@pytest.mark.parametrize("decision,expected", [
    (Decision("refuse", reason="no candidate"), prompts.REFUSAL),
    (Decision("refuse", reason="nothing clears the bar", scores={"1": 0.2}), prompts.REFUSAL),
    (Decision("refuse", unknown=("cvss",)), prompts.REFUSAL_UNKNOWN_NAME.format(names="cvss")),
    (Decision("refuse", unknown=("2018", "fifa")),
     prompts.REFUSAL_UNKNOWN_NAME.format(names="2018, fifa")),
])
def test_a_refusal_quotes_and_cites_nothing(decision: Decision, expected: str) -> None:
    citer = Citer()
    text, conflicts = compose(decision, citer, "asked")
    assert (text, citer.citations, conflicts) == (expected, [], [])
    assert not MARKER.search(text) and "“" not in text


def test_labelled_values_are_quoted_after_their_heading_once() -> None:
    """"Weight: 23.5 kg" says whose weight only with its heading; two values under one heading
    gave the heading twice ("Veloria Stad 7 [1]: Weight ... Veloria Stad 7 [1]: Motor ...")."""
    doc = "## Veloria Stad 7\nMotor: 40 Nm\nWeight: 23.5 kg\n"
    heading = {"heading": "Veloria Stad 7", "heading_start": 3}
    weight = replace(ev("Weight: 23.5 kg", start=doc.index("Weight")), **heading)
    motor = replace(ev("Motor: 40 Nm", start=doc.index("Motor")), **heading)
    citer = Citer()
    text, _ = compose(Decision("answer", (weight, motor)), citer, "asked")
    assert text == "Veloria Stad 7 [1]: Weight: 23.5 kg [2]. Motor: 40 Nm [3]."
    assert [(c.quote, c.start) for c in citer.citations] == [
        ("Veloria Stad 7", 3), ("Weight: 23.5 kg", doc.index("Weight")),
        ("Motor: 40 Nm", doc.index("Motor"))]
    check_citations(text, citer)
