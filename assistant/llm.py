"""Answer generators behind one small interface: `stream(messages) -> text deltas`.

`local` runs the PyPI-carried GGUF with llama.cpp through llama-index's `LlamaCPP`
(always with an explicit `model_path`, so nothing is downloaded); `openai` talks to any
OpenAI-compatible endpoint through llama-index's `OpenAILike`. The extractive `none`
backend needs no generator and is handled by the answering pipeline. Failures become
`LLMError`s that say how to fix them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assistant.errors import LLMError
from assistant.local_model import MODELS, ensure_model
from assistant.settings import Settings

STOP = ["<|im_end|>", "<|endoftext|>"]


def chatml(messages: Any) -> str:
    """Qwen's ChatML prompt for llama-index messages, ending at the assistant turn."""
    parts = [f"<|im_start|>{m.role.value}\n{m.content}<|im_end|>\n" for m in messages]
    return "".join(parts) + "<|im_start|>assistant\n"


@dataclass
class Message:
    role: str
    content: str


class Generator:
    """A chat model that streams text; `name` is shown in the UI status line."""

    def __init__(self, llm: Any, name: str) -> None:
        self._llm = llm
        self.name = name

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage

        chat = [ChatMessage(role=m.role, content=m.content) for m in messages]
        kwargs: dict[str, Any] = {}
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        try:
            for response in self._llm.stream_chat(chat, **kwargs):
                if response.delta:
                    yield response.delta
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(f"The LLM `{self.name}` failed to answer ({type(exc).__name__}: "
                           f"{exc}). Check that it is running, or set ASSISTANT_LLM=none.") from exc

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> str:
        return "".join(self.stream(messages, max_tokens))

    def count_tokens(self, text: str) -> int | None:
        """Prompt tokens as the local model counts them; None for remote models."""
        model = getattr(self._llm, "_model", None)
        return len(model.tokenize(text.encode(), add_bos=False)) if model is not None else None


def build_generator(settings: Settings) -> Generator:
    """The generator chosen by `settings.llm`; `none` has none."""
    match settings.llm:
        case "local":
            return _local(settings)
        case "openai":
            return _openai(settings)
        case "none":
            raise LLMError("ASSISTANT_LLM=none answers extractively and has no generator.")
        case other:
            raise LLMError(f"Unknown ASSISTANT_LLM={other!r}; use local, openai or none.")


def _local(settings: Settings) -> Generator:
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError as exc:
        raise LLMError("llama-cpp-python is not installed: run `make install` (it compiles "
                       "llama.cpp, 4-6 minutes once), or set ASSISTANT_LLM=none.") from exc
    spec = MODELS[settings.local_model]
    path = ensure_model(spec, settings.resolved_model_dir)
    try:
        llm = LlamaCPP(
            model_path=str(path),
            temperature=0.0,
            max_new_tokens=settings.max_answer_tokens,
            context_window=4096,
            generate_kwargs={"stop": STOP, "top_k": 1, "repeat_penalty": 1.0},
            model_kwargs={"n_threads": settings.llm_threads,
                          "n_threads_batch": settings.llm_threads, "seed": 0},
            messages_to_prompt=chatml,
            completion_to_prompt=lambda text: chatml([_user(text)]),
            verbose=False,
        )
    except Exception as exc:
        raise LLMError(f"llama.cpp could not load {path} ({exc}). Delete the file to have it "
                       "assembled again, or set ASSISTANT_LLM=none.") from exc
    return Generator(llm, f"local {spec.name} (llama.cpp)")


def _user(text: str) -> Any:
    from llama_index.core.llms import ChatMessage

    return ChatMessage(role="user", content=text)


def _openai(settings: Settings) -> Generator:
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(
        model=settings.openai_model,
        api_base=settings.openai_base_url,
        api_key=settings.openai_api_key,
        is_chat_model=True,
        temperature=0.0,
        max_tokens=settings.max_answer_tokens,
        timeout=settings.llm_timeout_s,
        max_retries=0,
        context_window=8192,
    )
    return Generator(llm, f"openai {settings.openai_model} at {settings.openai_base_url}")
