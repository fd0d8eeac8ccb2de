"""Hybrid retrieval: Chroma vector search plus BM25 over the same chunks, fused by reciprocal rank.

The BM25 index is built in memory from the chunks in the store and rebuilt when the
chunk count changes or after an ingest in this process. Not here: picking sentences.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import numpy as np

from assistant.store import Chunk, Store
from assistant.text import words

RRF_K = 60  # the constant of Cormack et al.; dampens the weight of the very first ranks


class BM25:
    """Okapi BM25 over chunk words (k1=1.5, b=0.75)."""

    def __init__(self, chunks: list[Chunk], k1: float = 1.5, b: float = 0.75) -> None:
        self.chunks = chunks
        self.k1, self.b = k1, b
        self.docs = [Counter(words(c.text)) for c in chunks]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = (sum(self.lengths) / len(self.lengths)) if chunks else 0.0
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        n = len(chunks)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    def search(self, query: str, k: int) -> list[Chunk]:
        terms = [t for t in set(words(query)) if t in self.idf]
        scored = []
        for i, doc in enumerate(self.docs):
            score = 0.0
            for term in terms:
                tf = doc.get(term, 0)
                if tf:
                    norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / (self.avg or 1))
                    score += self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
            if score > 0:
                scored.append((score, i))
        scored.sort(reverse=True)
        return [replace(self.chunks[i], score=s) for s, i in scored[:k]]


def reciprocal_rank_fusion(rankings: list[list[Chunk]], k: int) -> list[Chunk]:
    """Merge ranked lists; a chunk's score is the sum of 1/(RRF_K + rank) over the lists."""
    scores: dict[str, float] = {}
    first: dict[str, Chunk] = {}
    for ranking in rankings:
        for rank, chunk in enumerate(ranking, start=1):
            scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + 1.0 / (RRF_K + rank)
            first.setdefault(chunk.chunk_id, chunk)
    best = sorted(scores, key=lambda cid: scores[cid], reverse=True)[:k]
    return [replace(first[cid], score=scores[cid]) for cid in best]


class HybridRetriever:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._bm25: BM25 | None = None
        self._bm25_count = -1

    def invalidate(self) -> None:
        self._bm25 = None

    def _lexical(self) -> BM25:
        count = self.store.chunk_count()
        if self._bm25 is None or count != self._bm25_count:
            self._bm25, self._bm25_count = BM25(self.store.all_chunks()), count
        return self._bm25

    def retrieve(self, query: str, query_vector: np.ndarray, k: int) -> list[Chunk]:
        """Top `k` chunks for `query` by fused vector and BM25 rank."""
        depth = max(k * 3, 10)
        return reciprocal_rank_fusion(
            [self.store.query(query_vector, depth), self._lexical().search(query, depth)], k
        )
