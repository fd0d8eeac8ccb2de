"""Evidence: the sentences of the retrieved chunks that bear on the question, numbered.

Each evidence sentence keeps its document offsets, so a citation to it is an exact span.
Relevance mixes embedding similarity with lexical overlap, because MiniLM alone rates
on-topic but non-answering sentences too close to answering ones. Sentence vectors are
cached: the same few hundred sentences come back question after question.
Not here: deciding whether an answer is supported (`verify.py`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.answer.question import QuestionProfile, has_answer_kind
from assistant.answer.roles import role_phrases
from assistant.core.text import content_words, covers, sentence_spans
from assistant.index.chunking import ChunkSpan
from assistant.index.store import Chunk

MIN_WORDS = 4  # headings and captions are too short to support anything
# ... but a short "Label: value" line states its value ("Image Source: ChatGPT-4o")
_FIELD = re.compile(r"[A-Z][\w’' -]{1,30}:\s+\S.*")
ANSWER_TYPE_BONUS = 0.08  # a number for "how much", a date for "when"
PART = 0.95  # a phrase says less than its sentence, as a sentence after its context says more


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
    context: str = ""  # the sentence before it in the chunk: resolves "The initiative ..."


def lexical_overlap(claim: str, evidence: str, generic: frozenset[str] = frozenset()) -> float:
    """Share of the claim's content words found in the evidence.

    Words in `generic` (the subject every sentence shares, like "Microsoft") are left out
    when the claim has others: "Microsoft owns OpenAI" must be backed on "owns".
    """
    wanted = content_words(claim)
    wanted = (wanted - generic) or wanted
    return covers(wanted, content_words(evidence)) if wanted else 0.0


def generic_words(evidence: list[Evidence]) -> frozenset[str]:
    """Content words found in at least half of the evidence sentences (at least 8 of them)."""
    if len(evidence) < 8:
        return frozenset()
    counts = Counter(w for e in evidence for w in content_words(e.text))
    return frozenset(w for w, n in counts.items() if n * 2 >= len(evidence))


class SentenceVectors:
    """Embeddings of sentences, cached by their text.

    Sentences of stored chunks were embedded at ingest: their vectors are read from the
    store (one batched request for the texts not cached yet). Only texts the store does
    not hold, such as generated answer sentences, are embedded here; `embedded` counts
    them, so a test can check that no stored sentence is embedded at question time."""

    def __init__(self, embedder: Any, store: Any = None, limit: int = 20_000) -> None:
        self.embedder = embedder
        self.store = store
        self.limit = limit
        self.embedded = 0
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > self.limit:
                self._cache.clear()
            stored = self.store.sentence_vectors(missing) if self.store is not None else {}
            self._cache.update(stored)
            rest = [t for t in missing if t not in stored]
            if rest:
                self.embedded += len(rest)
                for text, vector in zip(rest, self.embedder.embed(rest), strict=True):
                    self._cache[text] = vector
        if not texts:
            return np.zeros((0, self.embedder.dimensions), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


HEADING_WORDS = 15  # a heading or caption is short


def is_heading(chunk: Chunk, start: int, end: int) -> bool:
    """A short line of its own (bullets and indent aside) with no sentence-ending punctuation
    anywhere ("Oracle’s Role and Growing Cloud Partnerships", "• Microsoft Loses Exclusive
    Cloud Role for OpenAI") is a heading or caption: it names a topic but states nothing, so
    it never counts as evidence."""
    text = chunk.text
    s, e = start - chunk.start, end - chunk.start
    sentence = text[s:e].rstrip("\"'”’)]")
    states = bool(re.search(r"[.!?:](\s|$)", sentence))
    return whole_line(chunk, start, end) and not states and len(sentence.split()) <= HEADING_WORDS


def whole_line(chunk: Chunk, start: int, end: int) -> bool:
    """Whether the span is a line of its own, bullets and indent aside."""
    text = chunk.text
    s, e = start - chunk.start, end - chunk.start
    line_start = text.rfind("\n", 0, s) + 1
    line_end = text.find("\n", e) if "\n" in text[e:] else len(text)
    return not text[line_start:s].strip(" \t•*·-–—>") and not text[e:line_end].strip()


def is_field(chunk: Chunk, start: int, end: int) -> bool:
    """A short "Label: value" line of its own ("Image Source: ChatGPT-4o") states its value,
    though it is under MIN_WORDS; a link ("Read more: https://...") does not."""
    text = chunk.text[start - chunk.start:end - chunk.start].strip()
    return (bool(_FIELD.fullmatch(text)) and whole_line(chunk, start, end)
            and not re.search(r":\s+\S+://", text))


def candidate_sentences(chunks: list[Chunk]) -> list[Evidence]:
    """Distinct sentences of the chunks, with document offsets, in retrieval order."""
    seen: set[tuple[str, int, int]] = set()
    found = []
    for chunk in chunks:
        previous = ""
        for start, end in sentence_spans(chunk.text, offset=chunk.start):
            text = chunk.text[start - chunk.start : end - chunk.start]
            key = (chunk.doc_id, start, end)
            states = len(text.split()) >= MIN_WORDS or is_field(chunk, start, end)
            if key not in seen and states and not is_heading(chunk, start, end):
                seen.add(key)
                found.append(Evidence(0, chunk.doc_id, chunk.title, chunk.source, text, start, end,
                                      0.0, previous))
            previous = text
    return found


def select_evidence(
    question: QuestionProfile,
    question_vector: np.ndarray,
    chunks: list[Chunk],
    vectors: SentenceVectors,
    limit: int,
    threshold: float,
) -> list[Evidence]:
    """The `limit` most relevant sentences at or above `threshold`, numbered from 1. A sentence
    is as similar to the question as the closest of: itself, itself after its context, and its
    phrases that say who or what a name is (`roles.role_phrases`; titled names only for a
    question asking for a name or a role): "Microsoft, the largest investor in OpenAI, has
    relinquished its role ..." is about the role, but answers who backs OpenAI."""
    candidates = candidate_sentences(chunks)
    if not candidates:
        return []
    similarity = vectors([c.text for c in candidates]) @ question_vector
    typed = question.kind in ("quantity", "year", "date", "role")
    in_context = vectors([f"{c.context} {c.text}".strip() for c in candidates]) @ question_vector
    asks_who = question.kind in ("entity", "role")  # a titled name answers only "who"/"what role"
    phrases = [role_phrases(c.text, titled=asks_who) for c in candidates]
    flat = [p for found in phrases for p in found]
    by_phrase = dict(zip(flat, (vectors(flat) @ question_vector).tolist(), strict=True)) if flat else {}
    scored = []
    for cand, cos, cos_ctx, found in zip(candidates, similarity, in_context, phrases, strict=True):
        lexical = max(lexical_overlap(question.text, cand.text),
                      0.8 * lexical_overlap(question.text, f"{cand.context} {cand.text}"))
        cos_part = max((by_phrase[p] for p in found), default=0.0)
        relevance = 0.7 * max(float(cos), 0.95 * float(cos_ctx), PART * cos_part) + 0.3 * lexical
        if typed and has_answer_kind(question, cand.text):
            relevance += ANSWER_TYPE_BONUS
        if relevance >= threshold:
            scored.append((relevance, cand))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    return [
        Evidence(i, c.doc_id, c.title, c.source, c.text, c.start, c.end, round(rel, 4), c.context)
        for i, (rel, c) in enumerate(scored[:limit], start=1)
    ]


def stored_sentences(doc_id: str, chunks: list[ChunkSpan]) -> list[str]:
    """Every text `select_evidence` may ask vectors for when these chunks are retrieved:
    each candidate sentence alone, after its context, and its phrases that say who or what a
    name is ("Oracle Chairman Larry Ellison"), whatever order chunks come in."""
    texts: dict[str, None] = {}
    for span in chunks:
        chunk = Chunk(span.chunk_id(doc_id), doc_id, "", "", span.text, span.start, span.end)
        for cand in candidate_sentences([chunk]):
            texts[cand.text] = None
            texts[f"{cand.context} {cand.text}".strip()] = None
            texts.update(dict.fromkeys(role_phrases(cand.text)))
    return list(texts)
