"""Ingestion: files -> documents -> sentence-aware chunks -> embeddings -> Chroma, idempotently.

A document whose text, metadata and chunking settings are unchanged is skipped without
embedding anything; a changed one has all its chunks replaced; when a folder is ingested,
documents that came from that folder and are gone from it are removed (unless
`prune=False`). A file that cannot be read is reported with its reason and the others go on.
Changed documents are gathered until they hold `BATCH_CHUNKS` chunks; then their chunks are
embedded in one call, in full model batches across files, each sentence's vector pooled from
its chunk's forward pass (no extra embedding), and written in one request per collection.
`ingest_documents` stores documents parsed already (uploads, parsed before the caller takes its
ingest lock). Not here: parsing formats (`documents.py`), upload names (`uploads.py`) or talking
to Chroma (`store.py`).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from assistant.core.text import is_unicode, sentence_spans
from assistant.index.chunking import ChunkSpan, split_into_chunks
from assistant.index.documents import (
    MANIFEST,
    SUPPORTED,
    Document,
    UnreadableFile,
    doc_id_for,
    load_document,
    read_manifest,
)
from assistant.index.store import PreparedDocument, Store
from assistant.index.uploads import NAMESPACE

BATCH_CHUNKS = 1000  # chunks gathered before embedding and writing
FORMAT = "sentence-spans-4"  # in every fingerprint: stores written before it are re-ingested once

Status = Literal["added", "updated", "unchanged", "removed", "failed", "skipped"]


@dataclass(frozen=True)
class FileResult:
    source: str
    status: Status
    chunks: int = 0
    reason: str = ""
    doc_id: str = ""
    name: str = ""  # an upload's file name as the client sent it


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("added", "updated", "unchanged", "removed",
                                                   "skipped", "failed") if self.count(s)]
        return ", ".join(parts) or "nothing to ingest"


@dataclass(frozen=True)
class _Candidate:
    path: Path
    source: str
    root: str
    meta: dict[str, object]


def _candidates(paths: Iterable[Path], report: IngestReport) -> tuple[list[_Candidate], list[str]]:
    """Files to ingest, and the folder roots they came from (for pruning)."""
    found: list[_Candidate] = []
    roots: list[str] = []
    for path in paths:
        if path.is_dir():
            root = str(path.resolve())
            roots.append(root)
            manifest = read_manifest(path)
            for file in sorted(p for p in path.rglob("*") if not p.is_dir()):
                rel = file.relative_to(path)
                if file.name == MANIFEST or any(part.startswith(".") for part in rel.parts):
                    continue
                if file.suffix.lower() not in SUPPORTED:
                    report.results.append(FileResult(_printable(rel.as_posix()), "skipped",
                                                     reason=f"not a supported type ({file.suffix})"))
                    continue
                refused = _not_a_file(file) or _refused_name(file, rel, root)
                if refused:
                    report.results.append(FileResult(_printable(rel.as_posix()), "failed",
                                                     reason=refused))
                    continue
                found.append(_Candidate(file, rel.as_posix(), root, manifest.get(rel.as_posix(), {})))
        elif path.is_file():
            meta = read_manifest(path.parent).get(path.name, {})
            found.append(_Candidate(path, path.name, "", meta))
        else:
            reason = _not_a_file(path) if path.exists() or path.is_symlink() else "no such file or folder"
            report.results.append(FileResult(str(path), "failed", reason=reason))
    return found, roots


def _refused_name(file: Path, rel: Path, root: str) -> str:
    """Why a file found in a folder is not read: a name that is not UTF-8 (no store keeps it), or
    a link to a file outside the folder (ingesting a folder reads that folder only)."""
    if not is_unicode(rel.as_posix()):
        return "its name is not valid UTF-8; rename it"
    if file.is_symlink() and not file.resolve().is_relative_to(root):
        return "a link to a file outside the folder; copy the file in instead"
    return ""


def _upload_and_folder(source: str, stored_root: str, root: str) -> bool:
    """An upload ("uploads/x.txt", no folder) and a folder's file of that path ("uploads/x.txt"
    under it) share a doc id: neither replaces the other."""
    return source.startswith(f"{NAMESPACE}/") and bool(stored_root) != bool(root)


def _not_a_file(file: Path) -> str:
    """Why an entry that is no regular file is not read: reading a pipe or a device (a link to
    /dev/zero) would block or never end, and a broken link has nothing to read."""
    if file.is_file():
        return ""
    if not file.exists():
        return "a link to nothing (its target is missing, or it loops)"
    return "not a regular file (a pipe, socket or device); only files are read"


def _from_another_folder(stored_root: str, root: str) -> bool:
    """A document's id is its path inside its folder, so "a/x.txt" and "b/x.txt" share one: the
    second is refused while the first folder is there (a folder that moved takes its ids along)."""
    return bool(stored_root and root and stored_root != root and Path(stored_root).is_dir())


def _printable(name: str) -> str:
    """The name with bytes that are not UTF-8 shown as U+FFFD, for the report."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _fingerprint(text_sha: str, metadata: dict[str, str], *settings: object) -> str:
    key = repr((text_sha, sorted(metadata.items()), settings))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass
class _Pending:
    """Documents chunked and waiting to be embedded and written together."""

    items: list[tuple[Document, list[ChunkSpan], str, str, FileResult]] = field(default_factory=list)
    chunks: int = 0


def write_batch(pending: _Pending, store: Store, embedder: Any) -> list[FileResult]:
    """Embed every chunk of the pending documents at once, each sentence of a chunk pooled from
    the chunk's own forward pass (a sentence two chunks share gets the mean of both), and
    write them."""
    if not pending.items:
        return []
    chunks = [c for _, doc_chunks, _, _, _ in pending.items for c in doc_chunks]
    spans = [sentence_spans(c.text) for c in chunks]
    vectors, sentence_vectors = embedder.embed_spans([c.text for c in chunks], spans)
    prepared, at = [], 0
    for doc, doc_chunks, root, fingerprint, _ in pending.items:
        pooled: dict[tuple[int, int], list[np.ndarray]] = {}
        for i in range(at, at + len(doc_chunks)):
            for (s, e), vector in zip(spans[i], sentence_vectors[i], strict=True):
                pooled.setdefault((chunks[i].start + s, chunks[i].start + e), []).append(vector)
        mean = {span: np.mean(found, axis=0) for span, found in pooled.items()}
        matrix = np.stack(list(mean.values())) if mean else None
        if matrix is not None:
            matrix /= np.clip(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12, None)
        prepared.append(PreparedDocument(doc, doc_chunks, vectors[at : at + len(doc_chunks)], root,
                                         fingerprint, list(mean), matrix))
        at += len(doc_chunks)
    store.put_documents(prepared)
    results = [item[4] for item in pending.items]
    pending.items, pending.chunks = [], 0
    return results


Loaded = tuple[str, str, Document | UnreadableFile]  # source, folder root, what came of it


def _load(candidates: list[_Candidate]) -> Iterator[Loaded]:
    for cand in candidates:
        try:
            yield cand.source, cand.root, load_document(cand.path, cand.source, dict(cand.meta))
        except UnreadableFile as exc:
            yield cand.source, cand.root, exc


def ingest_paths(
    paths: Iterable[Path],
    store: Store,
    embedder: Any,
    chunk_tokens: int,
    overlap_tokens: int,
    prune: bool = True,
    progress: bool | None = None,
    on_file: Callable[[FileResult], None] | None = None,
) -> IngestReport:
    """Bring the store in line with `paths`; see the module docstring for the rules."""
    report = IngestReport()
    try:
        candidates, roots = _candidates(list(paths), report)
    except UnreadableFile as exc:
        report.results.append(FileResult(MANIFEST, "failed", reason=str(exc)))
        return report
    known = {d.doc_id: d for d in store.documents()}
    seen = _store_all(_load(candidates), len(candidates), known, report, store, embedder,
                      chunk_tokens, overlap_tokens, progress, on_file)
    if prune:
        gone = [(doc_id, info) for doc_id, info in known.items()
                if info.root and info.root in roots and doc_id not in seen]
        if gone:
            store.delete_documents([doc_id for doc_id, _ in gone])
        for doc_id, info in gone:
            report.results.append(FileResult(info.source, "removed", doc_id=doc_id))
    return report


def ingest_documents(
    loaded: list[tuple[str, Document | UnreadableFile]],
    store: Store,
    embedder: Any,
    chunk_tokens: int,
    overlap_tokens: int,
    on_file: Callable[[FileResult], None] | None = None,
) -> IngestReport:
    """Store documents parsed already, each (source, the Document or why it could not be read)."""
    report = IngestReport()
    known = {d.doc_id: d for d in store.documents()}
    _store_all(((source, "", doc) for source, doc in loaded), len(loaded), known, report, store,
               embedder, chunk_tokens, overlap_tokens, False, on_file)
    return report


def _store_all(loaded: Iterator[Loaded], total: int, known: dict[str, Any], report: IngestReport,
               store: Store, embedder: Any, chunk_tokens: int, overlap_tokens: int,
               progress: bool | None, on_file: Callable[[FileResult], None] | None) -> set[str]:
    """Chunk, embed and write what changed; the doc_ids seen (a failed file keeps its chunks)."""
    from tqdm import tqdm

    seen: set[str] = set()
    pending = _Pending()

    def done(results: list[FileResult]) -> None:
        for result in results:
            report.results.append(result)
            if on_file:
                on_file(result)

    bar = tqdm(loaded, total=total, desc="Ingesting", unit="file", file=sys.stderr,
               disable=(not sys.stderr.isatty()) if progress is None else not progress)
    for source, root, doc in bar:
        bar.set_postfix_str(source[-40:])
        seen.add(doc_id_for(source))  # a file that fails to load keeps its old chunks
        if isinstance(doc, UnreadableFile):
            done([FileResult(source, "failed", reason=str(doc))])
            continue
        fingerprint = _fingerprint(doc.sha256, doc.metadata(), chunk_tokens, overlap_tokens,
                                   embedder.model_name, FORMAT)
        previous = known.get(doc.doc_id)
        if previous and _from_another_folder(previous.root, root):
            done([FileResult(source, "failed", reason="a document of the same name from another "
                             "folder is stored; rename one of them")])
            continue
        if previous and _upload_and_folder(previous.source, previous.root, root):
            done([FileResult(source, "failed", reason=f"an upload and a folder's file share the "
                             f"path {source}; rename the folder's sub-folder or remove the upload")])
            continue
        if previous and previous.fingerprint == fingerprint:
            done([FileResult(source, "unchanged", previous.chunks, doc_id=doc.doc_id)])
            continue
        chunks = split_into_chunks(doc.text, embedder.count_tokens, embedder.token_offsets,
                                   chunk_tokens, overlap_tokens)
        if not chunks:
            done([FileResult(source, "failed", reason="it holds no text to index")])
            continue
        result = FileResult(source, "updated" if previous else "added", len(chunks),
                            doc_id=doc.doc_id)
        pending.items.append((doc, chunks, root, fingerprint, result))
        pending.chunks += len(chunks)
        if pending.chunks >= BATCH_CHUNKS:
            done(write_batch(pending, store, embedder))
    done(write_batch(pending, store, embedder))
    return seen
