"""The web UI over HTTP, driven by gradio_client: cited answers, refusals, errors, upload, login.

The real UI is launched on a free port over a temp store with the corpus ingested and
extractive answers (llm="none"), so every call is quick and deterministic.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, make_settings, running_ui
from gradio_client import Client, handle_file

from assistant import Answer, Assistant, Citation, Conflict
from assistant.surfaces.serve import serve
from assistant.surfaces.ui import answer_html, document_html


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    with running_ui(tmp_path_factory.mktemp("ui"), llm="none") as running:
        yield running


def _client(url: str, **kwargs: Any) -> Client:
    return Client(url, verbose=False, download_files=False, **kwargs)


def _reply(messages: list[dict[str, Any]]) -> str:
    content = messages[-1]["content"]
    if isinstance(content, list):  # gradio may return content as a list of typed parts
        return "".join(part.get("text", "") for part in content)
    return str(content)


def test_corpus_question_gets_a_cited_answer(ui: tuple[str, Assistant]) -> None:
    url, bot = ui
    messages, question = _client(url).predict("Where is the first Stargate site?", [],
                                              api_name="/ask")
    reply = _reply(messages)
    assert "Abilene" in reply and "[1]</button>" in reply
    assert 'class="sources"' in reply and "AiNews.com" in reply  # the publisher, listed
    expected = bot.ask("Where is the first Stargate site?").citations[0]
    assert f"cite-{expected.doc_id}-{expected.start}-{expected.end}" in reply  # clickable
    assert question == ""  # the box is cleared for the next question


def test_follow_up_keeps_the_conversation(ui: tuple[str, Assistant]) -> None:
    url, bot = ui
    first, follow = "Who is OpenAI's largest investor?", "What role did it give up?"
    client = _client(url)
    messages, _ = client.predict(first, [], api_name="/ask")
    messages, _ = client.predict(follow, messages, api_name="/ask")
    history = [{"role": "user", "content": first},
               {"role": "assistant", "content": bot.ask(first).text}]
    expected = bot.ask(follow, history).text
    assert expected != bot.ask(follow).text  # "it" is the last answer's Microsoft
    assert len(messages) == 4 and expected.split(" [")[0] in _reply(messages)


def test_unanswerable_question_is_refused_without_sources(ui: tuple[str, Assistant]) -> None:
    messages, _ = _client(ui[0]).predict("What was OpenAI's revenue in 2024?", [], api_name="/ask")
    reply = _reply(messages)
    assert "can't answer" in html.unescape(reply) and 'class="answer refused"' in reply
    assert "sources" not in reply and 'class="cite' not in reply


def test_bad_question_is_a_message_in_the_chat(ui: tuple[str, Assistant]) -> None:
    messages, _ = _client(ui[0]).predict("   ", [], api_name="/ask")
    assert "The question is empty" in _reply(messages)
    messages, _ = _client(ui[0]).predict("x" * 3000, [], api_name="/ask")
    assert "the limit is 2,000" in _reply(messages) and "Traceback" not in _reply(messages)
    messages, _ = _client(ui[0]).predict(None, [], api_name="/ask")  # an API call without one
    assert "must be a string, not NoneType" in _reply(messages)


def test_source_viewer_highlights_the_cited_span(ui: tuple[str, Assistant]) -> None:
    url, bot = ui
    cite = bot.ask("Where is the first Stargate site?").citations[0]
    page = _client(url).predict(f"{cite.doc_id}:{cite.start}:{cite.end}", api_name="/source")
    assert f'<mark id="cited">{cite.quote}</mark>' in page.replace("&#x27;", "'")
    assert "Cannot show" in _client(url).predict("nope:1:2", api_name="/source")
    for bad in ("nope", None, "a:b:c"):
        assert 'expected "doc_id:start:end"' in html.unescape(_client(url).predict(bad, api_name="/source"))


def test_upload_ingests_good_files_and_reports_bad_ones(ui: tuple[str, Assistant],
                                                        tmp_path: Path) -> None:
    url, bot = ui
    good, empty = tmp_path / "heron-memo.txt", tmp_path / "empty.txt"
    good.write_text("The Heron memo sets the Blue Lake data center budget at 7 billion dollars.")
    empty.write_text("")
    client = _client(url)
    results, docs, _pick, status = client.predict([handle_file(good), handle_file(empty)],
                                                  api_name="/ingest")
    by_source = {row[0]: row for row in results["data"]}
    assert by_source["uploads/heron-memo.txt"][1] == "added"
    assert by_source["uploads/empty.txt"][1] == "failed" and "empty" in by_source["uploads/empty.txt"][3]
    assert (bot.settings.data_dir / "uploads" / "heron-memo.txt").is_file()
    doc_id = next(d.doc_id for d in bot.documents() if d.source == "uploads/heron-memo.txt")
    assert "3 documents" in status
    messages, _ = client.predict("What budget does the Heron memo set?", [], api_name="/ask")
    assert "7 billion" in _reply(messages) and "heron memo" in _reply(messages)
    client.predict(doc_id, api_name="/remove")
    assert all(d.source != "uploads/heron-memo.txt" for d in bot.documents())


def test_html_in_answers_and_documents_is_escaped(ui: tuple[str, Assistant]) -> None:
    bot = ui[1]
    doc = bot.documents()[0]
    cite = Citation(1, doc.doc_id, "<b>t</b>", doc.source, "<script>x</script>", 0, 5, 1.0)
    answer = Answer("q", "<img src=x onerror=alert(1)> [1].", [cite], refused=False)
    page = answer_html(bot, answer)
    assert "<img" not in page and "<script>" not in page and "&lt;img src=x" in page
    assert "<b>t</b>" not in page
    assert '<mark id="cited">' in document_html(bot, doc.doc_id, 0, 5)


def test_conflicting_sources_are_shown_side_by_side(ui: tuple[str, Assistant]) -> None:
    bot = ui[1]
    doc = bot.documents()[0]
    a = Citation(1, doc.doc_id, "A", doc.source, "It opens in 2025", 0, 10, 0.9)
    b = Citation(2, doc.doc_id, "B", doc.source, "It opens in 2026", 10, 20, 0.9)
    answer = Answer("q", "The sources differ [1] [2].", [a, b], refused=False,
                    conflicts=[Conflict("when", (a, b))])
    page = answer_html(bot, answer)
    assert "The sources disagree" in page and page.count('<div class="side">') == 2
    assert page.index("2025") < page.index("2026")
    assert 'class="age"' not in page  # no dates: neither side is the newer one
    a = Citation(1, doc.doc_id, "A", doc.source, "It opens in 2025", 0, 10, 0.9, "2024-03-10")
    b = Citation(2, doc.doc_id, "B", doc.source, "It opens in 2026", 10, 20, 0.9, "2025-06")
    page = answer_html(bot, Answer("q", "It opens in 2026 [2]; earlier, 2025 [1].", [b, a],
                                   refused=False, conflicts=[Conflict("when", (b, a), newer=0)]))
    assert ('<span class="date">(June 2025)</span> <span class="age">newer</span>' in page
            and '<span class="date">(10 March 2024)</span> <span class="age">earlier</span>' in page)


def test_dates_show_beside_quotes_in_the_viewer_and_in_documents(ui: tuple[str, Assistant],
                                                                 tmp_path: Path) -> None:
    url, bot = ui
    client = _client(url)
    messages, _ = client.predict("Where is the first Stargate site?", [], api_name="/ask")
    sources = _reply(messages).split('class="sources"')[1]
    assert sources.count('<span class="date">(January 2025)</span>') == len(
        bot.ask("Where is the first Stargate site?").citations)
    doc = bot.documents()[0]
    assert "published January 2025 (manifest)" in document_html(bot, doc.doc_id)
    undated = Citation(1, doc.doc_id, "T", doc.source, "q", 0, 1, 1.0)
    assert '<span class="date">(undated)</span>' in answer_html(bot, Answer("q", "a [1].", [undated],
                                                                          refused=False))
    memo = tmp_path / "plover-memo.txt"
    memo.write_text("The Plover memo moves the Silver Bay opening to 2032.")
    results, docs, _pick, _status = client.predict([handle_file(memo)], "2025-06-15",
                                                   api_name="/ingest")
    assert results["data"][0][1] == "added"
    dates = {row[3]: row[2] for row in docs["data"]}
    assert dates["uploads/plover-memo.txt"] == "15 June 2025 (upload)"
    assert {dates[p] for p in dates if not p.startswith("uploads/")} == {"January 2025 (manifest)"}
    results, *_ = client.predict([handle_file(memo)], "the other day", api_name="/ingest")
    assert results["data"][0][1] == "failed" and "published must be a date" in results["data"][0][3]
    client.predict(next(d.doc_id for d in bot.documents() if d.source == "uploads/plover-memo.txt"),
                   api_name="/remove")
    assert len(bot.documents()) == 2


def test_as_of_box_limits_the_chat_to_documents_published_by_then(ui: tuple[str, Assistant],
                                                                   ) -> None:
    client = _client(ui[0])
    question = "Where is the first Stargate site?"
    messages, _ = client.predict(question, [], "2024-12-31", api_name="/ask")
    assert 'class="answer refused"' in _reply(messages) and "Abilene" not in _reply(messages)
    messages, _ = client.predict(question, [], "2025-02", api_name="/ask")
    assert "Abilene" in _reply(messages)
    messages, _ = client.predict(question, [], "whenever", api_name="/ask")
    assert "as_of must be a date such as 2025-03-31" in html.unescape(_reply(messages))
    assert "Traceback" not in _reply(messages)


def test_timeline_tab_lists_the_dated_events(ui: tuple[str, Assistant]) -> None:
    url, bot = ui
    client = _client(url)
    page = client.predict("", "", api_name="/timeline")
    events = bot.timeline()
    assert page.count('class="event tl-') == len(events) >= 6
    at = -1
    for e in events:  # in order, each a link to its exact span
        c = e.citation
        found = page.index(f'class="event tl-{c.doc_id}-{c.start}-{c.end}"', at + 1)
        assert found > at and html.escape(e.label) in page[found:found + 400]
        at = found
    assert "June 2023" in page and "July (no year given)" in page and "document published" in page
    assert client.predict("Oracle", "", api_name="/timeline").count('class="event tl-') == len(
        bot.timeline("Oracle"))
    assert "No dated events as of 2024." in client.predict("", "2024", api_name="/timeline")
    assert 'class="event tl-' in client.predict(None, None, api_name="/timeline")  # as "", ""
    bad = client.predict("", "soon-ish", api_name="/timeline")
    assert 'class="error"' in bad and "as_of must be a date such as 2025-03-31" in html.unescape(bad)


def test_login_is_required_when_ui_auth_is_set(tmp_path: Path) -> None:
    bot = Assistant(make_settings(tmp_path / "data", llm="none", ui_auth="alice:s3cret"))
    port = free_port()
    server = serve(bot, "127.0.0.1", port, block=False)
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(Exception, match="(?i)login|auth|401|credentials"):
            _client(url)
        with pytest.raises(Exception, match="(?i)login|auth|401|credentials"):
            _client(url, auth=("alice", "wrong"))
        messages, _ = _client(url, auth=("alice", "s3cret")).predict("  ", [], api_name="/ask")
        assert "The question is empty" in _reply(messages)
    finally:
        server.close()


def test_evaluation_runs_and_shows_its_report(ui: tuple[str, Assistant]) -> None:
    url, bot = ui
    summary, chart, failing = _client(url).predict(1, api_name="/evaluate")
    assert "| golden-dev | dev | 1 |" in summary and "| golden-test | test | 1 |" in summary
    assert chart is not None and isinstance(failing, dict)
    out = bot.settings.data_dir / "eval" / "ui-latest"
    assert (out / "summary.json").is_file() and (out / "golden-dev" / "report.html").is_file()
