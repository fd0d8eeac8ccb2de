"""The decision, in one place: answer, answer and correct the premise, or refuse.

Every threshold of the answer path is here. A candidate may answer when it holds the kind of
answer asked for (for "who", a name neither the question nor, in a follow-up, the last turn
gave); in a follow-up, one that says the last answer again only when no other may
(`said_again`). Its score is its relevance, plus the LLM reader's P(yes) where the reader read
it (for a yes/no or "why" question, the best P(yes) of those read: the reader reads a denial lower than an
affirmation, so it says whether the documents answer and relevance which sentence does), less a
penalty for the question's names it lacks (the reader sees what "the project" is, but not that
another company's project is not this one; relevance counts a name as one word of many); the
best candidate answers when its score clears the backend's bar, and a second one joins it when
it is nearly as good and says something the first does not. When the chosen sentences come from
documents of different dates and disagree, the newest leads (an update); two that answer
together are quoted newest first too, so the newer of two holders of a role is not read as the
afterthought. A wh-question whose
answer negates what the question takes for granted gets its premise corrected; a yes/no question
whose answer negates it, or is an item of a list its lead-in negates ("This warranty does not
cover:"), gets "No". A plain answer quotes its sentence with the one before it
when that one holds more of the question's words (the passage the reader read). Not here:
wording (`compose.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from assistant.answer.checks import differs, excluded, negates, polarity_clash, repeats, same_point
from assistant.answer.evidence import Evidence
from assistant.answer.question import Question, holds_kind
from assistant.core.text import content_words, covers

ANSWER_AT = {"llm": 0.85, "rules": 0.42}  # least score of an answer: reading + relevance / relevance
SECOND_WITHIN = {"llm": 0.08, "rules": 0.03}  # a second sentence scores at most this below the first
RIVAL_BELOW = {"llm": 0.10, "rules": 0.0}  # another document's sentence on the same point that
# says otherwise counts this far below the bar
READ_YES = 0.5  # with the reader, a second or rival sentence must be read as answering too
NAME_PENALTY = {"llm": 0.3, "rules": 0.1}  # what a candidate holding none of the question's names loses

Action = Literal["answer", "correct", "refuse"]


@dataclass(frozen=True)
class Decision:
    action: Action
    chosen: tuple[Evidence, ...] = ()  # newest first when `update`
    reason: str = ""
    unknown: tuple[str, ...] = ()  # names asked about that no retrieved text mentions
    update: bool = False  # the chosen sentences disagree across documents of different dates
    disagree: bool = False  # ... across documents of one date, or undated
    no: bool = False  # a yes/no question the answer denies
    scores: dict[str, float] = field(default_factory=dict)


def name_share(question: Question, e: Evidence) -> float:
    """Share of the question's names its title, source, publisher, context or itself holds."""
    if not question.names:
        return 1.0
    said = f"{e.title} {e.source} {e.about} {e.in_context}".lower()
    return sum(1 for n in question.names if n in said) / len(question.names)


def score(e: Evidence, question: Question | None = None) -> float:
    """Relevance plus the reader's P(yes), less NAME_PENALTY for the question's names it lacks."""
    missing = 1.0 - name_share(question, e) if question is not None else 0.0
    penalty = NAME_PENALTY["llm" if e.reading is not None else "rules"]
    return e.relevance + (e.reading or 0.0) - penalty * missing


def eligible(question: Question, e: Evidence, given: frozenset[str] = frozenset()) -> bool:
    """It holds the kind of answer asked for (it or, quoted with it, the sentence before); a
    name the last turn gave (`given`) is no answer to "who". Only these can answer, so only
    these are worth the reader's time."""
    asked = replace(question, names=question.names | given) if given else question
    return holds_kind(asked, e.text, e.around) or bool(e.lead and holds_kind(asked, e.lead))


def said_again(question: Question, e: Evidence, last: tuple[str, str]) -> bool:
    """For a follow-up that asks for no kind of value ("What did she do before that?"), the
    candidate repeats the last answer (`last`: the last question and answer) and holds none of
    the words the question adds to the last one: it answers the last question, not this one
    ("How many of them are in Belgium?" may be answered from the sentence quoted before)."""
    return bool(last[1]) and question.kind in ("other", "reason") and repeats(e.text, [last[1]]) \
        and not (question.words - content_words(last[0])) & content_words(e.in_context)


def decide(question: Question, evidence: list[Evidence], unknown: list[str], judged: bool,
           given: frozenset[str] = frozenset(), last: tuple[str, str] = ("", "")) -> Decision:
    """`judged`: the LLM reader read the candidates (its bar applies). `given`: the names a
    follow-up's last turn gave, which answer "who" no more than the question's own ("Who
    replaced her?" asks for a name other than hers). `last`: that turn's question and answer:
    a candidate that says it again gives way to any other that may answer (`said_again`)."""
    if unknown:
        return Decision("refuse", reason="the question names what no retrieved text mentions",
                        unknown=tuple(unknown))
    mode = "llm" if judged else "rules"
    bar = ANSWER_AT[mode]
    scored, noted = _scorer(question, evidence)
    asked = replace(question, names=question.names | given)
    ranked = sorted((_answering(asked, e) for e in evidence if eligible(asked, e)),
                    key=scored, reverse=True)
    fresh = [e for e in ranked if not said_again(question, e, last)]
    if fresh and len(fresh) < len(ranked):  # what the last answer said answers only if nothing else
        again = ", ".join(str(e.number) for e in ranked if e not in fresh)
        noted += f"; sentence {again} said the last answer again and gave way"
        ranked = fresh
    scores = {str(e.number): round(scored(e), 3) for e in ranked}
    if not ranked or scored(ranked[0]) < bar:
        top = f"{scored(ranked[0]):.2f}" if ranked else "none"
        return Decision("refuse", reason=f"no candidate scores {bar} (best: {top}){noted}",
                        scores=scores)
    chosen, update, apart = _choose(ranked, scored, mode, judged)
    why = f"sentence {ranked[0].number} scores {scored(ranked[0]):.2f} >= {bar}{noted}"
    denial = _premise_denied(question, chosen)
    if denial is not None:  # "Why did X leave?" - "X is not leaving"
        return Decision("correct", (denial,), "the answer negates what the question takes as "
                        f"given{noted}", scores=scores)
    no = question.kind == "yesno" and not negates(question.text) and (
        polarity_clash(question.text, chosen[0].text)
        or excluded(question.text, chosen[0].text, chosen[0].under, chosen[0].title))
    if not (update or apart or no):  # a plain answer: the passage the reader read
        chosen = _with_lead(question, chosen)
    return Decision("answer", tuple(chosen), why, update=update, disagree=apart, no=no,
                    scores=scores)


def _scorer(question: Question, evidence: list[Evidence]) -> tuple[Callable[[Evidence], float], str]:
    """Each candidate's score, and what the trace says of levelling. Asked whether a sentence
    answers a yes/no or a "why" question, the reader rates a denial ("Reward seats do not earn
    tier points", "Fairlie is not leaving the airline") below an affirmation on the same topic:
    its best reading says whether the documents answer, and relevance which read sentence does."""
    top_reading = max((e.reading for e in evidence if e.reading is not None), default=None)
    if question.kind not in ("yesno", "reason") or top_reading is None:
        return (lambda e: score(e, question)), ""
    return ((lambda e: score(replace(e, reading=top_reading) if e.reading is not None else e,
                             question)),
            f"; every read sentence takes the best reading, {top_reading:.2f}")


def _answering(question: Question, e: Evidence) -> Evidence:
    """What an eligible candidate quotes: itself when it holds the kind of answer asked for;
    else (the answer stands in the sentence before it) the two together when it adds some of
    the question's words ("... allowed OpenAI to sign a deal with Oracle. This move marked the
    beginning of a new chapter." for "When did the new chapter start?"), or the sentence before
    alone when it holds some and the other adds none ("Acme now says the plant will employ 520
    people. Maria Lopez runs the plant." for "How many people will the plant employ?": the second
    is not asked about; "Who replaced him?" holds no word of either, so both are quoted)."""
    if not e.lead or holds_kind(question, e.text, e.around):
        return e
    widened = e.widened()
    held = covers(question.words, content_words(e.lead))
    if 0 < held >= covers(question.words, content_words(widened.text)):
        return _before(widened)
    return widened


def _choose(ranked: list[Evidence], scored: Callable[[Evidence], float], mode: str,
            judged: bool) -> tuple[list[Evidence], bool, bool]:
    """The best candidate, with another document's rival on its point that says otherwise, or
    else a second one nearly as good that adds to it (newest first when dated apart); and whether
    the two are an update (a rival dated apart) or a disagreement."""
    bar, best = ANSWER_AT[mode], ranked[0]
    agreed = [e for e in ranked[1:] if not judged or (e.reading or 0.0) >= READ_YES]
    rival = next((e for e in agreed if scored(e) >= bar - RIVAL_BELOW[mode] and e.doc_id != best.doc_id
                  and _one_point(best, e) and differs(_point(best), _point(e))), None)
    second = next((e for e in agreed if scored(e) >= max(bar, scored(best) - SECOND_WITHIN[mode])
                   and not repeats(e.text, [best.text])), None)
    chosen = [best, rival] if rival else [best, second] if second else [best]
    dated = len(chosen) == 2 and _dated_apart(*chosen)
    if dated:
        chosen.sort(key=lambda e: e.published, reverse=True)
    update = rival is not None and dated
    return chosen, update, rival is not None and not update


def _one_point(a: Evidence, b: Evidence) -> bool:
    """`same_point`, a labelled value read with its heading: "Weight: 23.5 kg" under "Veloria
    Stad 7" and "Weight: 25.9 kg" under "Veloria Terra X" are two products' weights, not one
    point the documents disagree on."""
    if a.heading and b.heading:  # one thing when one names all the other does, figures too
        small, large = sorted((content_words(a.heading), content_words(b.heading)), key=len)
        if covers(small, large) < 1.0:
            return False
    return same_point(_point(a), _point(b))


def _point(e: Evidence) -> str:
    """What a sentence says, a labelled value with the heading it stands under."""
    return f"{e.heading} {e.text}" if e.heading else e.text


def _with_lead(question: Question, chosen: list[Evidence]) -> list[Evidence]:
    """Each chosen sentence quoted with the one before it (same paragraph) when that one holds
    more of the question's words: the reader read them together, and the answer may stand
    there ("... will not return in 2025. The route carried fewer passengers ...") or say what
    "it" is ("Twelve of our aircraft are Aerion AT-76s. It seats 76 passengers"). A chosen
    sentence a widened quote holds goes; a widened quote overlapping one kept adds only its
    sentences not said yet.
    Only for a plain answer, after the decision: what is decided (a premise denied, a "No", an
    update) is decided on the chosen sentences alone, and an update quotes the values that
    changed."""
    widened = [e.widened() if e.lead and covers(question.words, content_words(e.context))
               > covers(question.words, content_words(e.text)) else e for e in chosen]
    grown = [w for w, e in zip(widened, chosen, strict=True) if w is not e]
    kept: list[Evidence] = []
    for w, e in zip(widened, chosen, strict=True):
        if any(g is not w and g.doc_id == w.doc_id and g.start <= w.start and w.end <= g.end
               for g in grown):
            continue
        if not any(_overlap(w, k) for k in kept):
            kept.append(w)
        elif w is not e:  # a widened quote overlapping one kept says only what is not said yet
            kept += [p for p in (_before(w), e) if not any(_overlap(p, k) for k in kept)]
    return kept


def _before(widened: Evidence) -> Evidence:
    """The sentence a widened quote begins with, alone."""
    text = widened.text[:widened.joined].rstrip()
    return replace(widened, text=text, end=widened.start + len(text), joined=0)


def _overlap(a: Evidence, b: Evidence) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end and bool(a.joined or b.joined)


def _premise_denied(question: Question, chosen: list[Evidence]) -> Evidence | None:
    """A chosen sentence that negates what a wh-question takes as given."""
    if negates(question.text) or question.kind in ("yesno", "other"):
        return None
    return next((e for e in chosen if polarity_clash(question.text, e.text, with_names=False)), None)


def _dated_apart(a: Evidence, b: Evidence) -> bool:
    return bool(a.published and b.published and a.published != b.published and a.doc_id != b.doc_id)
