"""Every setting of the assistant, read once from `ASSISTANT_*` environment variables.

One flat pydantic-settings model: the variable names are the ones users type
(`ASSISTANT_DATA_DIR`, `ASSISTANT_LLM`, ...). A `.env` file in the working directory is
read too. Not here: loading anything; this module only describes configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LLMBackend = Literal["local", "openai", "none"]
EmbeddingBackend = Literal["local", "openai"]
LocalModel = Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"]


class Settings(BaseSettings):
    """Configuration of one `Assistant`; see the README for the table of variables."""

    # An empty variable (`ASSISTANT_DATA_DIR=`) is unset: the default, not the current folder.
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="ignore",
                                      env_ignore_empty=True)

    # --- where things live -------------------------------------------------------------
    data_dir: Path = Field(
        Path(".assistant"),
        description="Directory for the Chroma store, the assembled LLM file and eval reports.",
    )
    corpus_dir: Path = Field(
        Path("corpus"), description="Folder ingested by `assistant ingest` with no paths."
    )
    model_dir: Path | None = Field(
        None,
        description="Where the local GGUF model is assembled once; default: DATA_DIR/models.",
    )

    # --- store -------------------------------------------------------------------------
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000); unset = embedded store.",
    )
    collection: str = Field("partnership", description="Chroma collection name prefix.")

    # --- ingestion and retrieval -------------------------------------------------------
    chunk_tokens: int = Field(220, ge=40, le=256, description="Target chunk size in tokens.")
    chunk_overlap_tokens: int = Field(
        40, ge=0, le=120, description="Tokens of whole sentences repeated between chunks."
    )
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding-model call.")
    embedding: EmbeddingBackend = Field(
        "local", description="Embeddings: the bundled MiniLM model, or an OpenAI-compatible server."
    )
    embedding_base_url: str = Field(
        "http://127.0.0.1:8081/v1", description="Base URL of the embeddings server (`openai`)."
    )
    embedding_model: str = Field(
        "text-embedding-3-small", description="Model name sent to the embeddings server."
    )
    embedding_api_key: str = Field("not-needed", description="API key for the embeddings server.")
    embedding_timeout_s: float = Field(
        60.0, gt=0, description="Seconds before an embeddings request fails (retried 3 times)."
    )
    top_k: int = Field(6, ge=1, le=50, description="Chunks kept after hybrid fusion.")
    evidence_sentences: int = Field(
        4, ge=1, le=20, description="Evidence sentences shown first and read by the LLM reader."
    )

    # --- generation --------------------------------------------------------------------
    llm: LLMBackend = Field(
        "local", description="Answer generator: local GGUF, an OpenAI-compatible API, or none."
    )
    local_model: LocalModel = Field(
        "qwen2.5-coder-1.5b", description="Which PyPI-carried GGUF model `local` runs."
    )
    llm_threads: int = Field(2, ge=1, description="CPU threads for the local model.")
    openai_base_url: str = Field(
        "http://127.0.0.1:8080/v1", description="Base URL of the OpenAI-compatible endpoint."
    )
    openai_api_key: str = Field("not-needed", description="API key for that endpoint.")
    openai_model: str = Field("local-model", description="Model name sent to that endpoint.")
    llm_timeout_s: float = Field(120.0, gt=0, description="Seconds before an LLM call fails.")
    judge: Literal["llm", "rules"] = Field(
        "llm",
        description="With an LLM backend, who reads the evidence: `llm` asks the loaded model, per "
        "candidate sentence, a one-token yes/no (read from its logits) on whether the sentence "
        "answers the question, and weighs that with relevance; `rules` decides on relevance alone "
        "(as the `none` backend always does; also where an endpoint gives no logprobs).",
    )
    extractive_fallback: bool = Field(
        False,
        description="When the LLM fails, answer extractively (and say so) instead of erroring.",
    )

    # --- verification ------------------------------------------------------------------
    evidence_threshold: float = Field(
        0.20, ge=0, le=1, description="Least relevance of a sentence to count as evidence."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")

    # --- web UI and HTTP API -----------------------------------------------------------
    ui_host: str = Field("127.0.0.1", description="Address `assistant serve` and `api` bind.")
    ui_port: int = Field(7860, ge=1, le=65535, description="Port `assistant serve` and `api` bind.")
    ui_auth: str | None = Field(
        None, description="`user:password`: the login the served app (UI, /v1, /mcp) requires "
        "of browsers; see the README's Security section."
    )
    api_key: str | None = Field(
        None, description="Bearer token every route of the served app but /healthz requires "
        "(`Authorization: Bearer ...`); also a password the login page accepts."
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        [], description="Comma-separated host names, besides localhost and the bound address, "
        "by which clients may reach the served app (other `Host` headers get 421: DNS "
        "rebinding); `*.example.com` matches subdomains, `*` any name."
    )
    sources_footer: bool = Field(
        True, description="Append a compact sources footer (\"[1] Title (date): “quote”\") to "
        "the HTTP API's answer text, for clients that show only the message text; a request's "
        "`sources_footer` overrides it. The `citations` field is sent either way."
    )
    max_upload_mb: float = Field(
        50.0, gt=0, description="Most megabytes of files one upload may carry."
    )
    queue_wait_s: float = Field(
        120.0, ge=0, description="Longest a question waits for a free LLM slot before a 503."
    )
    llm_parallel: int | None = Field(
        None, ge=1, description="Questions an `openai` endpoint answers at once; unset = no "
        "limit. The local model always answers one at a time."
    )

    @field_validator("data_dir", "corpus_dir", "model_dir", mode="before")
    @classmethod
    def _not_empty(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("an empty path names the current folder; give a folder, or leave "
                             "it unset for the default")
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip().lower() for name in value.split(",") if name.strip()]
        return value

    @property
    def resolved_model_dir(self) -> Path:
        return self.model_dir or self.data_dir / "models"


def settings_error(exc: ValidationError) -> str:
    """One line per invalid setting, naming its variable, the value and what is allowed."""
    lines = []
    for error in exc.errors():
        name = "ASSISTANT_" + "_".join(str(p) for p in error["loc"]).upper()
        value = error.get("input")
        shown = f"={value!r}" if isinstance(value, str | int | float) else ""
        lines.append(f"Invalid setting {name}{shown}: {error['msg']}.")
    return "\n".join(lines)
