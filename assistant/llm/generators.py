"""Chat models behind one small interface: choose among one-token options ("yes"/"no").

The assistant never lets a model write an answer: it reads the probability of a one-token reply
after one forward pass. `local` runs the PyPI-carried GGUF directly with llama-cpp-python, for
what llama-index's LlamaCPP wrapper hides: next-token logits, control of the KV cache so that
the fixed prompt prefix is evaluated once per process (llama.cpp reuses the longest common
token prefix of consecutive calls), and the count of prompt tokens actually evaluated.
`openai` asks any OpenAI-compatible endpoint for one token with its top logprobs. Failures
become `LLMError`s that say how to fix them. Not here: prompts (`core.prompts`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.core.errors import LLMError
from assistant.core.settings import Settings
from assistant.llm.local_model import MODELS, ensure_model

CONTEXT_TOKENS = 4096


@dataclass
class Message:
    role: str
    content: str


def chatml(messages: list[Message]) -> str:
    """Qwen's ChatML prompt, ending at the assistant turn."""
    parts = [f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages]
    return "".join(parts) + "<|im_start|>assistant\n"


@dataclass
class Usage:
    """Tokens of the last call: prompt tokens evaluated (after prefix reuse), and in all."""

    prompt_evaluated: int = 0
    prompt_total: int = 0


class Generator(Protocol):
    name: str
    usage: Usage

    def choose(self, messages: list[Message], options: list[str]) -> dict[str, float] | None:
        """Probability of each one-token option as the reply's first token (None: not offered)."""
        ...


def _softmax(logits: dict[str, float]) -> dict[str, float]:
    top = max(logits.values())
    exp = {k: math.exp(v - top) for k, v in logits.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


@dataclass
class LocalGenerator:
    """llama.cpp in this process; one model, used by one call at a time."""

    llm: Any
    name: str
    usage: Usage = field(default_factory=Usage)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _tokens(self, prompt: str) -> list[int]:
        return list(self.llm.tokenize(prompt.encode(), add_bos=False, special=True))

    def _reused(self, tokens: list[int]) -> int:
        """Length of the prefix of `tokens` whose KV state llama.cpp still holds."""
        held = self.llm.input_ids[: self.llm.n_tokens]
        n = 0
        for a, b in zip(held, tokens, strict=False):
            if a != b:
                break
            n += 1
        return n

    def choose(self, messages: list[Message], options: list[str]) -> dict[str, float] | None:
        import llama_cpp
        import numpy as np

        tokens = self._tokens(chatml(messages))
        ids = {}
        for option in options:
            option_tokens = self._tokens(option)
            if len(option_tokens) != 1:
                raise LLMError(f"Option {option!r} is not one token.")
            ids[option] = option_tokens[0]
        with self._lock:
            reused = min(self._reused(tokens), len(tokens) - 1)
            self.usage = Usage(len(tokens) - reused, len(tokens))
            try:
                self.llm.n_tokens = reused  # eval() drops the KV cache past this point
                self.llm.eval(tokens[reused:])
            except Exception as exc:
                raise LLMError(f"The local model failed ({type(exc).__name__}: {exc}). "
                               "Set ASSISTANT_LLM=none to answer without it.") from exc
            pointer = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
            logits = np.ctypeslib.as_array(pointer, shape=(self.llm.n_vocab(),))
            return _softmax({o: float(logits[i]) for o, i in ids.items()})


@dataclass
class OpenAIGenerator:
    """An OpenAI-compatible endpoint, asked for one token and its top logprobs."""

    name: str
    settings: Settings
    usage: Usage = field(default_factory=Usage)
    _client: Any = None

    def choose(self, messages: list[Message], options: list[str]) -> dict[str, float] | None:
        """From the endpoint's top logprobs; without them, the option it writes gets 1.0."""
        import openai

        if self._client is None:
            self._client = openai.OpenAI(base_url=self.settings.openai_base_url,
                                         api_key=self.settings.openai_api_key,
                                         timeout=self.settings.llm_timeout_s, max_retries=0)
        try:
            reply = self._client.chat.completions.create(
                model=self.settings.openai_model, max_tokens=1, temperature=0.0,
                messages=[{"role": m.role, "content": m.content} for m in messages],
                logprobs=True, top_logprobs=10)
        except Exception as exc:
            raise LLMError(f"The LLM `{self.name}` failed ({type(exc).__name__}: {exc}). Check "
                           "that it is running, or set ASSISTANT_LLM=none.") from exc
        usage = getattr(reply, "usage", None)
        tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        self.usage = Usage(tokens, tokens)
        choice = reply.choices[0]
        found: dict[str, float] = {}
        content = choice.logprobs.content if choice.logprobs else None
        if content:
            for top in content[0].top_logprobs:
                if top.token.strip() in options and top.token.strip() not in found:
                    found[top.token.strip()] = top.logprob
        if found:
            probs = {o: math.exp(found[o]) if o in found else 0.0 for o in options}
            total = sum(probs.values()) or 1.0
            return {o: p / total for o, p in probs.items()}
        written = (choice.message.content or "").strip()[:1]
        return {o: 1.0 if o == written else 0.0 for o in options} if written in options else None


def build_generator(settings: Settings) -> Generator:
    """The LLM chosen by `settings.llm` (`none` has none)."""
    match settings.llm:
        case "local":
            return _local(settings)
        case "openai":
            return OpenAIGenerator(f"openai {settings.openai_model} at {settings.openai_base_url}",
                                   settings)
        case other:
            raise LLMError(f"ASSISTANT_LLM={other!r} has no LLM; use local or openai.")


def _local(settings: Settings) -> LocalGenerator:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise LLMError("llama-cpp-python is not installed: run `make install` (it compiles "
                       "llama.cpp, 4-6 minutes once), or set ASSISTANT_LLM=none.") from exc
    spec = MODELS[settings.local_model]
    path = ensure_model(spec, settings.resolved_model_dir)
    try:
        llm = Llama(model_path=str(path), n_ctx=CONTEXT_TOKENS, n_threads=settings.llm_threads,
                    n_threads_batch=settings.llm_threads, seed=0, verbose=False)
    except Exception as exc:
        raise LLMError(f"llama.cpp could not load {path} ({exc}). Delete the file to have it "
                       "assembled again, or set ASSISTANT_LLM=none.") from exc
    return LocalGenerator(llm, f"local {spec.name} (llama.cpp)")
