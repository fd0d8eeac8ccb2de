"""Issue #27's attacks against the served app, each a test named by the attack.

Real servers (uvicorn on free localhost ports, the composed app: UI, /v1, /mcp behind the
guard) over temp stores with the corpus ingested and extractive answers; real clients: httpx,
gradio_client, the official mcp client. "Attacker" requests are what a hostile web page or
local process can send: a foreign Host (DNS rebinding), a foreign Origin (CSRF), no key, and
hostile files and names.
"""

from __future__ import annotations

import re
import socket
import statistics
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from conftest import CORPUS, free_port, make_settings, wait_for_http
from gradio_client import Client as GradioClient

from assistant import Assistant
from assistant.index import safe_parse
from assistant.index.safe_parse import UnreadableFile
from assistant.surfaces.serve import Server, serve

KEY = "k3y-for-tests"
BEARER = {"Authorization": f"Bearer {KEY}"}
EVIL_HOST = "evil.example"
EVIL_ORIGIN = "http://evil.example"
QUESTION = "Where is the first Stargate site?"
V1_ROUTES = [("GET", "/v1/models"), ("GET", "/v1/documents"), ("POST", "/v1/documents"),
             ("GET", "/v1/documents/0000000000000000"), ("DELETE", "/v1/documents/0000000000000000"),
             ("POST", "/v1/search"), ("POST", "/v1/check"), ("POST", "/v1/chat/completions"),
             ("GET", "/v1/docs"), ("GET", "/v1/openapi.json"), ("GET", "/v1/anything")]
UI_ROUTES = [("GET", "/"), ("GET", "/config"), ("GET", "/gradio_api/info"),
             ("POST", "/gradio_api/queue/join"), ("GET", "/gradio_api/queue/data"),
             ("POST", "/gradio_api/upload"), ("GET", "/gradio_api/openapi.json")]


def start(data_dir: Path, ui: bool = True, v1: bool = True,
          **overrides: Any) -> tuple[Server, Assistant]:
    bot = Assistant(make_settings(data_dir, llm="none", **overrides))
    assert bot.ingest().ok
    return serve(bot, "127.0.0.1", free_port(), ui=ui, v1=v1, block=False), bot


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    """UI, /v1 and /mcp with ASSISTANT_API_KEY set and no UI login."""
    server, bot = start(tmp_path_factory.mktemp("keyed"), api_key=KEY)
    yield server.url, bot
    server.close()


@pytest.fixture(scope="module")
def login_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    """ASSISTANT_UI_AUTH set and no key."""
    server, bot = start(tmp_path_factory.mktemp("login"), ui_auth="alice:s3cret")
    yield server.url, bot
    server.close()


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    """No key, no login (the localhost default); two extra allowed host names."""
    server, bot = start(tmp_path_factory.mktemp("open"), max_upload_mb=8,
                        allowed_hosts=["assistant.example", "*.corp.example"])
    yield server.url, bot
    server.close()


def fn_index(url: str, api_name: str, headers: dict[str, str] | None = None) -> int:
    """The gradio event index of `api_name` (an attacker reads it from the page source)."""
    config = httpx.get(f"{url}/config", headers=headers).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


def queue_join(url: str, index: int, data: list[Any], **headers: str) -> httpx.Response:
    body = {"data": data, "fn_index": index, "session_hash": "attacker", "event_data": None,
            "trigger_id": None}
    return httpx.post(f"{url}/gradio_api/queue/join", json=body, headers=headers)


def multipart(files: list[tuple[bytes, bytes]]) -> tuple[bytes, dict[str, str]]:
    """A multipart body built by hand, so names reach the server exactly (NUL included)."""
    boundary = b"attacker-boundary-7f3a"
    body = b"".join(b"--" + boundary + b'\r\nContent-Disposition: form-data; name="files"; '
                    b'filename="' + name + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
                    + data + b"\r\n" for name, data in files) + b"--" + boundary + b"--\r\n"
    return body, {"content-type": f"multipart/form-data; boundary={boundary.decode()}"}


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1)) / 1024  # type: ignore[union-attr]


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants (the server and its parse helpers)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1)) / 1024  # type: ignore[union-attr]
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, AttributeError):
            continue  # gone meanwhile
    return total


def docx_bomb(path: Path, mib: int = 110) -> None:
    """A valid .docx whose document.xml expands to `mib` MiB (~3 KB a MiB compressed),
    written in pieces so that the test itself never holds it."""
    ns = "http://schemas.openxmlformats.org/"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", f'<?xml version="1.0"?><Types xmlns="{ns}package/2006/'
                   'content-types"><Default Extension="rels" ContentType="application/vnd.'
                   'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                   'ContentType="application/xml"/><Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
                   'document.main+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{ns}package/2006/'
                   f'relationships"><Relationship Id="rId1" Type="{ns}officeDocument/2006/'
                   'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        with z.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0"?><w:document xmlns:w="{ns}wordprocessingml/2006/'
                       'main"><w:body>'.encode())
            paragraph = b"<w:p><w:r><w:t>The Heron memo sets the budget.</w:t></w:r></w:p>"
            block = paragraph * (2**20 // len(paragraph))
            for _ in range(mib):
                part.write(block)
            part.write(b"</w:body></w:document>")


# --- one lock for every door ------------------------------------------------------------------
def test_ui_api_and_queue_without_the_key_are_refused(keyed: tuple[str, Assistant]) -> None:
    """Key set, no login: gradio's API, queue and page, every /v1 route and /mcp need the key."""
    url, bot = keyed
    before = len(bot.documents())
    for method, path in [*UI_ROUTES, *V1_ROUTES, ("POST", "/mcp"), ("GET", "/mcp")]:
        response = httpx.request(method, url + path, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["type"] == "authentication_error"
    doc_id = bot.documents()[0].doc_id
    assert queue_join(url, fn_index(url, "remove", BEARER), [doc_id]).status_code == 401
    with pytest.raises(Exception, match="(?i)login|auth|401|credentials"):
        GradioClient(url, verbose=False, download_files=False)
    assert len(bot.documents()) == before
    # with the key: the same routes answer, gradio_client included
    assert httpx.get(f"{url}/gradio_api/info", headers=BEARER).status_code == 200
    client = GradioClient(url, verbose=False, download_files=False, headers=BEARER)
    messages, _ = client.predict(QUESTION, [], api_name="/ask")
    assert "Abilene" in str(messages[-1]["content"])


def test_browser_gets_the_login_page_and_the_key_logs_it_in(keyed: tuple[str, Assistant]) -> None:
    url, _ = keyed
    page = httpx.get(f"{url}/", headers={"accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login"
    form = httpx.get(f"{url}/login")
    assert form.status_code == 200 and 'name="password"' in form.text
    wrong = httpx.post(f"{url}/login", data={"username": "x", "password": "nope"})
    assert wrong.status_code == 401 and "assistant_session" not in wrong.cookies
    browser = httpx.Client(base_url=url)
    done = browser.post("/login", data={"password": KEY}, headers={"accept": "text/html"})
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert "httponly" in done.headers["set-cookie"].lower()
    assert "samesite=lax" in done.headers["set-cookie"].lower()
    assert browser.get("/gradio_api/info").status_code == 200
    assert browser.get("/v1/documents").status_code == 200
    browser.get("/logout")
    assert browser.get("/v1/documents").status_code == 401


def test_login_alone_locks_v1_and_mcp_too(login_only: tuple[str, Assistant]) -> None:
    """ASSISTANT_UI_AUTH and no key: /v1 and /mcp are not open; the login's session opens them."""
    url, bot = login_only
    for method, path in [*V1_ROUTES, *UI_ROUTES, ("POST", "/mcp")]:
        response = httpx.request(method, url + path, json={}, headers={"Authorization": "Bearer x"})
        assert response.status_code == 401, (method, path)
        assert "ASSISTANT_UI_AUTH" in response.json()["error"]["message"]
    doc_id = bot.documents()[0].doc_id
    assert httpx.delete(f"{url}/v1/documents/{doc_id}").status_code == 401
    files = [("files", ("planted.txt", b"Planted by a stranger.", "text/plain"))]
    assert httpx.post(f"{url}/v1/documents", files=files).status_code == 401
    assert httpx.post(f"{url}/login", data={"username": "alice", "password": "nope"}).status_code == 401
    assert httpx.post(f"{url}/login", data={"username": "bob", "password": "s3cret"}).status_code == 401
    session = httpx.Client(base_url=url)
    assert session.post("/login", data={"username": "alice", "password": "s3cret"}).status_code == 200
    assert len(session.get("/v1/documents").json()["data"]) == 2
    with pytest.raises(Exception, match="(?i)login|auth|401|credentials"):
        GradioClient(url, verbose=False, download_files=False)
    client = GradioClient(url, verbose=False, download_files=False, auth=("alice", "s3cret"))
    messages, _ = client.predict(QUESTION, [], api_name="/ask")
    assert "Abilene" in str(messages[-1]["content"]) and len(bot.documents()) == 2


def test_mcp_over_http_requires_the_key(keyed: tuple[str, Assistant]) -> None:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    url, _ = keyed

    async def session(headers: dict[str, str]) -> tuple[set[str], Any, Any]:
        http = create_mcp_http_client(headers=headers)
        async with http, Client(streamable_http_client(f"{url}/mcp", http_client=http),
                                read_timeout_seconds=60) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            answer = await client.call_tool("ask", {"question": QUESTION})
            empty = await client.call_tool("search", {"query": "  "})
            return tools, answer, empty

    tools, answer, empty = anyio.run(session, BEARER)
    assert tools == {"ask", "search", "check", "list_documents", "timeline"}
    assert "Abilene" in answer.structured_content["text"]
    assert empty.is_error and "The question is empty" in empty.content[0].text  # bad input
    with pytest.raises(BaseException):  # noqa: B017 - the SDK wraps the 401 in an ExceptionGroup
        anyio.run(session, {})
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    assert httpx.post(f"{url}/mcp", json=initialize).status_code == 401


def test_mcp_served_alone_is_guarded_too(tmp_path: Path) -> None:
    """`assistant mcp --http` serves /mcp (and /healthz) through the same composition."""
    server, _ = start(tmp_path / "data", ui=False, v1=False, api_key=KEY)
    try:
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}
        accept = {"accept": "application/json, text/event-stream"}
        assert httpx.post(f"{server.url}/mcp", json=initialize, headers=accept).status_code == 401
        ok = httpx.post(f"{server.url}/mcp", json=initialize, headers={**accept, **BEARER})
        assert ok.status_code == 200 and "partnership-assistant" in ok.text
        assert httpx.get(f"{server.url}/v1/models", headers=BEARER).status_code == 404
        assert httpx.get(f"{server.url}/healthz", headers={"Host": EVIL_HOST}).status_code == 421
    finally:
        server.close()


def test_healthz_is_open_and_shows_no_paths(keyed: tuple[str, Assistant]) -> None:
    url, bot = keyed
    health = httpx.get(f"{url}/healthz")
    assert health.status_code == 200 and health.json()["documents"] == 2
    assert "/" not in "".join(str(v) for v in health.json().values())
    assert str(bot.settings.data_dir) not in health.text


# --- DNS rebinding and cross-site requests ----------------------------------------------------
@pytest.mark.parametrize("server", ["open_server", "keyed"])
def test_dns_rebinding_foreign_host_is_refused(server: str, request: pytest.FixtureRequest) -> None:
    """A page at evil.example whose name now resolves to 127.0.0.1: its requests carry
    `Host: evil.example` (and the key, had it stolen it): nothing is listed or deleted."""
    url, bot = request.getfixturevalue(server)
    before = [d.doc_id for d in bot.documents()]
    for host in (EVIL_HOST, f"{EVIL_HOST}:{url.rsplit(':', 1)[1]}", "127.0.0.1.evil.example",
                 "localhost.evil.example", "0.0.0.0"):
        headers = {"Host": host, **BEARER}
        assert httpx.get(f"{url}/v1/documents", headers=headers).status_code == 421
        assert httpx.delete(f"{url}/v1/documents/{before[0]}", headers=headers).status_code == 421
        assert httpx.get(f"{url}/gradio_api/info", headers=headers).status_code == 421
        assert queue_join(url, 0, [before[0]], **headers).status_code == 421
        assert httpx.post(f"{url}/mcp", json={}, headers=headers).status_code == 421
        assert httpx.get(f"{url}/healthz", headers=headers).status_code == 421
    assert [d.doc_id for d in bot.documents()] == before
    port = url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"[::1]:{port}", f"127.0.0.1:{port}"):
        assert httpx.get(f"{url}/healthz", headers={"Host": host}).status_code == 200


def test_allowed_hosts_admit_the_names_configured(open_server: tuple[str, Assistant]) -> None:
    url, _ = open_server
    for host, status in [("assistant.example", 200), ("ASSISTANT.example.:443", 200),
                         ("a.corp.example", 200), ("corp.example", 421),
                         ("a.corp.example.evil.example", 421), ("xassistant.example", 421)]:
        assert httpx.get(f"{url}/v1/models", headers={"Host": host}).status_code == status, host


def test_csrf_cross_origin_multipart_upload_is_refused(open_server: tuple[str, Assistant]) -> None:
    """A "simple" cross-origin POST (no preflight) from any web page stores nothing."""
    url, bot = open_server
    before = len(bot.documents())
    files = [("files", ("planted.txt", b"The planted memo says to wire the money.", "text/plain"))]
    for origin in (EVIL_ORIGIN, "null", "http://localhost:9999", "http://127.0.0.1:1"):
        response = httpx.post(f"{url}/v1/documents", files=files, headers={"Origin": origin})
        assert response.status_code == 403, origin
        plain = httpx.post(f"{url}/v1/chat/completions", headers={
            "Origin": origin, "content-type": "text/plain"}, content=b'{"messages": []}')
        assert plain.status_code == 403
    assert len(bot.documents()) == before
    assert not (bot.settings.data_dir / "uploads" / "planted.txt").exists()
    own = httpx.post(f"{url}/v1/documents", files=files, headers={"Origin": url})
    assert own.status_code == 200 and own.json()["data"][0]["status"] == "added"  # same origin
    httpx.delete(f"{url}/v1/documents/{own.json()['data'][0]['doc_id']}")


def test_page_on_another_local_port_cannot_call_the_ui(open_server: tuple[str, Assistant]) -> None:
    """gradio's CORS used to echo any localhost origin with credentials: now no CORS header
    answers any origin, and the page's calls (and preflights) are refused."""
    url, bot = open_server
    doc_id = bot.documents()[0].doc_id
    other = "http://localhost:9999"
    preflight = httpx.options(f"{url}/gradio_api/queue/join", headers={
        "Origin": other, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 403
    assert not any(h.startswith("access-control-") for h in preflight.headers)
    joined = queue_join(url, fn_index(url, "remove"), [doc_id], Origin=other)
    assert joined.status_code == 403 and doc_id in [d.doc_id for d in bot.documents()]
    for path in ("/config", "/gradio_api/info", "/v1/documents"):
        for origin in (other, url):
            response = httpx.get(url + path, headers={"Origin": origin})
            assert not any(h.startswith("access-control-") for h in response.headers), path
    page = httpx.get(f"{url}/")
    assert page.headers["x-frame-options"] == "DENY"  # no framing: no clickjacking of Remove


# --- hostile uploads ---------------------------------------------------------------------------
def test_hostile_upload_names_are_sanitised_or_refused_never_a_500(
        open_server: tuple[str, Assistant]) -> None:
    """Long, NUL, control, bidi, traversal and reserved names beside a good file: one truthful
    result each, in order; the good files are ingested; no reason shows a server path."""
    url, bot = open_server
    fact = b"The Wren memo puts the Grey Fen campus at 3 billion dollars."
    names = [b"a" * 300 + b".txt", b"nul\x00byte.txt", b"ctl\x01\x1b[31mred.txt",
             "bidi\u202etxt.md".encode(), b"../../../etc/passwd.txt", b"CON.txt", b".env",
             b"manifest.toml", b"", b"good-wren.txt", "caf\u00e9-\U0001f600.md".encode()]
    body, headers = multipart([(name, fact) for name in names])
    response = httpx.post(f"{url}/v1/documents", content=body, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["data"]
    assert len(results) == len(names)
    by_name = {r["name"]: r for r in results}
    long = by_name["a" * 300 + ".txt"]
    assert long["status"] == "added" and long["source"] == "uploads/" + "a" * 116 + ".txt"
    assert by_name["nul\x00byte.txt"]["source"] == "uploads/nulbyte.txt"
    assert by_name["ctl\x01\x1b[31mred.txt"]["source"] == "uploads/ctl[31mred.txt"
    assert by_name["bidi\u202etxt.md"]["source"] == "uploads/biditxt.md"
    assert by_name["../../../etc/passwd.txt"]["source"] == "uploads/passwd.txt"
    assert by_name["caf\u00e9-\U0001f600.md"]["status"] == "added"
    for refused in ("CON.txt", ".env", "manifest.toml", ""):
        assert by_name[refused]["status"] == "failed" and by_name[refused]["reason"], refused
    assert "reserved" in by_name["manifest.toml"]["reason"]
    added = [r for r in results if r["status"] == "added"]
    assert len(added) == 7 and len({r["doc_id"] for r in added}) == 7
    stored = {d.source for d in bot.documents()}
    assert {r["source"] for r in added} <= stored
    uploads = bot.settings.data_dir / "uploads"
    staging = uploads / ".incoming"  # where files wait until stored: left empty
    assert all(p.parent == uploads and p.is_file() for p in uploads.rglob("*") if p != staging)
    assert list(staging.iterdir()) == []
    corrupt = [(b"broken.pdf", b"%PDF-1.7 not really"), (b"broken.docx", b"PK\x03\x04 nope"),
               (b"latin.txt", "Caf\xe9".encode("latin-1")), (b"blank.html", b"<p> </p>")]
    body, headers = multipart(corrupt)
    reasons = [r["reason"] for r in httpx.post(f"{url}/v1/documents", content=body,
                                                headers=headers).json()["data"]]
    assert all(reasons) and not any(str(bot.settings.data_dir) in r or "/tmp" in r for r in reasons)
    for r in added:
        httpx.delete(f"{url}/v1/documents/{r['doc_id']}")


def test_same_name_files_in_one_upload_are_both_kept(open_server: tuple[str, Assistant]) -> None:
    url, bot = open_server
    body, headers = multipart([(b"twin.txt", b"The first twin memo names Lake Ira."),
                               (b"twin.txt", b"The second twin memo names Lake Oro."),
                               (b"TWIN.txt", b"The third twin memo names Lake Uma.")])
    results = httpx.post(f"{url}/v1/documents", content=body, headers=headers).json()["data"]
    assert [r["source"] for r in results] == ["uploads/twin.txt", "uploads/twin (2).txt",
                                              "uploads/TWIN (3).txt"]
    assert [r["status"] for r in results] == ["added"] * 3
    texts = {bot.document(r["doc_id"]).text for r in results}
    assert texts == {"The first twin memo names Lake Ira.", "The second twin memo names Lake Oro.",
                     "The third twin memo names Lake Uma."}
    again = httpx.post(f"{url}/v1/documents", files=[("files", ("twin.txt", b"Lake Ira is dry.",
                                                                 "text/plain"))]).json()["data"]
    assert again[0]["status"] == "updated" and again[0]["doc_id"] == results[0]["doc_id"]
    for r in results:
        httpx.delete(f"{url}/v1/documents/{r['doc_id']}")


def test_a_renamed_repeat_never_overwrites_another_upload(open_server: tuple[str, Assistant]) -> None:
    """A repeated name in one upload is numbered; before, the number was only checked within the
    upload, so "memo.txt" twice overwrote an earlier upload named "memo (2).txt". Names differ by
    more than case: "plan.txt" updates "Plan.txt" (on macOS and Windows they are one file)."""
    url, bot = open_server

    def post(*files: tuple[str, bytes]) -> list[dict[str, str]]:
        sent = [("files", (name, data, "text/plain")) for name, data in files]
        return httpx.post(f"{url}/v1/documents", files=sent).json()["data"]

    alpha = post(("memo (2).txt", b"Alpha memo names Lake Ira."))[0]
    twins = [("memo.txt", b"Beta memo names Lake Oro."), ("memo.txt", b"Gamma memo names Lake Uma.")]
    first = post(*twins)
    assert [r["source"] for r in first] == ["uploads/memo.txt", "uploads/memo (3).txt"], first
    assert bot.document(alpha["doc_id"]).text == "Alpha memo names Lake Ira."
    again = post(*twins)  # the same upload again updates what it made, adds nothing
    assert [r["doc_id"] for r in again] == [r["doc_id"] for r in first], again
    plan = post(("Plan.txt", b"The plan names Lake Ada."))[0]
    lower = post(("plan.txt", b"The plan now names Lake Eve."))[0]
    assert (lower["status"], lower["doc_id"], lower["source"]) == ("updated", plan["doc_id"],
                                                                   "uploads/Plan.txt"), lower
    assert bot.document(plan["doc_id"]).text == "The plan now names Lake Eve."
    # an older store may hold two names differing by case: each updates its own
    (bot.settings.data_dir / "uploads" / "PLAN.txt").write_bytes(b"The other plan names Lake Ola.")
    other = post(("PLAN.txt", b"The other plan now names Lake Pia."))[0]
    assert other["source"] == "uploads/PLAN.txt" and other["doc_id"] != plan["doc_id"], other
    assert post(("Plan.txt", b"The plan names Lake Ada."))[0]["doc_id"] == plan["doc_id"]
    for r in [alpha, *first, plan, other]:
        httpx.delete(f"{url}/v1/documents/{r['doc_id']}")


def test_upload_named_like_a_corpus_file_leaves_the_corpus_alone(
        open_server: tuple[str, Assistant]) -> None:
    url, bot = open_server
    corpus = {d.source: d for d in bot.documents() if not d.source.startswith("uploads/")}
    name = sorted(corpus)[0]
    original = bot.document(corpus[name].doc_id).text
    forged = [("files", (name, b"OpenAI and Microsoft never met.", "text/plain"))]
    result = httpx.post(f"{url}/v1/documents", files=forged).json()["data"][0]
    assert result["status"] == "added" and result["source"] == f"uploads/{name}"
    assert result["doc_id"] != corpus[name].doc_id
    assert bot.document(corpus[name].doc_id).text == original == (CORPUS / name).read_text()
    httpx.delete(f"{url}/v1/documents/{result['doc_id']}")


def test_uploaded_manifest_never_acts_as_a_manifest(open_server: tuple[str, Assistant]) -> None:
    url, bot = open_server
    bad = [("files", ("manifest.toml", b"[unclosed", "text/plain"))]
    assert httpx.post(f"{url}/v1/documents", files=bad).json()["data"][0]["status"] == "failed"
    # even one that got there some other way is never read: not broken, not as metadata
    uploads = bot.settings.data_dir / "uploads"
    (uploads / "manifest.toml").write_text('["after.txt"]\ntitle = "Forged title"\n')
    after = [("files", ("after.txt", b"The Ibis memo is short.", "text/plain"))]
    result = httpx.post(f"{url}/v1/documents", files=after).json()["data"][0]
    assert result["status"] == "added" and bot.document(result["doc_id"]).title == "after"
    (uploads / "manifest.toml").write_text("[unclosed")
    later = [("files", ("later.txt", b"The Crane memo is shorter.", "text/plain"))]
    assert httpx.post(f"{url}/v1/documents", files=later).json()["data"][0]["status"] == "added"


def test_docx_bomb_is_refused_fast_and_others_are_answered_meanwhile(
        open_server: tuple[str, Assistant], tmp_path: Path) -> None:
    """337 KB that expands to 110 MiB: refused within seconds, the server's memory flat,
    searches answered while it is handled."""
    url, _ = open_server
    bomb = tmp_path / "bomb.docx"
    docx_bomb(bomb)
    assert bomb.stat().st_size < 400_000
    peak, before, done = [0.0], rss_mb(), threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.01)

    def search() -> float:
        start_s = time.perf_counter()
        response = httpx.post(f"{url}/v1/search", json={"query": "Abilene"}, timeout=30)
        assert response.status_code == 200
        return time.perf_counter() - start_s

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(4) as pool:
        start_s = time.perf_counter()
        upload = pool.submit(httpx.post, f"{url}/v1/documents", timeout=60,
                             files=[("files", ("bomb.docx", bomb.read_bytes(), "application/zip"))])
        latencies = [pool.submit(search) for _ in range(6)]
        response = upload.result()
        refused_s = time.perf_counter() - start_s
        searched = [f.result() for f in latencies]
    done.set()
    watcher.join()
    result = response.json()["data"][0]
    assert result["status"] == "failed" and "expands to 110 MiB" in result["reason"]
    assert refused_s < 10 and peak[0] - before < 150
    print(f"\ndocx bomb: refused in {refused_s:.2f} s; server RSS {before:.0f} -> peak "
          f"{peak[0]:.0f} MB; searches meanwhile: median {statistics.median(searched):.2f} s, "
          f"max {max(searched):.2f} s")


@pytest.mark.slow
def test_docx_bomb_against_the_assistant_serve_process(tmp_path: Path) -> None:
    """The issue's figures, measured on the real `assistant serve` (UI, /v1, /mcp) in its own
    process: time to refusal, peak RSS of the server with its parse helpers, and the latency
    of questions and searches sent meanwhile."""
    import os
    import subprocess
    import sys

    data = tmp_path / "data"
    assert Assistant(make_settings(data, llm="none")).ingest().ok
    bomb = tmp_path / "bomb.docx"
    docx_bomb(bomb)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    exe = str(Path(sys.executable).parent / "assistant")
    proc = subprocess.Popen([exe, "serve", "--llm", "none", "--no-ingest", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "ASSISTANT_DATA_DIR": str(data)})
    try:
        wait_for_http(f"{url}/healthz", 240)
        ask = {"model": "extractive", "messages": [{"role": "user", "content": QUESTION}]}
        httpx.post(f"{url}/v1/chat/completions", json=ask, timeout=120)  # warm
        small = [("files", ("warm.html", b"<p>The Warm memo.</p>", "text/html"))]
        httpx.post(f"{url}/v1/documents", files=small, timeout=60)  # starts a parse helper
        before, peak, done = tree_rss_mb(proc.pid), [0.0], threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss_mb(proc.pid))
                time.sleep(0.01)

        def timed(method: str, path: str, **kwargs: Any) -> float:
            start_s = time.perf_counter()
            assert httpx.request(method, url + path, timeout=60, **kwargs).status_code == 200
            return time.perf_counter() - start_s

        watcher = threading.Thread(target=watch)
        watcher.start()
        with ThreadPoolExecutor(8) as pool:
            start_s = time.perf_counter()
            upload = pool.submit(httpx.post, f"{url}/v1/documents", timeout=60, files=[
                ("files", ("bomb.docx", bomb.read_bytes(), "application/zip"))])
            others = [pool.submit(timed, "POST", "/v1/chat/completions", json=ask)
                      for _ in range(4)]
            others += [pool.submit(timed, "POST", "/v1/search", json={"query": "Abilene"})
                       for _ in range(4)]
            result = upload.result().json()["data"][0]
            refused_s = time.perf_counter() - start_s
            latencies = [f.result() for f in others]
        done.set()
        watcher.join()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert result["status"] == "failed" and "expands to 110 MiB" in result["reason"]
    assert refused_s < 10 and peak[0] < 600
    print(f"\nassistant serve, docx bomb ({bomb.stat().st_size / 1e3:.0f} KB -> 110 MiB): refused "
          f"in {refused_s:.2f} s; RSS (server + parse helpers) {before:.0f} -> peak "
          f"{peak[0]:.0f} MB; 4 answers + 4 searches meanwhile: median "
          f"{statistics.median(latencies):.2f} s, max {max(latencies):.2f} s")


def test_page_bomb_pdf_and_huge_html_are_refused(open_server: tuple[str, Assistant],
                                                tmp_path: Path) -> None:
    from pypdf import PdfWriter

    url, _ = open_server
    writer = PdfWriter()
    for _ in range(safe_parse.MAX_PDF_PAGES + 1):
        writer.add_blank_page(10, 10)
    with open(tmp_path / "pages.pdf", "wb") as out:
        writer.write(out)
    html = b"<p>The Heron memo.</p>" * (safe_parse.MAX_HTML_BYTES // 22 + 1)
    files = [("files", ("pages.pdf", (tmp_path / "pages.pdf").read_bytes(), "application/pdf")),
             ("files", ("huge.html", html, "text/html"))]
    results = httpx.post(f"{url}/v1/documents", files=files, timeout=60).json()["data"]
    assert "2,001 pages; the limit is 2,000" in results[0]["reason"]
    assert "the limit is 5 MiB" in results[1]["reason"]


def test_slow_or_hungry_parser_is_stopped_and_blocks_no_other_upload(
        open_server: tuple[str, Assistant]) -> None:
    """The worker's own bounds: a parse that hangs is killed at its time limit, one that
    allocates is stopped at its memory cap; meanwhile another upload goes through."""
    import pickle
    import zlib

    url, _ = open_server
    sleeper = pickle.dumps(_Sleep())  # unpickling it sleeps 30 s
    with ThreadPoolExecutor(1) as pool:
        start_s = time.perf_counter()
        hung = pool.submit(safe_parse.run_limited, pickle.loads, sleeper, 4.0)
        time.sleep(0.3)
        page = b"<html><title>Kite</title><body><p>The Kite memo is brief.</p></body></html>"
        other = httpx.post(f"{url}/v1/documents", files=[("files", ("kite.html", page, "text/html"))],
                           timeout=30)
        assert other.json()["data"][0]["status"] == "added" and not hung.done()
        with pytest.raises(UnreadableFile, match="took longer than 4 s"):
            hung.result()
        hung_s = time.perf_counter() - start_s
    assert 4.0 <= hung_s < 7.0
    packer = zlib.compressobj()
    bomb = b"".join(packer.compress(bytes(2**20)) for _ in range(600)) + packer.flush()
    start_s = time.perf_counter()
    with pytest.raises(UnreadableFile, match="more than 300 MB"):
        safe_parse.run_limited(zlib.decompress, bomb)  # 600 MiB of zeros from 600 KB
    assert time.perf_counter() - start_s < 10


class _Sleep:
    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return time.sleep, (30,)


def test_chunked_upload_without_length_is_cut_off_while_it_streams(
        open_server: tuple[str, Assistant]) -> None:
    url, bot = open_server
    sent = [0]

    def endless() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="flood.txt"\r\n\r\n'
        while sent[0] < 200 * 2**20:
            sent[0] += 2**16
            yield b"flood " * (2**16 // 6) + b"f" * (2**16 % 6)

    try:
        response = httpx.post(f"{url}/v1/documents", content=endless(), timeout=60,
                              headers={"content-type": "multipart/form-data; boundary=b"})
        assert response.status_code == 413 and "ASSISTANT_MAX_UPLOAD_MB" in response.text
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        pass  # the server answered 413 and closed the connection while we were still sending
    assert sent[0] < 50 * 2**20  # the server stopped reading near its 9 MB limit
    assert not (bot.settings.data_dir / "uploads" / "flood.txt").exists()
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:  # a declared 1 GB body
        sock.sendall(f"POST /v1/documents HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: "
                     f"{10**9}\r\nContent-Type: multipart/form-data; boundary=b\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")


# --- what held keeps holding -------------------------------------------------------------------
def test_hundred_concurrent_mixed_requests_behind_the_guard(keyed: tuple[str, Assistant]) -> None:
    url, bot = keyed
    ask = {"model": "extractive", "messages": [{"role": "user", "content": QUESTION}]}
    calls: list[tuple[int, str, str, dict[str, Any]]] = [
        *[(200, "GET", "/v1/models", {"headers": BEARER})] * 20,
        *[(200, "GET", "/v1/documents", {"headers": BEARER})] * 15,
        *[(200, "POST", "/v1/search", {"headers": BEARER, "json": {"query": "Abilene"}})] * 15,
        *[(200, "POST", "/v1/chat/completions", {"headers": BEARER, "json": ask})] * 10,
        *[(200, "GET", "/healthz", {})] * 10,
        *[(401, "POST", "/v1/search", {"json": {"query": "Abilene"}})] * 10,
        *[(400, "POST", "/v1/chat/completions", {"headers": BEARER, "json": {"messages": []}})] * 10,
        *[(421, "GET", "/v1/models", {"headers": {**BEARER, "Host": EVIL_HOST}})] * 5,
        *[(403, "POST", "/v1/search", {"headers": {**BEARER, "Origin": EVIL_ORIGIN},
                                       "json": {"query": "x"}})] * 5,
    ]
    assert len(calls) == 100
    # a connection per request, as separate clients would open: one pooled httpx.Client shared by
    # 50 threads can close a socket another thread is reading (a client-side race, not the server's)
    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(
            lambda c: httpx.request(c[1], url + c[2], timeout=120, **c[3]).status_code, calls))
    assert statuses == [c[0] for c in calls]
    assert len(bot.documents()) == 2


def test_binding_beyond_loopback_without_a_key_or_login_warns(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    for overrides, warned in (({}, True), ({"api_key": KEY}, False)):
        bot = Assistant(make_settings(tmp_path / f"data{len(overrides)}", llm="none", **overrides))
        server = serve(bot, "0.0.0.0", free_port(), ui=False, block=False)
        server.close()
        err = capfd.readouterr().err
        assert ("WARNING: serving on 0.0.0.0 with neither ASSISTANT_API_KEY" in err) is warned
        assert "ASSISTANT_ALLOWED_HOSTS" in err
