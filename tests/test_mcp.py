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
        out["resources"] = (await client.list_resources()).resources
        cited = out["ask"].structured_content["citations"][0]
        out["text"] = await client.read_resource(f"document://{cited['doc_id']}")
    return out


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("mcp")
    assert Assistant(make_settings(data, llm="none")).ingest().ok
    return data


def test_mcp_client_lists_tools_asks_and_reads_a_document(data_dir: Path) -> None:
    params = StdioServerParameters(command=ASSISTANT_EXE, args=["mcp"], env=server_env(data_dir))
    out = anyio.run(session, params)
    assert set(out["tools"]) == {"ask", "search", "list_documents", "check"}
    verdicts = [c["verdict"] for c in out["check"].structured_content["claims"]]
    assert verdicts == ["supported", "contradicted"]
    assert "question" in out["tools"]["ask"].input_schema["properties"]
    answer = out["ask"].structured_content
    assert not out["ask"].is_error and not answer["refused"] and "Abilene" in answer["text"]
    cited = answer["citations"][0]
    text = out["text"].contents[0].text
    assert text[cited["start"]:cited["end"]] == cited["quote"]  # offsets exact in the resource
    assert (CORPUS / cited["source"]).read_text(encoding="utf-8") == text
    refused = out["refused"].structured_content
    assert refused["refused"] and refused["citations"] == []
    assert out["empty"].is_error and "The question is empty" in out["empty"].content[0].text
    hits = out["search"].structured_content["result"]
    assert len(hits) == 2 and "Abilene" in hits[0]["text"]
    docs = out["documents"].structured_content["result"]
    assert sorted(d["source"] for d in docs) == sorted(p.name for p in CORPUS.glob("*.txt"))
    assert {str(r.uri) for r in out["resources"]} == {f"document://{d['doc_id']}" for d in docs}
