"""The Chroma store: one collection of chunks, one of whole documents, same code for both clients.

Embedded (`PersistentClient` in DATA_DIR/chroma) by default; a Chroma server
(`HttpClient`) when `ASSISTANT_CHROMA_URL` is set. We always pass our own embeddings, so
Chroma's default embedding function is never called, and telemetry is off. The chunk
collection records which embedding model built it; opening it with another one is an
error. Not here: deciding what to ingest (see `ingest.py`).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.chunking import ChunkSpan
from assistant.documents import Document
from assistant.errors import DocumentNotFound, StoreError

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


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


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Cross-process lock: chromadb fails when two processes create one store at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _client(data_dir: Path, chroma_url: str | None) -> Any:
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
    with _file_lock(data_dir / "store.lock"):
        try:
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            raise StoreError(
                f"The store at {path} cannot be opened ({type(exc).__name__}: {exc}). It may be "
                f"corrupt: move it aside (mv {path} {path}.bad) and run `assistant ingest` again."
            ) from exc


class Store:
    """Chunks and documents in Chroma, read and written with our own embeddings."""

    def __init__(self, client: Any, name: str, model_id: str, dimensions: int) -> None:
        self.model_id = model_id
        meta = {"embed_model": model_id, "dimensions": dimensions, "hnsw:space": "cosine"}
        try:
            self._chunks = client.get_or_create_collection(
                f"{name}_chunks", metadata=meta, embedding_function=None
            )
            self._docs = client.get_or_create_collection(
                f"{name}_documents", metadata=meta, embedding_function=None
            )
        except Exception as exc:
            raise StoreError(f"Cannot open the Chroma collections `{name}_*` ({exc}).") from exc
        built_with = (self._chunks.metadata or {}).get("embed_model")
        if built_with != model_id:
            raise StoreError(
                f"The collection `{name}_chunks` was built with the embedding model {built_with!r}, "
                f"not {model_id!r}: its vectors would be meaningless. Use another "
                "ASSISTANT_COLLECTION or delete the store and re-ingest."
            )
        self._client = client

    @classmethod
    def open(cls, data_dir: Path, chroma_url: str | None, name: str, model_id: str,
             dimensions: int) -> Store:
        return cls(_client(data_dir, chroma_url), name, model_id, dimensions)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise StoreError(f"Chroma failed to {what} ({type(exc).__name__}: {exc}).") from exc

    # --- documents ---------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        got = self._call("list documents", self._docs.get, include=["metadatas"])
        infos = [
            DocumentInfo(doc_id, m.get("title", ""), m.get("source", ""), m.get("publisher", ""),
                         int(m.get("chunks", 0)), m.get("ingested_at", ""), m.get("sha256", ""),
                         m.get("root", ""),
                         m.get("fingerprint", ""))
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

    def put_document(self, doc: Document, chunks: Sequence[ChunkSpan], vectors: np.ndarray,
                     root: str, fingerprint: str) -> None:
        """Replace everything stored for `doc` with these chunks."""
        self.delete_document(doc.doc_id)
        ids = [c.chunk_id(doc.doc_id) for c in chunks]
        metas = [{"doc_id": doc.doc_id, "title": doc.title, "source": doc.source,
                  "start": c.start, "end": c.end, "position": c.position, "doc_sha": doc.sha256}
                 for c in chunks]
        batch = max(1, int(self._call("read the batch size", self._client.get_max_batch_size)))
        for i in range(0, len(ids), batch):
            self._call("write chunks", self._chunks.upsert, ids=ids[i : i + batch],
                       embeddings=vectors[i : i + batch], documents=[c.text for c in chunks[i : i + batch]],
                       metadatas=metas[i : i + batch])
        mean = vectors.mean(axis=0)
        meta = {**doc.metadata(), "chunks": len(chunks), "root": root, "fingerprint": fingerprint,
                "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        self._call("write a document", self._docs.upsert, ids=[doc.doc_id],
                   embeddings=[mean / max(float(np.linalg.norm(mean)), 1e-12)],
                   documents=[doc.text], metadatas=[meta])

    def delete_document(self, doc_id: str) -> None:
        self._call("delete chunks", self._chunks.delete, where={"doc_id": doc_id})
        self._call("delete a document", self._docs.delete, ids=[doc_id])

    # --- chunks ------------------------------------------------------------------------
    def chunk_count(self) -> int:
        return int(self._call("count chunks", self._chunks.count))

    def chunk_ids(self, doc_id: str) -> list[str]:
        got = self._call("list chunks", self._chunks.get, where={"doc_id": doc_id}, include=[])
        return sorted(got["ids"])

    def all_chunks(self) -> list[Chunk]:
        got = self._call("read chunks", self._chunks.get, include=["documents", "metadatas"])
        return [_chunk(i, d, m) for i, d, m in
                zip(got["ids"], got["documents"], got["metadatas"], strict=True)]

    def query(self, vector: np.ndarray, k: int) -> list[Chunk]:
        """The `k` chunks nearest to `vector`; score is cosine similarity."""
        count = self.chunk_count()
        if count == 0:
            return []
        got = self._call("search", self._chunks.query, query_embeddings=[vector],
                         n_results=min(k, count), include=["documents", "metadatas", "distances"])
        return [_chunk(i, d, m, 1.0 - dist) for i, d, m, dist in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0],
                    strict=True)]


def _chunk(chunk_id: str, text: str, m: dict[str, Any], score: float = 0.0) -> Chunk:
    return Chunk(chunk_id, str(m["doc_id"]), str(m.get("title", "")), str(m.get("source", "")),
                 text, int(m["start"]), int(m["end"]), float(score))
