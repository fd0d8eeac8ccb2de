"""The MCP server: the assistant as tools and resources for MCP clients (desktop and coding
assistants), built on the official `mcp` SDK.

Tools: `ask` (a cited answer, its refusal flag and any conflict between dated sources),
`search` (the best chunks, with offsets), `check` (a verdict per claim), `timeline` (dated
events, each a citation), `list_documents` (with each document's date and where it was read).
`ask`, `search`, `check` and `timeline` take `as_of`: only documents published on or before
that date count (undated ones are kept); a malformed date is a tool error saying the accepted
forms. Every citation carries its document's `published` date (null: undated).
Resources: every stored document as `document://<doc_id>` (its exact text, into which
citation offsets point). Runs over stdio (`assistant mcp`) or as streamable HTTP
at /mcp of the served app (`mount_http`: `serve`, `api` and `mcp --http`), where the app's
guard checks Host, Origin and the key or login as for every path. Assistant errors reach the
client as tool errors with their message. Not here: answering (that is `Assistant`); nothing
here writes to stdout, which belongs to the protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ResourceNotFoundError,
    ToolError,
    UnexpectedToolError,
)
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, Resource
from pydantic import StrictInt, ValidationError

from assistant.api import Assistant
from assistant.core.errors import AssistantError, DocumentNotFound

INSTRUCTIONS = ("Answers questions about the stored documents with verbatim citations. Call `ask` "
                "for an answer (each [n] in its text is a citation with the exact quote, its "
                "character offsets and its document's `published` date); `refused` is true when "
                "the documents do not support an answer. Give `as_of` (e.g. 2025-03-31) to use "
                "only documents published by then; `timeline` lists dated events. Read "
                "document://<doc_id> for a cited document's full text.")


class AssistantMCP(MCPServer):
    """MCPServer whose resource list also holds the documents stored right now."""

    def __init__(self, bot: Assistant) -> None:
        super().__init__(name="partnership-assistant", instructions=INSTRUCTIONS,
                         log_level="WARNING")
        self.bot = bot

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        """As the SDK's, but arguments that do not fit a tool say so in one plain line, as the
        HTTP API does ("Invalid arguments: question: Field required"), not pydantic's dump."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc, UnexpectedToolError) or not isinstance(exc.__cause__, ValidationError):
                raise  # a crash, or the tool's own error: not the caller's arguments
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                                 for e in exc.__cause__.errors())
            raise ToolError(f"Invalid arguments for {name}: {problems}") from None

    async def list_resources(self) -> list[Resource]:
        fixed = await super().list_resources()
        try:
            docs = await anyio.to_thread.run_sync(self.bot.documents)
        except AssistantError as exc:  # a corrupt or unreachable store: say which, not "internal"
            raise MCPError(INTERNAL_ERROR, str(exc)) from exc
        return fixed + [Resource(uri=f"document://{d.doc_id}", name=d.source, title=d.title,
                                 description=f"{d.title} ({d.publisher or d.source}), full text",
                                 mime_type="text/plain") for d in docs]


def build_server(bot: Assistant) -> AssistantMCP:
    server = AssistantMCP(bot)

    @server.tool()
    def ask(question: str, history: list[dict[str, str]] | None = None,
            as_of: str | None = None) -> dict[str, Any]:
        """Answer a question from the documents. Returns the answer `text` with [n] markers,
        `citations` (number, doc_id, title, source, quote, start, end: quote ==
        document text[start:end], published: the document's date or null), `refused` (true
        when the documents do not support an answer) and `conflicts` (two cited statements
        that disagree; `newer` is the index of the later one). `history`: earlier turns as
        {"role": "user"|"assistant", "content": ...}.
        `as_of` (2025-03-31, 2025-03 or 2025): only documents published by then count."""
        try:
            answer = bot.ask(question, history, as_of=as_of)
        except AssistantError as exc:
            raise ToolError(str(exc)) from exc
        return {"text": answer.text, "refused": answer.refused,
                "citations": [asdict(c) for c in answer.citations],
                "conflicts": [asdict(c) for c in answer.conflicts],
                **({"notice": answer.notice} if answer.notice else {})}

    @server.tool()
    def search(query: str, k: StrictInt = 6, as_of: str | None = None) -> list[dict[str, Any]]:
        """The chunks of the documents that best match `query` (hybrid vector and keyword
        search), each with doc_id, title, source, text, start, end, score and published.
        `as_of` (2025-03-31, 2025-03 or 2025): only documents published by then count."""
        try:
            return [asdict(h) for h in bot.search(query, k, as_of=as_of)]
        except AssistantError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    def check(statement: str, as_of: str | None = None) -> dict[str, Any]:
        """Check a statement against the documents: one verdict per claim in it (supported,
        contradicted, partly supported, outdated, or not in the documents), with the exact
        cited spans that decide it.
        `as_of` (2025-03-31, 2025-03 or 2025): only documents published by then count."""
        try:
            return bot.check(statement, as_of=as_of).to_dict()
        except AssistantError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    def timeline(topic: str | None = None, as_of: str | None = None) -> list[dict[str, Any]]:
        """Dated events of the documents, oldest first: sentences that give a date, and each
        dated document's own date. Each has date (ISO at its precision; "" when the text gives
        no year), precision (day, month or year), label ("June 2023"), kind ("stated" or
        "published") and citation (the exact sentence). `topic`: only text about it.
        `as_of` (2025-03-31, 2025-03 or 2025): only documents published by then count."""
        try:
            return [e.to_dict() for e in bot.timeline(topic or None, as_of=as_of)]
        except AssistantError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    def list_documents() -> list[dict[str, Any]]:
        """The stored documents: doc_id, title, source, publisher, chunks, ingested_at,
        published (ISO at the precision known, "" when undated) and published_from (where the
        date was read: manifest, front matter, upload, ...). Read one as the resource
        document://<doc_id>."""
        try:
            return [d.to_dict() for d in bot.documents()]
        except AssistantError as exc:
            raise ToolError(str(exc)) from exc

    @server.resource("document://{doc_id}", mime_type="text/plain",
                     description="A stored document's exact text (citation offsets point into it).")
    def document(doc_id: str) -> str:
        try:
            return bot.document(doc_id).text
        except DocumentNotFound as exc:
            raise ResourceNotFoundError(str(exc)) from exc
        except AssistantError as exc:
            raise ResourceError(str(exc)) from exc

    return server


def mount_http(app: Any, bot: Assistant) -> None:
    """Serve the tools as streamable HTTP at /mcp of the Starlette/FastAPI `app`, the MCP
    session manager running in `app`'s lifespan."""
    from mcp.server.transport_security import TransportSecuritySettings

    server = build_server(bot)
    # the SDK's own Host/Origin check is off: the served app's guard applies one rule to all paths
    routes = server.streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)).routes
    app.router.routes.extend(routes)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(parent: Any) -> AsyncIterator[Any]:
        async with server.session_manager.run(), inner(parent) as state:
            yield state

    app.router.lifespan_context = lifespan


def run(bot: Assistant) -> None:
    """Serve over stdio until the client goes away."""
    build_server(bot).run("stdio")
