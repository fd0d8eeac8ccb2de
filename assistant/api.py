"""`Assistant`, the Python API: the one object the CLI, the web UI and the eval all call.

It owns one `Settings`, and builds the store, the embedding model and the LLM lazily,
once each, on first use; constructing it does no I/O. Not here: formatting for people.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from assistant.answering import AnswerPipeline, AnswerStream
from assistant.documents import Document
from assistant.errors import ConfigError, QuestionError
from assistant.ingest import FileResult, IngestReport, ingest_paths
from assistant.models import Answer, SearchHit
from assistant.settings import Settings

History = list[dict[str, str]]


class Chat:
    """A conversation: each `send` sees the turns before it."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.history: History = []

    def send(self, question: str) -> Answer:
        answer = self.assistant.ask(question, history=self.history)
        self.history += [{"role": "user", "content": question},
                         {"role": "assistant", "content": answer.text}]
        return answer

    def clear(self) -> None:
        self.history = []


class Assistant:
    def __init__(self, settings: Settings | None = None, *, generator: Any = None,
                 **overrides: Any) -> None:
        """`generator`: an `assistant.llm.Generator` to use instead of the configured LLM."""
        self.settings = settings or Settings(**overrides)
        if settings is not None and overrides:
            self.settings = settings.model_copy(update=overrides)
        self._lock = threading.RLock()
        self._embedder: Any = None
        self._store: Any = None
        self._retriever: Any = None
        self._vectors: Any = None
        self._generator: Any = generator
        self._has_documents = False

    # --- lazily built parts ------------------------------------------------------------
    @property
    def embedder(self) -> Any:
        with self._lock:
            if self._embedder is None:
                from assistant.embedding import MiniLMEmbedding, OpenAIEmbedding

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
                self._embedder = embedder
            return self._embedder

    def _embedding_id(self) -> str:
        """The model id the store records, known without loading the model."""
        from assistant.embedding import MODEL_ID

        return MODEL_ID if self.settings.embedding == "local" else f"openai:{self.settings.embedding_model}"

    @property
    def store(self) -> Any:
        with self._lock:
            if self._store is None:
                from assistant.embedding import DIMENSIONS
                from assistant.store import Store

                dimensions = DIMENSIONS if self.settings.embedding == "local" else self.embedder.dimensions
                self._store = Store.open(self.settings.data_dir, self.settings.chroma_url,
                                         self.settings.collection, self._embedding_id(), dimensions)
            return self._store

    def _lexical_dir(self) -> Path:
        """Where this process keeps the lexical index of its store (one per store and collection)."""
        import hashlib

        where = self.settings.chroma_url or "embedded"
        tag = hashlib.sha256(where.encode()).hexdigest()[:8]
        return self.settings.data_dir / "lexical" / f"{self.settings.collection}-{tag}"

    def _pipeline(self) -> AnswerPipeline:
        with self._lock:
            if self._retriever is None:
                from assistant.evidence import SentenceVectors
                from assistant.retrieval import HybridRetriever

                self._retriever = HybridRetriever(self.store, self._lexical_dir())
                self._vectors = SentenceVectors(self.embedder, self.store)
        drafter, judge = self._backend()
        return AnswerPipeline(self.settings, self.embedder, self._retriever, self._vectors,
                              drafter, judge)

    def _backend(self) -> tuple[Any, Any]:
        """The drafter and the answerability judge for `settings.llm`."""
        from assistant.drafting import ExtractiveDrafter, LLMDrafter
        from assistant.judge import LLMJudge, RuleJudge

        match self.settings.llm:
            case "none":
                return ExtractiveDrafter(), RuleJudge()
            case "local" | "openai":
                generator = self.generator()
                return LLMDrafter(generator), LLMJudge(generator)
            case other:
                raise ConfigError(f"Unknown ASSISTANT_LLM={other!r}; use local, openai or none.")

    def warm_up(self) -> None:
        """Load the models and the lexical index now, so the first question is fast.

        Stored sentences need no warming: their vectors were computed at ingest."""
        pipeline = self._pipeline()
        pipeline.retriever.warm_up()
        pipeline.retriever.retrieve("warm up", self.embedder.embed(["warm up"])[0], 1)
        if self.settings.llm == "local":  # llama.cpp keeps the system prompt's KV state from now on
            from assistant import prompts
            from assistant.llm import Message

            self.generator().choose([Message("system", prompts.ANSWER_SYSTEM),
                                     Message("user", "Evidence:")], ["0"])
        elif self.settings.llm == "openai":
            self.generator()

    def generator(self) -> Any:
        """The LLM, loaded on first call (the pipeline calls it only when it must generate)."""
        with self._lock:
            if self._generator is None:
                from assistant.llm import build_generator

                self._generator = build_generator(self.settings)
            return self._generator

    # --- documents ---------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path] | None = None, prune: bool = True,
               progress: bool | None = False,
               on_file: Callable[[FileResult], None] | None = None) -> IngestReport:
        """Ingest files and folders (default: the corpus folder); unchanged files cost nothing."""
        targets = [Path(p) for p in paths] if paths is not None else [self.settings.corpus_dir]
        return ingest_paths(targets, self.store, self.embedder, self.settings.chunk_tokens,
                            self.settings.chunk_overlap_tokens, prune, progress, on_file)

    def documents(self) -> list[Any]:
        return list(self.store.documents())

    def document(self, doc_id: str) -> Document:
        return self.store.document(doc_id)

    def remove(self, doc_id: str) -> None:
        self.store.document(doc_id)  # raises DocumentNotFound
        self.store.delete_document(doc_id)
        self._has_documents = False

    # --- questions ---------------------------------------------------------------------
    def _check(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise QuestionError("The question is empty: type a question about the documents.")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"The question is {len(question):,} characters; the limit is "
                f"{self.settings.max_question_chars:,} (ASSISTANT_MAX_QUESTION_CHARS). Shorten it.")
        return question

    def _require_documents(self) -> None:
        """An empty store is an error that says how to fill it, not a refusal of everything."""
        if not self._has_documents:
            if self.store.chunk_count() == 0:
                from assistant.errors import EmptyStoreError

                raise EmptyStoreError(
                    f"The store ({self.settings.chroma_url or self.settings.data_dir}) holds no "
                    f"documents yet: run `assistant ingest` (the folder {self.settings.corpus_dir}) "
                    "or call Assistant.ingest() first.")
            self._has_documents = True

    def search(self, query: str, k: int | None = None) -> list[SearchHit]:
        """Top chunks for `query` (hybrid vector + BM25), with document offsets."""
        query = self._check(query)
        self._require_documents()
        pipeline = self._pipeline()
        vector = self.embedder.embed([query])[0]
        chunks = pipeline.retriever.retrieve(query, vector, k or self.settings.top_k)
        return [SearchHit(c.doc_id, c.title, c.source, c.text, c.start, c.end, c.score)
                for c in chunks]

    def stream(self, question: str, history: History | None = None) -> AnswerStream:
        """Text deltas of the verified answer; `.answer` is set when iteration ends."""
        question = self._check(question)
        for turn in history or []:
            if turn.get("role") not in ("user", "assistant") or "content" not in turn:
                raise ConfigError("history turns need role 'user' or 'assistant' and content.")
        self._require_documents()
        return self._pipeline().stream(question, list(history or []))

    def ask(self, question: str, history: History | None = None) -> Answer:
        stream = self.stream(question, history)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def support_score(self, claim: str, quote: str) -> float:
        """The verifier's support score of `quote` for `claim` (0..1); the eval uses it too."""
        from assistant.verify import MARKER, support_scores

        self._pipeline()
        return support_scores(MARKER.sub("", claim).strip(), [quote], self._vectors)[0]

    def chat(self) -> Chat:
        return Chat(self)

    def status(self) -> dict[str, Any]:
        """What is in use, for status lines."""
        docs = self.documents()
        llm = {"local": f"local {self.settings.local_model} (llama.cpp)",
               "openai": f"openai {self.settings.openai_model} at {self.settings.openai_base_url}",
               "none": "none (extractive)"}[self.settings.llm]
        return {"llm": llm, "embedding": self._embedding_id(), "documents": len(docs),
                "chunks": sum(d.chunks for d in docs),
                "store": self.settings.chroma_url or str(self.settings.data_dir / "chroma")}
