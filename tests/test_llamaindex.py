"""The assistant inside llama-index: retriever, query engine, chat engine and tool, with the
real llama-index classes over the real ingested corpus; and the eval's retrieval figures
cross-checked by llama-index's own `RetrieverEvaluator`.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, make_settings
from llama_index.core import Settings as LlamaSettings
from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.base.response.schema import Response, StreamingResponse
from llama_index.core.chat_engine.types import (
    AgentChatResponse,
    BaseChatEngine,
    StreamingAgentChatResponse,
)
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.tools import QueryEngineTool, ToolOutput

from assistant import Answer, Assistant
from assistant.core.errors import InputError, QuestionError
from evals.crosscheck import disagreements
from evals.dataset import DEFAULT_DATASET, load_dataset
from evals.metrics import cited_numbers
from evals.report import write_report
from evals.runner import evaluate

QUESTION = "How much will Stargate invest?"
FRANCE = "What is the capital of France?"


def assert_exact(bot: Assistant, nodes: list[NodeWithScore]) -> None:
    """Each node's text is its document's text at its offsets, and it names that document
    and gives its date."""
    for n in nodes:
        node = n.node
        assert isinstance(node, TextNode)
        doc = bot.document(node.metadata["doc_id"])
        assert doc.text[node.start_char_idx:node.end_char_idx] == n.text != ""
        assert node.ref_doc_id == doc.doc_id
        assert (node.metadata["title"], node.metadata["source"]) == (doc.title, doc.source)
        assert node.metadata["published"] == (doc.published or None)


def assert_cites(bot: Assistant, nodes: list[NodeWithScore], answer: Answer) -> None:
    """One node per citation, in order: the exact quote, its offsets and its number."""
    spans = [(n.text, getattr(n.node, "start_char_idx", None),
              getattr(n.node, "end_char_idx", None), n.node.metadata["citation"]) for n in nodes]
    assert spans == [(c.quote, c.start, c.end, c.number) for c in answer.citations]
    assert_exact(bot, nodes)


# --- laziness --------------------------------------------------------------------------------
def test_import_assistant_does_not_load_llama_index() -> None:
    probe = ("import sys, assistant; print(sorted(m for m in sys.modules if "
             "m.startswith('llama_index'))); import assistant.adapters.llamaindex; "
             "print('llama_index.core' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.splitlines()
    assert out == ["[]", "True"]  # nothing before; the adapters module does load it


# --- retriever -------------------------------------------------------------------------------
def test_retriever_nodes_are_the_search_hits_with_exact_offsets(corpus_bot: Assistant) -> None:
    retriever = corpus_bot.as_retriever(k=4)
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve("right of first refusal")
    hits = corpus_bot.search("right of first refusal", k=4)
    assert [(n.text, n.score, n.node.metadata["doc_id"]) for n in nodes] == [
        (h.text, h.score, h.doc_id) for h in hits]
    assert len({n.node.node_id for n in nodes}) == 4
    assert_exact(corpus_bot, nodes)
    again = asyncio.run(retriever.aretrieve(QueryBundle("right of first refusal")))
    assert [n.node.node_id for n in again] == [n.node.node_id for n in nodes]
    assert len(corpus_bot.as_retriever().retrieve(QUESTION)) == corpus_bot.settings.top_k


def test_node_metadata_carries_the_documents_date(tmp_path: Path) -> None:
    """A dated upload's nodes say its date, an undated one's say None (never today's date)."""
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    assert bot.upload([("osprey-dated.txt", b"The Osprey note puts the Green Hollow site in "
                        b"Ohio.")], published="2025-06-15").ok
    assert bot.upload([("osprey-undated.txt", b"The Osprey note names Dana Reyes as the Green "
                        b"Hollow site lead.")]).ok
    nodes = bot.as_retriever(k=2).retrieve("Osprey note Green Hollow site")
    dates = {n.node.metadata["source"]: n.node.metadata["published"] for n in nodes}
    assert dates == {"uploads/osprey-dated.txt": "2025-06-15", "uploads/osprey-undated.txt": None}
    assert_exact(bot, nodes)
    response = bot.as_query_engine().query("Where does the Osprey note put the Green Hollow site?")
    assert [n.node.metadata["published"] for n in response.source_nodes] == ["2025-06-15"]


def test_retriever_errors_are_the_assistants_own(corpus_bot: Assistant) -> None:
    with pytest.raises(QuestionError, match="empty"):
        corpus_bot.as_retriever().retrieve("  ")
    for k in (0, "3", True):  # "3" was a TypeError deep in a comparison
        with pytest.raises(InputError, match="k must be a whole number from 1 to 50"):
            corpus_bot.as_retriever(k=k)  # type: ignore[arg-type]


# --- query engine ----------------------------------------------------------------------------
def test_query_engine_answers_with_one_node_per_citation(corpus_bot: Assistant) -> None:
    engine = corpus_bot.as_query_engine()
    assert isinstance(engine, BaseQueryEngine)
    response = engine.query(QUESTION)
    answer = corpus_bot.ask(QUESTION)
    assert isinstance(response, Response) and "$500 billion" in str(response)
    assert response.response == answer.text and answer.citations
    assert_cites(corpus_bot, response.source_nodes, answer)
    assert response.metadata is not None
    assert response.metadata["refused"] is False and response.metadata["conflicts"] == []
    assert response.metadata["trace"] == answer.trace and answer.trace
    same = asyncio.run(engine.aquery(QUESTION))
    assert isinstance(same, Response) and same.response == answer.text


def test_refusal_comes_through_as_refused_without_source_nodes(corpus_bot: Assistant) -> None:
    response = corpus_bot.as_query_engine().query(FRANCE)
    assert isinstance(response, Response) and response.metadata is not None
    assert response.metadata["refused"] is True and response.source_nodes == []
    assert response.response == corpus_bot.ask(FRANCE).text != ""


def test_streaming_query_engine_text_equals_the_final_answer(corpus_bot: Assistant) -> None:
    response = corpus_bot.as_query_engine(streaming=True).query(QUESTION)
    assert isinstance(response, StreamingResponse)
    deltas = list(response.response_gen)
    answer = corpus_bot.ask(QUESTION)
    assert len(deltas) >= 1 and "".join(deltas) == answer.text
    assert_cites(corpus_bot, response.source_nodes, answer)  # filled in when the stream ended
    assert response.metadata is not None and response.metadata["refused"] is False
    refusal = corpus_bot.as_query_engine(streaming=True).query(FRANCE)
    assert isinstance(refusal, StreamingResponse)
    assert refusal.get_response().response == corpus_bot.ask(FRANCE).text
    assert refusal.metadata is not None and refusal.metadata["refused"] is True
    assert refusal.source_nodes == []


def test_query_engine_tool_is_callable_as_llama_index_tools_are(corpus_bot: Assistant) -> None:
    tool = QueryEngineTool.from_defaults(
        corpus_bot.as_query_engine(), name="partnership_documents",
        description="Cited answers about the Microsoft-OpenAI partnership documents.")
    question = "Where is the first Stargate site?"
    answer = corpus_bot.ask(question)
    for output in (tool.call(input=question), tool(input=question),
                   asyncio.run(tool.acall(input=question))):
        assert isinstance(output, ToolOutput) and "Abilene" in output.content
        assert output.content == answer.text and output.tool_name == "partnership_documents"
        assert isinstance(output.raw_output, Response)
        assert_cites(corpus_bot, output.raw_output.source_nodes, answer)
    schema = tool.metadata.to_openai_tool()["function"]
    assert schema["name"] == "partnership_documents" and "input" in schema["parameters"]["required"]


# --- chat engine -----------------------------------------------------------------------------
def test_chat_engine_keeps_history_as_chat_does(corpus_bot: Assistant) -> None:
    engine = corpus_bot.as_chat_engine()
    assert isinstance(engine, BaseChatEngine)
    chat = corpus_bot.chat()
    first = engine.chat("Who invested in 2019?")
    assert isinstance(first, AgentChatResponse)
    assert first.response == chat.send("Who invested in 2019?").text
    streamed = engine.stream_chat("How much?")  # a follow-up: needs the first turn
    assert isinstance(streamed, StreamingAgentChatResponse)
    text = "".join(streamed.response_gen)
    expected = chat.send("How much?")
    assert text == streamed.response == expected.text and "$1 billion" in text
    assert_cites(corpus_bot, streamed.source_nodes, expected)
    assert [(m.role, m.content) for m in engine.chat_history] == [
        (MessageRole(t["role"]), t["content"]) for t in chat.history]
    assert len(engine.chat_history) == 4
    engine.reset()
    assert engine.chat_history == []


def test_chat_engine_takes_llama_index_history_and_async_calls(corpus_bot: Assistant) -> None:
    engine = corpus_bot.as_chat_engine()
    history = [ChatMessage(role=MessageRole.USER, content="Who invested in 2019?"),
               ChatMessage(role=MessageRole.ASSISTANT,
                           content=corpus_bot.ask("Who invested in 2019?").text)]
    expected = corpus_bot.ask("How much?", history=[
        {"role": m.role.value, "content": m.content or ""} for m in history])
    response = asyncio.run(engine.achat("How much?", chat_history=history))
    assert response.response == expected.text and len(engine.chat_history) == 4

    async def stream() -> str:
        streamed = await engine.astream_chat("How much?", chat_history=history)
        return "".join([d async for d in streamed.async_response_gen()])

    assert asyncio.run(stream()) == expected.text
    with pytest.raises(InputError, match="only user and assistant"):
        engine.chat("Hi", chat_history=[ChatMessage(role=MessageRole.SYSTEM, content="Obey.")])
    with pytest.raises(InputError, match="ChatMessage objects, not dict"):  # was AttributeError
        engine.chat("Hi", chat_history=[{"role": "user", "content": "Hi"}])  # type: ignore[list-item]


def test_llama_index_never_needed_an_llm_or_embedding_model(corpus_bot: Assistant) -> None:
    """Resolving Settings.llm would reach for OpenAI: the adapters must never have asked."""
    corpus_bot.as_query_engine().query(QUESTION)
    corpus_bot.as_chat_engine().chat(QUESTION)
    assert LlamaSettings._llm is None and LlamaSettings._embed_model is None


def test_the_readme_example_runs_as_written() -> None:
    """The example runs as written and its names hold what its comments say."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("### llama-index", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    names: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), names)
    assert any("Abilene" in n.text for n in names["hits"])
    response = names["response"]
    assert "$500 billion" in response.response and response.source_nodes
    assert response.metadata["refused"] is False


# --- the retrieval cross-check ---------------------------------------------------------------
def test_llama_index_retriever_evaluator_agrees_with_the_eval(corpus_bot: Assistant,
                                                              tmp_path: Path) -> None:
    """Per row, llama-index's hit_rate/MRR equal the eval's hit_at_k/mrr, except where the two
    definitions (evals/crosscheck.py) explain a difference: a chunk inside a quote, or a row
    llama-index cannot score (no chunk holds a quote, or the question failed)."""
    rows = [r for r in load_dataset(DEFAULT_DATASET) if r.answerable]
    summary, records = evaluate(corpus_bot, rows)
    check = summary["retrieval_crosscheck"]
    explained, same = [], []
    for rec in records:
        li, ours = rec["llamaindex_retrieval"], rec["metrics"]
        if li["chunk_inside_quote"] or li["hit_rate"] is None:
            explained.append(rec["id"])
            assert li["chunk_inside_quote"] or not ours["hit_at_k"], rec["id"]
        else:
            same.append((ours["hit_at_k"], ours["mrr"]))
            assert (ours["hit_at_k"], ours["mrr"]) == (li["hit_rate"], li["mrr"]), rec["id"]
    assert check["questions"] == len(same) == len(rows) - len(explained)
    assert check["hit_rate"] == pytest.approx(sum(h for h, _ in same) / len(same))
    assert check["mrr"] == pytest.approx(sum(m for _, m in same) / len(same))
    if not explained:  # then the averages themselves must be equal
        assert (check["hit_rate"], check["mrr"]) == pytest.approx(
            (summary["metrics"]["hit_at_k"], summary["metrics"]["mrr"]))
    assert check["disagreements"] == [] and 0 < check["mrr"] <= check["hit_rate"] <= 1
    write_report(tmp_path, summary, records)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    line = next(x for x in report.splitlines() if x.startswith("| MRR |"))
    assert line == f"| MRR | {summary['metrics']['mrr']:.3f} | {check['mrr']:.3f} |"
    assert "Retrieval cross-check" in (tmp_path / "report.html").read_text(encoding="utf-8")
    saved = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert saved["retrieval_crosscheck"]["hit_rate"] == check["hit_rate"]


class ReversedRetriever:
    """Fault injection (FAKE): the real assistant, but `as_retriever` ranks its hits backwards,
    while the eval's own `search` stays right. The cross-check must notice."""

    def __init__(self, bot: Assistant) -> None:
        self.bot = bot

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bot, name)

    def as_retriever(self, k: int | None = None) -> BaseRetriever:
        inner = self.bot.as_retriever(k)

        class Backwards(BaseRetriever):
            def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
                return inner.retrieve(query_bundle)[::-1]

        return Backwards()


def test_cross_check_flags_a_retriever_that_disagrees(corpus_bot: Assistant) -> None:
    rows = [r for r in load_dataset(DEFAULT_DATASET) if "single-fact" in r.tags][:8]
    summary, _ = evaluate(ReversedRetriever(corpus_bot), rows)  # type: ignore[arg-type]
    check = summary["retrieval_crosscheck"]
    assert check["disagreements"] and check["mrr"] < summary["metrics"]["mrr"]


def test_disagreements_accept_only_what_the_definitions_explain() -> None:
    def rec(hit: float, mrr: float, li_hit: float | None, li_mrr: float | None,
            inside: bool = False) -> dict[str, Any]:
        return {"id": "r", "metrics": {"hit_at_k": hit, "mrr": mrr},
                "llamaindex_retrieval": {"hit_rate": li_hit, "mrr": li_mrr, "error": "",
                                         "chunk_inside_quote": inside}}

    assert disagreements([rec(1, 0.5, 1, 0.5), rec(0, 0, None, None), rec(1, 1, 0, 0, True),
                          {"id": "unanswerable", "metrics": {}}]) == []
    assert len(disagreements([rec(1, 0.5, 1, 1.0)])) == 1
    assert "no chunk in the top 50" in disagreements([rec(1, 1, None, None)])[0]


# --- the local LLM (slow) --------------------------------------------------------------------
@pytest.mark.slow
def test_local_llm_query_engine_streams_the_verified_answer(local_bot: Assistant) -> None:
    response = local_bot.as_query_engine(streaming=True).query(QUESTION)
    assert isinstance(response, StreamingResponse)
    text = "".join(response.response_gen)
    assert response.metadata is not None and response.metadata["refused"] is False
    assert "500 billion" in text and response.source_nodes
    assert [n.node.metadata["citation"] for n in response.source_nodes] == sorted(
        set(cited_numbers(text)))  # one node per [n] in the streamed text
    assert_exact(local_bot, response.source_nodes)
