"""The web UI in a real Chromium: streaming, clicking a citation, upload, escaping, offline.

Uses Debian's /usr/bin/chromium through Playwright (never `playwright install`). Every
request the page makes is recorded and anything not on localhost is blocked and fails the
test, so the page is proven to render with no network. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, make_settings, running_ui
from playwright.sync_api import expect

from assistant import Assistant
from assistant.surfaces.serve import serve

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL = re.compile(r"^(https?://(127\.0\.0\.1|localhost)(:\d+)?/|data:|blob:)")
BOT = "#chat .message.bot:not(.pending)"  # not the "loading" placeholder
QUESTION = "Where is the first Stargate site?"
PWNED = ('The Quokka Protocol requires every server rack to be painted teal. '
         '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1">\n')

if not CHROMIUM.exists():
    pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    with running_ui(tmp_path_factory.mktemp("browser"), llm="none") as running:
        yield running


@contextmanager
def browser_page(url: str) -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page on `url` that may reach localhost only; fails if it tried more."""
    from playwright.sync_api import sync_playwright

    expect.set_options(timeout=30_000)
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.on("request", lambda request: requests.append(request.url))
        context.route(re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/]).*"),
                      lambda route: route.continue_() if LOCAL.match(route.request.url)
                      else route.abort())
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url, wait_until="load")
        page.wait_for_selector("#question textarea")
        page.wait_for_selector("#status p")  # the status line is filled once the app is up
        yield page, requests
        browser.close()
    assert requests, "no request was recorded"
    external = [url for url in requests if not LOCAL.match(url)]
    assert not external, f"the page tried to reach the network: {external}"


@pytest.fixture
def page(app: tuple[str, Assistant]) -> Iterator[tuple[Any, list[str]]]:
    with browser_page(app[0]) as opened:
        yield opened


def ask(page: Any, question: str) -> float:
    """Submit `question`; return seconds to the first streamed token; wait for the answer."""
    before = page.locator(BOT).count()
    box = page.locator("#question textarea")
    box.fill(question)
    start = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(
        """([sel, n]) => { const m = document.querySelectorAll(sel);
                          return m.length > n && m[n].innerText.trim().length > 0; }""",
        arg=[BOT, before], polling="raf", timeout=90_000)
    first_token = time.perf_counter() - start
    page.locator(BOT).nth(before).locator(".answer, .error").wait_for(timeout=90_000)
    print(f"\n{question!r}: first streamed token after {first_token * 1000:.0f} ms")
    return first_token


def upload(page: Any, file: Path) -> None:
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(file))
    expect(page.locator("#upload")).to_contain_text(file.stem)  # shown as "stem .txt"
    page.locator("#ingest").click()
    expect(page.locator("#results")).to_contain_text(file.name)
    expect(page.locator("#results")).to_contain_text("added")
    expect(page.locator("#docs")).to_contain_text(file.name)


def test_chat_streams_and_a_citation_opens_the_highlighted_source(
        app: tuple[str, Assistant], page: tuple[Any, list[str]], artifacts: Path) -> None:
    p, _ = page
    ask(p, QUESTION)  # the first question also builds the retriever's sentence index
    answer = p.locator("#chat .answer").last
    assert "Abilene" in answer.inner_text()
    expected = app[1].ask(QUESTION).citations[0]
    sources = p.locator("#chat .sources").last
    assert expected.quote in sources.inner_text() and "AiNews.com" in sources.inner_text()
    assert "(January 2025)" in sources.inner_text()  # each quote with its document's date
    answer.get_by_role("button", name="[1]").first.click()
    mark = p.locator("#viewer mark#cited")
    mark.wait_for()
    assert mark.inner_text() == expected.quote
    assert expected.title in p.locator("#viewer").inner_text()
    p.wait_for_function("""() => {
        const m = document.getElementById("cited").getBoundingClientRect();
        const v = document.querySelector("#viewer pre.doc-text").getBoundingClientRect();
        return m.top >= v.top && m.bottom <= v.bottom; }""")  # scrolled into view
    p.screenshot(path=str(artifacts / "chat-with-citation.png"), full_page=True)

    ask(p, "What was OpenAI's revenue in 2024?")
    assert "can't answer" in p.locator("#chat .answer").last.inner_text()
    assert p.locator(BOT).last.locator(".sources, .cite").count() == 0
    p.locator("#clear").click()
    p.wait_for_function("() => !document.querySelector('#chat .answer')")


def test_uploaded_document_is_answered_with_a_citation_to_it(
        page: tuple[Any, list[str]], tmp_path: Path, artifacts: Path) -> None:
    p, _ = page
    fact = tmp_path / "zephyr-accord.txt"
    fact.write_text("The Zephyr Accord commits Northwind Cloud to open a data center in "
                    "Tromso with 4,200 GPUs.\n")
    upload(p, fact)
    p.screenshot(path=str(artifacts / "documents-upload.png"), full_page=True)
    p.get_by_role("tab", name="Chat").click()
    ask(p, "Where will Northwind Cloud open a data center under the Zephyr Accord?")
    answer = p.locator("#chat .answer").last
    assert "Tromso" in answer.inner_text()
    answer.get_by_role("button", name="[1]").first.click()
    p.locator("#viewer mark#cited").wait_for()
    assert "zephyr-accord.txt" in p.locator("#viewer .doc-meta").inner_text()


def test_html_in_a_document_never_runs(page: tuple[Any, list[str]], tmp_path: Path,
                                       artifacts: Path) -> None:
    p, _ = page
    evil = tmp_path / "quokka-protocol.txt"
    evil.write_text(PWNED)
    upload(p, evil)
    p.locator("#pick input").click()
    p.get_by_role("option", name=re.compile("quokka", re.I)).click()
    view = p.locator("#doc-view .doc-text")
    view.wait_for()
    assert "<script>window.__pwned=1</script>" in view.inner_text()
    assert '<img src=x onerror="window.__pwned=1">' in view.inner_text()
    p.get_by_role("tab", name="Chat").click()
    ask(p, "What colour must server racks be painted under the Quokka Protocol?")
    p.locator("#chat .answer").last.get_by_role("button", name="[1]").first.click()
    p.locator("#viewer mark#cited").wait_for()
    assert "onerror" in p.locator("#viewer").inner_text()
    p.wait_for_timeout(300)
    assert p.evaluate("() => typeof window.__pwned") == "undefined"
    p.screenshot(path=str(artifacts / "escaped-document.png"), full_page=True)


def test_timeline_tab_event_opens_the_highlighted_span(app: tuple[str, Assistant],
                                                       page: tuple[Any, list[str]],
                                                       artifacts: Path) -> None:
    p, _ = page
    bot = app[1]
    events = bot.timeline()
    june = next(e for e in events if e.label == "June 2023")
    p.get_by_role("tab", name="Timeline").click()  # the events load when the tab opens
    expect(p.locator("#timeline-events a.event")).to_have_count(len(events))
    labels = p.locator("#timeline-events .when").all_inner_texts()
    assert labels == [e.label for e in events] and labels.index("2019") < labels.index("June 2023")
    p.locator("#timeline-events a.event", has_text="June 2023").first.click()
    mark = p.locator("#timeline-viewer mark#cited")
    mark.wait_for()
    assert mark.inner_text() == june.citation.quote
    assert june.citation.title in p.locator("#timeline-viewer .doc-title").inner_text()
    assert "published January 2025 (manifest)" in p.locator("#timeline-viewer .doc-meta").inner_text()
    p.wait_for_function("""() => {
        const m = document.querySelector("#timeline-viewer mark").getBoundingClientRect();
        const v = document.querySelector("#timeline-viewer pre.doc-text").getBoundingClientRect();
        return m.top >= v.top && m.bottom <= v.bottom; }""")  # scrolled into view
    shot = artifacts / "timeline.png"
    p.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 30_000  # a rendered page, not a blank one

    p.locator("#timeline-as-of textarea, #timeline-as-of input").first.fill("2024")
    p.locator("#timeline-run").click()
    expect(p.locator("#timeline-events")).to_contain_text("No dated events as of 2024.")
    p.locator("#timeline-as-of textarea, #timeline-as-of input").first.fill("someday")
    p.locator("#timeline-run").click()
    expect(p.locator("#timeline-events .error")).to_contain_text("as_of must be a date")


def test_evaluation_tab_shows_the_latest_report(page: tuple[Any, list[str]],
                                                artifacts: Path) -> None:
    p, _ = page
    p.get_by_role("tab", name="Evaluation").click()
    expect(p.locator("#eval-summary")).to_contain_text("No evaluation report yet")
    p.get_by_label("Questions per suite (0 = all)").fill("1")
    p.locator("#run-eval").click()  # the first question of each suite
    expect(p.locator("#eval-summary")).to_contain_text(re.compile(r"\b(\d+) questions in \1 suites"),
                                                       timeout=300_000)
    p.locator("#eval-chart img").wait_for()
    p.screenshot(path=str(artifacts / "evaluation.png"), full_page=True)


@pytest.mark.slow
def test_local_llm_answer_streams_in_the_browser(tmp_path: Path, artifacts: Path) -> None:
    """The default local LLM: cold first question (model load included), then a warm one."""
    bot = Assistant(make_settings(tmp_path / "data", llm="local"))
    assert bot.ingest().ok
    port = free_port()
    server = serve(bot, "127.0.0.1", port, block=False)
    try:
        with browser_page(f"http://127.0.0.1:{port}/") as (p, _):
            p.set_default_timeout(120_000)
            cold = ask(p, QUESTION)
            assert "Abilene" in p.locator("#chat .answer").last.inner_text()
            p.locator("#clear").click()  # a new conversation: no follow-up rewriting by the LLM
            p.wait_for_function("() => !document.querySelector('#chat .answer')")
            warm = ask(p, "Who is OpenAI's largest investor?")
            assert "Microsoft" in p.locator("#chat .answer").last.inner_text()
            p.locator("#chat .answer").last.get_by_role("button", name="[1]").first.click()
            p.locator("#viewer mark#cited").wait_for()
            p.screenshot(path=str(artifacts / "chat-local-llm.png"), full_page=True)
        print(f"local LLM, first token: cold {cold:.1f} s, warm {warm:.1f} s")
    finally:
        server.close()
