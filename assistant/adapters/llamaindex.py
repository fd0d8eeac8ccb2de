"""llama-index adapters: the assistant as a retriever, a query engine and a chat engine.

Each adapter calls the public `Assistant` API (`search`, `ask`, `stream`, `chat`) and turns its
view models into llama-index objects, so llama-index applications (tools, agents, routers,
evaluators) can compose our verified retrieval and answers. Nothing is re-ranked, re-split or
re-worded on the way: a node's text is exactly `document.text[start_char_idx:end_char_idx]`,
and its metadata names its document (doc_id, title, source) and the document's date
(`published`: ISO at the precision known, None when undated).
No adapter needs a llama-index LLM or embedding model (answers come from the assistant), so
llama-index never reaches for OpenAI. The async methods run the sync ones (the local model
generates one answer at a time anyway). The adapters take the assistant as an argument (any
object with the `Answering` methods), and this module is imported only by `Assistant.as_*`,
so `import assistant` does not load llama-index. Not here: retrieval or answering logic.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from dataclasses import asdict
from typing import Any, Protocol

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.base.response.schema import RESPONSE_TYPE, Response, StreamingResponse
from llama_index.core.callbacks import CallbackManager
from llama_index.core.chat_engine.types import (
    AgentChatResponse,
    BaseChatEngine,
    StreamingAgentChatResponse,
)
from llama_index.core.schema import (
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)

from assistant.core.errors import InputError, check_k
from assistant.core.models import Answer, AnswerStream, Citation, History, SearchHit


class Answering(Protocol):
    """What the adapters use of `assistant.Assistant`."""

    def search(self, query: str, k: int | None = None) -> list[SearchHit]: ...

    def ask(self, question: str, history: History | None = None) -> Answer: ...

    def stream(self, question: str, history: History | None = None) -> AnswerStream: ...

    def chat(self, history: History | None = None) -> Any: ...


def node_id(doc_id: str, start: int, end: int) -> str:
    """A span's node id: the same text span always gets the same id."""
    return f"{doc_id}:{start}-{end}"


def _node(doc_id: str, text: str, start: int, end: int, score: float,
          metadata: dict[str, Any]) -> NodeWithScore:
    node = TextNode(id_=node_id(doc_id, start, end), text=text, start_char_idx=start,
                    end_char_idx=end, metadata={"doc_id": doc_id, **metadata})
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc_id)  # ref_doc_id
    return NodeWithScore(node=node, score=score)


def hit_node(hit: SearchHit) -> NodeWithScore:
    """A retrieved chunk as a node: its text, offsets, fused score and document metadata."""
    return _node(hit.doc_id, hit.text, hit.start, hit.end, hit.score,
                 {"title": hit.title, "source": hit.source, "published": hit.published})


def citation_node(citation: Citation) -> NodeWithScore:
    """A citation as a node: the exact quote, its offsets, its [n], its support score and its
    document's date."""
    return _node(citation.doc_id, citation.quote, citation.start, citation.end, citation.score,
                 {"title": citation.title, "source": citation.source,
                  "published": citation.published, "citation": citation.number})


def answer_metadata(answer: Answer) -> dict[str, Any]:
    """What a `Response`'s metadata carries besides the text and the cited nodes."""
    return {"refused": answer.refused, "conflicts": [asdict(c) for c in answer.conflicts],
            "trace": answer.trace, "standalone_question": answer.standalone_question,
            "backend": answer.backend, "notice": answer.notice, "timings": answer.timings}


class AssistantRetriever(BaseRetriever):
    """`Assistant.search` as a llama-index retriever: one node per chunk, best first."""

    def __init__(self, assistant: Answering, k: int | None = None,
                 callback_manager: CallbackManager | None = None) -> None:
        check_k(k)
        super().__init__(callback_manager=callback_manager)
        self.assistant = assistant
        self.k = k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [hit_node(h) for h in self.assistant.search(query_bundle.query_str, k=self.k)]


class AssistantQueryEngine(BaseQueryEngine):
    """`Assistant.ask` as a llama-index query engine: the verified answer and its citations.

    `Response.response` is `Answer.text`; `source_nodes` has one node per citation; metadata
    holds `refused`, `conflicts`, `trace` and the rest of `answer_metadata`. With
    `streaming=True` it returns a `StreamingResponse` of the verified text deltas, whose
    source nodes and metadata are filled in when the stream ends.
    """

    def __init__(self, assistant: Answering, streaming: bool = False,
                 callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self.assistant = assistant
        self.streaming = streaming

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}  # the assistant's prompts are its own, not llama-index prompt templates

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [hit_node(h) for h in self.assistant.search(query_bundle.query_str)]

    def _query(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        if self.streaming:
            return self._stream(query_bundle.query_str)
        answer = self.assistant.ask(query_bundle.query_str)
        return Response(answer.text, [citation_node(c) for c in answer.citations],
                        answer_metadata(answer))

    async def _aquery(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        return self._query(query_bundle)

    def _stream(self, question: str) -> StreamingResponse:
        stream = self.assistant.stream(question)  # checks the question now, not when iterated
        nodes: list[NodeWithScore] = []
        metadata: dict[str, Any] = {}

        def deltas() -> Generator[str, None, None]:
            yield from stream
            assert stream.answer is not None
            nodes.extend(citation_node(c) for c in stream.answer.citations)
            metadata.update(answer_metadata(stream.answer))

        return StreamingResponse(response_gen=deltas(), source_nodes=nodes, metadata=metadata)


def to_history(messages: list[ChatMessage]) -> History:
    """llama-index chat messages as the assistant's history; only user and assistant turns."""
    history = []
    for m in messages:
        if not isinstance(m, ChatMessage):
            raise InputError(f"chat_history must hold llama-index ChatMessage objects, not "
                             f"{type(m).__name__}.")
        if m.role not in (MessageRole.USER, MessageRole.ASSISTANT):
            raise InputError(f"chat_history may hold only user and assistant messages, not "
                             f"{m.role.value!r}: the assistant keeps its own instructions.")
        history.append({"role": m.role.value, "content": m.content or ""})
    return history


class AssistantChatEngine(BaseChatEngine):
    """A `Chat` as a llama-index chat engine: each turn sees the turns before it.

    `chat_history` given to `chat`/`stream_chat` replaces the conversation so far, as in
    llama-index's own engines. A streamed turn joins the history when its stream ends.
    """

    def __init__(self, assistant: Answering) -> None:
        self.conversation = assistant.chat()

    @property
    def chat_history(self) -> list[ChatMessage]:
        return [ChatMessage(role=MessageRole(t["role"]), content=t["content"])
                for t in self.conversation.history]

    def reset(self) -> None:
        self.conversation.clear()

    def _use(self, chat_history: list[ChatMessage] | None) -> None:
        if chat_history is not None:
            self.conversation.history = to_history(chat_history)

    def chat(self, message: str, chat_history: list[ChatMessage] | None = None,
             ) -> AgentChatResponse:
        self._use(chat_history)
        answer = self.conversation.send(message)
        return AgentChatResponse(response=answer.text,
                                 source_nodes=[citation_node(c) for c in answer.citations],
                                 metadata=answer_metadata(answer))

    def stream_chat(self, message: str, chat_history: list[ChatMessage] | None = None,
                    ) -> StreamingAgentChatResponse:
        self._use(chat_history)
        conversation = self.conversation
        stream = conversation.assistant.stream(message, history=conversation.history)
        response = StreamingAgentChatResponse(is_writing_to_memory=False)

        def chunks() -> Generator[ChatResponse, None, None]:
            text = ""
            for delta in stream:
                text += delta
                yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                                   delta=delta)
            answer = stream.answer
            assert answer is not None
            conversation.history += [{"role": "user", "content": message},  # as Chat.send does
                                     {"role": "assistant", "content": answer.text}]
            response.source_nodes.extend(citation_node(c) for c in answer.citations)

        response.chat_stream = chunks()
        return response

    async def achat(self, message: str, chat_history: list[ChatMessage] | None = None,
                    ) -> AgentChatResponse:
        return self.chat(message, chat_history)

    async def astream_chat(self, message: str, chat_history: list[ChatMessage] | None = None,
                           ) -> StreamingAgentChatResponse:
        response = self.stream_chat(message, chat_history)
        chunks = response.chat_stream
        assert chunks is not None

        async def achunks() -> AsyncGenerator[ChatResponse, None]:
            for chunk in chunks:
                yield chunk

        response.achat_stream = achunks()
        return response
