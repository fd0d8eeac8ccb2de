"""Sentence-aware chunking that keeps exact character offsets into the document text.

Whole sentences are packed up to a token budget; the last sentences of a chunk (up to
an overlap budget) open the next one. A sentence longer than the budget is cut at token
boundaries. Every chunk is `text[start:end]`: nothing is normalised or re-joined.
Not here: embedding or storing chunks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from assistant.core.text import Span, sentence_spans


@dataclass(frozen=True)
class ChunkSpan:
    position: int
    start: int
    end: int
    text: str

    def chunk_id(self, doc_id: str) -> str:
        """Stable id: the same content at the same place always gets the same id."""
        digest = hashlib.sha256(self.text.encode()).hexdigest()
        key = f"{doc_id}:{self.position}:{self.start}:{self.end}:{digest}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]


def _cut_long(
    text: str, span: Span, budget: int, token_offsets: Callable[[str], list[Span]]
) -> list[Span]:
    start, end = span
    offsets = token_offsets(text[start:end])
    pieces = []
    for i in range(0, len(offsets), budget):
        window = offsets[i : i + budget]
        piece_end = end if i + budget >= len(offsets) else start + offsets[i + budget][0]
        pieces.append((start + window[0][0], piece_end))
    return [(s, e) for s, e in pieces if e > s]


def split_into_chunks(
    text: str,
    count_tokens: Callable[[str], int],
    token_offsets: Callable[[str], list[Span]],
    chunk_tokens: int = 220,
    overlap_tokens: int = 40,
) -> list[ChunkSpan]:
    """Chunks of `text`, each at most about `chunk_tokens` tokens."""
    units: list[tuple[Span, int]] = []
    for span in sentence_spans(text):
        tokens = count_tokens(text[span[0] : span[1]])
        if tokens <= chunk_tokens:
            units.append((span, tokens))
        else:
            for piece in _cut_long(text, span, chunk_tokens, token_offsets):
                units.append((piece, count_tokens(text[piece[0] : piece[1]])))

    chunks: list[ChunkSpan] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][1] <= chunk_tokens):
            total += units[j][1]
            j += 1
        start, end = units[i][0][0], units[j - 1][0][1]
        chunks.append(ChunkSpan(len(chunks), start, end, text[start:end]))
        if j >= len(units):
            break
        # Step back over whole sentences worth at most `overlap_tokens`, never to `i`.
        back, carried = j, 0
        while back - 1 > i and carried + units[back - 1][1] <= overlap_tokens:
            back -= 1
            carried += units[back][1]
        i = back
    return chunks
