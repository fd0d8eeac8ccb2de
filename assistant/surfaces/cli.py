"""The `assistant` command: parses options, calls `Assistant`, prints. No logic of its own.

Errors of the assistant, and invalid settings, become one readable message and exit code 1;
an ingest in which some file failed exits with 1 after ingesting the rest. `serve` runs the
web UI, the HTTP API and MCP over HTTP on one port, `api` the same without the UI, `mcp` the
MCP server (stdio, or `--http` alone); all served ones sit behind one guard (`guard.py`).
Dates: `--as-of DATE` on ask, search, check and timeline (a malformed date is one error line),
each source printed with its document's date or "undated", `timeline [TOPIC]` one line per
dated event, `documents` each document's date and where it was read.
"""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import click
from pydantic import ValidationError

from assistant.core.dates import check_as_of
from assistant.core.errors import AssistantError
from assistant.surfaces.viewer import date_label

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


# What a terminal acts on instead of showing: control characters (ESC opens colour and cursor
# codes; C1 ones too), lone surrogates (unprintable) and the marks that reorder a line (bidi
# overrides and isolates). Document text, titles and file names are anybody's: they are shown
# with each such character as "?".
_REORDERING = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def terminal_safe(text: str, one_line: bool = False) -> str:
    """`text` with what a terminal would act on shown as "?"; line breaks and tabs stay unless
    `one_line` (a title or a file name in a listing of one line each)."""
    kept = "" if one_line else "\n\t"
    return "".join("?" if c not in kept and (unicodedata.category(c) in ("Cc", "Cs") or c in _REORDERING)
                   else c for c in text)


def _one(field: str) -> str:
    return terminal_safe(field, one_line=True)


def _echo(message: str = "", **options: Any) -> None:
    click.echo(terminal_safe(message), **options)


def _settings(llm: str | None = None) -> Any:
    from assistant.core.settings import Settings, settings_error

    try:
        return Settings() if llm is None else Settings(llm=llm)
    except ValidationError as exc:
        raise click.ClickException(settings_error(exc)) from None


def _assistant(llm: str | None = None) -> Any:
    from assistant.api import Assistant

    return Assistant(_settings(llm))


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn AssistantError into a clean CLI error."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AssistantError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _date(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    """--as-of checked before anything loads: one readable line when it is no date."""
    try:
        check_as_of(value, "--as-of")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    return value


AS_OF = click.option("--as-of", "as_of", default=None, callback=_date, metavar="DATE",
                     help="Only documents published on or before DATE (2025-03-31, 2025-03 or "
                          "2025) count; undated ones are kept.")
LLM_OPTION = click.option("--llm", type=click.Choice(["local", "openai", "none"]), default=None,
                          help="Answer generator (default: ASSISTANT_LLM, else local).")


@click.group()
@click.version_option(package_name="partnership-assistant")
def main() -> None:
    """Cited answers about the Microsoft-OpenAI partnership documents."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--keep-missing", is_flag=True,
              help="Keep documents whose files are gone from an ingested folder.")
@_guard
def ingest(paths: tuple[str, ...], keep_missing: bool) -> None:
    """Ingest PATHS (files or folders; default: the corpus folder)."""
    bot = _assistant()
    report = bot.ingest(list(paths) or None, prune=not keep_missing, progress=None)
    _print_report(bot, report)
    if not report.ok:
        sys.exit(1)


def _print_report(bot: Any, report: Any, err: bool = False) -> None:
    for r in report.results:
        if r.status in ("failed", "skipped", "removed") or os.environ.get("ASSISTANT_VERBOSE"):
            _echo(f"{r.status:>9}  {_one(r.source)}" + (f": {r.reason}" if r.reason else ""),
                  err=err or r.status == "failed")
    _echo(f"Ingest: {report.summary()}; {bot.status()['chunks']} chunks in the store.", err=err)


@main.command()
@click.argument("query")
@click.option("-k", "k", type=int, default=None, help="How many chunks (default ASSISTANT_TOP_K).")
@AS_OF
@click.option("--json", "as_json", is_flag=True)
@_guard
def search(query: str, k: int | None, as_of: str | None, as_json: bool) -> None:
    """Show the chunks that best match QUERY."""
    hits = _assistant().search(query, k, as_of=as_of)
    if as_json:
        click.echo(json.dumps([asdict(h) for h in hits], indent=2, ensure_ascii=False))
        return
    for i, hit in enumerate(hits, 1):
        _echo(f"{i}. [{hit.score:.4f}] {_one(hit.title)} ({date_label(hit.published)}; "
              f"{_one(hit.source)} {hit.start}-{hit.end})")
        _echo("   " + hit.text[:300].replace("\n", " ") + ("..." if len(hit.text) > 300 else ""))


def _print_answer(answer: Any) -> None:
    if answer.notice:
        _echo(f"\nNote: {answer.notice}", err=True)
    if answer.citations:
        _echo("\nSources:")
    for c in answer.citations:
        _echo(f"  [{c.number}] {_one(c.title)} ({date_label(c.published)}; {_one(c.source)}, "
              f"chars {c.start}-{c.end})")
        _echo(f"      “{c.quote}”")
    for conflict in answer.conflicts:
        _echo(f"\nThe sources differ on: {conflict.point}")
        for i, c in enumerate(conflict.sides):
            newer = " (newer)" if conflict.newer == i else ""
            _echo(f"  [{c.number}] {date_label(c.published)}{newer}: “{c.quote}” — {_one(c.title)}")


def _print_trace(answer: Any) -> None:
    _echo("\nWhy this answer:")
    for step in answer.trace:
        details = {k: v for k, v in step.items() if k not in ("stage", "decision", "reason") and v}
        line = f"  {step['stage']:>13}: {step['decision']}"
        line += f" — {step['reason']}" if step.get("reason") else ""
        _echo(line + (f"  {json.dumps(details, ensure_ascii=False)}" if details else ""))


def _answer(ask: Callable[[str], Any], question: str, as_json: bool, stream: bool = True,
            explain: bool = False) -> None:
    """Print the answer `ask(question)` streams (a Chat's or an Assistant's `stream`)."""
    from assistant.core.models import EvidenceEvent, TextDelta

    answer_stream = ask(question)
    for event in answer_stream.events():
        if as_json or not stream:
            continue
        if isinstance(event, EvidenceEvent) and event.evidence:
            _echo("Evidence:")
            for c in event.evidence:
                _echo(f"  ({c.number}) {c.quote}  — {_one(c.source)} {c.start}-{c.end}, "
                      f"{date_label(c.published)}")
            _echo()
        elif isinstance(event, TextDelta):
            _echo(event.text, nl=False)
    answer = answer_stream.answer
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return
    if not stream:
        _echo(answer.text, nl=False)
    _echo()
    _print_answer(answer)
    if explain:
        _print_trace(answer)


@main.command()
@click.argument("question")
@LLM_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the whole Answer (trace too) as JSON.")
@click.option("--stream", is_flag=True,
              help="Print the evidence at once, then the answer as it is verified.")
@click.option("--explain", is_flag=True, help="Print each stage's decision and why.")
@AS_OF
@_guard
def ask(question: str, llm: str | None, as_json: bool, stream: bool, explain: bool,
        as_of: str | None) -> None:
    """Answer QUESTION from the documents, with cited sources."""
    bot = _assistant(llm)
    _answer(lambda q: bot.stream(q, as_of=as_of), question, as_json, stream, explain)


@main.command()
@LLM_OPTION
@click.option("--json", "as_json", is_flag=True)
@_guard
def chat(llm: str | None, as_json: bool) -> None:
    """A conversation in the terminal; follow-up questions see the earlier turns."""
    conversation = _assistant(llm).chat()
    _echo("Ask about the documents. Empty line or Ctrl-D to quit; /clear forgets the chat.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            break
        if not question:
            break
        if question == "/clear":
            conversation.clear()
            continue
        try:
            _answer(conversation.stream, question, as_json)
        except AssistantError as exc:
            _echo(f"Error: {exc}", err=True)


@main.command()
@click.argument("statement")
@LLM_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the whole ClaimCheck as JSON.")
@AS_OF
@_guard
def check(statement: str, llm: str | None, as_json: bool, as_of: str | None) -> None:
    """Check each claim of STATEMENT: supported, contradicted, partly, outdated or not in the
    documents."""
    result = _assistant(llm).check(statement, as_of=as_of)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    for v in result.claims:
        _echo(f"[{v.verdict}] {v.claim}\n    {v.reason}")
        if v.supported_part:
            _echo(f"    supported part: “{v.supported_part}”")
        for label, c in [*(("cites", c) for c in v.citations),
                         *((("says otherwise", v.contradiction),) if v.contradiction else ()),
                         *(("sources differ", c) for c in v.conflict or ())]:
            _echo(f"    {label}: “{c.quote}” — {_one(c.title)} ({date_label(c.published)}; "
                  f"{_one(c.source)}, chars {c.start}-{c.end})")


@main.command()
@click.argument("topic", required=False)
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@_guard
def timeline(topic: str | None, as_of: str | None, as_json: bool) -> None:
    """The dated events of the documents (of TOPIC, if given), oldest first: one line each,
    its date, the document and the sentence that gives it."""
    events = _assistant().timeline(topic, as_of=as_of)
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in events], indent=2, ensure_ascii=False))
        return
    if not events:
        _echo("No dated events" + (f" as of {as_of}." if as_of else "."), err=True)
    for e in events:
        kind = " (published)" if e.kind == "published" else ""
        quote = " ".join(e.citation.quote.split())
        _echo(f"{e.label}{kind} — {_one(e.citation.title)}: “{quote}”")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON.")
@_guard
def documents(as_json: bool) -> None:
    """List the documents in the store, with their dates and where each date was read."""
    docs = _assistant().documents()
    if as_json:
        click.echo(json.dumps([d.to_dict() for d in docs], indent=2, ensure_ascii=False))
        return
    for d in docs:
        dated = (f"{d.published} ({d.published_from or 'source unknown'})" if d.published
                 else "undated")
        _echo(f"{d.doc_id}  {d.chunks:>4} chunks  {dated:<22}  {_one(d.source)}  — {_one(d.title)}")


HOST = click.option("--host", default=None,
                    help="Address to bind (default ASSISTANT_UI_HOST, 127.0.0.1).")
PORT = click.option("--port", type=click.IntRange(1, 65535), default=None,
                    help="Port (default ASSISTANT_UI_PORT, 7860).")
INGEST = click.option("--ingest/--no-ingest", default=True, help="Ingest the corpus folder first.")


def _serve(host: str | None, port: int | None, llm: str | None, ingest: bool, ui: bool) -> None:
    from assistant.api import Assistant
    from assistant.surfaces.serve import listen
    from assistant.surfaces.serve import serve as serve_http

    settings = _settings(llm)
    host, port = host or settings.ui_host, port or settings.ui_port
    sock = listen(host, port)  # a port in use is one line now, not after the ingest and "Serving"
    bot = Assistant(settings)
    if ingest:
        _print_report(bot, bot.ingest(progress=None))
    bot.warm_up()
    _echo(f"Serving {'the chat UI, ' if ui else ''}the API (/v1) and MCP (/mcp) on "
          f"http://{host}:{port}")
    serve_http(bot, host, port, ui=ui, sock=sock)


@main.command()
@HOST
@PORT
@LLM_OPTION
@INGEST
@_guard
def serve(host: str | None, port: int | None, llm: str | None, ingest: bool) -> None:
    """Open the chat web UI, with the HTTP API (/v1) on the same port."""
    _serve(host, port, llm, ingest, ui=True)


@main.command()
@HOST
@PORT
@LLM_OPTION
@INGEST
@_guard
def api(host: str | None, port: int | None, llm: str | None, ingest: bool) -> None:
    """Serve the OpenAI-compatible HTTP API (/v1) alone."""
    _serve(host, port, llm, ingest, ui=False)


@main.command()
@LLM_OPTION
@click.option("--ingest/--no-ingest", default=False, help="Ingest the corpus folder first.")
@click.option("--http", is_flag=True,
              help="Serve streamable HTTP at /mcp (behind the served app's guard) instead of stdio.")
@HOST
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True,
              help="Port for --http.")
@_guard
def mcp(llm: str | None, ingest: bool, http: bool, host: str | None, port: int) -> None:
    """Run the MCP server (stdio by default: stdout carries the protocol, messages go to stderr)."""
    from assistant.api import Assistant
    from assistant.surfaces.serve import listen

    settings = _settings(llm)
    host = host or settings.ui_host
    sock = listen(host, port) if http else None  # a port in use: one line, before the ingest
    bot = Assistant(settings)
    if ingest:
        _print_report(bot, bot.ingest(progress=False), err=True)
    if sock is not None:
        from assistant.surfaces.serve import serve as serve_http

        _echo(f"Serving MCP on http://{host}:{port}/mcp", err=True)
        serve_http(bot, host, port, ui=False, v1=False, sock=sock)
        return
    from assistant.surfaces.mcp import run

    run(bot)


@main.command(name="eval", context_settings={"ignore_unknown_options": True,
                                             "allow_extra_args": True, "help_option_names": []})
@click.pass_context
def eval_command(ctx: click.Context) -> None:
    """Run the evaluation: `python -m evals` with the same options (see its --help)."""
    import subprocess

    sys.exit(subprocess.call([sys.executable, "-m", "evals", *ctx.args]))


if __name__ == "__main__":
    main()
