"""Hybrid retrieval: Chroma vector search plus BM25 over the same chunks, fused by reciprocal rank.

The lexical side is a `bm25s` index (Lucene BM25, k1=1.5, b=0.75, over `terms`: words with a
possessive dropped), persisted under DATA_DIR/lexical and tied to the store's *generation* (see
`store.py`): a process whose index is older than the store brings it up to date before searching,
re-tokenising only chunks it has not seen (their token ids are kept next to the index).
So several processes on one store, or on one Chroma server, rank alike. `BM25` is the
plain-Python reference the index must agree with. Not here: picking sentences.
"""

from __future__ import annotations

import json
import math
import shutil
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.dates import PartialDate, parse_date
from assistant.core.errors import StoreError
from assistant.core.text import words
from assistant.index.store import Chunk, Store, _file_lock

TOKENS = "words, possessive dropped"  # what `terms` gives: an index built by other terms is rebuilt
RRF_K = 60  # the constant of Cormack et al.; dampens the weight of the very first ranks
K1, B = 1.5, 0.75
# what reading a damaged or half-written index file raises (bm25s and numpy): such a file is
# rebuilt from the store; anything else is a bug and is raised
DAMAGE = (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile)


def terms(text: str) -> list[str]:
    """The words BM25 indexes: `text.words` with a possessive dropped, as Lucene's English
    analyser does, so "OpenAI's" in a question meets "OpenAI" in a chunk."""
    return [w[:-2] if w.endswith("'s") and len(w) > 2 else w for w in words(text)]


class BM25:
    """Okapi BM25 over chunk words (k1=1.5, b=0.75), in plain Python: the reference ranking."""

    def __init__(self, chunks: list[Chunk], k1: float = K1, b: float = B) -> None:
        self.chunks = chunks
        self.k1, self.b = k1, b
        self.docs = [Counter(terms(c.text)) for c in chunks]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = (sum(self.lengths) / len(self.lengths)) if chunks else 0.0
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        n = len(chunks)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    def search(self, query: str, k: int) -> list[Chunk]:
        asked = [t for t in set(terms(query)) if t in self.idf]
        scored = []
        for i, doc in enumerate(self.docs):
            score = 0.0
            for term in asked:
                tf = doc.get(term, 0)
                if tf:
                    norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / (self.avg or 1))
                    score += self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
            if score > 0:
                scored.append((score, i))
        scored.sort(reverse=True)
        return [replace(self.chunks[i], score=s) for s, i in scored[:k]]


def top_k(scores: np.ndarray, k: int) -> list[int]:
    """Indices of the `k` best positive scores, best first; ties go to the later index
    (the order `BM25.search` gives), in O(n) plus a sort of the winners."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        kth = np.partition(scores[positive], len(positive) - k)[len(positive) - k]
        positive = positive[scores[positive] >= kth]
    order = np.lexsort((-positive, -scores[positive]))
    return [int(i) for i in positive[order][:k]]


def lucene_matrix(corpus: list[np.ndarray], vocabulary: int) -> dict[str, Any]:
    """bm25s's score matrix (CSC: a column of (chunk, score) per token) for token-id documents,
    with its "lucene" formulas (idf log(1 + (N - df + 0.5)/(df + 0.5)), tf/(tf + k1(1 - b + b L/avgL))),
    computed with numpy: bm25s's own `index` loops over documents in Python (8 s at 100k chunks)."""
    n = len(corpus)
    lengths = np.array([len(c) for c in corpus], dtype=np.int64)
    keys = np.concatenate(corpus).astype(np.int64)  # token * n + chunk, built in place
    keys *= n
    keys += np.repeat(np.arange(n, dtype=np.int64), lengths)
    pairs, tf = np.unique(keys, return_counts=True)  # sorted by token, then chunk
    del keys
    token, doc = pairs // n, pairs % n
    df = np.bincount(token, minlength=vocabulary)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    norm = K1 * (1 - B + B * lengths / max(float(lengths.mean()), 1e-9))
    data = idf[token] * tf / (tf + norm[doc])
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    return {"data": data, "indices": doc.astype(np.int32), "indptr": indptr, "num_docs": n}


class LexicalIndex:
    """The bm25s index of the store's chunks, persisted in `folder`, loaded on first search.

    On disk: `state.json` names the generation it was built for and the sub-folder holding
    it (`bm25/` as saved by bm25s, `tokens.npz` with chunk ids and token ids). A rebuild
    writes a new sub-folder and then swaps `state.json`, so readers never see half an index.
    """

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self._loaded: _Loaded | None = None  # swapped whole, so a search never mixes two indexes

    @property
    def generation(self) -> str | None:
        return self._loaded.generation if self._loaded else None

    # --- keeping in step with the store ---------------------------------------------------
    def refresh(self) -> None:
        """Make the index match the store: load it from disk, or update it, if stale."""
        current = self.store.generation()
        if self._loaded is not None and current == self._loaded.generation:
            return
        if self._load(current):
            return
        with _file_lock(self.folder / "lock"):
            if not self._load(current):  # another process may have just built it
                self._rebuild(current)

    def _state(self) -> dict[str, str]:
        """state.json's fields; {} when it is missing or damaged (the index is then rebuilt).
        Its `dir` must name a sub-folder of this folder: a rebuild deletes it."""
        try:
            state = json.loads((self.folder / "state.json").read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(state, dict) or not all(isinstance(v, str) for v in state.values()):
            return {}
        if "dir" in state and not state["dir"].isalnum():  # "../..", "/home", "a/b"
            return {}
        return state

    def _load(self, generation: str) -> bool:
        """Load the index built for `generation`; False when there is none or it is damaged
        (it is a cache of the store: anything unreadable in it is rebuilt, never fatal)."""
        state = self._state()
        if (state.get("generation") != generation or not state.get("dir")
                or state.get("tokens") != TOKENS):
            return False
        import bm25s

        where = self.folder / state["dir"]
        try:
            bm25 = bm25s.BM25.load(str(where / "bm25"), mmap=True, load_corpus=False)
            ids = np.load(where / "ids.npy")
            ids_match_matrix = len(ids) == int(bm25.scores["num_docs"])
        except DAMAGE:  # a damaged cache is rebuilt
            return False
        if not ids_match_matrix:  # ids.npy and the matrix from different builds
            return False
        self._loaded = _Loaded(generation, bm25, ids, bm25.vocab_dict)
        return True

    def _cached_tokens(self) -> tuple[dict[str, np.ndarray], list[str]]:
        """Token ids of every chunk indexed last time, and the vocabulary they refer to; none
        when they are missing or damaged (every chunk is then tokenised again)."""
        state = self._state()
        path = self.folder / state.get("dir", "-") / "tokens.npz"
        if not state.get("dir") or not path.is_file() or state.get("tokens") != TOKENS:
            return {}, []
        try:
            with np.load(path) as saved:
                ids, offsets, tokens = saved["ids"], saved["offsets"], saved["tokens"]
                vocab = [str(w) for w in saved["vocab"]]
            if len(tokens) and (int(tokens.max()) >= len(vocab) or int(tokens.min()) < 0):
                return {}, []
            return ({str(cid): tokens[offsets[i] : offsets[i + 1]] for i, cid in enumerate(ids)},
                    vocab)
        except DAMAGE:  # a damaged cache is re-tokenised
            return {}, []

    def _rebuild(self, generation: str) -> None:
        import bm25s

        cached, vocab = self._cached_tokens()
        index = {w: i for i, w in enumerate(vocab)}
        ids = [cid for page in self.store.iter_chunk_ids() for cid in page]
        new = [cid for cid in ids if cid not in cached]
        for page_ids, texts in self.store.iter_texts(new):
            for cid, text in zip(page_ids, texts, strict=True):
                tokens = terms(text)
                for w in tokens:
                    if w not in index:
                        index[w] = len(index)
                cached[cid] = np.fromiter((index[w] for w in tokens), dtype=np.int32,
                                          count=len(tokens))
        ids = [cid for cid in ids if cid in cached]  # a chunk deleted meanwhile
        corpus = [cached[cid] for cid in ids]
        bm25 = bm25s.BM25(method="lucene", k1=K1, b=B, dtype="float64", backend="numpy",
                          csc_backend="numpy")
        if ids:
            bm25.scores, bm25.vocab_dict = lucene_matrix(corpus, len(index)), dict(index)
            bm25.nonoccurrence_array = None
        name = uuid.uuid4().hex[:12]
        where = self.folder / name
        (where / "bm25").mkdir(parents=True)
        if ids:
            bm25.save(str(where / "bm25"), show_progress=False)
        lengths = np.array([len(c) for c in corpus], dtype=np.int64)
        np.save(where / "ids.npy", np.array(ids, dtype="U32"))
        np.savez(where / "tokens.npz", ids=np.array(ids, dtype="U32"),
                 offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
                 tokens=np.concatenate(corpus) if corpus else np.zeros(0, dtype=np.int32),
                 vocab=np.array(list(index), dtype=str))
        old = self._state().get("dir")
        tmp = self.folder / f"state.{name}.json"
        tmp.write_text(json.dumps({"generation": generation, "dir": name, "tokens": TOKENS}))
        state = self.folder / "state.json"
        if state.is_dir() and not state.is_symlink():  # damage in the cache's own folder
            shutil.rmtree(state)
        tmp.replace(state)
        if old and old != name:
            shutil.rmtree(self.folder / old, ignore_errors=True)
        if not ids:  # an empty store: nothing to search
            self._loaded = _Loaded(generation, None, np.zeros(0, dtype="U32"), {})
        elif not self._load(generation):
            raise StoreError(f"The keyword index just built in {where} cannot be read back.")

    # --- searching -------------------------------------------------------------------------
    def search(self, query: str, k: int) -> list[Chunk]:
        """The `k` best chunks by BM25 (same order as `BM25.search`); score is the BM25 score."""
        self.refresh()
        return self.ranked(query, k)

    def ranked(self, query: str, k: int) -> list[Chunk]:
        """`search` without checking the store's generation first (the caller just did)."""
        index = self._loaded
        if index is None or index.bm25 is None:
            return []
        asked = [index.vocab[t] for t in dict.fromkeys(terms(query)) if t in index.vocab]
        if not asked:
            return []
        scores = index.scores(asked)
        best = top_k(scores, k)
        chunks = self.store.get_chunks([str(index.ids[i]) for i in best])
        by_id = {c.chunk_id: c for c in chunks}
        return [replace(by_id[str(index.ids[i])], score=float(scores[i]) * (K1 + 1))
                for i in best if str(index.ids[i]) in by_id]

    def idf(self, text: str) -> dict[str, float]:
        """Each word of `text` (as `terms` gives them) with its inverse document frequency over
        the stored chunks (Lucene's formula); a word no chunk holds gets the highest value."""
        index = self._loaded
        if index is None or index.bm25 is None:
            return {}
        matrix = index.bm25.scores
        n = int(matrix["num_docs"])
        found = {}
        for term in dict.fromkeys(terms(text)):
            t = index.vocab.get(term)
            df = int(matrix["indptr"][t + 1] - matrix["indptr"][t]) if t is not None else 0
            found[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return found


@dataclass(frozen=True)
class _Loaded:
    """One loaded index: its generation, bm25s model, chunk ids (row order) and vocabulary."""

    generation: str
    bm25: Any  # None for an empty store
    ids: np.ndarray
    vocab: dict[str, int]

    def scores(self, token_ids: list[int]) -> np.ndarray:
        """BM25 score of every chunk for these token ids (bm25s's matrix, summed by bincount)."""
        matrix = self.bm25.scores
        indptr, indices, data = matrix["indptr"], matrix["indices"], matrix["data"]
        spans = [(int(indptr[t]), int(indptr[t + 1])) for t in token_ids]
        docs = np.concatenate([indices[s:e] for s, e in spans])
        weights = np.concatenate([data[s:e] for s, e in spans])
        return np.bincount(docs, weights=weights, minlength=int(matrix["num_docs"]))


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
    def __init__(self, store: Store, index_dir: Path) -> None:
        self.store = store
        self.lexical = LexicalIndex(store, index_dir)

    def warm_up(self) -> None:
        """Load (or bring up to date) the lexical index now rather than on the first search."""
        self.lexical.refresh()

    def retrieve(self, query: str, query_vector: np.ndarray, k: int,
                 as_of: PartialDate | None = None) -> list[Chunk]:
        """Top `k` chunks for `query` by fused vector and BM25 rank; with `as_of`, only chunks of
        documents published on or before it (an undated document counts: it may be older)."""
        depth = max(k * 3, 10) * (3 if as_of else 1)
        self.lexical.refresh()  # also brings the store's client up to date with other processes
        rankings = [self.store.query(query_vector, depth), self.lexical.ranked(query, depth)]
        if as_of:
            rankings = [[c for c in ranking if published_by(c.published, as_of)] for ranking in rankings]
        return reciprocal_rank_fusion(rankings, k)


def published_by(published: str, as_of: PartialDate) -> bool:
    """Whether a document dated `published` (ISO, any precision; "" undated) may have been
    published on or before `as_of`: its first possible day is not after `as_of`'s last."""
    date = parse_date(published)
    return date is None or date.starts() <= as_of.covers_until()
