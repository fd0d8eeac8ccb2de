"""The chat web UI: a gradio shell over `Assistant`, served on localhost and fully offline.

Tabs: Chat (streamed answers with clickable [n] citations, a sources list under each answer,
each quote with its document's date, and a viewer that shows the cited span in its document;
an optional "as of" date), Documents (list with dates, view, upload with an optional date,
remove), Check a claim (`ui_claims.py`), Timeline (`ui_timeline.py`) and Evaluation (run the
eval, see the latest report). Handlers call
`Assistant` and format what it returns; every document text and quote is HTML-escaped
before it reaches the page. The evaluation runs as its own command (`python -m evals`) and
the tab reads the report files it writes, so the package does not import `evals`. The UI is
mounted on the HTTP API's app (`mount_ui`), so page and API share one port, and one guard
(`guard.py`) in front of both asks for the login: gradio's own `auth` is not used.
Not here: answering, ingesting or scoring logic, authentication.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.api import Assistant, Chat
from assistant.core.errors import AssistantError
from assistant.core.models import Answer, Citation, EvidenceEvent, TextDelta
from assistant.surfaces.viewer import cite_js, click_listener_js, date_label, document_html, source_html

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no phoning home

import gradio as gr  # noqa: E402

UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]
THEME = gr.themes.Default(  # system fonts only: the page loads nothing from outside
    font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"])
CSS = (Path(__file__).parent / "ui_assets" / "ui.css").read_text(encoding="utf-8")
# One delegated listener: a click on anything with a class "cite-<doc_id>-<start>-<end>" (the
# chat's sanitizer drops data-* attributes, keeps classes) hands "doc_id:start:end" to the
# hidden "cite-go" button, whose event sends it to the source viewer.
HEAD = f"<script>({click_listener_js('cite', 'cite-go')})();</script>"
SCROLL_JS = """() => setTimeout(() => document.getElementById("cited")
  ?.scrollIntoView({block: "center", behavior: "smooth"}), 100)"""
MARKER = re.compile(r"\[(\d+)\]")
esc = html.escape


def _target(c: Citation) -> str:
    return f"cite-{esc(c.doc_id)}-{c.start}-{c.end}"


def _cite_button(c: Citation) -> str:
    return (f'<button type="button" class="cite {_target(c)}" title="{esc(c.title)}">'
            f"[{c.number}]</button>")


def _date(c: Citation) -> str:
    return f'<span class="date">({esc(date_label(c.published))})</span>'


def _source_line(bot: Assistant, c: Citation) -> str:
    try:
        publisher = bot.document(c.doc_id).publisher
    except AssistantError:  # removed since it was cited
        publisher = ""
    return (f'<li>{_cite_button(c)} <b>{esc(c.title)}</b>{" · " if publisher else ""}'
            f'{esc(publisher)} {_date(c)} <span class="quote {_target(c)}">“{esc(c.quote)}”</span></li>')


def evidence_html(evidence: list[Citation], answer: Answer | None = None) -> str:
    """The numbered evidence the answer is drawn from, shown before any text is generated;
    once the answer is final, the quotes it cites are marked."""
    if not evidence:
        return ""
    cited = {(c.doc_id, c.start, c.end) for c in answer.citations} if answer else set()
    items = "".join(
        f'<li class="{"cited" if (c.doc_id, c.start, c.end) in cited else ""}">{_cite_button(c)} '
        f'<span class="quote {_target(c)}">“{esc(c.quote)}”</span> <i>{esc(c.title)}</i> {_date(c)}</li>'
        for c in evidence)
    return f'<details class="evidence" open><summary>Evidence</summary><ol>{items}</ol></details>'


def trace_html(answer: Answer) -> str:
    """A "why this answer" fold: each stage's decision and reason, from `Answer.trace`."""
    lines = []
    for step in answer.trace:
        details = {k: v for k, v in step.items() if k not in ("stage", "decision", "reason") and v}
        extra = f' <code>{esc(json.dumps(details, ensure_ascii=False))}</code>' if details else ""
        reason = f" — {esc(step['reason'])}" if step.get("reason") else ""
        lines.append(f"<li><b>{esc(step['stage'])}</b>: {esc(step['decision'])}{reason}{extra}</li>")
    return f'<details class="why"><summary>Why this answer</summary><ol>{"".join(lines)}</ol></details>'


def answer_html(bot: Assistant, answer: Answer) -> str:
    """The answer text with clickable [n] markers, then its sources (and any conflict)."""
    cites = {c.number: c for c in answer.citations}

    def marker(m: re.Match[str]) -> str:
        c = cites.get(int(m.group(1)))
        return _cite_button(c) if c else m.group(0)

    parts = [f'<div class="answer{" refused" if answer.refused else ""}">'
             f"{MARKER.sub(marker, esc(answer.text))}</div>"]
    if answer.notice:
        parts.append(f'<div class="notice">{esc(answer.notice)}</div>')
    for conflict in answer.conflicts:
        age = {conflict.newer: "newer", 1 - conflict.newer: "earlier"} if conflict.newer is not None else {}
        sides = "".join(f'<div class="side"><b>{esc(c.title)}</b> {_cite_button(c)} {_date(c)}'
                        + (f' <span class="age">{age[i]}</span>' if age else "")
                        + f"<div>“{esc(c.quote)}”</div></div>" for i, c in enumerate(conflict.sides))
        parts.append(f'<div class="conflict"><div class="label">The sources disagree</div>'
                     f'<div class="sides">{sides}</div></div>')
    if answer.citations and not answer.refused:
        lines = "".join(_source_line(bot, c) for c in answer.citations)
        parts.append(f'<div class="sources"><div class="label">Sources</div><ol>{lines}</ol></div>')
    parts.append(trace_html(answer))
    return "".join(parts)  # one line: markdown must not re-wrap the HTML


def build_ui(bot: Assistant) -> gr.Blocks:
    """The gradio Blocks of the UI (not launched; see `serve`)."""

    def status() -> str:
        s = bot.status()
        return (f"**Partnership Assistant** · LLM: {s['llm']} · embedding: {s['embedding']} · "
                f"{s['documents']} documents, {s['chunks']} chunks · store: {s['store']}")

    def respond(question: str, messages: list[Any], as_of: str | None,
                history: list[dict[str, str]],
                ) -> Iterator[tuple[list[Any], list[dict[str, str]], str]]:
        asked = ([{"role": "user", "content": esc(question)}]
                 if isinstance(question, str) and question.strip() else [])
        messages = [*messages, *asked]
        yield messages, history, ""  # the question shows at once, then the answer streams
        dated = as_of.strip() if isinstance(as_of, str) else as_of  # anything else: the API says why
        try:
            chat = Chat(bot, history)
            # with a date, the Assistant's own stream (a Chat takes none); the turn is kept below
            stream = (bot.stream(question, chat.history, as_of=dated) if dated
                      else chat.stream(question))
            text = ""
            for event in stream.events():  # the evidence first, then the verified text
                if isinstance(event, EvidenceEvent | TextDelta):
                    text += event.text if isinstance(event, TextDelta) else ""
                    shown = evidence_html(stream.evidence) + f'<div class="streaming">{esc(text)}</div>'
                    yield [*messages, {"role": "assistant", "content": shown}], history, ""
            assert stream.answer is not None
            answer = stream.answer
        except AssistantError as exc:
            error = f'<div class="error">{esc(str(exc))}</div>'
            yield [*messages, {"role": "assistant", "content": error}], history, ""
            return
        shown = "" if answer.refused else evidence_html(stream.evidence, answer)  # none quoted
        final = shown + answer_html(bot, answer)
        turns = [*chat.history, {"role": "user", "content": question},
                 {"role": "assistant", "content": answer.text}] if dated else chat.history
        yield [*messages, {"role": "assistant", "content": final}], turns, ""

    def show_source(cite: str) -> str:
        return source_html(bot, cite)

    def doc_table() -> tuple[list[list[Any]], Any]:
        docs = bot.documents()
        rows = [[d.title, d.publisher, date_label(d.published) + (
            f" ({d.published_from})" if d.published and d.published_from else ""),
            d.source, d.chunks, d.ingested_at] for d in docs]
        choices = [(f"{d.title} ({d.source})", d.doc_id) for d in docs]
        return rows, gr.update(choices=choices, value=None)

    def view_doc(doc_id: str | None) -> str:
        if not doc_id:
            return "<p>Choose a document.</p>"
        try:
            return document_html(bot, doc_id)
        except AssistantError as exc:
            return f'<div class="error">{esc(str(exc))}</div>'

    def upload(files: list[str] | None, published: str | None = None,
               progress: gr.Progress = gr.Progress(),  # noqa: B008
               ) -> tuple[list[list[Any]], list[list[Any]], Any, str]:
        paths = [Path(f) for f in files or []]  # gradio keeps the original name in the temp path
        done: list[Any] = []

        def on_file(result: Any) -> None:
            done.append(result)
            progress((len(done), len(paths)), desc=f"Ingested {result.source}")

        progress((0, len(paths)), desc="Ingesting")
        try:
            report = bot.upload([(p.name, p.read_bytes()) for p in paths], on_file=on_file,
                                published=(published or "").strip() or None)
            results = [[r.source, r.status, r.chunks, r.reason] for r in report.results]
        except AssistantError as exc:
            results = [["(upload)", "failed", 0, str(exc)]]
        return results, *doc_table(), status()

    def remove(doc_id: str | None) -> tuple[list[list[Any]], Any, str, str]:
        if not doc_id:
            return *doc_table(), "Choose a document to remove.", status()
        try:
            bot.remove(doc_id)
            message = "Removed."
        except AssistantError as exc:
            message = str(exc)
        return *doc_table(), esc(message), status()

    eval_root = bot.settings.data_dir / "eval"

    def eval_report() -> tuple[str, str | None, list[list[Any]]]:
        """The latest run (eval/latest, else the UI's own): a row per suite, the first suite's
        chart, and every failing question."""
        out = next((d for d in (eval_root / "latest", eval_root / "ui-latest")
                    if (d / "summary.json").is_file()), None)
        if out is None:
            return "No evaluation report yet: run the evaluation.", None, []
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        suites = s.get("suites", {})
        shown = ["fact_accuracy", "correct_refusal", "over_refusal", "citation_precision",
                 "update_lead", "as_of_respected"]
        lines = [f"**{sum(v['questions'] for v in suites.values())} questions in {len(suites)} "
                 f"suites, {sum(v['failed_questions'] for v in suites.values())} failing** · "
                 f"{s.get('backend')} ({s.get('model')}) · {s.get('created')} · {out}", "",
                 "| suite | split | questions | " + " | ".join(shown) + " |",
                 "|---|---|---|" + "---|" * len(shown)]
        for name, v in suites.items():
            values = [v["metrics"].get(m) for m in shown]
            lines.append(f"| {name} | {v['split']} | {v['questions']} | " + " | ".join(
                "—" if x is None else f"{x:.3g}" for x in values) + " |")
        failing = []
        for name in suites:
            rows = (out / name / "rows.jsonl").read_text(encoding="utf-8").splitlines()
            failing += [[f"{name}: {r.get('id')}", r.get("question"), r.get("answer"),
                         "; ".join(r["failures"])]
                        for r in map(json.loads, filter(str.strip, rows)) if r.get("failures")]
        chart = next((out / n / "metrics.png" for n in suites if (out / n / "metrics.png").is_file()),
                     None)
        return esc("\n".join(lines), quote=False), str(chart) if chart else None, failing

    def run_evaluation(limit: float | None, progress: gr.Progress = gr.Progress(),  # noqa: B008
                       ) -> tuple[str, str | None, list[list[Any]]]:
        progress(None, desc="Evaluating")
        error = run_eval_command(bot, eval_root / "ui-latest", int(limit or 0))
        if error:
            return f"The evaluation could not run: {esc(error)}", None, []
        return eval_report()

    with gr.Blocks(title="Partnership Assistant", analytics_enabled=False) as demo:
        status_line = gr.Markdown(elem_id="status")
        with gr.Tab("Chat"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(elem_id="chat", height=520, show_label=False,
                                     latex_delimiters=[], buttons=["copy"], feedback_options=None,
                                     placeholder="Ask about the partnership documents.")
                question = gr.Textbox(show_label=False, elem_id="question", max_lines=4,
                                      placeholder="Ask a question and press Enter")
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("Clear", elem_id="clear")
                    as_of = gr.Textbox(show_label=False, elem_id="as-of", max_lines=1, value="",
                                       placeholder="As of date (optional)")
            with gr.Column(scale=2):
                viewer = gr.HTML("<p>Click a citation [n] to see it in its document.</p>",
                                 elem_id="viewer", js_on_load=None)
            history = gr.State([])
            cite_box = gr.Textbox(visible="hidden", elem_id="cite-box")
            cite_go = gr.Button(visible="hidden", elem_id="cite-go")
        with gr.Tab("Documents"):
            docs = gr.Dataframe(headers=["title", "publisher", "published", "source", "chunks",
                                         "ingested"], interactive=False, elem_id="docs", wrap=True,
                                column_widths=["28%", "12%", "14%", "26%", "7%", "13%"])
            with gr.Row():
                pick = gr.Dropdown(label="Document (view or remove)", choices=[],
                                   elem_id="pick", scale=4)
                delete = gr.Button("Remove", variant="stop", elem_id="remove")
            removed = gr.Markdown()
            files = gr.File(label="Add documents (.txt .md .html .pdf .docx)",
                            file_count="multiple", file_types=UPLOAD_TYPES, elem_id="upload")
            with gr.Row():
                published = gr.Textbox(label="Published (optional date of these files, e.g. "
                                       "2025-03-31)", elem_id="published", max_lines=1, value="",
                                       scale=3)
                ingest = gr.Button("Ingest", variant="primary", elem_id="ingest", scale=1)
            results = gr.Dataframe(headers=["source", "status", "chunks", "reason"],
                                   interactive=False, elem_id="results", wrap=True)
            doc_view = gr.HTML(elem_id="doc-view", js_on_load=None)
        with gr.Tab("Evaluation") as eval_tab:
            with gr.Row():
                limit = gr.Number(label="Questions per suite (0 = all)", value=0, precision=0, minimum=0)
                run = gr.Button("Run evaluation", variant="primary", elem_id="run-eval")
            summary = gr.Markdown(elem_id="eval-summary")
            chart = gr.Image(label="Metrics", type="filepath", interactive=False, elem_id="eval-chart")
            failing = gr.Dataframe(headers=["id", "question", "answer", "what failed"],
                                   label="Failing questions", interactive=False, wrap=True,
                                   column_widths=["14%", "26%", "32%", "28%"])

        # one model, one job at a time: chat, ingest, remove and eval share a queue
        busy: dict[str, Any] = {"concurrency_id": "assistant", "concurrency_limit": 1}
        from assistant.surfaces.ui_claims import build_check_tab  # the "Check a claim" tab

        build_check_tab(bot, demo, busy)
        from assistant.surfaces.ui_timeline import build_timeline_tab

        build_timeline_tab(bot, demo)
        ask_args: dict[str, Any] = {"fn": respond, "inputs": [question, chatbot, as_of, history],
                                    "outputs": [chatbot, history, question], **busy}
        question.submit(**ask_args, api_name="ask")
        send.click(**ask_args, api_visibility="private")
        clear.click(lambda: ([], [], ""), outputs=[chatbot, history, viewer],
                    api_visibility="private")
        chatbot.clear(lambda: ([], ""), outputs=[history, viewer], api_visibility="private")
        cite_go.click(show_source, cite_box, viewer, js=cite_js("cite"),
                      api_name="source").then(None, js=SCROLL_JS)
        demo.load(status, outputs=status_line, api_visibility="private")
        demo.load(doc_table, outputs=[docs, pick], api_visibility="private")
        pick.change(view_doc, pick, doc_view, api_visibility="private")
        delete.click(remove, pick, [docs, pick, removed, status_line], **busy, api_name="remove")
        ingest.click(upload, [files, published], [results, docs, pick, status_line], **busy,
                     api_name="ingest")
        eval_tab.select(eval_report, outputs=[summary, chart, failing], api_visibility="private")
        run.click(run_evaluation, limit, [summary, chart, failing], **busy, api_name="evaluate")
    return demo


def run_eval_command(bot: Assistant, out: Path, limit: int = 0) -> str:
    """Run `python -m evals` with this assistant's settings; "" when it worked, else why not."""
    env = {**os.environ, **{f"ASSISTANT_{k.upper()}": str(v)
                            for k, v in bot.settings.model_dump().items() if v is not None}}
    argv = [sys.executable, "-m", "evals", "--out", str(out), *(["--limit", str(limit)] * bool(limit))]
    try:
        run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=6 * 3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    lines = [line for line in run.stderr.splitlines() if line.strip() and "\r" not in line]
    return "" if run.returncode in (0, 1) else (lines[-1] if lines else f"exit {run.returncode}")


def mount_ui(app: Any, bot: Assistant, host: str, port: int) -> Any:
    """Mount the UI at / of the FastAPI `app` (the HTTP API's routes keep precedence)."""
    demo = build_ui(bot)
    demo.queue()
    return gr.mount_gradio_app(
        app, demo, "/", server_name=host, server_port=port,
        theme=THEME, css=CSS, head=HEAD, footer_links=[], ssr_mode=False, pwa=False,
        mcp_server=False, enable_monitoring=False,
        max_file_size=int(bot.settings.max_upload_mb * 1e6))
