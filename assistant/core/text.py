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
    """Whether the letters and dots just before `dot` ("e.g", "Inc") are a known abbreviation."""
    start = dot
    while start > max(0, dot - 12) and (text[start - 1] == "." or text[start - 1].isascii()
                                         and text[start - 1].isalpha()):
        start -= 1
    return text[start:dot].lower().strip(".") in _ABBREVIATIONS


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
    start = 0
    for line in text.split("\n"):
        begin, start = start, start + len(line) + 1
        if not line:
            continue
        last, nxt = previous.rstrip(), line.lstrip()
        previous = line
        ends_open = last.rsplit(None, 1)[-1].lower() in _STOPWORDS if last else False
        if (lines and lines[-1][1] == begin - 1 and len(last) >= WRAPPED
                and last[-1] not in _STOP
                and (ends_open or nxt[:1].islower() or nxt[:1].isdigit() or nxt[:1] == "$")):
            lines[-1] = (lines[-1][0], begin + len(line))
            continue
        lines.append((begin, begin + len(line)))
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


def one_line(text: str) -> str:
    """The text with each run of white space one space: a line break inside a sentence is where
    its file was wrapped (plain text, Markdown, PDF), not part of what it says."""
    return " ".join(text.split())


def is_unicode(text: str) -> bool:
    """False for a str holding an unpaired surrogate ("\\udcff" from undecodable bytes, as a
    file name or argv read with surrogateescape), which no tokenizer, store or JSON encoder
    accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def words(text: str) -> list[str]:
    """Lower-cased words and numbers of `text`, with curly apostrophes made straight."""
    return [w.lower().replace("’", "'").rstrip(".,") for w in _WORD.findall(text)]


def stem(word: str) -> str:
    """The form words are compared in: the dictionary form of a lower-cased word, irregular forms
    included ("wrote" -> "write", "exclusions" -> "exclusion"), from simplemma's English tables;
    the word itself when they lack it. Derived words stay apart ("exclusive", "exclusivity"):
    `same_word` joins those that share their first five letters."""
    return simplemma.lemmatize(word, lang="en").lower() if word[:1].isalpha() else word


def stems(words: set[str] | frozenset[str]) -> set[str]:
    """The stems of lower-cased words (names, say), to compare them with `content_words`."""
    return {stem(w) for w in words}


# A possessive or a pronoun's contraction at a word's end: "Oracle's", "companies'", "I'm",
# "we've", "they'll" ("can't" keeps its negation).
_CLITIC = re.compile(r"['’](?:s|m|re|ve|d|ll)?$")


def content_words(text: str) -> set[str]:
    """Stemmed words that carry meaning: no stopwords, no possessive or contraction ("Oracle's",
    "companies'", "I'm"); a figure as its value, however written ("$3,000" and "three thousand"
    are both "3000"), so a paraphrase that spells a number holds the sentence's figure."""
    found = set()
    text_words = [_CLITIC.sub("", w) for w in words(text)]
    for i, word in enumerate(text_words):
        if (word in _STOPWORDS or (len(word) < 2 and not word.isdigit()) or _number(word)
                or _halves(text_words, i)):
            continue
        found.add(stem(word))
    # "one" and "two" stay small words ("one of the plans"), but not in "two thousand", "one and
    # a half"
    return found | _figures([w for i, w in enumerate(text_words)
                             if not (w in _STOPWORDS and _number(w) and not _grows(text_words[i + 1:]))])


def _grows(after: list[str]) -> bool:
    """What follows a number makes it larger: a scale ("thousand") or "and a half"."""
    return _NUMBER_WORDS.get(after[0] if after else "", 0) >= 100 or after[:3] == ["and", "a", "half"]


# Number words and their values; "hundred" and "thousand" also scale the number before them.
# "million" and "billion" stay as written: "$1.2 million".
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())} | {
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "thousand": 1000}


def _number(word: str) -> str:
    """The number a word states, normalised ("1,000" -> "1000", "7%" -> "7", "three" -> "3"), or ""."""
    if word[:1].isdigit():
        return word.rstrip("%").replace(",", "").rstrip(".").lstrip("0") or "0"
    return str(_NUMBER_WORDS[word]) if word in _NUMBER_WORDS else ""


def numbers(text: str) -> set[str]:
    """Numbers stated in `text`, normalised ("$1,000" -> "1000", "two-year" -> "2", "three
    thousand" -> "3000", "four and a half" -> "4.5")."""
    return _figures(words(text))


def _figures(text_words: list[str]) -> set[str]:
    """The values `numbers` finds, read from words already split (`content_words` passes them
    without the stopwords "one" and "two" where they stand alone)."""
    found: set[str] = set()
    seen: list[str] = []  # the parts so far
    before = ""
    for word in text_words:
        for part in word.split("-"):
            seen.append(part)
            value = _number(part)
            if before.replace(".", "", 1).isdigit() and _NUMBER_WORDS.get(part, 0) >= 100:
                found.discard(before)
                value = f"{float(before) * _NUMBER_WORDS[part]:.0f}"
            elif _halves(seen, len(seen) - 1):
                found.discard(_number(seen[-4]))
                value = f"{_number(seen[-4])}.5"
            if value:
                found.add(value)
            before = value
    return found


def _halves(parts: list[str], i: int) -> bool:
    """Part `i` is the half of "four and a half", "2 and a half"."""
    return i >= 3 and parts[i - 2:i + 1] == ["and", "a", "half"] and _number(parts[i - 3]).isdigit()


# A figure marked as money (a currency sign or code before it, a currency after it) or as a
# share ("7%", "4.5 per cent").
_MONEY = re.compile(r"[$£€¥₹]\s?\d|\b(?:USD|EUR|GBP)\s?\d|\d\s?(?:(?:million|billion|thousand|m|bn)\s)?"
                    r"(?:dollars?|euros?|pounds?)\b", re.IGNORECASE)
_SHARE = re.compile(r"\d\s?(?:%|per\s?cent\b|percent\b)", re.IGNORECASE)


def measures(text: str) -> set[str]:
    """What the text's figures measure, where a sign or unit says so: "money", "share"."""
    return {m for m, pattern in (("money", _MONEY), ("share", _SHARE)) if pattern.search(text)}


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
        word = _CLITIC.sub("", match.group())
        if opening and not (first_word and word.lower() not in _STOPWORDS):
            continue
        for part in word.replace(".", "-").split("-"):
            part = part.strip("'’").lower()
            if len(part) > 1 and part[0].isalpha() and part not in _NUMBER_WORDS:  # "Ten buildings"
                found.add(part)
    return found
