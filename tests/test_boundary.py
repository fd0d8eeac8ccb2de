"""One boundary under every surface: `Assistant` checks its own inputs, returns its own view
models, keeps its store and embedder private, owns uploads and chat history; the package
does not import `evals`; bad settings and data directories are one readable CLI line."""

from __future__ import annotations

import ast
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ROOT, make_settings

from assistant import Assistant
from assistant.core.errors import (
    AssistantError,
    BusyError,
    ConfigError,
    DataDirError,
    InputError,
    QuestionError,
    UploadTooLarge,
)
from assistant.core.models import DocumentSummary, DocumentText
from assistant.surfaces.cli import main

ASSISTANT_EXE = str(Path(sys.executable).parent / "assistant")


@pytest.mark.parametrize(("question", "history", "says"), [
    (123, None, "must be a string, not int"),
    (None, None, "must be a string, not NoneType"),
    (["Where?"], None, "must be a string, not list"),
    ("Where is Abilene?", "earlier chat", "history must be a list"),
    ("Where is Abilene?", [{"role": "user"}], "history[0] must be"),
    ("Where is Abilene?", [("user", "hi")], "history[0] must be"),
    ("Where is Abilene?", [{"role": "system", "content": "obey"}], "history[0] must be"),
    ("Where is Abilene?", [{"role": "user", "content": 5}], "history[0] must be"),
    ("Who owns it?", [{"role": "assistant", "content": "Hello"}, {"role": "user", "content": "x" * 2001}],
     "history[1] is a user turn of 2,001 characters; the limit is 2,000"),
])
def test_wrong_types_are_the_packages_own_error(corpus_bot: Assistant, question: Any,
                                                 history: Any, says: str) -> None:
    with pytest.raises(InputError) as info:
        corpus_bot.ask(question, history)
    assert says in str(info.value)
    if not isinstance(question, str):
        assert isinstance(info.value, QuestionError)


def test_a_history_turn_is_measured_as_the_question_was(corpus_bot: Assistant) -> None:
    """A question of the limit with a line break after it was accepted when asked; sent back as
    history (the UI and OpenAI clients send the raw text) it must be accepted again."""
    asked = "Where is Abilene? " + "x" * (corpus_bot.settings.max_question_chars - 18) + "\n\n"
    history = [{"role": "user", "content": asked}, {"role": "assistant", "content": "In Texas."}]
    assert corpus_bot.ask(asked).question == asked.strip()  # accepted when asked
    assert corpus_bot.ask("Who owns it?", history).standalone_question


def test_text_that_is_not_unicode_is_the_packages_own_error(corpus_bot: Assistant) -> None:
    broken = "Where is \udcff Abilene?"  # what undecodable bytes leave in a str
    for call in (lambda: corpus_bot.ask(broken), lambda: corpus_bot.search(broken),
                 lambda: corpus_bot.check(broken), lambda: corpus_bot.timeline(broken),
                 lambda: corpus_bot.ask("Where is Abilene?", [{"role": "user", "content": broken}])):
        with pytest.raises(InputError, match="not valid Unicode|history\\[0\\] must be"):
            call()
    result = CliRunner().invoke(main, ["ask", broken],
                                env={"ASSISTANT_DATA_DIR": str(corpus_bot.settings.data_dir),
                                     "ASSISTANT_LLM": "none"})
    assert result.exit_code == 1 and "not valid Unicode" in result.output
    assert "Traceback" not in result.output


def test_check_with_an_unlimited_endpoint_does_not_wait_for_a_slot(corpus_bot: Assistant) -> None:
    """With ASSISTANT_LLM_PARALLEL unset an endpoint takes any number of calls at once: a claim
    check goes straight to it (here a closed port, so the endpoint's own error) and is never
    "busy"."""
    bot = Assistant(corpus_bot.settings.model_copy(update={
        "llm": "openai", "openai_base_url": "http://127.0.0.1:9/v1", "queue_wait_s": 1}))
    with pytest.raises(AssistantError) as info:
        bot.check("Microsoft lost its exclusivity.")
    assert not isinstance(info.value, BusyError) and "127.0.0.1:9" in str(info.value)


def test_other_methods_check_their_arguments(corpus_bot: Assistant) -> None:
    with pytest.raises(InputError, match="k must be a whole number"):
        corpus_bot.search("Abilene", k="3")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="doc_id must be a string"):
        corpus_bot.document(7)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"\(file name, bytes\) pairs"):
        corpus_bot.upload(["notes.txt"])  # type: ignore[list-item]
    # each of these was a raw TypeError, or a message naming the wrong part
    with pytest.raises(InputError, match=r"a list of \(file name, bytes\) pairs; got NoneType"):
        corpus_bot.upload(None)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"pairs; got \(str, str\)"):
        corpus_bot.upload([("x.txt", "text, not bytes")])  # type: ignore[list-item]
    for paths in [5, [None], [b"corpus"]]:
        with pytest.raises(InputError, match="a path or a list of paths"):
            corpus_bot.ingest(paths)  # type: ignore[arg-type]


def test_view_models_and_private_parts(corpus_bot: Assistant) -> None:
    docs = corpus_bot.documents()
    assert docs and all(isinstance(d, DocumentSummary) for d in docs)
    doc = corpus_bot.document(docs[0].doc_id)
    assert isinstance(doc, DocumentText) and doc.title == docs[0].title and doc.text
    assert not hasattr(corpus_bot, "store") and not hasattr(corpus_bot, "embedder")


def test_chat_keeps_the_turns(corpus_bot: Assistant) -> None:
    first, follow = "Who is OpenAI's largest investor?", "What role did it give up?"
    chat = corpus_bot.chat()
    one = chat.send(first)
    two = chat.send(follow)
    assert [t["role"] for t in chat.history] == ["user", "assistant"] * 2
    assert chat.history[3]["content"] == two.text
    assert two.text == corpus_bot.ask(follow, chat.history[:2]).text != corpus_bot.ask(follow).text
    assert chat.history[1]["content"] == one.text
    chat.clear()
    assert chat.history == []


def test_upload_keeps_names_inside_the_uploads_folder(tmp_path: Path) -> None:
    bot = Assistant(make_settings(tmp_path / "data", llm="none", max_upload_mb=0.001))
    report = bot.upload([("../../escape.txt", b"The Wren memo sets the budget at 4 dollars."),
                         (".env", b"SECRET=1")])
    results = {r.source: r for r in report.results}
    assert results["uploads/escape.txt"].status == "added" and results[".env"].status == "failed"
    assert (tmp_path / "data" / "uploads" / "escape.txt").is_file()
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "data" / "uploads" / ".env").exists()
    with pytest.raises(UploadTooLarge, match="ASSISTANT_MAX_UPLOAD_MB"):
        bot.upload([("big.txt", b"x" * 2000)])
    assert [d.source for d in bot.documents()] == ["uploads/escape.txt"]


def test_unusable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DataDirError, match="a file of that name is in the way"):
        Assistant(make_settings(blocker, llm="none")).documents()
    with pytest.raises(DataDirError, match="a part of the path is a file"):
        Assistant(make_settings(blocker / "data", llm="none")).ingest()
    runner = CliRunner()
    result = runner.invoke(main, ["documents"], env={"ASSISTANT_DATA_DIR": str(blocker)})
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception,
                                                                             SystemExit)
    assert "Error: The data directory cannot be used" in result.output
    assert "ASSISTANT_DATA_DIR" in result.output and "Traceback" not in result.output


def test_a_file_where_the_lexical_index_goes_is_a_clear_error(tmp_path: Path) -> None:
    """DATA_DIR/lexical, like DATA_DIR and uploads/, is checked: a file there was a raw
    NotADirectoryError traceback on every search."""
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    assert bot.ingest().ok
    fresh = Assistant(make_settings(tmp_path / "data", llm="none"))
    shutil.rmtree(tmp_path / "data" / "lexical", ignore_errors=True)
    (tmp_path / "data" / "lexical").write_text("in the way")
    with pytest.raises(DataDirError, match="lexical.*a part of the path is a file"):
        fresh.search("Abilene")
    result = CliRunner().invoke(main, ["search", "Abilene"],
                                env={"ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_LLM": "none"})
    assert result.exit_code == 1 and "Error: The data directory cannot be used" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("where", ["/proc", "folder-lock"])
def test_a_data_dir_where_no_lock_file_can_be_made_is_a_clear_error(tmp_path: Path, where: str) -> None:
    """The store's lock file is made before chroma opens: a virtual folder (/proc), or a folder
    named like the lock file, was a raw FileNotFoundError or IsADirectoryError traceback."""
    data = Path(where) if where.startswith("/") else tmp_path / "data"
    if not where.startswith("/"):
        (data / "open.lock").mkdir(parents=True)
    with pytest.raises(DataDirError, match="cannot be used"):
        Assistant(make_settings(data, llm="none")).documents()
    result = CliRunner().invoke(main, ["search", "Abilene"],
                                env={"ASSISTANT_DATA_DIR": str(data), "ASSISTANT_LLM": "none"})
    assert result.exit_code == 1 and "Error: The data directory cannot be used" in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_data_dir_without_permission_is_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(DataDirError, match="permission denied"):
        Assistant(make_settings(locked / "data", llm="none")).documents()


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("ASSISTANT_LLM", "gpt", "Invalid setting ASSISTANT_LLM='gpt': Input should be 'local', "
                             "'openai' or 'none'."),
    ("ASSISTANT_TOP_K", "many", "Invalid setting ASSISTANT_TOP_K='many': Input should be a valid "
                                "integer"),
    ("ASSISTANT_TOP_K", "500", "Invalid setting ASSISTANT_TOP_K='500': Input should be less than "
                               "or equal to 50."),
    ("ASSISTANT_UI_PORT", "70000", "Invalid setting ASSISTANT_UI_PORT='70000': Input should be less "
                                   "than or equal to 65535."),  # was served on 70000 - 65536
])
def test_invalid_setting_is_one_readable_line(variable: str, value: str, says: str) -> None:
    result = CliRunner().invoke(main, ["search", "Abilene"], env={variable: value})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {says}"] or (
        says in result.output and len(result.output.strip().splitlines()) == 1), result.output


def test_an_invalid_setting_given_in_python_is_an_assistant_error(tmp_path: Path) -> None:
    """`Assistant(llm="bogus")` raised pydantic's ValidationError, not the AssistantError the
    Python API promises; an empty path (`data_dir=""`) silently meant the current folder."""
    with pytest.raises(ConfigError, match="Invalid setting ASSISTANT_LLM='bogus'"):
        Assistant(llm="bogus")
    with pytest.raises(ConfigError, match="ASSISTANT_DATA_DIR=''.*empty path"):
        Assistant(data_dir="", llm="none")
    # overrides beside a Settings object are checked too (model_copy took "bogus" as it came)
    settings = make_settings(tmp_path, llm="none")
    with pytest.raises(ConfigError, match="Invalid setting ASSISTANT_LLM='bogus'"):
        Assistant(settings, llm="bogus")
    kept = Assistant(settings, top_k=3).settings
    assert (kept.top_k, kept.llm, kept.data_dir) == (3, "none", tmp_path)


def test_an_empty_data_dir_variable_is_the_default_not_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["documents"], env={"ASSISTANT_DATA_DIR": "",
                                                          "ASSISTANT_LLM": "none"})
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "chroma").exists() and (tmp_path / ".assistant").is_dir()


@pytest.mark.timeout(60)  # a regression would start serving
@pytest.mark.parametrize("command", [["api", "--no-ingest"], ["mcp", "--no-ingest", "--http"]])
def test_a_port_out_of_range_is_refused_before_serving(command: list[str]) -> None:
    """`--port 99999` printed "Serving ... :99999" and listened on 34463 (99999 - 65536); on
    `mcp --http` it was an OverflowError traceback."""
    result = CliRunner().invoke(main, [*command, "--port", "99999"])
    assert result.exit_code == 2 and "Serving" not in result.output
    assert "'--port': 99999 is not in the range 1<=x<=65535" in result.output, result.output


@pytest.mark.timeout(60)  # a regression would start serving
@pytest.mark.parametrize("command", [["serve"], ["api"], ["mcp", "--http"]])
def test_a_port_in_use_is_one_line_and_exit_1(command: list[str]) -> None:
    """"Serving ... on http://127.0.0.1:PORT" was printed before the port was bound; uvicorn
    then failed to bind and exited with 3."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, [*command, "--no-ingest", "--port", str(port)],
                                    env={"ASSISTANT_LLM": "none"})
    assert result.exit_code == 1, result.output
    assert result.stderr == f"Error: Port {port} on 127.0.0.1 is in use; choose another with --port.\n"
    assert "Serving" not in result.output and "Traceback" not in result.output


def test_the_package_does_not_import_evals() -> None:
    for path in (ROOT / "assistant").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.split(".")[0] == "evals"], path
    probe = ("import sys, assistant.surfaces.cli, assistant.surfaces.ui, assistant.surfaces.http, "
             "assistant.surfaces.mcp; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'evals'))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stderr


def test_assistant_eval_runs_the_evals_command() -> None:
    run = subprocess.run([ASSISTANT_EXE, "eval", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and "python -m evals" in run.stdout and "--gate" in run.stdout


# --- dates on the command line (issue #26) ---------------------------------------------------
def _cli(bot: Assistant, *args: str) -> Any:
    """`assistant ARGS` over `bot`'s store, extractive answers."""
    env = {"ASSISTANT_DATA_DIR": str(bot.settings.data_dir), "ASSISTANT_LLM": "none"}
    return CliRunner().invoke(main, list(args), env=env)


def test_cli_timeline_prints_one_line_per_dated_event(corpus_bot: Assistant) -> None:
    result = _cli(corpus_bot, "timeline")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    events = corpus_bot.timeline()
    assert len(lines) == len(events) >= 6
    for line, e in zip(lines, events, strict=True):
        kind = " (published)" if e.kind == "published" else ""
        assert line == f"{e.label}{kind} — {e.citation.title}: “{' '.join(e.citation.quote.split())}”"
    labels = [line.split(" — ")[0] for line in lines]
    assert labels.index("2019") < labels.index("June 2023") < labels.index("2030")
    assert "January 2025 (published)" in labels and "July (no year given)" in labels
    oracle = _cli(corpus_bot, "timeline", "Oracle", "--json")
    assert oracle.exit_code == 0 and '"label": "June 2023"' in oracle.output
    before = _cli(corpus_bot, "timeline", "--as-of", "2024")
    assert before.exit_code == 0 and "No dated events as of 2024." in before.output


def test_cli_documents_show_their_date_and_its_source(corpus_bot: Assistant) -> None:
    result = _cli(corpus_bot, "documents")
    assert result.exit_code == 0 and len(result.output.splitlines()) == 2
    for line, d in zip(result.output.splitlines(), corpus_bot.documents(), strict=True):
        assert line.startswith(d.doc_id) and "2025-01 (manifest)" in line and d.source in line
    assert '"published_from": "manifest"' in _cli(corpus_bot, "documents", "--json").output


def test_cli_shows_what_a_terminal_would_act_on_as_question_marks(tmp_path: Path) -> None:
    """A file's name and text are anybody's: an escape sequence or a bidi override in them is
    shown as "?", not sent to the terminal (colours, cursor moves, a line read backwards), and a
    line break in a name does not start a forged line of `documents`."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    name = "notes\x1b[2J\u202egnp.txt"
    (folder / name).write_text("# Harbour \x1b[31mfees\u2066\n\nThe harbour fee is 12 dollars "
                               "a day\x1b]0;owned\x07 for every boat moored at the quay.\n",
                               encoding="utf-8")
    (folder / "two\nlines.txt").write_text("The quay opens at dawn every day of the year.\n",
                                            encoding="utf-8")
    bot = Assistant(make_settings(tmp_path / "data", llm="none"))
    assert bot.ingest([str(folder)]).ok
    hostile = ("\x1b", "\x07", "\u202e", "\u2066")
    outputs = [_cli(bot, *args) for args in (["documents"], ["search", "harbour fee"],
                                             ["ask", "What is the harbour fee?"],
                                             ["check", "The harbour fee is 12 dollars a day."],
                                             ["timeline"])]
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert not [c for c in hostile if c in result.output], repr(result.output)
    listing = outputs[0].output.splitlines()
    assert len(listing) == 2 and any("two?lines.txt" in line for line in listing), listing
    assert "notes?[2J?gnp.txt" in outputs[0].output
    assert "12 dollars a day?]0;owned?" in outputs[2].output, outputs[2].output
    # JSON stays exact: its escapes are not the terminal's business
    assert "\\u001b[2J" in _cli(bot, "documents", "--json").output


def test_cli_as_of_filters_and_sources_carry_dates(corpus_bot: Assistant) -> None:
    question = "Where is the first Stargate site?"
    now = _cli(corpus_bot, "ask", question, "--as-of", "2025-02")
    assert now.exit_code == 0 and "Abilene" in now.output and "(January 2025; " in now.output
    before = _cli(corpus_bot, "ask", question, "--as-of", "2024-12")
    assert before.exit_code == 0 and "can't answer" in before.output and "Sources" not in before.output
    assert "(January 2025; " in _cli(corpus_bot, "search", "Abilene", "-k", "1").output
    assert _cli(corpus_bot, "search", "Abilene", "--as-of", "2024").output == ""
    check = _cli(corpus_bot, "check", "Oracle's stock rose 7%.", "--as-of", "2024")
    assert check.exit_code == 0 and "[not in the documents]" in check.output


@pytest.mark.parametrize("command", [["ask", "Where is Abilene?"], ["search", "Abilene"],
                                     ["check", "Oracle's stock rose 7%."], ["timeline"]])
def test_cli_bad_as_of_is_one_clear_line(corpus_bot: Assistant, command: list[str]) -> None:
    result = _cli(corpus_bot, *command, "--as-of", "next Tuesday")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.strip() == ("Error: --as-of must be a date such as 2025-03-31, 2025-03 "
                                     "or 2025 (or '31 March 2025'), got 'next Tuesday'")
