"""Choose the verifier's support threshold from the golden set, not by guess.

Each question's draft is generated once (drafts are memoised by prompt: generation is
deterministic at temperature 0), then the same drafts are verified at every threshold and
scored. Prints fact accuracy, correct refusals, over-refusal and citation precision per
threshold. Not here: changing any setting; copy the chosen value into Settings yourself.

    python -m evals.sweep [--llm local] [--support 0.45 0.5 0.55 0.6] [--limit N]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from assistant import Assistant, Settings
from assistant.llm.generators import Generator, Message, Usage
from evals.dataset import DEFAULT_DATASET, load_dataset
from evals.runner import run_eval


class MemoGenerator:
    """The configured generator, replaying a draft or a choice it has already made for the same
    prompt (both are deterministic at temperature 0)."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.name = inner.name
        self._drafts: dict[Any, list[str]] = {}
        self._choices: dict[Any, dict[str, float] | None] = {}

    @property
    def usage(self) -> Usage:
        return self.inner.usage

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        key = (tuple((m.role, m.content) for m in messages), max_tokens)
        if key not in self._drafts:
            self._drafts[key] = list(self.inner.stream(messages, max_tokens))
        yield from self._drafts[key]

    def choose(self, messages: list[Message], options: list[str]) -> dict[str, float] | None:
        key = (tuple((m.role, m.content) for m in messages), tuple(options))
        if key not in self._choices:
            self._choices[key] = self.inner.choose(messages, options)
        return self._choices[key]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default="local", choices=["local", "openai"])
    parser.add_argument("--support", type=float, nargs="+",
                        default=[0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7])
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    settings = Settings(llm=args.llm)
    bot = Assistant(settings)
    bot.ingest()
    memo = MemoGenerator(bot.generator())
    rows = load_dataset(DEFAULT_DATASET)[: args.limit]
    print(f"{'support':>8} {'facts':>7} {'refusal':>8} {'over':>6} {'precision':>10}")
    for threshold in args.support:
        tuned = Assistant(settings.model_copy(update={"support_threshold": threshold}),
                          generator=memo)
        m = run_eval(tuned, rows)["metrics"]
        print(f"{threshold:8.2f} {m['fact_accuracy']:7.3f} {m['correct_refusal']:8.3f} "
              f"{m['over_refusal']:6.3f} {m['citation_precision']:10.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
