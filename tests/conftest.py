"""Shared fixtures. Everything here is real: Chroma in temp dirs, the ONNX model, llama.cpp.

The offline variables are set before any library is imported, and every test gets its own
data directory; only the assembled GGUF model is shared (in the repo's ignored .assistant/).
"""

from __future__ import annotations

import os

for _name, _value in {
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ[_name] = _value

import socket  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
MODEL_DIR = ROOT / ".assistant" / "models"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_MODEL_DIR", str(MODEL_DIR))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(CORPUS))
    monkeypatch.chdir(tmp_path)


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, corpus_dir=CORPUS, model_dir=MODEL_DIR, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def corpus_bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The corpus ingested once, extractive answers (no LLM)."""
    bot = Assistant(make_settings(tmp_path_factory.mktemp("corpus-none"), llm="none"))
    assert bot.ingest().ok
    return bot


@pytest.fixture(scope="session")
def local_bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The corpus ingested once, answered by the embedded default local LLM."""
    bot = Assistant(make_settings(tmp_path_factory.mktemp("corpus-local"), llm="local"))
    assert bot.ingest().ok
    return bot


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, seconds: float) -> None:
    """Wait until `url` answers (a server started by a test), or fail the test."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {seconds:.0f} s")


@contextmanager
def local_server(argv: list[str], health_path: str, seconds: float,
                 env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `argv` (which must take the port as "{port}") on 127.0.0.1 until the test ends;
    yields its base URL once `health_path` answers."""
    import subprocess

    port = free_port()
    proc = subprocess.Popen([a.replace("{port}", str(port)) for a in argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + health_path, seconds)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def running_ui(data_dir: Path, **overrides: object) -> Iterator[tuple[str, Assistant]]:
    """The real web UI over an ingested corpus, on a free localhost port."""
    from assistant.surfaces.serve import serve

    bot = Assistant(make_settings(data_dir, **overrides))
    assert bot.ingest().ok
    port = free_port()
    server = serve(bot, "127.0.0.1", port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/", bot
    finally:
        server.close()


@pytest.fixture
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    yield ARTIFACTS
