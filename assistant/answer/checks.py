"""General checks of a claim against the sentence cited for it, the same on every backend.

- `missing_specifics`: a number, date or name the claim states that the sentence (with its
  title and the sentence before) does not hold.
- `polarity_clash`: the claim affirms what the sentence negates or excludes ("water damage is
  covered" against "does not cover water damage"), or negates what it affirms.
- `differs`: two sentences on one point that disagree (other figures or names, or opposite
  polarity): an update or a disagreement, as opposed to two wordings of one fact.
- `repeats`: a sentence that says again what an earlier one said.
Each is a plain test over words; none knows a topic. Not here: the LLM's yes/no (`judge.py`).
"""

from __future__ import annotations

import re

from assistant.core.text import content_words, covers, names, numbers

# The words by which a sentence denies or excludes what follows them.
NEGATIONS = re.compile(r"\b(?:not|no|never|none|neither|nor|without|cannot|no longer|except|"
                       r"exclud\w*|\w+n['’]t)\b", re.IGNORECASE)
_EXCLUDES = re.compile(r"exclud\w*|except", re.IGNORECASE)  # "X is excluded": X is what is denied
SCOPE = 8  # words after a negation that it may govern, up to the clause's end
BEFORE = 3  # content words before an exclusion that it governs
HELD = 2 / 3  # share of a negation's object a claim must hold to be about it
REPEAT_SHARE = 0.8  # a sentence holding this share of an earlier one's words repeats it


def negations(text: str) -> list[set[str]]:
    """The object of each negation: the content words it governs, its first (the verb: "not
    *cover* water damage") left out when others follow; for an exclusion, the words before it
    ("water damage is excluded")."""
    found = []
    for match in NEGATIONS.finditer(text):
        if _EXCLUDES.fullmatch(match.group()):
            before = [w for t in text[:match.start()].split() for w in content_words(t)]
            found.append(set(before[-BEFORE:]))
            continue
        clause = re.split(r"[.;:!?]", text[match.end():], maxsplit=1)[0]
        after = [w for t in clause.split()[:SCOPE] for w in content_words(t)]
        found.append(set(after[1:] if len(after) > 1 else after))
    return [f for f in found if f]


def negated_words(text: str) -> set[str]:
    """Every content word some negation of the text governs."""
    return set().union(*negations(text)) if negations(text) else set()


def negates(text: str) -> bool:
    return bool(NEGATIONS.search(text))


def _about(words: set[str], objects: list[set[str]]) -> set[str]:
    """The negated objects the words hold (at least HELD of each)."""
    return {w for o in objects if len(o & words) >= HELD * len(o) for w in o & words}


def polarity_clash(claim: str, sentence: str, with_names: bool = True) -> bool:
    """The claim affirms what the sentence negates (it holds most of a negation's object), or
    negates what the sentence affirms. Without `with_names`, only its other words count: "can't
    run Quillmate 4.0" negates running, not the Quillmate a question about "Quillmate Classic"
    takes for granted."""
    point = content_words(claim) - (set() if with_names else names(claim, first_word=True))
    if negates(claim):
        denied = _about(content_words(sentence), negations(claim)) & point
        return bool(denied) and not negated_words(sentence) & point
    return bool(_about(point, negations(sentence)))


def missing_specifics(claim: str, sentence: str) -> list[str]:
    """Numbers and names of the claim that the sentence (in context) does not hold."""
    figures = sorted(numbers(claim) - numbers(sentence))
    people = sorted(names(claim, first_word=True) - names(sentence, first_word=True)
                    - {w for w in content_words(sentence)})
    return figures + people


SAME_POINT = 0.5  # least share of the shorter sentence's words the other holds (figures aside)


def same_point(a: str, b: str) -> bool:
    """Two sentences about one thing: the shorter one's words (figures aside) are mostly in the
    other ("Plus: $5 per month, billed annually" and "Plus rises from $5 to $6 per month when
    billed annually")."""
    wa = {w for w in content_words(a) if not w[0].isdigit()}
    wb = {w for w in content_words(b) if not w[0].isdigit()}
    small, large = sorted((wa, wb), key=len)
    return bool(small) and covers(small, large) >= SAME_POINT


def differs(a: str, b: str) -> bool:
    """Two sentences on one point that disagree: other figures, other names, or one negates what
    the other affirms. (Whether they are on one point is `same_point`'s to say.)"""
    fa, fb = numbers(a), numbers(b)
    if fa and fb and fa != fb:
        return True
    na, nb = names(a), names(b)
    if na and nb and not na & nb:
        return True
    return polarity_clash(a, b)


def repeats(sentence: str, earlier: list[str]) -> bool:
    words = content_words(sentence)
    return bool(words) and any(covers(words, content_words(e)) >= REPEAT_SHARE for e in earlier)
