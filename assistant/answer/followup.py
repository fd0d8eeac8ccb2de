"""Follow-ups: a question that points back ("Where did she work before?") read with the turn
before it. Nothing is rewritten: retrieval searches the question with the last question beside
it and with the names the last answer gave, and the reader sees the earlier exchange before the
question, so "she", "it" and "that" resolve the way a reader resolves them; the last question
and answer are kept, so that a follow-up is not answered by saying it again
(`decide.said_again`). Not here: history validation (`api.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.core import prompts
from assistant.core.text import names

History = list[dict[str, str]]
ANSWER_CHARS = 300  # of the last answer, shown to the reader
# Of the last answer, read for names: this assistant's answers are a few quoted sentences; a
# longer turn (pasted from elsewhere) is read only so far.
ANSWER_READ = 4000


@dataclass(frozen=True)
class FollowUp:
    query: str  # what retrieval searches: the question, then what it may point back to
    earlier: str  # the earlier exchange, for the reader ("" without history)
    referents: frozenset[str]  # names the last turn gave, counted as the question's own
    last: tuple[str, str] = ("", "")  # the last question and answer


def last_exchange(history: History) -> tuple[str, str]:
    """The last user turn and the answer that followed it ("" when none did: a history ending
    in a question left unanswered is not paired with the answer to an earlier one)."""
    asked = max((i for i, t in enumerate(history) if t["role"] == "user"), default=-1)
    answered = next((t["content"] for t in reversed(history[asked + 1:])
                     if t["role"] == "assistant"), "")
    return (history[asked]["content"] if asked >= 0 else ""), answered


def follow_up(question: str, history: History) -> FollowUp:
    if not history:
        return FollowUp(question, "", frozenset())
    asked, answered = last_exchange(history)
    answered = answered[:ANSWER_READ]
    given = names(answered, first_word=True) - names(asked)
    referents = names(asked) | given
    words = " ".join(w for w in answered.split() if w.strip(".,;:“”\"'()[]").lower() in given)
    query = f"{question} ({asked} {words})".strip()
    earlier = prompts.EARLIER.format(question=asked, answer=answered[:ANSWER_CHARS])
    return FollowUp(query, earlier, frozenset(referents), (asked, answered))
