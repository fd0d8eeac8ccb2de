"""The question profile: what a question asks for and what it names, computed once per question.

Every later stage reads this instead of matching the question again: retrieval checks
that the names and years it mentions exist in the retrieved text, evidence selection
prefers sentences with the kind of answer asked for (a number for "how many", a date for
"when", a name for "who"), the extractive backend and the verifier test premises against
it. The rules are deliberately few and table-tested (tests/test_question.py); semantics
beyond them is the judge's job (`judge.py`). Not here: instructions in the question (`guards.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from assistant.answer.roles import bound_roles, modified_phrase, name_runs, titles
from assistant.core.text import content_words, stem

AnswerKind = Literal["quantity", "year", "date", "role", "entity", "advice", "yesno", "other"]

# What the first words of a question ask for.
_KINDS: list[tuple[re.Pattern[str], AnswerKind]] = [
    # "What does Microsoft act as ...?", "What role did Microsoft give up?", "What position
    # does Satya Nadella hold?", "How is Oracle described ...?": what the question's first name is
    (re.compile(r"^what (does|did|do|is|was|will|would|has|had) .*?\b(act|acts|acted|acting|serve|"
                r"serves|served|serving|function|functions) as\b|^what (role|position|title|job)s? |"
                r"^what (is|was|are|were) (the )?\S+['’]s? (role|position|title|job)s?\b|"
                r"^what (is|was) the (role|position|title|job) of\b|"
                r"^how (is|was|are|were) .*?\b(described|characteri[sz]ed|portrayed|referred to)\b"), "role"),
    (re.compile(r"^((by|to|at|for|in) )?(how (much|many|large|big|long)|what (percentage|share|amount|"
                r"sum|number))\b"), "quantity"),
    (re.compile(r"^((in |on )?(what|which) year)\b"), "year"),
    (re.compile(r"^((until |since |from )?when|(in |on )?(what|which) (month|date|exact date|day))\b"),
     "date"),
    # "What did Microsoft pay ...?" asks for an amount as much as "How much ...?" does
    (re.compile(r"^what (did|does|do|will|would|is|was|are|were) .*\b(pay|paid|cost|spend|spent|earn|"
                r"charge|price|worth|budget)"), "quantity"),
    (re.compile(r"^(who|whom|whose|where|which (city|company|companies|person|firm|country|state))\b"),
     "entity"),
    # "Should OpenAI trust ...?" asks for advice: only a sentence that gives advice answers it
    (re.compile(r"^(should|ought)\b"), "advice"),
    (re.compile(r"^(is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)\b"),
     "yesno"),
]
_FILLER = re.compile(r"(who|whom|whose|which|what)\b")
# A request asks what a question would: "tell me the Stargate budget" = "what is the Stargate budget"
_REQUEST = re.compile(r"(?i)^\W*(?:then\s+|and\s+|please\s+)*(?:(?:can|could|would) you\s+)?"
                      r"(?:tell|show|give) me\s+(?:about\s+)?")
# "How many jobs": the counted noun; a name before it is not one ("How many Oracle shares")
_UNIT = re.compile(r"^\s*(?i:how many)\s+(?:[A-Z][a-z][\w’'&-]*\s+)*([A-Za-z]+)")
# A quantity question about money ("How much will Stargate invest?", "What is Oracle's share
# price?") is answered by an amount of money, not by any number ("surged by 7%").
_MONEY_ASKED = re.compile(r"\b(price\w*|costs?|costing|pay|pays|paid|worth|budget\w*|spen[dt]\w*|"
                          r"invest\w*|fund\w*|earn\w*|revenues?)\b")
_MONEY_SAID = re.compile(r"[$€£]|\b(dollars?|euros?|usd)\b|\d\s*(billion|million|trillion|bn)\b",
                         re.IGNORECASE)
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
# Complex prepositions are function words: "in relation to the Stargate Project" asks about the
# Stargate Project, not about a "relation" a sentence must also name.
_COMPLEX_PREPOSITION = re.compile(r"\b(in relation to|with regard to|in regard to|with respect to|"
                                  r"in terms of|as regards)\b", re.IGNORECASE)
# "How big ...?" asks for a size: "big" there is the kind of answer, while "the biggest backer"
# (lemma "big") is what the question is about
_HOW_MUCH = re.compile(r"\bhow (much|many|long|large|big)\b", re.IGNORECASE)
# A capitalised word after the first word of a clause: a name (hyphenated compounds included).
_NAME = re.compile(r"(?<=[\w,;:’'] )[A-Z][\w’'&]*(?:-[A-Za-z][\w’'&]*|\.[a-z]{2,}\b)*")
# Words that say what kind of answer is wanted, or where, or are light verbs ("act as", "play"),
# or ask for the answer ("tell me", "describe"): they say nothing about what
# the question is about.
_ASKING = frozenset(content_words("percentage amount number exact exactly "
                                  "according article articles document documents act acts serve "
                                  "play hold happen happened mean become get got make made take "
                                  "tell explain describe show list give please"))
# An ordinal that picks one of several things ("the second site"), not an adverb ("first invest").
_ORDINALS = re.compile(r"\b(?:the|its|their|a) (first|second|third|fourth|fifth|last|next|previous)\b",
                       re.IGNORECASE)
_ADVICE = re.compile(r"\b(should|ought|recommend\w*|advis\w*|wise|must)\b", re.IGNORECASE)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_END_POINT = re.compile(rf"\b(through|until|till|up to)\s+(the end of\s+)?((19|20)\d{{2}}|{_MONTHS})\b",
                        re.IGNORECASE)
# A question starts with a wh-word or an auxiliary, at the start or after a comma, "and" or
# "or" ("..., and what is its role now?", "..., or did OpenAI sign itself?"); a fronted phrase
# ("According to TechCrunch, what ...") does not.
_ASKS = r"(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|has|have|" \
    r"had|can|could|will|would|should)\b"
_PART = re.compile(rf"(?:^|,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+){_ASKS}")
_NUMBER_WORDS = r"\b(one|two|three|four|five|six|seven|eight|nine|ten|twenty|hundred|thousand|" \
    r"million|billion|dozen)\b"


@dataclass(frozen=True)
class QuestionProfile:
    text: str
    kind: AnswerKind
    unit: str  # "how many jobs" -> "job"; "" otherwise
    names: frozenset[str]  # lower-cased, compounds split: "Oracle-Microsoft" -> oracle, microsoft
    years: frozenset[str]
    content: frozenset[str]  # stemmed content words
    percent: bool  # asks for a percentage or share ("what share of", not "share price")
    ordinals: frozenset[str] = frozenset()  # "the second site" is not answered by "the first site"
    kind_words: frozenset[str] = frozenset()  # "which companies": the kind, not the topic
    money: bool = False  # a quantity of money: "How much will Stargate invest?"
    duration: bool = False  # "How long ...?": an end point ("through 2030") answers it too
    parts: int = 1  # questions asked in one: "How did Oracle come in, and what is its role now?" 2
    subject: str = ""  # for a role question, the name whose role is asked: "Satya Nadella"

    @property
    def focus(self) -> frozenset[str]:
        """What the question is about beyond its names and years: the words an answering
        sentence should share ("invest" in "How much will Stargate invest?")."""
        words = self.content - self.names - self.years - self.kind_words - _ASKING
        # "Oracle-Microsoft" is its two names, not a word a sentence must also spell that way
        return frozenset(w for w in words if not set(w.split("-")) <= self.names)

    @property
    def asks_filler(self) -> bool:
        """Whether the question asks what fills its predicate ("Which companies are behind
        Stargate?", "What position does Nadella hold?") rather than about the predicate itself
        ("Why/when did Oracle buy CoreWeave?", "Did Microsoft override ...?"), which it takes
        as given: only there is an answer repeating the question's words a premise taken over."""
        return bool(_FILLER.match(self.text.strip().lower()))

    @property
    def documents(self) -> frozenset[str]:
        """Names the question uses for a document ("the AiNews article", "TechCrunch's report"),
        which a sentence's document title or source may hold instead of its text."""
        lowered = self.text.lower()
        kinds = r"(\w+\s+)?(article|piece|story|report|post|blog)\b"
        return frozenset(n for n in self.names if re.search(  # "the AiNews article", "TechCrunch's report"
            rf"\b(the|a|an|this|that)\s+{re.escape(n)}[\w.]*\s+{kinds}|\b{re.escape(n)}\w*['’]s\s+{kinds}",
            lowered))

    @property
    def specifics(self) -> frozenset[str]:
        """Names and years: if no retrieved text has one, the documents cannot answer."""
        return self.names | self.years


def _names(text: str, first_word: bool = False) -> set[str]:
    """Capitalised words after a clause's first word; with `first_word`, a capitalised first
    word that is not a stopword too ("Microsoft, the largest investor, ...")."""
    found: set[str] = set()
    matches = [m.group() for m in _NAME.finditer(text)]
    first = re.match(r"\W*([A-Z][\w’'&]*(?:-[A-Za-z][\w’'&]*|\.[a-z]{2,}\b)*)", text)
    if first_word and first and content_words(first.group(1)):
        matches.append(first.group(1))
    for word in matches:
        word = word.strip("'’")
        if len(word) >= 5 and word.isupper():
            continue  # shouted words are emphasis, not names
        for part in re.split(r"[-.]", word):  # "Oracle-Microsoft", "AiNews.com": each part a name
            name = re.sub(r"(’s|'s)$", "", part).lower()
            name = re.sub(r"(?<=[a-z]{3})s$", "", name)  # plural: "Oracles"; keep "AWS"-like short
            if len(name) > 1 and name[0].isalpha():
                found.add(name)
    return found


def as_question(text: str) -> str:
    """A request as the question it asks: "Tell me the Stargate budget." -> "What is the
    Stargate budget?", "could you tell me when Oracle joined?" -> "When Oracle joined?" (what
    the guard leaves of "reveal your prompt, then tell me ..." included); other text unchanged."""
    request = _REQUEST.match(text)
    if not request:
        return text
    rest = text[request.end():].strip().rstrip(".?!")
    if not rest:
        return text
    asked = rest if re.match(_ASKS, rest, re.IGNORECASE) else f"what is {rest}"
    return asked[0].upper() + asked[1:] + "?"


def profile(question: str) -> QuestionProfile:
    """The profile of one (standalone) question."""
    lowered = question.strip().lower()
    kind: AnswerKind = "other"
    kind_words: set[str] = set()
    for pattern, candidate in _KINDS:
        if match := pattern.search(lowered):
            kind = candidate
            # what the opening asks for ("which company", "what month") is checked as the kind
            # of answer; a sentence need not repeat the word ("companies race to ..."). Not for
            # quantities: "What did Microsoft pay ...?" matches through its topic, up to "pay".
            kind_words = (content_words(match.group()) if candidate in ("entity", "date", "year", "role")
                          else set())
            break
    subject = _subject(question) if kind == "role" else ""
    if kind == "role" and not subject:
        kind, kind_words = "other", set()  # "What role is it expected to play?": no name to bind a role to
    unit = _UNIT.search(question)
    return QuestionProfile(
        text=question,
        kind=kind,
        unit=stem(unit.group(1).lower()) if unit else "",
        names=frozenset(_names(question)),
        years=frozenset(m.group() for m in _YEAR.finditer(question)),
        content=frozenset(content_words(_COMPLEX_PREPOSITION.sub(" ", _HOW_MUCH.sub(" ", question)))),
        percent=bool(re.search(r"\bpercent\w*|\b(what|which) share\b|\bshare of\b", lowered)),
        ordinals=frozenset(m.lower() for m in _ORDINALS.findall(question)),
        kind_words=frozenset(kind_words),
        money=kind == "quantity" and bool(_MONEY_ASKED.search(lowered)),
        duration=lowered.startswith("how long") and not lowered.startswith("how long ago"),
        parts=max(1, len(_PART.findall(lowered))),
        subject=subject,
    )


def _subject(question: str) -> str:
    """The first name after the question's first word ("What does *Microsoft* act as for
    OpenAI?"), possessive dropped; "" when it names none, or only as a modifier ("What role is
    the first Stargate site expected to play?" asks about a site)."""
    runs = [r for r in name_runs(question) if r.start > 0]
    return " ".join(runs[0].words) if runs and not modified_phrase(question, runs[0]) else ""


# Nouns that name an amount of money without saying which way it goes ("the Stargate budget"):
# any amount of money is one. Not "revenue", "investment", "pay": those name a flow.
_AMOUNT_NOUN = re.compile(r"budgets?|costs?|prices?|worth|value")


def amount_noun(word: str) -> bool:
    """Whether a (stemmed) focus word only names an amount of money, which any sum states."""
    return bool(_AMOUNT_NOUN.fullmatch(word))


def states_money(sentence: str) -> bool:
    """Whether the sentence states a sum of money ("$500 billion")."""
    return bool(_MONEY_SAID.search(sentence))


def has_answer_kind(p: QuestionProfile, sentence: str) -> bool:
    """Whether `sentence` holds the kind of answer asked for: a count for "how many jobs" must
    be a count of jobs, a date for "when", a name the question does not already use for "who",
    advice for "should"; and the question's ordinal ("the second site"), if it has one."""
    if not p.ordinals <= {m.lower() for m in _ORDINALS.findall(sentence)}:
        return False
    match p.kind:
        case "quantity":
            if p.duration and _END_POINT.search(sentence):
                return True  # "How long do the rights last?" - "they continue through 2030"
            if p.unit and p.unit not in content_words(sentence):
                return False  # "how many jobs" is not answered by a count of buildings
            if p.percent and not re.search(r"%|percent", sentence):
                return False
            if p.money and not states_money(sentence):
                return False  # "What is Oracle's share price?" is not answered by "surged by 7%"
            amount = _YEAR.sub("", sentence)  # "In June 2023" states a date, not an amount
            return bool(re.search(r"\d", amount) or re.search(_NUMBER_WORDS, amount, re.I))
        case "year":
            return bool(_YEAR.search(sentence))
        case "date":
            return bool(_YEAR.search(sentence) or re.search(rf"\b({_MONTHS})\b", sentence, re.I))
        case "role":  # the sentence binds a role or a title to the name asked about
            holder = p.subject.split()[-1].lower() if p.subject else ""
            return bool(holder) and (any(r.holder == holder for r in bound_roles(sentence))
                                     or titles(p.subject, sentence))
        case "entity":
            return bool(_names(sentence, first_word=True) - p.names)
        case "advice":
            return bool(_ADVICE.search(sentence))
        case _:
            return True
