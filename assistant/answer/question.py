"""What a question asks for and what it names, read once per question.

`kind` is the kind of answer its first words ask for: a number ("how many", "by how much",
"what price", "what is the fare", "what did it cost"), a date ("when", "what year"), a name
("who"), yes or no (an auxiliary verb first), or anything ("what", "why", "which"); for a
number, what it must measure where the question says so (money for a price, fee, fare or salary
and for "what did it cost / charge / pay", a share for "what percentage") and what it counts
("how many users"). `names`
are the capitalised words after its first word and `figures` its numbers and years: a document
that mentions none of them cannot answer it.
`words` are its content words, stemmed. Not here: instructions hidden in a question
(`guards.py`) or what a pronoun points back to (`followup.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from assistant.core.dates import lower_dates, mentions_date, without_dates
from assistant.core.text import content_words, measures, names, numbers

Kind = Literal["number", "date", "name", "reason", "yesno", "other"]

# The opening words of a question and the kind of answer each asks for.
_KIND = re.compile(
    r"^\W*(?:(?P<number>(?:by |to |for )?how (?:much|many|long|large|big|old|far|often|tall|fast)"
    r"|what (?:is |was |are |were )?(?:the )?(?:\w+ ){0,2}?(?:percentage|share|amount|number|total|rate"
    r"|(?P<money>price|cost|fee|fare|charge|toll|rent|salary|wage)|sum|size|capacity)s?\b"
    r"|what (?:do|does|did|will|would|can|could) (?:\S+ ){1,4}?(?<!the )(?<!about )(?<!of )"
    r"(?P<spend>cost|charge|pay)\b)"
    r"|(?P<date>when|since when|until when|(?:in |on |by )?(?:what|which) (?:year|date|day|month))"
    r"|(?P<name>who|whom|whose)|(?P<reason>why|how come)"
    r"|(?P<yesno>is|are|was|were|do|does|did|can|could|will|would|has|have|had|should|shall|may"
    r"|must|isn't|aren't|doesn't|don't|didn't))\b", re.IGNORECASE)


# "How many Quillmate users ...": the first lower-case content word after "how many" is what it
# counts (names and function words passed over).
_COUNTED = re.compile(r"^\W*(?i:how many)\s+(.*)")


@dataclass(frozen=True)
class Question:
    text: str
    kind: Kind
    names: frozenset[str]  # lower-cased: "Denver", "Grace Hollis" -> denver, grace, hollis
    figures: frozenset[str]  # numbers and years it states: "2024", "400"
    words: frozenset[str]  # stemmed content words
    unit: str = ""  # what "how many" counts, stemmed: "How many Acme users ...?" -> user
    measure: str = ""  # what the number must measure: "money" ("what price"), "share" ("what
    # percentage"), "amount" (either: "how much did it pay / did it rise?"), "" (anything)

    def wants(self) -> str:
        """The answer it asks for, in words, for the trace: "a number (money)", "a date"."""
        what = {"number": "a number", "date": "a date", "name": "a name it does not give",
                "reason": "a reason", "yesno": "yes or no", "other": "any statement"}[self.kind]
        of = [m for m in (self.measure, f"counting {self.unit}" if self.unit else "") if m]
        return f"{what} ({', '.join(of)})" if of else what

    @property
    def specifics(self) -> frozenset[str]:
        """Names and figures: if no retrieved text has one of them, the documents cannot answer."""
        return self.names | self.figures


def read_question(text: str) -> Question:
    match = _KIND.match(text)
    kind: Kind = next((k for k in ("number", "date", "name", "reason", "yesno")
                       if match and match.group(k)), "other")
    counted = _COUNTED.match(text)
    unit = next((w for token in (counted.group(1).split() if counted else []) if token[:1].islower()
                 for w in content_words(token)), "")
    return Question(text, kind, frozenset(names(lower_dates(text))), frozenset(numbers(text)),
                    frozenset(content_words(text)), unit,
                    _measure(text, match) if match and kind == "number" else "")


def _measure(text: str, match: re.Match[str]) -> str:
    """What a number question's answer must measure: a share when it asks for a percentage,
    money when it asks for a price, cost, fee, fare or wage or what something cost, money or a
    share when "(by) how much" is followed by a verb ("how much did it pay", "by how much did it
    rise"); else anything ("how much storage")."""
    if "percent" in text.lower() or "per cent" in text.lower():
        return "share"
    if match.group("money") or match.group("spend"):
        return "money"
    after = _KIND.match(text[match.end():])
    if match.group("number").lower().endswith("how much") and after and after.group("yesno"):
        return "amount"
    return ""


def holds_kind(question: Question, sentence: str, context: str = "") -> bool:
    """Whether the sentence holds the kind of answer asked for: a number (outside any date, of
    the measure asked for) for "how much", a date for "when", a name the question does not
    already give for "who" (a capitalised first word counts as a name when the context, its
    title and the sentence before, also spells it capitalised: "Hollis succeeds ..." but not
    "Web clipper 2.0.4 ...")."""
    match question.kind:
        case "number":
            if question.unit and question.unit not in content_words(f"{context} {sentence}"):
                return False  # "how many users" is not answered by a count of versions
            if question.measure:  # "what percentage" is not answered by "a three-year deal"
                found = measures(without_dates(sentence))
                wanted = {"money", "share"} if question.measure == "amount" else {question.measure}
                return bool(found & wanted)
            return bool(numbers(without_dates(sentence)))
        case "date":
            return mentions_date(sentence)
        case "name":
            sentence, context = lower_dates(sentence), lower_dates(context)  # "17 May 2024" names no one
            found = names(sentence) | (names(sentence, first_word=True) & names(context, first_word=True))
            return bool(found - question.names)
        case _:
            return True
