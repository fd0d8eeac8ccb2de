"""The HTTP API: OpenAI-compatible chat completions, search and documents, over `Assistant`.

    POST   /v1/chat/completions   last user message = question, earlier turns = history;
                                  `stream: true` sends OpenAI's SSE chunks of the verified answer;
                                  extra fields `as_of` (a date) and `sources_footer` (bool)
    GET    /v1/models             the configured backend's model, and "extractive"
    POST   /v1/search             {"query": ..., "k": ..., "as_of": ...} -> the best chunks
    POST   /v1/check              {"statement": ..., "as_of": ...} -> a verdict per claim
    GET    /v1/timeline           ?topic=...&as_of=... -> dated events, each with its citation
    GET    /v1/documents          list, with dates;  POST (multipart field "files", optional
                                  field "published": their date) uploads and ingests
    GET    /v1/documents/{id}     text and metadata;  DELETE removes it
    GET    /healthz               status (503 with the reason when the store is down)

Citations (number, doc_id, title, source, quote, start, end, score, published), `conflicts`
and `refused` travel in extension fields of the message and of the last stream chunk; for
clients that show only the text, a sources footer ("[1] Title (date): “quote”") ends the content
(ASSISTANT_SOURCES_FOOTER, or `sources_footer` per request) and is taken off again when the
client sends that turn back as history. `as_of`: only documents published on or before that
date count (undated ones are kept). Errors are OpenAI-style error objects: 400 bad input
(a malformed date too), 404, 405 (a method the endpoint does not take), 409 empty store, 413
upload too big, 503 LLM or store down or the LLM queue wait exceeded. `serve` runs it with
uvicorn, with MCP at /mcp and the web UI at / when asked, all behind one guard (`guard.py`:
Host, Origin, the key or login (401), body size).
Not here: answering (that is `Assistant`), page markup (that is `ui.py`), authentication.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from functools import partial
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from assistant.api import EXTRACTIVE, Assistant
from assistant.core.errors import (
    AssistantError,
    BusyError,
    DocumentNotFound,
    EmptyStoreError,
    InputError,
    LLMError,
    ModelMissingError,
    StoreError,
    UploadTooLarge,
)
from assistant.core.models import Answer, AnswerStream, Event, FinalEvent, TextDelta
from assistant.surfaces.viewer import date_label

FOOTER_HEAD = "\n\nSources:\n"  # starts the sources footer in the content
THREADS = 200  # worker threads: requests waiting for the LLM must not starve searches of threads
# (error class, HTTP status, OpenAI error type); the first match wins
STATUSES: list[tuple[type[AssistantError], int, str]] = [
    (UploadTooLarge, 413, "invalid_request_error"),
    (InputError, 400, "invalid_request_error"),
    (DocumentNotFound, 404, "not_found_error"),
    (EmptyStoreError, 409, "invalid_request_error"),
    (BusyError, 503, "server_busy"),
    (LLMError, 503, "llm_unavailable"),
    (ModelMissingError, 503, "llm_unavailable"),
    (StoreError, 503, "store_unavailable"),
    (AssistantError, 500, "server_error"),
]


class APIError(Exception):
    def __init__(self, status: int, message: str, kind: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _api_error(exc: AssistantError) -> APIError:
    status, kind = next((s, k) for cls, s, k in STATUSES if isinstance(exc, cls))
    return APIError(status, str(exc), kind, type(exc).__name__)


# --- request bodies -------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")  # clients send temperature, top_p, ...: ignored


class TextPart(_Body):
    type: Literal["text"]
    text: StrictStr


class Message(_Body):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: StrictStr | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # parts are segments: "Where is" + "Stargate?"
            return " ".join(part.text.strip() for part in self.content if part.text.strip())
        return self.content or ""


class ChatRequest(_Body):
    model: StrictStr | None = None
    messages: list[Message] = Field(min_length=1)
    stream: StrictBool = False
    n: StrictInt | None = None  # choices: one answer per question, so only 1
    as_of: StrictStr | None = None  # only documents published on or before this date count
    sources_footer: StrictBool | None = None  # None: ASSISTANT_SOURCES_FOOTER


class SearchRequest(_Body):
    query: StrictStr
    k: StrictInt | None = None
    as_of: StrictStr | None = None


class CheckRequest(_Body):
    statement: StrictStr
    as_of: StrictStr | None = None


def _question_and_history(messages: list[Message]) -> tuple[str, list[dict[str, str]]]:
    """System, developer and tool messages are dropped: the assistant keeps its own rules."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise APIError(400, "The last message must be the user's question (role 'user').",
                       "invalid_request_error", "messages")
    return turns[-1].text(), [{"role": m.role, "content": _without_footer(m.text())
                               if m.role == "assistant" else m.text()} for m in turns[:-1]]


def _without_footer(text: str) -> str:
    """An earlier answer as the assistant gave it: the sources footer clients send back with
    the rest of the content is not part of what was said."""
    head, found, tail = text.rpartition(FOOTER_HEAD)
    return head if found and tail.startswith("[") else text


# --- responses ------------------------------------------------------------------------------
def _extension(answer: Answer) -> dict[str, Any]:
    return {"citations": [asdict(c) for c in answer.citations], "refused": answer.refused,
            "conflicts": [asdict(c) for c in answer.conflicts],
            **({"notice": answer.notice} if answer.notice else {})}


def sources_footer(answer: Answer) -> str:
    """"\n\nSources:\n[1] Title (January 2025): “quote”", a line per citation; "" for none."""
    if not answer.citations:
        return ""
    return FOOTER_HEAD + "\n".join(
        f"[{c.number}] {c.title} ({date_label(c.published)}): “{' '.join(c.quote.split())}”"
        for c in answer.citations)


def _usage(answer: Answer) -> dict[str, int]:
    prompt = int(answer.timings.get("prompt_tokens", 0))
    completion = int(answer.timings.get("generated_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _completion(answer: Answer, model: str, footer: bool) -> dict[str, Any]:
    content = answer.text + (sources_footer(answer) if footer else "")
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": content, "refusal": None,
                                     **_extension(answer)}}],
            "usage": _usage(answer)}


def _sse(first: list[Event], events: Iterator[Event], model: str, footer: bool) -> Iterator[str]:
    """OpenAI's chunk stream: role, text deltas, the sources footer (when `footer`) as the last
    delta, a last chunk with the citations, [DONE]. `first`: the events already taken from
    `events` (before the headers went out)."""
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return f"data: {json.dumps({**head, 'choices': [choice]}, ensure_ascii=False)}\n\n"

    try:
        yield chunk({"role": "assistant", "content": ""})
        for event in itertools.chain(first, events):
            if isinstance(event, TextDelta):
                yield chunk({"content": event.text})
            elif isinstance(event, FinalEvent):
                if footer and event.answer.citations:
                    yield chunk({"content": sources_footer(event.answer)})
                yield chunk(_extension(event.answer), "stop")
    except AssistantError as exc:  # after the headers went out: an error event, then the end
        error = _api_error(exc)
        yield f"data: {json.dumps(error_body(error.message, error.kind, error.code))}\n\n"
    finally:
        close = getattr(events, "close", None)  # a generator: closing it frees the LLM slot
        if close is not None:  # at once when the client went away
            close()
    yield "data: [DONE]\n\n"


# --- the app --------------------------------------------------------------------------------
F = TypeVar("F", bound=Callable[..., Any])


def readable(router: APIRouter | FastAPI, path: str) -> Callable[[F], F]:
    """Register a GET endpoint that answers HEAD too (its status and headers, no body); the
    HEAD route stays out of the OpenAPI schema, where it would repeat the GET's operation id."""
    def register(endpoint: F) -> F:
        router.head(path, include_in_schema=False)(endpoint)
        return router.get(path)(endpoint)
    return register


def _either(methods: list[str]) -> str:
    return " or ".join(filter(None, [", ".join(methods[:-1]), methods[-1]]))


def _unreadable_form(exc: BaseException) -> str:
    """Why a multipart body could not be read, said so that the sender can fix it: a part header
    over python-multipart's 4 KiB bound (a file name that long) stops the parser, so no file of
    the request can be read."""
    cause: BaseException | None = exc
    while cause is not None and "header size" not in str(cause):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        return ("A file's part header is over 4 KB, so the upload could not be read: is a file "
                "name that long? Send names under 255 characters; nothing was saved.")
    detail = getattr(exc, "detail", exc)
    return f"The upload could not be read as multipart/form-data ({detail}); nothing was saved."


def create_app(bot: Assistant, v1: bool = True) -> FastAPI:
    """The API as a FastAPI app: /healthz, and the /v1 routes when `v1` (`serve` mounts the
    UI and MCP onto it and puts the guard in front)."""
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        yield

    app = FastAPI(title="Partnership Assistant API", docs_url="/v1/docs" if v1 else None,
                  redoc_url=None, openapi_url="/v1/openapi.json" if v1 else None, lifespan=lifespan)

    @app.exception_handler(APIError)
    async def _api(_: Request, exc: APIError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.message, exc.kind, exc.code), exc.status, headers)

    @app.exception_handler(AssistantError)
    async def _assistant(request: Request, exc: AssistantError) -> JSONResponse:
        return await _api(request, _api_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            "the body is not valid JSON" if e["type"] == "json_invalid" else
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
        return JSONResponse(error_body(f"Invalid request: {problems}", "invalid_request_error"),
                            400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return JSONResponse(error_body(str(exc.detail), kind), exc.status_code, exc.headers)

    router = APIRouter(prefix="/v1")

    @router.post("/chat/completions", response_model=None)
    def chat_completions(body: ChatRequest) -> dict[str, Any] | StreamingResponse:
        if body.n not in (None, 1):  # one choice back for `n: 3` would look like a bug
            raise APIError(400, "'n' must be 1: this assistant gives one answer per question.",
                           "invalid_request_error", "n")
        question, history = _question_and_history(body.messages)
        extractive = body.model == EXTRACTIVE
        model = EXTRACTIVE if extractive else bot.model_name
        footer = bot.settings.sources_footer if body.sources_footer is None else body.sources_footer
        stream: AnswerStream = bot.stream(question, history, extractive=extractive,
                                          as_of=body.as_of)
        events = stream.events()
        if not body.stream:
            for _ in events:
                pass
            assert stream.answer is not None
            return _completion(stream.answer, model, footer)
        first: list[Event] = []
        for event in events:  # up to the first verified text: errors until then get their status
            first.append(event)
            if isinstance(event, TextDelta | FinalEvent):
                break
        return StreamingResponse(_sse(first, events, model, footer), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @readable(router, "/models")
    def models() -> dict[str, Any]:
        names = list(dict.fromkeys([bot.model_name, EXTRACTIVE]))
        return {"object": "list", "data": [{"id": n, "object": "model", "created": 0,
                                            "owned_by": "partnership-assistant"} for n in names]}

    @router.post("/search")
    def search(body: SearchRequest) -> dict[str, Any]:
        hits = bot.search(body.query, body.k, as_of=body.as_of)
        return {"object": "list", "data": [asdict(h) for h in hits]}

    @router.post("/check")
    def check(body: CheckRequest) -> dict[str, Any]:
        return bot.check(body.statement, as_of=body.as_of).to_dict()

    @readable(router, "/timeline")
    def timeline(topic: str | None = None, as_of: str | None = None) -> dict[str, Any]:
        """Dated events (date, precision, label, kind, citation), oldest first; an empty
        parameter counts as none given."""
        events = bot.timeline(topic or None, as_of=as_of or None)
        return {"object": "list", "data": [e.to_dict() for e in events]}

    @readable(router, "/documents")
    def documents() -> dict[str, Any]:
        return {"object": "list", "data": [d.to_dict() for d in bot.documents()]}

    @router.post("/documents")
    async def upload(request: Request) -> dict[str, Any]:
        # the guard has bounded the body (declared or streamed); bot.upload checks the files' sum
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise APIError(400, "Send the files as multipart/form-data in the field 'files'.",
                           "invalid_request_error", "files")
        try:
            form = await request.form(max_files=1000)
        except (MultiPartException, StarletteHTTPException) as exc:
            raise APIError(400, _unreadable_form(exc), "invalid_request_error", "files") from None
        files = [f for key in ("files", "file") for f in form.getlist(key)
                 if not isinstance(f, str)]
        if not files:
            raise APIError(400, "No files: send them as multipart/form-data in the field 'files'.",
                           "invalid_request_error", "files")
        dates = form.getlist("published")
        if len(dates) > 1:  # which one the files have is not ours to guess
            raise APIError(400, f"'published' was given {len(dates)} times; give one date.",
                           "invalid_request_error", "published")
        published = dates[0] if dates else None
        if published is not None and not isinstance(published, str):
            raise APIError(400, "'published' must be a date such as 2025-03-31, not a file.",
                           "invalid_request_error", "published")
        pairs = [(f.filename or "", await f.read()) for f in files]
        report = await run_in_threadpool(partial(bot.upload, pairs, published=published or None))
        return {"object": "list", "ok": report.ok,
                "data": [asdict(r) for r in report.results]}

    @readable(router, "/documents/{doc_id}")
    def document(doc_id: str) -> dict[str, Any]:
        return {"object": "document", **bot.document(doc_id).to_dict()}

    @router.delete("/documents/{doc_id}")
    def remove(doc_id: str) -> dict[str, Any]:
        bot.remove(doc_id)
        return {"id": doc_id, "object": "document", "deleted": True}

    @router.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                               "OPTIONS", "TRACE"], include_in_schema=False)
    def unknown(path: str, request: Request) -> None:  # also under the UI mounted at /
        allowed = sorted({m for r in router.routes if isinstance(r, APIRoute) and r.endpoint is not unknown
                          and r.path_regex.match(f"/v1/{path}") for m in r.methods or ()})
        if allowed:  # an endpoint asked with another method
            raise StarletteHTTPException(405, f"/v1/{path} takes {_either(allowed)}, not "
                                         f"{request.method}.", {"Allow": ", ".join(allowed)})
        raise APIError(404, f"No such endpoint: /v1/{path}.", "not_found_error")

    if v1:
        app.include_router(router)

    @readable(app, "/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness, open to all: counts and the model, never a path or a URL."""
        status = bot.status()
        return {"status": "ok", **{k: status[k] for k in ("model", "embedding", "documents",
                                                          "chunks", "llm_busy", "waiting_for_llm")}}

    return app
