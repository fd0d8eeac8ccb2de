"""`Assistant`, the Python API: the one object the CLI, the web UI, the HTTP API, the MCP
server and the eval call, and nothing below it.

It owns one `Settings`, and builds the store, the embedding model and the LLM lazily,
once each, on first use; constructing it does no I/O. It checks its own inputs (wrong types
and shapes raise `InputError`, never an AttributeError from deep inside), returns the
package's own view models (`assistant.core.models`), and owns the generation slots: the local
model answers one question at a time (an `openai` endpoint ASSISTANT_LLM_PARALLEL at a time,
when set), the others wait up to ASSISTANT_QUEUE_WAIT_S and then get `BusyError`; searches,
ingests and extractive answers never wait for them.
Not here: formatting for people, HTTP, MCP.
"""

from __future__ import annotations

import datetime
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from assistant.core.dates import PartialDate, check_as_of
from assistant.core.errors import (
    BusyError,
    ConfigError,
    DataDirError,
    InputError,
    QuestionError,
    UploadTooLarge,
    check_k,
)
from assistant.core.models import (
    Answer,
    AnswerStream,
    DocumentSummary,
    DocumentText,
    Event,
    FinalEvent,
    History,
    SearchHit,
    TimelineEvent,
)
from assistant.core.settings import Settings, settings_error

if TYPE_CHECKING:  # imported where used: they load llama-index, and `import assistant` must not
    from llama_index.core.base.base_query_engine import BaseQueryEngine
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.chat_engine.types import BaseChatEngine

    from assistant.answer.claims import ClaimCheck
    from assistant.answer.pipeline import AnswerPipeline
    from assistant.index.ingest import FileResult, IngestReport

EXTRACTIVE = "extractive"  # the model name of extractive answers (no LLM)
TIMELINE_CHUNKS = 20  # chunks retrieved for a timeline's topic


class Chat:
    """A conversation: each question sees the turns before it, and is added to them."""

    def __init__(self, assistant: Assistant, history: History | None = None) -> None:
        self.assistant = assistant
        self.history: History = assistant.check_history(history)

    def stream(self, question: str, *, extractive: bool = False) -> AnswerStream:
        """Like `Assistant.stream`; the turn joins the history when the answer is complete."""
        inner = self.assistant.stream(question, self.history, extractive=extractive)

        def events() -> Iterator[Event]:
            for event in inner.events():
                if isinstance(event, FinalEvent):
                    self.history = [*self.history, {"role": "user", "content": question},
                                    {"role": "assistant", "content": event.answer.text}]
                yield event

        return AnswerStream(events())

    def send(self, question: str, *, extractive: bool = False) -> Answer:
        return _drain(self.stream(question, extractive=extractive))

    def clear(self) -> None:
        self.history = []


def _drain(stream: AnswerStream) -> Answer:
    for _ in stream.events():
        pass
    assert stream.answer is not None
    return stream.answer


class Assistant:
    def __init__(self, settings: Settings | None = None, *, generator: Any = None,
                 **overrides: Any) -> None:
        """`generator`: an `assistant.llm.generators.Generator` to use instead of the configured LLM."""
        try:  # overrides are validated with or without `settings` (model_copy would not)
            self.settings = (Settings.model_validate({**settings.model_dump(), **overrides})
                             if settings is not None and overrides
                             else settings or Settings(**overrides))
        except ValidationError as exc:  # Assistant(llm="bogus"): an AssistantError, as elsewhere
            raise ConfigError(settings_error(exc)) from None
        self._parts_lock = threading.RLock()  # store, embedder, retriever
        self._llm_lock = threading.Lock()  # loading the LLM (slow) blocks nothing else
        self._ingest_lock = threading.Lock()  # one ingest at a time
        self._slots = {"local": 1, "openai": self.settings.llm_parallel or 0}.get(self.settings.llm, 0)
        self._slot = threading.Semaphore(self._slots)  # generations at once (0 = no limit)
        self._waiting = 0
        self._generating = 0
        self._embedder_obj: Any = None
        self._store_obj: Any = None
        self._retriever: Any = None
        self._documents: Any = None
        self._generator: Any = generator
        self._has_documents = False

    # --- lazily built parts (private: callers use the methods below) ---------------------
    @property
    def _embedder(self) -> Any:
        with self._parts_lock:
            if self._embedder_obj is None:
                from assistant.index.embedding import MiniLMEmbedding, OpenAIEmbedding

                settings = self.settings
                match settings.embedding:
                    case "local":
                        embedder: Any = MiniLMEmbedding(embed_batch_size=settings.embed_batch_size)
                    case "openai":
                        embedder = OpenAIEmbedding(
                            settings.embedding_base_url, settings.embedding_model,
                            settings.embedding_api_key, settings.embed_batch_size,
                            settings.embedding_timeout_s)
                    case other:
                        raise ConfigError(f"Unknown ASSISTANT_EMBEDDING={other!r}; use local or openai.")
                embedder.load()  # loads and checks the model (or reaches the server) now, once
                self._embedder_obj = embedder
            return self._embedder_obj

    def _embedding_id(self) -> str:
        """The model id the store records, known without loading the model."""
        from assistant.index.embedding import MODEL_ID

        return MODEL_ID if self.settings.embedding == "local" else f"openai:{self.settings.embedding_model}"

    @property
    def _store(self) -> Any:
        with self._parts_lock:
            if self._store_obj is None:
                from assistant.index.embedding import DIMENSIONS
                from assistant.index.store import Store

                if not self.settings.chroma_url:
                    self._writable_dir(self.settings.data_dir)
                dimensions = (DIMENSIONS if self.settings.embedding == "local"
                              else self._embedder.dimensions)
                self._store_obj = Store.open(self.settings.data_dir, self.settings.chroma_url,
                                             self.settings.collection, self._embedding_id(),
                                             dimensions)
            return self._store_obj

    def _writable_dir(self, folder: Path) -> Path:
        """`folder`, created if need be; DataDirError saying why when it cannot be."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            usable = os.access(folder, os.W_OK | os.X_OK)
            reason = "" if usable else "permission denied"
        except FileExistsError:
            reason = "a file of that name is in the way"
        except NotADirectoryError:
            reason = "a part of the path is a file, not a folder"
        except PermissionError:
            reason = "permission denied"
        except OSError as exc:
            reason = exc.strerror or str(exc)
        if reason:
            raise DataDirError(f"The data directory cannot be used: {folder}: {reason}. Set "
                               "ASSISTANT_DATA_DIR to a folder this user can create and write.")
        return folder

    def _lexical_dir(self) -> Path:
        """Where this process keeps the lexical index of its store (one per store and collection)."""
        import hashlib

        where = self.settings.chroma_url or "embedded"
        tag = hashlib.sha256(where.encode()).hexdigest()[:8]
        return self._writable_dir(self.settings.data_dir / "lexical" / f"{self.settings.collection}-{tag}")

    def _pipeline(self, extractive: bool = False) -> AnswerPipeline:
        """The answer pipeline; with `extractive`, or ASSISTANT_LLM=none, or ASSISTANT_JUDGE=rules,
        without the LLM reader."""
        from assistant.answer.pipeline import AnswerPipeline

        with self._parts_lock:
            if self._retriever is None:
                from assistant.answer.evidence import Documents
                from assistant.index.retrieval import HybridRetriever

                self._retriever = HybridRetriever(self._store, self._lexical_dir())
                self._documents = Documents(self._store)
        settings = self.settings
        if settings.llm not in ("local", "openai", "none"):
            raise ConfigError(f"Unknown ASSISTANT_LLM={settings.llm!r}; use local, openai or none.")
        if extractive and settings.llm != "none":
            settings = settings.model_copy(update={"llm": "none"})
        reads = settings.llm != "none" and settings.judge == "llm"
        return AnswerPipeline(settings, self._embedder, self._retriever, self._documents,
                              self.generator() if reads else None)

    def warm_up(self) -> None:
        """Load the models and the lexical index now, so the first question is fast; with the
        local model, evaluate the reader's fixed instructions once (llama.cpp keeps their KV
        state). Stored sentences need no warming: their vectors were computed at ingest."""
        pipeline = self._pipeline()
        pipeline.retriever.warm_up()
        pipeline.retriever.retrieve("warm up", self._embedder.embed(["warm up"])[0], 1)
        if self.settings.llm == "local":
            from assistant.core import prompts
            from assistant.llm.generators import Message

            with self._generation_slot():
                self.generator().choose([Message("system", prompts.READER_SYSTEM),
                                         Message("user", "Question:")], ["yes", "no"])
        elif self.settings.llm == "openai":
            self.generator()

    def generator(self) -> Any:
        """The LLM, loaded on first call (the pipeline calls it only when it must generate)."""
        with self._llm_lock:
            if self._generator is None:
                from assistant.llm.generators import build_generator

                self._generator = build_generator(self.settings)
            return self._generator

    # --- the generation slots --------------------------------------------------------------
    @contextmanager
    def _generation_slot(self) -> Iterator[None]:
        """Hold an LLM slot; BusyError after ASSISTANT_QUEUE_WAIT_S of waiting for one."""
        with self._parts_lock:
            self._waiting += 1
            ahead = self._waiting - 1
        try:
            acquired = self._slot.acquire(timeout=self.settings.queue_wait_s)
        finally:
            with self._parts_lock:
                self._waiting -= 1
        if not acquired:
            raise BusyError(
                f"The LLM is answering other questions ({ahead} were waiting before this one) "
                f"and {self.settings.queue_wait_s:g} s passed (ASSISTANT_QUEUE_WAIT_S). Try "
                "again shortly; searches and extractive answers do not wait.")
        with self._parts_lock:
            self._generating += 1
        try:
            yield
        finally:
            with self._parts_lock:
                self._generating -= 1
            self._slot.release()

    def _in_slot(self, events: Iterator[Event]) -> Iterator[Event]:
        with self._generation_slot():  # taken when iteration starts, freed when it ends or stops
            yield from events

    # --- documents ---------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path] | str | Path | None = None, prune: bool = True,
               progress: bool | None = False,
               on_file: Callable[[FileResult], None] | None = None) -> IngestReport:
        """Ingest files and folders (default: the corpus folder); unchanged files cost nothing."""
        from assistant.index.ingest import ingest_paths

        if isinstance(paths, str | Path):
            paths = [paths]
        given = list(paths) if isinstance(paths, Iterable) else paths
        if given is not None and not (isinstance(given, list)
                                      and all(isinstance(p, str | os.PathLike) for p in given)):
            raise InputError("ingest() takes a path or a list of paths (str or Path); got "
                             f"{type(paths).__name__}.")
        targets = [Path(p) for p in given] if given is not None else [self.settings.corpus_dir]
        with self._ingest_lock:
            return ingest_paths(targets, self._store, self._embedder, self.settings.chunk_tokens,
                                self.settings.chunk_overlap_tokens, prune, progress, on_file)

    def upload(self, files: Iterable[tuple[str, bytes]],
               on_file: Callable[[FileResult], None] | None = None, *,
               published: str | datetime.date | None = None) -> IngestReport:
        """Save `(file name, content)` pairs under DATA_DIR/uploads and ingest them; `published`
        (a date such as "2025-03-31") dates them all, before any date the files give themselves.

        UploadTooLarge when together they exceed ASSISTANT_MAX_UPLOAD_MB (nothing is saved);
        otherwise one result per file, in their order, and a bad file or name never stops the
        others. Names are made safe and unique (`assistant.index.uploads`); an upload's source
        is "uploads/<name>", so it never replaces a corpus document. Files are parsed before
        the ingest lock is taken, so a slow one holds up no other upload's storing.
        """
        from assistant.index.documents import UnreadableFile, load_document
        from assistant.index.ingest import FileResult, IngestReport, ingest_documents
        from assistant.index.uploads import discard, keep, save_uploads, shown

        if isinstance(files, str | bytes) or not isinstance(files, Iterable):
            raise InputError(f"upload() takes a list of (file name, bytes) pairs; got "
                             f"{type(files).__name__}.")
        files = list(files)
        for item in files:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                    and isinstance(item[1], bytes | bytearray)):
                got = (f"({type(item[0]).__name__}, {type(item[1]).__name__})"
                       if isinstance(item, tuple) and len(item) == 2 else type(item).__name__)
                raise InputError(f"upload() takes (file name, bytes) pairs; got {got}.")
        total, limit = sum(len(data) for _, data in files), self.settings.max_upload_mb * 1e6
        if total > limit:
            raise UploadTooLarge(f"The upload is {total / 1e6:.1f} MB; the limit is "
                                 f"{self.settings.max_upload_mb:g} MB (ASSISTANT_MAX_UPLOAD_MB).")
        date = self._as_of(published, "published")
        meta = {"published": date.iso(), "published_from": "upload"} if date else {}
        saved = save_uploads(self._writable_dir(self.settings.data_dir / "uploads"), files)
        loaded: list[tuple[str, Any]] = []
        try:
            for upload, (_, data) in zip(saved, files, strict=True):
                if upload.path is not None:
                    try:
                        loaded.append((upload.source, load_document(upload.path, upload.source,
                                                                    meta, data=bytes(data))))
                    except UnreadableFile as exc:
                        loaded.append((upload.source, exc))
            with self._ingest_lock:  # stored and kept together: two uploads of one name
                # leave the saved copy of the one the store holds
                stored = ingest_documents(loaded, self._store, self._embedder,
                                          self.settings.chunk_tokens,
                                          self.settings.chunk_overlap_tokens, on_file,
                                          ) if loaded else IngestReport()
                by_source = {r.source: r for r in stored.results}
                for upload in saved:
                    stored_well = (upload.source in by_source
                                   and by_source[upload.source].status != "failed")
                    (keep if stored_well else discard)(upload)
        except BaseException:  # the store is down, say: no saved copy changes
            for upload in saved:
                discard(upload)
            raise
        return IngestReport([
            FileResult(shown(u.name), "failed", reason=u.refused, name=u.name) if u.refused
            else replace(by_source[u.source], name=u.name) for u in saved])

    def documents(self) -> list[DocumentSummary]:
        return [DocumentSummary(d.doc_id, d.title, d.source, d.publisher, d.chunks, d.ingested_at,
                                d.published, d.published_from)
                for d in self._store.documents()]

    def document(self, doc_id: str) -> DocumentText:
        """The document with its exact text; DocumentNotFound when there is none."""
        if not isinstance(doc_id, str):
            raise InputError(f"doc_id must be a string, not {type(doc_id).__name__}.")
        d = self._store.document(doc_id)
        return DocumentText(d.doc_id, d.title, d.source, d.publisher, d.author, d.published, d.text,
                            str(d.extra.get("published_from", "")))

    def remove(self, doc_id: str) -> None:
        """Remove a document from the store; an upload's saved copy (DATA_DIR/uploads/<name>)
        goes with it. A file of an ingested folder stays: it is the user's own."""
        from assistant.index.uploads import forget

        self.document(doc_id)  # raises DocumentNotFound
        with self._ingest_lock:
            info = next((d for d in self._store.documents() if d.doc_id == doc_id), None)
            self._store.delete_document(doc_id)
            self._has_documents = False
            if info is not None and not info.root:  # an upload: no folder was ingested for it
                try:
                    forget(self.settings.data_dir / "uploads", info.source)
                except OSError as exc:  # the document is gone; say what stays on disk
                    raise DataDirError(f"Removed {info.source} from the store, but could not "
                                       f"delete its saved file: {exc}.") from exc

    # --- questions ---------------------------------------------------------------------
    def _check(self, question: object, what: str = "question",
               fix: str = "type a question about the documents") -> str:
        from assistant.core.text import is_unicode  # not at import: it loads the lemmatizer

        if not isinstance(question, str):
            raise QuestionError(f"The {what} must be a string, not {type(question).__name__}.")
        question = question.strip()
        if not question:
            raise QuestionError(f"The {what} is empty: {fix}.")
        if not is_unicode(question):
            raise QuestionError(f"The {what} is not valid Unicode (it holds an unpaired surrogate, "
                                "as left by bytes that were not UTF-8): send it as UTF-8 text.")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"The {what} is {len(question):,} characters; the limit is "
                f"{self.settings.max_question_chars:,} (ASSISTANT_MAX_QUESTION_CHARS). Shorten it.")
        return question

    def check_history(self, history: object) -> History:
        """A copy of `history` as a list of {"role": "user"|"assistant", "content": str}; a user
        turn is held to the question's length limit (it was a question)."""
        from assistant.core.text import is_unicode

        if history is None:
            return []
        if not isinstance(history, list | tuple):
            raise InputError("history must be a list of {'role': 'user' or 'assistant', "
                             f"'content': str}} turns, not {type(history).__name__}.")
        turns = []
        for i, turn in enumerate(history):
            if not (isinstance(turn, Mapping) and turn.get("role") in ("user", "assistant")
                    and isinstance(turn.get("content"), str)):
                raise InputError(f"history[{i}] must be {{'role': 'user' or 'assistant', "
                                 f"'content': str}}; got {str(turn)[:80]!r}.")
            if not is_unicode(turn["content"]):
                raise InputError(f"history[{i}]'s content is not valid Unicode text (it holds a "
                                 "lone surrogate, such as an unpaired \\ud800 escape).")
            asked = len(turn["content"].strip())  # measured as a question is
            if turn["role"] == "user" and asked > self.settings.max_question_chars:
                raise InputError(
                    f"history[{i}] is a user turn of {asked:,} characters; the limit "
                    f"is {self.settings.max_question_chars:,} (ASSISTANT_MAX_QUESTION_CHARS), as for "
                    "a question. Shorten it.")
            turns.append({"role": str(turn["role"]), "content": str(turn["content"])})
        return turns

    def _require_documents(self) -> None:
        """An empty store is an error that says how to fill it, not a refusal of everything."""
        if not self._has_documents:
            if self._store.chunk_count() == 0:
                from assistant.core.errors import EmptyStoreError

                raise EmptyStoreError(
                    f"The store ({self.settings.chroma_url or self.settings.data_dir}) holds no "
                    f"documents yet: run `assistant ingest` (the folder {self.settings.corpus_dir}) "
                    "or call Assistant.ingest() first.")
            self._has_documents = True

    def search(self, query: str, k: int | None = None, *, as_of: str | datetime.date | None = None,
               ) -> list[SearchHit]:
        """Top chunks for `query` (hybrid vector + BM25), with document offsets and dates; with
        `as_of`, from documents published on or before that date (and undated ones)."""
        query = self._check(query)
        check_k(k)
        cutoff = self._as_of(as_of)
        self._require_documents()
        pipeline = self._pipeline(extractive=True)  # retrieval only: never loads the LLM
        vector = self._embedder.embed([query])[0]
        chunks = pipeline.retriever.retrieve(query, vector, k or self.settings.top_k, cutoff)
        return [SearchHit(c.doc_id, c.title, c.source, c.text, c.start, c.end, c.score,
                          c.published or None) for c in chunks]

    def stream(self, question: str, history: History | None = None, *,
               extractive: bool = False, as_of: str | datetime.date | None = None) -> AnswerStream:
        """Text deltas of the verified answer; `.answer` is set when iteration ends.

        `extractive=True` answers without the LLM (and without waiting for it) even when
        one is configured. `as_of` (a date such as "2025-03-31"): only documents published on
        or before it count; undated ones are kept. With the local LLM, iteration waits for the
        generation slot.
        """
        question = self._check(question)
        turns = self.check_history(history)
        cutoff = self._as_of(as_of)
        self._require_documents()
        events = self._pipeline(extractive).stream(question, turns, cutoff).events()
        if self._slots and not extractive:
            events = self._in_slot(events)
        return AnswerStream(events)

    def ask(self, question: str, history: History | None = None, *,
            extractive: bool = False, as_of: str | datetime.date | None = None) -> Answer:
        return _drain(self.stream(question, history, extractive=extractive, as_of=as_of))

    @staticmethod
    def _as_of(value: object, what: str = "as_of") -> PartialDate | None:
        """A date argument (as_of, an upload's date) as a date; InputError when it is none."""
        try:
            return check_as_of(value, what)
        except ValueError as exc:
            raise InputError(str(exc)) from None

    def timeline(self, topic: str | None = None, *, as_of: str | datetime.date | None = None,
                 ) -> list[TimelineEvent]:
        """Dated events of the documents, in order: sentences that give a date, and dated
        documents' own dates, each an exact span; with a topic, of the text retrieved for it;
        with `as_of`, of the documents published on or before that date."""
        from assistant.answer.timeline import events
        from assistant.core.text import sentence_spans

        cutoff = self._as_of(as_of)
        self._require_documents()
        pipeline = self._pipeline(extractive=True)
        only: set[tuple[str, int, int]] | None = None
        ids = [d.doc_id for d in self._store.documents()]
        if topic is not None:
            topic = self._check(topic, "topic", "name what the timeline is about, or give none")
            vector = self._embedder.embed([topic])[0]
            chunks = pipeline.retriever.retrieve(topic, vector, TIMELINE_CHUNKS, cutoff)
            only = {(c.doc_id, s, e) for c in chunks for s, e in sentence_spans(c.text, c.start)}
            ids = list(dict.fromkeys(c.doc_id for c in chunks))
        return events(((i, pipeline.documents.get(i)) for i in ids), cutoff, only)

    def chat(self, history: History | None = None) -> Chat:
        return Chat(self, history)

    @property
    def model_name(self) -> str:
        """The configured answer backend's model, as the HTTP API names it."""
        return {"local": self.settings.local_model, "openai": self.settings.openai_model,
                "none": EXTRACTIVE}[self.settings.llm]

    def status(self) -> dict[str, Any]:
        """What is in use, for status lines."""
        docs = self.documents()
        llm = {"local": f"local {self.settings.local_model} (llama.cpp)",
               "openai": f"openai {self.settings.openai_model} at {self.settings.openai_base_url}",
               "none": "none (extractive)"}[self.settings.llm]
        return {"llm": llm, "model": self.model_name, "embedding": self._embedding_id(),
                "documents": len(docs), "chunks": sum(d.chunks for d in docs),
                "store": self.settings.chroma_url or str(self.settings.data_dir / "chroma"),
                "llm_busy": self._generating > 0, "waiting_for_llm": self._waiting}

    # --- llama-index (imported only here, so `import assistant` does not load it) -------
    def as_retriever(self, k: int | None = None) -> BaseRetriever:
        """A llama-index retriever over `search` (k defaults to ASSISTANT_TOP_K)."""
        from assistant.adapters.llamaindex import AssistantRetriever

        return AssistantRetriever(self, k)

    def as_query_engine(self, streaming: bool = False) -> BaseQueryEngine:
        """A llama-index query engine answering with `ask` (or `stream`) and its citations."""
        from assistant.adapters.llamaindex import AssistantQueryEngine

        return AssistantQueryEngine(self, streaming)

    def as_chat_engine(self) -> BaseChatEngine:
        """A llama-index chat engine over a `Chat`'s history."""
        from assistant.adapters.llamaindex import AssistantChatEngine

        return AssistantChatEngine(self)

    # --- claim checking (assistant/claims.py) --------------------------------------------
    def check(self, statement: str, *, as_of: str | datetime.date | None = None) -> ClaimCheck:
        """Each claim of `statement`: supported, contradicted, outdated (true by an older
        document, changed by a newer one, or a sentence says its value changed) or not in the
        documents, with the spans that decide it; with `as_of`, by the documents published on or
        before that date."""
        from assistant.answer.claims import ClaimChecker
        from assistant.answer.followup import follow_up
        from assistant.answer.pipeline import Trace

        statement = self._check(statement, "statement", "paste the claim(s) to check")
        cutoff = self._as_of(as_of)
        self._require_documents()
        pipeline = self._pipeline()
        checker = ClaimChecker(lambda q: pipeline.gather(q, follow_up(q.text, []), cutoff, Trace()),
                               pipeline.generator)
        if pipeline.generator is not None and self._slots:
            with self._generation_slot():
                return checker.check(statement, self.settings.llm)
        return checker.check(statement, self.settings.llm)
