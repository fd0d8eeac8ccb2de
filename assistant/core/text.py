"""Sentence spans and content words: the text primitives shared by chunking, evidence and checks.

Spans are (start, end) character offsets into the original string, so every sentence we
ever show is `text[start:end]` exactly. The splitter is a deliberate, predictable regex
(line breaks and sentence-final punctuation), not a statistical model. Not here: tokens
for the embedding model (see `embedding.py`).
"""

from __future__ import annotations

import re

import simplemma

Span = tuple[int, int]

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a likely
# sentence start; a line break always ends one.
_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9•])")
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "inc", "corp", "co", "ltd",
                  "vs", "etc", "e.g", "i.e", "u.s", "u.k", "no", "fig", "approx"}
_LEAD = " \t\r\f\v•*·-–—>"
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*|\d[\d,.]*%?")
_STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just
me more most my no nor not now of off on once only or other our out over own s same she
should so some such t than that the their them then there these they this those through to
too under until up very was we were what when where which while who whom why will with would
you your yours said says say new one two
behind beside besides among amongst around across along alongside amid within without upon onto
via per despite beyond near toward towards throughout inside outside since till unlike
""".split())  # the last two lines: the rest of the prepositions ("Which companies are behind ...?")


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start] in _LEAD + "\n":
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_abbreviation(text: str, dot: int) -> bool:
    word = re.search(r"([A-Za-z.]+)$", text[max(0, dot - 12) : dot])
    return bool(word) and word.group(1).lower().strip(".") in _ABBREVIATIONS  # type: ignore[union-attr]


WRAPPED = 50  # characters: a longer line ending without a stop, in a function word or before a
# lower-case word, was wrapped
_STOP = ".!?:;\"'”’)]"


def _lines(text: str) -> list[Span]:
    """Line spans, a hard-wrapped line joined to the one after it: a line of WRAPPED characters
    or more that ends without a stop goes on when it ends in a function word ("... shipped with
    Quillmate Classic, and the") or the next line opens with a lower-case word or a figure
    ("mobile apps ...", "$3,000")."""
    lines: list[Span] = []
    previous = ""
    for line in re.finditer(r"[^\n]+", text):
        last, nxt = previous.rstrip(), line.group().lstrip()
        previous = line.group()
        ends_open = last.rsplit(None, 1)[-1].lower() in _STOPWORDS if last else False
        if (lines and text[lines[-1][1]:line.start()] == "\n" and len(last) >= WRAPPED
                and last[-1] not in _STOP
                and (ends_open or nxt[:1].islower() or nxt[:1].isdigit() or nxt[:1] == "$")):
            lines[-1] = (lines[-1][0], line.end())
            continue
        lines.append((line.start(), line.end()))
    return lines


def sentence_spans(text: str, offset: int = 0) -> list[Span]:
    """Non-empty sentence spans of `text`, shifted by `offset`, in order. A line break ends a
    sentence, except after a hard-wrapped line (see `_lines`)."""
    spans: list[Span] = []
    for start, end in _lines(text):
        begin = start
        for end_mark in _END.finditer(text, start, end):
            cut = end_mark.end()
            if text[cut - 1] == "." and _is_abbreviation(text, cut - 1):
                continue
            spans.append(_trim(text, begin, cut))
            begin = cut
        spans.append(_trim(text, begin, end))
    return [(s + offset, e + offset) for s, e in spans if e > s and any(c.isalnum() for c in text[s:e])]


def words(text: str) -> list[str]:
    """Lower-cased words and numbers of `text`, with curly apostrophes made straight."""
    return [w.lower().replace("’", "'").rstrip(".,") for w in _WORD.findall(text)]


_SUFFIXES = ("ivity", "ively", "ations", "ation", "ments", "ment", "ive", "ing", "ies", "ed",
             "ly", "es", "s")


def stem(word: str) -> str:
    """The dictionary form ("wrote" -> "write"), then crude suffix stripping so that
    exclusive/exclusively/exclusivity compare equal. An "-ly" after a doubled consonant is no
    adverb's: "supply" stays whole (it had become "supp", which matched no "supplier")."""
    word = lemma(word)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            if suffix == "ly" and word[-3] == word[-4] and word[-3] not in "aeiou":
                continue
            return word[: -len(suffix)]
    return word


def lemma(word: str) -> str:
    """The dictionary form of a lower-cased word, irregular forms included ("wrote" -> "write",
    "bought" -> "buy"), from simplemma's English tables; the word itself when they lack it."""
    return simplemma.lemmatize(word, lang="en").lower() if word[:1].isalpha() else word


_POSSESSIVE = re.compile(r"['’]s?$")  # "Oracle's", "companies'"


def content_words(text: str) -> set[str]:
    """Stemmed words that carry meaning: no stopwords, no possessive ("Oracle's", "companies'")."""
    found = set()
    for word in words(text):
        word = _POSSESSIVE.sub("", word)
        if word in _STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        found.add(stem(word))
    return found


def content_forms(text: str) -> dict[str, str]:
    """Each content stem of `text` with the word it came from ("announc" -> "announcement"),
    for comparing meanings where stems differ. Words only: numbers have no synonyms."""
    found: dict[str, str] = {}
    for word in words(text):
        if word in _STOPWORDS or len(word) < 2 or not word[0].isalpha():
            continue
        word = _POSSESSIVE.sub("", word)
        found.setdefault(stem(word), word)
    return found


_SPELLED = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())} | {
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80",
    "ninety": "90", "hundred": "100"}


_SCALES = {"hundred": 100, "thousand": 1000}  # "million" and "billion" stay as written: "$1.2 million"
_SCALED = re.compile(r"\b(\d[\d,]*(?:\.\d+)?|[a-z]+)\s+(hundred|thousand)\b")


def numbers(text: str) -> set[str]:
    """Numbers stated in `text`, normalised ("$1,000" -> "1000", "7%" -> "7", "three" -> "3")."""
    found = set()
    for match in re.finditer(r"\d[\d,]*(?:\.\d+)?", text):
        value = match.group().replace(",", "").rstrip(".")
        found.add(value.lstrip("0") or "0")
    found |= {_SPELLED[p] for w in words(text) for p in w.split("-") if p in _SPELLED}  # "two-year"
    for count, scale in _SCALED.findall(text.lower()):  # "three thousand" is "3,000"
        value = _SPELLED.get(count) or count.replace(",", "")
        if value.replace(".", "", 1).isdigit():
            found -= {value, _SPELLED.get(scale, "")}
            found.add(f"{float(value) * _SCALES[scale]:.0f}")
    return found


def same_word(a: str, b: str) -> bool:
    """Stems that name the same thing: equal, or sharing their first five letters
    ("chair"/"chairman", "invest"/"investor")."""
    return a == b or (len(a) >= 5 and len(b) >= 5 and a[:5] == b[:5])


def covers(wanted: set[str] | frozenset[str], found: set[str]) -> float:
    """Share of the `wanted` stems that some stem in `found` matches (1.0 when none are wanted)."""
    if not wanted:
        return 1.0
    return sum(1 for w in wanted if w in found or any(same_word(w, f) for f in found)) / len(wanted)


_CAPITALISED = re.compile(r"[A-Z][\w’'&]*(?:[-.][A-Za-z][\w’'&]*)*")


def names(text: str, first_word: bool = False) -> set[str]:
    """Lower-cased capitalised words that name something ("OpenAI's" -> openai, "Oracle-Microsoft"
    -> oracle, microsoft): not the word opening the text or a sentence (a capital there says
    nothing), unless `first_word` and it is no stopword ("Microsoft, the largest ...")."""
    found: set[str] = set()
    for match in _CAPITALISED.finditer(text):
        before = text[:match.start()].rstrip(" \"'“‘(")
        opening = not before or before[-1] in ".!?:\n"
        word = _POSSESSIVE.sub("", match.group())
        if opening and not (first_word and word.lower() not in _STOPWORDS):
            continue
        for part in re.split(r"[-.]", word):
            part = part.strip("'’").lower()
            if len(part) > 1 and part[0].isalpha() and part not in _SPELLED:  # "Ten buildings"
                found.add(part)
    return found
