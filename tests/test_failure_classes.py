"""The six failure classes of issue 25, end to end on the `software` eval corpus.

The corpus (evals/corpora/software: Markdown with front matter, HTML pages, a DOCX policy, a
PDF advisory, a news text with byline, and a later post that updates the pricing page) is
loaded by the eval's own code (`evals.suites.corpus_suite`, `evals.runner.suite_assistant`)
into a real Chroma store in a temp dir, with the real embedding model. Every test runs with
llm="none" and, marked slow, with the local Qwen model. Questions and expected facts come from
the corpus's questions.jsonl (its `facts`, `forbid`, `current`, `superseded`) where a row
exercises the class, and otherwise are written here against the documents. A case a backend
fails today is marked xfail (strict) with what it does instead; the assertion is never eased.

1. context: the answering sentence names its subject only through the sentence or title
   before it; it is answered, not refused.
2. polarity: no answer states the opposite of its quote.
3. update: the later document leads, both cited with their dates; as_of between the two
   dates cites only the earlier one.
4. metadata: front matter, bylines, "Published:" lines are never evidence or citations.
5. unanswerable: refused, not answered with a tempting neighbour sentence.
6. follow-ups: a pronoun resolved against the previous turn.
"""

from __future__ import annotations

import calendar
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings

from assistant import Answer, Assistant
from assistant.core.models import Citation
from evals.runner import suite_assistant
from evals.suites import CORPORA, corpus_suite

SUITE = corpus_suite(CORPORA / "software")
ROWS = {row.id: row for row in SUITE.rows}
NEWER, OLDER = "quillmate-plan-changes.html", "pricing.html"  # the corpus's update pair
BETWEEN = "2024-07-01"  # after the pricing page (2024-03-01), before the changes (2024-09-24)
NEGATION = re.compile(r"\b(?:not|no|never|none|cannot|only)\b|n['’]t\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def software_none(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return suite_assistant(make_settings(tmp_path_factory.mktemp("software-none"), llm="none"),
                           SUITE, own_store=False)


@pytest.fixture(scope="module")
def software_local(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return suite_assistant(make_settings(tmp_path_factory.mktemp("software-local"), llm="local"),
                           SUITE, own_store=False)


def cases(table: list[tuple[str, dict[str, str]]]) -> list[Any]:
    """(case, {backend: why it fails today}) -> one param per backend; local is slow, and a
    backend with a reason is a strict xfail."""
    params = []
    for case, failing in table:
        for llm in ("none", "local"):
            marks = [pytest.mark.slow] if llm == "local" else []
            if llm in failing:
                marks.append(pytest.mark.xfail(strict=True, reason=failing[llm]))
            params.append(pytest.param(case, llm, marks=marks, id=f"{case}-{llm}"))
    return params


def ask(request: pytest.FixtureRequest, llm: str, question: str, as_of: str | None = None,
        history: list[dict[str, str]] | None = None,
        ) -> tuple[Assistant, Answer, list[Citation]]:
    """The bot of that backend, its answer, and the evidence it showed first."""
    bot: Assistant = request.getfixturevalue(f"software_{llm}")
    stream = bot.stream(question, history or None, as_of=as_of)
    text = "".join(stream)
    assert stream.answer is not None and stream.answer.text == text
    check_citations(bot, stream.answer)
    return bot, stream.answer, stream.evidence


def check_citations(bot: Assistant, answer: Answer) -> None:
    """Every citation an exact span, every [n] cited and every citation used."""
    for c in answer.citations:
        assert bot.document(c.doc_id).text[c.start:c.end] == c.quote
    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert used == {c.number for c in answer.citations}


def why(answer: Answer) -> str:
    return f"{answer.text}\n" + "\n".join(str(s) for s in answer.trace)


def matches_facts(row_id: str, text: str) -> bool:
    """Every `facts` group of the row holds, and no `forbid` pattern outside what the answer
    quotes as reported speech (“...”: an update's older statement)."""
    row = ROWS[row_id]
    said = re.sub(r"“[^”]*”", "", text)
    return all(any(re.search(p, text, re.IGNORECASE) for p in group) for group in row.facts) and not any(
        re.search(p, said, re.IGNORECASE) for p in row.forbid)


def human(iso: str) -> str:
    """"2024-09-24" -> "24 September 2024", written apart from the assistant's own dates."""
    year, month, day = (int(p) for p in iso.split("-"))
    return f"{day} {calendar.month_name[month]} {year}"


# --- 1. context: the subject named only by the sentence or title before ---------------------
CONTEXT = [
    ("mapleton-business", {}),  # "The company makes scheduling software ..." (Mapleton before)
    ("team-minimum-users", {"none": "answers with the user count of another document: 'Quillmate "
                                    "has more than 1.2 million registered users' (the Team "
                                    "sentence 'It requires a minimum of three users' is not chosen)"}),
    ("clipper-204-new-setting", {"none": "answers 'Web clipper 2.0.4, released 17 May 2024, fixes "
                                         "the issue.', not the next sentence 'It also adds a "
                                         "setting to turn off the recent-clips list entirely.'"}),
    ("cto-start-date", {"none": "answers 'Hollis succeeds co-founder Ben Adair, who has been CTO "
                                "since Fernhill was founded in 2016.', not 'She will start on July 1.'"}),
    # local cites 'She will start on July 1.' second, after the 'since 2016' sentence
]


@pytest.mark.parametrize("row_id,llm", cases(CONTEXT))
def test_1_a_sentence_about_the_subject_before_it_is_the_answer(request: pytest.FixtureRequest,
                                                               row_id: str, llm: str) -> None:
    _, answer, _ = ask(request, llm, ROWS[row_id].question)
    assert not answer.refused and answer.citations, why(answer)
    assert matches_facts(row_id, answer.text), why(answer)
    # the fact stands in a quote the answer cites, not in a refusal's aside
    assert any(matches_facts(row_id, c.quote) for c in answer.citations) or matches_facts(
        row_id, " ".join(c.quote for c in answer.citations)), why(answer)


# --- 2. polarity: no answer states the opposite of its quote --------------------------------
# (question, the text says it does not: True / it does: False)
POLARITY_QUESTIONS = {
    "recovery-local-only": (ROWS["recovery-local-only"].question, True),
    "monthly-plan-refund": (ROWS["monthly-plan-refund"].question, True),
    "pro-uptime-commitment": (ROWS["pro-uptime-commitment"].question, True),
    "pro-phone-support": (ROWS["pro-phone-support"].question, True),
    "annual-refund": ("Are annual Quillmate plans refundable?", False),
    "team-uptime": ("Do Team workspaces get a 99.9% uptime commitment?", False),
}
POLARITY = [
    ("recovery-local-only", {}),
    ("monthly-plan-refund", {}),
    ("pro-uptime-commitment", {}),
    ("pro-phone-support", {
        "none": "quotes 'Pro and Team subscribers will instead get priority live chat ...' as the "
                "update, not a sentence that says phone support ends",
        "local": "answers 'Pro and Team subscribers will instead get priority live chat in the "
                 "app ...': no sentence that says phone support ends"}),
    ("annual-refund", {}),
    ("team-uptime", {}),
]


@pytest.mark.parametrize("case,llm", cases(POLARITY))
def test_2_no_answer_states_the_opposite_of_its_quote(request: pytest.FixtureRequest, case: str,
                                                     llm: str) -> None:
    question, denied = POLARITY_QUESTIONS[case]
    _, answer, _ = ask(request, llm, question)
    assert not answer.refused and answer.citations, why(answer)
    assert not re.match(r"\W*yes\b", answer.text, re.IGNORECASE), why(answer)
    lead = answer.citations[0].quote
    if answer.text.startswith("No"):  # a "No" stands only before a quote that denies
        assert NEGATION.search(lead), why(answer)
    if denied:  # the denial is said: "No", or a cited quote that negates
        assert answer.text.startswith("No") or any(NEGATION.search(c.quote) for c in answer.citations), \
            why(answer)
        if case in ROWS:
            assert not any(re.search(p, answer.text, re.IGNORECASE) for p in ROWS[case].forbid)
    else:
        assert not answer.text.startswith("No"), why(answer)


# --- 3. update: the later document leads, both cited with their dates ------------------------
UPDATE = [
    ("classic-end-of-life", {}),
    ("plus-annual-price", {"none": "cites only the newer post ('Plus rises from $5 to $6 ...'): "
                                   "the older price on the pricing page is not cited beside it",
                           "local": "cites only the newer post ('Plus rises from $5 to $6 ...'): "
                                    "the older price on the pricing page is not cited beside it"}),
    ("head-of-support", {"none": "cites only 'Marisol Vega, who led our customer support team "
                                 "for three years, left Fernhill Labs in August ...': neither "
                                 "Kapoor nor the pricing page's 'led by Marisol Vega'",
                         "local": "cites the newer post twice (Kapoor succeeded her; Vega left) "
                                  "and not the pricing page's 'led by Marisol Vega'"}),
]


@pytest.mark.parametrize("row_id,llm", cases(UPDATE))
def test_3_an_update_leads_with_the_later_document_and_cites_both(
        request: pytest.FixtureRequest, row_id: str, llm: str) -> None:
    row = ROWS[row_id]
    _, answer, _ = ask(request, llm, row.question)
    assert not answer.refused and matches_facts(row_id, answer.text), why(answer)
    sources = [c.source for c in answer.citations]
    assert sources[0] == NEWER and OLDER in sources, why(answer)
    assert any(q in c.quote or c.quote in q for c in answer.citations for q in row.current), why(answer)
    assert any(q in c.quote or c.quote in q for c in answer.citations for q in row.superseded), \
        why(answer)
    for c in answer.citations:
        assert c.published and human(c.published) in answer.text, why(answer)
    assert answer.conflicts and answer.conflicts[0].newer is not None, why(answer)
    newer = answer.conflicts[0].sides[answer.conflicts[0].newer]
    assert newer.source == NEWER


AS_OF = [
    ("classic-end-of-life", {}),
    ("plus-annual-price", {"none": "with as_of 2024-07-01 answers 'Paying annually saves you about "
                                   "17% ...', not the Plus price of the pricing page",
                           "local": "with as_of 2024-07-01 refuses: the best candidate scores "
                                    "0.83, under the reader's bar of 0.85"}),
    ("head-of-support", {}),
]


@pytest.mark.parametrize("row_id,llm", cases(AS_OF))
def test_3_as_of_between_the_two_dates_cites_only_the_earlier(
        request: pytest.FixtureRequest, row_id: str, llm: str) -> None:
    row = ROWS[row_id]
    bot, answer, evidence = ask(request, llm, row.question, as_of=BETWEEN)
    assert not answer.refused and answer.citations, why(answer)
    for c in [*answer.citations, *evidence]:
        assert c.source != NEWER and (c.published or "") <= BETWEEN, why(answer)
    assert any(q in c.quote or c.quote in q for c in answer.citations for q in row.superseded), \
        why(answer)
    assert not answer.conflicts


# --- 4. metadata lines are never evidence -------------------------------------------------------
# What each document says about itself, as its text gives it.
METADATA = {
    "quillmate-4-0-release-notes.md": ['title: "Quillmate 4.0 release notes"', 'author: "Priya Raman"',
                                       "date: 2024-02-06", "tags: [release-notes",
                                       "*Priya Raman, Product Manager"],
    "fernhill-names-new-cto.txt": ["By Daniel Okonjo, Staff Writer, Portland Tech Ledger",
                                   "Published: June 10, 2024", "Image source: Fernhill Labs press kit."],
    "quillmate-plan-changes.html": ["By Rachel Mbeki, CEO, Fernhill Labs", "Posted\nSeptember 24, 2024"],
    "QM-SA-2024-002-web-clipper-advisory.pdf": ["Published: 21 May 2024"],
    "quillmate-plan-coverage-and-support-policy.docx": ["Owner: Customer Operations, Fernhill Labs, Inc."],
    "pricing.html": ["Page last updated\n1 March 2024"],
}
METADATA_QUESTIONS = {  # case: (question, as_of)
    "author-release-notes": ("Who wrote the Quillmate 4.0 release notes?", None),
    "author-cto-article": ("Who wrote the article about Fernhill's new CTO?", None),
    "published-advisory": ("When was the security advisory published?", None),
    "owner-policy": ("Who owns the Quillmate Plan Coverage and Support Policy?", None),
    "author-blog-post": ("Who wrote the blog post about the November changes?", None),
    "head-of-support-as-of": (ROWS["head-of-support"].question, BETWEEN),
}
METADATA_CASES = [
    ("author-release-notes", {}),
    ("author-cto-article", {}),
    ("published-advisory", {}),
    ("owner-policy", {}),
    ("author-blog-post", {}),
    ("head-of-support-as-of", {}),
]


def metadata_spans(bot: Assistant) -> dict[str, list[tuple[int, int]]]:
    spans: dict[str, list[tuple[int, int]]] = {}
    for d in bot.documents():
        text = bot.document(d.doc_id).text
        for line in METADATA[d.source]:
            assert line in text, f"{d.source}: the table must quote the document: {line!r}"
            spans.setdefault(d.doc_id, []).append((text.index(line), text.index(line) + len(line)))
    return spans


@pytest.mark.parametrize("case,llm", cases(METADATA_CASES))
def test_4_metadata_lines_are_never_evidence(request: pytest.FixtureRequest, case: str,
                                            llm: str) -> None:
    bot, answer, evidence = ask(request, llm, *METADATA_QUESTIONS[case])
    spans = metadata_spans(bot)
    for c in [*evidence, *answer.citations]:
        for s, e in spans.get(c.doc_id, []):
            assert not (c.start < e and s < c.end), f"metadata cited: {c.quote!r}\n{why(answer)}"


# --- 5. unanswerable: refused, not answered with a neighbour ------------------------------------
UNANSWERABLE = [
    ("japanese-handwriting-date", {}),
    ("minimum-ram", {}),
    ("users-affected-count", {"none": "answers with a neighbour: 'Web clipper 2.0, introduced with "
                                      "Quillmate 4.0 in February 2024, keeps a short list of recent "
                                      "clips so that users can send a clip ...'"}),
    ("hollis-salary", {"none": "answers with a neighbour: 'Hollis succeeds co-founder Ben Adair, "
                               "who has been CTO since Fernhill was founded in 2016.'",
                       "local": "answers with a neighbour: 'Hollis succeeds co-founder Ben Adair, "
                                "who has been CTO since Fernhill was founded in 2016.'"}),
    ("team-plan-subscriber-count", {
        "none": "answers with a neighbour: 'Pro and Team subscribers can also call our support "
                "line, Monday to Friday, 8:00 to 17:00 Pacific Time.'",
        "local": "answers with the same neighbour, read at P(yes) 0.32: it scores 0.852 against "
                 "the bar of 0.85 (0.889 in the eval's store)"}),
]


@pytest.mark.parametrize("row_id,llm", cases(UNANSWERABLE))
def test_5_an_unanswerable_question_is_refused(request: pytest.FixtureRequest, row_id: str,
                                              llm: str) -> None:
    row = ROWS[row_id]
    assert not row.answerable
    _, answer, _ = ask(request, llm, row.question)
    assert answer.refused and answer.citations == [] and not re.search(r"\[\d+\]|“", answer.text), \
        why(answer)


# --- 6. follow-ups with a pronoun ----------------------------------------------------------------
def turn(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


ADAIR = turn("Who was Fernhill's CTO before Grace Hollis?",
             "Ben Adair, a co-founder, who has been CTO since Fernhill was founded in 2016 [1].")
VEGA = turn("Who led Quillmate customer support until August 2024?",
            "Marisol Vega, who led our customer support team for three years, left Fernhill Labs "
            "in August to start her own consultancy [1].")
# case: (question, history, a name of the previous turn, what the answer must say)
FOLLOW_UPS: dict[str, tuple[str, list[dict[str, str]], str, str]] = {
    "who-replaced-him": ("Who replaced him?", ADAIR, "Adair", r"Hollis"),
    "his-new-role": ("What is his new role?", ADAIR, "Adair", r"chief architect"),
    "who-replaced-her": ("Who replaced her?", VEGA, "Vega", r"Kapoor"),
    **{row_id: (ROWS[row_id].question, ROWS[row_id].history, name, "")
       for row_id, name in [("followup-hollis-previous-job", "Hollis"),
                            ("followup-handwriting-languages", "handwriting"),
                            ("followup-uptime-credit", "uptime")]},
}
FOLLOW_UP_CASES = [
    ("who-replaced-him", {}),
    ("his-new-role", {}),
    ("who-replaced-her", {"none": "refuses: 'Dev Kapoor ... has succeeded her' ranks 8th (0.30): "
                                  "'replaced' and 'succeeded' share no word",
                          "local": "answers 'Our support team is led by Marisol Vega, Head of "
                                   "Customer Support ...' ('Head of Customer Support' is a name "
                                   "the last turn did not give); Kapoor ranks 8th, unread"}),
    ("followup-hollis-previous-job", {
        "none": "answers 'Hollis succeeds co-founder Ben Adair, who has been CTO since Fernhill was "
                "founded in 2016.', not Mapleton",
        "local": "answers 'Hollis succeeds co-founder Ben Adair, who has been CTO since Fernhill was "
                 "founded in 2016.', not Mapleton"}),
    ("followup-handwriting-languages", {}),
    ("followup-uptime-credit", {}),
]


@pytest.mark.parametrize("case,llm", cases(FOLLOW_UP_CASES))
def test_6_a_pronoun_follow_up_is_resolved_against_the_previous_turn(
        request: pytest.FixtureRequest, case: str, llm: str) -> None:
    question, history, name, expected = FOLLOW_UPS[case]
    _, answer, _ = ask(request, llm, question, history=history)
    assert name.lower() in answer.standalone_question.lower(), answer.standalone_question
    assert not answer.refused, why(answer)
    if expected:
        assert re.search(expected, answer.text), why(answer)
    else:
        assert matches_facts(case, answer.text), why(answer)


# case: the first question, and a follow-up that asks for something its answer did not say
OWN_TURNS = {
    "previous-job": ("Who is Fernhill Labs' new CTO?", "What did she do before joining?"),
    "worked-before": ("Who is Fernhill Labs' new CTO?", "Where did she work before?"),
}


@pytest.mark.parametrize("case,llm", cases([(case, {}) for case in OWN_TURNS]))
def test_6_a_follow_up_is_not_answered_by_the_last_answer_again(
        request: pytest.FixtureRequest, case: str, llm: str) -> None:
    """After the assistant's own answer, a follow-up that asks for something new quotes none of
    the sentences that answer quoted while another sentence may answer (`decide.said_again`)."""
    first, question = OWN_TURNS[case]
    _, answer, _ = ask(request, llm, first)
    assert answer.citations and not answer.refused, why(answer)
    _, again, _ = ask(request, llm, question, history=turn(first, answer.text))
    said = {(c.doc_id, c.start, c.end) for c in answer.citations}
    assert not said & {(c.doc_id, c.start, c.end) for c in again.citations}, why(again)


def test_the_corpus_is_loaded_as_the_eval_loads_it(software_none: Assistant) -> None:
    sources = {d.source: d.published for d in software_none.documents()}
    assert set(sources) == set(METADATA)
    assert sources[OLDER] < BETWEEN < sources[NEWER]
    assert Path(SUITE.docs).is_dir() and SUITE.name == "software"
