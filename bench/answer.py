"""Answer latency per backend: time to first token, full answer, prompt tokens, peak RSS.

For each backend (default: local and none) a fresh `Assistant` answers the same corpus
questions (>= 10) once to warm up and then for real; prints median and p90 of each figure.
"First token" is the first *verified* sentence reaching the caller: the assistant never
streams text it has not checked, so this is what a user waits for.

    .venv/bin/python bench/answer.py [--llm local none] [--questions 12]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant import Assistant, Settings  # noqa: E402

QUESTIONS = [
    "How much will the Stargate Project invest?",
    "Where is the first Stargate site?",
    "What does Microsoft keep under the new arrangement?",
    "When did Microsoft first invest in OpenAI?",
    "What happens if OpenAI develops AGI?",
    "Who confirmed that construction of data centers has begun?",
    "How much did Oracle's stock rise after the announcement?",
    "Which third-party provider supplemented Azure?",
    "Why did OpenAI look for other cloud providers?",
    "Until when do the API exclusivity and revenue sharing last?",
    "What did Microsoft allow in June 2023?",
    "Do OpenAI's models still run exclusively on Azure?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench(llm: str, questions: list[str], data_dir: Path) -> dict[str, list[float]]:
    bot = Assistant(Settings(data_dir=data_dir, llm=llm))  # type: ignore[arg-type]
    bot.ingest()
    bot.ask(questions[0])  # loads the models; not counted
    figures: dict[str, list[float]] = {"ttft": [], "total": [], "prompt_tokens": []}
    for question in questions:
        start = time.perf_counter()
        stream = bot.stream(question)
        first = None
        for _ in stream:
            first = first or time.perf_counter() - start
        total = time.perf_counter() - start
        assert stream.answer is not None
        figures["ttft"].append(first or total)
        figures["total"].append(total)
        figures["prompt_tokens"].append(stream.answer.timings.get("prompt_tokens", 0.0))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", nargs="+", default=["none", "local"])
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    args = parser.parse_args()
    questions = QUESTIONS[: max(10, args.questions)]
    print(f"{len(questions)} corpus questions, 2 threads; seconds unless stated")
    print(f"{'backend':<8} {'TTFT med':>9} {'TTFT p90':>9} {'full med':>9} {'full p90':>9} "
          f"{'prompt tok med':>15} {'peak RSS MB':>12}")
    for llm in args.llm:
        with tempfile.TemporaryDirectory() as tmp:
            figures = bench(llm, questions, Path(tmp))
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{llm:<8} {statistics.median(figures['ttft']):9.3f} "
              f"{percentile(figures['ttft'], 0.9):9.3f} {statistics.median(figures['total']):9.3f} "
              f"{percentile(figures['total'], 0.9):9.3f} "
              f"{statistics.median(figures['prompt_tokens']):15.0f} {rss_mb:12.0f}")


if __name__ == "__main__":
    main()
