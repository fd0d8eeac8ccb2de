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
SCOPE = 5  # words after a negation that it governs
REPEAT_SHARE = 0.8  # a sentence holding this share of an earlier one's words repeats it


def negated_words(text: str) -> set[str]:
    """Content words within SCOPE words after a negation ("does not cover water damage" ->
    cover, water, damage)."""
    found: set[str] = set()
    for match in NEGATIONS.finditer(text):
        found |= content_words(" ".join(text[match.end():].split()[:SCOPE]))
    return found


def negates(text: str) -> bool:
    return bool(NEGATIONS.search(text))


def polarity_clash(claim: str, sentence: str) -> bool:
    """The claim affirms a word the sentence negates, or negates one the sentence affirms.
    Names do not count: "can't run Quillmate 4.0" negates running, not Quillmate."""
    said = content_words(sentence)
    point = content_words(claim) - names(claim, first_word=True)
    if negates(claim):
        denied = negated_words(claim) & said & point
        return bool(denied) and not denied & negated_words(sentence)
    return bool(negated_words(sentence) & point)


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
