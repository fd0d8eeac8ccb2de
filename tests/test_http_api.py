"""The HTTP API, driven by the official `openai` client and plain httpx against a real server.

The server runs in this process (uvicorn on a free localhost port) over a temp store with
the corpus ingested and extractive answers (llm="none"), so most calls are quick and
deterministic; one slow test uses the local LLM for the generation queue.
"""

from __future__ import annotations

import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from conftest import CORPUS, free_port, make_settings

from assistant import Assistant
from assistant.surfaces.serve import Server, serve

QUESTIONS = ["Where is the first Stargate site?", "How much will the Stargate Project invest?",
             "What does Microsoft keep under the new arrangement?",
             "What was OpenAI's revenue in 2024?"]


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


def streamed(oa: openai.OpenAI, messages: list[Any]) -> tuple[str, dict[str, Any], list[Any]]:
    """(text, extension fields of the last chunk, all chunks) of a streamed completion."""
    chunks = list(oa.chat.completions.create(model="extractive", messages=messages, stream=True))
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
    assert text == message.content == bot.ask(question).text
    assert last == extra and extra["refused"] == bot.ask(question).refused
    assert chunks[0].choices[0].delta.role == "assistant" and reply.object == "chat.completion"
    assert reply.model == "extractive" and chunks[0].object == "chat.completion.chunk"
    for c in extra["citations"]:  # offsets are exact against the API's own document text
        doc = httpx.get(f"{url}/v1/documents/{c['doc_id']}").json()
        assert doc["text"][c["start"]:c["end"]] == c["quote"] and doc["title"] == c["title"]
        assert f"[{c['number']}]" in message.content
    assert bool(extra["citations"]) != extra["refused"]


def test_earlier_turns_are_the_history(api: tuple[str, Assistant]) -> None:
    url, bot = api
    first, follow = "Where is the first Stargate site?", "Who confirmed that construction had begun?"
    history = [{"role": "user", "content": first},
               {"role": "assistant", "content": bot.ask(first).text}]
    messages = [{"role": "system", "content": "You are helpful."}, *history,
                {"role": "user", "content": follow}]
    reply = client(url).chat.completions.create(model="extractive", messages=messages)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == bot.ask(follow, history).text
    assert bot.ask(follow, history).text != bot.ask(follow).text  # the history mattered


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


@pytest.mark.parametrize(("body", "says"), [
    ({"messages": [{"role": "user", "content": "   "}]}, "The question is empty"),
    ({"messages": [{"role": "user", "content": "x" * 3000}]}, "the limit is 2,000"),
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


def test_malformed_json_and_unknown_things(api: tuple[str, Assistant]) -> None:
    url = api[0]
    response = httpx.post(f"{url}/v1/chat/completions", content=b"{not json",
                          headers={"content-type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]
    assert httpx.post(f"{url}/v1/search", json={"query": ["a"]}).status_code == 400
    assert httpx.post(f"{url}/v1/search", json={"query": "Abilene", "k": 0}).status_code == 400
    with pytest.raises(openai.BadRequestError, match="The question is empty"):
        client(url).chat.completions.create(model="extractive",
                                            messages=[{"role": "user", "content": ""}])
    missing = httpx.get(f"{url}/v1/documents/0000000000000000")
    assert missing.status_code == 404 and "0000000000000000" in missing.json()["error"]["message"]
    assert httpx.delete(f"{url}/v1/documents/0000000000000000").status_code == 404
    assert httpx.get(f"{url}/v1/nothing-here").json()["error"]["type"] == "not_found_error"


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
    assert httpx.delete(f"{url}/v1/documents/{doc_id}").json()["deleted"] is True
    assert httpx.get(f"{url}/v1/documents/{doc_id}").status_code == 404
    assert len(bot.documents()) == 2
    assert httpx.post(f"{url}/v1/documents", json={"files": []}).status_code == 400


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
