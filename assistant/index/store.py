"""The Chroma store: chunks, whole documents and sentence vectors; same code for both clients.

Embedded (`PersistentClient` in DATA_DIR/chroma) by default; a Chroma server
(`HttpClient`) when `ASSISTANT_CHROMA_URL` is set. We always pass our own embeddings, so
Chroma's default embedding function is never called, and telemetry is off. The chunk
collection records which embedding model built it (opening it with another one is an
error) and a *generation*: a fresh token written after every change, so that a process
holding a derived index (the lexical one) can tell it is stale. Every read that could
grow with the store pages through it (`PAGE` records per request): sqlite refuses
requests with more than 32,766 ids. Writes go in batches as large as the client allows.
Not here: deciding what to ingest (see `ingest.py`).
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.core.errors import DataDirError, DocumentNotFound, StoreError
from assistant.index.chunking import ChunkSpan
from assistant.index.documents import Document

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

PAGE = 5000  # records per read request; well below sqlite's 32,766 variables
# HNSW search breadth: Chroma's default of 100 found 86 % of the true top 18 at 100,000 chunks
# (11 % for one question), 300 found 97 % for 3 ms more (bench/scale.py store, golden questions).
EF_SEARCH = 300


@dataclass(frozen=True)
class Chunk:
    """A stored chunk as the rest of the assistant sees it."""

    chunk_id: str
    doc_id: str
    title: str
    source: str
    text: str
    start: int
    end: int
    score: float = 0.0
    doc_sha: str = ""  # the content hash of its document's text (a cache key)
    published: str = ""  # its document's ISO date; "" when undated


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    source: str
    publisher: str
    chunks: int
    ingested_at: str
    sha256: str
    root: str
    fingerprint: str
    published: str = ""  # ISO date at its precision; "" when undated
    published_from: str = ""  # where that date was read: manifest, front matter, HTML meta, ...


@dataclass(frozen=True)
class PreparedDocument:
    """Everything one document writes: its chunks with vectors and its sentence vectors.

    `sentences` are spans of the document's text (start, end), with one vector each, in
    `sentence_vectors` order: each sentence as the model read it inside its chunk."""

    doc: Document
    chunks: Sequence[ChunkSpan]
    vectors: np.ndarray
    root: str
    fingerprint: str
    sentences: Sequence[tuple[int, int]] = ()
    sentence_vectors: np.ndarray | None = None


def sentence_key(doc_id: str, start: int, end: int) -> str:
    """The id a sentence vector is stored under: one per span of one document."""
    return hashlib.sha256(f"{doc_id}:{start}:{end}".encode()).hexdigest()[:32]


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Cross-process lock: chromadb fails when two processes create one store at once. A lock
    file that cannot be made (a read-only or virtual folder, a folder in its place) is a
    DataDirError saying where."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")  # noqa: SIM115 - closed by the `with` below
    except OSError as exc:
        raise DataDirError(f"The data directory cannot be used: cannot create the lock file {path}"
                           f" ({exc.strerror or exc}). Set ASSISTANT_DATA_DIR to a folder this "
                           "user can create and write.") from exc
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _client(data_dir: Path, chroma_url: str | None, fresh: bool = False) -> Any:
    """A Chroma client; `fresh`: a new embedded client rather than the one chromadb shares
    per path in this process (whose vector index misses other processes' writes)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url if "//" in chroma_url else f"http://{chroma_url}")
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise StoreError(
                f"Cannot reach the Chroma server at {chroma_url} ({exc}). Start it "
                "(`chroma run --path DIR --host 127.0.0.1 --port 8000`) or unset ASSISTANT_CHROMA_URL."
            ) from exc
    path = data_dir / "chroma"
    with _file_lock(data_dir / "open.lock"):  # also between threads: each opens its own handle
        if fresh:  # under the lock: another thread's pop would leave a half-built client
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(str(path), None)
        try:
            if (path / "chroma.sqlite3").is_file() and (path / "chroma.sqlite3").stat().st_size == 0:
                raise StoreError("its database file chroma.sqlite3 is empty (0 bytes)")  # sqlite
                # would take it for a new store and show an empty one
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            raise StoreError(
                f"The store at {path} cannot be opened ({type(exc).__name__}: {exc}). It may be "
                f"corrupt: move it aside (mv {path} {path}.bad) and run `assistant ingest` again."
            ) from exc


class Store:
    """Chunks, documents and sentence vectors in Chroma, read and written with our own embeddings."""

    def __init__(self, client: Any, name: str, model_id: str, dimensions: int,
                 reopen: Callable[[], Any] | None = None, lock: Path | None = None) -> None:
        """`reopen` makes a fresh client (embedded store: Chroma caches the vector index in
        memory and does not see other processes' writes); `lock` serialises writers."""
        self.model_id = model_id
        self.name = name
        self._meta = {"embed_model": model_id, "dimensions": dimensions, "hnsw:space": "cosine"}
        self._reopen = reopen
        self._lock = lock
        self._generation_lock = threading.RLock()  # the generation check and the reopen, one thread at a time
        self._batch = 0
        self._counted: tuple[str | None, int] = (None, 0)
        self._attach(client)
        built_with = (self._chunks.metadata or {}).get("embed_model")
        if built_with != model_id:
            raise StoreError(
                f"The collection `{name}_chunks` was built with the embedding model {built_with!r}, "
                f"not {model_id!r}: its vectors would be meaningless. Use another "
                "ASSISTANT_COLLECTION or delete the store and re-ingest."
            )

    def _attach(self, client: Any) -> None:
        name, meta = self.name, self._meta
        try:
            self._chunks = client.get_or_create_collection(
                f"{name}_chunks", metadata=meta, embedding_function=None
            )
            self._docs = client.get_or_create_collection(
                f"{name}_documents", metadata=meta, embedding_function=None
            )
            self._sentences = client.get_or_create_collection(
                f"{name}_sentences", metadata=meta, embedding_function=None
            )
        except Exception as exc:
            raise StoreError(f"Cannot open the Chroma collections `{name}_*` ({exc}).") from exc
        self._client = client
        self._known = str((self._chunks.metadata or {}).get("generation", ""))
        hnsw = (getattr(self._chunks, "configuration", None) or {}).get("hnsw") or {}
        if hnsw and int(hnsw.get("ef_search") or 0) < EF_SEARCH:
            self._call("configure the vector index", self._chunks.modify,
                       configuration={"hnsw": {"ef_search": EF_SEARCH}})

    @classmethod
    def open(cls, data_dir: Path, chroma_url: str | None, name: str, model_id: str,
             dimensions: int) -> Store:
        if chroma_url:
            return cls(_client(data_dir, chroma_url), name, model_id, dimensions)
        return cls(_client(data_dir, None), name, model_id, dimensions,
                   reopen=lambda: _client(data_dir, None, fresh=True), lock=data_dir / "store.lock")

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise StoreError(f"Chroma failed to {what} ({type(exc).__name__}: {exc}).") from exc

    def _write_batch(self) -> int:
        if not self._batch:
            self._batch = max(1, int(self._call("read the batch size", self._client.get_max_batch_size)))
        return self._batch

    def _pages(self, collection: Any, include: list[str], **where: Any) -> Iterator[dict[str, Any]]:
        """`get` results, PAGE records at a time, until the collection is exhausted."""
        offset = 0
        while True:
            got = self._call("read the store", collection.get, include=include, limit=PAGE,
                             offset=offset, **where)
            if not got["ids"]:
                return
            yield got
            if len(got["ids"]) < PAGE:
                return
            offset += len(got["ids"])

    # --- generation ---------------------------------------------------------------------
    def generation(self) -> str:
        """A token that changes whenever chunks are written or deleted (by any process).

        When it changed under us (another process wrote), the embedded client is reopened
        so that Chroma's in-memory vector index includes those writes."""
        with self._generation_lock:
            collection = self._call("read the collection", self._client.get_collection,
                                    f"{self.name}_chunks", embedding_function=None)
            current = str((collection.metadata or {}).get("generation", ""))
            if current != self._known and self._reopen is not None:
                self._attach(self._reopen())
                gc.collect()  # the old client is cyclic garbage holding its index and files
            self._known = current
            return current

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time (embedded store), on an up-to-date client; then a new generation."""
        with _file_lock(self._lock) if self._lock else nullcontext():
            self.generation()
            yield
            collection = self._call("read the collection", self._client.get_collection,
                                    f"{self.name}_chunks", embedding_function=None)
            meta = {k: v for k, v in (collection.metadata or {}).items() if not k.startswith("hnsw:")}
            meta["generation"] = uuid.uuid4().hex
            with self._generation_lock:  # a reader must not see the new generation before we know it
                self._call("record the store generation", collection.modify, metadata=meta)
                self._known = meta["generation"]

    # --- documents ---------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        infos = [
            DocumentInfo(doc_id, m.get("title", ""), m.get("source", ""), m.get("publisher", ""),
                         int(m.get("chunks", 0)), m.get("ingested_at", ""), m.get("sha256", ""),
                         m.get("root", ""), m.get("fingerprint", ""), m.get("published", ""),
                         m.get("published_from", ""))
            for got in self._pages(self._docs, ["metadatas"])
            for doc_id, m in zip(got["ids"], got["metadatas"], strict=True)
        ]
        return sorted(infos, key=lambda d: d.source)

    def document(self, doc_id: str) -> Document:
        got = self._call("read a document", self._docs.get, ids=[doc_id],
                         include=["documents", "metadatas"])
        if not got["ids"]:
            raise DocumentNotFound(f"No document with id {doc_id!r}; see `assistant documents`.")
        m = dict(got["metadatas"][0])
        for internal in ("chunks", "root", "fingerprint", "ingested_at"):
            m.pop(internal, None)
        core = {k: str(m.pop(k, "")) for k in
                ("title", "source", "publisher", "author", "published", "sha256")}
        return Document(doc_id=doc_id, text=got["documents"][0], extra=m, **core)

    def put_documents(self, prepared: Sequence[PreparedDocument]) -> None:
        """Replace everything stored for these documents: one request per collection and batch."""
        if not prepared:
            return
        prepared = list({p.doc.doc_id: p for p in prepared}.values())  # one version per document
        with self._writing():
            self._put(prepared)

    def _put(self, prepared: Sequence[PreparedDocument]) -> None:
        self._delete([p.doc.doc_id for p in prepared])
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        doc_vectors = []
        for p in prepared:
            ids += [c.chunk_id(p.doc.doc_id) for c in p.chunks]
            texts += [c.text for c in p.chunks]
            metas += [{"doc_id": p.doc.doc_id, "title": p.doc.title, "source": p.doc.source,
                       "start": c.start, "end": c.end, "position": c.position,
                       "doc_sha": p.doc.sha256, "published": p.doc.published} for c in p.chunks]
            mean = p.vectors.mean(axis=0)
            doc_vectors.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        self._write(self._chunks, "write chunks", ids, np.concatenate([p.vectors for p in prepared]),
                     texts, metas)
        keys: dict[str, tuple[str, np.ndarray]] = {}
        for p in prepared:
            if p.sentence_vectors is not None:
                for (start, end), vector in zip(p.sentences, p.sentence_vectors, strict=True):
                    keys[sentence_key(p.doc.doc_id, start, end)] = (p.doc.doc_id, vector)
        if keys:
            self._write(self._sentences, "write sentence vectors", list(keys),
                        np.stack([v for _, v in keys.values()]), None,
                        [{"doc_id": d} for d, _ in keys.values()], method="upsert")
        self._write(
            self._docs, "write documents", [p.doc.doc_id for p in prepared], np.stack(doc_vectors),
            [p.doc.text for p in prepared],
            [{**p.doc.metadata(), "chunks": len(p.chunks), "root": p.root,
              "fingerprint": p.fingerprint, "ingested_at": stamp} for p in prepared])

    def _write(self, collection: Any, what: str, ids: list[str], vectors: np.ndarray,
               texts: list[str] | None, metas: list[dict[str, Any]], method: str = "add") -> None:
        """`add` for records deleted just before (cheaper), `upsert` for shared ones."""
        step = self._write_batch()
        for i in range(0, len(ids), step):
            self._call(what, getattr(collection, method), ids=ids[i : i + step],
                       embeddings=vectors[i : i + step],
                       documents=texts[i : i + step] if texts is not None else None,
                       metadatas=metas[i : i + step])

    def delete_document(self, doc_id: str) -> None:
        self.delete_documents([doc_id])

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        with self._writing():
            self._delete(list(doc_ids))

    def _delete(self, doc_ids: list[str]) -> None:
        for i in range(0, len(doc_ids), PAGE):
            part = doc_ids[i : i + PAGE]
            where = {"doc_id": part[0]} if len(part) == 1 else {"doc_id": {"$in": part}}
            self._call("delete chunks", self._chunks.delete, where=where)
            self._call("delete sentence vectors", self._sentences.delete, where=where)
            self._call("delete documents", self._docs.delete, ids=part)

    # --- chunks ------------------------------------------------------------------------
    def chunk_count(self) -> int:
        return int(self._call("count chunks", self._chunks.count))

    def chunk_ids(self, doc_id: str) -> list[str]:
        ids = [i for got in self._pages(self._chunks, [], where={"doc_id": doc_id}) for i in got["ids"]]
        return sorted(ids)

    def iter_chunks(self) -> Iterator[Chunk]:
        """Every stored chunk, read PAGE at a time (for checks and tools, not for questions)."""
        for got in self._pages(self._chunks, ["documents", "metadatas"]):
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                yield _chunk(i, d, m)

    def all_chunks(self) -> list[Chunk]:
        """Every stored chunk (paged reads); memory grows with the store: tests and tools only."""
        return list(self.iter_chunks())

    def iter_texts(self, ids: Sequence[str]) -> Iterator[tuple[list[str], list[str]]]:
        """(ids, texts) of those chunks, a page at a time."""
        for i in range(0, len(ids), PAGE):
            got = self._call("read chunks", self._chunks.get, ids=list(ids[i : i + PAGE]),
                             include=["documents"])
            yield list(got["ids"]), list(got["documents"])

    def iter_chunk_ids(self) -> Iterator[list[str]]:
        """Every chunk id, a page at a time."""
        for got in self._pages(self._chunks, []):
            yield list(got["ids"])

    def get_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids, in that order (ids no longer stored are left out)."""
        found: dict[str, Chunk] = {}
        for i in range(0, len(ids), PAGE):
            got = self._call("read chunks", self._chunks.get, ids=list(ids[i : i + PAGE]),
                             include=["documents", "metadatas"])
            for cid, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                found[cid] = _chunk(cid, d, m)
        return [found[i] for i in ids if i in found]

    def query(self, vector: np.ndarray, k: int) -> list[Chunk]:
        """The `k` chunks nearest to `vector`; score is cosine similarity."""
        if self._counted[0] != self._known:  # the count changes only with the generation
            self._counted = (self._known, self.chunk_count())
        count = self._counted[1]
        if count == 0:
            return []
        got = self._call("search", self._chunks.query, query_embeddings=[vector],
                         n_results=min(k, count), include=["documents", "metadatas", "distances"])
        return [_chunk(i, d, m, 1.0 - dist) for i, d, m, dist in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0],
                    strict=True)]

    # --- sentence vectors --------------------------------------------------------------
    def sentence_vectors(self, spans: Sequence[tuple[str, int, int]],
                         ) -> dict[tuple[str, int, int], np.ndarray]:
        """Stored vectors of those (doc_id, start, end) sentences that have one (from ingest)."""
        keys = {sentence_key(*span): span for span in spans}
        found: dict[tuple[str, int, int], np.ndarray] = {}
        ids = list(keys)
        for i in range(0, len(ids), PAGE):
            got = self._call("read sentence vectors", self._sentences.get, ids=ids[i : i + PAGE],
                             include=["embeddings"])
            for key, vector in zip(got["ids"], got["embeddings"], strict=True):
                found[keys[key]] = np.asarray(vector, dtype=np.float32)
        return found

    def sentence_count(self) -> int:
        return int(self._call("count sentence vectors", self._sentences.count))


def _chunk(chunk_id: str, text: str, m: dict[str, Any], score: float = 0.0) -> Chunk:
    return Chunk(chunk_id, str(m["doc_id"]), str(m.get("title", "")), str(m.get("source", "")),
                 text, int(m["start"]), int(m["end"]), float(score), str(m.get("doc_sha", "")),
                 str(m.get("published", "")))
