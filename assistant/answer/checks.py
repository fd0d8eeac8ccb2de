"""General checks of a claim against the sentence cited for it, the same on every backend.

- `missing_specifics`: a number or date the claim states that the sentence does not hold, or a
  name that neither it nor its context (its title and the sentence before) holds.
- `polarity_clash`: the claim affirms what the sentence negates or excludes ("water damage is
  covered" against "does not cover water damage"), or negates what it affirms; `negated_list`: an
  item of a list its lead-in negates ("does not cover:" above "- theft;"), and `excluded`, a
  claim about such an item.
- `differs`: two sentences on one point that disagree (other figures or names, or opposite
  polarity): an update or a disagreement, as opposed to two wordings of one fact.
- `misbound`: an action or role the claim binds to one name that the sentence binds to another
  ("fixed by Jonas Feld" or "Jonas Feld fixed" against "reported by Jonas Feld ... and fixed by
  the extensions team").
- `changed_from`: the claim states the value a sentence says changed ("from $5 to $6").
- `replaced`: the sentence states another date, amount or name where the claim states one it
  lacks (lacking it is not contradicting it).
- `repeats`: a sentence that says again what an earlier one said.
Each is a plain test over words; none knows a topic. Not here: the LLM's yes/no (`reader.py`, `claims.py`).
"""

from __future__ import annotations

import re

from assistant.core.dates import dates_in, lower_dates, without_dates
from assistant.core.text import content_words, covers, names, numbers, stem, stems

# The words by which a sentence denies or excludes what follows them. "No more than five
# days" and "not later than 1 May" bound a quantity; they deny nothing.
NEGATIONS = re.compile(r"\b(?:no longer|not|no|never|none|neither|nor|without|cannot|except|"
                       r"exclud\w*|\w+n['’]t)\b(?!\s+(?:(?:more|less|\w+er)\s+)?than\b)", re.IGNORECASE)
SCOPE = 8  # words after a negation that it may govern, up to the clause's end
BEFORE = 3  # content words before an exclusion that it governs
HELD = 0.5  # share of what a negation governs that a claim must hold to be about it
_CLAUSE_END = re.compile(r"[.;:!?]|,?\s+but\b")
_LIST_JOIN = re.compile(r",\s*(?:(?:or|and|nor)\s+)?|\s+(?:or|and|nor)\s+")  # between a list's items
REPEAT_SHARE = 0.8  # a sentence holding this share of an earlier one's words repeats it


def _denied(text: str, lists: bool = True) -> list[list[set[str]]]:
    """Each negation's object: the content words it governs, to the end of its clause ("not
    refunded, but you can cancel" governs refunded), or for an exclusion the words before it
    ("water damage is excluded"); as groups, one word each, but (with `lists`) the items of a
    list it governs ("not to the Free, Plus or Pro plans") one group of alternatives."""
    found = []
    for match in NEGATIONS.finditer(text):
        if match.group().lower().startswith(("exclud", "except")):  # "X is excluded": X is denied
            before = [w for t in text[:match.start()].split() for w in content_words(t)]
            found.append([{w} for w in dict.fromkeys(before[-BEFORE:])])
            continue
        clause = _CLAUSE_END.split(text[match.end():], maxsplit=1)[0]
        scope = " ".join(clause.split()[:SCOPE])
        found.append(_grouped(scope) if lists else _singles(scope))
    return [f for f in found if f]


def _grouped(clause: str) -> list[set[str]]:
    """The clause's content words, one group each, but a list's items ("Free, Plus or Pro": the
    word before each comma or joining word and the one after the last) one group."""
    parts = _LIST_JOIN.split(clause)
    if len(parts) < 3 and not (len(parts) == 2 and "," not in clause):
        return _singles(clause)
    first, *middle, last = [p.split() for p in parts]
    items = [first[-1:], *middle, last[:1]]
    if not all(items) or any(len(i) > 2 for i in middle):
        return _singles(clause)
    alternatives = {w for i in items for w in content_words(" ".join(i))}
    rest = content_words(" ".join(first[:-1] + last[1:])) - alternatives
    return [{w} for w in rest] + ([alternatives] if alternatives else [])


def _singles(text: str) -> list[set[str]]:
    return [{w} for w in content_words(text)]


def negated_words(text: str) -> set[str]:
    """Every content word some negation of the text governs."""
    return {w for groups in _denied(text) for group in groups for w in group}


def negates(text: str) -> bool:
    return bool(NEGATIONS.search(text))


def _about(words: set[str], objects: list[list[set[str]]]) -> set[str]:
    """The words of each negated object the words are about: they hold at least HELD of its
    groups, and one of a list's items when it names a list ("not for Free or Plus" says nothing
    of Pro)."""
    about = set()
    for groups in objects:
        held = [g & words for g in groups]
        listed = [h for g, h in zip(groups, held, strict=True) if len(g) > 1]
        if sum(map(bool, held)) >= HELD * len(groups) and all(listed):
            about |= set().union(*held)
    return about


def polarity_clash(claim: str, sentence: str, with_names: bool = True, lists: bool = True) -> bool:
    """The claim affirms what the sentence negates (it holds most of a negation's object), or
    negates what the sentence affirms. Without `with_names`, only its other words count: "can't
    run Quillmate 4.0" negates running, not the Quillmate a question about "Quillmate Classic"
    takes for granted. A list the negation governs denies only its items; without `lists`, its
    items are words like the others (for two sentences `same_point` already found on one point)."""
    point = content_words(claim) - (set() if with_names else stems(names(claim, first_word=True)))
    if negates(claim):
        denied = _about(content_words(sentence), _denied(claim, lists)) & point
        return bool(denied) and not negated_words(sentence) & point
    return bool(_about(point, _denied(sentence, lists)))


LEAD_WORDS = 3  # a list's lead-in negates its items when a negation is among its last words


def negated_list(item: str, under: str) -> bool:
    """An item of a list whose lead-in (`under`) negates it: "This warranty does not cover:"
    above "- theft, and damage caused by an attempted theft;". The negation stands just before
    the colon ("If you cannot reach your dealer:" negates nothing of what follows); the item
    states what is not so, without a negation of its own. Known limits: an idiom ("Don't
    forget:") reads as a negation; one further from the colon ("Not covered by this
    warranty:") is missed."""
    last = " ".join(under.rstrip(" *_:").split()[-LEAD_WORDS:])
    return bool(under) and negates(last) and not negates(item)


def excluded(claim: str, item: str, under: str, title: str = "") -> bool:
    """The claim (or question) is about an item its list negates: the item holds at least HELD
    of the claim's words that its lead-in and title do not ("Is theft covered?" is about "theft,
    ...;", "Is the battery covered?" is not, though the lead-in says "cover")."""
    own = content_words(claim) - content_words(f"{under} {title}")
    return negated_list(item, under) and covers(own, content_words(item)) >= HELD


def missing_specifics(claim: str, sentence: str, context: str = "") -> list[str]:
    """Numbers of the claim that the sentence does not hold, and names that it does not hold
    with its `context` (its title and the sentence before say what "it" is, not what it costs)."""
    figures = sorted(numbers(claim) - numbers(sentence))
    around = f"{context} {sentence}"
    held = content_words(around)
    people = sorted(n for n in names(claim, first_word=True) - names(around, first_word=True)
                    if stem(n) not in held)
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
    the other affirms. (Whether they are on one point is `same_point`'s to say, so a list one of
    them negates need not name an item of the other.)"""
    fa, fb = numbers(a), numbers(b)
    if fa and fb and fa != fb:
        return True
    na, nb = names(a), names(b)
    if na and nb and not na & nb:
        return True
    return polarity_clash(a, b, lists=False)


def _figures(text: str) -> tuple[set[str], set[str]]:
    """The text's dates and its other figures (amounts, counts), apart."""
    return {d.iso() for d, _, _ in dates_in(text)}, numbers(without_dates(text))


def replaced(claim: str, sentence: str) -> bool:
    """The sentence states another figure, date or name where the claim states one it lacks
    ("costs $50" for "costs $40"), as opposed to lacking it ("carried 1.42 million passengers
    last year" for "... in 2023": no other year is in its place)."""
    (dates_c, amounts_c), (dates_s, amounts_s) = _figures(claim), _figures(sentence)
    if (dates_c - dates_s and dates_s - dates_c) or (amounts_c - amounts_s and amounts_s - amounts_c):
        return True
    nc, ns = names(claim), names(sentence)
    return bool(nc and ns and not nc & ns)


BOUND = 4  # tokens before a name that bind an action or role to it ("was fixed by", "CEO")
_TOKENS = re.compile(r"[\w’'$.,%-]+")
_CHANGE = re.compile(r"\bfrom\b(.{1,40}?)\bto\b", re.IGNORECASE)  # "from $5 to $6", "moves from June to May"


# Where one clause ends and another begins inside a sentence: "; ", ", and ", " but ", " while "
# (not a bare "and": "Pro and Team subscribers can call" is one clause).
CLAUSE_JOIN = re.compile(r"\s*(?:;|,\s+and|,?\s+(?:but|while|whereas))\s+", re.IGNORECASE)


def _named(text: str) -> tuple[list[str], list[str]]:
    """The text's tokens and, for each, the name it is ("" if none; dates are no names)."""
    text = lower_dates(text)
    tokens = _TOKENS.findall(text)
    people = names(text, first_word=True)
    return tokens, [n if (n := next(iter(names(f"x {t}")), "")) in people else "" for t in tokens]


def _binders(text: str, after: bool) -> dict[str, set[str]]:
    """Each name of the text and the content words, names aside, bound to it: in the BOUND
    tokens before it ("fixed by Feld", "chief executive Marsh") or, `after`, as the subject of
    its clause, in the BOUND tokens after it up to the next name ("the Harbour Trust will pay
    for and install", "Feld fixed")."""
    found: dict[str, set[str]] = {}
    for clause in CLAUSE_JOIN.split(text):
        tokens, named = _named(clause)
        people = stems(set(named) - {""})
        for i, name in enumerate(named):
            if not name:
                continue
            if after:
                end = next((j for j in range(i + 1, len(named)) if named[j]), len(named))
                window = tokens[i + 1:min(end, i + 1 + BOUND)]
            else:
                window = tokens[max(0, i - BOUND):i]
            found.setdefault(name, set()).update(content_words(" ".join(window)) - people)
    return found


def _in_clause(sentence: str, before_only: bool) -> dict[str, set[str]]:
    """Each name and every content word of its own clause (`before_only`: before it): what the
    sentence may bind to it, however far ("requires Windows 10, macOS 12 or iOS 16" binds
    "requires" to iOS too; "Ortiz is the chief executive" may be "chief executive Ortiz")."""
    found: dict[str, set[str]] = {}
    for clause in CLAUSE_JOIN.split(sentence):
        tokens, named = _named(clause)
        for i, name in enumerate(named):
            if name:
                found.setdefault(name, set()).update(
                    content_words(" ".join(tokens[:i]) if before_only else clause))
    return found


def misbound(claim: str, sentence: str) -> list[str]:
    """Names the claim binds words to ("fixed by Feld", "Feld fixed") that the sentence binds to
    another of its names, and not to this one in the clause that holds it (before it, for
    words the claim puts before it), while the claim does not bind them to that other name too:
    each as "name: words"."""
    before, after_it = _binders(sentence, False), _binders(sentence, True)
    # "was fixed by the team" binds "fixed" to the team as "the team fixed" does
    either = {n: before.get(n, set()) | after_it.get(n, set()) for n in before.keys() | after_it.keys()}
    wrong: set[str] = set()
    for after, said in ((False, before), (True, either)):
        bound, allowed = _binders(claim, after), _in_clause(sentence, before_only=not after)
        for name, words in bound.items():
            if name not in said or not words:
                continue
            elsewhere = {w for other, theirs in said.items() if other != name
                         for w in theirs - bound.get(other, set())}
            moved = (words - allowed.get(name, set())) & elsewhere
            if moved:
                wrong.add(f"{name}: {', '.join(sorted(moved))}")
    return sorted(wrong)


def changed_from(claim: str, sentence: str) -> bool:
    """The sentence says a value changed ("from December 31, 2024 to June 30, 2025") and the claim
    states the old one and not the new one."""
    claimed = numbers(claim)
    for match in _CHANGE.finditer(sentence):
        old = numbers(match.group(1))
        new = numbers(sentence[match.end():match.end() + 40]) - old
        if old and old <= claimed and not new & claimed:
            return True
    return False


def repeats(sentence: str, earlier: list[str]) -> bool:
    """The sentence says nothing the earlier ones do not: most of its words, and every figure."""
    words, figures = content_words(sentence), numbers(sentence)
    return bool(words) and any(covers(words, content_words(e)) >= REPEAT_SHARE
                               and figures <= numbers(e) for e in earlier)
