"""Who a sentence says is what: the roles and titles it binds to names.

Three plain constructions bind a role to a name, and each binds it to one name only:
"<Name> ... as a <role>" (the last name before "as": "Microsoft identified OpenAI as a
competitor" makes OpenAI the competitor), an appositive "<Name>, the <role>, ..." ("Microsoft,
the largest investor in OpenAI, ..."), and a copula "<Name> was the <role>" ("Microsoft was the
exclusive host ..."; "is no longer the ..." binds nothing). A title is the capitalised words
before a person's name ("Microsoft CEO Satya Nadella"). The verifier uses these to catch a role
given to the wrong name; the question profile to know which sentences say what a name acts as.
Not here: whether a role is the one asked about (the judge's word checks decide that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.core.text import content_words, stem, words

_HOLDER = r"(?P<holder>[A-Z][\w’'&-]*)"
_ROLE_END = (r"(?=[“”\"]?\s+(?:in|of|for|to|with|by|at|on|from|and|that|which|who)\b"
             r"|[\s“”\"]*[,.;:!?]|[\s“”\"]*$)")
# "<Name> <lower-case words> as <article> <role>": a comma between the name and "as" breaks the
# binding ("Microsoft, the largest investor in OpenAI, has relinquished its role as ...").
_AS = re.compile(_HOLDER + r"(?:\s+[a-z][\w’'-]*)*?\s+as\s+(?:a|an|the|its|their)\s+[“\"]?"
                 r"(?P<role>(?:[\w’'-]+\s+){0,3}?[\w’'-]+?)" + _ROLE_END)
_APPOSITIVE = re.compile(_HOLDER + r",\s+(?:the|a|an)\s+(?P<role>[^,.;:]{3,60}?),")
_COPULA = re.compile(_HOLDER + r"\s+(?:is|was|has been|had been|remains|remained|became)\s+"
                     r"(?:(?:previously|now|still|also|once|already|long)\s+)?(?:the|a|an|[A-Z][\w&-]*['’]s)\s+"
                     r"(?P<role>(?:[\w’'-]+\s+){0,3}?[\w’'-]+?)" + _ROLE_END)
_CAPITALISED = re.compile(r"[A-Z][\w\-]*(?:['’]s)?")


@dataclass(frozen=True)
class Role:
    holder: str  # the name's last word, lower-cased, possessive dropped: "microsoft"
    role: str  # the role's head word, stemmed: "investor"


def _bound(pattern: re.Pattern[str], text: str) -> list[Role]:
    found = []
    for match in pattern.finditer(text):
        holder = re.sub(r"['’]s$", "", match.group("holder")).lower()
        # the role's head: its last word before a preposition ("largest investor in OpenAI")
        phrase = re.split(r"\s(?:in|of|for|to|with|between|at|on|from|by)\s", match.group("role"))[0]
        head = [w for w in words(phrase) if content_words(w)]
        if head and content_words(holder):  # a name, not "The" or "It"
            found.append(Role(holder, stem(head[-1])))
    return found


def as_roles(text: str) -> list[Role]:
    """The roles "<Name> ... as a <role>" binds."""
    return _bound(_AS, text)


def role_phrases(text: str, titled: bool = True) -> list[str]:
    """The phrases of a text that say who or what a name is, inside a sentence that may be
    about something else: appositives ("Microsoft, the largest investor in OpenAI") and, if
    `titled`, titled names ("Oracle Chairman Larry Ellison": three capitalised words or more,
    none a function word). A titled name is mostly a name: it is as close to any question
    naming the person ("What did Satya Nadella say?") as to one asking who holds the title."""
    found = [match.group(0)[:-1] for match in _APPOSITIVE.finditer(text)]
    if titled:
        found += [text[run.start:run.end] for run in name_runs(text)
                  if len(run.words) >= 3 and all(content_words(w) for w in run.words)]
    return found


def bound_roles(text: str) -> list[Role]:
    """Every role the text binds to a name, by any of the three constructions."""
    return [*_bound(_AS, text), *_bound(_APPOSITIVE, text), *_bound(_COPULA, text)]


@dataclass(frozen=True)
class NameRun:
    words: list[str]  # possessive 's dropped
    start: int
    end: int


def name_runs(text: str) -> list[NameRun]:
    """Runs of capitalised words ("Oracle Chairman Larry Ellison"), with where they stand."""
    runs: list[NameRun] = []
    for match in _CAPITALISED.finditer(text):
        word = re.sub(r"['’]s$", "", match.group())
        if runs and re.fullmatch(r"[ \t]+", text[runs[-1].end:match.start()]):  # spaces only: one run
            runs[-1] = NameRun([*runs[-1].words, word], runs[-1].start, match.end())
        else:
            runs.append(NameRun([word], match.start(), match.end()))
    return runs


_THE_BEFORE = re.compile(r"\bthe(?:\s+[a-z][\w’'-]*){0,2}\s+$")  # "the first " before the name
_WORD_AFTER = re.compile(r"\s+([a-z][\w’'-]*)")


def modified_phrase(text: str, run: NameRun) -> str:
    """The noun phrase the name is a modifier in ("the first Stargate site", "the Oracle-Microsoft
    relationship"): "the", the name, then a lower-case content word; "" when the name stands
    for itself ("the Stargate Project is ..."). Such a phrase is about the noun, not the name.
    Words are not tagged, so any content word after the name is taken as its noun ("what is
    the Stargate Project worth" gives "the Stargate Project worth")."""
    before = _THE_BEFORE.search(text[: run.start])
    after = _WORD_AFTER.match(text[run.end :])
    if before and after and content_words(after.group(1)):
        return text[before.start() : run.end + after.end()]
    return ""


def titles(name: str, sentence: str) -> bool:
    """Whether the sentence puts capitalised words before the name ("OpenAI CEO Sam Altman")."""
    parts = name.split()
    return any(len(run.words) > len(parts) and run.words[-len(parts):] == parts
               for run in name_runs(sentence))
