"""The offline MiniLM model: real vectors, batching-independent, checksum-verified."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import MODEL_DIR, ROOT, free_port, local_server, make_settings

from assistant.core.errors import EmbeddingError, ModelMissingError, StoreError
from assistant.index import embedding
from assistant.index.embedding import MiniLMEmbedding


def test_vectors_are_unit_length_and_meaningful() -> None:
    model = MiniLMEmbedding()
    vecs = model.embed(["Microsoft invested one billion dollars in OpenAI.",
                        "OpenAI received a $1 billion investment from Microsoft.",
                        "The cat sat on a warm windowsill."])
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > 0.7 > vecs[0] @ vecs[2]


def test_batching_does_not_change_vectors() -> None:
    texts = ["short", "a much longer sentence about cloud capacity and data centers " * 5, "mid size"]
    batched = MiniLMEmbedding(embed_batch_size=8).embed(texts)
    single = np.stack([MiniLMEmbedding(embed_batch_size=1).embed([t])[0] for t in texts])
    assert np.allclose(batched, single, atol=1e-4)


def test_importing_the_module_loads_no_runtime() -> None:
    """`import assistant.index.embedding` stays cheap: no llama-index, onnxruntime or tokenizers."""
    code = ("import sys, assistant.index.embedding; "
            "print(sorted(m for m in ('llama_index', 'onnxruntime', 'tokenizers', 'openai') "
            "if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_missing_package_error_says_how_to_install() -> None:
    with pytest.raises(ModelMissingError, match="pip install"):
        embedding._package_dir("no_such_embedding_package")


def test_damaged_model_file_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "MODEL_SHA256", "0" * 64)
    with pytest.raises(ModelMissingError, match="sha256"):
        embedding.model_file()


def test_unreachable_embeddings_server_is_a_clear_error(tmp_path: Path) -> None:
    from assistant import Assistant

    bot = Assistant(make_settings(tmp_path / "d", llm="none", embedding="openai",
                                  embedding_base_url=f"http://127.0.0.1:{free_port()}/v1"))
    with pytest.raises(EmbeddingError, match="embeddings server at http://127.0.0.1.*failed"):
        bot.ingest()


@pytest.fixture(scope="module")
def embeddings_server() -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server in embedding mode, on the project's GGUF."""
    from assistant.llm.local_model import MODELS, ensure_model

    model = ensure_model(MODELS["qwen2.5-coder-1.5b"], MODEL_DIR)
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
            "--port", "{port}", "--embedding", "true", "--n_threads", "2", "--n_ctx", "2048"]
    with local_server(argv, "/v1/models", 150) as url:
        yield f"{url}/v1"


@pytest.mark.slow
def test_embeddings_from_a_real_openai_compatible_server(tmp_path: Path, embeddings_server: str) -> None:
    from assistant import Assistant

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "zephyr.txt").write_text("The Zephyr cluster in Norway has 4096 accelerators.\n"
                                       "Project Heron moved its archive to a quarry in Wales.\n")
    data = tmp_path / "data"
    bot = Assistant(make_settings(data, llm="none", embedding="openai",
                                  embedding_base_url=embeddings_server, embedding_model="qwen-gguf"))
    assert bot.ingest([folder]).count("added") == 1
    assert bot.status()["embedding"] == "openai:qwen-gguf"
    vectors = bot._embedder.embed(["accelerators in Norway", "a quarry in Wales"])
    assert vectors.shape[0] == 2 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert bot.search("Zephyr accelerators Norway", k=1)[0].source == "zephyr.txt"
    doc = bot.documents()[0]
    sentence = "The Zephyr cluster in Norway has 4096 accelerators."
    start = bot.document(doc.doc_id).text.index(sentence)
    stored = bot._store.sentence_vectors([(doc.doc_id, start, start + len(sentence))])
    assert len(stored) == 1  # sentence vectors came from the server at ingest
    # the same store opened with the local model is refused: its vectors would be meaningless
    local = Assistant(make_settings(data, llm="none"))
    with pytest.raises(StoreError, match="built with the embedding model 'openai:qwen-gguf'"):
        local.search("Zephyr")
