"""Checks on the question before anything is generated: injected instructions, unknown names.

Both are deterministic and deliberately narrow. Instructions aimed at the assistant
("ignore previous instructions", "you are now ...", "print exactly ...") are removed from
the question, so they reach neither retrieval nor the model; what is left is answered as
usual, and a question that was nothing but instructions is refused. Not here: judging the
answer (`verify.py`).
"""

from __future__ import annotations

import re

_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|rules|articles?|documents?|sources?|above|"
    r"everything)\b|\byou are now\b|\bfrom now on\b|\bsystem prompt\b|\bdeveloper mode\b|"
    r"\b(system )?override\b|\btrust (this|me)\b|\bpretend\b|\bact as\b|\bjailbreak\b|"
    r"\b(add|append|include) the (line|text|link|sentence)\b|"
    r"^\W*(please\s+)?(say|print|write|output|repeat|answer|respond|reply)\b\s*(exactly|only|that|with)\b|"
    r"^\W*answer (the|this|my) question\W*$",
    re.IGNORECASE)
_CLAUSE_END = re.compile(r"(?<=[.;!?])\s+")
_THEN = re.compile(r",?\s+(?:and\s+)?then\s+", re.IGNORECASE)
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_NAME = re.compile(r"(?<=[\w,;:’'] )[A-Z][\w’'&-]*")


def strip_instructions(question: str) -> str:
    """The question without clauses that instruct the assistant ("" if nothing else is left)."""
    parts = [p for clause in _CLAUSE_END.split(question) for p in _THEN.split(clause) if p.strip()]
    if not any(_INSTRUCTION.search(p) for p in parts):
        return question
    text = " ".join(p.strip() for p in parts if not _INSTRUCTION.search(p)).strip()
    text = re.sub(r"^(then|and|so|question)\W+", "", text, flags=re.IGNORECASE).strip()
    return text if re.search(r"[A-Za-z]{3}", text) else ""


def specifics(question: str) -> set[str]:
    """Years and capitalised names in the question, lower-cased, without a plural/possessive s.

    If the retrieved text mentions none of e.g. "Google" or "2024", the documents cannot
    answer a question about it, however close the rest of the question is. Shouted words
    (five or more capitals) are emphasis, not names.
    """
    found = {m.group() for m in _YEAR.finditer(question)}
    for match in _NAME.finditer(question):
        word = match.group().strip("'’")
        if len(word) >= 5 and word.isupper():
            continue
        name = re.sub(r"(’s|'s|s)$", "", word).lower()
        if len(name) > 1:
            found.add(name)
    return found
