"""The answer's wording: the decision's sentences quoted and cited, an update with both dates,
a corrected premise, or a refusal. Every sentence of an answer is a verbatim quote of a
document (on one line: a file's hard wraps are not kept), numbered in the order the answer
cites it; nothing here is generated, so no answer can state what its quote does not.
Not here: choosing what to say (`decide.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from assistant.answer.checks import negated_list
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
    if body.endswith(":"):  # a list's lead-in: its item follows
        return f"{body} [{n}]"
    stop = body[-1] if body and body[-1] in ".!?" else "."
    body = body[:-1].rstrip() if body and body[-1] in ".!?" else body
    return f"{body} [{n}]{stop}"


def quoted(e: Evidence, citer: Citer) -> tuple[str, int]:
    """The quote with each of its sentences cited on its own (a sentence quoted with the one
    before it, `Evidence.widened`, is two sentences, two exact spans, two citations), and the
    number of its last: the sentence chosen."""
    parts = [e]
    if e.joined:
        before = e.text[:e.joined].rstrip()
        parts = [replace(e, text=before, end=e.start + len(before)),
                 replace(e, text=e.text[e.joined:], start=e.start + e.joined)]
    numbers = [citer.cite(p, e.relevance) for p in parts]
    return " ".join(with_marker(p.text, n) for p, n in zip(parts, numbers, strict=True)), numbers[-1]


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
            return prompts.CORRECTION.format(quote=labelled_quote(e, citer)[0]), []
    first, *rest = decision.chosen
    if decision.update and rest:
        older = rest[0]
        quote, new_n = labelled_quote(first, citer)
        old_n = citer.cite(older, older.relevance)
        text = prompts.UPDATE.format(newer=dated(first), quote=quote,
                                     older=dated(older), old_quote=one_line(older.text), old_n=old_n)
        sides = {c.number: c for c in citer.citations}
        return text, [Conflict(point, (sides[new_n], sides[old_n]), newer=0)]
    if decision.disagree and rest:
        (first_quote, a), (second_quote, b) = labelled_quote(first, citer), labelled_quote(rest[0], citer)
        text = prompts.DISAGREE.format(first=first_quote, title=first.title,
                                       second=second_quote, other=rest[0].title)
        sides = {c.number: c for c in citer.citations}
        return text, [Conflict(point, (sides[a], sides[b]))]
    # an item of a list its lead-in negates ("This warranty does not cover:") is quoted after it
    quotes = [q for e in decision.chosen
              for q in ([_lead_in(e), e] if negated_list(e.text, e.under) else [e])]
    text = " ".join(labelled_quote(e, citer)[0] for e in dict.fromkeys(quotes))
    return (prompts.NO_LEAD + text if decision.no else text), []


def _lead_in(item: Evidence) -> Evidence:
    """The sentence that introduces the list `item` is in, as evidence of its own."""
    return _span(item, item.under, item.under_start)


def _span(e: Evidence, text: str, start: int) -> Evidence:
    """Another span of `e`'s document (a list's lead-in, a value's heading) as evidence of its own."""
    return replace(e, text=text, start=start, end=start + len(text), context="", lead="", joined=0,
                   under="", heading="")


def labelled_quote(e: Evidence, citer: Citer) -> tuple[str, int]:
    """`quoted`, a labelled value after the heading it stands under, both cited ("Veloria Stad 7
    [1]: Weight: 23.5 kg [2]."): "Weight: 23.5 kg" alone does not say whose weight it is. A
    heading the answer has already given is not given again."""
    if not e.heading:
        return quoted(e, citer)
    span = (e.doc_id, e.heading_start, e.heading_start + len(e.heading))
    if any((c.doc_id, c.start, c.end) == span for c in citer.citations):
        return quoted(e, citer)
    n = citer.cite(_span(e, e.heading, e.heading_start), e.relevance)
    quote, last = quoted(e, citer)
    return f"{one_line(e.heading).rstrip(':')} [{n}]: {quote}", last
