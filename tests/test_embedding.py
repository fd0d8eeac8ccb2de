"""The offline MiniLM model: real vectors, batching-independent, checksum-verified."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from assistant import embedding
from assistant.embedding import MiniLMEmbedding
from assistant.errors import ModelMissingError


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
    """`import assistant.embedding` stays cheap: no llama-index, onnxruntime or tokenizers."""
    code = ("import sys, assistant.embedding; "
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
