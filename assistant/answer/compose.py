"""The answer's wording: the decision's sentences quoted and cited, an update with both dates,
a corrected premise, or a refusal. Every sentence of an answer is a verbatim quote of a
document (on one line: a file's hard wraps are not kept), numbered in the order the answer
cites it; nothing here is generated, so no answer can state what its quote does not.
Not here: choosing what to say (`decide.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.answer.decide import Decision
from assistant.answer.evidence import Evidence
from assistant.core import prompts
from assistant.core.dates import parse_date
from assistant.core.models import Citation, Conflict
from assistant.core.text import one_line


@dataclass
class Citer:
    """Numbers citations 1, 2, ... in the order the answer first cites each sentence."""

    citations: list[Citation] = field(default_factory=list)

    def cite(self, e: Evidence, score: float) -> int:
        for c in self.citations:
            if (c.doc_id, c.start, c.end) == (e.doc_id, e.start, e.end):
                return c.number
        self.citations.append(citation(e, len(self.citations) + 1, score))
        return len(self.citations)


def citation(e: Evidence, number: int, score: float) -> Citation:
    return Citation(number, e.doc_id, e.title, e.source, e.text, e.start, e.end, round(score, 4),
                    e.published or None)


def with_marker(sentence: str, n: int) -> str:
    """"The plant will employ 400 people [1]." — the marker before the closing stop, on one line
    (the citation keeps the verbatim span)."""
    body = one_line(sentence)
    stop = body[-1] if body and body[-1] in ".!?" else "."
    body = body[:-1].rstrip() if body and body[-1] in ".!?" else body
    return f"{body} [{n}]{stop}"


def dated(e: Evidence) -> str:
    date = parse_date(e.published)
    return f"“{e.title}” ({date.human() if date else 'undated'})"


def compose(decision: Decision, citer: Citer, point: str) -> tuple[str, list[Conflict]]:
    """The answer text and the conflicts it reports (`point`: what was asked)."""
    match decision.action:
        case "refuse":
            if decision.unknown:
                return prompts.REFUSAL_UNKNOWN_NAME.format(names=", ".join(decision.unknown)), []
            return prompts.REFUSAL, []
        case "correct":
            e = decision.chosen[0]
            return prompts.CORRECTION.format(quote=with_marker(e.text, citer.cite(e, e.relevance))), []
    first, *rest = decision.chosen
    if decision.update and rest:
        older = rest[0]
        new_n, old_n = citer.cite(first, first.relevance), citer.cite(older, older.relevance)
        text = prompts.UPDATE.format(newer=dated(first), quote=with_marker(first.text, new_n),
                                     older=dated(older), old_quote=one_line(older.text), old_n=old_n)
        sides = {c.number: c for c in citer.citations}
        return text, [Conflict(point, (sides[new_n], sides[old_n]), newer=0)]
    if decision.disagree and rest:
        a, b = citer.cite(first, first.relevance), citer.cite(rest[0], rest[0].relevance)
        text = prompts.DISAGREE.format(first=with_marker(first.text, a), title=first.title,
                                       second=with_marker(rest[0].text, b), other=rest[0].title)
        sides = {c.number: c for c in citer.citations}
        return text, [Conflict(point, (sides[a], sides[b]))]
    sentences = [with_marker(e.text, citer.cite(e, e.relevance)) for e in decision.chosen]
    text = " ".join(sentences)
    return (prompts.NO_LEAD + text if decision.no else text), []
