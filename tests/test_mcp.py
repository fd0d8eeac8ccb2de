"""The MCP server over stdio, driven by the official `mcp` SDK client: the real `assistant mcp`
command in a subprocess, over a temp store with the corpus ingested, extractive answers."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import CORPUS, MODEL_DIR, make_settings
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

from assistant import Assistant

ASSISTANT_EXE = str(Path(sys.executable).parent / "assistant")


def server_env(data_dir: Path) -> dict[str, str]:
    """What the client passes to the server: the settings, and this checkout on the path."""
    keep = ("PYTHONPATH", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "ANONYMIZED_TELEMETRY")
    return {**{k: os.environ[k] for k in keep if k in os.environ},
            "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_CORPUS_DIR": str(CORPUS),
            "ASSISTANT_MODEL_DIR": str(MODEL_DIR), "ASSISTANT_LLM": "none"}


async def session(params: StdioServerParameters) -> dict[str, Any]:
    """Everything the test checks, gathered in one client session."""
    out: dict[str, Any] = {}
    async with Client(params, read_timeout_seconds=300) as client:
        out["tools"] = {t.name: t for t in (await client.list_tools()).tools}
        out["ask"] = await client.call_tool("ask", {"question": "Where is the first Stargate site?"})
        out["refused"] = await client.call_tool("ask", {"question": "What is the capital of France?"})
        out["empty"] = await client.call_tool("ask", {"question": "  "})
        out["search"] = await client.call_tool("search", {"query": "Abilene", "k": 2})
        out["documents"] = await client.call_tool("list_documents", {})
        out["check"] = await client.call_tool("check", {"statement": "Oracle's stock rose 7%. "
                                                        "Microsoft invested $5 billion in 2019."})
        out["timeline"] = await client.call_tool("timeline", {})
        out["timeline-oracle"] = await client.call_tool("timeline", {"topic": "Oracle"})
        out["timeline-2024"] = await client.call_tool("timeline", {"as_of": "2024"})
        out["ask-2024"] = await client.call_tool("ask", {"question": "Where is the first Stargate "
                                                         "site?", "as_of": "2024-12-31"})
        out["search-2024"] = await client.call_tool("search", {"query": "Abilene", "as_of": "2024"})
        out["check-2024"] = await client.call_tool("check", {"statement": "Oracle's stock rose 7%.",
                                                             "as_of": "2024"})
        out["bad-dates"] = [await client.call_tool(tool, {**args, "as_of": "someday"}) for tool, args in
                            [("timeline", {}), ("ask", {"question": "Where is Abilene?"}),
                             ("search", {"query": "Abilene"}),
                             ("check", {"statement": "Oracle's stock rose 7%."})]]
        out["bad-args"] = [await client.call_tool(tool, args) for tool, args in
                           [("ask", {}), ("ask", {"question": 5}), ("search", {"query": "x", "k": "2"}),
                            ("search", {"query": "x", "k": True}), ("check", {"statement": ["x"]})]]
        out["resources"] = (await client.list_resources()).resources
        cited = out["ask"].structured_content["citations"][0]
        out["text"] = await client.read_resource(f"document://{cited['doc_id']}")
    return out


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("mcp")
    assert Assistant(make_settings(data, llm="none")).ingest().ok
    return data


@pytest.fixture(scope="module")
def out(data_dir: Path) -> dict[str, Any]:
    """One real `assistant mcp` server and client session for the module's checks."""
    params = StdioServerParameters(command=ASSISTANT_EXE, args=["mcp"], env=server_env(data_dir))
    return anyio.run(session, params)


def test_mcp_client_lists_tools_asks_and_reads_a_document(out: dict[str, Any]) -> None:
    assert set(out["tools"]) == {"ask", "search", "list_documents", "check", "timeline"}
    for tool in ("ask", "search", "check", "timeline"):
        assert "as_of" in out["tools"][tool].input_schema["properties"], tool
    verdicts = [c["verdict"] for c in out["check"].structured_content["claims"]]
    assert verdicts == ["supported", "contradicted"]
    assert "question" in out["tools"]["ask"].input_schema["properties"]
    answer = out["ask"].structured_content
    assert not out["ask"].is_error and not answer["refused"] and "Abilene" in answer["text"]
    cited = answer["citations"][0]
    text = out["text"].contents[0].text
    assert text[cited["start"]:cited["end"]] == cited["quote"]  # offsets exact in the resource
    assert (CORPUS / cited["source"]).read_text(encoding="utf-8") == text
    assert cited["published"] == "2025-01" and answer["conflicts"] == []
    refused = out["refused"].structured_content
    assert refused["refused"] and refused["citations"] == []
    assert out["empty"].is_error and "The question is empty" in out["empty"].content[0].text
    hits = out["search"].structured_content["result"]
    assert len(hits) == 2 and "Abilene" in hits[0]["text"]
    docs = out["documents"].structured_content["result"]
    assert {(d["published"], d["published_from"]) for d in docs} == {("2025-01", "manifest")}
    assert sorted(d["source"] for d in docs) == sorted(p.name for p in CORPUS.glob("*.txt"))
    assert {str(r.uri) for r in out["resources"]} == {f"document://{d['doc_id']}" for d in docs}


def test_mcp_timeline_and_as_of(out: dict[str, Any], data_dir: Path) -> None:
    bot = Assistant(make_settings(data_dir, llm="none"))
    events = out["timeline"].structured_content["result"]
    assert not out["timeline"].is_error and events == [e.to_dict() for e in bot.timeline()]
    labels = [e["label"] for e in events]
    assert {"2019", "June 2023", "2030", "January 2025"} <= set(labels)
    assert labels.index("2019") < labels.index("June 2023") < labels.index("2030")
    for e in events:
        c = e["citation"]
        assert bot.document(c["doc_id"]).text[c["start"]:c["end"]] == c["quote"]
    oracle = out["timeline-oracle"].structured_content["result"]
    assert oracle == [e.to_dict() for e in bot.timeline("Oracle")] and oracle
    assert out["timeline-2024"].structured_content["result"] == []  # both articles: January 2025
    assert out["ask-2024"].structured_content["refused"] is True
    assert out["search-2024"].structured_content["result"] == []
    assert out["check-2024"].structured_content["claims"][0]["verdict"] == "not in the documents"
    for result in out["bad-dates"]:
        assert result.is_error and "as_of must be a date such as 2025-03-31" in result.content[0].text
        assert "Traceback" not in result.content[0].text


def test_a_corrupt_store_is_named_in_every_reply(tmp_path: Path) -> None:
    """Tools and the resource list alike say the store is broken (not "Internal server error")."""
    data = tmp_path / "data"
    assert Assistant(make_settings(data, llm="none")).ingest().ok
    (data / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 1000)

    async def replies() -> tuple[str, str]:
        params = StdioServerParameters(command=ASSISTANT_EXE, args=["mcp"], env=server_env(data))
        async with Client(params, read_timeout_seconds=120) as client:
            tool = await client.call_tool("list_documents", {})
            try:
                await client.list_resources()
            except MCPError as exc:
                return str(tool.content[0].text), exc.message  # type: ignore[union-attr]
        return str(tool.content[0].text), "listed"

    tool, resources = anyio.run(replies)
    for said in (tool, resources):
        assert "move it aside" in said or "Chroma failed" in said, said


def test_mcp_arguments_that_do_not_fit_are_one_plain_line(out: dict[str, Any]) -> None:
    """They were pydantic's dump ("1 validation error for askArguments ... For further information
    visit https://errors.pydantic.dev/..."), and `k` took "2" and true (HTTP and Python refuse
    both)."""
    says = [r.content[0].text for r in out["bad-args"]]
    assert all(r.is_error for r in out["bad-args"]), says
    assert says[0] == "Invalid arguments for ask: question: Field required", says[0]
    assert says[1].startswith("Invalid arguments for ask: question: Input should be a valid string")
    assert all(s.startswith("Invalid arguments for search: k: Input should be a valid integer")
               for s in says[2:4]), says[2:4]
    assert says[4].startswith("Invalid arguments for check: statement:")
    assert not any("pydantic" in s or "\n" in s for s in says), says

