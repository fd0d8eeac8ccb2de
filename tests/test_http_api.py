"""The HTTP API, driven by the official `openai` client and plain httpx against a real server.

The server runs in this process (uvicorn on a free localhost port) over a temp store with
the corpus ingested and extractive answers (llm="none"), so most calls are quick and
deterministic; one slow test uses the local LLM for the generation queue.
"""

from __future__ import annotations

import calendar
import re
import socket
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from conftest import CORPUS, free_port, make_settings

from assistant import Answer, Assistant, Settings
from assistant.surfaces.http import create_app
from assistant.surfaces.serve import Server, serve

QUESTIONS = ["Where is the first Stargate site?", "How much will the Stargate Project invest?",
             "What does Microsoft keep under the new arrangement?",
             "What was OpenAI's revenue in 2024?"]


DATE_ERROR = "must be a date such as 2025-03-31"


def start(bot: Assistant) -> Server:
    return serve(bot, "127.0.0.1", free_port(), ui=False, block=False)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    bot = Assistant(make_settings(tmp_path_factory.mktemp("api"), llm="none"))
    assert bot.ingest().ok
    server = start(bot)
    yield server.url, bot
    server.close()


def client(url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


def when(iso: str | None) -> str:
    """A date as the footer writes it ("15 June 2025", "January 2025", "2025"; "undated")."""
    if not iso:
        return "undated"
    year, *rest = iso.split("-")
    month = calendar.month_name[int(rest[0])] if rest else ""
    day = str(int(rest[1])) if len(rest) > 1 else ""
    return " ".join(x for x in (day, month, year) if x)


def footer(answer: Answer) -> str:
    """The sources footer the API appends for text-only clients, as the docs describe it."""
    if not answer.citations:
        return ""
    return "\n\nSources:\n" + "\n".join(
        f"[{c.number}] {c.title} ({when(c.published)}): “{' '.join(c.quote.split())}”"
        for c in answer.citations)


def user(text: str) -> Any:
    return {"role": "user", "content": text}


def streamed(oa: openai.OpenAI, messages: list[Any], **extra: Any,
             ) -> tuple[str, dict[str, Any], list[Any]]:
    """(text, extension fields of the last chunk, all chunks) of a streamed completion;
    `extra`: extension fields of the request (as_of, sources_footer)."""
    chunks = list(oa.chat.completions.create(model="extractive", messages=messages, stream=True,
                                             extra_body=extra or None))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    return text, chunks[-1].choices[0].delta.model_extra or {}, chunks


@pytest.mark.parametrize("question", QUESTIONS)
def test_stream_and_non_stream_give_the_same_cited_answer(api: tuple[str, Assistant],
                                                           question: str) -> None:
    url, bot = api
    oa = client(url)
    messages: list[Any] = [{"role": "user", "content": question}]
    reply = oa.chat.completions.create(model="extractive", messages=messages)
    message = reply.choices[0].message
    extra = message.model_extra or {}
    text, last, chunks = streamed(oa, messages)
    answer = bot.ask(question)
    assert text == message.content == answer.text + footer(answer)
    assert last == extra and extra["refused"] == answer.refused
    assert chunks[0].choices[0].delta.role == "assistant" and reply.object == "chat.completion"
    assert reply.model == "extractive" and chunks[0].object == "chat.completion.chunk"
    for c in extra["citations"]:  # offsets are exact against the API's own document text
        doc = httpx.get(f"{url}/v1/documents/{c['doc_id']}").json()
        assert doc["text"][c["start"]:c["end"]] == c["quote"] and doc["title"] == c["title"]
        assert f"[{c['number']}]" in message.content
    assert bool(extra["citations"]) != extra["refused"]


def test_earlier_turns_are_the_history(api: tuple[str, Assistant]) -> None:
    url, bot = api
    first, follow = "Who is OpenAI's largest investor?", "What role did it give up?"
    history = [{"role": "user", "content": first},
               {"role": "assistant", "content": bot.ask(first).text}]
    messages = [{"role": "system", "content": "You are helpful."}, *history,
                {"role": "user", "content": follow}]
    reply = client(url).chat.completions.create(model="extractive", messages=messages,  # type: ignore[arg-type]
                                                extra_body={"sources_footer": False})
    assert reply.choices[0].message.content == bot.ask(follow, history).text
    assert bot.ask(follow, history).text != bot.ask(follow).text  # the history mattered
    # a text-only client sends the earlier answer back as it showed it, footer and all
    shown = [{"role": "user", "content": first},
             {"role": "assistant", "content": bot.ask(first).text + footer(bot.ask(first))}]
    assert footer(bot.ask(first)) and shown != history
    again = client(url).chat.completions.create(
        model="extractive", messages=[*shown, {"role": "user", "content": follow}],  # type: ignore[list-item]
        extra_body={"sources_footer": False})
    assert again.choices[0].message.content == bot.ask(follow, history).text


def test_models_names_the_configured_backend(api: tuple[str, Assistant]) -> None:
    assert [m.id for m in client(api[0]).models.list()] == ["extractive"]


def test_search_and_documents(api: tuple[str, Assistant]) -> None:
    url, bot = api
    hits = httpx.post(f"{url}/v1/search", json={"query": "Abilene", "k": 3}).json()["data"]
    assert 1 <= len(hits) <= 3 and "Abilene" in hits[0]["text"]
    for hit in hits:
        text = httpx.get(f"{url}/v1/documents/{hit['doc_id']}").json()["text"]
        assert text[hit["start"]:hit["end"]] == hit["text"]
    listed = httpx.get(f"{url}/v1/documents").json()["data"]
    assert sorted(d["source"] for d in listed) == sorted(p.name for p in CORPUS.glob("*.txt"))
    health = httpx.get(f"{url}/healthz").json()
    assert health["status"] == "ok" and health["documents"] == 2


def test_check_gives_a_verdict_per_claim_with_exact_spans(api: tuple[str, Assistant]) -> None:
    url, _ = api
    body = {"statement": "Oracle's stock rose 7%. Microsoft invested $5 billion in 2019."}
    claims = httpx.post(f"{url}/v1/check", json=body, timeout=120).json()["claims"]
    assert [c["verdict"] for c in claims] == ["supported", "contradicted"]
    for claim in claims:
        for c in claim["citations"]:
            text = httpx.get(f"{url}/v1/documents/{c['doc_id']}").json()["text"]
            assert text[c["start"]:c["end"]] == c["quote"]
    assert httpx.post(f"{url}/v1/check", json={"statement": 7}).status_code == 400


def test_sources_footer_ends_the_content_unless_turned_off(api: tuple[str, Assistant]) -> None:
    url, bot = api
    oa, answer = client(url), bot.ask(QUESTIONS[0])
    message = oa.chat.completions.create(model="extractive", messages=[user(QUESTIONS[0])]
                                         ).choices[0].message
    content = message.content or ""
    text, sources = content.split("\n\nSources:\n")
    assert text == answer.text and answer.citations
    lines = sources.splitlines()
    assert len(lines) == len(answer.citations)
    for line, c in zip(lines, answer.citations, strict=True):
        assert re.fullmatch(r"\[\d+\] .+ \(January 2025\): “.+”", line), line
        assert line.startswith(f"[{c.number}] {c.title} (January 2025): “{c.quote[:20]}")
    assert (message.model_extra or {})["citations"][0]["published"] == "2025-01"  # still structured
    off = oa.chat.completions.create(model="extractive", messages=[user(QUESTIONS[0])],
                                     extra_body={"sources_footer": False}).choices[0].message
    assert off.content == answer.text and (off.model_extra or {})["citations"] == (
        message.model_extra or {})["citations"]
    refused = oa.chat.completions.create(model="extractive", messages=[user(QUESTIONS[3])])
    assert "Sources:" not in (refused.choices[0].message.content or "")

    text, last, chunks = streamed(oa, [user(QUESTIONS[0])])
    assert text == content and chunks[-2].choices[0].delta.content == footer(answer)
    assert chunks[-1].choices[0].delta.content is None and last["citations"]  # then the finish
    text, _, chunks = streamed(oa, [user(QUESTIONS[0])], sources_footer=False)
    assert text == answer.text and "Sources:" not in "".join(
        c.choices[0].delta.content or "" for c in chunks)
    bad = httpx.post(f"{url}/v1/chat/completions",
                     json={"messages": [user(QUESTIONS[0])], "sources_footer": "yes please"})
    assert bad.status_code == 400 and "sources_footer" in bad.json()["error"]["message"]


def test_sources_footer_setting_sets_the_default(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_SOURCES_FOOTER", "false")
    assert Settings().sources_footer is False and Settings(sources_footer=True).sources_footer
    bot = Assistant(make_settings(tmp_path / "data", llm="none", sources_footer=False))
    assert bot.ingest().ok
    server = start(bot)
    try:
        oa, answer = client(server.url), bot.ask(QUESTIONS[0])
        plain = oa.chat.completions.create(model="extractive", messages=[user(QUESTIONS[0])])
        assert plain.choices[0].message.content == answer.text
        asked = oa.chat.completions.create(model="extractive", messages=[user(QUESTIONS[0])],
                                           extra_body={"sources_footer": True})
        assert asked.choices[0].message.content == answer.text + footer(answer)
        assert streamed(oa, [user(QUESTIONS[0])])[0] == answer.text
        assert streamed(oa, [user(QUESTIONS[0])], sources_footer=True)[0] == (
            answer.text + footer(answer))
    finally:
        server.close()


def test_as_of_on_chat_search_and_check(api: tuple[str, Assistant]) -> None:
    """Both corpus articles are dated January 2025: as of 2024 nothing counts, as of
    February 2025 everything does."""
    url, bot = api
    oa = client(url)
    before = oa.chat.completions.create(model="extractive", messages=[user(QUESTIONS[0])],
                                        extra_body={"as_of": "2024-12"}).choices[0].message
    assert (before.model_extra or {})["refused"] is True and "Abilene" not in (before.content or "")
    assert streamed(oa, [user(QUESTIONS[0])], as_of="2024-12")[1]["refused"] is True
    after = oa.chat.completions.create(model="extractive", messages=[user(QUESTIONS[0])],
                                       extra_body={"as_of": "2025-02"}).choices[0].message
    assert "Abilene" in (after.content or "")
    assert {c["published"] for c in (after.model_extra or {})["citations"]} == {"2025-01"}
    assert (after.model_extra or {})["conflicts"] == []

    def search(as_of: str) -> list[dict[str, Any]]:
        return httpx.post(f"{url}/v1/search", json={"query": "Abilene", "as_of": as_of}).json()["data"]

    assert search("2024") == [] and search("31 January 2025")
    assert {h["published"] for h in search("2025-01-31")} == {"2025-01"}
    statement = "Oracle's stock rose 7%. Microsoft invested $5 billion in 2019."

    def verdicts(as_of: str) -> list[str]:
        body = {"statement": statement, "as_of": as_of}
        return [c["verdict"] for c in httpx.post(f"{url}/v1/check", json=body,
                                                 timeout=120).json()["claims"]]

    assert verdicts("2024") == ["not in the documents"] * 2
    assert verdicts("2025-03") == ["supported", "contradicted"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/chat/completions", {"messages": [user("Where is Abilene?")]}),
    ("POST", "/v1/chat/completions", {"messages": [user("Where is Abilene?")], "stream": True}),
    ("POST", "/v1/search", {"query": "Abilene"}),
    ("POST", "/v1/check", {"statement": "Oracle's stock rose 7%."}),
    ("GET", "/v1/timeline", None),
])
@pytest.mark.parametrize("as_of", ["last spring", "2025-13-01", "Q3"])
def test_a_malformed_as_of_is_a_400_saying_the_forms(api: tuple[str, Assistant], method: str,
                                                      path: str, body: Any, as_of: str) -> None:
    if body is None:
        response = httpx.request(method, f"{api[0]}{path}", params={"as_of": as_of})
    else:
        response = httpx.request(method, f"{api[0]}{path}", json={**body, "as_of": as_of})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and f"as_of {DATE_ERROR}" in error["message"]
    assert repr(as_of) in error["message"]


def test_timeline_lists_dated_events_with_exact_spans(api: tuple[str, Assistant]) -> None:
    url, bot = api
    events = httpx.get(f"{url}/v1/timeline").json()["data"]
    assert events == [e.to_dict() for e in bot.timeline()]
    labels = [e["label"] for e in events]
    assert {"2019", "June 2023", "2030", "January 2025"} <= set(labels)
    assert any("no year given" in label for label in labels)  # July: never invented a year
    dated = [e["date"] for e in events if e["date"]]
    assert dated == sorted(dated) and labels.index("2019") < labels.index("June 2023")
    for e in events:
        c = e["citation"]
        text = httpx.get(f"{url}/v1/documents/{c['doc_id']}").json()["text"]
        assert text[c["start"]:c["end"]] == c["quote"] and c["published"] == "2025-01"
        assert e["kind"] in ("stated", "published") and e["precision"] in ("day", "month", "year")
    june = next(e for e in events if e["label"] == "June 2023")
    assert "June 2023" in june["citation"]["quote"] and june["date"] == "2023-06"
    topic = httpx.get(f"{url}/v1/timeline", params={"topic": "Oracle"}).json()["data"]
    assert topic == [e.to_dict() for e in bot.timeline("Oracle")] and topic
    assert httpx.get(f"{url}/v1/timeline", params={"topic": "", "as_of": ""}).json()["data"] == events
    assert httpx.get(f"{url}/v1/timeline", params={"as_of": "2024"}).json()["data"] == []
    assert httpx.get(f"{url}/v1/timeline", params={"as_of": "2025-01"}).json()["data"] == events
    blank = httpx.get(f"{url}/v1/timeline", params={"topic": "   "})
    assert blank.status_code == 400 and "topic is empty" in blank.json()["error"]["message"]


def test_dated_uploads_newest_leads_and_as_of_goes_back(tmp_path: Path) -> None:
    """Two uploads dated by the `published` field disagree: the answer cites the newer one
    first, the extension carries the conflict, and as of a date between them only the older
    one counts."""
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    server = start(bot)
    url = server.url
    memos = [("heron-2024.txt", b"The Heron project budget is 7 billion dollars.\n", "2024-03-10"),
             ("heron-2025.txt", b"The Heron project budget is 9 billion dollars.\n", "2025-06-15")]
    try:
        for name, data, published in memos:
            response = httpx.post(f"{url}/v1/documents", data={"published": published},
                                  files=[("files", (name, data, "text/plain"))])
            assert response.status_code == 200 and response.json()["ok"], response.text
        listed = {d["source"]: d for d in httpx.get(f"{url}/v1/documents").json()["data"]}
        assert [(listed[f"uploads/{n}"]["published"], listed[f"uploads/{n}"]["published_from"])
                for n, _, _ in memos] == [("2024-03-10", "upload"), ("2025-06-15", "upload")]
        question = "What is the Heron project budget?"
        message = client(url).chat.completions.create(model="extractive",
                                                      messages=[user(question)]).choices[0].message
        extra = message.model_extra or {}
        assert [c["published"] for c in extra["citations"]] == ["2025-06-15", "2024-03-10"]
        conflict = extra["conflicts"][0]
        assert conflict["sides"][conflict["newer"]]["published"] == "2025-06-15"
        assert "(15 June 2025): “The Heron project budget is 9 billion" in (message.content or "")
        assert "(10 March 2024): “The Heron project budget is 7 billion" in (message.content or "")
        back = client(url).chat.completions.create(model="extractive", messages=[user(question)],
                                                   extra_body={"as_of": "2024-12-31"})
        extra = back.choices[0].message.model_extra or {}
        assert [c["published"] for c in extra["citations"]] == ["2024-03-10"]
        assert "9 billion" not in (back.choices[0].message.content or "")
        timeline = httpx.get(f"{url}/v1/timeline").json()["data"]
        assert [(e["label"], e["kind"]) for e in timeline] == [("10 March 2024", "published"),
                                                               ("15 June 2025", "published")]
        bad = httpx.post(f"{url}/v1/documents", data={"published": "next week"},
                         files=[("files", ("heron-x.txt", b"Heron is late.", "text/plain"))])
        assert bad.status_code == 400 and f"published {DATE_ERROR}" in bad.json()["error"]["message"]
        as_file = httpx.post(f"{url}/v1/documents", files=[
            ("files", ("heron-y.txt", b"Heron is late.", "text/plain")),
            ("published", ("date.txt", b"2025-01-01", "text/plain"))])
        assert as_file.status_code == 400 and "published" in as_file.json()["error"]["message"]
        assert len(bot.documents()) == 2
    finally:
        server.close()


def test_two_published_fields_are_a_400(tmp_path: Path) -> None:
    """Two `published` fields in one upload: the last one won without a word."""
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    server = start(bot)
    try:
        response = httpx.post(f"{server.url}/v1/documents",
                              data={"published": ["2024-03-10", "2025-06-15"]},
                              files=[("files", ("heron.txt", b"Heron is late.", "text/plain"))])
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["message"] == "'published' was given 2 times; give one date."
        assert error["type"] == "invalid_request_error" and error["code"] == "published"
        assert bot.documents() == []
    finally:
        server.close()


@pytest.mark.parametrize(("body", "says"), [
    ({"messages": [{"role": "user", "content": "   "}]}, "The question is empty"),
    ({"messages": [{"role": "user", "content": "x" * 3000}]}, "the limit is 2,000"),
    ({"messages": [{"role": "user", "content": "Abilene?" * 400_000},  # 3.2 MB, once 14 s of CPU
                   {"role": "assistant", "content": "Texas."},
                   {"role": "user", "content": "Who owns it?"}]},
     "history[0] is a user turn of 3,200,000 characters; the limit is 2,000"),
    ({"messages": [{"role": "user", "content": 123}]}, "valid string"),
    ({"messages": []}, "at least 1 item"),
    ({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
     "The last message must be the user's question"),
    ({"messages": [{"role": "wizard", "content": "Hi"}]}, "role"),
    ({"messages": [{"role": "user", "content": "Hi"}], "stream": "sometimes"}, "stream"),
    ({"message": "Where is Abilene?"}, "messages"),
])
def test_bad_requests_are_400_error_objects(api: tuple[str, Assistant], body: dict[str, Any],
                                            says: str) -> None:
    response = httpx.post(f"{api[0]}/v1/chat/completions", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert says in error["message"] and error["type"] == "invalid_request_error"


def test_n_other_than_1_is_a_400_not_one_silent_choice(api: tuple[str, Assistant]) -> None:
    """`n: 3` returned one choice without a word: the assistant gives one answer per question."""
    url = api[0]
    with pytest.raises(openai.BadRequestError, match="'n' must be 1: this assistant gives one "
                                                     "answer per question."):
        client(url).chat.completions.create(model="extractive", messages=[user("Where is Abilene?")],
                                            n=3)
    for n, stream in [(0, False), (2, True), ("1", False), (1.5, False), (True, False)]:
        response = httpx.post(f"{url}/v1/chat/completions", json={
            "model": "extractive", "messages": [user("Where is Abilene?")], "n": n, "stream": stream})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error", error
        assert error["message"].startswith(("'n' must be 1", "Invalid request: n:")), error
    one = client(url).chat.completions.create(model="extractive", n=1,
                                              messages=[user("Where is the first Stargate site?")])
    assert len(one.choices) == 1 and "Abilene" in (one.choices[0].message.content or "")


def test_an_as_of_year_out_of_range_is_a_400_saying_the_range(api: tuple[str, Assistant]) -> None:
    """Dates are read in the years 1900-2099; a year outside them got "not a date" alone."""
    response = httpx.post(f"{api[0]}/v1/search", json={"query": "Abilene", "as_of": "2300-01-01"})
    assert response.status_code == 400, response.text
    assert "as_of year 2300 is outside 1900–2099" in response.json()["error"]["message"]


def test_malformed_json_and_unknown_things(api: tuple[str, Assistant]) -> None:
    url = api[0]
    response = httpx.post(f"{url}/v1/chat/completions", content=b"{not json",
                          headers={"content-type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]
    assert httpx.post(f"{url}/v1/search", json={"query": ["a"]}).status_code == 400
    assert httpx.post(f"{url}/v1/search", json={"query": "Abilene", "k": 0}).status_code == 400
    lone = b'"Where is \\udc80 Abilene?"'  # JSON's escape for an unpaired surrogate
    for path, body in [("/v1/search", b'{"query": %s}' % lone), ("/v1/check", b'{"statement": %s}' % lone),
                       ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": %s}]}' % lone)]:
        response = httpx.post(f"{url}{path}", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400 and "not valid Unicode" in response.json()["error"]["message"]
    with pytest.raises(openai.BadRequestError, match="The question is empty"):
        client(url).chat.completions.create(model="extractive",
                                            messages=[{"role": "user", "content": ""}])
    missing = httpx.get(f"{url}/v1/documents/0000000000000000")
    assert missing.status_code == 404 and "0000000000000000" in missing.json()["error"]["message"]
    assert httpx.delete(f"{url}/v1/documents/0000000000000000").status_code == 404
    assert httpx.get(f"{url}/v1/nothing-here").json()["error"]["type"] == "not_found_error"
    # an endpoint asked with a method it does not take: 405 and what it takes, not "no such endpoint"
    for method, path, allow in [("PUT", "/v1/search", "POST"), ("GET", "/v1/chat/completions", "POST"),
                                ("POST", "/v1/documents/0000000000000000", "DELETE, GET, HEAD")]:
        response = httpx.request(method, f"{url}{path}", json={})
        assert response.status_code == 405 and response.headers["allow"] == allow, response.text
        assert response.json()["error"]["type"] == "invalid_request_error"
    for method in ("HEAD", "OPTIONS", "TRACE"):  # were 404 "no such endpoint"
        response = httpx.request(method, f"{url}/v1/chat/completions")
        assert response.status_code == 405 and response.headers["allow"] == "POST", method
    for path in ("/v1/documents", "/healthz"):  # a HEAD of what a GET reads: its status, no body
        response = httpx.head(f"{url}{path}")
        assert response.status_code == 200 and response.content == b"", path


def test_the_openapi_schema_names_each_operation_once(tmp_path: Path) -> None:
    """GET endpoints that answer HEAD too, and the catch-all 405/404 route, gave FastAPI's
    "Duplicate Operation ID" warning: a client generated from the schema breaks on it."""
    app = create_app(Assistant(make_settings(tmp_path, llm="none")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = app.openapi()["paths"]
    assert "/v1/documents" in paths and "/v1/{path}" not in paths
    assert all("head" not in operations for operations in paths.values())


def test_a_question_in_text_parts_is_read_as_its_words(api: tuple[str, Assistant]) -> None:
    """Content given as parts is segments of one text: they were joined with nothing between,
    "How much will Stargate" + "invest?" -> "... Stargateinvest?", refused for a name no text has."""
    parts = [{"type": "text", "text": "How much will Stargate"}, {"type": "text", "text": "invest?"}]
    reply = client(api[0]).chat.completions.create(
        model="extractive", messages=[{"role": "user", "content": parts}])  # type: ignore[list-item]
    assert "$500 billion" in (reply.choices[0].message.content or ""), reply.choices[0].message.content
    lone = b'{"messages": [{"role": "user", "content": "Where?"}, {"role": "assistant", ' \
        b'"content": "It is \\ud800 Abilene"}, {"role": "user", "content": "When?"}]}'
    response = httpx.post(f"{api[0]}/v1/chat/completions", content=lone,
                          headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert "not valid Unicode" in response.json()["error"]["message"], response.text


def test_upload_ingests_each_file_and_delete_removes(api: tuple[str, Assistant]) -> None:
    url, bot = api
    files = [("files", ("kestrel-memo.txt", b"The Kestrel memo puts the Red Cliff campus at 9 "
                        b"billion dollars.", "text/plain")),
             ("files", ("empty.txt", b"", "text/plain")),
             ("files", ("tool.exe", b"MZ\x00\x00", "application/octet-stream"))]
    response = httpx.post(f"{url}/v1/documents", files=files)
    assert response.status_code == 200, response.text
    results = {r["source"]: r for r in response.json()["data"]}
    kestrel, empty = results["uploads/kestrel-memo.txt"], results["uploads/empty.txt"]
    assert kestrel["status"] == "added" and kestrel["chunks"] and kestrel["name"] == "kestrel-memo.txt"
    assert empty["status"] == "failed" and "empty" in empty["reason"]
    assert results["tool.exe"]["status"] == "failed" and "unsupported" in results["tool.exe"]["reason"]
    assert response.json()["ok"] is False
    doc_id = kestrel["doc_id"]
    reply = client(url).chat.completions.create(
        model="extractive", messages=[{"role": "user", "content": "What does the Kestrel memo "
                                       "put the Red Cliff campus at?"}])
    assert "9 billion" in (reply.choices[0].message.content or "")
    saved = bot.settings.data_dir / "uploads" / "kestrel-memo.txt"
    assert saved.is_file()
    assert httpx.delete(f"{url}/v1/documents/{doc_id}").json()["deleted"] is True
    assert httpx.get(f"{url}/v1/documents/{doc_id}").status_code == 404
    assert len(bot.documents()) == 2
    assert not saved.exists(), "a removed upload's file stays on disk"
    assert all((bot.settings.corpus_dir / d.source).is_file() for d in bot.documents())
    assert httpx.post(f"{url}/v1/documents", json={"files": []}).status_code == 400
    # a name past python-multipart's 4 KiB part-header bound: why, not "Invalid multipart data."
    before = len(bot.documents())
    long_name = httpx.post(f"{url}/v1/documents", files=[
        ("files", ("n" * 5000 + ".txt", b"A long name.", "text/plain")),
        ("files", ("fine.txt", b"A fine name.", "text/plain"))])
    assert long_name.status_code == 400 and "file name that long" in long_name.text, long_name.text
    assert len(bot.documents()) == before


def test_auth_and_upload_limit(tmp_path: Path) -> None:
    bot = Assistant(make_settings(tmp_path / "data", llm="none", api_key="s3cret-key",
                                  max_upload_mb=0.01))
    assert bot.ingest().ok
    server = start(bot)
    try:
        url = server.url
        with pytest.raises(openai.AuthenticationError, match="ASSISTANT_API_KEY"):
            client(url, "wrong").models.list()
        no_key = httpx.post(f"{url}/v1/search", json={"query": "Abilene"})
        assert no_key.status_code == 401 and no_key.headers["www-authenticate"] == "Bearer"
        assert no_key.json()["error"]["type"] == "authentication_error"
        reply = client(url, "s3cret-key").chat.completions.create(
            model="extractive", messages=[{"role": "user", "content": "Where is the first "
                                           "Stargate site?"}])
        assert "Abilene" in (reply.choices[0].message.content or "")
        assert httpx.get(f"{url}/healthz").status_code == 200  # liveness needs no key
        auth = {"Authorization": "Bearer s3cret-key"}
        big = httpx.post(f"{url}/v1/documents", headers=auth,
                         files=[("files", ("big.txt", b"Words. " * 3000, "text/plain"))])
        assert big.status_code == 413 and "ASSISTANT_MAX_UPLOAD_MB" in big.json()["error"]["message"]
        assert len(bot.documents()) == 2 and not (bot.settings.data_dir / "uploads" / "big.txt").exists()
    finally:
        server.close()


def test_store_or_llm_down_is_503_with_the_reason(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    no_store = start(Assistant(make_settings(tmp_path / "a", llm="none", chroma_url=dead)))
    llm_bot = Assistant(make_settings(tmp_path / "b", llm="openai", openai_base_url=f"{dead}/v1",
                                      llm_timeout_s=5))
    assert llm_bot.ingest().ok
    no_llm = start(llm_bot)
    try:
        health = httpx.get(f"{no_store.url}/healthz")
        assert health.status_code == 503 and "Chroma server" in health.json()["error"]["message"]
        with pytest.raises(openai.InternalServerError, match="Chroma server") as info:
            client(no_store.url).chat.completions.create(
                model="extractive", messages=[{"role": "user", "content": "Where is Abilene?"}])
        assert info.value.status_code == 503
        body = {"messages": [{"role": "user", "content": "Where is the first Stargate site?"}]}
        for stream in (False, True):
            down = httpx.post(f"{no_llm.url}/v1/chat/completions", json={**body, "stream": stream},
                              timeout=60)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["type"] == "llm_unavailable"
        hits = httpx.post(f"{no_llm.url}/v1/search", json={"query": "Abilene"})  # no LLM needed
        assert hits.status_code == 200 and hits.json()["data"]
        extractive = httpx.post(f"{no_llm.url}/v1/chat/completions",
                                json={**body, "model": "extractive"})
        assert extractive.status_code == 200 and "Abilene" in extractive.text
    finally:
        no_store.close()
        no_llm.close()


def _timed(kind: str, call: Callable[[], httpx.Response]) -> tuple[str, int, float, str]:
    start_s = time.perf_counter()
    response = call()
    return kind, response.status_code, time.perf_counter() - start_s, response.text


def test_twenty_concurrent_clients(tmp_path: Path) -> None:
    """Questions (streamed and not), searches, listings and an upload at once: no 5xx, and
    the store holds exactly the corpus plus the upload. Prints latency per kind."""
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    assert bot.ingest().ok
    server = start(bot)
    url = server.url
    upload = b"The Osprey note says the Green Hollow site opens in 2031."

    def ask(i: int, stream: bool) -> Callable[[], httpx.Response]:
        body = {"model": "extractive", "stream": stream,
                "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]}
        return lambda: httpx.post(f"{url}/v1/chat/completions", json=body, timeout=120)

    calls: list[tuple[str, Callable[[], httpx.Response]]] = [
        *[("ask", ask(i, stream=False)) for i in range(5)],
        *[("ask-stream", ask(i, stream=True)) for i in range(4)],
        *[("search", lambda: httpx.post(f"{url}/v1/search", json={"query": "Stargate sites"},
                                        timeout=120)) for _ in range(7)],
        *[("documents", lambda: httpx.get(f"{url}/v1/documents", timeout=120)) for _ in range(3)],
        ("upload", lambda: httpx.post(f"{url}/v1/documents", timeout=120,
                                      files=[("files", ("osprey.txt", upload, "text/plain"))])),
    ]
    barrier = threading.Barrier(len(calls))

    def run(call: tuple[str, Callable[[], httpx.Response]]) -> tuple[str, int, float, str]:
        barrier.wait()
        return _timed(*call)

    try:
        with ThreadPoolExecutor(len(calls)) as pool:
            results = list(pool.map(run, calls))
        assert len(results) == 20
        assert [r for r in results if r[1] != 200] == []
        for kind, _, _, text in results:
            if kind == "ask-stream":
                assert text.endswith("data: [DONE]\n\n") and '"finish_reason": "stop"' in text
        sources = sorted(d.source for d in bot.documents())
        assert sources == sorted([*(p.name for p in CORPUS.glob("*.txt")), "uploads/osprey.txt"])
        listed = httpx.get(f"{url}/v1/documents").json()["data"]
        assert sum(d["chunks"] for d in listed) == bot.status()["chunks"]
        osprey = next(d for d in listed if d["source"] == "uploads/osprey.txt")
        assert httpx.get(f"{url}/v1/documents/{osprey['doc_id']}").json()["text"] == upload.decode()
    finally:
        server.close()
    print("\nconcurrency, 20 clients, llm=none:")
    for kind in dict.fromkeys(r[0] for r in results):
        times = sorted(r[2] for r in results if r[0] == kind)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"  {kind:>10}: {len(times)} requests, 0 errors, p50 {statistics.median(times):.2f} s,"
              f" p95 {p95:.2f} s")


def test_llm_queue_is_bounded_and_search_does_not_wait(tmp_path: Path) -> None:
    """The LLM is a real endpoint that accepts connections and never answers (a hung server),
    one question at a time (ASSISTANT_LLM_PARALLEL=1): while one question waits on it, the next
    gets the documented 503 after ASSISTANT_QUEUE_WAIT_S; searches and extractive answers do
    not wait; the hung one ends as a 503 naming the LLM."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)  # the kernel completes the handshake; nobody ever reads or answers
    endpoint = f"http://127.0.0.1:{hung.getsockname()[1]}/v1"
    bot = Assistant(make_settings(tmp_path / "data", llm="openai", openai_base_url=endpoint,
                                  llm_timeout_s=6, llm_parallel=1, queue_wait_s=0.5))
    assert bot.ingest().ok
    server = start(bot)
    url = server.url
    body = {"messages": [{"role": "user", "content": "How much will the Stargate Project invest?"}]}
    try:
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(_timed, "ask", lambda: httpx.post(
                f"{url}/v1/chat/completions", json=body, timeout=60))
            deadline = time.monotonic() + 30
            while not httpx.get(f"{url}/healthz").json()["llm_busy"]:
                assert time.monotonic() < deadline and not first.done()
                time.sleep(0.02)
            busy = _timed("ask", lambda: httpx.post(f"{url}/v1/chat/completions", json=body,
                                                    timeout=60))
            search = _timed("search", lambda: httpx.post(f"{url}/v1/search",
                                                         json={"query": "Abilene"}))
            extractive = _timed("extractive", lambda: httpx.post(
                f"{url}/v1/chat/completions", json={**body, "model": "extractive"}, timeout=60))
            assert not first.done()  # all of that happened while the first held the LLM
            hung_answer = first.result()
        assert busy[1] == 503 and "ASSISTANT_QUEUE_WAIT_S" in busy[3] and "server_busy" in busy[3]
        assert 0.5 <= busy[2] < 5
        assert search[1] == 200 and extractive[1] == 200 and "500 billion" in extractive[3]
        assert hung_answer[1] == 503 and "llm_unavailable" in hung_answer[3]
        assert httpx.get(f"{url}/healthz").json()["llm_busy"] is False  # the slot was freed
    finally:
        server.close()
        hung.close()


@pytest.mark.slow
def test_local_llm_queue_is_bounded_and_search_does_not_wait(local_bot: Assistant) -> None:
    """While the local model answers one question, a second LLM question that cannot wait
    long enough gets the documented 503; a search and an extractive answer go straight through."""
    bot = Assistant(local_bot.settings.model_copy(update={"queue_wait_s": 0.2}))
    server = start(bot)
    url = server.url
    body = {"messages": [{"role": "user", "content": "How much will the Stargate Project invest?"}]}
    try:
        def streamed() -> tuple[int, str]:
            with httpx.stream("POST", f"{url}/v1/chat/completions", json={**body, "stream": True},
                              timeout=600) as response:
                return response.status_code, "\n".join(response.iter_lines())

        # The first question runs in the background: the server sends its headers only with the
        # first verified sentence, so waiting for them would leave almost no busy time to test.
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(streamed)
            deadline = time.monotonic() + 120
            while not httpx.get(f"{url}/healthz").json()["llm_busy"]:  # the first holds the LLM
                assert time.monotonic() < deadline and not first.done()
                time.sleep(0.01)
            busy = _timed("ask", lambda: httpx.post(f"{url}/v1/chat/completions", json=body,
                                                    timeout=60))
            search = _timed("search", lambda: httpx.post(f"{url}/v1/search", json={"query": "Abilene"}))
            extractive = _timed("extractive", lambda: httpx.post(
                f"{url}/v1/chat/completions", json={**body, "model": "extractive"}, timeout=60))
            status, rest = first.result()
        assert status == 200
        assert busy[1] == 503 and "ASSISTANT_QUEUE_WAIT_S" in busy[3] and "server_busy" in busy[3]
        assert search[1] == 200 and extractive[1] == 200 and "500 billion" in extractive[3]
        assert rest.rstrip().endswith("data: [DONE]") and '"finish_reason": "stop"' in rest
        after = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=600)
        assert after.status_code == 200 and after.json()["model"] == "qwen2.5-coder-1.5b"
        print(f"\nwhile generating: busy 503 after {busy[2]:.2f} s, search {search[2]:.2f} s, "
              f"extractive {extractive[2]:.2f} s")
    finally:
        server.close()


def test_assistant_api_command_serves_the_api_alone(tmp_path: Path) -> None:
    import os

    from conftest import local_server

    data = tmp_path / "data"
    assert Assistant(make_settings(data, llm="none")).ingest().ok
    exe = str(Path(sys.executable).parent / "assistant")
    with local_server([exe, "api", "--llm", "none", "--no-ingest", "--port", "{port}"], "/healthz",
                      180, env={"ASSISTANT_DATA_DIR": str(data), "ASSISTANT_API_KEY": "k"}) as url:
        assert os.environ.get("ASSISTANT_API_KEY") is None
        assert [m.id for m in client(url, "k").models.list()] == ["extractive"]
        assert httpx.get(f"{url}/").status_code == 401  # the key guards every path
        assert httpx.get(f"{url}/", headers={"Authorization": "Bearer k"}).status_code == 404  # no UI
        unknown = httpx.get(f"{url}/v1/nothing", headers={"Authorization": "Bearer k"})
        assert unknown.status_code == 404 and "No such endpoint" in unknown.json()["error"]["message"]
