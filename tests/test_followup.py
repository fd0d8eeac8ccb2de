"""Follow-ups (`followup.py`): a question that points back with a pronoun is searched with the
last question beside it and the names the last answer gave; nothing is rewritten.

Table rows are families of pronoun follow-ups after one exchange: every member must take the
previous turn's names. The end-to-end tests ask the seed corpus through `Assistant.ask` with a
history and through `Chat` (extractive, real store); the software corpus's follow-ups are
failure class 6 in test_failure_classes.py.
"""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answer.followup import ANSWER_CHARS, follow_up
from assistant.core import prompts
from assistant.core.errors import InputError


def turn(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


# (history, family of follow-ups, names the last turn gave, words of them the query must hold)
ROWS = [
    (turn("Who was Fernhill's CTO before Grace Hollis?",
          "Ben Adair, a co-founder, who has been CTO since 2016 [1]."),
     ["Who replaced him?", "What is his new role?", "Who does he report to now?",
      "Is he leaving the company?"],
     {"adair", "ben", "fernhill", "grace", "hollis"}, ["Ben", "Adair", "Grace Hollis"]),
    (turn("Who led Quillmate customer support until August 2024?",
          "Marisol Vega, who led our customer support team for three years, left in August [1]."),
     ["Who replaced her?", "Why did she leave?", "How long did she lead it?"],
     {"marisol", "vega", "quillmate"}, ["Marisol", "Vega"]),
    (turn("What does the Denver plant make?", "The plant makes bicycle frames [1]."),
     ["Where are they made?", "Who buys them?", "How many does it make a year?"],
     {"denver"}, ["Denver plant"]),
    (turn("Who is OpenAI's largest investor?",
          "Microsoft, the largest investor in OpenAI, has relinquished its role [1]."),
     ["When did it first invest?", "How much did it put in at first?"],
     {"openai", "microsoft"}, ["Microsoft"]),
]


@pytest.mark.parametrize("history,family,referents,held", ROWS,
                         ids=["him", "her", "they", "it"])
def test_a_pronoun_follow_up_takes_the_previous_turn_s_names(
        history: list[dict[str, str]], family: list[str], referents: set[str],
        held: list[str]) -> None:
    asked, answered = history[0]["content"], history[1]["content"]
    for question in family:
        f = follow_up(question, history)
        assert f.query.startswith(question) and asked in f.query, f.query
        assert all(word in f.query for word in held), f.query
        assert referents <= f.referents, (question, f.referents)
        assert f.earlier == prompts.EARLIER.format(question=asked, answer=answered[:ANSWER_CHARS])


@pytest.mark.parametrize("family", [["What does it cost?", "Who replaced him?", "Why?"]])
def test_without_history_the_question_stands_alone(family: list[str]) -> None:
    for question in family:
        f = follow_up(question, [])
        assert (f.query, f.earlier, f.referents) == (question, "", frozenset())


@pytest.mark.parametrize("refusal", [prompts.REFUSAL,
                                     prompts.REFUSAL_UNKNOWN_NAME.format(names="cvss"),
                                     prompts.REFUSAL_INSTRUCTIONS])
def test_a_refusal_gives_no_names(refusal: str) -> None:
    history = turn("Who led customer support before Kapoor?", refusal)
    for question in ["Who replaced her?", "Where did she go?"]:
        f = follow_up(question, history)
        assert f.referents == {"kapoor"}, f.referents  # the question's own name, none of the refusal's
        assert "I can" not in f.query.removeprefix(question)


def test_only_the_last_exchange_is_read() -> None:
    history = [*turn("Who chairs Oracle?", "Larry Ellison [1]."),
               *turn("Who heads Fernhill's support?", "Dev Kapoor [1].")]
    for question in ["When did he start?", "What did he do before?"]:
        f = follow_up(question, history)
        assert {"kapoor", "dev", "fernhill"} <= f.referents and "ellison" not in f.referents
        assert "Oracle" not in f.query and "Kapoor" in f.query


@pytest.mark.parametrize("ending", [
    [{"role": "user", "content": "Who chairs Oracle?"}],  # asked, never answered
    [{"role": "user", "content": "Who chairs Oracle?"},
     {"role": "user", "content": "Who heads Fernhill's support?"}],  # two questions in a row
])
def test_an_unanswered_question_is_not_paired_with_an_earlier_answer(
        ending: list[dict[str, str]]) -> None:
    history = [*turn("What does the Denver plant make?", "Maria Lopez says it makes frames [1]."),
               *ending]
    f = follow_up("When did he start?", history)
    assert f.last == (ending[-1]["content"], ""), f.last
    assert not {"maria", "lopez", "denver"} & f.referents, f.referents
    assert "Maria" not in f.query and ending[-1]["content"] in f.query, f.query


def test_of_two_answers_after_the_last_question_the_later_is_read() -> None:
    history = [*turn("Who heads Fernhill's support?", "Dev Kapoor [1]."),
               {"role": "assistant", "content": "He succeeded Marisol Vega [2]."}]
    f = follow_up("When did he start?", history)
    assert f.last == ("Who heads Fernhill's support?", "He succeeded Marisol Vega [2].")
    assert {"marisol", "vega"} <= f.referents


def test_a_long_answer_is_cut_for_the_reader() -> None:
    answer = "Dev Kapoor heads support. " + "More text. " * 100
    f = follow_up("When did he start?", turn("Who heads support?", answer))
    assert answer[:ANSWER_CHARS] in f.earlier and answer[:ANSWER_CHARS + 20] not in f.earlier


# --- end to end, extractive, on the seed corpus -----------------------------------------------
def test_ask_with_history_searches_the_previous_turn_s_names(corpus_bot: Assistant) -> None:
    history = turn("Who is OpenAI's largest investor?",
                   "Microsoft, the largest investor in OpenAI, has relinquished its role [1].")
    for question in ["When did it first invest, and how much?", "When did it first invest?"]:
        answer = corpus_bot.ask(question, history=history)
        assert "Microsoft" in answer.standalone_question and question in answer.standalone_question
        assert not answer.refused and "2019" in answer.text, answer.text
        for c in answer.citations:
            assert corpus_bot.document(c.doc_id).text[c.start:c.end] == c.quote


def test_a_chat_keeps_its_turns_and_resolves_the_pronoun(corpus_bot: Assistant) -> None:
    chat = corpus_bot.chat()
    first = chat.send("Who is OpenAI's largest investor?")
    assert "Microsoft" in first.text and len(chat.history) == 2
    second = chat.send("When did it first invest?")
    assert chat.history[2:] == turn("When did it first invest?", second.text)
    assert "Microsoft" in second.standalone_question and "2019" in second.text, second.text
    chat.clear()
    assert chat.history == []


@pytest.mark.parametrize("history", [
    "not a list", [{"role": "system", "content": "x"}], [{"role": "user"}],
    [{"role": "user", "content": 3}], ["Who is it?"],
])
def test_a_malformed_history_is_a_clear_error(corpus_bot: Assistant, history: object) -> None:
    with pytest.raises(InputError, match="history"):
        corpus_bot.ask("When did it first invest?", history=history)  # type: ignore[arg-type]
