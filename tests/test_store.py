"""The Chroma store: embedded and client/server, model mismatch, corrupt files, no network."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, free_port, local_server, make_settings

from assistant import Assistant
from assistant.core.errors import StoreError
from assistant.index.embedding import DIMENSIONS
from assistant.index.store import Store

VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """A real `chroma run` server on 127.0.0.1, stopped after the test."""
    exe = shutil.which("chroma", path=str(VENV_BIN)) or "chroma"
    argv = [exe, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
            "--port", "{port}"]
    with local_server(argv, "/api/v2/heartbeat", 60, {"ANONYMIZED_TELEMETRY": "False"}) as url:
        yield url


def test_chroma_server_through_http_client(tmp_path: Path, chroma_server: str) -> None:
    bot = Assistant(make_settings(tmp_path / "data", llm="none", chroma_url=chroma_server))
    assert bot.ingest().count("added") == 2
    assert not (tmp_path / "data" / "chroma").exists(), "nothing may be stored locally"
    assert bot.search("Abilene")[0].source == "ainews-microsoft-loses-exclusive-cloud-role.txt"
    # a second client (another user) sees the same store, and re-ingest is a no-op there too
    other = Assistant(make_settings(tmp_path / "other", llm="none", chroma_url=chroma_server))
    assert other.ingest().count("unchanged") == 2
    answer = other.ask("Where is the first Stargate site?")
    assert not answer.refused and "Abilene" in answer.text


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    bot = Assistant(make_settings(tmp_path / "data", chroma_url=url))
    with pytest.raises(StoreError, match="Cannot reach the Chroma server"):
        bot.documents()


def test_store_built_with_another_model_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Store.open(data, None, "partnership", "some-other-model", DIMENSIONS)
    bot = Assistant(make_settings(data, llm="none"))
    with pytest.raises(StoreError, match="built with the embedding model 'some-other-model'"):
        bot.ingest()


@pytest.mark.parametrize("content", [b"this is not a database" * 1000, b""], ids=["garbage", "empty"])
def test_corrupt_store_is_a_clear_error_in_a_fresh_process(tmp_path: Path, content: bytes) -> None:
    """An emptied database file too: sqlite would take it for a new store and show none."""
    data = tmp_path / "data"
    Assistant(make_settings(data, llm="none")).ingest()
    sqlite = data / "chroma" / "chroma.sqlite3"
    sqlite.write_bytes(content)
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_CORPUS_DIR": str(CORPUS)}
    run = subprocess.run([str(VENV_BIN / "assistant"), "search", "Abilene"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "move it aside" in run.stderr or "Chroma failed" in run.stderr, run.stderr


def test_two_processes_open_a_new_store_at_once(tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "shared"),
           "ASSISTANT_CORPUS_DIR": str(CORPUS)}
    procs = [subprocess.Popen([str(VENV_BIN / "assistant"), "ingest"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    bot = Assistant(make_settings(tmp_path / "shared", llm="none"))
    assert len(bot.documents()) == 2


def test_threads_see_another_writers_generation_at_once(tmp_path: Path) -> None:
    """Every thread of a reader that finds the store changed reopens it safely, at the same time."""
    data = tmp_path / "data"
    writer = Store.open(data, None, "partnership", "model", DIMENSIONS)
    reader = Store.open(data, None, "partnership", "model", DIMENSIONS)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            reader.generation()
            reader.chunk_count()
        except BaseException as exc:  # recorded: the assertion below names it
            errors.append(exc)

    for _ in range(100):
        writer.delete_documents(["none"])  # a write: a new generation the reader has not seen
        threads = [threading.Thread(target=read) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert reader.generation() == writer.generation()


def test_reopening_after_another_writer_frees_the_old_client(tmp_path: Path) -> None:
    """A long-running reader beside a writer keeps its open files bounded (each client it left
    behind held ~4 files more, and its vector index in memory, until a full garbage collection)."""
    data = tmp_path / "data"
    writer = Store.open(data, None, "partnership", "model", DIMENSIONS)
    reader = Store.open(data, None, "partnership", "model", DIMENSIONS)

    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    reader.generation()
    before = open_files()
    for _ in range(20):
        writer.delete_documents(["none"])
        reader.generation()  # reopens: the writer's generation is new to it
        reader.chunk_count()
    assert open_files() - before < 10


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_works_with_no_network_at_all(tmp_path: Path) -> None:
    """Ingest, search and an extractive answer inside a network namespace with no interfaces."""
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unshare -n is not permitted here (needs root)")
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
           "ASSISTANT_CORPUS_DIR": str(CORPUS), "ASSISTANT_LLM": "none"}
    exe = str(VENV_BIN / "assistant")
    script = f"{exe} ingest && {exe} search 'Stargate investment' && {exe} ask 'Where is Abilene?'"
    run = subprocess.run(["unshare", "-n", "bash", "-c", script], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "2 added" in run.stdout and "Abilene" in run.stdout
