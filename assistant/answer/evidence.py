"""Evidence: the sentences of the retrieved chunks, each read in its context, scored, numbered.

A candidate is a sentence of a retrieved chunk with exact document offsets, its document's
title and date, and the sentence before it in the document (its context: "The plant will
employ 400 people." is about the plant the sentence before names; for an item of a list, the
sentence ending in ":" that introduces the list). Metadata lines (front
matter, bylines, datelines, picture credits: `index.metadata`) and headings are never
candidates. Relevance mixes the similarity of the question to the sentence's stored vector —
pooled from the chunk's forward pass at ingest, so the model read it after its context — with
the share of the question's words the sentence holds, alone or with its title and context.
Not here: whether a sentence answers (`reader.py`, `decide.py`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from assistant.answer.question import Question, holds_kind
from assistant.core.errors import DocumentNotFound
from assistant.core.text import content_words, covers, sentence_spans, stems
from assistant.index.metadata import decode_spans, in_spans
from assistant.index.store import Chunk

MIN_WORDS = 4  # shorter sentences ("Yes.", "Read more.") state nothing alone, unless a figure
HEADING_WORDS = 15  # a heading or caption is short, a line of its own, without a full stop
LABEL_WORDS = 4  # a label before a value: "Weight", "Opening hours", "Maximum load per axle"
CONTEXT_WEIGHT = 0.8  # words found only in the title or context count this much (names fully)
BULLETS = " \t•*·-–—>0123456789."  # what may stand before a heading or an item on its line
MARKUP = "#*_ \t"  # Markdown's marks around a heading's words
VECTOR_WEIGHT = 0.5  # relevance = half similarity, half word coverage (tuned on the dev suites)


@dataclass(frozen=True)
class Evidence:
    number: int
    doc_id: str
    title: str
    source: str
    text: str
    start: int
    end: int
    relevance: float
    context: str = ""  # the sentence before it in its document (a list item's: the list's lead-in)
    published: str = ""  # its document's ISO date; "" when undated
    about: str = ""  # its document's publisher and author: what the question may call it
    lead: str = ""  # the exact text from its context's start to its own, when only space is between
    reading: float | None = None  # the LLM reader's P(yes) that it answers, when it was read
    joined: int = 0  # widened: where its own sentence starts in `text`, after the one before
    under: str = ""  # for an item of a list, the sentence ending in ":" that introduces the list
    under_start: int = 0  # ... and where that sentence starts in the document
    heading: str = ""  # for a labelled value ("Weight: 23.5 kg"), the heading it stands under
    heading_start: int = 0  # ... and where that heading starts in the document

    @property
    def in_context(self) -> str:
        return f"{self.context} {self.text}".strip()

    def widened(self) -> Evidence:
        """The sentence quoted with the one before it (exact offsets still), when the answer
        stands in that one: "In June 2023, ... allowed OpenAI to sign a deal with Oracle. This
        move marked the beginning of a new chapter." answers "When did the new chapter start?"."""
        if not self.lead:
            return self
        return replace(self, text=self.lead + self.text, start=self.start - len(self.lead),
                       context="", lead="", joined=len(self.lead))

    @property
    def around(self) -> str:
        """Its title and the sentence before: what it may refer back to."""
        return f"{self.title}. {self.context}"


@dataclass(frozen=True)
class DocumentView:
    """What evidence needs of a stored document, read once: its text, date, sentences and the
    spans that are metadata."""

    text: str
    title: str
    source: str
    published: str
    about: str
    sentences: list[tuple[int, int]]
    metadata: list[tuple[int, int]]


class Documents:
    """Stored documents as `DocumentView`s, cached by id and content hash."""

    def __init__(self, store: Any, limit: int = 256) -> None:
        self.store = store
        self.limit = limit
        self._cache: dict[tuple[str, str], DocumentView] = {}

    def get(self, doc_id: str, sha: str = "") -> DocumentView:
        """The document whose text hashes to `sha` (any text without one); DocumentNotFound when
        it was removed, or replaced by another text, since its chunk was retrieved."""
        key = (doc_id, sha)
        if key not in self._cache:
            if len(self._cache) >= self.limit:
                self._cache.clear()
            doc = self.store.document(doc_id)
            if sha and doc.sha256 and doc.sha256 != sha:
                raise DocumentNotFound(f"Document {doc_id!r} changed since it was retrieved.")
            self._cache[key] = DocumentView(
                doc.text, doc.title, doc.source, doc.published, f"{doc.publisher} {doc.author}",
                sentence_spans(doc.text),
                decode_spans(str(doc.extra.get("metadata_spans", ""))))
        return self._cache[key]


def alone(text: str, start: int, end: int) -> bool:
    """The sentence is a line of its own (bullets, indent and a section number aside)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    return not text[line_start:start].strip(BULLETS + "#") and not text[end:line_end].strip()


def is_heading(text: str, start: int, end: int) -> bool:
    """A short line of its own ("2. What is covered") with no sentence-ending punctuation, nor
    the semicolon that ends a list's item, nor a labelled value: it names a topic but states
    nothing."""
    sentence = text[start:end].rstrip("\"'”’)]")
    words = sentence.split()
    return (alone(text, start, end) and not any(w[-1] in ".!?" for w in words)
            and len(words) <= HEADING_WORDS and not labelled(sentence)
            and not sentence.endswith(";"))  # "- theft, and damage caused by ...;" is a list's item


def labelled(sentence: str) -> bool:
    """A value under a short label, as spec sheets and fact boxes give them ("Weight: 23.5 kg",
    "Opening hours: 9:00 to 17:00"): the label holds no figure and the value one other than a
    year, so "Chapter 2: Getting started", "Figure 3: Sales" and "Appendix: 2024 figures" stay
    headings (and "https://example.com/v2" is no label)."""
    label, colon, value = sentence.partition(":")
    figures = [w for w in value.split() if not _year(w)]
    return (bool(colon) and 0 < len(label.split()) <= LABEL_WORDS and not value.startswith("//")
            and not any(c.isdigit() for c in label) and any(c.isdigit() for w in figures for c in w))


def _year(word: str) -> bool:
    """"2024", "1990s", "2024,": a period, not a value."""
    word = word.rstrip(",.;").removesuffix("s")
    return len(word) == 4 and word.isdigit() and 1800 <= int(word) <= 2099


def states_something(sentence: str) -> bool:
    """Long enough to state a fact, or short with a figure in it ("Fernhill paid $3,000."), and
    no question: an FAQ's "Do I need to do anything to get priority boarding?" asks, it is the
    context of the sentence that answers."""
    asks = sentence.rstrip(" \"'”’)]").endswith("?")
    return not asks and (len(sentence.split()) >= MIN_WORDS or any(c.isdigit() for c in sentence))


def candidates(chunks: list[Chunk], docs: Documents) -> list[Evidence]:
    """Distinct sentences of the chunks with their context, in retrieval order (relevance 0);
    none from a document removed or replaced since the chunk was retrieved."""
    seen: set[tuple[str, int, int]] = set()
    found = []
    for chunk in chunks:
        try:
            view = docs.get(chunk.doc_id, chunk.doc_sha)
        except DocumentNotFound:
            continue
        for start, end in sentence_spans(chunk.text, offset=chunk.start):
            key = (chunk.doc_id, start, end)
            text = view.text[start:end]
            if (key in seen or in_spans(start, end, view.metadata) or is_heading(view.text, start, end)
                    or not states_something(text)):
                continue
            seen.add(key)
            context, lead = _context(view, start)
            under = list_lead(view, start, end)
            lead_in = view.text[under[0]:under[1]] if under else ""
            heading = (heading_above(view, start) if not lead_in and labelled(text)
                       and alone(view.text, start, end) and len(text.split()) <= HEADING_WORDS
                       else None)
            if lead_in:  # an item is read after what its list is, not after the item before
                context, lead = lead_in, ""
            elif heading:  # "Weight: 23.5 kg" is the weight of what it stands under
                context, lead = view.text[heading[0]:heading[1]], ""
            found.append(Evidence(0, chunk.doc_id, view.title, view.source, text, start, end, 0.0,
                                  context, view.published, view.about, lead, under=lead_in,
                                  under_start=under[0] if under else 0,
                                  heading=context if heading else "",
                                  heading_start=heading[0] if heading else 0))
    return found


LIST_ITEMS = 30  # items a list's lead-in may stand above
MARKS = BULLETS + "()"  # what may stand before an item on its line: bullets, numbers, "(a)"


def list_lead(view: DocumentView, start: int, end: int) -> tuple[int, int] | None:
    """The span of the sentence ending in ":" that introduces the list the sentence start:end is
    an item of ("This warranty does not cover:" above "- theft, and damage caused by an attempted
    theft;"): an item begins a line and has a bullet or number before it or ends in ";" or ","
    (the line of an HTML list), and so does every sentence between it and the lead-in (a bare
    number, "1.", aside). None when the sentence is no such item."""
    text = view.text

    def item(s: int, e: int) -> bool:
        before, first = text[text.rfind("\n", 0, s) + 1:s], text[s:e].split(maxsplit=1)[0]
        numbered = first[:-1].isdigit() and first[-1] in ".)"  # "2. Tickets ...", not "2024 was"
        marked = bool(before.strip()) or numbered
        return not before.strip(MARKS) and (marked or text[s:e].rstrip().endswith((";", ",")))

    if not item(start, end):
        return None
    for s, e in _before(view, start, LIST_ITEMS):
        said = text[s:e].rstrip().rstrip("*_")
        if said.endswith(":"):
            return s, e
        if said.strip(MARKS) and not item(s, e):
            return None
    return None


def heading_above(view: DocumentView, start: int) -> tuple[int, int] | None:
    """The span of the nearest heading above `start` when only one-line statements lie between
    (a spec sheet's other values, a tagline), else None: a paragraph or a question between ("Q:
    Can I bring my dog?" above "A: Yes, up to 3 kg") is the context, not the heading."""
    text = view.text
    for s, e in _before(view, start, LIST_ITEMS):
        if is_heading(text, s, e):  # its words, without Markdown's marks: "## Stad 7", "**Stad 7**"
            words = text[s:e].strip(MARKUP)
            return (s + text[s:e].index(words), s + text[s:e].index(words) + len(words)) \
                if words else None
        if not alone(text, s, e) or text[s:e].rstrip(" \"'”’)]").endswith("?"):
            return None
    return None


def _context(view: DocumentView, start: int) -> tuple[str, str]:
    """The last sentence before `start` that is not metadata (a heading counts), and the exact
    text from it to `start` when only white space lies between (else "")."""
    before = _before(view, start, 1)
    if not before:
        return "", ""
    s, e = before[0]
    gap = view.text[e:start]
    return view.text[s:e], (view.text[s:start] if not gap.strip() and not is_heading(view.text, s, e)
                            else "")


def _before(view: DocumentView, start: int, limit: int) -> list[tuple[int, int]]:
    """Up to `limit` sentences that end by `start` and are not metadata, nearest first."""
    found: list[tuple[int, int]] = []
    i = bisect.bisect_right(view.sentences, start, key=lambda span: span[1])
    while i > 0 and len(found) < limit:
        i -= 1
        s, e = view.sentences[i]
        if not in_spans(s, e, view.metadata):
            found.append((s, e))
    return found


def coverage(question: Question, e: Evidence, idf: dict[str, float] | None = None) -> float:
    """Share of the question's words the sentence holds, each weighted by its rarity in the store
    (`idf`, by word: "minimum" counts more than "plan"); a word found only in the title or the
    sentence before counts CONTEXT_WEIGHT, a name of the question found there counts fully ("The
    plant will employ 400" is about the Denver plant the sentence before names; its other words
    may be about something else than what the sentence says). The sentence before lends its
    words only when it does not itself hold the figure, date or name asked for: then it is the
    answer, not context."""
    weights = _weights(question, idf or {})
    if not weights:
        return 0.0
    answers = question.kind in ("number", "date", "name") and holds_kind(question, e.context)
    lent = e.text if answers else e.in_context
    alone, around = content_words(e.text), content_words(f"{e.title} {lent}")
    named = stems(question.names)
    total = sum(weights.values())
    held = sum(w * (1.0 if _has(stem, alone) or (stem in named and _has(stem, around))
                    else CONTEXT_WEIGHT if _has(stem, around) else 0.0)
               for stem, w in weights.items())
    return held / total


def _weights(question: Question, idf: dict[str, float]) -> dict[str, float]:
    """The question's content stems, each with the highest idf of its words (1 without idf)."""
    weights: dict[str, float] = {}
    for word, value in idf.items():
        for stem in content_words(word):
            weights[stem] = max(weights.get(stem, 0.0), value)
    return {stem: weights.get(stem, 1.0) for stem in question.words}


def _has(stem: str, found: set[str]) -> bool:
    return covers({stem}, found) == 1.0


def rank(question: Question, question_vector: np.ndarray, found: list[Evidence],
         vectors: dict[tuple[str, int, int], np.ndarray], limit: int, threshold: float,
         idf: dict[str, float] | None = None) -> list[Evidence]:
    """The `limit` most relevant candidates at or above `threshold`, numbered from 1."""
    scored = []
    for e in found:
        vector = vectors.get((e.doc_id, e.start, e.end))
        similarity = float(vector @ question_vector) if vector is not None else 0.0
        relevance = VECTOR_WEIGHT * similarity + (1 - VECTOR_WEIGHT) * coverage(question, e, idf)
        if relevance >= threshold:
            scored.append(replace(e, relevance=round(relevance, 4)))
    scored.sort(key=lambda e: e.relevance, reverse=True)
    return [replace(e, number=i) for i, e in enumerate(scored[:limit], 1)]
